#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Watch connections: `keyhole rotate` is pushed to a WATCH connection within
# 1 s (store change seen through inotify); a SIGHUP policy reload that
# drops a grant pushes REVOKED; an invalid policy on reload (SIGHUP or
# `keyhole reload`) keeps the old one; the connection cap refuses cleanly
# with ERROR BUSY and the agent keeps serving.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done

d=$(t_tmpdir)
kh_store_new "$d" || { t_notok "keyhole init"; t_done; }
kh_put "$d" w/a "alpha-1"
kh_put "$d" w/b "beta-1"
kh_policy_host_uid0 "$d/p.json" w/a w/b
t_run "agent starts" kh_agent_start "$d" "$d/p.json" --max-conns 8
S=$d/agent.sock

# 1. rotation push: the watcher waits for 2 batches, at most 1 s after rotate
"$KC" "$S" --watch --batches 2 --timeout-ms 10000 w/a >"$d/w1.out" &
wp=$!; t_cleanup "kill $wp"
t_wait_for "grep -q '^END' '$d/w1.out'" 5
t_run "watcher got the first batch" grep -q "^SECRET name=w/a version=1 .*value=alpha-1" "$d/w1.out"
kh_rotate "$d" w/a "alpha-2"
t_run "rotation pushed within 1 s" t_wait_for "grep -q 'value=alpha-2' '$d/w1.out'" 1
t_run "pushed as version 2, batch ended" bash -c "grep -q '^SECRET name=w/a version=2' '$d/w1.out' && [ \$(grep -c '^END' '$d/w1.out') -eq 2 ]"
t_run "push audited" grep -q '"secret":"w/a","version":2,"decision":"push"' "$d/audit.log"
wait $wp

# 2. revocation on SIGHUP
"$KC" "$S" --watch --batches 2 --timeout-ms 10000 >"$d/w2.out" &
wp=$!; t_cleanup "kill $wp"
t_wait_for "grep -q '^END' '$d/w2.out'" 5
t_run "all-granted watcher holds both" bash -c "grep -q 'name=w/a' '$d/w2.out' && grep -q 'name=w/b' '$d/w2.out'"
kh_policy_host_uid0 "$d/p.json" w/a
kh_agent_hup "$d"
t_run "REVOKED pushed after SIGHUP drops the grant" t_wait_for "grep -qx 'REVOKED name=w/b file=w_b' '$d/w2.out'" 2
t_fails "w/a not revoked" grep -q "REVOKED name=w/a" "$d/w2.out"
t_run "revoke audited" grep -q '"secret":"w/b".*"decision":"revoke"' "$d/audit.log"
wait $wp
t_run "new policy in force" bash -c "'$KC' '$S' w/b | grep -q '^DENIED name=w/b'"

# 3. invalid policy on reload keeps the old one
cp "$d/p.json" "$d/good.json"
echo '{"version":1,"rules":[{"name":"r","grant":[{"secret":"w/b","file":"x"},{"secret":"w/a","file":"x"}]}]}' >"$d/p.json"
kh_agent_hup "$d"
t_run "SIGHUP with an invalid policy is logged" t_wait_for "grep -q 'policy not reloaded, keeping the old one: .*granted twice' '$d/keyholed.log'" 2
t_run "old policy still in force" bash -c "'$KC' '$S' w/a | grep -q '^SECRET name=w/a'"
t_fails "keyhole reload rejects it" kh "$d" reload
t_run "agent alive" kill -0 "$(kh_agent_pid "$d")"
cp "$d/good.json" "$d/p.json"

# 4. connection cap: 8 silent connections hold every slot
pids=()
# They hold for up to 30 s and are killed below; slow starts (ASan, a
# loaded CI machine) get 20 s to connect.
for i in 1 2 3 4 5 6 7 8; do "$KC" "$S" --silent --timeout-ms 30000 >/dev/null & pids+=($!); done
t_cleanup "kill ${pids[*]}"
t_run "8 connections held (status)" t_wait_for "kh '$d' status | grep -q '^connections: *8\$'" 20
out=$("$KC" "$S" w/a)
t_run "over the cap -> ERROR BUSY ($out)" grep -q "^ERROR code=5 reason=too many connections" <<<"$out"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
t_run "served again once connections close" t_wait_for "'$KC' '$S' w/a | grep -q '^SECRET'" 5
t_done
