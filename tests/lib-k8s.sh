# SPDX-License-Identifier: MIT
# Helpers for the kubelet tests (tests/integration/k8s_*.sh). Source after
# tests/lib.sh and tests/lib-agent.sh, as root. There is no kubelet here:
# tests/tools/fake_kubelet.py serves a /pods fixture over HTTPS, checking a
# client certificate made by openssl in the test directory.
#   k8s_setup T                  hierarchies (HIERS), this run's ids and pod
#                                uids (ID_API ID_WEB ID_GONE, UID_API UID_WEB
#                                UID_OTHER), T/pods.json from the fixture,
#                                kubepods-shaped cgroup paths (CG_API CG_WEB
#                                CG_MISMATCH CG_GONE) created in every
#                                hierarchy, certificates in T (CERT_ARGS: the
#                                agent's --kubelet-cacert/-cert/-key).
#                                Skips (exit 77) when that cannot be done.
#   k8s_certs DIR                DIR/ca.pem, kubelet.{pem,key} (127.0.0.1),
#                                client.{pem,key}, other.pem, token, token.bad
#   in_cg REL CMD...             run CMD inside cgroup REL in every hierarchy
#   fake_start NAME MODE         start a fake kubelet (ok|hang|stall) logging
#                                to T/NAME.log; sets PORT_<NAME>
FAKE=$KH_ROOT/tests/tools/fake_kubelet.py

k8s__hierarchies() {
	local h
	HIERS=()
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		h=${h%/}
		[ -e "$h/cgroup.procs" ] && [[ " ${HIERS[*]} " != *" $h "* ]] && HIERS+=("$h")
	done
	[ ${#HIERS[@]} -gt 0 ]
}

k8s__rid() { printf 'keyhole-k8s-%s-%s-%s' "$$" "$1" "$RANDOM" | sha256sum | cut -c1-64; }
k8s__uuid() { cat /proc/sys/kernel/random/uuid; }

mk_cg() { # REL: mkdir level by level in every hierarchy
	local h p seg
	for h in "${HIERS[@]}"; do
		p=$h
		for seg in ${1//\// }; do
			p=$p/$seg
			[ -d "$p" ] && continue
			mkdir "$p" || return 1
			t_cleanup "rmdir '$p' 2>/dev/null"
			if [ -e "$p/cpuset.cpus" ]; then # v1 cpuset: empty sets refuse tasks
				cat "${p%/*}/cpuset.cpus" >"$p/cpuset.cpus"
				cat "${p%/*}/cpuset.mems" >"$p/cpuset.mems"
			fi
		done
	done
}

in_cg() { # REL CMD...: run CMD inside REL in every hierarchy
	local rel=$1; shift
	bash -c 'for p in "$@"; do [ "$p" = -- ] && break; echo $$ >"$p/cgroup.procs" || exit 99; shift; done; shift; exec "$@"' \
		_ $(for h in "${HIERS[@]}"; do echo "$h/$rel"; done) -- "$@"
}

k8s_certs() { # DIR: a CA, the kubelet's serving cert (127.0.0.1), our client cert
	(
		cd "$1" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-kube-ca \
			-keyout ca.key -out ca.pem
		openssl req -newkey rsa:2048 -nodes -subj /CN=node-1 -keyout kubelet.key -out kubelet.csr
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >kubelet.ext
		openssl x509 -req -in kubelet.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile kubelet.ext -out kubelet.pem
		openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=keyholed" \
			-keyout client.key -out client.csr
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out client.pem
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
			-keyout other.key -out other.pem
		head -c 32 /dev/urandom | base64 | tr -d '/+=' >token
		echo wrong-token >token.bad
		chmod 600 ./*.key token token.bad
	) >"$1/openssl.log" 2>&1
}

k8s_setup() {
	K8S_T=$1
	command -v python3 >/dev/null || t_skip "no python3"
	command -v openssl >/dev/null || t_skip "no openssl"
	k8s__hierarchies || t_skip "no cgroup hierarchies"
	ID_API=$(k8s__rid api) ID_WEB=$(k8s__rid web) ID_GONE=$(k8s__rid gone)
	UID_API=$(k8s__uuid) UID_WEB=$(k8s__uuid) UID_OTHER=$(k8s__uuid)
	# The fixture with this run's ids (so parallel runs never share cgroups).
	sed -e "s/68599b052dffe302eba8dffeca05019d6923c463cfd10156c696e315cf1a39f0/$ID_API/g" \
		-e "s/4fbb1172bf635e0357dcb90ddcd1967308e01e1febfb7e2587993795720be862/$ID_WEB/g" \
		-e "s/6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c/$UID_API/g" \
		-e "s/0d4f7e2a-93b1-4a8e-b6c5-2f1e0a9d8c7b/$UID_WEB/g" \
		"$KH_ROOT/tests/fixtures/k8s/pods.json" >"$K8S_T/pods.json"
	# Kubepods-shaped cgroup paths (systemd driver: '-' in the uid becomes '_').
	CG_API=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_API//-/_}.slice/cri-containerd-$ID_API.scope
	CG_WEB=kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_WEB//-/_}.slice/crio-$ID_WEB.scope
	CG_MISMATCH=kubepods/burstable/pod$UID_OTHER/$ID_API
	CG_GONE=kubepods/besteffort/pod$UID_API/$ID_GONE
	local c
	for c in "$CG_API" "$CG_WEB" "$CG_MISMATCH" "$CG_GONE"; do
		mk_cg "$c" || t_skip "cannot create cgroups"
	done
	k8s_certs "$K8S_T" || { t_notok "openssl: $(tail -3 "$K8S_T/openssl.log")"; t_done; }
	CERT_ARGS=(--kubelet-cacert "$K8S_T/ca.pem" --kubelet-cert "$K8S_T/client.pem"
		--kubelet-key "$K8S_T/client.key")
}

# fake_start NAME MODE: start a stand-in kubelet, set PORT_<NAME>
fake_start() {
	local name=$1 mode=$2 T=$K8S_T
	: >"$T/$name.log"
	python3 "$FAKE" --mode "$mode" --pods "$T/pods.json" --cert "$T/kubelet.pem" \
		--key "$T/kubelet.key" --client-ca "$T/ca.pem" --token-file "$T/token" \
		--port-file "$T/$name.port" --log "$T/$name.log" 2>>"$T/$name.err" &
	t_cleanup "kill $!"
	t_wait_for "[ -s '$T/$name.port' ]" 10 || { t_notok "fake kubelet $name did not start"; t_done; }
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
