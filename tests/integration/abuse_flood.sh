#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-identity limits (docs/threat-model.md T6, docs/agent.md): one identity
# (uid 65534) sends valid requests back-to-back as fast as it can; it must be
# rate-limited (some ERROR BUSY replies) while another identity (uid 0)
# fetching at a normal pace is never refused. Latencies are printed only.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole AG=$KH_BUILD/keyholed ABUSE=$KH_BUILD/tools/abuse
for b in "$KH" "$AG" "$ABUSE"; do [ -x "$b" ] || t_skip "$b not built"; done
t_need_root
FLOOD=${FLOOD_N:-5000}
[ -n "${STRESS:-}" ] && FLOOD=${FLOOD_N:-50000}

. "$KH_ROOT/tests/lib-agent.sh"
d=$(t_tmpdir)
chmod 0755 "$d"
SOCK=$d/agent.sock
kh_store_new "$d" && kh_put "$d" flood/v flood-value || { t_notok "store setup"; t_done; }
cat >"$d/policy.json" <<'JSON'
{ "version": 1, "rules": [
  { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
    "grant": [ { "secret": "flood/v", "file": "v" } ] },
  { "name": "host-nobody", "match": { "runtime": "host", "uid": 65534 },
    "grant": [ { "secret": "flood/v", "file": "v" } ] } ] }
JSON
# Documented defaults (docs/agent.md): 100 new connections/s per identity,
# burst 200.
kh_agent_start "$d" "$d/policy.json" || { t_notok "keyholed starts"; t_done; }
apid=$(kh_agent_pid "$d")
t_run "agent up" t_wait_for \
	"'$ABUSE' '$SOCK' --hostile 0 --name flood/v --expect flood-value >/dev/null" 10

# uid 0 fetches every 20 ms (50/s), well inside its own 100/s.
out=$("$ABUSE" "$SOCK" --flood --hostile "$FLOOD" --uid 65534 --name flood/v \
	--expect flood-value --pace 20 2>&1); rc=$?
sed 's/^/# /' <<<"$out"
t_eq "uid 0 never refused nor starved while uid 65534 floods" "$rc" 0
busy=$(sed -n 's/^flood:.* busy \([0-9]*\),.*/\1/p' <<<"$out")
served=$(sed -n 's/^flood:.* served \([0-9]*\),.*/\1/p' <<<"$out")
t_run "the flooding identity was rate-limited (busy ${busy:-?} of $FLOOD)" test "${busy:-0}" -gt 0
t_run "the flooding identity was still served some (${served:-?})" test "${served:-0}" -gt 0
t_run "agent survived" kill -0 "$apid"
t_done
