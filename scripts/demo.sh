#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: the whole keyhole story in one run, on throwaway state. A
# private podman (scripts/engine-lab.sh) runs a FROM-scratch image holding
# only keyhole-shim and a tiny app; keyholed attests the container through
# podman's API and delivers a secret into its tmpfs; then a rotation. Where
# podman cannot run, the same flow runs in a namespaced process (unshare).
# Everything started here is stopped on every exit path.
set -uo pipefail
cd "$(dirname "$0")/.."
KH_ROOT=$PWD
B=${B:-build}
BIN=$KH_ROOT/$B
. "$KH_ROOT/scripts/engine-lab.sh"

STEP=0
BOLD="" NORM=""
[ -t 1 ] && BOLD=$'\033[1m' NORM=$'\033[0m'
step() { STEP=$((STEP + 1)); printf '\n%s== %d. %s%s\n' "$BOLD" "$STEP" "$*" "$NORM"; }
say() { printf '   %s\n' "$*"; }
show() { sed 's/^/   | /'; }
die() { printf '\ndemo failed: %s\n' "$*" >&2; exit 1; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
wait_for() { el__wait "$1" "${2:-10}"; }

W=""
AGENT_PID=""
NS_PID=""
MODE=podman
cleanup() {
	# unshare --fork ignores SIGTERM: stop its child (PID 1 of the new pid
	# namespace, the shim), which takes the namespace down with it.
	if [ -n "$NS_PID" ]; then
		cat /proc/"$NS_PID"/task/*/children 2>/dev/null | xargs -r kill -TERM 2>/dev/null
		el__wait "! kill -0 $NS_PID 2>/dev/null" 5 || kill -KILL "$NS_PID" 2>/dev/null
		wait "$NS_PID" 2>/dev/null
	fi
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	if [ -n "$W" ]; then
		[ "$MODE" = podman ] && el_podman_stop "$W"
		el__umount_below "$W"
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kh() { "$BIN/keyhole" --store "$W/store.json" --key-file "$W/agent.key" --admin-socket "$W/admin.sock" "$@"; }

preflight() {
	local f
	for f in keyholed keyhole keyhole-shim static/demoapp; do
		[ -x "$BIN/$f" ] || die "$BIN/$f is missing: run 'make demo' (it builds first)"
	done
	[ "$(id -u)" -eq 0 ] || die "the demo starts a container engine and keyholed as root; run it as root"
}

setup_store() {
	step "A throwaway store and key file in $W"
	kh init >/dev/null || die "keyhole init failed"
	say "keyhole init  -> $(ls -l "$W/agent.key" | awk '{print $1, $NF}')"
	VALUE1="demo-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
	printf '%s' "$VALUE1" | kh put demo/db-password >/dev/null || die "keyhole put failed"
	say "keyhole put demo/db-password  (value from stdin, sealed at rest; never printed)"
	say "sha256 of the value we stored: $(sha "$VALUE1")"
}

write_policy() { # MATCH_JSON [REQUIRE_JSON]
	step "A policy: who gets what (default deny)"
	cat >"$W/policy.json" <<EOF
{ "version": 1,
  "rules": [
    { "name": "demo-app",
      "match": $1,${2:+
      \"require\": $2,}
      "grant": [ { "secret": "demo/db-password", "file": "db_password", "mode": "0400" } ] }
  ] }
EOF
	show <"$W/policy.json"
	"$BIN/keyhole" policy check "$W/policy.json" >/dev/null 2>&1 && say "keyhole policy check: valid"
}

start_agent() { # extra args...
	step "Start keyholed"
	mkdir -p "$W/run"
	"$BIN/keyholed" --store "$W/store.json" --key-file "$W/agent.key" --policy "$W/policy.json" \
		--socket "$W/run/agent.sock" --admin-socket "$W/admin.sock" --audit-log "$W/audit.log" \
		--foreground "$@" </dev/null >>"$W/keyholed.log" 2>&1 &
	AGENT_PID=$!
	wait_for "[ -S '$W/run/agent.sock' ] || ! kill -0 $AGENT_PID 2>/dev/null" 10
	kill -0 "$AGENT_PID" 2>/dev/null && [ -S "$W/run/agent.sock" ] ||
		{ show <"$W/keyholed.log"; die "keyholed did not start"; }
	show <"$W/keyholed.log"
}

# ---- podman flow ----
podman_engine() {
	step "A private podman (its own storage, runc, cgroupfs) serving the Docker API"
	# KH_DEMO_NO_PODMAN=1 shows the fallback on a machine where podman works.
	[ -z "${KH_DEMO_NO_PODMAN:-}" ] || { EL_WHY="KH_DEMO_NO_PODMAN is set"; return 1; }
	el_podman_start "$W" || return 1
	say "podman system service -> unix://$W/podman.sock"
	EL_IMAGE_CHANGES='ENTRYPOINT ["/bin/keyhole-shim", "--user", "1000", "--watch", "--on-rotate", "HUP", "--"]
CMD ["/bin/demoapp", "watch", "-", "db_password"]' \
		el_image podman "$W" keyhole-demo:1 "$BIN/keyhole-shim" "$BIN/static/demoapp" || return 1
	el_probe podman "$W" --entrypoint /bin/demoapp keyhole-demo:1 env >/dev/null || return 1
	say "image localhost/keyhole-demo:1, FROM scratch: $(el_podman "$W" image inspect -f '{{.Size}}' keyhole-demo:1) bytes"
	say "  ENTRYPOINT keyhole-shim --user 1000 --watch --on-rotate HUP --"
	say "  CMD        demoapp watch - db_password     (no secret in the image)"
}

podman_run() {
	step "Run the container: the agent socket's directory bind-mounted, /run/secrets on tmpfs"
	local cmd=(run -d --name keyhole-demo --network none
		-v "$W/run:/run/keyhole" --tmpfs /run/secrets:rw,size=1m,mode=0711,U
		keyhole-demo:1)
	say "podman ${cmd[*]}"
	el_podman "$W" "${cmd[@]}" >/dev/null || die "podman run failed"
	wait_for "el_podman '$W' logs keyhole-demo 2>&1 | grep -q '^start'" 15 ||
		{ el_podman "$W" logs keyhole-demo 2>&1 | show; die "the app did not start"; }
	step "The app reads its secret from tmpfs (it prints a digest, never the value)"
	el_podman "$W" logs keyhole-demo 2>&1 | show
	check_digest "$(el_podman "$W" logs keyhole-demo 2>&1 | grep '^start')" "$VALUE1"
	say "podman exec keyhole-demo demoapp stat db_password:"
	el_podman "$W" exec --user 1000 keyhole-demo /bin/demoapp stat db_password 2>&1 | show
	APP_PID=$(cat "/proc/$(el_podman "$W" inspect -f '{{.State.Pid}}' keyhole-demo)/task/"*/children | awk '{print $1}')
}

