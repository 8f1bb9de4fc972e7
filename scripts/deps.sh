#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install, only when missing, the Debian packages keyhole's build, tests,
# demo and benchmarks need. Idempotent; a no-op on a machine that has them.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  libsodium-dev libjansson-dev libcurl4-openssl-dev libssl-dev libyaml-dev check
  musl-tools clang libclang-rt-14-dev valgrind
  podman runc docker.io uidmap
  etcd-server etcd-client
  tini dumb-init gnuplot-nox openssl python3 python3-yaml
  util-linux iproute2 procps psmisc file binutils curl tar clang-format
  docker-compose lintian dpkg-dev python3
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Never let a package's postinst start services on the host (docker, etcd):
# the tests start private instances of their own.
pol=/usr/sbin/policy-rc.d
made_pol=0
if [ ! -e "$pol" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$pol"; chmod 755 "$pol"; made_pol=1
fi
trap '[ $made_pol = 1 ] && rm -f "$pol"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
