#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make deb`: a Debian package of keyhole with dpkg-deb, from an installed
# tree (`make install DESTDIR=... PREFIX=/usr SYSCONFDIR=/etc`): binaries,
# man pages, the systemd unit, /etc/keyhole/keyholed.conf, the example
# policy, the audit log's logrotate snippet, bash completion and the docs.
# Dependencies come from dpkg-shlibdeps. Prints the .deb's path.
#   scripts/mkdeb.sh BUILD_DIR OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build} OUT=${2:-$B}
VERSION=$(cat VERSION)
ARCH=$(dpkg --print-architecture)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/keyhole-deb.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
PKG=$ROOT/pkg
DOC=$PKG/usr/share/doc/keyhole

make --no-print-directory -s install B="$B" DESTDIR="$PKG" PREFIX=/usr SYSCONFDIR=/etc \
	UNITDIR=/lib/systemd/system >/dev/null
# Debian policy: stripped binaries (the shim already is), compressed man
# pages and changelog, a copyright file, no docs compressed below 4 KiB.
strip --remove-section=.comment --remove-section=.note --strip-unneeded \
	"$PKG/usr/sbin/keyholed" "$PKG/usr/bin/keyhole"
gzip -9n "$PKG"/usr/share/man/man*/*
{
	echo "keyhole ($VERSION) unstable; urgency=medium"
	echo
	echo "  * Release $VERSION."
	echo
	echo " -- keyhole maintainers <keyhole@example.org>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$DOC/changelog.gz" # a native package
cat >"$DOC/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: keyhole

Files: *
Copyright: 2026 keyhole authors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.
EOF
find "$DOC" -name '*.md' -size +4k -exec gzip -9n {} +
# keyhole-shim is static on purpose: it is copied into images, scratch ones
# included (docs/shim.md).
mkdir -p "$PKG/usr/share/lintian/overrides"
echo 'keyhole: statically-linked-binary [usr/bin/keyhole-shim]' \
	>"$PKG/usr/share/lintian/overrides/keyhole"

# Shared-library dependencies, the way debhelper computes them.
mkdir -p "$ROOT/src/debian"
printf 'Source: keyhole\n\nPackage: keyhole\nArchitecture: any\n' >"$ROOT/src/debian/control"
DEPS=$(cd "$ROOT/src" && dpkg-shlibdeps -O "$PKG/usr/sbin/keyholed" "$PKG/usr/bin/keyhole" \
	2>/dev/null | sed -n 's/^shlibs:Depends=//p')

mkdir -p "$PKG/DEBIAN"
cat >"$PKG/DEBIAN/control" <<EOF
Package: keyhole
Version: $VERSION
Architecture: $ARCH
Maintainer: keyhole maintainers <keyhole@example.org>
Installed-Size: $(du -sk "$PKG" | cut -f1)
Depends: $DEPS
Recommends: logrotate
Suggests: docker.io | podman
Section: admin
Priority: optional
Homepage: https://example.org/keyhole
Description: secrets for containers that never touch the image or environment
 keyholed holds sealed secrets on the host and releases them to containers
 identified by the kernel (SO_PEERCRED, pidfd, cgroup) and the container
 engine's API, as a JSON policy allows. keyhole-shim, a static entrypoint,
 fetches them into a tmpfs in the container and applies rotations.
 .
 This package holds keyholed, the keyhole CLI, keyhole-shim, the systemd
 unit (Type=notify, hardened), /etc/keyhole/keyholed.conf and the docs.
EOF
printf '%s\n' /etc/keyhole/keyholed.conf /etc/logrotate.d/keyhole >"$PKG/DEBIAN/conffiles"
(cd "$PKG" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$PKG/DEBIAN/md5sums"
find "$PKG" -type d -exec chmod 0755 {} +
chmod 0644 "$PKG/DEBIAN/control" "$PKG/DEBIAN/conffiles" "$PKG/DEBIAN/md5sums"
mkdir -p "$OUT"
DEB=$OUT/keyhole_${VERSION}_$ARCH.deb
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
