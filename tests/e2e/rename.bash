# SPDX-License-Identifier: MIT
# Rename e2e (docs/threat-model.md "renamed container", docs/attestation.md
# "cache freshness"), run by tests/e2e/rename_docker.sh and rename_podman.sh
# with E set to the engine. A watching container named pay-1 is granted
# pay/key by name (pay-*); it is renamed to "other", then pay/key is
# rotated: the resync must see the new name (re-inspect the container), so
# the watcher gets REVOKED instead of the new value, and the audit line
# names "other". Renamed back to pay-2, the next rotation is pushed again.
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
V1="ren1-$RANDOM$RANDOM-$$" V2="ren2-$RANDOM$RANDOM-$$" V3="ren3-$RANDOM$RANDOM-$$"
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

ren_setup() {
	kh_store_new "$D" && kh_put "$D" pay/key "$V1" || { t_notok "[$E] store setup"; t_done; }
	cat >"$D/policy.json" <<JSON
{ "version": 1,
  "rules": [
    { "name": "pay",
      "match": { "runtime": "$E", "name": "pay-*" },
      "grant": [ { "secret": "pay/key", "file": "key" } ] } ] }
JSON
	le_agent_start "$D" "$D/policy.json" || { t_notok "[$E] keyholed starts"; t_done; }
}

# ren_audit DECISION NAME VERSION: an audit line for pay/key with them.
ren_audit() {
	grep -F '"secret":"pay/key"' "$D/audit.log" | grep -F "\"decision\":\"$1\"" |
		grep -F "\"name\":\"$2\"" | grep -qF "\"version\":$3"
}

ren_case() {
	local log=$D/out/rename.log
	le_run "$E" "$D" -d --name pay-1 "$LE_IMAGE" $SHIM --user 1000 --watch \
		--on-rotate HUP -- $APP watch /out/rename.log key >/dev/null 2>&1
	if ! le_wait_line "$log" "key sha256=$(sha "$V1")" 15; then
		t_notok "[$E] the watcher named pay-1 gets pay/key"
		le_cli "$E" "$D" logs pay-1 2>&1 | sed 's/^/# /' | tail -5
		return
	fi
	t_ok "[$E] the watcher named pay-1 gets pay/key"
	t_run "[$E] $E rename pay-1 other" le_cli "$E" "$D" rename pay-1 other
	kh_rotate "$D" pay/key "$V2"
	t_run "[$E] after the rename, the rotation is a revoke naming 'other'" \
		t_wait_for "ren_audit revoke other 1" 10
	t_fails "[$E] no push of version 2 to it (under either name)" \
		grep -qF "$(sha "$V2")" "$log"
	if grep -F '"secret":"pay/key"' "$D/audit.log" | grep -qF '"version":2,"decision":"push"'; then
		t_notok "[$E] the audit has no push of version 2"
		grep -F '"secret":"pay/key"' "$D/audit.log" | tail -3 | sed 's/^/#   /'
	else
		t_ok "[$E] the audit has no push of version 2"
	fi
	# renamed back into the rule: granted again at the next resync
	t_run "[$E] $E rename other pay-2" le_cli "$E" "$D" rename other pay-2
	kh_rotate "$D" pay/key "$V3"
	t_run "[$E] renamed to pay-2, the next rotation is pushed (audit names pay-2)" \
		t_wait_for "ren_audit push pay-2 3" 10
	t_run "[$E] the app read version 3" le_wait_line "$log" "key sha256=$(sha "$V3")" 10
	le_cli "$E" "$D" rm -f pay-2 >/dev/null 2>&1
}

ren_run_all() {
	local start=$SECONDS
	ren_setup
	ren_case
	echo "# [$E] rename cases took $((SECONDS - start)) s"
	if [ "$T_FAILS" -gt 0 ]; then
		echo "# keyholed log:"; tail -10 "$D/keyholed.log" | sed 's/^/#   /'
		echo "# audit:"; grep -F pay/key "$D/audit.log" | tail -6 | sed 's/^/#   /'
	fi
	t_done
}
