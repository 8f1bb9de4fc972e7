#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyhole-shim with a real keyholed (tests/lib-agent.sh), the shim running on
# the host as root (runtime "host", uid 0): fetch, denial message and exit
# code with the app not started, --watch rotation visible to the app with
# its SIGHUP, and a reconnect after the agent restarts.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim APP=$KH_BUILD/static/shim_app
for b in "$SHIM" "$APP" "$KHD_BIN" "$KH_BIN"; do [ -x "$b" ] || t_skip "$b not built"; done

T=$(t_tmpdir)
mkdir "$T/d"
kh_store_new "$T" || t_skip "keyhole init failed"
kh_put "$T" db/password "first-pw"
kh_put "$T" api/token "tok-1"
kh_put "$T" not/granted "nope"
kh_policy_host_uid0 "$T/policy.json" db/password api/token
kh_agent_start "$T" "$T/policy.json" || { t_notok "keyholed starts"; t_done; }
SOCK=$T/agent.sock

NS=(unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d")
shim() { "${NS[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" "$@"; }

out=$(shim --secret db/password --secret api/token -- sh -c \
	'cat "$KEYHOLE_DIR/db_password"; echo; cat "$KEYHOLE_DIR/api_token"' 2>&1); rc=$?
t_eq "real agent: fetch exits 0" "$rc" 0
t_eq "real agent: both values in their files" "$(tr '\n' ' ' <<<"$out")" "first-pw tok-1 "
t_eq "real agent: everything granted when no --secret" \
	"$(shim -- sh -c 'ls "$KEYHOLE_DIR"' 2>&1 | tr '\n' ' ')" "api_token db_password "

rm -f "$T/started"
err=$(shim --secret db/password --secret not/granted -- touch "$T/started" 2>&1); rc=$?
t_eq "real agent: denial exits 101" "$rc" 101
t_eq "real agent: denial names the secret with a reason" \
	"$(grep -c 'secret not/granted denied: .' <<<"$err")" 1
t_eq "real agent: app not started on denial" "$([ -e "$T/started" ] && echo yes || echo no)" no
t_eq "real agent: no value on stderr" "$(grep -c -e first-pw -e nope <<<"$err")" 0

# --watch: rotation reaches the app, then the agent restarts.
"${NS[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" --watch --on-rotate HUP --secret db/password -- \
	"$APP" sig "$T/o" db_password 2>"$T/shim.err" & SPID=$!
t_cleanup "kill -KILL $SPID"
t_wait_for "grep -q ready '$T/o' 2>/dev/null" 10 || t_notok "watched app started"
kh_rotate "$T" db/password "second-pw"
t_wait_for "grep -qx 'HUP second-pw' '$T/o'" 10
t_eq "real agent: rotation visible to the app at its SIGHUP" "$(grep '^HUP' "$T/o" | tail -1)" "HUP second-pw"
kh_agent_stop "$T"
kh_rotate "$T" db/password "third-pw" # store only: the agent is down
kh_agent_start "$T" "$T/policy.json" || t_notok "keyholed restarts"
t_wait_for "grep -qx 'HUP third-pw' '$T/o'" 20
t_eq "real agent: after restart the shim reconnected and applied the change" \
	"$(grep '^HUP' "$T/o" | tail -1)" "HUP third-pw"
kill -TERM "$SPID"; wait "$SPID"; rc=$?
t_eq "real agent: watched shim exits with the app's status" "$rc" 143
t_done
