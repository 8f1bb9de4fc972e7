#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hardening of the built binaries (threat model: docs/threat-model.md, H1-H3):
# keyholed and keyhole are PIE with full RELRO, a non-executable stack, the
# stack protector and FORTIFY; keyhole-shim is static. A running keyholed is
# non-dumpable (another user cannot read its /proc/PID/mem or environ), has
# RLIMIT_CORE 0, and the pages holding secret values are MADV_DONTDUMP.
. "$(dirname "$0")/../lib.sh"

command -v readelf >/dev/null || t_skip "readelf (binutils) missing"
for b in keyholed keyhole keyhole-shim; do
	[ -x "$KH_BUILD/$b" ] || t_skip "$KH_BUILD/$b not built"
done

# dynamic executables: PIE, RELRO + BIND_NOW, NX stack, canary, FORTIFY
check_dynamic() {
	local bin=$KH_BUILD/$1 hdr prog dyn syms
	hdr=$(readelf -hW "$bin") prog=$(readelf -lW "$bin") dyn=$(readelf -dW "$bin")
	syms=$(readelf --dyn-syms -W "$bin")
	t_eq "$1: PIE (ELF type DYN with an interpreter)" \
		"$(grep -c 'Type:.*DYN' <<<"$hdr")/$(grep -c 'INTERP' <<<"$prog")" "1/1"
	t_eq "$1: RELRO segment" "$(grep -c 'GNU_RELRO' <<<"$prog")" 1
	if grep -Eq 'BIND_NOW|FLAGS.*\bNOW\b' <<<"$dyn"; then t_ok "$1: full RELRO (BIND_NOW)"
	else t_notok "$1: full RELRO (no BIND_NOW in dynamic section)"; fi
	t_eq "$1: NX stack (GNU_STACK RW, not RWE)" \
		"$(awk '$1=="GNU_STACK"{print $(NF-1)}' <<<"$prog")" RW
	if grep -q '__stack_chk_fail' <<<"$syms"; then t_ok "$1: stack protector"
	else t_notok "$1: stack protector (__stack_chk_fail not imported)"; fi
	local chk; chk=$(grep -Eo '__[a-z0-9_]+_chk' <<<"$syms" | grep -v __stack_chk | sort -u)
	if grep -q 'libasan' <<<"$dyn"; then # make SAN=1 drops FORTIFY on purpose
		echo "# $1: sanitizer build, FORTIFY check not applicable"
	elif [ -n "$chk" ]; then t_ok "$1: FORTIFY ($(wc -l <<<"$chk") *_chk symbols)"
	else t_notok "$1: FORTIFY (no __*_chk symbols)"; fi
}

check_static() {
	local bin=$KH_BUILD/$1 prog dyn
	prog=$(readelf -lW "$bin") dyn=$(readelf -dW "$bin" 2>&1)
	t_eq "$1: no program interpreter" "$(grep -c 'INTERP' <<<"$prog")" 0
	t_eq "$1: no shared library NEEDED" "$(grep -c 'NEEDED' <<<"$dyn")" 0
	t_eq "$1: NX stack" "$(awk '$1=="GNU_STACK"{print $(NF-1)}' <<<"$prog")" RW
	t_eq "$1: RELRO segment" "$(grep -c 'GNU_RELRO' <<<"$prog")" 1
	if command -v file >/dev/null; then
		if file -L "$bin" | grep -Eq 'statically linked|static-pie'; then t_ok "$1: file(1) says static"
		else t_notok "$1: file(1): $(file -bL "$bin")"; fi
	fi
}

check_dynamic keyholed
check_dynamic keyhole
check_static keyhole-shim

# Runtime: PID is a running keyholed holding at least one secret value.
check_nondumpable() {
	local pid=$1 auid
	auid=$(awk '/^Uid:/{print $2}' /proc/"$pid"/status)
	t_eq "keyholed: RLIMIT_CORE is 0" \
		"$(awk '/^Max core file size/{print $5 "/" $6}' /proc/"$pid"/limits)" "0/0"
	# Control: the same reader CAN read a dumpable process of its own uid,
	# so a failure below is the agent's doing, not the reader's.
	setpriv --reuid="$auid" --regid="$auid" --clear-groups sleep 30 &
	local ctl=$!
	t_cleanup "kill $ctl"
	sleep 0.2
	t_run "control: uid $auid reads environ of its own dumpable process" \
		sh -c "setpriv --reuid=$auid --regid=$auid --clear-groups cat /proc/$ctl/environ >/dev/null"
	kill "$ctl" 2>/dev/null
	# Same uid as the agent: only PR_SET_DUMPABLE 0 stops this read.
	t_fails "keyholed: uid $auid cannot read its /proc/PID/environ (non-dumpable)" \
		sh -c "setpriv --reuid=$auid --regid=$auid --clear-groups cat /proc/$pid/environ >/dev/null"
	t_fails "keyholed: uid 65534 cannot read its /proc/PID/mem" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		dd if=/proc/"$pid"/mem bs=1 count=1 skip=4096 status=none
	# /proc/PID/* of a non-dumpable process belongs to root, not to its uid.
	if [ "$auid" != 0 ]; then
		t_eq "keyholed: /proc/PID/environ owned by root" "$(stat -c %u /proc/"$pid"/environ)" 0
	fi
	# sodium_malloc pages carry MADV_DONTDUMP ("dd" in smaps VmFlags).
	local dd; dd=$(grep -c '^VmFlags:.* dd' /proc/"$pid"/smaps)
	if [ "$dd" -gt 0 ]; then t_ok "keyholed: $dd mappings excluded from core dumps (dd)"
	else t_notok "keyholed: no MADV_DONTDUMP mapping (secrets would be in a core)"; fi
}

# Runtime checks need a running agent (tests/lib-agent.sh).
if [ ! -f "$KH_ROOT/tests/lib-agent.sh" ]; then
	echo "# runtime non-dumpable checks skipped: tests/lib-agent.sh missing"
	t_done
fi
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
command -v setpriv >/dev/null || t_skip "setpriv missing"

# The agent runs as uid 65534 here, so a reader with the SAME uid can be
# tried: only PR_SET_DUMPABLE 0 stops that one (as root, caps would).
d=$(t_tmpdir)
kh_store_new "$d" && kh_put "$d" hard/v secret-in-agent-memory ||
	{ t_notok "store for the runtime checks"; t_done; }
kh_policy_host_uid0 "$d/policy.json" hard/v
chown -R 65534:65534 "$d"
printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s "$@"\n' \
	"$KH_BUILD/keyholed" >"$d/keyholed-nobody"
chmod 755 "$d/keyholed-nobody"
KHD_BIN=$d/keyholed-nobody kh_agent_start "$d" "$d/policy.json" ||
	{ t_notok "keyholed starts as uid 65534"; t_done; }
# Make it load and serve the value, so secret pages exist.
"$KH_BUILD/tools/abuse" "$d/agent.sock" --hostile 0 --name hard/v \
	--expect secret-in-agent-memory >/dev/null 2>&1 || t_notok "agent serves hard/v"
check_nondumpable "$(kh_agent_pid "$d")"
t_done
