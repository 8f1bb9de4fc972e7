#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Attestation of real processes (root): create real cgroups with container-
# shaped names in every mounted v1 hierarchy and in cgroup2, move a process
# in, let it dial tests/tools/peerprobe, check the identity it reports.
# Also: a host process, a process in new namespaces (unshare), a dying peer,
# a delegated-cgroup spoof, and lines that disagree.
. "$(dirname "$0")/../lib.sh"
t_need_root
PROBE=$KH_BUILD/tools/peerprobe
[ -x "$PROBE" ] || t_skip "no $PROBE (make tests-build)"
command -v python3 >/dev/null || t_skip "no python3"
command -v jq >/dev/null || t_skip "no jq"

# Every cgroup hierarchy: v1 mounts and the cgroup2 one.
mapfile -t HIER < <(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo |
	grep '^/sys/fs/cgroup')
[ ${#HIER[@]} -gt 0 ] || t_skip "no cgroup hierarchies mounted"

T=$(t_tmpdir)
uniq_id() { printf '%s' "keyhole-attest-$$-$1-$RANDOM" | sha256sum | cut -c1-64; }
ID=$(uniq_id a)
ID2=$(uniq_id b)
POD=pod$(cat /proc/sys/kernel/random/uuid)
PODS=${POD//-/_}

# Cgroup dirs we made, one a line (dial_from runs in subshells, so a file,
# not an array); removed deepest-first at exit.
CREATED=$T/cgroups.created
: >"$CREATED"
cg_rm_all() {
	local d
	tac "$CREATED" | while read -r d; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.1; done
	done
}
t_cleanup cg_rm_all

# cg_mkdir HIER REL: mkdir -p, remembering what we made; cpuset needs cpus/mems.
cg_mkdir() {
	local h=$1 rel=$2 d=$1 part
	IFS=/ read -ra parts <<<"${rel#/}"
	for part in "${parts[@]}"; do
		local parent=$d
		d=$d/$part
		if [ ! -d "$d" ]; then
			mkdir "$d" || return 1
			echo "$d" >>"$CREATED"
		fi
		if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
			cat "$parent/cpuset.cpus" >"$d/cpuset.cpus"
			cat "$parent/cpuset.mems" >"$d/cpuset.mems"
		fi
	done
}

# place PID SPEC...: SPEC is "default=REL" or "CTRL=REL" (CTRL = mount dir
# basename: pids, memory, unified, systemd...). Unlisted hierarchies get the
# default; "/" means the hierarchy root.
place() {
	local pid=$1 h rel spec def=/; shift
	for spec in "$@"; do [ "${spec%%=*}" = default ] && def=${spec#*=}; done
	for h in "${HIER[@]}"; do
		rel=$def
		for spec in "$@"; do [ "${spec%%=*}" = "$(basename "$h")" ] && rel=${spec#*=}; done
		[ "$rel" = / ] || cg_mkdir "$h" "$rel" || return 1
		echo "$pid" >"$h${rel%/}/cgroup.procs" || return 1
	done
}

SOCK=$T/probe.sock
OUT=$T/probe.out
"$PROBE" "$SOCK" >"$OUT" 2>"$T/probe.err" &
PROBE_PID=$!
t_cleanup "kill $PROBE_PID"
t_wait_for "[ -S '$SOCK' ]" || { t_notok "peerprobe did not start"; t_done; }

DIAL='import socket,sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(1)'

# dial_from SPEC...: start a process parked on a fifo, place it, release it
# to dial; prints the JSON line peerprobe wrote for it.
dial_from() {
	local fifo=$T/fifo.$BASHPID.$RANDOM before pid
	mkfifo "$fifo"
	before=$(wc -l <"$OUT")
	bash -c 'read -r _ <"$1"; exec timeout 10 python3 -c "$2" "$3"' _ "$fifo" "$DIAL" "$SOCK" &
	pid=$!
	if [ $# -gt 0 ] && ! place "$pid" "$@"; then
		echo '{"error":"place failed"}'; kill "$pid"; return
	fi
	echo go >"$fifo"
	wait "$pid"
	t_wait_for "[ \$(wc -l <'$OUT') -gt $before ]" 5
	sed -n "$((before + 1))p" "$OUT"
}
field() { jq -r "if .$1 == null then \"-\" else .$1 end" <<<"$2"; }

# check DESC WANT_RUNTIME WANT_ID SPEC...
check() {
	local desc=$1 rt=$2 id=$3 j; shift 3
	j=$(dial_from "$@")
	if [ "$rt" = error ]; then
		t_eq "$desc: refused" "$(field error "$j")" "$id"
	else
		t_eq "$desc" "$(field runtime "$j")/$(field id "$j")" "$rt/$id"
	fi
}

j=$(dial_from)
t_eq "host process: runtime host" "$(field runtime "$j")" host
t_eq "host process: pid is the dialer's, uid 0" "$(field uid "$j")" 0
t_eq "host process: pidfd from SO_PEERPIDFD (kernel $(uname -r))" "$(field via_peerpidfd "$j")" true

check "docker cgroupfs, all hierarchies" docker "$ID" default=/docker/$ID
check "docker cgroupfs, sub-cgroup init.scope" docker "$ID" default=/docker/$ID/init.scope
check "docker systemd scope" docker "$ID" default=/system.slice/docker-$ID.scope
check "podman cgroupfs" podman "$ID" default=/libpod_parent/libpod-$ID
check "podman systemd scope/container" podman "$ID" default=/machine.slice/libpod-$ID.scope/container
check "podman conmon scope is not the container" host "" default=/machine.slice/libpod-conmon-$ID.scope
check "cri-containerd systemd (burstable)" containerd "$ID" \
	default=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-$PODS.slice/cri-containerd-$ID.scope
check "kubepods cgroupfs (besteffort)" containerd "$ID" default=/kubepods/besteffort/$POD/$ID
check "crio systemd" crio "$ID" default=/kubepods.slice/kubepods-$PODS.slice/crio-$ID.scope
check "crio conmon is not the container" host "" \
	default=/kubepods.slice/kubepods-$PODS.slice/crio-conmon-$ID.scope
check "v1 pids+cgroup2 in the container, others at root" docker "$ID" \
	pids=/docker/$ID unified=/docker/$ID
check "delegated spoof under user.slice (docker scope)" host "" \
	default=/user.slice/user-1000.slice/user@1000.service/docker-$ID.scope
check "delegated spoof under user.slice (docker/ID)" host "" \
	default=/user.slice/user-1000.slice/user@1000.service/app.slice/docker/$ID
check "lines name two containers" error EBADMSG default=/docker/$ID pids=/docker/$ID2
check "lines name two runtimes" error EBADMSG default=/docker/$ID unified=/libpod_parent/libpod-$ID
check "container + another host cgroup" error EBADMSG default=/docker/$ID memory=/keyhole-attest-$$

# New namespaces (pid, mount, uts): the probe still sees the host pid and the
# cgroup; the dialer sees itself as pid 1.
before=$(wc -l <"$OUT")
fifo=$T/fifo.ns
mkfifo "$fifo"
NSDIAL='import os,socket,sys,time
open(sys.argv[2], "w").write(str(os.getpid()))
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(1); time.sleep(60)'
bash -c 'read -r _ <"$1"; exec unshare -p -f -m -u --mount-proc python3 -c "$2" "$3" "$4"' \
	_ "$fifo" "$NSDIAL" "$SOCK" "$T/nspid" 2>/dev/null &
nsw=$!
t_cleanup "pkill -KILL -P $nsw; kill -KILL $nsw"
place "$nsw" default=/docker/$ID
echo go >"$fifo"
t_wait_for "[ \$(wc -l <'$OUT') -gt $before ]" 10
j=$(sed -n "$((before + 1))p" "$OUT")
t_eq "unshare -p -f -m -u: runtime/id" "$(field runtime "$j")/$(field id "$j")" "docker/$ID"
t_eq "unshare: dialer is pid 1 in its namespace" "$(cat "$T/nspid" 2>/dev/null)" 1
hp=$(field pid "$j")
if [ "$hp" != - ] && [ "$hp" -gt 1 ] &&
	[ "$(readlink "/proc/$hp/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]; then
	t_ok "unshare: probe reports the host pid ($hp), in another pid namespace"
else
	t_notok "unshare: host pid ($hp) not in a separate pid namespace"
fi
pkill -KILL -P "$nsw"; kill -KILL "$nsw" 2>/dev/null; wait "$nsw" 2>/dev/null

# A dying peer: it dials and exits (and is reaped) before the probe attests.
GATE=$T/gate
SOCK2=$T/probe2.sock
OUT2=$T/probe2.out
"$PROBE" "$SOCK2" --wait-file "$GATE" >"$OUT2" 2>&1 &
P2=$!
t_cleanup "kill $P2"
t_wait_for "[ -S '$SOCK2' ]"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$SOCK2"
touch "$GATE"
t_wait_for "[ -s '$OUT2' ]" 5
t_eq "dying peer: refused with ESRCH" "$(field error "$(head -1 "$OUT2")")" ESRCH
python3 -c "$DIAL" "$SOCK2" &
dp=$!
t_wait_for "grep -q . '$OUT2' && [ \$(wc -l <'$OUT2') -ge 1 ]" 1
touch "$GATE"
wait "$dp"
t_wait_for "[ \$(wc -l <'$OUT2') -ge 2 ]" 5
t_eq "after a dying peer the probe still attests (host)" "$(field runtime "$(sed -n 2p "$OUT2")")" host
kill -0 "$P2" 2>/dev/null && t_ok "probe survived the dying peer" || t_notok "probe died"
t_done
