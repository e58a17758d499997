#!/usr/bin/env bash
# Build etcd from the Go module proxy -> .cache/etcd/<version>/bin/etcd (cached). Debian's etcd 3.4 lacks the
# watch-progress requests kube-apiserver 1.34 needs for watch lists: Spark's executor-pod watch then fails with
# "the required storage feature RequestWatchProgress is disabled" once it has to re-watch.
set -euo pipefail
VERSION="${ETCD_VERSION:-v3.6.4}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.cache/etcd/$VERSION"
if [[ -x "$OUT/bin/etcd" ]]; then
  echo "etcd $VERSION: cached in $OUT/bin"
  exit 0
fi
command -v go >/dev/null || { echo "go is required (https://go.dev/dl/)" >&2; exit 1; }
rm -rf "${OUT:?}/module"
mkdir -p "$OUT/module" "$OUT/bin"
cd "$OUT/module"
go mod init local.test/etcd-build >/dev/null 2>&1
cat >main.go <<'GO'
// etcd's own entry point (the root module of etcd cannot be `go install`ed: it replaces its submodules).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
go get "go.etcd.io/etcd/server/v3@$VERSION"
go mod tidy
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd.part" .
mv "$OUT/bin/etcd.part" "$OUT/bin/etcd"
echo "etcd $VERSION: built in $OUT/bin"
