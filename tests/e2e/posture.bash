# SPDX-License-Identifier: MIT
# Posture e2e (docs/policy.md "require", docs/threat-model.md T14-T15), run
# by tests/e2e/posture_podman.sh and posture_docker.sh with E set to the
# engine. Every container runs --user 1000 under
# require {"privileged": false, "root": false}; each one that is privileged
# in effect (--cap-add ALL, --pid=host, seccomp=unconfined, -v /:/host, the
# engine's socket mounted, the first four together) is refused with its cause in the audit line and in explain; a root
# process exec'd into a --user 1000 container is refused while the
# container's own uid-1000 process is served.
. "$KH_ROOT/tests/lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-engine.sh"

t_need_root
for f in keyholed keyhole keyhole-shim static/demoapp static/shim_app; do
	[ -x "$KH_BUILD/$f" ] || t_skip "$KH_BUILD/$f not built (make tests-build)"
done
le_lab "$E" || t_skip "$E: $LE_WHY"
D=$LE_DIR
SHIM=/bin/keyhole-shim
APP=/bin/demoapp
POS_X="posx-$RANDOM$RANDOM-$$"
SUM=$(printf '%s' "$POS_X" | sha256sum | cut -d' ' -f1)

pos_setup() {
	kh_store_new "$D" && kh_put "$D" pos/x "$POS_X" || { t_notok "[$E] store setup"; t_done; }
	cat >"$D/policy.json" <<JSON
{ "version": 1,
  "rules": [
    { "name": "posture",
      "match": { "runtime": "$E", "name": "e2e-pos-*" },
      "require": { "privileged": false, "root": false },
      "grant": [ { "secret": "pos/x", "file": "x" } ] } ] }
JSON
	le_agent_start "$D" "$D/policy.json" || { t_notok "[$E] keyholed starts"; t_done; }
}

# pos_audit NAME DECISION REGEX: an audit line for container NAME with that
# decision whose text matches REGEX.
pos_audit() {
	grep -F "\"name\":\"$1\"" "$D/audit.log" | grep -F "\"decision\":\"$2\"" | grep -qE "$3"
}

pos_ok() {
	local out
	out=$(le_run "$E" "$D" --rm --name e2e-pos-ok --user 1000:1000 "$LE_IMAGE" \
		$SHIM --secret pos/x -- $APP show x 2>&1)
	t_run "[$E] --user 1000, nothing added: served" grep -q "x sha256=$SUM" <<<"$out"
}

# pos_refused NAME REGEX ENGINE-ARGS...: run with the shim; must be refused.
pos_refused() {
	local name=$1 re=$2 out rc; shift 2
	out=$(le_run "$E" "$D" --rm --name "$name" --user 1000:1000 "$@" "$LE_IMAGE" \
		$SHIM --secret pos/x -- $APP show x 2>&1); rc=$?
	t_eq "[$E] $* --user 1000: refused (exit 101)" "$rc" 101
	t_fails "[$E] $*: the app never read the value" grep -q "x sha256=$SUM" <<<"$out"
	if pos_audit "$name" deny "$re"; then
		t_ok "[$E] $*: the audit line names the cause"
	else
		t_notok "[$E] $*: the audit line names the cause /$re/"
		grep -F "\"name\":\"$name\"" "$D/audit.log" | tail -2 | sed 's/^/#   /'
	fi
}

pos_attacks() {
	local caps='require privileged=false: CapAdd (ALL|[A-Z_ ]*SYS_ADMIN)'
	pos_refused e2e-pos-caps "$caps" --cap-add ALL
	pos_refused e2e-pos-pid 'require privileged=false: host pid namespace' --pid=host
	# podman's compat inspect does not say IpcMode "host": the kernel's
	# namespace links decide, not the engine's word alone.
	pos_refused e2e-pos-ipc 'require privileged=false: host ipc namespace' --ipc=host
	pos_refused e2e-pos-seccomp 'require privileged=false: seccomp unconfined' \
		--security-opt seccomp=unconfined
	pos_refused e2e-pos-root 'require privileged=false: bind mount of /[,)]' -v /:/host
	pos_refused e2e-pos-sock 'require privileged=false: bind mount of /[^,)]*/(docker|podman)\.sock' \
		-v "$(el_sock "$E" "$D"):/run/engine.sock"
	pos_refused e2e-pos-all "$caps.*host pid namespace.*seccomp unconfined.*bind mount of /[,)]" \
		--cap-add ALL --pid=host --security-opt seccomp=unconfined -v /:/host
}

# keyhole explain on a running container shows the same causes.
pos_explain() {
	local id out
	le_run "$E" "$D" -d --name e2e-pos-explain --user 1000:1000 --cap-add SYS_ADMIN \
		--security-opt seccomp=unconfined "$LE_IMAGE" /bin/shim_app sig /out/explain.log \
		>/dev/null 2>&1
	le_wait_line "$D/out/explain.log" '^ready' 15
	id=$(le_cid "$E" "$D" e2e-pos-explain)
	out=$(kh "$D" explain --container "$id" 2>&1)
	t_run "[$E] explain names the causes" grep -qE \
		"no +posture: require privileged=false: CapAdd SYS_ADMIN, seccomp unconfined" <<<"$out"
	t_fails "[$E] explain releases nothing" grep -qE 'pos/x ->' <<<"$out"
	[ "$T_FAILS" -eq 0 ] || sed "s/^/# explain: /" <<<"$out"
	le_cli "$E" "$D" rm -f e2e-pos-explain >/dev/null 2>&1
}

# exec -u 0 into a --user 1000 container: the kernel says uid 0.
pos_exec_root() {
	local out rc
	le_run "$E" "$D" -d --name e2e-pos-exec --user 1000:1000 "$LE_IMAGE" \
		$SHIM --secret pos/x -- $APP watch /out/exec.log x >/dev/null 2>&1
	t_run "[$E] the --user 1000 container's own process is served" \
		le_wait_line "$D/out/exec.log" "x sha256=$SUM" 15
	out=$(le_cli "$E" "$D" exec -u 0 e2e-pos-exec $SHIM --dir /tmp/r0 --allow-disk \
		--secret pos/x -- $APP show x 2>&1); rc=$?
	t_eq "[$E] exec -u 0 into it: refused (exit 101)" "$rc" 101
	t_fails "[$E] exec -u 0: no value read" grep -q "x sha256=$SUM" <<<"$out"
	t_run "[$E] exec -u 0: the audit line names the cause" \
		pos_audit e2e-pos-exec deny 'require root=false: caller runs as uid 0'
	out=$(le_cli "$E" "$D" exec -u 1000 e2e-pos-exec $SHIM --dir /tmp/r1000 --allow-disk \
		--secret pos/x -- $APP show x 2>&1)
	t_run "[$E] exec -u 1000 into it: served" grep -q "x sha256=$SUM" <<<"$out"
	le_cli "$E" "$D" rm -f e2e-pos-exec >/dev/null 2>&1
}

pos_run_all() {
	local start=$SECONDS
	pos_setup
	pos_ok
	pos_attacks
	pos_explain
	pos_exec_root
	echo "# [$E] posture cases took $((SECONDS - start)) s"
	if [ "$T_FAILS" -gt 0 ]; then
		echo "# keyholed log:"; tail -10 "$D/keyholed.log" | sed 's/^/#   /'
	fi
	t_done
}
