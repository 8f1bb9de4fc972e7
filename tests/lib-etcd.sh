# SPDX-License-Identifier: MIT
# A private 3-member etcd cluster on 127.0.0.1 for fleet tests: TLS on
# client and peer ports, client-certificate auth, certificates made with the
# openssl CLI in the test's temp dir, random free ports so concurrent runs do
# not collide. Source after lib.sh:
#   ec_start DIR        start the cluster (sets EC_EPS, EC_URL_HOSTS, exports
#                       KEYHOLE_ETCD_CACERT/CERT/KEY for keyhole/keyholed)
#   ec_stop_member I / ec_start_member I   (I = 1..3)
#   ec_ctl ARGS...      etcdctl with the client certificate, all endpoints
#   ec_compact          compact the whole history to the current revision
#   ec_store NAME       "etcd://127.0.0.1:P1,...:P3/NAME"

EC_N=3
EC_DIR=
EC_EPS=
declare -a EC_PIDS EC_CPORT EC_PPORT

ec_need() {
	command -v etcd >/dev/null && command -v etcdctl >/dev/null ||
		t_skip "etcd/etcdctl not installed (Debian: etcd-server etcd-client)"
	command -v openssl >/dev/null || t_skip "openssl CLI not installed"
}

ec__port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
ec__pick_port() {
	local p
	while :; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		ec__port_free "$p" && ec__port_free $((p + 1)) && { echo "$p"; return; }
	done
}

