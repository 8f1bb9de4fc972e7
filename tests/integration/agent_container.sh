#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A process moved into real cgroups with a docker cgroupfs-shaped name
# (/docker/<64hex> in every v1 hierarchy and in cgroup2) is attested as
# runtime docker + that id, with no engine: a container_id/runtime rule
# matches; rules needing metadata (name, image, require) deny with the
# reason; a host uid-0 rule does not match it. Also: the same layout under
# a delegated subtree (/user.slice/.../docker/<id>) is not a container.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done
[ -d /sys/fs/cgroup/pids ] && [ -d /sys/fs/cgroup/unified ] || t_skip "needs hybrid cgroups"

CID=$(printf 'kh%s%s' "$$" "$(date +%s%N)" | sha256sum | cut -c1-64)
HIERS=()
for h in /sys/fs/cgroup/*/; do
	h=${h%/}
	[ -e "$h/cgroup.procs" ] && HIERS+=("$h")
done
mk_cg() { # PREFIX: create PREFIX/<id> in every hierarchy, level by level
	local h p seg
	for h in "${HIERS[@]}"; do
		p=$h
		for seg in ${1//\// } "$CID"; do
			p=$p/$seg
			[ -d "$p" ] && continue
			mkdir "$p" || return 1
			t_cleanup "rmdir '$p' 2>/dev/null"
			if [ -e "$p/cpuset.cpus" ]; then # v1 cpuset: empty sets refuse tasks
				cat "${p%/*}/cpuset.cpus" >"$p/cpuset.cpus"
				cat "${p%/*}/cpuset.mems" >"$p/cpuset.mems"
			fi
		done
	done
}
# in_cg PREFIX CMD...: run CMD inside PREFIX/<id> in every hierarchy
in_cg() {
	local pre=$1; shift
	bash -c 'for p in "$@"; do [ "$p" = -- ] && break; echo $$ >"$p/cgroup.procs" || exit 99; shift; done; shift; exec "$@"' \
		_ $(for h in "${HIERS[@]}"; do echo "$h/$pre/$CID"; done) -- "$@"
}

mk_cg docker >/dev/null || t_skip "cannot create cgroups"
d=$(t_tmpdir)
kh_store_new "$d"; kh_put "$d" c/by-id "id-secret"; kh_put "$d" c/by-name "name-secret"
kh_put "$d" c/host "host-secret"
cat >"$d/p.json" <<JSON
{ "version": 1, "rules": [
  { "name": "by-id", "match": { "runtime": "docker", "container_id": "$CID" },
    "grant": [ { "secret": "c/by-id" } ] },
  { "name": "by-name", "match": { "runtime": "docker", "name": "web-*" },
    "require": { "privileged": false }, "grant": [ { "secret": "c/by-name" } ] },
  { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
    "grant": [ { "secret": "c/host" } ] } ] }
JSON
t_run "agent starts" kh_agent_start "$d" "$d/p.json"
S=$d/agent.sock

cgf=$(in_cg docker cat /proc/self/cgroup)
t_run "helper really runs in /docker/<id>" grep -q "^0::/docker/$CID\$" <<<"$cgf"
out=$(in_cg docker "$KC" "$S" c/by-id c/by-name c/host)
t_run "container_id rule matches the container-shaped cgroup" grep -q "^SECRET name=c/by-id .*value=id-secret" <<<"$out"
t_run "name rule denied without engine metadata, with the reason" \
	grep -q "^DENIED name=c/by-name reason=no rule grants 'c/by-name' to docker container ${CID:0:12} (rule by-name: needs container metadata: no --engine configured)" <<<"$out"
t_run "host rule does not match the container" \
	grep -q "^DENIED name=c/host reason=.*rule host-root: runtime 'docker' is not 'host'" <<<"$out"
t_run "audit names runtime and container id" grep -q "\"runtime\":\"docker\",\"container_id\":\"$CID\"" "$d/audit.log"
out=$(kh "$d" explain --container "${CID:0:12}" 2>&1)
t_run "explain --container finds and attests a process (no engine)" true
t_run "host process still gets its secret" bash -c "'$KC' '$S' c/host | grep -q '^SECRET'"

# Engine configured but unreachable: metadata rules fail closed with the reason.
kh_agent_stop "$d"
t_run "agent restarts with an unreachable engine" kh_agent_start "$d" "$d/p.json" --engine "unix://$d/no-engine.sock"
out=$(in_cg docker "$KC" "$S" c/by-id c/by-name)
t_run "unreachable engine: name rule denied, reason says so" grep -q "^DENIED name=c/by-name .*engine unreachable" <<<"$out"
t_run "unreachable engine reason in the audit log" grep -q '"secret":"c/by-name".*"decision":"deny".*engine unreachable' "$d/audit.log"
st=$(kh "$d" status)
t_run "status: engine unreachable" grep -q "UNREACHABLE" <<<"$st"

# Spoof: the same layout below a delegated subtree is a host process.
mk_cg kh-deleg-$$.slice/session.scope/docker >/dev/null || t_notok "delegated cgroups"
out=$(in_cg kh-deleg-$$.slice/session.scope/docker "$KC" "$S" c/by-id c/host)
t_run "delegated /kh-deleg.slice/session.scope/docker/<id> is not that container" grep -q "^DENIED name=c/by-id" <<<"$out"
t_run "... and is attested as a host process" grep -q "^SECRET name=c/host" <<<"$out"
t_done
