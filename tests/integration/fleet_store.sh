#!/bin/bash
# SPDX-License-Identifier: MIT
# The etcd keystore backend against a real 3-member TLS cluster with
# client-certificate auth: every store verb, ciphertext only in etcd,
# refused without/with a foreign client certificate, plain http refused to
# a non-loopback host, concurrent rotates of one name (CAS: no lost update,
# losers told to retry), a member down, the whole cluster down.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-etcd.sh"
ec_need
[ -x "$KH_BUILD/keyhole" ] || t_skip "build $KH_BUILD/keyhole first"

FD=$(t_tmpdir)
ec_start "$FD/ec" || { t_notok "etcd cluster starts"; t_done; }
S=$(ec_store "fleet$$")
K() { "$KH_BUILD/keyhole" --store "$S" --key-file "$FD/agent.key" "$@"; }

t_run "init publishes a new store in etcd" K init
t_fails "second init refuses to overwrite" K init
t_eq "meta key present" "$(ec_ctl get --keys-only "/keyhole/fleet$$/meta" | head -1)" "/keyhole/fleet$$/meta"
t_run "put" sh -c "printf 's3cret-one' | \"\$0\" --store '$S' --key-file '$FD/agent.key' put payments/db" "$KH_BUILD/keyhole"
t_eq "get" "$(K get payments/db)" "s3cret-one"
t_run "rotate" sh -c "printf 's3cret-two' | \"\$0\" --store '$S' --key-file '$FD/agent.key' rotate payments/db" "$KH_BUILD/keyhole"
t_eq "get after rotate" "$(K get payments/db)" "s3cret-two"
t_eq "history has 2 versions" "$(K history payments/db | wc -l)" "2"
t_eq "list shows payments/db" "$(K list | cut -f1)" "payments/db"
raw=$(ec_ctl get --print-value-only "/keyhole/fleet$$/records/payments%2Fdb")
t_run "the name is one key segment ('/' as %2F)" test -n "$raw"
t_run "etcd holds ciphertext only" sh -c "! printf '%s' '$raw' | grep -q s3cret"
t_run "etcd holds the sealed JSON" sh -c "printf '%s' '$raw' | grep -q '\"versions\"'"

# Offline sealing with the published public key, then import into etcd.
t_run "pubkey from etcd" sh -c "\"\$0\" --store '$S' pubkey >'$FD/store.pub'" "$KH_BUILD/keyhole"
printf 'sealed-offline' | "$KH_BUILD/keyhole" seal --pubkey "$FD/store.pub" --writer-key "$FD/writer.key" payments/api >"$FD/api.sealed.json"
t_run "import a sealed record" K import "$FD/api.sealed.json"
t_eq "imported record opens" "$(K get payments/api)" "sealed-offline"
t_run "rm imported" K rm payments/api

# Another store name in the same cluster is a separate store.
S2=$(ec_store "other$$")
t_fails "other name: no store there" "$KH_BUILD/keyhole" --store "$S2" --key-file "$FD/agent.key" list

# A record moved to another name in etcd does not open (AD binding).
ec_ctl put "/keyhole/fleet$$/records/payments%2Fmoved" "$raw" >/dev/null
t_fails "record moved to another key does not unseal" K get payments/moved
ec_ctl del "/keyhole/fleet$$/records/payments%2Fmoved" >/dev/null

# TLS: no client certificate, and a certificate from a CA etcd does not trust.
out=$(KEYHOLE_ETCD_CERT= KEYHOLE_ETCD_KEY= K list 2>&1); rc=$?
t_eq "no client cert: refused" "$rc/$(grep -c 'refused the TLS' <<<"$out")" "9/1"
out=$(KEYHOLE_ETCD_CERT=$FD/ec/rogue.crt KEYHOLE_ETCD_KEY=$FD/ec/rogue.key K list 2>&1); echo "# $out"
t_run "foreign client cert: refused" grep -q 'refused the TLS' <<<"$out"
out=$(KEYHOLE_ETCD_CACERT=$FD/ec/rogue-ca.crt K list 2>&1)
t_run "server cert from an untrusted CA: refused" grep -q 'refused the TLS' <<<"$out"

