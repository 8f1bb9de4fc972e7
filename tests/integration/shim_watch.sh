#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyhole-shim --watch against a scripted agent that pushes batches when the
# test touches a trigger file: a rotation is visible to the app when its
# SIGHUP arrives, --on-rotate USR1 and restart, a revocation removes the
# file, a dropped connection and an agent restart are followed by a
# reconnect and a re-request, and the directory is cleaned when the app
# exits.
. "$(dirname "$0")/../lib.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim FAKE=$KH_BUILD/tools/shim_fakeagent APP=$KH_BUILD/static/shim_app
for b in "$SHIM" "$FAKE" "$APP"; do [ -x "$b" ] || t_skip "$b not built"; done

T=$(t_tmpdir)
mkdir "$T/d" "$T/disk"
SOCK=$T/agent.sock
FAKE_PID=

fake_start() { # SCRIPT
	[ -n "$FAKE_PID" ] && { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
	rm -f "$SOCK"
	"$FAKE" "$SOCK" "$1" "$T/req.log" & FAKE_PID=$!
	t_cleanup "kill $FAKE_PID"
	t_wait_for "[ -S '$SOCK' ]" 5
}
# watch OUT SHIMARGS... -- APPARGS: sets SPID (unshare and sh exec into the shim).
watch() {
	local out=$1; shift
	rm -f "$out"
	unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d" \
		"$SHIM" --socket "$SOCK" --dir "$T/d" --watch "$@" & SPID=$!
	t_cleanup "kill -KILL $SPID"
	t_wait_for "grep -q ready '$out' 2>/dev/null" 5 || t_notok "app did not start"
}
# What the shim's mount namespace sees at $T/d.
seen() { cat "/proc/$SPID/root$T/d/$1" 2>/dev/null || echo "<absent>"; }

cat >"$T/s.1" <<EOF
secret db db 0400 1 v1
secret api api 0400 1 a1
end
waitfile $T/go1
secret db db 0400 2 v2
end
waitfile $T/go2
revoked api api
end
waitfile $T/go3
close
EOF
printf 'secret db db 0400 3 v3\nend\nhold\n' >"$T/s"
: >"$T/req.log"
fake_start "$T/s"

watch "$T/o" --on-rotate HUP -- "$APP" sig "$T/o" db
t_eq "watch flag sent" "$(head -1 "$T/req.log")" "conn 1 flags 1 names "
t_eq "initial value delivered" "$(seen db)/$(seen api)" "v1/a1"
touch "$T/go1"
t_wait_for "grep -qx 'HUP v2' '$T/o'" 10
t_eq "rotation: app got SIGHUP and read the new value" "$(grep -c '^HUP' "$T/o")/$(tail -1 "$T/o")" "1/HUP v2"
t_eq "rotation: ..data points at the new version, old one removed" \
	"$(readlink "/proc/$SPID/root$T/d/..data")/$(ls -A "/proc/$SPID/root$T/d" | grep -c '^\.\.v')" "..v2/1"
touch "$T/go2"
t_wait_for "[ ! -e '/proc/$SPID/root$T/d/api' ]" 10
t_eq "revocation: file removed, the other kept" "$(seen api)/$(seen db)" "<absent>/v2"
touch "$T/go3" # the agent closes the connection
t_wait_for "grep -qx 'HUP v3' '$T/o'" 10
t_eq "dropped connection: reconnected with the watch flag" "$(sed -n 2p "$T/req.log")" "conn 2 flags 1 names "
t_eq "dropped connection: re-requested state applied" "$(seen db)" v3

# Agent restart: a new process on the same socket path, new values.
printf 'secret db db 0400 4 v4\nsecret api api 0400 2 a2\nend\nhold\n' >"$T/s2"
fake_start "$T/s2"
t_wait_for "grep -qx 'HUP v4' '$T/o'" 15
t_eq "agent restart: reconnected, differences applied" "$(seen db)/$(seen api)" "v4/a2"
kill -TERM "$SPID"; wait "$SPID"; rc=$?
t_eq "SIGTERM: forwarded, shim exits 143" "$rc" 143

# Same state again after a reconnect: no swap, no signal. The third
# connection then brings a real change, so exactly one HUP must be seen,
# carrying the changed value.
printf 'secret db db 0400 1 same\nend\nwaitfile %s/go4\nclose\n' "$T" >"$T/s3.1"
printf 'secret db db 0400 1 same\nend\nwaitfile %s/go4b\nclose\n' "$T" >"$T/s3.2"
printf 'secret db db 0400 2 changed\nend\nhold\n' >"$T/s3"
: >"$T/req.log"
fake_start "$T/s3"
watch "$T/o3" --on-rotate HUP -- "$APP" sig "$T/o3" db
touch "$T/go4"
t_wait_for "[ \"\$(grep -c . '$T/req.log')\" -ge 2 ]" 10
touch "$T/go4b"
t_wait_for "grep -qx 'HUP changed' '$T/o3'" 10
t_eq "unchanged after reconnect: no signal (only the later change signalled)" \
	"$(grep -c '^HUP' "$T/o3")/$(grep '^HUP' "$T/o3" | head -1)" "1/HUP changed"
kill -TERM "$SPID"; wait "$SPID"

# --on-rotate USR1
printf 'secret db db 0400 1 u1\nend\nwaitfile %s/go5\nsecret db db 0400 2 u2\nend\nhold\n' "$T" >"$T/s4"
fake_start "$T/s4"
watch "$T/o4" --on-rotate USR1 -- "$APP" sig "$T/o4" db
touch "$T/go5"
t_wait_for "grep -qx USR1 '$T/o4'" 10
t_eq "--on-rotate USR1: USR1, not HUP" "$(grep -c '^HUP' "$T/o4")/$(grep -cx USR1 "$T/o4")" "0/1"
kill -TERM "$SPID"; wait "$SPID"

# --on-rotate restart: the app gets TERM and a new one starts.
printf 'secret db db 0400 1 r1\nend\nwaitfile %s/go6\nsecret db db 0400 2 r2\nend\nhold\n' "$T" >"$T/s5"
fake_start "$T/s5"
watch "$T/o5" --on-rotate restart -- "$APP" sig "$T/o5" db
first=$(pgrep -P "$SPID")
touch "$T/go6"
t_wait_for "[ \"\$(grep -cx ready '$T/o5')\" -eq 2 ]" 10
second=$(pgrep -P "$SPID")
t_eq "restart: old app got TERM, a new one runs" \
	"$(grep -cx TERM "$T/o5")/$([ -n "$second" ] && [ "$first" != "$second" ] && echo new)" "1/new"
kill -HUP "$SPID"
t_wait_for "grep -qx 'HUP r2' '$T/o5'" 5
t_eq "restart: the new app sees the new value" "$(tail -1 "$T/o5")" "HUP r2"
kill -TERM "$SPID"; wait "$SPID"; rc=$?
t_eq "restart: shim still exits with the app's status" "$rc" 143

# The directory is cleaned when the app exits (a disk dir, to look after).
printf 'secret db db 0400 1 c1\nend\nhold\n' >"$T/s6"
fake_start "$T/s6"
"$SHIM" --socket "$SOCK" --dir "$T/disk" --allow-disk --watch -- sh -c \
	'cat "$KEYHOLE_DIR/db"; exit 3' >"$T/o6"; rc=$?
t_eq "clean: app read its value and its status came back" "$(cat "$T/o6")/$rc" "c1/3"
t_eq "clean: directory empty after the app exited" "$(ls -A "$T/disk" | wc -l)" 0
t_done
