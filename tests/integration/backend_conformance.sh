#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Backend conformance: the same cases against the file store and a real
# etcd cluster (tests/lib-etcd.sh). Every name proto_secret_name_valid()
# accepts, the README's payments/db first, works in put, get, rotate, rm,
# list, history, and a rotation is pushed through an agent to a watcher;
# names it refuses are refused the same way; rm + put continues the
# version sequence; a record without a writer signature is refused.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-etcd.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done

LONG=$(printf 'n%.0s' $(seq 1 120))/$(printf 'm%.0s' $(seq 1 134))
NAMES=(payments/db a/b/c plain A.b-c_d/e.f "$LONG")

# conform TAG STORE DIR: every case on one store
conform() {
	local tag=$1 s=$2 d=$3 n out rc
	# K reads globals: t_run's own "local d" would shadow ours (dynamic scope)
	CF_S=$s CF_D=$d
	K() { "$KH_BIN" --store "$CF_S" --key-file "$CF_D/agent.key" --admin-socket "$CF_D/admin.sock" "$@"; }
	t_run "[$tag] init" K init
	for n in "${NAMES[@]}"; do
		t_run "[$tag] put ${n:0:20}" sh -c "printf 'one-%s' '$n' | \"\$0\" --store '$s' --key-file '$d/agent.key' put '$n'" "$KH_BIN"
	done
	for n in "${NAMES[@]}"; do
		t_eq "[$tag] get ${n:0:20}" "$(K get "$n")" "one-$n"
	done
	t_eq "[$tag] list holds every name" "$(K list | cut -f1 | sort | tr '\n' ' ')" \
		"$(printf '%s\n' "${NAMES[@]}" | sort | tr '\n' ' ')"
	t_run "[$tag] rotate payments/db" sh -c "printf two | \"\$0\" --store '$s' --key-file '$d/agent.key' rotate payments/db" "$KH_BIN"
	t_eq "[$tag] get after rotate" "$(K get payments/db)" "two"
	t_eq "[$tag] get --version 1" "$(K get payments/db --version 1)" "one-payments/db"
	t_eq "[$tag] history" "$(K history payments/db | cut -f1 | tr '\n' ' ')" "v2 v1 "
	out=$(printf x | K put payments/db 2>&1); rc=$?
	t_eq "[$tag] put over an existing name: exit 4" "$rc" 4
	out=$(printf x | K rotate no/such 2>&1); rc=$?
	t_eq "[$tag] rotate a missing name: exit 3" "$rc" 3
	for n in a//b /a a/ ../x a/./b 'a b' 'a%2Fb'; do
		out=$(printf x | K put "$n" 2>&1); rc=$?
		t_eq "[$tag] refused name '$n': exit 2" "$rc" 2
	done
	t_run "[$tag] rm a/b/c" K rm a/b/c
	out=$(K get a/b/c 2>&1); rc=$?
	t_eq "[$tag] get after rm: exit 3" "$rc" 3
	t_run "[$tag] put after rm" sh -c "printf again | \"\$0\" --store '$s' --key-file '$d/agent.key' put a/b/c" "$KH_BIN"
	t_eq "[$tag] ... continues at version 2" "$(K history a/b/c | cut -f1)" "v2"
	t_eq "[$tag] verify" "$(K verify 2>&1 | tail -1)" "${#NAMES[@]} records, 0 failed"

	# watch and push through an agent
	kh_policy_host_uid0 "$d/p.json" payments/db a/b/c
	rm -f "$d/agent.sock" "$d/admin.sock"
	"$KHD_BIN" --store "$s" --key-file "$d/agent.key" --policy "$d/p.json" --socket "$d/agent.sock" \
		--admin-socket "$d/admin.sock" --audit-log "$d/audit.log" </dev/null >>"$d/keyholed.log" 2>&1 &
	local ap=$!
	t_cleanup "kill -KILL $ap"
	t_wait_for "[ -S '$d/agent.sock' ]" 10
	t_run "[$tag] agent serves payments/db" bash -c "'$KC' '$d/agent.sock' payments/db | grep -q 'value=two'"
	"$KC" "$d/agent.sock" --watch --batches 2 --timeout-ms 8000 payments/db a/b/c >"$d/w.out" &
	local wp=$!
	t_cleanup "kill $wp"
	t_wait_for "grep -q '^END' '$d/w.out'" 5
	printf three | K rotate payments/db >/dev/null
	t_run "[$tag] rotation pushed to the watcher" t_wait_for "grep -q '^SECRET name=payments/db version=3 .*value=three' '$d/w.out'" 5
	wait $wp
	t_run "[$tag] status: no record refused" bash -c "! '$KH_BIN' --admin-socket '$d/admin.sock' status | grep -q refused"
	kill -TERM $ap; wait $ap 2>/dev/null
}