# Plain http: only to loopback, unless --etcd-insecure / KEYHOLE_ETCD_INSECURE.
# Run in a fresh network namespace (lo only, down): the non-loopback address
# is never actually dialled from this machine.
out=$(unshare -n "$KH_BUILD/keyhole" --store "etcd+http://192.0.2.1:2379/x" --key-file "$FD/agent.key" list 2>&1)
t_run "plain http to a non-loopback host refused" grep -q 'plain http to a non-loopback' <<<"$out"
out=$(KEYHOLE_ETCD_INSECURE=1 timeout 20 unshare -n "$KH_BUILD/keyhole" --store "etcd+http://192.0.2.1:9/x" \
	--key-file "$FD/agent.key" list 2>&1)
t_run "KEYHOLE_ETCD_INSECURE=1 lets it try (and fail to connect)" grep -q 'unreachable' <<<"$out"
out=$(timeout 20 unshare -n "$KH_BUILD/keyhole" --etcd-insecure --store "etcd+http://192.0.2.1:9/x" \
	--key-file "$FD/agent.key" list 2>&1)
t_run "--etcd-insecure does the same" grep -q 'unreachable' <<<"$out"
# The TLS flags stand for the environment variables.
out=$(env -u KEYHOLE_ETCD_CACERT -u KEYHOLE_ETCD_CERT -u KEYHOLE_ETCD_KEY "$KH_BUILD/keyhole" \
	--store "$S" --key-file "$FD/agent.key" --etcd-cacert "$KEYHOLE_ETCD_CACERT" \
	--etcd-cert "$KEYHOLE_ETCD_CERT" list --etcd-key "$KEYHOLE_ETCD_KEY" 2>&1)
t_eq "--etcd-cacert/--etcd-cert/--etcd-key (before and after the verb)" "$(cut -f1 <<<"$out")" "payments/db"
t_fails "malformed store URL" "$KH_BUILD/keyhole" --store "etcd://127.0.0.1/x" list

# Concurrent rotates of one name: every writer either lands its own version
# or is told to retry; no two writers get the same version; history keeps
# every landed value.
pids=() n=8
for ((i = 1; i <= n; i++)); do
	( printf 'value-%d' "$i" | K rotate --keep 20 payments/db >"$FD/rot.$i.out" 2>"$FD/rot.$i.err"
	  echo $? >"$FD/rot.$i.rc" ) &
	pids+=($!)
done
wait "${pids[@]}"
ok=0 bad=0
for ((i = 1; i <= n; i++)); do
	rc=$(cat "$FD/rot.$i.rc")
	if [ "$rc" = 0 ]; then ok=$((ok + 1));
	elif grep -q 'retry' "$FD/rot.$i.err"; then :; else bad=$((bad + 1)); fi
done
t_eq "every rotate landed or was told to retry" "$bad" "0"
hist=$(K history payments/db | wc -l)
t_eq "versions: 2 + one per landed rotate (no lost update)" "$hist" "$((2 + ok))"
t_eq "current version counts every landed rotate" "$(K history payments/db | head -1 | cut -f1)" "v$((2 + ok))"
landed=0
for ((i = 1; i <= n; i++)); do
	[ "$(cat "$FD/rot.$i.rc")" = 0 ] || continue
	for ((v = 1; v <= hist; v++)); do
		[ "$(K get payments/db --version "$v" 2>/dev/null)" = "value-$i" ] && landed=$((landed + 1)) && break
	done
done
t_eq "each landed value is one kept version" "$landed" "$ok"

# One member down: the CLI uses the others.
ec_stop_member 1
t_run "rotate with member 1 down" sh -c "printf 'three' | \"\$0\" --store '$S' --key-file '$FD/agent.key' rotate payments/db" "$KH_BUILD/keyhole"
t_eq "get with member 1 down" "$(K get payments/db)" "three"
ec_start_member 1
t_run "rm" K rm payments/db
t_eq "list empty after rm" "$(K list | wc -l)" "0"

# Whole cluster down: a clear error, quickly.
ec_stop_all
out=$(timeout 30 "$KH_BUILD/keyhole" --store "$S" --key-file "$FD/agent.key" list 2>&1); rc=$?
t_run "cluster down: clear error" grep -q 'store unreachable' <<<"$out"
t_run "cluster down: non-zero exit, no hang" test "$rc" -ne 0 -a "$rc" -ne 124
t_done
