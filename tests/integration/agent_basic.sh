#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyholed against a real store, no container engine: host fetch by a
# "runtime: host, uid: 0" rule, denial otherwise (with the reason), malformed
# / oversize / unknown / truncated / wrong-version frames answered with
# ERROR while the agent stays up, audit lines present and value-free, CLI
# status/reload/explain/policy check, refusal to start on a 0644 key file,
# a group-readable store, an invalid policy or one others can write.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done
command -v setpriv >/dev/null || t_skip "setpriv missing"

d=$(t_tmpdir); chmod 0755 "$d"
VAL="v4lue-$$-x9"
kh_store_new "$d" || { t_notok "keyhole init"; t_done; }
kh_put "$d" app/db-pass "$VAL"
kh_put "$d" app/other "other-$VAL"
kh_policy_host_uid0 "$d/p.json" app/db-pass app/missing
t_run "agent starts" kh_agent_start "$d" "$d/p.json"
S=$d/agent.sock

out=$("$KC" "$S" app/db-pass)
t_eq "host uid 0 gets the granted secret" "$(sed -n 1p <<<"$out")" \
	"SECRET name=app/db-pass version=1 file=app_db-pass mode=0400 len=${#VAL} value=$VAL"
t_eq "batch ends with END count=1" "$(sed -n 2p <<<"$out")" "END count=1"
out=$("$KC" "$S")
t_run "empty request = everything granted (1 secret + missing one denied)" \
	grep -q "^SECRET name=app/db-pass" <<<"$out"
t_run "granted but missing from the store -> DENIED not in store" \
	grep -qx "DENIED name=app/missing reason=not in store" <<<"$out"
out=$("$KC" "$S" app/other)
t_run "ungranted secret denied with a reason" \
	grep -q "^DENIED name=app/other reason=no rule grants 'app/other' to host process" <<<"$out"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$KC" "$S" app/db-pass)
t_run "uid 65534 denied, reason names the failing selector" \
	grep -q "rule host-root: uid 65534 is not 0" <<<"$out"

t_run "garbage frame -> ERROR BADMSG" bash -c "'$KC' '$S' --garbage | grep -q '^ERROR code=1'"
t_run "oversize prefix -> ERROR TOOBIG" bash -c "'$KC' '$S' --oversize | grep -q '^ERROR code=3'"
t_run "unknown type -> ERROR BADMSG" bash -c "'$KC' '$S' --type 0x7e | grep -q '^ERROR code=1'"
t_run "agent->shim type sent to agent -> ERROR" bash -c "'$KC' '$S' --type 0x81 | grep -q '^ERROR code=1'"
t_run "version 3 -> ERROR VERSION" bash -c "'$KC' '$S' --version 3 app/db-pass | grep -q '^ERROR code=2'"
t_run "trailing bytes -> ERROR BADMSG" bash -c "'$KC' '$S' --extra app/db-pass | grep -q '^ERROR code=1'"
t_run "truncated frame then EOF -> closed, nothing released" \
	bash -c "'$KC' '$S' --truncated app/db-pass | grep -qx EOF"
t_run "admin frame on the agent socket -> ERROR" \
	bash -c "'$KC' '$S' --admin '{\"cmd\":\"status\"}' | grep -q '^ERROR code=1'"
t_run "agent still serves after abuse" bash -c "'$KC' '$S' app/db-pass | grep -q '^SECRET'"

t_run "audit log has release lines" grep -q '"decision":"release"' "$d/audit.log"
t_run "audit log has deny lines with reasons" grep -q '"decision":"deny".*"reason":"no rule grants' "$d/audit.log"
t_fails "audit log never contains the value" grep -q "$VAL" "$d/audit.log"
t_fails "agent log never contains the value" grep -q "$VAL" "$d/keyholed.log"
t_eq "audit log is 0600" "$(stat -c %a "$d/audit.log")" 600
t_eq "agent socket is 0666" "$(stat -c %a "$S")" 666
t_eq "admin socket is 0600" "$(stat -c %a "$d/admin.sock")" 600
pid=$(kh_agent_pid "$d")
t_eq "agent is not dumpable" "$(stat -c %u /proc/"$pid"/environ)" 0
t_run "agent has no core limit" grep -q '^Max core file size *0 *0' /proc/"$pid"/limits

