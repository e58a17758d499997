#!/usr/bin/env bash
# End-to-end run on kind: cluster, image, spark-operator, in-cluster S3 (SeaweedFS), sample bank, chart,
# wait for COMPLETED, check <output>/manifest.json; everything is deleted on exit (KEEP=1 keeps the cluster).
# Needs: Docker, kind, kubectl, helm (or .cache/bin/helm), the project's .venv, internet access
# (kindest/node, spark-operator chart + image, SeaweedFS image). It cannot run on the dev machines here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="${CLUSTER:-fruit-pipeline-e2e}"
NAMESPACE="${NAMESPACE:-fruit-pipeline}"
IMAGE="${IMAGE:-fruit-pipeline:dev}"
SPARK_OPERATOR_VERSION="${SPARK_OPERATOR_VERSION:-2.5.2}"
TIMEOUT_S="${TIMEOUT_S:-1200}"
S3_LOCAL_PORT="${S3_LOCAL_PORT:-18333}"
VENV_BIN="${VENV_BIN:-$ROOT/.venv/bin}"
HELM="${HELM:-$(command -v helm || echo "$ROOT/.cache/bin/helm")}"
KEEP="${KEEP:-0}"
WORK="$(mktemp -d)"
PORT_FORWARD_PID=""

log() { printf 'e2e: %s\n' "$*" >&2; }

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 2; }
  done
}

cleanup() {
  local status=$?
  if [ -n "$PORT_FORWARD_PID" ]; then kill "$PORT_FORWARD_PID" 2>/dev/null || true; fi
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

# Runs a command with the generated S3 key pair against the port-forwarded SeaweedFS.
with_s3() {
  AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3_LOCAL_PORT" "$@"
}

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

install_s3() {
  log "starting SeaweedFS in $NAMESPACE"
  ACCESS_KEY="$("$VENV_BIN/python" -c 'import secrets; print("E2E" + secrets.token_hex(8).upper())')"
  SECRET_KEY="$("$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(30))')"
  umask 077
  printf '{"identities":[{"name":"e2e","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
    "$ACCESS_KEY" "$SECRET_KEY" >"$WORK/s3.json"
  printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$ACCESS_KEY" "$SECRET_KEY" >"$WORK/s3.env"
  kubectl -n "$NAMESPACE" create secret generic seaweedfs-s3-config --from-file=s3.json="$WORK/s3.json"
  kubectl -n "$NAMESPACE" create secret generic fruit-pipeline-s3 --from-env-file="$WORK/s3.env"
  kubectl -n "$NAMESPACE" apply -f "$ROOT/k8s/kind/seaweedfs.yaml"
  kubectl -n "$NAMESPACE" rollout status deployment/seaweedfs --timeout 180s
  kubectl -n "$NAMESPACE" port-forward service/seaweedfs "$S3_LOCAL_PORT:8333" >"$WORK/port-forward.log" 2>&1 &
  PORT_FORWARD_PID=$!
  local _
  for _ in $(seq 1 30); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$S3_LOCAL_PORT") 2>/dev/null; then return 0; fi
    sleep 1
  done
  log "SeaweedFS port-forward did not answer"; return 1
}

upload_sample() {
  log "uploading the sample bank"
  "$VENV_BIN/fruit-pipeline" sample --out "$WORK/bank" --classes 5 --per-class 40
  with_s3 "$VENV_BIN/python" - <<'PY'
import boto3
s3 = boto3.client("s3")
for bucket in ("fruit-bank", "fruit-features"):
    s3.create_bucket(Bucket=bucket)
PY
  with_s3 "$VENV_BIN/fruit-pipeline" upload --source "$WORK/bank" --dest s3://fruit-bank/sample
}

run_chart() {
  log "installing the chart (values-kind.yaml)"
  "$HELM" upgrade --install fruit-pipeline "$ROOT/helm/fruit-pipeline" --namespace "$NAMESPACE" \
    --values "$ROOT/helm/fruit-pipeline/values-kind.yaml" --set "image.repository=${IMAGE%:*}" --set "image.tag=${IMAGE##*:}"
  local state="" waited=0
  while [ "$waited" -lt "$TIMEOUT_S" ]; do
    state="$(kubectl -n "$NAMESPACE" get sparkapplication fruit-pipeline -o jsonpath='{.status.applicationState.state}' 2>/dev/null || true)"
    case "$state" in
      COMPLETED) log "SparkApplication COMPLETED after ${waited}s"; return 0 ;;
      FAILED) log "SparkApplication FAILED"; return 1 ;;
    esac
    sleep 10
    waited=$((waited + 10))
  done
  log "timed out after ${TIMEOUT_S}s in state '${state}'"; return 1
}

check_output() {
  log "checking s3://fruit-features/sample/manifest.json"
  with_s3 "$VENV_BIN/python" - <<'PY'
import json
import boto3
body = boto3.client("s3").get_object(Bucket="fruit-features", Key="sample/manifest.json")["Body"].read()
counts = json.loads(body)["counts"]
assert counts["features_rows"] > 0 and counts["input_files"] == counts["features_rows"] + counts["error_rows"], counts
print(f"e2e: output complete: {counts}")
PY
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
