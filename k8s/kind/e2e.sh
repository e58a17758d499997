#!/usr/bin/env bash
# End-to-end run on kind: cluster, image, spark-operator, in-cluster S3 (SeaweedFS), sample bank, chart,
# wait for COMPLETED, check <output>/manifest.json; everything is deleted on exit (KEEP=1 keeps the cluster).
# Needs: Docker, kind, kubectl, helm (or .cache/bin/helm), the project's .venv, internet access
# (kindest/node, spark-operator chart + image, SeaweedFS image). It cannot run on the dev machines here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="${CLUSTER:-fruit-pipeline-e2e}"
SPARK_OPERATOR_VERSION="${SPARK_OPERATOR_VERSION:-2.5.2}"
KEEP="${KEEP:-0}"
WORK="$(mktemp -d)"
export WORK
# shellcheck source=k8s/kind/steps.sh disable=SC1091
source "$ROOT/k8s/kind/steps.sh"

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "failed (exit $status); driver log tail:"
    kubectl -n "$NAMESPACE" logs "fruit-pipeline-driver" --tail=50 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then
    log "KEEP=1: cluster $CLUSTER kept (kind delete cluster --name $CLUSTER)"
  else
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

create_cluster() {
  log "creating kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --config "$ROOT/k8s/kind/cluster.yaml" --wait 180s
}

load_image() {
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building $IMAGE"
    IMAGE_TAG="$IMAGE" bash "$ROOT/image/build.sh"
  fi
  kind load docker-image "$IMAGE" --name "$CLUSTER"
}

install_spark_operator() {
  log "installing spark-operator $SPARK_OPERATOR_VERSION"
  kubectl create namespace "$NAMESPACE"  # the operator's job namespaces must exist first
  "$HELM" repo add spark-operator https://kubeflow.github.io/spark-operator --force-update >/dev/null
  "$HELM" upgrade --install spark-operator spark-operator/spark-operator --version "$SPARK_OPERATOR_VERSION" \
    --namespace spark-operator --create-namespace \
    --set "spark.jobNamespaces={$NAMESPACE}" --set spark.serviceAccount.create=false --set spark.rbac.create=false \
    --wait --timeout 5m
}

main() {
  need docker kind kubectl "$HELM"
  [ -x "$VENV_BIN/fruit-pipeline" ] || { log "run 'make venv' first"; exit 2; }
  create_cluster
  load_image
  install_spark_operator
  install_s3
  upload_sample
  run_chart
  check_output
  log "passed"
}

main "$@"