out=$(kh "$d" status)
t_run "keyhole status shows the policy digest" grep -q "^policy: *sha256:$(sha256sum "$d/p.json" | cut -c1-64)" <<<"$out"
t_run "keyhole status counts secrets" grep -q "^secrets: *2" <<<"$out"
out=$(kh "$d" explain --pid $$)
t_run "explain: host identity" grep -q "runtime *host" <<<"$out"
t_run "explain: rule matched" grep -q "MATCH *host-root: matched" <<<"$out"
t_run "explain: what would be released" grep -q "app/db-pass -> app_db-pass" <<<"$out"
t_run "explain: missing secret flagged" grep -q "app/missing.*not in store" <<<"$out"
t_run "explain --pid of a dead pid fails" bash -c "! '$KH_BIN' --admin-socket '$d/admin.sock' explain --pid 4194000"
t_run "policy check accepts the policy" kh "$d" policy check "$d/p.json"
echo '{"version":1,"rules":[{"name":"x","match":{"imgae":"a"},"grant":[{"secret":"a"}]}]}' >"$d/bad.json"
t_fails "policy check rejects an unknown key" kh "$d" policy check "$d/bad.json"
t_run "reason names the key" bash -c "'$KH_BIN' policy check '$d/bad.json' 2>&1 | grep -q \"unknown key 'imgae'\""
setpriv --reuid 65534 --regid 65534 --clear-groups "$KH_BIN" --admin-socket "$d/admin.sock" status >/dev/null 2>&1
t_run "admin socket refuses non-root" test $? -ne 0

# Refusals at start: one clear line, non-zero exit.
e=$(t_tmpdir)
cp "$d/store.json" "$d/agent.key" "$e/"
chmod 0644 "$e/agent.key"
"$KHD_BIN" --store "$e/store.json" --key-file "$e/agent.key" --policy "$d/p.json" \
	--socket "$e/a.sock" --admin-socket "$e/b.sock" 2>"$e/err" &
p=$!; t_cleanup "kill -KILL $p"
t_wait_for "! kill -0 $p" 5; wait $p; rc=$?
t_run "refuses a 0644 key file (exit $rc)" test "$rc" -ne 0
t_run "... saying why" grep -q "key file .* mode 0644" "$e/err"
chmod 0400 "$e/agent.key"; chmod 0640 "$e/store.json"
"$KHD_BIN" --store "$e/store.json" --key-file "$e/agent.key" --policy "$d/p.json" \
	--socket "$e/a.sock" --admin-socket "$e/b.sock" 2>"$e/err"
t_run "refuses a group-readable store" grep -q "store .* mode 0640" "$e/err"
chmod 0600 "$e/store.json"
"$KHD_BIN" --store "$e/store.json" --key-file "$e/agent.key" --policy "$d/bad.json" \
	--socket "$e/a.sock" --admin-socket "$e/b.sock" 2>"$e/err"
t_run "refuses an invalid policy, with the reason" grep -q "does not validate: .*unknown key 'imgae'" "$e/err"
t_eq "exactly one line" "$(wc -l <"$e/err")" 1
# Whoever can write the policy grants secrets: like a group-readable key,
# a policy group or others can write is refused (at start and on reload).
cp "$d/p.json" "$e/p.json"; chmod 0666 "$e/p.json"
timeout -s KILL 10 "$KHD_BIN" --foreground --store "$e/store.json" --key-file "$e/agent.key" --policy "$e/p.json" \
	--socket "$e/a.sock" --admin-socket "$e/b.sock" 2>"$e/err"
t_run "refuses a policy others can write" grep -q "p.json: writable by group or others (mode 0666)" "$e/err"
chmod 0644 "$d/p.json"; chmod g+w "$d/p.json"
t_fails "reload: refuses a policy group can write" kh "$d" reload
chmod 0644 "$d/p.json"

kh_agent_stop "$d"
t_run "SIGTERM: agent exited and removed its sockets" test ! -e "$S"
t_done
