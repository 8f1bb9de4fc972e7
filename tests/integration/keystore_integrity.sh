#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Store integrity (docs/threat-model.md), each attack a security review ran
# with write access to the store but no private key:
#  1. a value sealed with only the public key, spliced into store.json,
#     is refused by keyholed (not served), `keyhole verify` and `get` (which
#     name the signature check); the other records keep working;
#  2. an older copy of a record restored under a running agent is not
#     served nor pushed to a live watcher (newer value kept, log + audit
#     line), is denied after a restart, and `verify --state` reports it;
#     rm + put continues the version sequence;
#  3. a swapped public key in a passphrase store is refused by `put`
#     without the passphrase (pinned fingerprint, exit 10, like ssh).
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done
command -v python3 >/dev/null || t_skip "python3 needed to edit store.json"

# splice FILE NAME SEALED: replace NAME's versions with the sealed record
splice() {
	python3 - "$@" <<'PY'
import json, sys
f, name, sealed = sys.argv[1:]
s = json.load(open(f)); r = json.load(open(sealed))["record"]
s["records"][name] = {"versions": [r]}
json.dump(s, open(f + ".new", "w"), indent=1, sort_keys=True)
PY
	mv "$1.new" "$1"
}

# --- 1. spliced record sealed with only the public key
d=$(t_tmpdir)
kh_store_new "$d" || { t_notok "keyhole init"; t_done; }
kh_put "$d" payments/db "postgres://good"
kh_put "$d" payments/api "api-key-1"
kh_policy_host_uid0 "$d/p.json" payments/db payments/api
t_run "agent starts" kh_agent_start "$d" "$d/p.json"
S=$d/agent.sock
t_run "good value served" bash -c "'$KC' '$S' payments/db | grep -q 'value=postgres://good'"
kh "$d" pubkey >"$d/store.pub" 2>/dev/null
# the attacker: no private key, no writer key
printf 'ATTACKER-CHOSEN' | env -u KEYHOLE_WRITER_KEY "$KH_BIN" seal --pubkey "$d/store.pub" \
	payments/db --version 99 >"$d/evil.json" 2>/dev/null
splice "$d/store.json" payments/db "$d/evil.json"
sleep 1
out=$("$KC" "$S" payments/db)
t_fails "spliced value is not served ($out)" grep -q ATTACKER <<<"$out"
t_run "the other record keeps working" bash -c "'$KC' '$S' payments/api | grep -q 'value=api-key-1'"
t_run "agent logs the refusal" t_wait_for "grep -q 'payments/db: record refused.*signature' '$d/keyholed.log'" 3
t_run "audit names it" grep -q '"secret":"payments/db".*signature' "$d/audit.log"
out=$(kh "$d" status)
t_run "status names it" grep -q '^refused: *payments/db (signature' <<<"$out"
out=$(kh "$d" verify 2>&1); rc=$?
t_eq "verify fails (exit 6)" "$rc" 6
t_run "verify names the record and the signature check" grep -q 'payments/db: signature check failed' <<<"$out"
t_run "verify counts it" grep -q '2 records, 1 failed' <<<"$out"
out=$(kh "$d" get payments/db 2>&1); rc=$?
t_eq "get refuses it (exit 6)" "$rc" 6
t_run "get names the signature check ($out)" grep -q 'signature check failed' <<<"$out"
# a writer key that is not pinned does not help either
"$KH_BIN" writer new "$d/rogue.key" >/dev/null 2>&1
printf 'ATTACKER-2' | "$KH_BIN" seal --pubkey "$d/store.pub" --writer-key "$d/rogue.key" \
	payments/api --version 50 >"$d/evil2.json" 2>/dev/null
splice "$d/store.json" payments/api "$d/evil2.json"
sleep 1
t_fails "record signed by an unpinned writer is not served" bash -c "'$KC' '$S' payments/api | grep -q ATTACKER"
# the same, sealed offline by a pinned writer and imported: accepted
printf 'sealed-in-ci' | "$KH_BIN" seal --pubkey "$d/store.pub" --writer-key "$d/writer.key" \
	payments/ci >"$d/ci.json" 2>/dev/null
t_run "import of a record sealed by a pinned writer" kh "$d" import "$d/ci.json"
t_eq "and it opens" "$(kh "$d" get payments/ci 2>/dev/null)" "sealed-in-ci"
# pinning the rogue writer (writer add) makes its record readable; revoking
# it (writer revoke) refuses it again
t_run "writer list shows the admin pinned by init" bash -c "'$KH_BIN' writer list | grep -q '^admin '"
t_run "writer add --key" "$KH_BIN" writer add rogue --key "$d/rogue.key"
t_eq "a pinned writer's record opens" "$(kh "$d" get payments/api 2>/dev/null)" "ATTACKER-2"
t_run "writer revoke" "$KH_BIN" writer revoke rogue
out=$(kh "$d" get payments/api 2>&1); rc=$?
t_eq "after revoke it is refused again (exit 6)" "$rc" 6
t_fails "revoked writer is not listed" bash -c "'$KH_BIN' writer list | grep -q '^rogue '"
kh_agent_stop "$d"

