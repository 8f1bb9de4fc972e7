#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Storage faults (docs/threat-model.md T8): a full disk (small tmpfs as the
# store dir), a read-only store dir, and the store deleted under a running
# agent. Writers must fail with one clear line and the I/O exit code (7),
# leave the old store byte-identical, and the agent keeps serving what it has.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole
[ -x "$KH" ] || t_skip "keyhole not built"
t_need_root

d=$(t_tmpdir)
mnt=$d/store
mkdir -p "$mnt"
mount -t tmpfs -o size=512k,mode=0700 "keyhole-faults-$$" "$mnt" || t_skip "cannot mount tmpfs"
. "$KH_ROOT/tests/lib-agent.sh"
S=$mnt/store.json # the whole lib-agent layout lives on the small tmpfs
rotate_from() { kh "$mnt" rotate "$1" <"$2"; } # NAME FILE

# expect_io_error DESC NAME VALUE_FILE: rotate fails cleanly, store unchanged.
expect_io_error() {
	local sum0 err rc
	sum0=$(sha256sum <"$S")
	err=$(rotate_from "$2" "$3" 2>&1 >/dev/null); rc=$?
	echo "# $1: exit $rc: $err"
	t_eq "$1: rotate fails with the I/O exit code" "$rc" 7
	t_eq "$1: one line on stderr" "$(printf '%s\n' "$err" | grep -c .)" 1
	t_eq "$1: store file byte-identical" "$(sha256sum <"$S")" "$sum0"
	t_eq "$1: old value still readable" "$(kh "$mnt" get "$2")" "v1"
}

t_run "init on a 512 KiB tmpfs" kh_store_new "$mnt"
t_run "put a" kh_put "$mnt" a v1
t_run "put b" kh_put "$mnt" b keep-me
head -c 65536 /dev/urandom >"$d/big"

# --- disk full ---
dd if=/dev/zero of="$mnt/fill" bs=4k status=none 2>/dev/null
echo "# filled: $(df --output=avail -k "$mnt" | tail -1 | tr -d ' ') KiB left"
expect_io_error "disk full" a "$d/big"
t_eq "disk full: no temp file left behind" \
	"$(find "$mnt" -mindepth 1 ! -name fill ! -name store.json ! -name '*.lock' ! -name agent.key ! -name writer.key | wc -l)" 0
rm -f "$mnt/fill"
t_run "disk freed: rotate works again" rotate_from a "$d/big"
t_run "disk freed: new value readable" cmp -s <(kh "$mnt" get a) "$d/big"
kh_rotate "$mnt" a v1

# --- read-only store dir ---
mount -o remount,ro "$mnt"
expect_io_error "read-only store dir" a "$d/big"
t_run "read-only store dir: list still works" kh "$mnt" list
mount -o remount,rw "$mnt"

# --- the store deleted under a running agent ---
AG=$KH_BUILD/keyholed ABUSE=$KH_BUILD/tools/abuse
if [ ! -x "$AG" ] || [ ! -x "$ABUSE" ]; then
	echo "# agent part skipped: keyholed or tools/abuse not built"; t_done
fi
SOCK=$mnt/agent.sock
cat >"$d/policy.json" <<'JSON'
{ "version": 1, "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
  "grant": [ { "secret": "a", "file": "a" }, { "secret": "b", "file": "b" } ] } ] }
JSON
kh_agent_start "$mnt" "$d/policy.json" || { t_notok "keyholed starts"; t_done; }
apid=$(kh_agent_pid "$mnt")
fetch() { "$ABUSE" "$SOCK" --hostile 0 --name "$1" --expect "$2" >/dev/null; }
t_run "agent serves a" t_wait_for "fetch a v1" 10
cp "$S" "$d/store.bak"
rm -f "$S"
sleep 0.5 # let it notice (inotify) and fail its reload
t_run "store deleted: agent still running" kill -0 "$apid"
t_run "store deleted: agent still serves a" fetch a v1
t_run "store deleted: agent still serves b" fetch b keep-me
echo "# agent log after deletion: $(tail -2 "$mnt/keyholed.log" | tr '\n' ' ')"
t_run "store deleted: status says the store is stale" sh -c "\"\$0\" --admin-socket '$mnt/admin.sock' status | grep -q '^store: *STALE'" "$KH_BUILD/keyhole"
t_run "store deleted: audit line (decision store)" grep -q '"decision": *"store".*reload failed' "$mnt/audit.log"
# a truncated / garbage store appearing in its place is not taken either
printf '{"version":' >"$S"
sleep 0.5
t_run "garbage store: agent still serves a" fetch a v1
cp "$d/store.bak" "$S.new" && mv "$S.new" "$S"
kh_rotate "$mnt" a v2
t_run "store restored and rotated: agent serves the new value" t_wait_for "fetch a v2" 10
t_run "store restored: status says ok" sh -c "\"\$0\" --admin-socket '$mnt/admin.sock' status | grep -q '^store: *ok'" "$KH_BUILD/keyhole"
t_run "store restored: audit line says so" grep -q '"decision": *"store".*readable again' "$mnt/audit.log"
t_done
