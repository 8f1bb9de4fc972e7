#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# keyholed --kubelet against a stand-in kubelet (there is none here):
# tests/tools/fake_kubelet.py serves the recorded /pods fixture over HTTPS
# and checks the client certificate (or bearer token), with certificates
# made by openssl in the test directory. Processes are moved, as root, into
# kubepods-shaped cgroups in every hierarchy (systemd and cgroupfs driver
# layouts) with the fixture's pod uids and container ids, and ask for
# secrets. Checked: namespace + service-account rules grant; another
# namespace is denied; a pod-uid mismatch is refused; explain shows the pod;
# token auth; a wrong token, a wrong CA, an unreachable and a hung kubelet
# fail closed (k8s_hung.sh: without stalling other clients); a private
# cgroup namespace is joined or refused clearly.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-k8s.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done
T=$(t_tmpdir)
k8s_setup "$T"
fake_start ok ok
fake_start hang hang
fake_start stall stall
KURL=https://127.0.0.1:$PORT_ok

D=$T/agent
mkdir -p "$D"
kh_store_new "$D"
kh_put "$D" payments/db "db-pass"; kh_put "$D" shop/key "shop-key"; kh_put "$D" host/ping "pong"
cat >"$D/p.json" <<'JSON'
{ "version": 1, "rules": [
  { "name": "payments-api",
    "match": { "k8s": { "namespace": "payments", "service_account": "api" } },
    "require": { "k8s": { "privileged": false, "root": false,
                          "host_paths": ["/run/keyhole"] } },
    "grant": [ { "secret": "payments/db" } ] },
  { "name": "shop", "match": { "k8s": { "namespace": "shop" } },
    "grant": [ { "secret": "shop/key" } ] },
  { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
    "grant": [ { "secret": "host/ping" } ] } ] }
JSON
S=$D/agent.sock
CERT_ARGS=(--kubelet-cacert "$T/ca.pem" --kubelet-cert "$T/client.pem" --kubelet-key "$T/client.key")

t_run "agent starts with --kubelet (client certificate)" kh_agent_start "$D" "$D/p.json" \
	--kubelet "$KURL" "${CERT_ARGS[@]}"
cgf=$(in_cg "$CG_API" cat /proc/self/cgroup)
t_run "helper really runs in the kubepods systemd scope" grep -q "^0::/$CG_API\$" <<<"$cgf"

out=$(in_cg "$CG_API" "$KC" "$S" payments/db shop/key host/ping)
t_run "namespace + service-account rule grants payments/db" \
	grep -q "^SECRET name=payments/db .*value=db-pass" <<<"$out"
t_run "another namespace's secret is denied, with the first failing selector" \
	grep -q "^DENIED name=shop/key reason=no rule grants 'shop/key' to pod payments/api-7d9f8c6b5-x2x4z container api (rule shop: namespace 'payments' is not 'shop')" <<<"$out"
t_run "the release is audited with the pod's namespace and service account" sh -c \
	"grep '\"namespace\":\"payments\",\"pod\":\"[^\"]*\",\"service_account\":\"api\"' '$D/audit.log' | grep -q '\"decision\":\"release\"'"
t_run "the kubelet saw our client certificate" grep -q "GET /pods auth=cert" "$T/ok.log"

out=$(in_cg "$CG_WEB" "$KC" "$S" shop/key payments/db)
t_run "a shop pod (CRI-O scope) gets shop/key" grep -q "^SECRET name=shop/key .*value=shop-key" <<<"$out"
t_run "... and not payments/db (namespace)" \
	grep -q "^DENIED name=payments/db reason=.*rule payments-api: namespace 'shop' is not 'payments'" <<<"$out"

out=$(in_cg "$CG_MISMATCH" "$KC" "$S" payments/db)
t_run "pod-uid mismatch (cgroup names another pod) is refused" \
	grep -q "^ERROR code=.*reason=pod uid $UID_OTHER in the cgroup is not the uid of the pod" <<<"$out"
t_run "... and audited as a refusal" grep -q "\"decision\":\"refuse\".*pod uid $UID_OTHER" "$D/audit.log"

sleep 1.1 # past the refresh interval: the miss below asks the kubelet again
out=$(in_cg "$CG_GONE" "$KC" "$S" payments/db)
t_run "a container the kubelet does not list (yet) is told BUSY, not served" \
	grep -q "^ERROR code=5 reason=the kubelet does not list container ${ID_GONE:0:12} (yet): retry" <<<"$out"
# A container's first call usually comes before the kubelet's status lists
# it: the shim retries BUSY, and gets its secret once the kubelet lists it.
SHIM=$KH_BUILD/keyhole-shim
if [ -x "$SHIM" ]; then
	mkdir -p "$T/secrets"
	in_cg "$CG_GONE" "$SHIM" --socket "$S" --dir "$T/secrets" --allow-disk --timeout 15 \
		--secret payments/db -- cat "$T/secrets/payments_db" >"$T/shim.out" 2>&1 &
	shp=$!
	t_wait_for "grep -c 'GET /pods' '$T/ok.log' | grep -qv '^[0-2]\$'" 5
	python3 - "$T/pods.json" "$ID_API" "$ID_GONE" <<'PY'
