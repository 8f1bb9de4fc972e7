# SPDX-License-Identifier: MIT
# Place test processes in container-shaped cgroups (root only). Source after
# tests/lib.sh. Every cgroup made is removed at exit, deepest first.
#   cg_hierarchies               fills HIER (v1 mounts and cgroup2)
#   cg_place PID SPEC...         SPEC "default=REL" or "CTRL=REL" (CTRL =
#                                mount dir basename); unlisted hierarchies
#                                get the default; "/" = the hierarchy root
#   cg_fake_id WORD              a 64-hex id unique to this run
cg_hierarchies() {
	mapfile -t HIER < <(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo |
		grep '^/sys/fs/cgroup')
	[ ${#HIER[@]} -gt 0 ]
}

CG_CREATED=$(mktemp "${TMPDIR:-/tmp}/keyhole-cg.XXXXXX")
cg__rm_all() {
	local d
	tac "$CG_CREATED" | while read -r d; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.1; done
	done
	rm -f "$CG_CREATED"
}
t_cleanup cg__rm_all

cg__mkdir() { # HIER REL; cpuset needs cpus/mems
	local h=$1 rel=$2 d=$1 part parent
	IFS=/ read -ra parts <<<"${rel#/}"
	for part in "${parts[@]}"; do
		parent=$d
		d=$d/$part
		if [ ! -d "$d" ]; then
			mkdir "$d" || return 1
			echo "$d" >>"$CG_CREATED"
		fi
		if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
			cat "$parent/cpuset.cpus" >"$d/cpuset.cpus"
			cat "$parent/cpuset.mems" >"$d/cpuset.mems"
		fi
	done
}

cg_place() {
	local pid=$1 h rel spec def=/; shift
	for spec in "$@"; do [ "${spec%%=*}" = default ] && def=${spec#*=}; done
	for h in "${HIER[@]}"; do
		rel=$def
		for spec in "$@"; do [ "${spec%%=*}" = "$(basename "$h")" ] && rel=${spec#*=}; done
		[ "$rel" = / ] || cg__mkdir "$h" "$rel" || return 1
		echo "$pid" >"$h${rel%/}/cgroup.procs" || return 1
	done
}

cg_fake_id() { printf '%s' "keyhole-test-$$-$1-$RANDOM" | sha256sum | cut -c1-64; }