podman_no_leak() {
	step "Nothing holds the value: podman inspect, the app's environment"
	local n
	n=$(el_podman "$W" inspect keyhole-demo | grep -cF "$VALUE1")
	say "podman inspect keyhole-demo | grep -c <value>   -> $n"
	say "podman inspect: Env = $(el_podman "$W" inspect -f '{{.Config.Env}}' keyhole-demo)"
	no_leak_env
	[ "$n" -eq 0 ] || die "the value appears in podman inspect"
}

podman_rotate() {
	step "Rotate the secret while the app runs"
	VALUE2="demo-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
	printf '%s' "$VALUE2" | kh rotate demo/db-password >/dev/null || die "keyhole rotate failed"
	say "keyhole rotate demo/db-password   (new sha256 $(sha "$VALUE2"))"
	wait_for "el_podman '$W' logs keyhole-demo 2>&1 | grep -q '^HUP'" 10 ||
		die "the app did not get the rotation"
	el_podman "$W" logs keyhole-demo 2>&1 | show
	check_digest "$(el_podman "$W" logs keyhole-demo 2>&1 | grep '^HUP' | tail -1)" "$VALUE2"
	say "the shim rewrote the tmpfs atomically and sent the app SIGHUP; no restart"
}

podman_explain() {
	step "Why did it get that? keyhole explain --container"
	local id; id=$(el_podman "$W" inspect -f '{{.Id}}' keyhole-demo)
	say "keyhole explain --container ${id:0:12}"
	kh explain --container "$id" 2>&1 | show
}

podman_intruder() {
	step "Same image, another name: the policy does not match, nothing is released"
	local out rc
	out=$(el_podman "$W" run --rm --name keyhole-intruder --network none \
		-v "$W/run:/run/keyhole" --tmpfs /run/secrets:rw,size=1m,mode=0711,U \
		--entrypoint /bin/keyhole-shim keyhole-demo:1 --user 1000 --secret demo/db-password \
		-- /bin/demoapp show db_password 2>&1)
	rc=$?
	say "podman run --name keyhole-intruder ... keyhole-shim --secret demo/db-password -- demoapp show"
	printf '%s\n' "$out" | show
	say "-> exit $rc (101: a required secret was denied; the app was never started)"
	[ "$rc" -eq 101 ] || die "the intruder was not refused"
}

