#!/usr/bin/env bash
# Build spark-operator (controller + webhook in one binary) from the release tarball in ../shared/third-party
# -> .cache/spark-operator/<version>/{bin/spark-operator,src} (cached; sha256-checked; its Go deps come from the proxy).
set -euo pipefail
VERSION="${SPARK_OPERATOR_VERSION:-2.5.2}"
SHA256="${SPARK_OPERATOR_SHA256:-8651cfe7d059c06063bf0f0e9edc27fd27b6ca773824720ec0a49b3186c1a4bd}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARBALL="${SPARK_OPERATOR_TARBALL:-$ROOT/../shared/third-party/spark-operator-v$VERSION.tar.gz}"
OUT="$ROOT/.cache/spark-operator/$VERSION"
if [[ -f "$OUT/bin/.complete" ]]; then
  echo "spark-operator $VERSION: cached in $OUT/bin"
  exit 0
fi
[[ -f "$TARBALL" ]] || { echo "spark-operator source not found: $TARBALL (set SPARK_OPERATOR_TARBALL)" >&2; exit 1; }
echo "$SHA256  $TARBALL" | sha256sum -c --quiet - || { echo "checksum mismatch: $TARBALL" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/bin"
tar -xzf "$TARBALL" -C "$OUT"
mv "$OUT/spark-operator-$VERSION" "$OUT/src"
(cd "$OUT/src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/spark-operator" ./cmd/operator)
touch "$OUT/bin/.complete"
echo "spark-operator $VERSION: built in $OUT/bin"
