#!/bin/bash
# SPDX-License-Identifier: MIT
# Fleet mode end to end: a 3-member TLS etcd cluster, three keyholed "hosts"
# (separate processes, own sockets) on one etcd:// store, each with a
# watching client. A rotate reaches all three; killing the member the agents
# watch makes them fail over and still deliver the next rotation; an agent
# down during a compaction catches up on restart; an agent whose cluster is
# gone keeps serving what it holds and says so in its log.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-etcd.sh"
t_need_root
ec_need
for b in keyhole keyholed keyhole-shim; do
	[ -x "$KH_BUILD/$b" ] || t_skip "build $KH_BUILD/$b first"
done

FD=$(t_tmpdir)
ec_start "$FD/ec" || { t_notok "etcd cluster starts"; t_done; }
S=$(ec_store "agents$$")
EC_KEY_FILE=$FD/agent.key
K() { "$KH_BUILD/keyhole" --store "$S" --key-file "$EC_KEY_FILE" "$@"; }
rot() { printf '%s' "$1" | K rotate payments/db >/dev/null; }
all_have() { local a; for a in 1 2 3; do ec_client_has "$FD/a$a" payments/db "$1" || return 1; done; }

K init >/dev/null && printf 'v0' | K put payments/db >/dev/null
t_eq "store has payments/db" "$(K get payments/db)" "v0"
up=0
for a in 1 2 3; do ec_agent_start "$FD/a$a" "$S" payments/db && up=$((up + 1)); done
t_eq "three agents start on the etcd store" "$up" "3"
for a in 1 2 3; do ec_client_start "$FD/a$a" payments/db; done
t_run "every client gets v0" t_wait_for "all_have v0" 10

rot v1
t_run "rotate on one store: all three clients get v1" t_wait_for "all_have v1" 5

# The agents' watchers stream from the first endpoint that answered
# (member 1, listed first). Kill it; the next rotation still arrives.
ec_stop_member 1
rot v2
t_run "member 1 killed: rotation still reaches all three" t_wait_for "all_have v2" 10
ec_start_member 1
t_wait_for ec_healthy 20

# Agent 3 down while the record moves on and history is compacted.
ec_client_stop "$FD/a3"
ec_agent_stop "$FD/a3"
rot v3; rot v4
t_run "compaction" ec_compact
t_run "agents 1-2 got v4" t_wait_for "ec_client_has $FD/a1 payments/db v4 && ec_client_has $FD/a2 payments/db v4" 5
t_run "agent 3 restarts after the compaction" ec_agent_start "$FD/a3" "$S" payments/db
ec_client_start "$FD/a3" payments/db
t_run "agent 3 caught up: serves v4" t_wait_for "ec_client_has $FD/a3 payments/db v4" 10
rot v5
t_run "agent 3 watches again: v5 everywhere" t_wait_for "all_have v5" 5

# Creates and deletes flow through the agents' event-fed snapshot too.
printf 'x' | K put payments/other >/dev/null && K rm payments/other && rot v6
t_run "put + rm of another record, then rotate: v6 everywhere" t_wait_for "all_have v6" 5
mkdir -p "$FD/late6"
timeout 10 "$KH_BUILD/keyhole-shim" --socket "$FD/a1/agent.sock" --dir "$FD/late6" --allow-disk \
	--secret payments/db -- true >/dev/null 2>&1
t_eq "a new client of agent 1 gets v6" "$(cat "$FD/late6/payments_db" 2>/dev/null)" "v6"

# Whole cluster down: agents keep serving the last state and log it.
ec_stop_all
mkdir -p "$FD/late"
timeout 10 "$KH_BUILD/keyhole-shim" --socket "$FD/a2/agent.sock" --dir "$FD/late" --allow-disk \
	--secret payments/db -- true >/dev/null 2>&1
t_eq "cluster down: agent still serves v6 to a new client" "$(cat "$FD/late/payments_db" 2>/dev/null)" "v6"
t_run "agents still running" kill -0 "$(cat "$FD/a1/keyholed.pid")" "$(cat "$FD/a2/keyholed.pid")"
t_run "agents say the store is unreachable and they serve the old state" \
	t_wait_for "grep -q 'serving what was loaded before' '$FD/a1/keyholed.log'" 10

# A new agent cannot start without its store (no cache yet): clear error.
mkdir -p "$FD/a4"
kh_policy_host_uid0 "$FD/a4/policy.json" payments/db
timeout 30 "$KH_BUILD/keyholed" --store "$S" --key-file "$EC_KEY_FILE" \
	--policy "$FD/a4/policy.json" --socket "$FD/a4/agent.sock" \
	--admin-socket "$FD/a4/admin.sock" --foreground >"$FD/a4/log" 2>&1 </dev/null
rc=$?
t_run "agent start with etcd down fails (not hang)" test "$rc" -ne 0 -a "$rc" -ne 124
t_run "agent start with etcd down: clear error" grep -q 'store unreachable' "$FD/a4/log"
[ "$T_FAILS" -eq 0 ] || cat "$FD"/a1/shim.log "$FD"/a1/keyholed.log "$FD/a4/log" | sed "s/^/# /" | head -40
t_done
