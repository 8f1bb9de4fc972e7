# SPDX-License-Identifier: MIT
# The e2e cases (docs/e2e.md), run by tests/e2e/podman.sh and docker.sh with
# E set to the engine. Each case is a real container started through the
# engine, attested by a real keyholed whose --engine is that engine's API.
# Secret values here are test data: the checks grep for them where they
# must not be (inspect output, environments, audit log).
. "$KH_ROOT/tests/lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-engine.sh"
. "$KH_ROOT/tests/e2e/hostile.bash"

t_need_root
for f in keyholed keyhole keyhole-shim static/demoapp static/shim_app; do
	[ -x "$KH_BUILD/$f" ] || t_skip "$KH_BUILD/$f not built (make tests-build)"
done
le_lab "$E" || t_skip "$E: $LE_WHY"
D=$LE_DIR
SHIM=/bin/keyhole-shim
APP=/bin/demoapp

# Values: TAG:TAG...TAG (demoapp check can tell a torn read).
val() { local t=$1 v=$1: i; for ((i = 0; i < 200; i++)); do v+=$t; done; printf '%s' "$v"; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
PAY_DB="paydb-$RANDOM$RANDOM-$$" PAY_TOKEN="paytok-$RANDOM$RANDOM-$$"
BILL_KEY="billkey-$RANDOM$RANDOM-$$" HARD_X="hardx-$RANDOM$RANDOM-$$"
LIFE_X="lifex-$RANDOM$RANDOM-$$"
ALL_VALUES=("$PAY_DB" "$PAY_TOKEN" "$BILL_KEY" "$HARD_X" "$LIFE_X")

write_policy() {
	cat >"$D/policy.json" <<JSON
{ "version": 1,
  "rules": [
    { "name": "payments",
      "match": { "runtime": "$E", "name": "e2e-pay-*", "image": "*kh-e2e*",
                 "labels": { "app": "payments" } },
      "require": { "privileged": false },
      "grant": [ { "secret": "pay/db", "mode": "0440" },
                 { "secret": "pay/token", "file": "token", "mode": "0400" } ] },
    { "name": "billing",
      "match": { "runtime": "$E", "name": "e2e-bill-*", "labels": { "app": "billing" } },
      "grant": [ { "secret": "bill/key", "file": "bill_key" } ] },
    { "name": "rotating",
      "match": { "runtime": "$E", "name": "e2e-rot-*" },
      "require": { "privileged": false },
      "grant": [ { "secret": "rot/a", "file": "a" }, { "secret": "rot/b", "file": "b" } ] },
    { "name": "hardened",
      "match": { "runtime": "$E", "name": "e2e-hard-*" },
      "require": { "privileged": false, "root": false },
      "grant": [ { "secret": "hard/x", "file": "x" } ] },
    { "name": "lifecycle",
      "match": { "runtime": "$E", "name": "e2e-life-*" },
      "require": { "privileged": false },
      "grant": [ { "secret": "life/x", "file": "life" } ] }
  ] }
JSON
}

setup_agent() {
	kh_store_new "$D" || t_skip "keyhole init failed"
	kh_put "$D" pay/db "$PAY_DB" && kh_put "$D" pay/token "$PAY_TOKEN" &&
		kh_put "$D" bill/key "$BILL_KEY" && kh_put "$D" hard/x "$HARD_X" &&
		kh_put "$D" life/x "$LIFE_X" &&
		kh_put "$D" rot/a "$(val k1)" && kh_put "$D" rot/b "$(val k1)" ||
		{ t_notok "[$E] store setup"; t_done; }
	write_policy
	le_agent_start "$D" "$D/policy.json" || { t_notok "[$E] keyholed starts"; t_done; }
}

# 1. matching labels/name/image: exactly the grants, on tmpfs, mode, owner.
case_grants() {
	local out
	out=$(le_run "$E" "$D" --rm --name e2e-pay-1 --label app=payments "$LE_IMAGE" \
		$SHIM --user 1000 -- $APP ls 2>&1)
	t_eq "[$E] matching container gets exactly its grants" "$(echo $out)" "pay_db token"
	out=$(le_run "$E" "$D" --rm --name e2e-pay-2 --label app=payments "$LE_IMAGE" \
		$SHIM --user 1000 -- $APP stat pay_db token 2>&1)
	t_run "[$E] pay_db has the granted mode 0440, owned by --user 1000" \
		grep -q '^pay_db mode=0440 uid=1000 gid=1000 ' <<<"$out"
	t_run "[$E] token has the granted mode 0400, owned by --user 1000" \
		grep -q '^token mode=0400 uid=1000 gid=1000 ' <<<"$out"
	t_run "[$E] /run/secrets is tmpfs" grep -q '^dir fs=tmpfs$' <<<"$out"
	out=$(le_run "$E" "$D" --rm --name e2e-pay-3 --label app=payments "$LE_IMAGE" \
		$SHIM --user 1000 -- $APP show pay_db token 2>&1)
	t_run "[$E] the app reads the stored values (digests match)" \
		grep -q "pay_db sha256=$(sha "$PAY_DB") token sha256=$(sha "$PAY_TOKEN")" <<<"$out"
	out=$(le_run "$E" "$D" --rm --name e2e-pay-4 --label app=other "$LE_IMAGE" \
		$SHIM --user 1000 --secret pay/db -- $APP ls 2>&1)
	t_fails "[$E] the same name with a wrong label gets nothing" \
		grep -q '^pay_db$' <<<"$out"
}

# 2. no rule matches: app not started, reason printed, exit 101.
case_denied() {
	local out rc
	out=$(le_run "$E" "$D" --rm --name e2e-nobody-1 --label app=payments "$LE_IMAGE" \
		$SHIM --user 1000 --secret pay/db -- $APP watch /out/nobody.log pay_db 2>&1)
	rc=$?
	t_eq "[$E] unmatched container: shim exits 101 (denied)" "$rc" 101
	t_run "[$E] unmatched container: shim prints the reason" \
		grep -qE 'pay/db denied: .*(no rule|e2e-nobody-1)' <<<"$out"
	t_fails "[$E] unmatched container: the app never started" test -e "$D/out/nobody.log"
	t_fails "[$E] unmatched container: the reason holds no value" grep -qF "$PAY_DB" <<<"$out"
}

# 3. a host process cannot obtain a container's grants.
case_host() {
	local out rc
	mkdir -p "$D/hostdir"
	out=$("$KH_BUILD/keyhole-shim" --socket "$D/run/agent.sock" --dir "$D/hostdir" \
		--allow-disk --timeout 5 --secret pay/db --secret pay/token -- /bin/true 2>&1)
	rc=$?
	t_eq "[$E] host process asking for pay/db: exit 101" "$rc" 101
	t_fails "[$E] host process: nothing written" test -e "$D/hostdir/pay_db"
	t_fails "[$E] host process: no value in its output" grep -qF "$PAY_DB" <<<"$out"
}

# 4. container A asking by name for container B's secret.
case_cross() {
	local out rc
	out=$(le_run "$E" "$D" --rm --name e2e-pay-5 --label app=payments "$LE_IMAGE" \
		$SHIM --user 1000 --secret bill/key -- $APP show bill_key 2>&1)
	rc=$?
	t_eq "[$E] payments container asking for bill/key: exit 101" "$rc" 101
	t_run "[$E] ... with the reason naming bill/key" grep -q 'bill/key denied' <<<"$out"
	out=$(le_run "$E" "$D" --rm --name e2e-bill-1 --label app=billing "$LE_IMAGE" \
		$SHIM --user 1000 --secret bill/key -- $APP show bill_key 2>&1)
	t_run "[$E] the billing container itself does get bill/key" \
		grep -q "bill_key sha256=$(sha "$BILL_KEY")" <<<"$out"
}

# 5. rotation while a --watch container runs: in tmpfs fast, SIGHUP, no mix.
ROT_LOG=
rotate_pair() { kh_rotate "$D" rot/a "$(val "$1")" && kh_rotate "$D" rot/b "$(val "$1")"; }
case_rotate() {
	local k t0 t1 line ms bad
	ROT_LOG=$D/out/rot.log
	le_run "$E" "$D" -d --name e2e-rot-1 "$LE_IMAGE" $SHIM --user 1000 --watch \
		--on-rotate HUP -- $APP check /out/rot.log a b >/dev/null 2>&1
	if ! le_wait_line "$ROT_LOG" '^seen k1,k1$' 15; then
		t_notok "[$E] watching container starts with k1,k1"
		le_cli "$E" "$D" logs e2e-rot-1 2>&1 | sed 's/^/# /' | tail -5
		return
	fi
	t_ok "[$E] watching container starts with k1,k1"
	t0=$(date +%s.%N)
	kh_rotate "$D" rot/a "$(val k2)"
	le_wait_line "$ROT_LOG" "^HUP .* a sha256=$(sha "$(val k2)")" 10
	line=$(grep -m1 "^HUP .* a sha256=$(sha "$(val k2)")" "$ROT_LOG")
	t1=${line#HUP t=}; t1=${t1%% *}
	if [ -n "$line" ]; then
		ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
		echo "# [$E] rotate -> app SIGHUP with the new value: ${ms} ms"
		t_ok "[$E] the app got SIGHUP and read the new value"
		if [ "$ms" -le 1000 ]; then t_ok "[$E] new value in tmpfs within 1 s (${ms} ms)"
		else t_notok "[$E] new value in tmpfs within 1 s (${ms} ms)"; fi
	else
		t_notok "[$E] the app got SIGHUP and read the new value"
	fi
	kh_rotate "$D" rot/b "$(val k2)"
	for k in 3 4 5 6; do rotate_pair "k$k"; done
	t_run "[$E] five rotation pairs all arrive (k6,k6 seen)" le_wait_line "$ROT_LOG" '^seen k6,k6$' 10
	# a is rotated before b: the only sets that ever exist are kN,kN and kN,k(N-1).
	bad=$(awk '/^seen / { split($2, t, ","); a = substr(t[1], 2); b = substr(t[2], 2);
		if (!(a == b || a == b + 1)) print $2 }' "$ROT_LOG")
	t_eq "[$E] no reader saw a mixed set" "$bad" ""
	t_fails "[$E] no torn value was read" grep -q '^TORN' "$ROT_LOG"
}

# 6. inspect output and the container's environments hold no value.
case_inspect() {
	local v leak="" pid p
	le_cli "$E" "$D" inspect e2e-rot-1 >"$D/inspect.json" 2>&1
	t_run "[$E] inspect works" grep -q e2e-rot-1 "$D/inspect.json"
	for v in "${ALL_VALUES[@]}" "$(val k6)"; do grep -qF "$v" "$D/inspect.json" && leak+=" inspect"; done
	pid=$(le_cli "$E" "$D" inspect -f '{{.State.Pid}}' e2e-rot-1)
	for p in "$pid" $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
		[ -r "/proc/$p/environ" ] || { leak+=" no-environ-$p"; continue; }
		for v in "${ALL_VALUES[@]}" k6:k6; do grep -qaF "$v" "/proc/$p/environ" && leak+=" environ-$p"; done
	done
	t_eq "[$E] no secret value in inspect or /proc/1/environ (+ the app's)" "$leak" ""
	t_run "[$E] the app's environment names the dir, not values" \
		grep -qa 'KEYHOLE_DIR=/run/secrets' "/proc/$(cat "/proc/$pid/task/$pid/children" | cut -d' ' -f1)/environ"
	t_fails "[$E] the audit log holds no value" grep -qF -e "$PAY_DB" -e "$BILL_KEY" -e k6:k6 "$D/audit.log"
}

# 7. agent restarted while the container watches: next rotation arrives.
case_restart() {
	t_run "[$E] agent restarts" le_agent_restart "$D"
	rotate_pair k7
	t_run "[$E] after the restart the shim reconnected and got k7,k7" \
		le_wait_line "$ROT_LOG" '^seen k7,k7$' 20
}

# 8. require: privileged or root containers refused, audit says why.
case_require() {
	local out rc
	out=$(le_run "$E" "$D" --rm --name e2e-hard-ok --user 1000:1000 "$LE_IMAGE" \
		$SHIM --secret hard/x -- $APP show x 2>&1)
	t_run "[$E] hardened rule: unprivileged non-root container gets hard/x" \
		grep -q "x sha256=$(sha "$HARD_X")" <<<"$out"
	out=$(le_run "$E" "$D" --rm --name e2e-hard-priv --privileged --user 1000:1000 "$LE_IMAGE" \
		$SHIM --secret hard/x -- $APP show x 2>&1); rc=$?
	t_eq "[$E] --privileged container refused (exit 101)" "$rc" 101
	t_run "[$E] audit log says the privileged container was denied and why" \
		audit_has e2e-hard-priv deny 'privileged'
	out=$(le_run "$E" "$D" --rm --name e2e-hard-root "$LE_IMAGE" \
		$SHIM --secret hard/x -- $APP show x 2>&1); rc=$?
	t_eq "[$E] container running as root refused (exit 101)" "$rc" 101
	t_run "[$E] audit log says the root container was denied and why" \
		audit_has e2e-hard-root deny 'runs as root'
	t_run "[$E] audit log: the good container's release names rule hardened" \
		audit_has e2e-hard-ok release '"rule":"hardened"'
}

# audit_has NAME DECISION REGEX: an audit line for container NAME with that
# decision whose text matches REGEX.
audit_has() {
	grep -F "\"name\":\"$1\"" "$D/audit.log" | grep -F "\"decision\":\"$2\"" | grep -qE "$3"
}

# 9. keyhole explain --container ID names the rule and the grants.
case_explain() {
	local id out
	id=$(le_cid "$E" "$D" e2e-rot-1)
	out=$(kh "$D" explain --container "$id" 2>&1)
	t_run "[$E] explain attests the container" grep -qE "container_id +$id" <<<"$out"
	t_run "[$E] explain names the matching rule" grep -qE 'MATCH +rotating' <<<"$out"
	t_run "[$E] explain lists grant rot/a" grep -qE 'rot/a -> a .*rule rotating' <<<"$out"
	t_run "[$E] explain lists grant rot/b" grep -qE 'rot/b -> b .*rule rotating' <<<"$out"
	t_run "[$E] explain says why payments did not match" \
		grep -qE "no +payments: name 'e2e-rot-1' does not match" <<<"$out"
	t_fails "[$E] explain releases nothing else" grep -qE 'pay/db|bill/key|hard/x' <<<"$out"
	t_fails "[$E] explain prints no value" grep -qF k7:k7 <<<"$out"
	[ -z "${KH_E2E_VERBOSE:-}" ] && [ "$T_FAILS" -eq 0 ] || sed "s/^/# explain: /" <<<"$out"
}

# 10. the stop signal: `stop` delivers the container's stop signal (here
# SIGPWR, not SIGTERM) through the resident shim to the app, which exits;
# the stop returns long before the engine's grace period would kill it.
case_stop() {
	local t0 el code
	le_run "$E" "$D" -d --name e2e-life-stop --stop-signal SIGPWR --stop-timeout 20 \
		"$LE_IMAGE" $SHIM --user 1000 --watch -- /bin/shim_app exiton 30 /out/stop.log \
		>/dev/null 2>&1
	if ! le_wait_line "$D/out/stop.log" '^ready$' 15; then
		t_notok "[$E] stop: the app started"
		le_cli "$E" "$D" logs e2e-life-stop 2>&1 | sed 's/^/# /' | tail -5
		return
	fi
	t0=$(date +%s%3N)
	le_cli "$E" "$D" stop e2e-life-stop >/dev/null 2>&1
	el=$(($(date +%s%3N) - t0))
	echo "# [$E] $E stop (stop signal SIGPWR) took ${el} ms"
	t_run "[$E] stop: the app got the container's stop signal (SIGPWR)" grep -qx PWR "$D/out/stop.log"
	code=$(le_cli "$E" "$D" inspect -f '{{.State.ExitCode}}' e2e-life-stop 2>/dev/null)
	t_eq "[$E] stop: the app exited on it and the shim passed its status on" "$code" 0
	if [ "$el" -lt 10000 ]; then t_ok "[$E] stop: done well inside the 20 s grace (${el} ms)"
	else t_notok "[$E] stop: done well inside the 20 s grace (${el} ms)"; fi
	le_cli "$E" "$D" rm -f e2e-life-stop >/dev/null 2>&1
}

# 11. non-root flow: `run --user 1000:1000` (the shim starts as 1000, the
# tmpfs is 1000's), --user 1000:1000 on the shim is then a no-op, and
# --watch still rewrites the files on a rotation.
case_nonroot() {
	local out log=$D/out/nonroot.log
	out=$(le_run "$E" "$D" --rm --name e2e-life-nr1 --user 1000:1000 "$LE_IMAGE" \
		$SHIM --user 1000:1000 -- $APP stat life 2>&1)
	t_run "[$E] non-root: shim as 1000 with --user 1000:1000 delivers (file 1000:1000)" \
		grep -q '^life mode=0400 uid=1000 gid=1000 ' <<<"$out"
	out=$(le_run "$E" "$D" --rm --name e2e-life-nr2 --user 1000:1000 "$LE_IMAGE" \
		$SHIM --user 2000 -- $APP show life 2>&1); local rc=$?
	t_eq "[$E] non-root: --user naming another uid is a usage error (100)" "$rc" 100
	t_run "[$E] non-root: ... that says what to do" grep -q 'run the container as --user 2000' <<<"$out"
	le_run "$E" "$D" -d --name e2e-life-nr3 --user 1000:1000 "$LE_IMAGE" \
		$SHIM --user 1000:1000 --watch --on-rotate HUP -- $APP watch /out/nonroot.log life \
		>/dev/null 2>&1
	if ! le_wait_line "$log" "life sha256=$(sha "$LIFE_X")" 15; then
		t_notok "[$E] non-root: watching container started"
		le_cli "$E" "$D" logs e2e-life-nr3 2>&1 | sed 's/^/# /' | tail -5
		return
	fi
	kh_rotate "$D" life/x "$LIFE_X-rotated"
	t_run "[$E] non-root: --watch rewrote the file and the app read it at its HUP" \
		le_wait_line "$log" "^HUP .*life sha256=$(sha "$LIFE_X-rotated")" 10
	le_cli "$E" "$D" rm -f e2e-life-nr3 >/dev/null 2>&1
}

run_all() {
	local start=$SECONDS
	setup_agent
	case_grants
	case_denied
	case_host
	case_cross
	case_rotate
	case_inspect
	case_restart
	case_require
	case_explain
	case_borrow
	case_stop
	case_nonroot
	le_cli "$E" "$D" stop -t 2 e2e-rot-1 >/dev/null 2>&1
	echo "# [$E] cases took $((SECONDS - start)) s"
	if [ "$T_FAILS" -gt 0 ]; then
		echo "# keyholed log:"; tail -20 "$D/keyholed.log" | sed 's/^/#   /'
		echo "# audit log:"; tail -6 "$D/audit.log" | sed 's/^/#   /'
	fi
	t_done
}
