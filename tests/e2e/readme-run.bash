#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One run of the README's (or deploy/compose's) walkthrough, called by
# tests/e2e/readme.sh inside `unshare -m`: tmpfs over /etc/keyhole,
# /var/lib/keyhole and /run make a fresh host, a private engine lab
# (scripts/engine-lab.sh, under /tmp, outside those paths) plays the system
# Docker or podman: its API socket is linked to /run/docker.sock or
# /run/podman/podman.sock and `docker`/`podman` are shell functions bound
# to the lab. Everything else in a block runs exactly as written.
#   readme-run.bash ENGINE readme|compose
# A block is the fenced code block after a `<!-- readme-test: NAME -->`
# line; `<!-- readme-test: file PATH -->` writes the block to PATH.
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KH_ROOT/tests/lib.sh" || exit 1
. "$KH_ROOT/scripts/engine-lab.sh" || exit 1
E=$1 MODE=$2
t_need_root
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
	t_skip "not in a private mount namespace (run through tests/e2e/readme.sh)"

# ---- a fresh host, private to this mount namespace ----
D=$(mktemp -d "${TMPDIR:-/tmp}/kh-readme.XXXXXX") && chmod 0755 "$D" || exit 1
t_cleanup "el__umount_below '$D'; rm -rf '$D'"
# private_dir PATH: PATH exists in this namespace only: a missing one is
# made in a tmpfs-backed overlay of its parent, never on the host.
private_dir() {
	local parent ov
	[ -d "$1" ] && return 0
	parent=$(dirname "$1") ov=$D/ov$(tr / _ <<<"$(dirname "$1")")
	mkdir -p "$ov" && mount -t tmpfs tmpfs "$ov" && mkdir "$ov/u" "$ov/w" &&
		mount -t overlay overlay -o "lowerdir=$parent,upperdir=$ov/u,workdir=$ov/w" "$parent" &&
		mkdir "$1"
}
private_dir /etc/keyhole && private_dir /var/lib/keyhole ||
	t_skip "cannot make /etc/keyhole and /var/lib/keyhole privately (overlay)"
mount -t tmpfs -o mode=0755 tmpfs /etc/keyhole &&
	mount -t tmpfs -o mode=0700 tmpfs /var/lib/keyhole &&
	mount -t tmpfs -o mode=0755 tmpfs /run || t_skip "cannot mount tmpfs"
t_cleanup "el_stop $E '$D'"
el_start "$E" "$D" || t_skip "$E: $(el_why)"
mkdir -p /run/podman
ln -s "$D/$E.sock" "/run/$([ "$E" = podman ] && echo podman/podman || echo docker).sock"
# The engine CLIs bound to the lab (`command`: el_* would call these again).
docker() { DOCKER_CONFIG=$D/docker/cli command docker -H "unix://$D/docker.sock" "$@"; }
podman() {
	CONTAINERS_CONF=$D/podman/containers.conf CONTAINERS_STORAGE_CONF=$D/podman/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$D/podman/registries.conf \
		command podman --root "$D/podman/root" --runroot "$D/podman/runroot" "$@"
}
t_cleanup "unset -f docker podman" # before el_stop, which runs the real CLIs
export PATH=$KH_BUILD:$PATH

# block FILE NAME: the code block marked NAME in FILE (empty if none).
block() {
	awk -v want="<!-- readme-test: $2 -->" '
		$0 == want { armed = 1; next }
		armed && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$1"
}
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
# logs_have REGEX: the app's output (docker/podman logs) has a matching line
logs_have() { "$E" logs "$CID" 2>&1 | grep -qE "$1"; }

export DB_PASSWORD="db-$RANDOM$RANDOM-$$" STRIPE_KEY="sk-$RANDOM$RANDOM-$$"
export NEW_DB_PASSWORD="db2-$RANDOM$RANDOM-$$"
LOG=$D/blocks.log
KPID=

# run_block FILE NAME: source the block here (it may start keyholed in the
# background and uses the docker/podman functions); its status is the last
# command's. Output goes to $LOG.
run_block() {
	local f=$1 n=$2 code rc
	code=$(block "$f" "$n")
	if [ -z "$code" ]; then t_notok "[$E] $f: block '$n' found"; return 1; fi
	echo "### block $n" >>"$LOG"
	eval "$code" >>"$LOG" 2>&1 </dev/null
	rc=$?
	case $code in *"keyholed "*"&"*) KPID=$! && t_cleanup "kill -TERM $KPID" ;; esac
	if [ $rc -eq 0 ]; then t_ok "[$E] $f: block '$n' runs"; else t_notok "[$E] $f: block '$n' runs (exit $rc)"; fi
	return $rc
}

