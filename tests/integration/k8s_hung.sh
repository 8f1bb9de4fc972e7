#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A hung kubelet cannot stall the agent (issue: kubelet lookups off the
# event loop). The stand-in kubelet completes TLS, reads GET /pods and never
# answers; keyholed runs with --kubelet-timeout 8. Several pod callers (two
# pods, five connections) ask at once; a root host fetch started while they
# wait must be served while every one of them is still waiting (checked by
# order: the host reply is in, no pod caller has had an answer and each is
# still alive), not by a latency figure. Then: the pod callers fail closed
# after the timeout (DENIED, the reason names the kubelet), the kubelet saw
# one request for all of them (lookups folded), and a second wave within
# the failure window is refused at once from the remembered failure,
# without a new request to the kubelet. Last, a kubelet that answers after
# 6 s, past the 5 s read deadline: the waiting pod caller is served (its
# deadline runs from the kubelet's answer, not from accept).
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-k8s.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done
T=$(t_tmpdir)
k8s_setup "$T"
fake_start stall stall

D=$T/agent
mkdir -p "$D"
kh_store_new "$D"
kh_put "$D" payments/db "db-pass"; kh_put "$D" shop/key "shop-key"; kh_put "$D" host/ping "pong"
cat >"$D/p.json" <<'JSON'
{ "version": 1, "rules": [
  { "name": "payments-api",
    "match": { "k8s": { "namespace": "payments", "service_account": "api" } },
    "grant": [ { "secret": "payments/db" } ] },
  { "name": "shop", "match": { "k8s": { "namespace": "shop" } },
    "grant": [ { "secret": "shop/key" } ] },
  { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
    "grant": [ { "secret": "host/ping" } ] } ] }
JSON
S=$D/agent.sock
KT=8 # --kubelet-timeout: long beside everything else the test waits for
kh_agent_start "$D" "$D/p.json" --kubelet "https://127.0.0.1:$PORT_stall" "${CERT_ARGS[@]}" \
	--kubelet-timeout "$KT" || { t_notok "agent starts with a stalled kubelet"; t_done; }

requests() { grep -c 'GET /pods' "$T/stall.log"; }

# wave NAME: five pod callers (three in the api pod, two in the web pod)
# in the background; their pids in WAVE_PIDS, output in T/NAME.N
wave() {
	local i cg
	WAVE_PIDS=()
	for i in 1 2 3 4 5; do
		cg=$CG_API
		[ "$i" -gt 3 ] && cg=$CG_WEB
		in_cg "$cg" "$KC" "$S" --timeout-ms 30000 payments/db shop/key >"$T/$1.$i" 2>&1 &
		WAVE_PIDS+=($!)
	done
}
alive() { local p n=0; for p in "${WAVE_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo "$n"; }
answered() { local f n=0; for f in "$T/$1".*; do [ -s "$f" ] && n=$((n + 1)); done; echo "$n"; }

# ---- wave 1 waits on the kubelet; a host root fetch meanwhile
wave w1
t_wait_for "[ \$(requests) -ge 1 ]" 10 || t_notok "the pod callers' lookup reached the kubelet"
sleep 0.3 # let every pod caller connect and start waiting
"$KC" "$S" --timeout-ms 30000 host/ping >"$T/host.out" 2>&1
n_alive=$(alive) n_answered=$(answered w1)
t_run "host root fetch served while the kubelet hangs" grep -q "^SECRET name=host/ping .*value=pong" "$T/host.out"
t_eq "... while all five pod callers were still waiting (alive)" "$n_alive" 5
t_eq "... and none of them had an answer yet" "$n_answered" 0
st=$(kh "$D" status 2>&1)
t_run "keyhole status answers while the kubelet hangs" grep -qi "connections" <<<"$st"

for p in "${WAVE_PIDS[@]}"; do wait "$p"; done
ok=0
for i in 1 2 3 4 5; do
	if grep -q "^DENIED name=.* reason=.*kubelet unreachable: Connection timed out" "$T/w1.$i"; then
		ok=$((ok + 1))
	else
		sed "s/^/# w1.$i: /" "$T/w1.$i"
	fi
	grep -q "^SECRET" "$T/w1.$i" && t_notok "pod caller $i got a secret from a hung kubelet"
done
sed 's/^/# w1.1: /' "$T/w1.1"
t_eq "after the timeout every pod caller is denied, naming the kubelet" "$ok" 5
t_eq "one kubelet request for five callers in two pods (folded)" "$(requests)" 1

# ---- wave 2, right after: the remembered failure answers at once
wave w2
for p in "${WAVE_PIDS[@]}"; do wait "$p"; done
ok=0
for i in 1 2 3 4 5; do
	if grep -q "^DENIED name=.* reason=.*kubelet unreachable: Connection timed out" "$T/w2.$i"; then
		ok=$((ok + 1))
	else
		sed "s/^/# w2.$i: /" "$T/w2.$i"
	fi
done
sed 's/^/# w2.1: /' "$T/w2.1"
t_eq "a second wave within the failure window is denied, naming the kubelet" "$ok" 5
t_eq "... without a new request to the kubelet" "$(requests)" 1
t_run "the agent is still up" kill -0 "$(kh_agent_pid "$D")"
kh_agent_stop "$D"

# ---- a slow kubelet (answers after 6 s, past the 5 s read deadline): the
# waiting pod caller is served, its read deadline runs from the answer
fake_start slow slow
kh_agent_start "$D" "$D/p.json" --kubelet "https://127.0.0.1:$PORT_slow" "${CERT_ARGS[@]}" \
	--kubelet-timeout "$KT" || { t_notok "agent starts with a slow kubelet"; t_done; }
out=$(in_cg "$CG_API" "$KC" "$S" --timeout-ms 30000 payments/db)
t_run "a kubelet slower than the read deadline: the pod caller waits and is served" \
	grep -q "^SECRET name=payments/db .*value=db-pass" <<<"$out"
grep -v '^SECRET' <<<"$out" | sed 's/^/# slow: /'
t_done