check_digest() { # LINE VALUE
	if [[ $1 == *"sha256=$(sha "$2")"* ]]; then
		say "-> matches the sha256 of the value in the store"
	else
		die "digest mismatch"
	fi
}

no_leak_env() {
	local envf=/proc/$APP_PID/environ
	say "the app's environment (/proc/$APP_PID/environ):"
	tr '\0' '\n' <"$envf" | show
	if grep -qaF "$VALUE1" "$envf"; then die "the value is in the environment"; fi
	say "-> no secret value in it; the app only learns where to look (KEYHOLE_DIR)"
}

show_audit() {
	step "The audit log (one JSON line per decision; names and versions, never values)"
	show <"$W/audit.log"
	if grep -qF -e "$VALUE1" -e "${VALUE2:-unset-value}" "$W/audit.log"; then die "value in audit log"; fi
}

# ---- namespaced-process fallback ----
ns_flow() {
	step "Fallback: a namespaced process stands in for the container"
	say "podman cannot run here: $(el_why)"
	say "same flow with unshare (new mount + pid namespaces, a tmpfs on its secrets dir);"
	say "keyholed attests it as a host process, so the rule matches runtime host, uid 0"
	MODE=ns
	el_podman_stop "$W"
	write_policy '{ "runtime": "host", "uid": 0 }'
	start_agent
	mkdir -p "$W/ns-secrets" "$W/out"
	chmod 0777 "$W/out" # the app (uid 1000) logs here
	step "Start the app in its own namespaces under keyhole-shim"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin unshare --mount --pid --fork --propagation private sh -c \
		"mount -t tmpfs -o mode=0711,size=1m tmpfs '$W/ns-secrets' && exec '$BIN/keyhole-shim' \
		--socket '$W/run/agent.sock' --dir '$W/ns-secrets' --user 1000 --watch --on-rotate HUP \
		-- '$BIN/static/demoapp' watch '$W/out/app.log' db_password" >/dev/null 2>&1 &
	NS_PID=$!
	wait_for "grep -q '^start' '$W/out/app.log' 2>/dev/null" 15 || die "the app did not start"
	show <"$W/out/app.log"
	check_digest "$(grep '^start' "$W/out/app.log")" "$VALUE1"
	APP_PID=$(pgrep -f "^$BIN/static/demoapp watch $W/out/app.log" | head -1)
	step "Nothing holds the value: the app's environment"
	no_leak_env
	step "Rotate the secret while the app runs"
	VALUE2="demo-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
	printf '%s' "$VALUE2" | kh rotate demo/db-password >/dev/null || die "keyhole rotate failed"
	wait_for "grep -q '^HUP' '$W/out/app.log'" 10 || die "the app did not get the rotation"
	show <"$W/out/app.log"
	check_digest "$(grep '^HUP' "$W/out/app.log" | tail -1)" "$VALUE2"
}

main() {
	local t0=$SECONDS
	preflight
	W=$(mktemp -d /tmp/keyhole-demo.XXXXXX) || die "mktemp"
	chmod 0755 "$W"
	# The demo's writer trust file, rollback state and pinned store keys live
	# with its throwaway store, never in the host's /etc/keyhole or ~/.config.
	export KEYHOLE_WRITERS=$W/writers KEYHOLE_STATE=$W/agent.state \
		KEYHOLE_KNOWN_STORES=$W/known_stores
	printf '%skeyhole demo%s: a container gets a secret its image never had.\n' "$BOLD" "$NORM"
	setup_store
	if podman_engine; then
		write_policy '{ "runtime": "podman", "name": "keyhole-demo", "image": "localhost/keyhole-demo:*" }' \
			'{ "privileged": false }'
		start_agent --engine "unix://$W/podman.sock"
		podman_run
		podman_no_leak
		podman_rotate
		podman_explain
		podman_intruder
	else
		ns_flow
	fi
	show_audit
	step "Clean up: container, podman service, keyholed, temp dir"
	cleanup
	W="" AGENT_PID="" NS_PID=""
	printf '\ndemo done in %d s. Next: make test\n' $((SECONDS - t0))
}

main "$@"
