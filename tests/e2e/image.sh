#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make image` output runs: build the keyholed OCI image with scripts/image.sh
# (offline, private podman store), load the archive into a fresh podman lab,
# and `podman run` it: keyholed --help (the image's default command), keyhole
# --help (its libraries are in the image too), and the image carries its
# version label. No registry is contacted: the lab has no registries and no
# network.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/scripts/engine-lab.sh"
t_need_root
command -v podman >/dev/null || t_skip "podman not installed"
command -v runc >/dev/null || t_skip "runc not installed"
for b in keyholed keyhole keyhole-shim; do [ -x "$KH_BUILD/$b" ] || t_skip "$b not built"; done

T=$(t_tmpdir)
V=test-$$
out=$(B=$KH_BUILD OUT=$T/out VERSION=$V bash "$KH_ROOT/scripts/image.sh" 2>&1)
t_run "scripts/image.sh builds the image" test -s "$T/out/keyholed-$V.oci.tar"
echo "# $out"

L=$T/lab
el_podman_setup "$L"
: >"$L/podman/registries.conf"
t_cleanup "el_podman_stop '$L'"
t_run "the OCI archive loads into a fresh store" \
	el_podman "$L" load -q -i "$T/out/keyholed-$V.oci.tar"
tags=$(el_podman "$L" images --format '{{.Repository}}:{{.Tag}}' 2>&1)
t_run "tagged keyhole/keyholed:$V" grep -qx "localhost/keyhole/keyholed:$V\|keyhole/keyholed:$V" <<<"$tags"
ver=$(el_podman "$L" image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' \
	"keyhole/keyholed:$V" 2>&1)
t_eq "version label" "$ver" "$V"

run=$(el_podman "$L" run --rm --network none "keyhole/keyholed:$V" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qiE 'cgroup|runtime|OCI' <<<"$run" && ! grep -q usage <<<"$run"; then
	t_skip "podman cannot run a container here: $(tail -1 <<<"$run")"
fi
t_eq "podman run keyhole/keyholed:$V (keyholed --help): exit 0" "$rc" 0
t_run "... prints keyholed's usage, with the --kubelet options" \
	bash -c 'grep -q "^usage: keyholed" <<<"$1" && grep -q -- "--kubelet https://" <<<"$1"' _ "$run"
run=$(el_podman "$L" run --rm --network none --entrypoint /usr/bin/keyhole \
	"keyhole/keyholed:$V" --help 2>&1)
t_run "keyhole (the liveness probe's binary) runs in the image" grep -qi "usage" <<<"$run"
t_done