# ec_certs DIR: CA, one member cert (server+client, SAN 127.0.0.1), one
# client cert for keyhole, and a second CA + client cert nobody trusts.
ec_certs() {
	local d=$1 c
	(
		cd "$d" || exit 1
		for c in ca rogue-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout $c.key -out $c.crt -days 2 -subj "/CN=keyhole-test-$c" 2>/dev/null
		done
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >member.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		ec__leaf member ca member.ext
		ec__leaf client ca client.ext
		ec__leaf rogue rogue-ca client.ext
		chmod 0600 ./*.key
	) || return 1
}
ec__leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=keyhole-test-$1" 2>/dev/null &&
	openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
		-days 2 -extfile "$3" -out "$1.crt" 2>/dev/null
}

ec__cluster_spec() {
	local i s=
	for ((i = 1; i <= EC_N; i++)); do s+="${s:+,}m$i=https://127.0.0.1:${EC_PPORT[i]}"; done
	echo "$s"
}

ec_start_member() {
	local i=$1 d=$EC_DIR
	etcd --name "m$i" --data-dir "$d/m$i" \
		--listen-client-urls "https://127.0.0.1:${EC_CPORT[i]}" \
		--advertise-client-urls "https://127.0.0.1:${EC_CPORT[i]}" \
		--listen-peer-urls "https://127.0.0.1:${EC_PPORT[i]}" \
		--initial-advertise-peer-urls "https://127.0.0.1:${EC_PPORT[i]}" \
		--initial-cluster "$(ec__cluster_spec)" --initial-cluster-state new \
		--initial-cluster-token "kh-$$-${EC_CPORT[1]}" \
		--cert-file "$d/member.crt" --key-file "$d/member.key" \
		--trusted-ca-file "$d/ca.crt" --client-cert-auth \
		--peer-cert-file "$d/member.crt" --peer-key-file "$d/member.key" \
		--peer-trusted-ca-file "$d/ca.crt" --peer-client-cert-auth \
		--heartbeat-interval 50 --election-timeout 500 \
		--listen-metrics-urls "http://127.0.0.1:$((EC_CPORT[i] + 1))" \
		>>"$d/m$i.log" 2>&1 &
	EC_PIDS[i]=$!
	echo "${EC_PIDS[i]}" >"$d/m$i.pid"
}

ec_stop_member() {
	local i=$1
	[ -n "${EC_PIDS[i]:-}" ] || return 0
	kill "${EC_PIDS[i]}" 2>/dev/null
	wait "${EC_PIDS[i]}" 2>/dev/null
	EC_PIDS[i]=
}

ec_ctl() {
	ETCDCTL_API=3 etcdctl --endpoints "$EC_EPS_HTTPS" --cacert "$EC_DIR/ca.crt" \
		--cert "$EC_DIR/client.crt" --key "$EC_DIR/client.key" --command-timeout 5s "$@"
}

ec_healthy() { ec_ctl endpoint health >/dev/null 2>&1; }

ec_start() {
	local i
	ec_need
	EC_DIR=$1
	mkdir -p "$EC_DIR"
	ec_certs "$EC_DIR" || { echo "# openssl failed"; return 1; }
	EC_EPS= EC_EPS_HTTPS=
	for ((i = 1; i <= EC_N; i++)); do
		EC_CPORT[i]=$(ec__pick_port)
		EC_PPORT[i]=$(ec__pick_port)
		EC_EPS+="${EC_EPS:+,}127.0.0.1:${EC_CPORT[i]}"
		EC_EPS_HTTPS+="${EC_EPS_HTTPS:+,}https://127.0.0.1:${EC_CPORT[i]}"
	done
	for ((i = 1; i <= EC_N; i++)); do ec_start_member "$i"; done
	t_cleanup "ec_stop_all"
	export KEYHOLE_ETCD_CACERT=$EC_DIR/ca.crt KEYHOLE_ETCD_CERT=$EC_DIR/client.crt \
		KEYHOLE_ETCD_KEY=$EC_DIR/client.key
	t_wait_for ec_healthy 30 || { echo "# etcd cluster did not come up"; tail -5 "$EC_DIR"/m*.log; return 1; }
}

ec_stop_all() {
	local i
	for ((i = 1; i <= EC_N; i++)); do ec_stop_member "$i"; done
}

ec_store() { echo "etcd://$EC_EPS/$1"; }

ec_compact() {
	local rev
	rev=$(ec_ctl endpoint status --write-out=json | grep -o '"revision":[0-9]*' | head -1 | cut -d: -f2)
	[ -n "$rev" ] && ec_ctl compaction --physical "$rev" >/dev/null
}

# ---- fleet agents (need lib-agent.sh's kh_policy_host_uid0 and a build)
#   ec_agent_start DIR STORE SECRET...   keyholed on DIR/agent.sock for STORE,
#                                        policy granting SECRETs to host uid 0
#   ec_agent_stop DIR
#   ec_client_start DIR NAME             keyhole-shim --watch for NAME on DIR's
#                                        agent, files in DIR/out (--allow-disk)
#   ec_client_stop DIR
#   ec_client_has DIR NAME VALUE         DIR/out/NAME ('/' as '_') holds VALUE
ec_agent_start() {
	local d=$1 store=$2 pid; shift 2
	mkdir -p "$d"
	kh_policy_host_uid0 "$d/policy.json" "$@"
	rm -f "$d/agent.sock" "$d/admin.sock"
	"$KH_BUILD/keyholed" --store "$store" --key-file "$EC_KEY_FILE" --policy "$d/policy.json" \
		--socket "$d/agent.sock" --admin-socket "$d/admin.sock" \
		--audit-log "$d/audit.log" --foreground </dev/null >>"$d/keyholed.log" 2>&1 &
	pid=$!
	echo "$pid" >"$d/keyholed.pid"
	t_cleanup "kill -KILL $pid"
	t_wait_for "[ -S '$d/agent.sock' ] || ! kill -0 $pid" 20 && kill -0 "$pid" 2>/dev/null
}

ec_agent_stop() {
	local pid; pid=$(cat "$1/keyholed.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	t_wait_for "! kill -0 $pid 2>/dev/null" 5 || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$1/keyholed.pid"
}

ec_client_start() {
	local d=$1 name=$2
	rm -rf "$d/out"; mkdir -p "$d/out"
	"$KH_BUILD/keyhole-shim" --socket "$d/agent.sock" --dir "$d/out" --allow-disk \
		--secret "$name" --watch -- sh -c 'trap "" HUP; exec sleep 3600' >>"$d/shim.log" 2>&1 &
	echo $! >"$d/client.pid"
	t_cleanup "kill -TERM $!; sleep 0.2; kill -KILL $!"
}

ec_client_stop() {
	local p; p=$(cat "$1/client.pid" 2>/dev/null) || return 0
	kill -TERM "$p" 2>/dev/null
	t_wait_for "! kill -0 $p 2>/dev/null" 3 || kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# ec_client_has DIR NAME VALUE: the shim's file for NAME ('/' -> '_') holds VALUE
ec_client_has() { [ "$(cat "$1/out/${2//\//_}" 2>/dev/null)" = "$3" ]; }
