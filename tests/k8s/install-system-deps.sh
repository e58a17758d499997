#!/usr/bin/env bash
# Debian packages the local Kubernetes cluster runs (tests/k8s): containerd + runc, CNI plugins,
# iptables/conntrack/socat for kube-proxy, and Docker + debootstrap for building the images. Idempotent.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
declare -A wanted=(
  [containerd]=containerd [runc]=runc [iptables]=iptables [conntrack]=conntrack
  [socat]=socat [dockerd]=docker.io [debootstrap]=debootstrap [ip]=iproute2
)
need=()
for tool in "${!wanted[@]}"; do
  command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || need+=("${wanted[$tool]}")
done
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The packages start their own daemons on install; the cluster runs private instances instead.
for unit in containerd docker; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
    $SUDO systemctl stop "$unit" || true
  fi
done
