#!/bin/bash
# Refresh image/requirements.lock: every runtime dependency of pyproject.toml pinned with the sha256 of every
# published file of that version (all platforms), so one lock serves amd64 and arm64 builds.
# Run after changing `dependencies` in pyproject.toml, with Python 3.11 (Debian bookworm's, the image's Python).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${PIP_TOOLS_VENV:-$ROOT/.cache/pip-tools}
[ -x "$TOOLS/bin/pip-compile" ] || { python3 -m venv "$TOOLS" && "$TOOLS/bin/pip" install --quiet "pip-tools==7.4.1"; }
cd "$ROOT"
CUSTOM_COMPILE_COMMAND=image/lock-requirements.sh "$TOOLS/bin/pip-compile" --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
  --allow-unsafe \
  --output-file image/requirements.lock pyproject.toml
