# SPDX-License-Identifier: MIT
# Real-engine helpers for e2e tests. Source after tests/lib.sh and
# tests/lib-agent.sh. One lab per engine per script (scripts/engine-lab.sh):
#   le_engines                     engines to test: $KH_E2E_ENGINES or "podman docker"
#   le_lab ENGINE                  start a private engine in a fresh temp dir
#                                  (set in $LE_DIR; also the agent's dir), build
#                                  image kh-e2e (keyhole-shim, demoapp, shim_app
#                                  in /bin). Call it directly, not in $(). Registers
#                                  the engine's stop with t_cleanup. Non-zero
#                                  with the reason in $LE_WHY if it cannot run.
#   le_cli ENGINE DIR ARGS...      the engine CLI on that lab
#   le_run ENGINE DIR ARGS...      `run --network none` + the agent mounts:
#                                  DIR/run (holding only agent.sock) on
#                                  /run/keyhole, DIR/out on /out, a tmpfs on
#                                  /run/secrets (owned by 1000 under docker)
#   le_agent_start DIR POLICY      keyholed with its agent socket in DIR/run/
#                                  (a directory mount survives agent restarts;
#                                  the store, key and admin socket stay outside
#                                  the container) and --engine on DIR's engine
#   le_agent_restart DIR           stop + start with the same arguments
#   le_cid ENGINE DIR NAME         full container id
#   le_wait_line FILE REGEX [S]    wait until FILE has a line matching REGEX
# Variables: LE_ENGINE_SOCK (after le_lab), LE_WHY.
. "$KH_ROOT/scripts/engine-lab.sh"

LE_WHY=""
LE_IMAGE=kh-e2e

le_engines() { echo "${KH_E2E_ENGINES:-podman docker}"; }

le_lab() {
	local e=$1 d
	# Not t_tmpdir: its cleanup must be registered in this shell, not a $().
	d=$(mktemp -d "${TMPDIR:-/tmp}/kh-e2e.XXXXXX") || return 1
	LE_DIR=$d
	chmod 0755 "$d"
	t_cleanup "el__umount_below '$d'; rm -rf '$d'"
	t_cleanup "el_stop $e '$d'"
	echo "unix://$d/$e.sock" >"$d/engine.url"
	if ! el_start "$e" "$d"; then LE_WHY=$(el_why); return 1; fi
	if ! el_image "$e" "$d" "$LE_IMAGE" "$KH_BUILD/keyhole-shim" \
		"$KH_BUILD/static/demoapp" "$KH_BUILD/static/shim_app"; then
		LE_WHY=$(el_why); return 1
	fi
	if ! el_probe "$e" "$d" "$LE_IMAGE" /bin/demoapp env >/dev/null; then
		LE_WHY=$(el_why); return 1
	fi
	mkdir -p "$d/run" "$d/out"
	chmod 0755 "$d/run"
	chmod 0777 "$d/out" # the app writes its log here as uid 1000
}

le_cli() { el_cli "$@"; }

# podman 4.3 refuses uid= on --tmpfs; U chowns the tmpfs to the container's
# --user (root otherwise; the shim's files are then 0400 owned by its --user).
le_tmpfs_opts() {
	if [ "$1" = docker ]; then echo rw,size=1m,mode=0700,uid=1000,gid=1000
	else echo rw,size=1m,mode=0711,U; fi
}

le_run() {
	local e=$1 d=$2; shift 2
	el_cli "$e" "$d" run --network none -v "$d/run:/run/keyhole" \
		-v "$d/out:/out" --tmpfs "/run/secrets:$(le_tmpfs_opts "$e")" "$@"
}

# The agent socket sits alone in DIR/run, the directory containers mount.
le_agent_start() {
	local d=$1 pol=$2; shift 2
	KH_AGENT_SOCK=$d/run/agent.sock kh_agent_start "$d" "$pol" \
		--engine "$(cat "$d/engine.url" 2>/dev/null)" "$@"
}

le_agent_restart() { KH_AGENT_SOCK=$1/run/agent.sock kh_agent_restart "$1"; }

le_cid() { el_cli "$1" "$2" inspect -f '{{.Id}}' "$3" 2>/dev/null; }

le_wait_line() { t_wait_for "grep -qE '$2' '$1' 2>/dev/null" "${3:-10}"; }
