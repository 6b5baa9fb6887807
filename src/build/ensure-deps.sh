#!/usr/bin/env bash
# Makes sure the machine has what braid's tests and demo drive for real: the reference CNI
# plugins, iproute2, iptables/nftables, tc, a C compiler for the native shim, containerd
# with runc (the container runtime tier and the demo run pods through its CRI plugin), and
# openssl for the test API server's certificates.
set -euo pipefail
missing=()
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v ip >/dev/null || missing+=(iproute2)
command -v tc >/dev/null || missing+=(iproute2)
command -v iptables-save >/dev/null || missing+=(iptables)
command -v nft >/dev/null || missing+=(nftables)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v ping >/dev/null || missing+=(iputils-ping)
command -v nsenter >/dev/null || missing+=(util-linux)
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
command -v openssl >/dev/null || missing+=(openssl) # the test API server's CA and certificates
# npm run image (and the test that runs braid's image under containerd)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v umoci >/dev/null || missing+=(umoci)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v jq >/dev/null || missing+=(jq)
command -v strip >/dev/null || missing+=(binutils)
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" != 0 ]; then
  echo "braid needs: $pkgs— run as root: apt-get update && apt-get install -y $pkgs" >&2
  exit 1
fi
echo "installing $pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq $pkgs >&2
