# SPDX-License-Identifier: MIT
# Helpers to run a real keyholed in tests. Source after tests/lib.sh:
#   . "$KH_ROOT/tests/lib.sh"; . "$KH_ROOT/tests/lib-agent.sh"
# Layout of a test DIR (make it with t_tmpdir):
#   DIR/store.json DIR/agent.key   the store (kh_store_new)
#   DIR/agent.sock DIR/admin.sock  sockets of the agent (kh_agent_start)
#   DIR/audit.log DIR/keyholed.log audit JSON lines; agent stderr
#   DIR/keyholed.pid               pid of the running agent
# Functions:
#   kh DIR ARGS...                 run $KH_BUILD/keyhole on DIR's store/admin socket
#   kh_store_new DIR               keyhole init with a key file in DIR
#   kh_put DIR NAME VALUE          keyhole put NAME (value on stdin)
#   kh_rotate DIR NAME VALUE       keyhole rotate NAME (value on stdin)
#   kh_agent_start DIR POLICY [extra keyholed args...]
#                                  start keyholed in the background, wait for
#                                  its socket; registers t_cleanup to stop it.
#                                  Returns non-zero if it did not come up.
#                                  KH_AGENT_SOCK overrides DIR/agent.sock.
#   kh_agent_stop DIR              SIGTERM, wait (up to 5 s), then SIGKILL
#   kh_agent_restart DIR           stop, then start with the same arguments
#   kh_agent_pid DIR               print the agent's pid
#   kh_agent_hup DIR               SIGHUP (policy reload)
#   kh_policy_host_uid0 FILE SECRET...  write a policy granting SECRETs to
#                                  runtime host, uid 0 (rule "host-root")
KH_BIN=${KH_BIN:-$KH_BUILD/keyhole}
KHD_BIN=${KHD_BIN:-$KH_BUILD/keyholed}

kh() {
	local d=$1; shift
	"$KH_BIN" --store "$d/store.json" --key-file "$d/agent.key" \
		--admin-socket "$d/admin.sock" "$@"
}
kh_store_new() { kh "$1" init >/dev/null; }
kh_put() { printf '%s' "$3" | kh "$1" put "$2" >/dev/null; }
kh_rotate() { printf '%s' "$3" | kh "$1" rotate "$2" >/dev/null; }
kh_agent_pid() { cat "$1/keyholed.pid" 2>/dev/null; }

kh_agent_start() {
	local d=$1 pol=$2; shift 2
	local sock=${KH_AGENT_SOCK:-$d/agent.sock}
	printf '%s\n' "$pol" "$@" >"$d/keyholed.args"
	rm -f "$sock" "$d/admin.sock"
	"$KHD_BIN" --store "$d/store.json" --key-file "$d/agent.key" --policy "$pol" \
		--socket "$sock" --admin-socket "$d/admin.sock" \
		--audit-log "$d/audit.log" --foreground "$@" \
		</dev/null >>"$d/keyholed.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$d/keyholed.pid"
	t_cleanup "kill -KILL $pid"
	if ! t_wait_for "[ -S '$sock' ] && [ -S '$d/admin.sock' ] || ! kill -0 $pid" 10 ||
		! kill -0 "$pid" 2>/dev/null; then
		echo "# keyholed did not start:" >&2; sed 's/^/# /' "$d/keyholed.log" >&2
		return 1
	fi
}

kh_agent_stop() {
	local d=$1 pid; pid=$(kh_agent_pid "$d") || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	t_wait_for "! kill -0 $pid 2>/dev/null" 5 || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$d/keyholed.pid"
	return 0
}

kh_agent_restart() {
	local d=$1 args=()
	mapfile -t args <"$d/keyholed.args"
	kh_agent_stop "$d"
	kh_agent_start "$d" "${args[@]}"
}

kh_agent_hup() { kill -HUP "$(kh_agent_pid "$1")"; }

kh_policy_host_uid0() {
	local f=$1 s g="" sep=""; shift
	for s in "$@"; do g="$g$sep{\"secret\": \"$s\"}"; sep=", "; done
	cat >"$f" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [ $g ] } ] }
JSON
}
