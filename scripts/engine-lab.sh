#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# engine-lab: private container engines for tests and the demo. Everything a
# lab starts lives under one directory DIR (storage, sockets, pids, logs), so
# concurrent runs never share state, and el_*_stop undoes exactly what
# el_*_start did. Never touches /etc or a system-wide daemon.
#
# Source it (functions below) or run it: engine-lab.sh CMD ARGS...
#   podman-start DIR | podman-stop DIR | docker-start DIR | docker-stop DIR
#   image ENGINE DIR TAG FILE...     (FILE copied to /bin/NAME in the image)
#   run ENGINE DIR ARGS...           (the engine's CLI on the lab: podman/docker)
# Functions:
#   el_start ENGINE DIR / el_stop ENGINE DIR    ENGINE = podman | docker
#   el_cli ENGINE DIR ARGS...        the engine CLI bound to the lab
#   el_sock ENGINE DIR               the Docker-compatible API socket path
#   el_image ENGINE DIR TAG FILE...  build a FROM-scratch image by import
#   el_probe ENGINE DIR              1 line on stderr + non-zero if the engine
#                                    cannot run a container here
#   el_why                           after a failure: the reason (one line)
# Layout: DIR/podman/{containers.conf,storage.conf,root,runroot,tmp,...},
# DIR/podman.sock; DIR/docker/{data,exec,daemon.json,docker.pid}, DIR/docker.sock.

EL_WHY=""
el_why() { printf '%s\n' "$EL_WHY"; }

el__wait() { # COND TIMEOUT_S
	local i n=$(($2 * 10))
	for ((i = 0; i < n; i++)); do eval "$1" && return 0; sleep 0.1; done
	return 1
}

