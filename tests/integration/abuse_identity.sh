#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One identity cannot starve the others (issue: hostile callers, 1). uid
# 65534, granted nothing, opens as many idle and WATCH connections as it
# can; root on the host and a granted container must still be served, and
# the WATCHes of an identity with no grant are refused. The agent's global
# cap is lowered to 256 so the attack is quick; defaults scale with it.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole ABUSE=$KH_BUILD/tools/abuse HOG=$KH_BUILD/tools/hog
for b in "$KH" "$ABUSE" "$HOG"; do [ -x "$b" ] || t_skip "$b not built"; done
t_need_root
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-cgroup.sh"
cg_hierarchies || t_skip "no cgroup hierarchies mounted"

d=$(t_tmpdir)
chmod 0755 "$d"
SOCK=$d/agent.sock
ID=$(cg_fake_id victim)
kh_store_new "$d" && kh_put "$d" app/v app-value || { t_notok "store setup"; t_done; }
cat >"$d/policy.json" <<JSON
{ "version": 1, "rules": [
  { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
    "grant": [ { "secret": "app/v", "file": "v" } ] },
  { "name": "host-1000", "match": { "runtime": "host", "uid": 1000 },
    "grant": [ { "secret": "app/v", "file": "v" } ] },
  { "name": "the-container", "match": { "runtime": "docker", "container_id": "$ID" },
    "grant": [ { "secret": "app/v", "file": "v" } ] } ] }
JSON
kh_agent_start "$d" "$d/policy.json" --max-conns 256 --rate-limit 0 || { t_notok "keyholed starts"; t_done; }
apid=$(kh_agent_pid "$d")

# WATCH from an identity with no grant at all is refused at once.
out=$("$HOG" "$SOCK" --uid 65534 --n 5 --mode watch --name app/v --hold-s 0)
echo "# $out"
t_run "WATCH with no grant is refused ($out)" grep -q "opened 0, refused 5 (first refusal: ERROR 4 " <<<"$out"

# An ask-all request granted nothing leaves one deny line naming each rule.
setpriv --reuid 65534 --regid 65534 --clear-groups "$KH_BUILD/tools/khclient" "$SOCK" >/dev/null 2>&1
t_run "an ask-all granted nothing is audited, with each rule's verdict" \
	grep -q '"uid":65534,.*"decision":"deny","reason":"nothing granted (rule host-root: ' "$d/audit.log"

# The hog: idle connections (held until the 5 s read deadline) and watches.
"$HOG" "$SOCK" --uid 65534 --n 400 --mode idle --hold-s 30 >"$d/hog1" &
h1=$!
"$HOG" "$SOCK" --uid 65534 --n 400 --mode watch --name app/v --hold-s 30 >"$d/hog2" &
h2=$!
t_wait_for "[ -s '$d/hog1' ] && [ -s '$d/hog2' ]" 20
sed 's/^/# /' "$d/hog1" "$d/hog2"
t_run "uid 65534 could not take the whole budget" \
	test "$(sed -n 's/hog: opened \([0-9]*\),.*/\1/p' "$d/hog1")" -lt 256

out=$("$ABUSE" "$SOCK" --hostile 0 --count 50 --name app/v --expect app-value --pace 5 2>&1); rc=$?
sed 's/^/# root: /' <<<"$out"
t_eq "a root host fetch succeeds while uid 65534 holds its maximum" "$rc" 0

( cg_place "$BASHPID" "default=/docker/$ID" &&
  exec "$ABUSE" "$SOCK" --hostile 0 --count 50 --name app/v --expect app-value --pace 5 ) >"$d/ctr" 2>&1
rc=$?
sed 's/^/# container: /' "$d/ctr"
t_eq "a granted container fetch succeeds while uid 65534 holds its maximum" "$rc" 0
kill "$h1" "$h2"; wait "$h1" "$h2" 2>/dev/null

# A granted identity is capped too: at most max-conns/16 = 16 watchers.
out=$("$HOG" "$SOCK" --uid 1000 --n 40 --mode watch --name app/v --hold-s 0)
echo "# $out"
t_run "a granted uid holds at most 16 watchers" grep -q "opened 16, refused 24 (first refusal: ERROR 5 too many watchers" <<<"$out"
t_run "agent survived" kill -0 "$apid"
t_done