import json, sys
path, api, gone = sys.argv[1:]
d = json.load(open(path))
st = d["items"][0]["status"]["containerStatuses"]
extra = dict(st[0], containerID="containerd://" + gone)
st.append(extra)  # a second "api" status: the new container of the same name
json.dump(d, open(path + ".new", "w"))
PY
	mv "$T/pods.json.new" "$T/pods.json"
	wait "$shp"
	# the delivered file is what the shim got (its app's stdout can be lost
	# when the app's output races the shim's exit under load)
	t_eq "shim in a not-yet-listed container: retries, then gets the secret" \
		"$(cat "$T/secrets/payments_db" 2>/dev/null)" "db-pass"
	sed 's/^/# shim: /' "$T/shim.out"; ls -la "$T/secrets" | sed 's/^/# dir: /'
	n=$(grep -c "does not list container ${ID_GONE:0:12}" "$D/audit.log")
	# refusals are summarised per identity and window: the first is written
	t_run "... after at least one BUSY of its own ($n written)" test "$n" -ge 1
else
	echo "ok # skip no keyhole-shim"
fi

# explain: a parked process in the api container's cgroup
in_cg "$CG_API" sleep 30 2>/dev/null &
sh=$!
t_cleanup "pkill -P $sh; kill $sh"
t_wait_for "sp=\$(pgrep -P $sh sleep) && grep -q cri-containerd /proc/\$sp/cgroup" 5
ex=$(kh "$D" explain --pid "$sp" 2>&1)
t_run "explain shows the pod identity" grep -q '"namespace":"payments"' <<<"$ex"
t_run "explain shows the k8s rule matched and the other's reason" \
	bash -c 'grep -q "MATCH   payments-api: matched" <<<"$1" && grep -q "no      shop: namespace '"'"'payments'"'"' is not '"'"'shop'"'"'" <<<"$1"' _ "$ex"
kill "$sp" 2>/dev/null; wait "$sh" 2>/dev/null

# host processes are untouched by --kubelet
t_run "host process still gets host/ping" bash -c "'$KC' '$S' host/ping | grep -q '^SECRET name=host/ping'"

# ---- bearer token instead of a certificate; then a wrong token
kh_agent_stop "$D"
t_run "agent starts with --kubelet-token-file" kh_agent_start "$D" "$D/p.json" \
	--kubelet "$KURL" --kubelet-cacert "$T/ca.pem" --kubelet-token-file "$T/token"
out=$(in_cg "$CG_API" "$KC" "$S" payments/db)
t_run "token auth: payments/db granted" grep -q "^SECRET name=payments/db" <<<"$out"
t_run "the kubelet saw the bearer token" grep -q "GET /pods auth=token" "$T/ok.log"
kh_agent_stop "$D"
kh_agent_start "$D" "$D/p.json" --kubelet "$KURL" --kubelet-cacert "$T/ca.pem" \
	--kubelet-token-file "$T/token.bad" || t_notok "agent start (wrong token)"
out=$(in_cg "$CG_API" "$KC" "$S" payments/db)
t_run "wrong token: denied, kubelet refused our credentials" \
	grep -q "^DENIED name=payments/db reason=.*kubelet refused our credentials" <<<"$out"

# ---- the kubelet's certificate is checked
kh_agent_stop "$D"
kh_agent_start "$D" "$D/p.json" --kubelet "$KURL" --kubelet-cacert "$T/other.pem" \
	--kubelet-cert "$T/client.pem" --kubelet-key "$T/client.key" || t_notok "agent start (other CA)"
out=$(in_cg "$CG_API" "$KC" "$S" payments/db)
t_run "kubelet certificate from another CA: denied (TLS)" \
	grep -q "^DENIED name=payments/db reason=.*kubelet unreachable: Protocol error" <<<"$out"

