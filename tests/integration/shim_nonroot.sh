#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the app can take from keyhole-shim, and the non-root flow:
# - a shim started as the app's uid (docker run --user 1000:1000) works:
#   with --user equal to its own ids it skips the drop; --user naming another
#   uid is a usage error (100) that says what to do; in --watch it still
#   rewrites the files on a tmpfs owned by that uid;
# - the app's uid cannot open the shim's /proc/PID/mem (PR_SET_DUMPABLE 0);
# - a watching shim holds no value in its memory between rotations (root
#   scans /proc/PID/mem with tests/tools/memscan.c).
. "$(dirname "$0")/../lib.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim FAKE=$KH_BUILD/tools/shim_fakeagent APP=$KH_BUILD/static/shim_app
SCAN=$KH_BUILD/tools/memscan
for b in "$SHIM" "$FAKE" "$APP" "$SCAN"; do [ -x "$b" ] || t_skip "$b not built"; done
command -v setpriv >/dev/null || t_skip "setpriv missing"

T=$(t_tmpdir)
mkdir "$T/d" "$T/out"
chmod 0711 "$T"
chmod 0777 "$T/out" # the apps (uid 1000) write their logs here
O=$T/out
SOCK=$T/agent.sock
FAKE_PID=
fake_start() { # SCRIPT
	[ -n "$FAKE_PID" ] && { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
	rm -f "$SOCK"
	: >"$T/req.log"
	"$FAKE" "$SOCK" "$1" "$T/req.log" & FAKE_PID=$!
	t_cleanup "kill $FAKE_PID"
	t_wait_for "[ -S '$SOCK' ]" 5
	chmod 0666 "$SOCK"
}
AS1000=(setpriv --reuid=1000 --regid=1000 --clear-groups --)
# as_user OUT SHIMARGS...: the shim started as uid/gid 1000 (what
# `docker run --user 1000:1000` does), in a private mount namespace with a
# tmpfs owned by 1000 on $T/d. Sets SPID.
as_user() {
	local out=$1; shift
	rm -f "$out"
	unshare -m -- sh -c 'mount -t tmpfs -o mode=0700,uid=1000,gid=1000 tmpfs "$0" && exec "$@"' \
		"$T/d" "${AS1000[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" "$@" 2>"$T/err" & SPID=$!
	t_cleanup "kill -KILL $SPID"
}
seen() { cat "/proc/$SPID/root$T/d/$1" 2>/dev/null || echo "<absent>"; }

printf 'secret db db 0400 1 n1\nend\nwaitfile %s/go1\nsecret db db 0400 2 n2\nend\nhold\n' "$T" >"$T/rot"

# 1. Non-root flow: shim as 1000:1000 with --user 1000:1000, --watch.
fake_start "$T/rot"
as_user "$O/o1" --user 1000:1000 --watch --on-rotate HUP -- "$APP" sig "$O/o1" db
t_wait_for "grep -q ready '$O/o1' 2>/dev/null" 5 || t_notok "non-root: app started ($(cat "$T/err"))"
t_eq "non-root: the shim runs as 1000" "$(awk '/^Uid:/{print $2}' /proc/"$SPID"/status)" 1000
t_eq "non-root: the file is the app's (1000:1000 0400)" \
	"$(stat -L -c '%u:%g %a' "/proc/$SPID/root$T/d/db" 2>&1)" "1000:1000 400"
touch "$T/go1"
t_wait_for "grep -qx 'HUP n2' '$O/o1'" 10
t_eq "non-root: --watch rewrote the file and the app read it at its HUP" "$(tail -1 "$O/o1")" "HUP n2"
t_eq "non-root: ..data swapped to the new version" "$(readlink "/proc/$SPID/root$T/d/..data")" "..v2"
kill -TERM "$SPID"; wait "$SPID"; rc=$?
t_eq "non-root: shim exits with the app's status (143)" "$rc" 143

# 2. The app's uid cannot open the shim's memory (PR_SET_DUMPABLE 0): the
# shim runs as the app's uid (no --user), as `require.root: false` forces.
fake_start "$T/rot"
as_user "$O/o2" --watch -- "$APP" sig "$O/o2"
t_wait_for "grep -q ready '$O/o2' 2>/dev/null" 5 || t_notok "non-root, no --user: app started ($(cat "$T/err"))"
t_fails "non-root: uid 1000 cannot open /proc/<shim>/mem" \
	"${AS1000[@]}" sh -c "exec 3</proc/$SPID/mem" 2>/dev/null
t_fails "non-root: uid 1000 cannot read /proc/<shim>/environ" \
	"${AS1000[@]}" sh -c "cat /proc/$SPID/environ >/dev/null" 2>/dev/null
t_run "control: uid 1000 can open its app's /proc/PID/mem" \
	"${AS1000[@]}" sh -c "exec 3</proc/$(pgrep -P "$SPID")/mem"
kill -TERM "$SPID"; wait "$SPID"

# 3. Shim as 1000 with --user naming another uid: usage error saying what to do.
fake_start "$T/rot"
rm -f "$T/started"
as_user "$O/o3" --user 2000 -- touch "$T/started"
wait "$SPID"; rc=$?
t_eq "non-root, --user 2000: exit 100" "$rc" 100
t_run "non-root, --user 2000: the error says what to do" \
	grep -q 'runs as uid 1000.*--user 2000' "$T/err"
t_eq "non-root, --user 2000: app not started" "$([ -e "$T/started" ] && echo yes || echo no)" no
t_eq "non-root, --user 2000: nothing asked of the agent" "$(grep -c . "$T/req.log")" 0

# 4. No value in the watching shim's memory between rotations: root shim
# dropping the app to 1000; values are unique random strings.
VA="memscan-A-$RANDOM$RANDOM$RANDOM" VB="memscan-B-$RANDOM$RANDOM$RANDOM" # not $B: exported
printf 'secret db db 0400 1 %s\nend\nwaitfile %s/go3\nsecret db db 0400 2 %s\nend\nwaitfile %s/go4\nsecret db db 0400 3 %s\nend\nhold\n' \
	"$VA" "$T" "$VB" "$T" "$VB" >"$T/mem"
fake_start "$T/mem"
rm -f "$O/o4"
unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d" \
	"$SHIM" --socket "$SOCK" --dir "$T/d" --user 1000 --watch --on-rotate HUP -- \
	"$APP" sig "$O/o4" db 2>"$T/err" & SPID=$!
t_cleanup "kill -KILL $SPID"
t_wait_for "grep -q ready '$O/o4' 2>/dev/null" 5 || t_notok "memscan: app started"
t_eq "memscan: the value was delivered" "$(seen db)" "$VA"
out=$("$SCAN" "$SPID" "$VA"); rc=$?
echo "# after delivery: $(tr '\n' ' ' <<<"$out")"
t_eq "memscan: after delivery the shim holds no value" "$rc" 0
touch "$T/go3"
t_wait_for "grep -qx 'HUP $VB' '$O/o4'" 10
out=$("$SCAN" "$SPID" "$VA" "$VB"); rc=$?
echo "# after a rotation: $(tr '\n' ' ' <<<"$out")"
t_eq "memscan: after a rotation neither old nor new value is held" "$rc" 0
touch "$T/go4" # same value again: compared against the file, no signal
t_wait_for "[ ! -e '$T/go4' ]" 5
sleep 0.3
out=$("$SCAN" "$SPID" "$VA" "$VB"); rc=$?
t_eq "memscan: after an unchanged push nothing is held" "$rc" 0
t_eq "memscan: the unchanged push sent no signal" "$(grep -c '^HUP' "$O/o4")" 1
"$SCAN" "$(pgrep -P "$SPID")" "$VB" >/dev/null; rc=$?
t_eq "memscan control: the scanner does find a value (in the app)" "$rc" 1
kill -TERM "$SPID"; wait "$SPID"
t_done