el__ping() { curl -sf --max-time 2 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

# Unmount anything mounted below DIR (deepest first), lazily.
el__umount_below() {
	local d; d=$(readlink -f "$1") || return 0
	awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts |
		sort -r | xargs -r -n1 umount -l 2>/dev/null
	return 0
}

el__kill_pidfile() { # PIDFILE TIMEOUT_S
	local pid; pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
	el__wait "! kill -0 $pid 2>/dev/null" "$2" || kill -KILL "$pid" 2>/dev/null
	el__wait "! kill -0 $pid 2>/dev/null" 5
	rm -f "$1"
}

# ---- podman ----
el_podman_setup() {
	local d=$1 p=$1/podman
	mkdir -p "$p/root" "$p/runroot" "$p/tmp" "$p/volumes" "$p/netconf"
	cat >"$p/containers.conf" <<EOF
# keyhole engine-lab (private podman; crun rejects hybrid cgroups here)
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$p/events.log"
tmp_dir = "$p/tmp"
volume_path = "$p/volumes"
lock_type = "file"
[network]
network_config_dir = "$p/netconf"
EOF
	cat >"$p/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$p/root"
runroot = "$p/runroot"
EOF
}

el_podman() {
	local d=$1; shift
	CONTAINERS_CONF=$d/podman/containers.conf \
		CONTAINERS_STORAGE_CONF=$d/podman/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$d/podman/registries.conf \
		podman --root "$d/podman/root" --runroot "$d/podman/runroot" "$@"
}

el_podman_start() {
	local d=$1 pid
	command -v podman >/dev/null || { EL_WHY="podman not installed"; return 1; }
	command -v runc >/dev/null || { EL_WHY="runc not installed"; return 1; }
	el_podman_setup "$d"
	: >"$d/podman/registries.conf"
	rm -f "$d/podman.sock"
	# Not via el_podman: $! must be podman itself, not a subshell.
	CONTAINERS_CONF=$d/podman/containers.conf \
		CONTAINERS_STORAGE_CONF=$d/podman/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$d/podman/registries.conf \
		podman --root "$d/podman/root" --runroot "$d/podman/runroot" \
		system service --time=0 "unix://$d/podman.sock" \
		</dev/null >>"$d/podman/service.log" 2>&1 &
	pid=$!
	echo "$pid" >"$d/podman/service.pid"
	if ! el__wait "el__ping '$d/podman.sock' || ! kill -0 $pid 2>/dev/null" 30 ||
		! kill -0 "$pid" 2>/dev/null; then
		EL_WHY="podman system service did not come up: $(tail -1 "$d/podman/service.log" 2>/dev/null)"
		el_podman_stop "$d"
		return 1
	fi
}

el_podman_stop() {
	local d=$1
	[ -d "$d/podman" ] || return 0
	el_podman "$d" rm -af -t 0 >/dev/null 2>&1
	el__kill_pidfile "$d/podman/service.pid" 10
	# conmon of a container that outlived rm (should not happen): stop it.
	pgrep -f -- "-b $d/podman/root/" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	el__umount_below "$d/podman"
	rm -f "$d/podman.sock"
	return 0
}

# ---- docker ----
el_docker() {
	local d=$1; shift
	DOCKER_CONFIG=$d/docker/cli docker -H "unix://$d/docker.sock" "$@"
}

el_docker_start() {
	local d=$1 pid ns
	command -v dockerd >/dev/null || { EL_WHY="dockerd not installed"; return 1; }
	command -v docker >/dev/null || { EL_WHY="docker CLI not installed"; return 1; }
	mkdir -p "$d/docker/data" "$d/docker/exec" "$d/docker/cli"
	echo '{}' >"$d/docker/daemon.json"
	# A per-lab containerd namespace: if dockerd picks up a system containerd,
	# two labs must not see (and "clean up") each other's containers.
	ns=kh-$(basename "$d" | tr -c 'a-zA-Z0-9\n' '-')-$$
	rm -f "$d/docker.sock"
	dockerd --config-file "$d/docker/daemon.json" --data-root "$d/docker/data" \
		--exec-root "$d/docker/exec" -H "unix://$d/docker.sock" \
		--pidfile "$d/docker/docker.pid" --iptables=false --ip-masq=false \
		--bridge=none --storage-driver=vfs --exec-opt native.cgroupdriver=cgroupfs \
		--default-ulimit nofile=1024:1024 --containerd-namespace "$ns" \
		--containerd-plugins-namespace "$ns-plugins" \
		</dev/null >>"$d/docker/dockerd.log" 2>&1 &
	pid=$!
	echo "$pid" >"$d/docker/dockerd.launcher.pid"
	if ! el__wait "el__ping '$d/docker.sock' || ! kill -0 $pid 2>/dev/null" 60 ||
		! kill -0 "$pid" 2>/dev/null; then
		EL_WHY="dockerd did not come up: $(grep -m1 -iE 'level=(fatal|error)' "$d/docker/dockerd.log" 2>/dev/null)"
		el_docker_stop "$d"
		return 1
	fi
}

el_docker_stop() {
	local d=$1
	[ -d "$d/docker" ] || return 0
	if [ -S "$d/docker.sock" ]; then
		el_docker "$d" ps -aq 2>/dev/null | xargs -r -n 20 \
			env DOCKER_CONFIG="$d/docker/cli" docker -H "unix://$d/docker.sock" rm -f >/dev/null 2>&1
	fi
	[ -s "$d/docker/docker.pid" ] || cp "$d/docker/dockerd.launcher.pid" "$d/docker/docker.pid" 2>/dev/null
	el__kill_pidfile "$d/docker/docker.pid" 20
	rm -f "$d/docker/dockerd.launcher.pid"
	# The containerd dockerd supervised exits with it; make sure.
	pgrep -f -- "$d/docker/exec/containerd" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	el__umount_below "$d/docker"
	rm -f "$d/docker.sock"
	return 0
}

# ---- engine-neutral ----
el_start() { "el_$1_start" "$2"; }
el_stop() { "el_$1_stop" "$2"; }
el_cli() { local e=$1; shift; "el_$e" "$@"; }
el_sock() { echo "$2/$1.sock"; }

# el_image ENGINE DIR TAG FILE...: a FROM-scratch image holding FILEs in
# /bin, empty /run/secrets and /run/keyhole, /tmp (1777) and a minimal
# /etc/passwd. Extra `--change` lines can be given in EL_IMAGE_CHANGES
# (newline-separated, podman/docker import syntax).
el_image() {
	local e=$1 d=$2 tag=$3 f root ch args=(); shift 3
	root=$(mktemp -d "$d/imgroot.XXXXXX") || return 1
	mkdir -p "$root/bin" "$root/run/secrets" "$root/run/keyhole" "$root/tmp" "$root/etc" \
		"$root/proc" "$root/sys" "$root/dev"
	chmod 0755 "$root" && chmod 1777 "$root/tmp"
	printf 'root:x:0:0::/:/bin/none\napp:x:1000:1000::/:/bin/none\n' >"$root/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
	for f in "$@"; do install -m 0755 "$f" "$root/bin/$(basename "$f")" || return 1; done
	tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$root.tar" . || return 1
	rm -rf "$root"
	while IFS= read -r ch; do [ -n "$ch" ] && args+=(--change "$ch"); done <<<"${EL_IMAGE_CHANGES:-}"
	if [ "$e" = podman ]; then
		el_podman "$d" import -q "${args[@]}" "$root.tar" "$tag" >/dev/null
	else
		el_docker "$d" import "${args[@]}" "$root.tar" "$tag" >/dev/null
	fi
	local rc=$?
	rm -f "$root.tar"
	[ $rc -eq 0 ] || EL_WHY="$e import failed"
	return $rc
}

# el_probe ENGINE DIR IMAGE CMD...: can this engine run a container here?
el_probe() {
	local e=$1 d=$2 out; shift 2
	if ! out=$(el_cli "$e" "$d" run --rm --network none "$@" 2>&1); then
		EL_WHY="$e cannot run a container: $(printf '%s' "$out" | tail -1)"
		return 1
	fi
}

# ---- command-line use ----
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	cmd=${1:-}; shift || true
	case $cmd in
	podman-start) el_podman_start "$1" || { el_why >&2; exit 1; }
		echo "podman API: unix://$1/podman.sock" ;;
	podman-stop) el_podman_stop "$1" ;;
	docker-start) el_docker_start "$1" || { el_why >&2; exit 1; }
		echo "docker API: unix://$1/docker.sock" ;;
	docker-stop) el_docker_stop "$1" ;;
	image) el_image "$@" || { el_why >&2; exit 1; } ;;
	run) el_cli "$@" ;;
	*) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
fi
