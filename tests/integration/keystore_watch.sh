#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyholed watches its store's directory but re-reads the store only for
# events naming the store file: files written next to it (another
# program's config, a backup copy, names that merely start or end like the
# store's) do not make it reload. Observable without timing: the store is
# first truncated in place by path (truncate(2) raises none of the watched
# events; truncate(1) opens the file, which does), so any re-read fails and keyholed reports "store reload failed"
# (log, audit, `keyhole status`). Two `keyhole status` round trips after
# the writes mean the agent has handled every inotify event queued before
# them. Control: a write to the store itself is re-read and reported.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
for b in "$KHD_BIN" "$KH_BIN"; do [ -x "$b" ] || t_skip "$b not built"; done
command -v python3 >/dev/null || t_skip "python3 needed to read keyhole status --json"

d=$(t_tmpdir)
kh_store_new "$d" || { t_notok "keyhole init"; t_done; }
kh_put "$d" w/a "alpha-1"
kh_policy_host_uid0 "$d/p.json" w/a
t_run "agent starts" kh_agent_start "$d" "$d/p.json"
store_error() { kh "$d" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["store_error"])'; }
t_eq "store healthy at start" "$(store_error)" "None"

cp "$d/store.json" "$d/good.copy"
python3 -c 'import os, sys; os.truncate(sys.argv[1], 0)' "$d/store.json"
for f in other.conf store.json.bak xstore.json store.json~ store.jso; do
	echo x >"$d/$f"
done
mv "$d/other.conf" "$d/other.conf.old"
rm -f "$d/store.json.bak"
kh "$d" status >/dev/null && kh "$d" status >/dev/null
t_eq "other files next to the store: not re-read (status)" "$(store_error)" "None"
t_fails "... nor logged as a failed reload" grep -q "store reload failed" "$d/keyholed.log"

# control: the store's own name is re-read (and found empty)
: >>"$d/store.json"
t_run "a write to the store itself is re-read" \
	t_wait_for "grep -q 'store reload failed' '$d/keyholed.log'" 10
t_run "... and audited" grep -q "store reload failed" "$d/audit.log"
t_fails "... and shown by status" test "$(store_error)" = None
cp "$d/good.copy" "$d/store.json.new" && mv "$d/store.json.new" "$d/store.json"
t_run "store replaced by rename: readable again" \
	t_wait_for "grep -q 'store readable again' '$d/keyholed.log'" 10
t_eq "status healthy again" "$(store_error)" "None"
t_done
