#!/usr/bin/env bash
# Installs the helm CLI into <repo>/.cache/bin with `go install` (Go module proxy), unless already there.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# Kubernetes version helm assumes without a cluster (release builds derive it from client-go, v0.37 -> 1.37).
HELM_KUBE_MINOR="${HELM_KUBE_MINOR:-37}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="$ROOT/.cache/bin"
STAMP="$BIN_DIR/helm.build"
BUILD="helm ${HELM_VERSION} kube 1.${HELM_KUBE_MINOR}"
if [ -x "$BIN_DIR/helm" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$BUILD" ]; then
  exit 0
fi
GO="$(command -v go || echo /usr/local/go/bin/go)"
if [ ! -x "$GO" ]; then
  echo "install-helm: Go is needed to build helm ${HELM_VERSION} (https://go.dev/doc/install)" >&2
  exit 1
fi
mkdir -p "$BIN_DIR"
echo "installing helm ${HELM_VERSION} into $BIN_DIR (go install)"
GOBIN="$BIN_DIR" "$GO" install -ldflags "\
  -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${HELM_KUBE_MINOR} \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${HELM_KUBE_MINOR}" \
  "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
echo "$BUILD" >"$STAMP"
"$BIN_DIR/helm" version --short
