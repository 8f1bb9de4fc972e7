#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 `keyhole rotate` at random instants, >= 200 times: afterwards the
# store always opens and the value is the old or the new one, never torn;
# the next writer sweeps the killed writers' temp files.
. "$(dirname "$0")/../lib.sh"
KH=$KH_BUILD/keyhole KILLAT=$KH_BUILD/tools/killat
[ -x "$KH" ] || t_skip "keyhole not built"
N=${KS_CRASH_N:-200}
D=$(t_tmpdir) S=$D/store.json K=$D/agent.key
kh() { "$KH" --store "$S" --key-file "$K" "$@"; }

t_run "init" kh init
# ballast so a rotate takes long enough to be hit mid-write
for i in $(seq 1 150); do printf 'ballast-%s' "$i" | kh put "ballast/$i" >/dev/null; done
printf v0 | kh put crash/a >/dev/null
t0=$(date +%s%N)
for i in 1 2 3; do printf 'w%s' "$i" | kh rotate crash/a >/dev/null; done
per_us=$(( ($(date +%s%N) - t0) / 3000 ))
cur=$(kh get crash/a) bad=0 killed=0
for ((i = 1; i <= N; i++)); do
	val="v$i-$RANDOM"
	if [ -x "$KILLAT" ]; then
		out=$(printf '%s' "$val" | "$KILLAT" $((per_us + 500)) "$KH" --store "$S" \
			--key-file "$K" rotate crash/a 2>/dev/null)
	else
		printf '%s' "$val" | "$KH" --store "$S" --key-file "$K" rotate crash/a >/dev/null 2>&1 &
		sleep "0.00$((RANDOM % 10))"; kill -9 $! 2>/dev/null && out=killed; wait $! 2>/dev/null
	fi
	[[ $out == killed* ]] && killed=$((killed + 1))
	if ! got=$(kh get crash/a 2>&1); then
		bad=$((bad + 1)); echo "# iteration $i: store does not open: $got"; continue
	fi
	if [ "$got" = "$val" ]; then cur=$val
	elif [ "$got" != "$cur" ]; then bad=$((bad + 1)); echo "# iteration $i: torn value"
	fi
done
echo "# $N rotations, ~${per_us} us each, $killed killed mid-run"
t_eq "kill -9 x$N: store always opens, value always old or new" "$bad" 0
t_eq "neighbours intact" "$(kh get ballast/150)" ballast-150
t_run "every record authenticates" kh verify
t_run "a rotate after the crashes succeeds" sh -c "printf final | '$KH' --store '$S' --key-file '$K' rotate crash/a"
t_eq "killed writers' temp files swept" "$(ls "$D" | grep -c '\.tmp\.')" 0
t_done
