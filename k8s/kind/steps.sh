#!/usr/bin/env bash
# The steps of an end-to-end run that do not create the cluster: in-cluster S3, sample upload, chart install,
# wait for the SparkApplication, output check. k8s/kind/e2e.sh sources this file; the local-cluster test
# (tests/k8s) runs it as `bash k8s/kind/steps.sh STEP...` against its own cluster (KUBECONFIG).
# State shared between steps lives in $WORK (the generated S3 key pair).
# Settings: NAMESPACE, WORK, HELM, VENV_BIN, SEAWEEDFS_IMAGE, S3_LOCAL_PORT, TIMEOUT_S, RELEASE, APP, VALUES
# (extra values files, space-separated), IMAGE, OUTPUT (s3://bucket/prefix the check reads).
set -euo pipefail

STEPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NAMESPACE="${NAMESPACE:-fruit-pipeline}"
IMAGE="${IMAGE:-fruit-pipeline:dev}"
TIMEOUT_S="${TIMEOUT_S:-1200}"
S3_LOCAL_PORT="${S3_LOCAL_PORT:-18333}"
VENV_BIN="${VENV_BIN:-$STEPS_ROOT/.venv/bin}"
HELM="${HELM:-$(command -v helm || echo "$STEPS_ROOT/.cache/bin/helm")}"
SEAWEEDFS_IMAGE="${SEAWEEDFS_IMAGE:-}"
RELEASE="${RELEASE:-fruit-pipeline}"
APP="${APP:-fruit-pipeline}"
VALUES="${VALUES:-}"
OUTPUT="${OUTPUT:-s3://fruit-features/sample}"

log() { printf 'e2e: %s\n' "$*" >&2; }

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 2; }
  done
}

# Runs a command with the generated S3 key pair against SeaweedFS, port-forwarded for the command's duration.
with_s3() {
  local pid status=0 _
  # shellcheck disable=SC1091
  source "$WORK/s3.env"
  kubectl -n "$NAMESPACE" port-forward service/seaweedfs "$S3_LOCAL_PORT:8333" >>"$WORK/port-forward.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 30); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$S3_LOCAL_PORT") 2>/dev/null; then break; fi
    sleep 1
  done
  AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3_LOCAL_PORT" "$@" || status=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return "$status"
}

install_s3() {
  log "starting SeaweedFS in $NAMESPACE"
  local access_key secret_key
  access_key="$("$VENV_BIN/python" -c 'import secrets; print("E2E" + secrets.token_hex(8).upper())')"
  secret_key="$("$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(30))')"
  umask 077
  printf '{"identities":[{"name":"e2e","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
    "$access_key" "$secret_key" >"$WORK/s3.json"
  printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$access_key" "$secret_key" >"$WORK/s3.env"
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
  kubectl -n "$NAMESPACE" create secret generic seaweedfs-s3-config --from-file=s3.json="$WORK/s3.json"
  kubectl -n "$NAMESPACE" create secret generic fruit-pipeline-s3 --from-env-file="$WORK/s3.env"
  if [ -n "$SEAWEEDFS_IMAGE" ]; then
    sed "s|image: chrislusf/seaweedfs:.*|image: $SEAWEEDFS_IMAGE\n          imagePullPolicy: Never|" \
      "$STEPS_ROOT/k8s/kind/seaweedfs.yaml" | kubectl -n "$NAMESPACE" apply -f -
  else
    kubectl -n "$NAMESPACE" apply -f "$STEPS_ROOT/k8s/kind/seaweedfs.yaml"
  fi
  kubectl -n "$NAMESPACE" rollout status deployment/seaweedfs --timeout 180s || {
    kubectl -n "$NAMESPACE" logs deployment/seaweedfs --tail=30 >&2 || true
    return 1
  }
}

upload_sample() {
  log "uploading the sample bank"
  rm -rf "$WORK/bank"
  "$VENV_BIN/fruit-pipeline" sample --out "$WORK/bank" --classes "${SAMPLE_CLASSES:-5}" --per-class "${SAMPLE_PER_CLASS:-40}"
  with_s3 "$VENV_BIN/python" - <<'PY'
import boto3
s3 = boto3.client("s3")
for bucket in ("fruit-bank", "fruit-features"):
    s3.create_bucket(Bucket=bucket)
PY
  with_s3 "$VENV_BIN/fruit-pipeline" upload --source "$WORK/bank" --dest s3://fruit-bank/sample
}

install_chart() {
  log "installing the chart (values-kind.yaml${VALUES:+ + $VALUES})"
  local extra=() file
  for file in $VALUES; do extra+=(--values "$file"); done
  "$HELM" upgrade --install "$RELEASE" "$STEPS_ROOT/helm/fruit-pipeline" --namespace "$NAMESPACE" \
    --values "$STEPS_ROOT/helm/fruit-pipeline/values-kind.yaml" "${extra[@]}" \
    --set "image.repository=${IMAGE%:*}" --set "image.tag=${IMAGE##*:}"
}

wait_completed() {
  local state="" waited=0
  while [ "$waited" -lt "$TIMEOUT_S" ]; do
    state="$(kubectl -n "$NAMESPACE" get sparkapplication "$APP" -o jsonpath='{.status.applicationState.state}' 2>/dev/null || true)"
    case "$state" in
      COMPLETED) log "SparkApplication $APP COMPLETED after ${waited}s"; return 0 ;;
      FAILED) log "SparkApplication $APP FAILED"; return 1 ;;
    esac
    sleep 5
    waited=$((waited + 5))
  done
  log "timed out after ${TIMEOUT_S}s in state '${state}'"; return 1
}

run_chart() {
  install_chart
  wait_completed
}

check_output() {
  log "checking $OUTPUT/manifest.json"
  OUTPUT="$OUTPUT" with_s3 "$VENV_BIN/python" - <<'PY'
import json
import os
import boto3
bucket, _, prefix = os.environ["OUTPUT"].removeprefix("s3://").partition("/")
body = boto3.client("s3").get_object(Bucket=bucket, Key=f"{prefix}/manifest.json")["Body"].read()
counts = json.loads(body)["counts"]
assert counts["features_rows"] > 0 and counts["input_files"] == counts["features_rows"] + counts["error_rows"], counts
print(f"e2e: output complete: {counts}")
PY
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ $# -gt 0 ] || { log "usage: steps.sh STEP... (install_s3 upload_sample install_chart wait_completed run_chart check_output)"; exit 2; }
  : "${WORK:?WORK must name the directory holding the state of the steps}"
  for step in "$@"; do
    case "$step" in
      install_s3 | upload_sample | install_chart | wait_completed | run_chart | check_output) "$step" ;;
      *) log "unknown step: $step"; exit 2 ;;
    esac
  done
fi
