#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make image`: an OCI image of keyholed, keyhole and keyhole-shim, built
# offline from the built binaries and exactly the shared libraries ldd names
# for them (no base image, no registry pull), tagged keyhole/keyholed:VERSION
# and saved as an OCI archive OUT/keyholed-VERSION.oci.tar (import it on a
# node: docs/kubernetes.md). Uses a private podman store (scripts/engine-lab.sh)
# under OUT/lab, so the host's images are never touched.
# Env: B (build dir, default build), VERSION (required), OUT (default $B/image).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
VERSION=${VERSION:?set VERSION}
OUT=$(mkdir -p "${OUT:-$B/image}" && cd "${OUT:-$B/image}" && pwd)
TAG=keyhole/keyholed:$VERSION
. scripts/engine-lab.sh

die() { echo "image: $*" >&2; exit 1; }
command -v podman >/dev/null || die "podman is not installed (scripts/deps.sh)"
for b in keyholed keyhole keyhole-shim; do
	[ -x "$B/$b" ] || die "$B/$b not built (make)"
done
[[ $VERSION =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "VERSION '$VERSION' is not a valid tag"

ROOT=$OUT/rootfs
rm -rf "$ROOT" "$OUT/rootfs.tar"
mkdir -p "$ROOT/usr/sbin" "$ROOT/usr/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" \
	"$ROOT/dev" "$ROOT/run/keyhole" "$ROOT/run/keyhole-admin" "$ROOT/var/lib/keyhole" \
	"$ROOT/etc/keyhole"
chmod 1777 "$ROOT/tmp"
install -m 0755 "$B/keyholed" "$ROOT/usr/sbin/keyholed"
install -m 0755 "$B/keyhole" "$ROOT/usr/bin/keyhole"
install -m 0755 "$B/keyhole-shim" "$ROOT/usr/bin/keyhole-shim"
printf 'root:x:0:0::/:/bin/none\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"

# The libraries each dynamic binary loads, and the loader, at their own paths.
libs=$(for b in "$B/keyholed" "$B/keyhole"; do ldd "$b"; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || die "ldd found no libraries"
for l in $libs; do
	mkdir -p "$ROOT$(dirname "$l")"
	cp -L "$l" "$ROOT$l"
done
nlibs=$(wc -w <<<"$libs")

tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$ROOT" \
	-cf "$OUT/rootfs.tar" .
LAB=$OUT/lab
el_podman_setup "$LAB"
: >"$LAB/podman/registries.conf"
el_podman "$LAB" import -q \
	--change 'ENTRYPOINT ["/usr/sbin/keyholed"]' --change 'CMD ["--help"]' \
	--change "LABEL org.opencontainers.image.version=$VERSION" \
	--change 'LABEL org.opencontainers.image.title=keyholed' \
	"$OUT/rootfs.tar" "$TAG" >/dev/null || die "podman import failed"
rm -f "$OUT/keyholed-$VERSION.oci.tar"
el_podman "$LAB" save -q --format oci-archive -o "$OUT/keyholed-$VERSION.oci.tar" "$TAG" ||
	die "podman save failed"
rm -rf "$ROOT" "$OUT/rootfs.tar"
echo "image: $TAG ($nlibs shared libraries) -> $OUT/keyholed-$VERSION.oci.tar" \
	"($(du -h "$OUT/keyholed-$VERSION.oci.tar" | cut -f1))"
