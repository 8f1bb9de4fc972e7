#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash consistency (docs/threat-model.md T7): kill -9 `keyhole rotate` at
# random microsecond instants (tests/tools/killat); after each kill the store
# must open and the value must be the old or the new one. Then kill -9 the
# agent right after store changes (while it reloads) and restart it: it must
# come back and serve the newest value. ~100 iterations here; STRESS=1
# (`make stress`, via tests/stress/faults_crash_long.sh) runs >= 1000.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole KILLAT=$KH_BUILD/tools/killat
[ -x "$KH" ] && [ -x "$KILLAT" ] || t_skip "keyhole or tools/killat not built"
if [ -n "${STRESS:-}" ]; then N=${CRASH_ITERS:-1000} NA=${AGENT_ITERS:-200}
else N=${CRASH_ITERS:-100} NA=${AGENT_ITERS:-15}; fi

. "$KH_ROOT/tests/lib-agent.sh"
d=$(t_tmpdir)
S=$d/store.json K=$d/agent.key
t_run "init a store" kh_store_new "$d"
t_run "put crash/a" kh_put "$d" crash/a v0
t_run "put crash/b (an untouched neighbour)" kh_put "$d" crash/b neighbour

# Kill window: one measured rotate; slow runs finish after it, so kills land
# before, during and after the rename.
t0=$(date +%s%N)
for i in 1 2 3 4 5; do kh_rotate "$d" crash/a "w$i" || break; done
per_us=$(( ($(date +%s%N) - t0) / 5000 ))
max_us=$(( per_us + 200 ))
echo "# rotate takes ~${per_us} us; killing at random instants in [0, ${max_us}] us"

cur=$(kh "$d" get crash/a) killed=0 completed=0 old=0 new=0 bad=0
for ((i = 1; i <= N; i++)); do
	val="v$i-$RANDOM$RANDOM"
	out=$(printf '%s' "$val" | "$KILLAT" "$max_us" "$KH" --store "$S" --key-file "$K" \
		rotate crash/a 2>/dev/null)
	case $out in killed*) killed=$((killed + 1)) ;; *) completed=$((completed + 1)) ;; esac
	if ! got=$(kh "$d" get crash/a 2>&1); then
		bad=$((bad + 1)); [ $bad -le 3 ] && echo "# iteration $i ($out): store does not open: $got"
		continue
	fi
	if [ "$got" = "$val" ]; then cur=$val new=$((new + 1))
	elif [ "$got" = "$cur" ]; then
		old=$((old + 1))
		if [[ $out == "exited 0 "* ]]; then # reported success must be durable
			bad=$((bad + 1)); echo "# iteration $i: rotate exited 0 but the old value remains"
		fi
	else
		bad=$((bad + 1)); [ $bad -le 3 ] && echo "# iteration $i ($out): torn or foreign value"
	fi
done
echo "# $N rotations: killed $killed, ran to completion $completed; afterwards old $old, new $new"
t_eq "kill -9 during rotate x$N: store always opens, value always old or new" "$bad" 0
t_run "neighbour record intact" test "$(kh "$d" get crash/b)" = neighbour
t_run "every record still authenticates (keyhole verify)" kh "$d" verify
t_run "a rotate after the crashes still works" kh_rotate "$d" crash/a final
t_eq "and its value reads back" "$(kh "$d" get crash/a)" final
left=$(find "$d" -maxdepth 1 -newer "$S" -name '*.tmp*' | wc -l)
echo "# temp files left in the store dir by killed writers: $left"

# --- the agent killed while it reloads ---------------------------------------
AG=$KH_BUILD/keyholed ABUSE=$KH_BUILD/tools/abuse
if [ ! -x "$AG" ] || [ ! -x "$ABUSE" ]; then
	echo "# agent part skipped: keyholed or tools/abuse not built"; t_done
fi
t_need_root
SOCK=$d/agent.sock
kh_policy_host_uid0 "$d/policy.json" crash/a
fetch() { "$ABUSE" "$SOCK" --hostile 0 --name crash/a --expect "$1" >/dev/null 2>&1; }
kh_rotate "$d" crash/a a0
cur=a0 bad=0
for ((i = 1; i <= NA; i++)); do
	if ! kh_agent_start "$d" "$d/policy.json" >/dev/null 2>&1; then
		bad=$((bad + 1)); echo "# iteration $i: agent did not come back"; break
	fi
	if ! t_wait_for "fetch '$cur'" 5; then
		bad=$((bad + 1)); echo "# iteration $i: restarted agent does not serve $cur"
	fi
	cur="a$i-$RANDOM"
	kh_rotate "$d" crash/a "$cur"
	sleep "0.00$((RANDOM % 10))" # the agent is noticing / reloading now
	kill -9 "$(kh_agent_pid "$d")"
	wait "$(kh_agent_pid "$d")" 2>/dev/null
done
t_eq "kill -9 agent during store reload x$NA: restarts and serves the newest value" "$bad" 0
t_done
