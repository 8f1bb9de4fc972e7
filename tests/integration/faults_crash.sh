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

d=$(t_tmpdir)
S=$d/store.json K=$d/agent.key
kh() { "$KH" --store "$S" --key-file "$K" "$@"; }

t_run "init a store" kh init
t_run "put crash/a" sh -c "printf v0 | '$KH' --store '$S' --key-file '$K' put crash/a"
t_run "put crash/b (an untouched neighbour)" \
	sh -c "printf neighbour | '$KH' --store '$S' --key-file '$K' put crash/b"

# Kill window: one measured rotate; slow runs finish after it, so kills land
# before, during and after the rename.
t0=$(date +%s%N)
for i in 1 2 3 4 5; do printf 'w%s' "$i" | kh rotate crash/a >/dev/null || break; done
per_us=$(( ($(date +%s%N) - t0) / 5000 ))
max_us=$(( per_us + 200 ))
echo "# rotate takes ~${per_us} us; killing at random instants in [0, ${max_us}] us"

cur=$(kh get crash/a) killed=0 completed=0 old=0 new=0 bad=0
for ((i = 1; i <= N; i++)); do
	val="v$i-$RANDOM$RANDOM"
	out=$(printf '%s' "$val" | "$KILLAT" "$max_us" "$KH" --store "$S" --key-file "$K" \
		rotate crash/a 2>/dev/null)
	case $out in killed*) killed=$((killed + 1)) ;; *) completed=$((completed + 1)) ;; esac
	if ! got=$(kh get crash/a 2>&1); then
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
t_run "neighbour record intact" test "$(kh get crash/b)" = neighbour
t_run "every record still authenticates (keyhole verify)" kh verify
t_run "a rotate after the crashes still works" sh -c \
	"printf final | '$KH' --store '$S' --key-file '$K' rotate crash/a && \
	 test \"\$('$KH' --store '$S' --key-file '$K' get crash/a)\" = final"
left=$(find "$d" -maxdepth 1 -newer "$S" -name '*.tmp*' | wc -l)
echo "# temp files left in the store dir by killed writers: $left"

# --- the agent killed while it reloads ---------------------------------------
AG=$KH_BUILD/keyholed ABUSE=$KH_BUILD/tools/abuse
if [ ! -x "$AG" ] || [ ! -x "$ABUSE" ]; then
	echo "# agent part skipped: keyholed or tools/abuse not built"; t_done
fi
t_need_root
P=$d/policy.json SOCK=$d/agent.sock ASOCK=$d/admin.sock
cat >"$P" <<'JSON'
{ "version": 1, "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
  "grant": [ { "secret": "crash/a", "file": "crash_a" } ] } ] }
JSON
apid=
start_agent() {
	"$AG" --store "$S" --key-file "$K" --policy "$P" --socket "$SOCK" \
		--admin-socket "$ASOCK" --audit-log "$d/audit.log" 2>>"$d/agent.err" &
	apid=$!
	t_wait_for "[ -S '$SOCK' ] && '$ABUSE' '$SOCK' --hostile 0 --name crash/a >/dev/null" 10
}
t_cleanup 'kill -9 $apid'
printf 'a0' | kh rotate crash/a >/dev/null
cur=a0 bad=0
for ((i = 1; i <= NA; i++)); do
	if ! start_agent; then bad=$((bad + 1)); echo "# iteration $i: agent did not come back"; break; fi
	if ! "$ABUSE" "$SOCK" --hostile 0 --name crash/a --expect "$cur" >/dev/null; then
		bad=$((bad + 1)); echo "# iteration $i: restarted agent does not serve $cur"
	fi
	cur="a$i-$RANDOM"
	printf '%s' "$cur" | kh rotate crash/a >/dev/null
	sleep "0.00$((RANDOM % 10))" # the agent is noticing / reloading now
	kill -9 "$apid"; wait "$apid" 2>/dev/null
done
t_eq "kill -9 agent during store reload x$NA: restarts and serves the newest value" "$bad" 0
t_done