# --- 2. rollback: restore an older record under a live watcher
d=$(t_tmpdir)
kh_store_new "$d" || { t_notok "keyhole init"; t_done; }
kh_put "$d" w/a "alpha-1"
kh_rotate "$d" w/a "alpha-2"
cp -p "$d/store.json" "$d/old.json"
kh_rotate "$d" w/a "alpha-3"
kh_policy_host_uid0 "$d/p.json" w/a
t_run "agent starts" kh_agent_start "$d" "$d/p.json"
S=$d/agent.sock
"$KC" "$S" --watch --batches 2 --timeout-ms 4000 w/a >"$d/w.out" &
wp=$!; t_cleanup "kill $wp"
t_wait_for "grep -q '^END' '$d/w.out'" 5
t_run "watcher holds version 3" grep -q '^SECRET name=w/a version=3' "$d/w.out"
cp -p "$d/old.json" "$d/store.json.tmp" && mv "$d/store.json.tmp" "$d/store.json"
t_run "rollback logged" t_wait_for "grep -q 'w/a: store offers version 2, older than version 3 already served: rollback refused, keeping the newer value' '$d/keyholed.log'" 3
t_run "rollback audited" grep -q '"secret":"w/a","version":2.*rollback refused' "$d/audit.log"
wait $wp
t_fails "older version not pushed to the watcher" grep -q 'version=2' "$d/w.out"
t_run "agent keeps serving version 3" bash -c "'$KC' '$S' w/a | grep -q '^SECRET name=w/a version=3 .*value=alpha-3'"
out=$(kh "$d" verify --state "$KEYHOLE_STATE" 2>&1); rc=$?
t_eq "verify --state fails (exit 6)" "$rc" 6
t_run "verify --state names the rollback ($out)" grep -q 'w/a: rollback check failed' <<<"$out"
kh_agent_restart "$d" || t_notok "agent restarts"
out=$("$KC" "$d/agent.sock" w/a)
t_run "after a restart the rolled-back record is denied ($out)" grep -q '^DENIED name=w/a' <<<"$out"
kh_agent_stop "$d"
# rm + put continues the sequence, never back to 1
cp -p "$d/old.json" "$d/store.json"
kh_rotate "$d" w/a "alpha-3b"
kh_rotate "$d" w/a "alpha-4"
kh "$d" rm w/a
kh_put "$d" w/a "alpha-again"
t_eq "put after rm is version 5" "$(kh "$d" list | cut -f1,2)" "$(printf 'w/a\tv5')"
t_run "agent serves it" kh_agent_start "$d" "$d/p.json"
t_run "v5 served" bash -c "'$KC' '$d/agent.sock' w/a | grep -q '^SECRET name=w/a version=5'"
kh_agent_stop "$d"

# --- 3. swapped public key in a passphrase store
d=$(t_tmpdir)
P() { "$KH_BIN" --store "$d/store.json" --key-file "$d/agent.key" "$@"; }
echo 'pass phrase 1' >"$d/pass"
P --passphrase-fd 3 init --passphrase 3<"$d/pass" >/dev/null
# a CI writer: writer key, no private key, no trust file on this host
CI() { KEYHOLE_WRITERS=$d/none P "$@"; }
out=$(printf 'v1' | CI put app/one 2>&1); rc=$?
t_eq "first writer put records the pin" "$rc" 0
t_run "and prints the fingerprint" grep -q 'first use of store .*SHA256:' <<<"$out"
# attacker swaps the public key for their own
P --store "$d/evil.json" --key-file "$d/evil.key" init >/dev/null 2>&1
python3 - "$d/store.json" "$d/evil.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); e = json.load(open(sys.argv[2]))
s["public_key"] = e["public_key"]
json.dump(s, open(sys.argv[1], "w"), indent=1, sort_keys=True)
PY
out=$(printf 'secret' | CI put app/two 2>&1); rc=$?
t_eq "put with a swapped public key is refused (exit 10)" "$rc" 10
t_run "loudly, like ssh ($out)" grep -q 'STORE PUBLIC KEY HAS CHANGED' <<<"$out"
t_fails "nothing written" grep -q 'app/two' "$d/store.json"
out=$(printf 'secret' | P put app/three 2>&1); rc=$?
t_eq "with the trust file: refused by the meta signature (exit 6)" "$rc" 6
fp=$(P --store "$d/evil.json" pubkey --fingerprint)
out=$(printf 'x' | KEYHOLE_PUBKEY_FINGERPRINT=$fp CI put app/four 2>&1); rc=$?
t_eq "explicit --pubkey-fingerprint of the new key passes the pin" "$rc" 0
good=$(grep -o 'SHA256:[^ ]*' "$KEYHOLE_KNOWN_STORES" | head -1)
out=$(printf 'x' | CI --pubkey-fingerprint "$good" put app/five 2>&1); rc=$?
t_eq "explicit --pubkey-fingerprint mismatch: exit 10" "$rc" 10
CI pubkey >"$d/swapped.pub" 2>/dev/null
printf 's' | "$KH_BIN" seal --pubkey "$d/swapped.pub" app/six >/dev/null 2>&1; rc=$?
t_eq "seal with the swapped public key: exit 10" "$rc" 10
t_done
