#!/usr/bin/env bash
# Build the Kubernetes server binaries from the Go module proxy -> .cache/k8s/<version>/bin (cached).
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the staging modules with local paths),
# so a throw-away module requires it and replaces each staging module with its published v0.<minor>.<patch>.
set -euo pipefail
VERSION="${K8S_VERSION:-v1.34.4}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.cache/k8s/$VERSION"
CMDS=(kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy)

if [[ -f "$OUT/bin/.complete" ]]; then
  echo "kubernetes $VERSION: cached in $OUT/bin"
  exit 0
fi
command -v go >/dev/null || { echo "go is required (https://go.dev/dl/)" >&2; exit 1; }
STAGING_VERSION="v0.${VERSION#v1.}"
MOD="$OUT/module"
rm -rf "${MOD:?}" "${OUT:?}/bin"
mkdir -p "$MOD" "$OUT/bin"
cd "$MOD"
go mod init local.test/kubernetes-build >/dev/null 2>&1
gomod="$(go mod download -json "k8s.io/kubernetes@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
mapfile -t staging < <(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod")
[[ ${#staging[@]} -gt 20 ]] || { echo "found only ${#staging[@]} staging modules in $gomod" >&2; exit 1; }
go mod edit -require "k8s.io/kubernetes@$VERSION"
for module in "${staging[@]}"; do
  go mod edit -replace "$module=$module@$STAGING_VERSION"
done
{
  echo '//go:build tools'
  echo 'package tools'
  echo 'import ('
  for cmd in "${CMDS[@]}"; do echo "  _ \"k8s.io/kubernetes/cmd/$cmd\""; done
  echo ')'
} > tools.go
go mod tidy
pkgs=()
for cmd in "${CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$VERSION" \
  -o "$OUT/bin/" "${pkgs[@]}"
touch "$OUT/bin/.complete"
echo "kubernetes $VERSION: built in $OUT/bin"
