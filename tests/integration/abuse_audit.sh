#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Refusals cannot flood the audit log into a denial for everyone (issue:
# hostile callers, 3). Two processes of uid 65534 (no grant) flood the
# socket for 10 s, the audit log on a 16 MB filesystem. Refusals are
# aggregated per identity and window: the flood adds under 1 MB, root is
# served during and after it, and a summary line carries the count. The
# log is reopened on SIGUSR1 (logrotate), and low free space is reported.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole ABUSE=$KH_BUILD/tools/abuse
for b in "$KH" "$ABUSE"; do [ -x "$b" ] || t_skip "$b not built"; done
t_need_root
. "$KH_ROOT/tests/lib-agent.sh"

d=$(t_tmpdir)
chmod 0755 "$d"
SOCK=$d/agent.sock
mkdir "$d/log" && mount -t tmpfs -o size=16m,mode=0700 keyhole-audit "$d/log" ||
	t_skip "cannot mount a tmpfs"
kh_store_new "$d" && kh_put "$d" app/v app-value || { t_notok "store setup"; t_done; }
kh_policy_host_uid0 "$d/policy.json" app/v
rm -f "$d/audit.log"
kh_agent_start "$d" "$d/policy.json" --audit-log "$d/log/audit.log" ||
	{ t_notok "keyholed starts"; t_done; }
apid=$(kh_agent_pid "$d")

fl=()
for i in 1 2; do
	timeout 10 "$ABUSE" "$SOCK" --flood --hostile 100000000 --uid 65534 --name app/v \
		--pace 10000 >/dev/null 2>&1 &
	fl+=($!)
done
# Root fetches every 20 ms for 8 s while they flood.
out=$("$ABUSE" "$SOCK" --hostile 0 --count 400 --name app/v --expect app-value --pace 20 2>&1)
rc=$?
sed 's/^/# root during the flood: /' <<<"$out"
t_eq "root is served during the flood" "$rc" 0
wait "${fl[@]}"
size=$(stat -c %s "$d/log/audit.log")
lines=$(wc -l <"$d/log/audit.log")
echo "# audit after a 10 s flood: $lines lines, $size bytes"
t_run "a 10 s flood adds under 1 MB of audit ($size bytes)" test "$size" -lt 1000000
t_eq "root is served after the flood" \
	"$("$ABUSE" "$SOCK" --hostile 0 --count 5 --name app/v --expect app-value >/dev/null 2>&1; echo $?)" 0
t_run "the refused identity's count is written as a summary" t_wait_for \
	"grep -q '\"decision\":\"summary\".*host:uid:65534: [0-9]* refusals' '$d/log/audit.log'" 15

# logrotate: move the file away, SIGUSR1, the next line goes to a new file.
mv "$d/log/audit.log" "$d/log/audit.log.1"
kill -USR1 "$apid"
t_wait_for "grep -q 'audit log reopened' '$d/keyholed.log'" 5
"$ABUSE" "$SOCK" --hostile 0 --count 1 --name app/v --expect app-value >/dev/null 2>&1
t_run "after SIGUSR1 the agent writes to a new file" t_wait_for \
	"grep -q '\"decision\":\"release\"' '$d/log/audit.log'" 5

# Low free space: fill the filesystem, then the agent says so.
head -c 15000000 /dev/zero >"$d/log/fill" 2>/dev/null
kh_agent_restart "$d"
t_run "low free space under the audit log is logged" t_wait_for \
	"grep -q 'audit log: only' '$d/keyholed.log'" 5
t_run "and shown by status" t_wait_for \
	"kh '$d' status --json | tr -d ' \n' | grep -q '\"audit_space_low\":true'" 5
t_done
