#!/usr/bin/env bash
# Installs the helm CLI into <repo>/.cache/bin with `go install` (Go module proxy), unless already there.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="$ROOT/.cache/bin"
if [ -x "$BIN_DIR/helm" ] && "$BIN_DIR/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION}"; then
  exit 0
fi
GO="$(command -v go || echo /usr/local/go/bin/go)"
if [ ! -x "$GO" ]; then
  echo "install-helm: Go is needed to build helm ${HELM_VERSION} (https://go.dev/doc/install)" >&2
  exit 1
fi
mkdir -p "$BIN_DIR"
echo "installing helm ${HELM_VERSION} into $BIN_DIR (go install)"
GOBIN="$BIN_DIR" "$GO" install \
  -ldflags "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
  "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
"$BIN_DIR/helm" version --short
