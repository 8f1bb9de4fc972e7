# SPDX-License-Identifier: MIT
# Template e2e (docs/templates.md), run by tests/e2e/template_docker.sh and
# template_podman.sh with E set to the engine: an app that reads only the
# rendered /run/secrets/database_url gets a correctly URL-escaped
# DATABASE_URL whose password holds @:/" (compared by digest: demoapp never
# prints a value), and after `keyhole rotate` of the password the shim
# swaps in the re-rendered file and the app, signalled, reads the new URL.
. "$KH_ROOT/tests/lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-engine.sh"

t_need_root
for f in keyholed keyhole keyhole-shim static/demoapp; do
	[ -x "$KH_BUILD/$f" ] || t_skip "$KH_BUILD/$f not built (make tests-build)"
done
le_lab "$E" || t_skip "$E: $LE_WHY"
D=$LE_DIR
SHIM=/bin/keyhole-shim
APP=/bin/demoapp
PW1="p@ss:w/rd\"$RANDOM$$"
PW2="n3w@:/\"$RANDOM$$"
sum() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
# The URL escaping of the passwords above: @ : / " and nothing else to do.
url() { printf 'postgres://app:%s@db:5432/app' "$(sed -e 's/@/%40/g' -e 's/:/%3A/g' \
	-e 's|/|%2F|g' -e 's/"/%22/g' <<<"$1")"; }

tpl_setup() {
	kh_store_new "$D" && kh_put "$D" pay/db "$PW1" && kh_put "$D" pay/user app ||
		{ t_notok "[$E] store setup"; t_done; }
	printf 'postgres://{{ secret "pay/user" }}:{{ secret "pay/db" }}@db:5432/app' \
		>"$D/database_url.tmpl"
	chmod 0644 "$D/database_url.tmpl" # one others can write is refused
	cat >"$D/policy.json" <<JSON
{ "version": 1,
  "rules": [
    { "name": "tmpl",
      "match": { "runtime": "$E", "name": "e2e-tmpl-*" },
      "grant": [ { "secret": "pay/db" }, { "secret": "pay/user" },
                 { "template": "database_url.tmpl", "escape": "url" } ] } ] }
JSON
	le_agent_start "$D" "$D/policy.json" || { t_notok "[$E] keyholed starts"; t_done; }
}

tpl_once() {
	local out
	out=$(le_run "$E" "$D" --rm --name e2e-tmpl-once --user 1000:1000 "$LE_IMAGE" \
		$SHIM -- $APP show database_url 2>&1)
	t_run "[$E] the app reads the escaped URL ($(url "$PW1"))" \
		grep -q "database_url sha256=$(sum "$(url "$PW1")")$" <<<"$out"
	[ "$T_FAILS" -eq 0 ] || sed 's/^/# app: /' <<<"$out"
}

tpl_rotate() {
	local id
	le_run "$E" "$D" -d --name e2e-tmpl-watch --user 1000:1000 "$LE_IMAGE" \
		$SHIM --watch --on-rotate HUP -- $APP watch /out/tmpl.log database_url \
		>/dev/null 2>&1
	t_run "[$E] watching app starts with the escaped URL" \
		le_wait_line "$D/out/tmpl.log" "database_url sha256=$(sum "$(url "$PW1")")" 15
	kh_rotate "$D" pay/db "$PW2"
	t_run "[$E] after keyhole rotate the app reads the re-rendered URL ($(url "$PW2"))" \
		le_wait_line "$D/out/tmpl.log" "^HUP.*database_url sha256=$(sum "$(url "$PW2")")" 15
	t_run "[$E] the push is audited with the template and its secrets" grep -q \
		'"decision":"push","reason":"template database_url.tmpl (url) uses pay/user v1, pay/db v2"' \
		"$D/audit.log"
	id=$(le_cid "$E" "$D" e2e-tmpl-watch)
	if le_cli "$E" "$D" inspect "$id" 2>/dev/null | grep -qF -e "$(url "$PW1")" -e "$(url "$PW2")" \
		-e "$PW1" -e "$PW2"; then
		t_notok "[$E] inspect holds the rendered URL"
	else
		t_ok "[$E] inspect holds no rendered URL"
	fi
	le_cli "$E" "$D" rm -f e2e-tmpl-watch >/dev/null 2>&1
}

tpl_run_all() {
	local start=$SECONDS
	tpl_setup
	tpl_once
	tpl_rotate
	echo "# [$E] template cases took $((SECONDS - start)) s"
	if [ "$T_FAILS" -gt 0 ]; then
		echo "# keyholed log:"; tail -10 "$D/keyholed.log" | sed 's/^/#   /'
		sed 's/^/# app log: /' "$D/out/tmpl.log" 2>/dev/null
	fi
	t_done
}
