#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile secret names (docs/threat-model.md T5): `../`-style, absolute,
# empty segments, control bytes and overlong names (up to 64 KiB, past the
# 255-byte cap and past the request frame cap) each get a clean DENIED or
# ERROR reply, never a SECRET, and the agent keeps serving valid requests.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole AG=$KH_BUILD/keyholed ABUSE=$KH_BUILD/tools/abuse
for b in "$KH" "$AG" "$ABUSE"; do [ -x "$b" ] || t_skip "$b not built"; done
t_need_root

. "$KH_ROOT/tests/lib-agent.sh"
d=$(t_tmpdir)
SOCK=$d/agent.sock
kh_store_new "$d" && kh_put "$d" app/good good-value && kh_put "$d" app/other other-value ||
	{ t_notok "store setup"; t_done; }
kh_policy_host_uid0 "$d/policy.json" app/good
kh_agent_start "$d" "$d/policy.json" || { t_notok "keyholed starts"; t_done; }
apid=$(kh_agent_pid "$d")
fetch() { "$ABUSE" "$SOCK" --hostile 0 --name "$1" --expect "$2" >/dev/null; }
t_run "agent serves app/good" t_wait_for "fetch app/good good-value" 10

# probe_denied DESC ARGS...: the first reply line is DENIED or ERROR.
probe_denied() {
	local desc=$1 out first; shift
	out=$("$ABUSE" "$SOCK" "$@" 2>&1)
	first=${out%%$'\n'*}
	case $first in
	DENIED* | ERROR*) t_ok "$desc -> ${first:0:70}" ;;
	# an oversize frame may be refused (ERROR TOOBIG, close) while the
	# client is still writing it: refused all the same
	"CLOSED before the request was sent") [ -n "${OVERSIZE:-}" ] && t_ok "$desc -> refused mid-send" ||
		t_notok "$desc -> ${first:0:70}" ;;
	*) t_notok "$desc -> ${first:0:70}" ;;
	esac
	if grep -q '^SECRET' <<<"$out"; then t_notok "$desc: a SECRET was released"; fi
}

t_run "control: granted name is served" fetch app/good good-value
probe_denied "control: valid name not granted" --probe app/other
for n in '../etc/passwd' 'app/../app/good' 'app/good/..' '/app/good' 'app/good/' \
	'app//good' '.' '..' 'app/./good' './app/good' 'app/good ' 'app good' \
	$'app/\x01good' $'app/good\n' 'app/go%2e%2e' '\\..\\..\\x' '*' 'app/*'; do
	probe_denied "name $(printf '%q' "$n")" --probe "$n"
done
for len in 256 300 4096 16000 65535; do
	OVERSIZE=$([ "$len" -gt 16000 ] && echo 1) probe_denied "overlong name ($len bytes)" --probe-len "$len"
done
t_run "agent still running" kill -0 "$apid"
t_run "agent still serves app/good" fetch app/good good-value
if [ -s "$d/audit.log" ]; then
	t_fails "audit log never holds the value" grep -q 'good-value\|other-value' "$d/audit.log"
fi
t_done
