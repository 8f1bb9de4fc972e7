#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyhole doctor: every check fails with a fix line on a broken setup, and
# passes (exit 0) on a working one; --json carries the same verdicts.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
for b in "$KHD_BIN" "$KH_BIN"; do [ -x "$b" ] || t_skip "$b not built"; done

D=$(t_tmpdir); chmod 0755 "$D"
mkdir -m 0700 "$D/state" && mkdir -m 0755 "$D/etc" "$D/log"
export KEYHOLE_CONFIG=$D/etc/keyholed.conf
cat >"$KEYHOLE_CONFIG" <<CONF
policy $D/etc/policy.json
socket $D/run/agent.sock
audit-log $D/log/audit.log
CONF
K() { "$KH_BIN" --store "$D/state/store.json" --key-file "$D/state/agent.key" \
	--admin-socket "$D/admin.sock" "$@"; }
# check NAME: the doctor's verdict for check NAME (ok/FAIL, first line)
verdict() { awk -v c="$1" '$2 == c { print $1; exit }' <<<"$OUT"; }

OUT=$(K doctor 2>&1); rc=$?
t_eq "doctor on an empty host: exit 1" "$rc" 1
t_eq "... store check fails" "$(verdict store)" FAIL
t_run "... with a fix line naming keyhole init" grep -q 'fix: keyhole init' <<<"$OUT"
t_eq "... agent check fails" "$(verdict agent)" FAIL
t_run "... saying how to start it" grep -q 'fix: systemctl start keyholed' <<<"$OUT"

K init >/dev/null
printf v | K put app/db >/dev/null
cat >"$D/etc/policy.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [ { "secret": "app/db" }, { "secret": "app/ghost" } ] } ] }
JSON
chmod 0644 "$D/state/agent.key"
OUT=$(K doctor 2>&1)
t_eq "a group-readable key file: key check fails" "$(verdict key)" FAIL
t_run "... with the chmod to run" grep -q "fix: chown 0 $D/state/agent.key && chmod 0600" <<<"$OUT"
chmod 0400 "$D/state/agent.key"
t_run "a grant of a secret not in the store: named, with keyhole put" \
	grep -q 'fix: keyhole put app/ghost' <<<"$OUT"

printf v | K put app/ghost >/dev/null
"$KHD_BIN" --config "$KEYHOLE_CONFIG" --store "$D/state/store.json" \
	--key-file "$D/state/agent.key" --admin-socket "$D/admin.sock" </dev/null \
	>"$D/keyholed.log" 2>&1 &
t_cleanup "kill -KILL $!"
t_wait_for "[ -S '$D/admin.sock' ] && [ -S '$D/run/agent.sock' ]" 10
OUT=$(K doctor 2>&1); rc=$?
t_eq "doctor on a working setup: exit 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$OUT"
t_run "... reports the agent's version" grep -q "keyholed $(cat "$KH_ROOT/VERSION") running" <<<"$OUT"
t_run "... gives the mount line for containers" grep -qF -- "-v $D/run:$D/run" <<<"$OUT"
t_run "... checks the audit log's free space" grep -q "^ok *audit .*MiB free" <<<"$OUT"
J=$(K doctor --json)
t_run "--json: ok true and one entry per check" \
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["failed"] == 0 and {c["check"] for c in d["checks"]} >= {"dirs","store","key","policy","grants","agent","engine","socket","audit"}' <<<"$J"
rm "$D/etc/policy.json"
J=$(K doctor --json); rc=$?
t_eq "--json with a missing policy: exit 1" "$rc" 1
t_run "--json: the failing check has a fix" \
	python3 -c 'import json,sys; d=json.load(sys.stdin); p=[c for c in d["checks"] if c["check"]=="policy"][0]; assert not p["ok"] and p["fix"]' <<<"$J"
t_done
