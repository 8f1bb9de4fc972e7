# SPDX-License-Identifier: MIT
# env_file and env delivery e2e (issue 19; docs/policy.md "Delivery: env_file
# and env"), run by tests/e2e/env_docker.sh and env_podman.sh with E set to
# the engine. In real containers (--user 1000, FROM scratch, the shim as
# entrypoint): an app that only reads $POSTGRES_PASSWORD_FILE gets its
# password; an app that only reads $DATABASE_PASSWORD gets it, is restarted
# with the new value after `keyhole rotate`, and neither `inspect` nor any
# file the engine keeps for the container (its config, the OCI bundle)
# holds the value.
. "$KH_ROOT/tests/lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-engine.sh"

t_need_root
for f in keyholed keyhole keyhole-shim static/demoapp static/shim_app static/envapp; do
	[ -x "$KH_BUILD/$f" ] || t_skip "$KH_BUILD/$f not built (make tests-build)"
done
le_lab "$E" || t_skip "$E: $LE_WHY"
D=$LE_DIR
ENV_IMAGE=kh-e2e-env
ENV_PG="pg-$RANDOM$RANDOM-$$"
ENV_DB1="db1-$RANDOM$RANDOM@:/\"x"
ENV_DB2="db2-$RANDOM$RANDOM@:/\"y"
ENV_MARK="mark-$RANDOM$RANDOM-$$" # a plain -e variable: where a value WOULD show

env_setup() {
	el_image "$E" "$D" "$ENV_IMAGE" "$KH_BUILD/keyhole-shim" "$KH_BUILD/static/envapp" ||
		{ t_notok "[$E] image with envapp: $(el_why)"; t_done; }
	kh_store_new "$D" && kh_put "$D" env/pg "$ENV_PG" && kh_put "$D" env/db "$ENV_DB1" ||
		{ t_notok "[$E] store setup"; t_done; }
	cat >"$D/policy.json" <<JSON
{ "version": 1,
  "rules": [
    { "name": "env",
      "match": { "runtime": "$E", "name": "e2e-env-*" },
      "grant": [
        { "secret": "env/pg", "file": "pg_password", "env_file": "POSTGRES_PASSWORD_FILE" },
        { "secret": "env/db", "env": "DATABASE_PASSWORD" } ] } ] }
JSON
	le_agent_start "$D" "$D/policy.json" || { t_notok "[$E] keyholed starts"; t_done; }
}

env_file_case() {
	local out
	out=$(le_run "$E" "$D" --rm --name e2e-env-file --user 1000:1000 "$ENV_IMAGE" \
		/bin/keyhole-shim --secret env/pg -- /bin/envapp file POSTGRES_PASSWORD_FILE 2>&1)
	t_eq "[$E] an app reading only \$POSTGRES_PASSWORD_FILE gets its password" "$out" "$ENV_PG"
	out=$(le_run "$E" "$D" --rm --name e2e-env-file2 --user 1000:1000 "$ENV_IMAGE" \
		/bin/keyhole-shim --secret env/pg -- /bin/envapp var POSTGRES_PASSWORD_FILE 2>&1)
	t_eq "[$E] POSTGRES_PASSWORD_FILE is the file's path" "$out" \
		"POSTGRES_PASSWORD_FILE=/run/secrets/pg_password"
}

# No value in `inspect`, nor in any file under the lab (engine state, the
# container's config and OCI bundle, logs) except the app's own log in out/.
env_nowhere() {
	local what=$1 v=$2 hits
	if le_cli "$E" "$D" inspect e2e-env-var 2>&1 | grep -qF -- "$v"; then
		t_notok "[$E] $what: inspect holds the value"
	else
		t_ok "[$E] $what: inspect does not hold the value"
	fi
	hits=$(grep -rlsF -D skip --exclude-dir=out -- "$v" "$D" 2>/dev/null | head -3)
	t_eq "[$E] $what: no file of the engine or the container config holds it" "$hits" ""
	if le_cli "$E" "$D" logs e2e-env-var 2>&1 | grep -qF -- "$v"; then
		t_notok "[$E] $what: the container log holds the value"
	fi
}

env_var_case() {
	local log=$D/out/env.log
	rm -f "$log"
	le_run "$E" "$D" -d --name e2e-env-var --user 1000:1000 -e "KH_E2E_MARK=$ENV_MARK" \
		"$ENV_IMAGE" /bin/keyhole-shim --watch --stop-timeout 2 --secret env/db -- \
		/bin/envapp wait /out/env.log DATABASE_PASSWORD >/dev/null 2>&1
	t_run "[$E] an app reading only \$DATABASE_PASSWORD gets it" \
		t_wait_for "grep -qxF 'start DATABASE_PASSWORD=$ENV_DB1' '$log' 2>/dev/null" 20
	# The checks below can fail: an ordinary -e variable is found by both.
	t_run "[$E] control: inspect shows a plain -e variable" \
		grep -qF -- "$ENV_MARK" <(le_cli "$E" "$D" inspect e2e-env-var 2>&1)
	t_run "[$E] control: the engine's files hold a plain -e variable" \
		grep -rqsF -D skip --exclude-dir=out -- "$ENV_MARK" "$D"
	env_nowhere "env value" "$ENV_DB1"
	kh_rotate "$D" env/db "$ENV_DB2"
	t_run "[$E] after keyhole rotate the app is restarted with the new value" \
		t_wait_for "grep -qxF 'start DATABASE_PASSWORD=$ENV_DB2' '$log' 2>/dev/null" 20
	t_eq "[$E] the old app got SIGTERM first" "$(grep -c . "$log")/$(sed -n 2p "$log")" "3/TERM"
	env_nowhere "rotated env value" "$ENV_DB2"
	if [ "$T_FAILS" -gt 0 ]; then
		sed 's/^/# app: /' "$log" 2>/dev/null
		le_cli "$E" "$D" logs e2e-env-var 2>&1 | tail -5 | sed 's/^/# shim: /'
	fi
	le_cli "$E" "$D" rm -f e2e-env-var >/dev/null 2>&1
}

env_run_all() {
	local start=$SECONDS
	env_setup
	env_file_case
	env_var_case
	echo "# [$E] env cases took $((SECONDS - start)) s"
	if [ "$T_FAILS" -gt 0 ]; then
		echo "# keyholed log:"; tail -10 "$D/keyholed.log" | sed 's/^/#   /'
	fi
	t_done
}