context() { # DIR: the build context with the static binaries
	mkdir -p "$1"
	install -m 0755 "$KH_BUILD/keyhole-shim" "$1/keyhole-shim"
	install -m 0755 "$KH_BUILD/static/demoapp" "$1/server"
}

# within S TIMEOUT CMD...: CMD succeeds within TIMEOUT seconds (wall clock:
# each engine CLI call takes a while on a loaded machine).
within() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.3; done
}

app_sees() { # WHAT DB_VALUE: the app printed the digest of DB_VALUE
	if within 30 logs_have "db_password sha256=$(sha "$2")"; then
		t_ok "[$E] $1"
	else
		t_notok "[$E] $1"
		"$E" logs "$CID" 2>&1 | tail -5 | sed 's/^/# app: /'
		sed 's/^/# /' "$LOG" | tail -15
	fi
}

readme() {
	local R=$KH_ROOT/README.md
	run_block "$R" host
	t_eq "[$E] keyhole init made /var/lib/keyhole/agent.key 0400" \
		"$(stat -c %a /var/lib/keyhole/agent.key 2>/dev/null)" 400
	block "$R" "file /etc/keyhole/policy.json" >/etc/keyhole/policy.json
	run_block "$R" check
	context "$D/ctx"
	block "$R" dockerfile >"$D/ctx/Dockerfile"
	cd "$D/ctx" || return
	run_block "$R" "$E"
	CID=$("$E" inspect -f '{{.Id}}' payments-1 2>/dev/null)
	t_run "[$E] container payments-1 is running" test -n "$CID"
	app_sees "the app sees payments/db in /run/secrets/db_password" "$DB_PASSWORD"
	t_run "[$E] the app sees payments/stripe-key too" \
		logs_have "payments_stripe-key sha256=$(sha "$STRIPE_KEY")"
	t_eq "[$E] the container still runs (the shim stays as PID 1, --watch)" \
		"$("$E" inspect -f '{{.State.Running}}' payments-1 2>&1)" true
	t_run "[$E] keyhole explain --container payments-1 (by name) matches payments-api" \
		bash -c 'keyhole explain --container payments-1 | grep -qE "MATCH +payments-api"'
	run_block "$R" rotate
	app_sees "after rotation the app sees the new payments/db (SIGHUP)" "$NEW_DB_PASSWORD"
	local insp
	insp=$("$E" inspect payments-1 2>&1)
	t_run "[$E] inspect payments-1 works" grep -q payments-1 <<<"$insp"
	t_fails "[$E] no value in $E inspect" grep -qF -e "$DB_PASSWORD" -e "$NEW_DB_PASSWORD" <<<"$insp"
	cd / || return
}

compose() {
	local C=$D/compose
	command -v docker-compose >/dev/null || { t_notok "[$E] docker-compose installed (scripts/deps.sh)"; return; }
	cp -r "$KH_ROOT/deploy/compose" "$C" && context "$C"
	keyhole init >>"$LOG" 2>&1
	printf %s "$DB_PASSWORD" | keyhole put payments/db >>"$LOG" 2>&1
	cp "$C/policy.json" /etc/keyhole/policy.json
	keyholed --engine unix:///run/docker.sock >>"$LOG" 2>&1 &
	KPID=$!
	t_cleanup "kill -TERM $KPID"
	cd "$C" || return
	t_run "[$E] docker compose up -d (deploy/compose/compose.yaml)" \
		bash -c "docker-compose -f compose.yaml up -d --build >>'$LOG' 2>&1"
	t_cleanup "cd '$C' && docker-compose -f compose.yaml down -t 1"
	CID=$(docker-compose -f compose.yaml ps -q payments 2>/dev/null)
	t_run "[$E] compose service payments is running" test -n "$CID"
	app_sees "compose: the app sees payments/db" "$DB_PASSWORD"
	t_eq "[$E] compose: the container still runs" \
		"$(docker inspect -f '{{.State.Running}}' "$CID" 2>&1)" true
	printf %s "$NEW_DB_PASSWORD" | keyhole rotate payments/db >>"$LOG" 2>&1
	app_sees "compose: after rotation the app sees the new value" "$NEW_DB_PASSWORD"
	cd / || return
}

"$MODE"
t_done
