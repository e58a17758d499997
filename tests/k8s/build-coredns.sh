#!/usr/bin/env bash
# Build CoreDNS (cluster DNS of the local test cluster) from the Go module proxy -> .cache/coredns/bin (cached).
set -euo pipefail
VERSION="${COREDNS_VERSION:-v1.14.7}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.cache/coredns"
if [[ -x "$OUT/bin/coredns" && "$(cat "$OUT/version" 2>/dev/null)" == "$VERSION" ]]; then
  echo "coredns $VERSION: cached in $OUT/bin"
  exit 0
fi
mkdir -p "$OUT/bin"
CGO_ENABLED=0 GOBIN="$OUT/bin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$VERSION"
echo "$VERSION" >"$OUT/version"
echo "coredns $VERSION: built in $OUT/bin"
