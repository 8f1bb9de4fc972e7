#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyhole-shim as PID 1 of a new pid namespace (unshare -p -f --mount-proc):
# it stays resident even without --watch, forwards SIGHUP/INT/QUIT/USR1/USR2/
# WINCH/TERM to the app, reaps orphaned zombies, and exits with the app's
# status (N, or 128+signal). The scripted agent grants nothing and nothing
# is required: with --allow-none the app starts with an empty secrets dir.
. "$(dirname "$0")/../lib.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim FAKE=$KH_BUILD/tools/shim_fakeagent APP=$KH_BUILD/static/shim_app
for b in "$SHIM" "$FAKE" "$APP"; do [ -x "$b" ] || t_skip "$b not built"; done
unshare -p -f --mount-proc true 2>/dev/null || t_skip "cannot unshare a pid namespace"

T=$(t_tmpdir)
mkdir "$T/d"
SOCK=$T/agent.sock
echo end >"$T/none"
"$FAKE" "$SOCK" "$T/none" "$T/req.log" & FAKE_PID=$!
t_cleanup "kill $FAKE_PID"
t_wait_for "[ -S '$SOCK' ]" 5

# pid1 OUT APPARGS...: start in the background; sets UPID (unshare) and SPID
# (the shim, PID 1 inside, as seen from here).
pid1() {
	unshare -p -f -m --mount-proc -- sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d" \
		"$SHIM" --socket "$SOCK" --dir "$T/d" --allow-none -- "$APP" "$@" & UPID=$!
	t_cleanup "kill -KILL $UPID"
	t_wait_for "pgrep -P $UPID >/dev/null" 5
	SPID=$(pgrep -P "$UPID")
}

pid1 sig "$T/sig.out"
t_wait_for "grep -q ready '$T/sig.out' 2>/dev/null" 5 || t_notok "app did not start"
t_eq "shim is PID 1 inside" "$(awk '/^NSpid:/{print $3}' /proc/"$SPID"/status)" 1
t_eq "the app is the shim's child" "$(basename "$(readlink /proc/"$(pgrep -P "$SPID")"/exe)")" shim_app
for s in HUP INT QUIT USR1 USR2 WINCH; do
	kill -"$s" "$SPID"
	t_wait_for "grep -qx $s '$T/sig.out'" 5
	t_eq "SIG$s forwarded to the app" "$(grep -cx "$s" "$T/sig.out")" 1
done
kill -TERM "$SPID"
wait "$UPID"; rc=$?
t_eq "SIGTERM forwarded; shim exits 128+15 like the app" "$rc" 143
t_eq "app saw TERM" "$(tail -1 "$T/sig.out")" TERM

# Zombies: the app orphans 20 grandchildren; PID 1 must reap them.
pid1 zombies 20 "$T/z.out"
t_wait_for "grep -q ready '$T/z.out' 2>/dev/null" 5
t_wait_for "[ \"\$(pgrep -P $SPID | wc -l)\" -eq 1 ]" 5
APID=$(pgrep -P "$SPID")
t_eq "orphans reaped: one child left, the app" \
	"$(wc -l <<<"$APID")/$(basename "$(readlink /proc/"$APID"/exe)")" "1/shim_app"
t_eq "no zombies in the namespace" "$(ps -o stat= --ppid "$SPID" | grep -c Z)" 0
kill -KILL "$APID"
wait "$UPID"; rc=$?
t_eq "app killed by SIGKILL: shim exits 137" "$rc" 137

pid1 exit 7
wait "$UPID"; rc=$?
t_eq "app's exit status passes through" "$rc" 7

# --watch without being PID 1: the shim is a child subreaper, so the app's
# orphans are still its to reap.
unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d" \
	"$SHIM" --socket "$SOCK" --dir "$T/d" --allow-none --watch -- "$APP" zombies 10 "$T/w.out" 3000 \
	2>/dev/null & WPID=$!
t_cleanup "kill -KILL $WPID"
t_wait_for "grep -q ready '$T/w.out' 2>/dev/null" 5
t_eq "--watch, not PID 1: the orphans (alive 3 s) are the shim's children" \
	"$(pgrep -P "$WPID" | wc -l)" 11
t_eq "--watch, not PID 1: orphans came to the shim and were reaped" \
	"$(t_wait_for "[ \"\$(pgrep -P $WPID | wc -l)\" -eq 1 ]" 10 && echo yes)/$(ps -o stat= --ppid "$WPID" | grep -c Z)" "yes/0"
kill -TERM "$WPID"; wait "$WPID"
t_done
