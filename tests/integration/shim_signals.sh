#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyhole-shim's signal duties (tini's): a SIGTERM that arrives while the
# shim, as PID 1 of a pid namespace, still waits for a hung agent ends it at
# once (exit 143, app never started, nothing in the directory); every
# signal is forwarded (SIGRTMIN+3, systemd's STOPSIGNAL, and SIGPWR
# included); --on-rotate restart escalates to SIGKILL after --stop-timeout
# and starts the new app only once the old one is gone; --watch without
# --on-rotate swaps the files and sends nothing, so a plain `sleep` app
# survives a rotation.
. "$(dirname "$0")/../lib.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim FAKE=$KH_BUILD/tools/shim_fakeagent APP=$KH_BUILD/static/shim_app
for b in "$SHIM" "$FAKE" "$APP"; do [ -x "$b" ] || t_skip "$b not built"; done
unshare -p -f --mount-proc true 2>/dev/null || t_skip "cannot unshare a pid namespace"

T=$(t_tmpdir)
mkdir "$T/d"
SOCK=$T/agent.sock
FAKE_PID=
fake_start() { # SCRIPT
	[ -n "$FAKE_PID" ] && { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
	rm -f "$SOCK"
	: >"$T/req.log"
	"$FAKE" "$SOCK" "$1" "$T/req.log" & FAKE_PID=$!
	t_cleanup "kill $FAKE_PID"
	t_wait_for "[ -S '$SOCK' ]" 5
}
# pid1 SHIMARGS... -- APP...: the shim as PID 1 of a new pid and mount
# namespace with a tmpfs on $T/d. Sets UPID (unshare) and SPID (the shim).
pid1() {
	unshare -p -f -m --mount-proc -- sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d" \
		"$SHIM" --socket "$SOCK" --dir "$T/d" "$@" 2>>"$T/shim.err" & UPID=$!
	t_cleanup "kill -KILL $UPID"
	t_wait_for "pgrep -P $UPID >/dev/null" 5
	SPID=$(pgrep -P "$UPID")
}
# watch OUT SHIMARGS...: a resident shim (not PID 1) in a private mount ns.
watch() {
	local out=$1; shift
	rm -f "$out"
	unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d" \
		"$SHIM" --socket "$SOCK" --dir "$T/d" --watch "$@" 2>"$T/watch.err" & SPID=$!
	t_cleanup "kill -KILL $SPID"
}
seen() { cat "/proc/$SPID/root$T/d/$1" 2>/dev/null || echo "<absent>"; }
ms_now() { date +%s%3N; }

# 1. SIGTERM during a hung fetch, as PID 1: the agent reads the request and
# never answers.
printf 'hold\n' >"$T/hung"
fake_start "$T/hung"
rm -f "$T/started"
pid1 --timeout 30 -- sh -c "touch '$T/started'"
t_wait_for "grep -q '^conn 1' '$T/req.log'" 5 || t_notok "shim did not send its request"
t_eq "hung fetch: the shim is PID 1 inside" "$(awk '/^NSpid:/{print $3}' /proc/"$SPID"/status)" 1
ls -A "/proc/$SPID/root$T/d" >"$T/before" 2>&1
t0=$(ms_now)
kill -TERM "$SPID"
wait "$UPID"; rc=$?
el=$(($(ms_now) - t0))
echo "# SIGTERM during a hung fetch -> shim gone in ${el} ms"
t_eq "hung fetch: SIGTERM ends the shim with 128+15" "$rc" 143
if [ "$el" -lt 3000 ]; then t_ok "hung fetch: ended within 3 s (${el} ms)"
else t_notok "hung fetch: ended within 3 s (${el} ms)"; fi
t_eq "hung fetch: the app never started" "$([ -e "$T/started" ] && echo yes || echo no)" no
t_eq "hung fetch: nothing was in the directory" "$(wc -l <"$T/before")" 0
for s in INT QUIT; do
	: >"$T/req.log"
	pid1 --timeout 30 -- sh -c "touch '$T/started'"
	t_wait_for "grep -q '^conn' '$T/req.log'" 5
	kill -"$s" "$SPID"; wait "$UPID"; rc=$?
	t_eq "hung fetch: SIG$s ends the shim with 128+$(kill -l "$s")" "$rc" $((128 + $(kill -l "$s")))
done
t_eq "hung fetch: no app ever started" "$([ -e "$T/started" ] && echo yes || echo no)" no

# 2. Every signal reaches the app: SIGRTMIN+3 (systemd images' STOPSIGNAL),
# SIGPWR, SIGTSTP/SIGCONT, SIGALRM, SIGUSR1.
printf 'secret db db 0400 1 v1\nend\nhold\n' >"$T/one"
fake_start "$T/one"
pid1 -- "$APP" sig "$T/sig.out"
t_wait_for "grep -q ready '$T/sig.out' 2>/dev/null" 5 || t_notok "app did not start"
rt3=$(kill -l RTMIN+3)
# One at a time: a SIGCONT generated while the forwarded SIGTSTP is still
# pending discards it (signal(7)), so each waits for the app to record it.
set -- RTMIN+3 "SIG$rt3" PWR PWR TSTP "SIG$(kill -l TSTP)" CONT "SIG$(kill -l CONT)" \
	ALRM "SIG$(kill -l ALRM)" USR1 USR1
while [ $# -ge 2 ]; do
	s=$1 want=$2; shift 2
	kill -s "$s" "$SPID"
	t_wait_for "grep -qx '$want' '$T/sig.out'" 3
	t_eq "signal $want forwarded to the app" "$(grep -cx "$want" "$T/sig.out")" 1
done
kill -TERM "$SPID"; wait "$UPID"; rc=$?
t_eq "forwarding: SIGTERM ends the app, shim exits 143" "$rc" 143

# 3. --on-rotate restart with an app that ignores SIGTERM: SIGKILL after
# --stop-timeout, the new app starts only after the old one is gone.
printf 'secret db db 0400 1 r1\nend\nwaitfile %s/go1\nsecret db db 0400 2 r2\nend\nhold\n' "$T" >"$T/rs"
fake_start "$T/rs"
watch "$T/o3" --on-rotate restart --stop-timeout 1 -- "$APP" stubborn "$T/o3"
t_wait_for "grep -q ready '$T/o3' 2>/dev/null" 5 || t_notok "stubborn app started"
first=$(pgrep -P "$SPID")
t0=$(ms_now)
touch "$T/go1"
t_wait_for "[ \"\$(grep -cx ready '$T/o3')\" -eq 2 ]" 10
el=$(($(ms_now) - t0))
second=$(pgrep -P "$SPID")
echo "# restart with an app ignoring SIGTERM, --stop-timeout 1: new app after ${el} ms"
t_eq "restart: the stubborn app was replaced" \
	"$([ -n "$second" ] && [ -n "$first" ] && [ "$first" != "$second" ] && echo new)" new
t_eq "restart: the old app is gone (killed)" "$([ -n "$first" ] && ! kill -0 "$first" 2>/dev/null && echo gone)" gone
t_eq "restart: only one app at a time" "$(pgrep -P "$SPID" | wc -l)" 1
t_eq "restart: the new app reads the new value" "$(seen db)" r2
if [ "$el" -ge 900 ]; then t_ok "restart: SIGKILL waited for --stop-timeout (${el} ms)"
else t_notok "restart: SIGKILL waited for --stop-timeout (${el} ms)"; fi
grep -q 'SIGKILL' "$T/watch.err" && t_ok "restart: the escalation is logged" ||
	t_notok "restart: the escalation is logged ($(cat "$T/watch.err"))"
kill -KILL "$second"; wait "$SPID"; rc=$?
t_eq "restart: the shim exits with the app's status (137)" "$rc" 137

# 4. --watch without --on-rotate: files swapped, nothing sent; `sleep` lives.
printf 'secret db db 0400 1 s1\nend\nwaitfile %s/go2\nsecret db db 0400 2 s2\nend\nhold\n' "$T" >"$T/sl"
fake_start "$T/sl"
watch "$T/o4" -- sleep 1000
t_wait_for "[ \"\$(cat /proc/$SPID/root$T/d/db 2>/dev/null)\" = s1 ]" 5
t_eq "no --on-rotate: one line says rotations send nothing" \
	"$(grep -c 'no --on-rotate' "$T/watch.err")" 1
sl=$(pgrep -P "$SPID")
touch "$T/go2"
t_wait_for "[ \"\$(cat /proc/$SPID/root$T/d/db 2>/dev/null)\" = s2 ]" 10
sleep 0.3
t_eq "no --on-rotate: file rotated" "$(seen db)" s2
t_eq "no --on-rotate: the sleep app is still running" \
	"$(kill -0 "$sl" 2>/dev/null && kill -0 "$SPID" 2>/dev/null && echo alive || echo dead)" alive
kill -TERM "$SPID"; wait "$SPID"; rc=$?
t_eq "no --on-rotate: SIGTERM still forwarded (143)" "$rc" 143
t_done
