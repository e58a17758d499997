#!/bin/bash
# Build fruit-pipeline:dev outside pytest: start a private dockerd if none answers, seed the base
# image with debootstrap when no registry is reachable, then build with the optional CA secret.
# Usage: image/build.sh [STATE_DIR]   (engine data, socket and pidfile live under STATE_DIR)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/fruit-pipeline-docker}
DOCKER=/usr/bin/docker
TAG=${IMAGE_TAG:-fruit-pipeline:dev}
BASE=${BASE_IMAGE:-debian:bookworm-slim}
CA=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
mkdir -p "$STATE"

if [ -z "${DOCKER_HOST:-}" ] && ! "$DOCKER" info >/dev/null 2>&1; then
  export DOCKER_HOST="unix://$STATE/docker.sock"
  if ! "$DOCKER" info >/dev/null 2>&1; then
    dockerd --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/docker.pid" \
      --host "$DOCKER_HOST" --iptables=false --bridge=none >"$STATE/dockerd.log" 2>&1 &
    for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
  fi
fi

if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1 && ! "$DOCKER" pull "$BASE" >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$STATE/debootstrap.log"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | "$DOCKER" import - "$BASE"
  rm -rf "$rootfs"
fi

secret=()
[ -s "$CA" ] && secret=(--secret "id=cabundle,src=$CA")
start=$(date +%s)
DOCKER_BUILDKIT=1 "$DOCKER" build --network host "${secret[@]}" --build-arg "BASE_IMAGE=$BASE" -t "$TAG" "$ROOT"
echo "built $TAG in $(( $(date +%s) - start ))s, size $("$DOCKER" image inspect -f '{{.Size}}' "$TAG") bytes"
