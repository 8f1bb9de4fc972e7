#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Disk full: with the store on a tiny tmpfs, a put or rotate that cannot be
# written fails with an I/O error (exit 7), the old store stays intact and
# readable, and the temp file is removed.
. "$(dirname "$0")/../lib.sh"
t_need_root
KH=$KH_BUILD/keyhole
[ -x "$KH" ] || t_skip "keyhole not built"
D=$(t_tmpdir) M=$D/mnt K=$D/agent.key
mkdir -p "$M"
mount -t tmpfs -o size=256k,mode=0700 "keyhole-ks-$$" "$M" || t_skip "cannot mount tmpfs"
t_cleanup "umount -l '$M'"
S=$M/store.json
kh() { "$KH" --store "$S" --key-file "$K" "$@"; }

t_run "init on a 256 KiB tmpfs" kh init
printf v1 | kh put a >/dev/null
cp "$S" "$D/before"
head -c 300000 /dev/urandom >"$D/big" 2>/dev/null
head -c 150000 /dev/urandom >"$D/mid"
dd if=/dev/zero of="$M/filler" bs=4k count=1000 2>/dev/null # fill the rest
t_eq "put that does not fit fails with exit 7" "$(kh put b <"$D/mid" >/dev/null 2>&1; echo $?)" 7
t_eq "rotate that does not fit fails with exit 7" \
	"$(kh rotate a <"$D/mid" >/dev/null 2>&1; echo $?)" 7
t_run "store file unchanged" cmp -s "$S" "$D/before"
t_eq "old value still readable" "$(kh get a)" v1
t_eq "no temp file left" "$(ls "$M" | grep -c '\.tmp\.')" 0
rm -f "$M/filler"
t_run "space freed: rotate succeeds" sh -c "'$KH' --store '$S' --key-file '$K' rotate a <'$D/mid'"
t_run "new value readable" cmp -s <(kh get a) "$D/mid"
t_done
