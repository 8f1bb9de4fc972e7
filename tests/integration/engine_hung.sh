#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A slow or hung engine cannot stall the agent (issue: hostile callers, 4).
# The engine socket accepts and never answers. A container (a process in a
# docker-shaped cgroup) keeps asking with ten connections at once, while a
# root host client fetches: the host client is served (latency printed),
# and the container fails closed after the engine timeout.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole ABUSE=$KH_BUILD/tools/abuse HANG=$KH_BUILD/tools/hangsock
CLIENT=$KH_BUILD/tools/khclient
for b in "$KH" "$ABUSE" "$HANG" "$CLIENT"; do [ -x "$b" ] || t_skip "$b not built"; done
t_need_root
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-cgroup.sh"
cg_hierarchies || t_skip "no cgroup hierarchies mounted"

d=$(t_tmpdir)
chmod 0755 "$d"
SOCK=$d/agent.sock
ID=$(cg_fake_id hung)
"$HANG" "$d/engine.sock" &
t_cleanup "kill $!"
t_wait_for "[ -S '$d/engine.sock' ]" 5
kh_store_new "$d" && kh_put "$d" app/v app-value || { t_notok "store setup"; t_done; }
cat >"$d/policy.json" <<'JSON'
{ "version": 1, "rules": [
  { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
    "grant": [ { "secret": "app/v", "file": "v" } ] },
  { "name": "by-name", "match": { "runtime": "docker", "name": "web-*" },
    "grant": [ { "secret": "app/v", "file": "v" } ] } ] }
JSON
kh_agent_start "$d" "$d/policy.json" --engine "unix://$d/engine.sock" ||
	{ t_notok "keyholed starts"; t_done; }

# The container: ten connections at once, three rounds.
( cg_place "$BASHPID" "default=/docker/$ID" || exit 1
  touch "$d/placed"
  for round in 1 2 3; do
	for i in $(seq 10); do "$CLIENT" "$SOCK" --timeout-ms 15000 app/v >"$d/ctr.$round.$i" 2>&1 & done
	wait
  done ) &
ctr=$!
t_wait_for "[ -e '$d/placed' ]" 10
sleep 0.2
out=$("$ABUSE" "$SOCK" --hostile 0 --count 200 --name app/v --expect app-value --pace 10 2>&1)
rc=$?
sed 's/^/# host while the engine hangs: /' <<<"$out"
t_eq "a root host fetch is served while the engine hangs" "$rc" 0
wait "$ctr"
t_run "the container was answered (it waited, then failed closed)" \
	grep -q "DENIED name=app/v" "$d/ctr.1.1"
sed 's/^/# container: /' "$d/ctr.1.1" | head -3
t_run "none of its connections got the secret" sh -c "! grep -l 'SECRET' '$d'/ctr.*"
t_run "the denial names the engine" grep -q "engine" "$d/ctr.1.1"
t_done
