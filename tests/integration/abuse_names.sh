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

d=$(t_tmpdir)
S=$d/store.json K=$d/agent.key P=$d/policy.json SOCK=$d/agent.sock
kh() { "$KH" --store "$S" --key-file "$K" "$@"; }
kh init >/dev/null || { t_notok "keyhole init"; t_done; }
printf 'good-value' | kh put app/good
printf 'other-value' | kh put app/other
cat >"$P" <<'JSON'
{ "version": 1, "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
  "grant": [ { "secret": "app/good", "file": "good" } ] } ] }
JSON
"$AG" --store "$S" --key-file "$K" --policy "$P" --socket "$SOCK" \
	--admin-socket "$d/admin.sock" --audit-log "$d/audit.log" 2>"$d/agent.err" &
apid=$!
t_cleanup "kill $apid"
fetch() { "$ABUSE" "$SOCK" --hostile 0 --name "$1" --expect "$2" >/dev/null; }
t_run "agent serves app/good" t_wait_for "fetch app/good good-value" 10

# probe_denied DESC ARGS...: the first reply line is DENIED or ERROR.
probe_denied() {
	local desc=$1 out first; shift
	out=$("$ABUSE" "$SOCK" "$@" 2>&1)
	first=${out%%$'\n'*}
	case $first in
	DENIED* | ERROR*) t_ok "$desc -> ${first:0:70}" ;;
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
	probe_denied "overlong name ($len bytes)" --probe-len "$len"
done
t_run "agent still running" kill -0 "$apid"
t_run "agent still serves app/good" fetch app/good good-value
if [ -s "$d/audit.log" ]; then
	t_fails "audit log never holds the value" grep -q 'good-value\|other-value' "$d/audit.log"
fi
t_done