# upgrade TAG STORE DIR: the format-1 KAT in the backend, then migrate --sign
upgrade() {
	local tag=$1 s=$2 d=$3 out rc
	CF_S=$s CF_D=$d
	mkdir -p "$d" && cp "$KH_ROOT/tests/kat/agent.key" "$d/agent.key" && chmod 0400 "$d/agent.key"
	"$KH_BIN" writer new "$d/writer.key" >/dev/null && "$KH_BIN" writer add "kat-$tag" --key "$d/writer.key" >/dev/null
	out=$(K list 2>&1)
	t_run "[$tag] format 1 reads, with a warning" grep -q 'format 1 (records unsigned)' <<<"$out"
	t_eq "[$tag] format 1 value" "$(K get kat/plain 2>/dev/null)" "correct horse battery staple"
	out=$(printf x | K put kat/new 2>&1); rc=$?
	t_eq "[$tag] no writes before migrate (exit 6)" "$rc" 6
	t_run "[$tag] ... says what to do" grep -q 'migrate --sign' <<<"$out"
	t_run "[$tag] migrate --sign" K migrate --sign
	out=$(K verify 2>&1)
	t_eq "[$tag] signed: verify" "$(tail -1 <<<"$out")" "3 records, 0 failed"
	t_fails "[$tag] no warning any more" grep -q 'format 1' <<<"$out"
	t_run "[$tag] writes work" sh -c "printf new | \"\$0\" --store '$s' --key-file '$d/agent.key' put kat/new" "$KH_BIN"
	out=$(K migrate --sign 2>&1); rc=$?
	t_eq "[$tag] migrate twice: exit 6 (already signed)" "$rc" 6
}

d=$(t_tmpdir)
conform file "$d/store.json" "$d"
cp "$KH_ROOT/tests/kat/store.json" "$d/v1.json"
upgrade file "$d/v1.json" "$d/v1"

if command -v etcd >/dev/null && command -v etcdctl >/dev/null && command -v openssl >/dev/null; then
	e=$(t_tmpdir)
	if ec_start "$e/ec"; then
		conform etcd "$(ec_store "conform$$")" "$e"
		raw=$(ec_ctl get --print-value-only "/keyhole/conform$$/records/payments%2Fdb")
		t_run "[etcd] payments/db is the key segment payments%2Fdb" test -n "$raw"
		# the format-1 KAT written into etcd key by key, as an older keyhole did
		python3 - "$KH_ROOT/tests/kat/store.json" "$e/v1" <<'PY'
import json, os, sys
s = json.load(open(sys.argv[1])); os.makedirs(sys.argv[2], exist_ok=True)
recs = s.pop("records")
open(sys.argv[2] + "/meta", "w").write(json.dumps(s))
for n, r in recs.items():
    open(sys.argv[2] + "/rec." + n.replace("/", "%2F"), "w").write(json.dumps(r))
PY
		ec_ctl put "/keyhole/v1$$/meta" <"$e/v1/meta" >/dev/null
		for f in "$e"/v1/rec.*; do
			ec_ctl put "/keyhole/v1$$/records/${f##*/rec.}" <"$f" >/dev/null
		done
		upgrade etcd "$(ec_store "v1$$")" "$e/v1"
	else
		t_notok "[etcd] cluster starts"
	fi
else
	echo "# etcd not installed: etcd half skipped"
	t_skip "etcd/etcdctl/openssl not installed (Debian: etcd-server etcd-client)"
fi
t_done
