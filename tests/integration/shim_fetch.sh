#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyhole-shim against a scripted agent (tests/tools/shim_fakeagent.c), so
# hostile replies can be sent too: fetch into a private tmpfs, plain exec
# (nothing left running), values never in env, --user, --secret NAME=FILE,
# fail-closed exit codes (101 denied/missing/nothing granted, 102
# unreachable, 103 disk dir,
# 104 agent error or protocol violation) with the app never started, and the
# retry while the agent is not up yet. Tests with the real keyholed are in
# shim_agent.sh.
. "$(dirname "$0")/../lib.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim FAKE=$KH_BUILD/tools/shim_fakeagent APP=$KH_BUILD/static/shim_app
for b in "$SHIM" "$FAKE" "$APP"; do [ -x "$b" ] || t_skip "$b not built"; done
command -v unshare >/dev/null || t_skip "unshare missing"

T=$(t_tmpdir)
mkdir "$T/d"
chmod 0711 "$T" # the --user app must reach $T/d
SOCK=$T/agent.sock

# fake_start SCRIPT: (re)start the scripted agent with SCRIPT.
fake_start() {
	[ -n "${FAKE_PID:-}" ] && { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
	: >"$T/req.log"
	"$FAKE" "$SOCK" "$1" "$T/req.log" & FAKE_PID=$!
	t_cleanup "kill $FAKE_PID"
	t_wait_for "[ -S '$SOCK' ]" 5
}
# shim ARGS...: the shim in a private mount namespace with a tmpfs on $T/d
# (unshare and sh exec, so "shim ... &" would leave $! = a bash subshell:
# background runs call $NS directly instead).
NS=(unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d")
shim() { "${NS[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" "$@"; }

cat >"$T/ok" <<'EOF'
secret db/password db_password 0440 3 hunter2-value
secret api api_key 0 1 k3y-value
secret other/unasked unasked 0400 1 nope
end
EOF
fake_start "$T/ok"

out=$(shim --secret db/password --secret api=apikey -- sh -c \
	'cat "$KEYHOLE_DIR/db_password"; echo; cat "$KEYHOLE_DIR/apikey"; echo; ls "$KEYHOLE_DIR"' 2>&1)
rc=$?
t_eq "fetch: exit 0" "$rc" 0
t_eq "fetch: values in files, --secret NAME=FILE renames, unasked ignored" \
	"$(tr '\n' ' ' <<<"$out")" "hunter2-value k3y-value apikey db_password "
t_eq "request carried the names, no watch flag" "$(cat "$T/req.log")" \
	"conn 1 flags 0 names db/password,api"

env_out=$(shim -- "$APP" env 2>&1)
t_eq "app env has KEYHOLE_DIR" "$(grep -c "^KEYHOLE_DIR=$T/d\$" <<<"$env_out")" 1
t_eq "no value in the app's environment" "$(grep -c -e hunter2 -e k3y <<<"$env_out")" 0
t_eq "no --secret: request asks for everything" "$(tail -1 "$T/req.log" | cut -d' ' -f3-)" "flags 0 names "

t_eq "--user: ids dropped, no groups, no_new_privs" \
	"$(shim --user 1234:5678 -- "$APP" id 2>&1)" "uid=1234/1234/1234 gid=5678/5678/5678 groups=0 nnp=1"
t_eq "--user: files owned by the app user with the grant's mode (0 -> 0400)" \
	"$(shim --user 1234:5678 -- sh -c 'stat -L -c "%u:%g %a" "$KEYHOLE_DIR/db_password" "$KEYHOLE_DIR/api_key"' | tr '\n' ' ')" \
	"1234:5678 440 1234:5678 400 "

# Plain exec: the shim's pid becomes the app's; nothing else stays running.
"${NS[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" -- "$APP" sig "$T/sig.out" & p=$!
t_cleanup "kill -KILL $p"
t_wait_for "grep -q ready '$T/sig.out' 2>/dev/null" 5
t_eq "plain exec: the shim's pid is the app" "$(basename "$(readlink /proc/$p/exe)")" shim_app
t_eq "plain exec: no child left (no shim process)" "$(pgrep -P $p | wc -l)" 0
kill -TERM $p; wait $p; rc=$?
t_eq "plain exec: app's own status (143) comes back" "$rc" 143

cat >"$T/denied" <<'EOF'
secret api api_key 0400 1 k3y
denied db/password no rule grants db/password to image x
denied extra/opt not granted
end
EOF
fake_start "$T/denied"
rm -f "$T/started"
err=$(shim --secret db/password --secret api --optional extra/opt -- touch "$T/started" 2>&1); rc=$?
t_eq "denied: exit 101" "$rc" 101
t_eq "denied: one line with the agent's reason" \
	"$(grep -c 'secret db/password denied: no rule grants db/password to image x' <<<"$err")" 1
t_eq "denied: app not started" "$([ -e "$T/started" ] && echo yes || echo no)" no
err=$(shim --secret api --optional extra/opt -- touch "$T/started" 2>&1); rc=$?
t_eq "optional denied: app starts anyway" "$rc/$([ -e "$T/started" ] && echo yes)" "0/yes"
rm -f "$T/started"
err=$(shim --secret api --secret never/sent -- touch "$T/started" 2>&1); rc=$?
t_eq "required but absent from the reply: exit 101, app not started" \
	"$rc/$([ -e "$T/started" ] && echo yes || echo no)" "101/no"
t_eq "absent: named on stderr" "$(grep -c 'required secret never/sent not delivered' <<<"$err")" 1

# Nothing asked, nothing granted: fail closed (exit 101) unless --allow-none.
printf 'denied db/password no rule matches this container\nend\n' >"$T/none"
fake_start "$T/none"
rm -f "$T/started"
err=$(shim -- touch "$T/started" 2>&1); rc=$?
t_eq "nothing granted: exit 101, app not started" \
	"$rc/$([ -e "$T/started" ] && echo yes || echo no)" "101/no"
t_eq "nothing granted: says so and how to find out why" \
	"$(grep -c 'no secret granted to this container (see: keyhole explain --container ID)' <<<"$err")" 1
err=$(shim --allow-none -- touch "$T/started" 2>&1); rc=$?
t_eq "nothing granted, --allow-none: the app starts" "$rc/$([ -e "$T/started" ] && echo yes)" "0/yes"
t_eq "--version: the Makefile's version" "$("$SHIM" --version)" "keyhole-shim $(cat "$KH_ROOT/VERSION")"

# Hostile or broken replies: exit 104, app not started.
hostile() { # DESC SCRIPT-LINES...
	local d=$1; shift
	printf '%s\n' "$@" >"$T/h"
	fake_start "$T/h"
	rm -f "$T/started"
	shim --timeout 2 -- touch "$T/started" 2>/dev/null; local rc=$?
	t_eq "hostile reply: $d -> exit 104, app not started" \
		"$rc/$([ -e "$T/started" ] && echo yes || echo no)" "104/no"
}
hostile "file name ../x" "secret a ../x 0400 1 v" "end"
hostile "file name .hidden" "secret a .hidden 0400 1 v" "end"
hostile "two secrets, one file" "secret a same 0400 1 v" "secret b same 0400 1 w" "end"
hostile "END count mismatch" "secret a f 0400 1 v" "end 5"
hostile "secret name with .." "secret a/../b f 0400 1 v" "end"
hostile "length prefix over the cap" "raw 7fffffff81"
hostile "zero-length frame" "raw 00000000"
hostile "unknown message type" "raw 0000000142"
hostile "agent ERROR" "error 4 caller not identified"
err=$(shim -- true 2>&1)
t_eq "agent ERROR: its reason is printed" "$(grep -c 'caller not identified' <<<"$err")" 1
printf 'secret a f 0400 1 v\nclose\n' >"$T/h"; fake_start "$T/h"
shim --timeout 2 -- true 2>/dev/null; rc=$?
t_eq "agent closes before END: exit 102" "$rc" 102

# Delivery refused: a disk directory (exit 103) unless --allow-disk.
fake_start "$T/ok"
mkdir -p /var/tmp/kh-shim-$$ && t_cleanup "rm -rf /var/tmp/kh-shim-$$"
"$SHIM" --socket "$SOCK" --dir /var/tmp/kh-shim-$$ -- true 2>/dev/null; rc=$?
t_eq "disk dir refused: exit 103" "$rc" 103
"$SHIM" --socket "$SOCK" --dir /var/tmp/kh-shim-$$ --allow-disk -- true; rc=$?
t_eq "--allow-disk: accepted" "$rc/$(readlink /var/tmp/kh-shim-$$/..data)" "0/..v1"

# Agent not there: retry until --timeout, then 102; comes up late: success.
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=; rm -f "$SOCK"
shim --timeout 1 -- true 2>"$T/err"; rc=$?
t_eq "unreachable: exit 102" "$rc" 102
t_eq "unreachable: names the socket" "$(grep -c "agent unreachable at $SOCK" "$T/err")" 1
(sleep 0.7; exec "$FAKE" "$SOCK" "$T/ok" "$T/req.log") & FAKE_PID=$!
t_cleanup "kill $FAKE_PID"
out=$(shim --timeout 10 -- cat "$T/d/api_key" 2>&1); rc=$?
t_eq "agent up 0.7 s late: fetched after retrying" "$rc/$out" "0/k3y-value"

# Busy agent (rate limit): retried with backoff; still busy at --timeout: 104.
printf 'error 5 rate limited\n' >"$T/busy.1"; cp "$T/busy.1" "$T/busy.2"; cp "$T/ok" "$T/busy"
fake_start "$T/busy"
out=$(shim --timeout 10 -- cat "$T/d/api_key" 2>&1); rc=$?
t_eq "busy twice, then served: retried and fetched" "$rc/$out/$(grep -c . "$T/req.log")" "0/k3y-value/3"
printf 'error 5 rate limited\n' >"$T/busy"; rm -f "$T/busy.1" "$T/busy.2"
fake_start "$T/busy"
err=$(shim --timeout 1 -- true 2>&1); rc=$?
t_eq "busy until --timeout: exit 104 with the agent's reason" \
	"$rc/$(grep -c 'rate limited' <<<"$err")" "104/1"
fake_start "$T/ok"

t_eq "usage error: exit 100" "$("$SHIM" --bogus -- true 2>/dev/null; echo $?)" 100
t_eq "not found: exit 127" "$(shim -- /nonexistent/app 2>/dev/null; echo $?)" 127
t_done