# ---- option errors: one line, exit 2, nothing started
kh_agent_stop "$D"
err=$("$KHD_BIN" --store "$D/store.json" --key-file "$D/agent.key" --policy "$D/p.json" \
	--socket "$T/x.sock" --admin-socket "$T/xa.sock" --kubelet http://127.0.0.1:10255 2>&1)
t_eq "plain http without --kubelet-insecure: exit 2" "$?" 2
t_run "... with a clear message" grep -q "only with --kubelet-insecure" <<<"$err"
err=$("$KHD_BIN" --store "$D/store.json" --key-file "$D/agent.key" --policy "$D/p.json" \
	--socket "$T/x.sock" --admin-socket "$T/xa.sock" --kubelet "$KURL" \
	--kubelet-cert "$T/client.pem" 2>&1)
t_run "--kubelet-cert without --kubelet-key refused" grep -q "go together" <<<"$err"
err=$("$KHD_BIN" --store "$D/store.json" --key-file "$D/agent.key" --policy "$D/p.json" \
	--socket "$T/x.sock" --admin-socket "$T/xa.sock" --kubelet-cacert "$T/ca.pem" 2>&1)
t_run "--kubelet-* without --kubelet refused" grep -q "need --kubelet URL" <<<"$err"

# ---- unreachable kubelet: fail closed, host clients unaffected
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kh_agent_start "$D" "$D/p.json" --kubelet "https://127.0.0.1:$dead" "${CERT_ARGS[@]}" ||
	t_notok "agent start (unreachable kubelet)"
out=$(in_cg "$CG_API" "$KC" "$S" payments/db)
t_run "unreachable kubelet: denied, reason says so" \
	grep -q "^DENIED name=payments/db reason=.*kubelet unreachable: Connection refused" <<<"$out"
t_run "unreachable kubelet: host process still served" \
	bash -c "'$KC' '$S' host/ping | grep -q '^SECRET name=host/ping'"

# ---- hung kubelet (accepts, never answers): fail closed after the timeout
kh_agent_stop "$D"
kh_agent_start "$D" "$D/p.json" --kubelet "https://127.0.0.1:$PORT_hang" "${CERT_ARGS[@]}" ||
	t_notok "agent start (hung kubelet)"
in_cg "$CG_API" "$KC" "$S" --timeout-ms 20000 payments/db >"$T/hung.out" 2>&1 &
pa=$!
t_wait_for "grep -q ACCEPT '$T/hang.log'" 5
t0=$(date +%s%N)
"$KC" "$S" --timeout-ms 20000 host/ping >"$T/host.out" 2>&1
t1=$(date +%s%N)
wait "$pa"
t_run "hung kubelet: the pod's request is denied (timed out)" \
	grep -q "^DENIED name=payments/db reason=.*kubelet unreachable: Connection timed out" "$T/hung.out"
t_run "hung kubelet: a host client is still served" grep -q "^SECRET name=host/ping" "$T/host.out"
echo "# a host client took $(((t1 - t0) / 1000000)) ms while a kubelet lookup hung (its own thread)"
out=$(in_cg "$CG_API" "$KC" "$S" payments/db)
t_run "right after: denied again (remembered failure or a new timeout)" \
	grep -q "^DENIED name=payments/db reason=.*Connection timed out" <<<"$out"
kh_agent_stop "$D"

# ---- a kubelet that completes TLS, reads the request and never answers
kh_agent_start "$D" "$D/p.json" --kubelet "https://127.0.0.1:$PORT_stall" "${CERT_ARGS[@]}" ||
	t_notok "agent start (stalled kubelet)"
in_cg "$CG_API" "$KC" "$S" --timeout-ms 20000 payments/db >"$T/stall.out" 2>&1 &
pa=$!
t_wait_for "grep -q 'GET /pods' '$T/stall.log'" 5
t0=$(date +%s%N)
"$KC" "$S" --timeout-ms 20000 host/ping >"$T/host2.out" 2>&1
t1=$(date +%s%N)
wait "$pa"
t_run "stalled kubelet: the pod's request is denied (timed out)" \
	grep -q "^DENIED name=payments/db reason=.*kubelet unreachable: Connection timed out" "$T/stall.out"
t_run "stalled kubelet: a host client is still served" grep -q "^SECRET name=host/ping" "$T/host2.out"
echo "# a host client took $(((t1 - t0) / 1000000)) ms while a kubelet lookup stalled (request sent, no answer)"
kh_agent_stop "$D"

# ---- a private cgroup namespace: joined (hostPID + CAP_SYS_ADMIN) or refused
if command -v unshare >/dev/null && command -v setpriv >/dev/null; then
	err=$(unshare -C setpriv --bounding-set -sys_admin --inh-caps -sys_admin \
		"$KHD_BIN" --store "$D/store.json" --key-file "$D/agent.key" --policy "$D/p.json" \
		--socket "$T/ns.sock" --admin-socket "$T/nsa.sock" --kubelet "$KURL" "${CERT_ARGS[@]}" 2>&1)
	t_eq "private cgroupns without CAP_SYS_ADMIN: exit 1" "$?" 1
	t_run "... saying why" grep -q "runs in a private cgroup namespace" <<<"$err"
	if readlink /proc/1/ns/cgroup >/dev/null 2>&1; then
		unshare -C "$KHD_BIN" --store "$D/store.json" --key-file "$D/agent.key" \
			--policy "$D/p.json" --socket "$T/ns.sock" --admin-socket "$T/nsa.sock" \
			--kubelet "$KURL" "${CERT_ARGS[@]}" >"$T/ns.log" 2>&1 &
		np=$!
		t_cleanup "kill -KILL $np"
		t_wait_for "[ -S '$T/ns.sock' ] || ! kill -0 $np" 10
		t_run "private cgroupns with CAP_SYS_ADMIN: joins pid 1's" \
			grep -q "joined the host cgroup namespace" "$T/ns.log"
		out=$(in_cg "$CG_API" "$KC" "$T/ns.sock" payments/db)
		t_run "... and attests a pod caller by its host cgroup path" \
			grep -q "^SECRET name=payments/db" <<<"$out"
		kill "$np" 2>/dev/null
	else
		echo "ok # skip joining pid 1's cgroup namespace: /proc/1/ns/cgroup is not readable here"
	fi
else
	echo "ok # skip cgroup namespace check: no unshare/setpriv"
fi
t_done
