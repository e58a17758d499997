#!/bin/bash
# Build the fruit-pipeline image (`make image`): see image/docker_build.py (also used by the test fixtures).
# Usage: image/build.sh [--tag fruit-pipeline:dev] [--base debian:bookworm-slim[@sha256:...]] [--ca-bundle FILE|'']
set -euo pipefail
exec python3 "$(dirname "$0")/docker_build.py" "$@"
