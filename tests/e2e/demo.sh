#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo` is one of the README's two commands: its script must run to
# the end on the built binaries (real podman, else the unshare fallback),
# and must not touch the host's keyhole files.
. "$(dirname "$0")/../lib.sh"
t_need_root
[ -x "$KH_BUILD/keyholed" ] || t_skip "not built"
before=$(ls -la /etc/keyhole 2>&1)
out=$(B=$B bash "$KH_ROOT/scripts/demo.sh" 2>&1)
rc=$?
[ $rc -eq 0 ] || sed 's/^/# demo: /' <<<"$out" | tail -15
t_eq "scripts/demo.sh (make demo) exits 0" "$rc" 0
t_run "it runs to the end" grep -q "^demo done in" <<<"$out"
t_run "a container got its secret" grep -q "sha256=" <<<"$out"
t_eq "the host's /etc/keyhole is untouched" "$(ls -la /etc/keyhole 2>&1)" "$before"
t_done
