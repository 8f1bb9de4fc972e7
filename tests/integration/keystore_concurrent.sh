#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two `keyhole put` loops at once, 100 puts each: the flock + per-record
# compare-and-swap must land all 200 records, every one authentic.
. "$(dirname "$0")/../lib.sh"
KH=$KH_BUILD/keyhole
[ -x "$KH" ] || t_skip "keyhole not built"
D=$(t_tmpdir) S=$D/store.json K=$D/agent.key
kh() { "$KH" --store "$S" --key-file "$K" "$@"; }

t_run "init" kh init
writer() {
	local i fails=0
	for ((i = 0; i < 100; i++)); do
		printf 'value-%s-%s' "$1" "$i" | kh put "w$1/s$i" >/dev/null 2>&1 || fails=$((fails + 1))
	done
	echo "$fails" >"$D/fails.$1"
}
writer a & pa=$!
writer b & pb=$!
t_cleanup "kill $pa $pb"
wait "$pa" "$pb"
t_eq "writer a: no failed put" "$(cat "$D/fails.a")" 0
t_eq "writer b: no failed put" "$(cat "$D/fails.b")" 0
t_eq "200 records" "$(kh list | wc -l)" 200
t_eq "a value from each writer" "$(kh get wa/s99)/$(kh get wb/s0)" "value-a-99/value-b-0"
t_run "every record authenticates" kh verify
t_done
