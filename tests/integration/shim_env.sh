#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# env_file and env delivery (docs/policy.md "Delivery: env_file and env")
# with a real keyholed and the shim on the host as root: an app that only
# reads $POSTGRES_PASSWORD_FILE gets its password, one that only reads
# $DATABASE_PASSWORD gets the value (and no file is written for it), a NUL
# in an env value is refused, --watch restarts the app when an env secret
# rotates (and not when a file-only one does), explain marks env grants, and
# protocol version skew
# both ways: an old (v1) shim gets file grants and a clear DENIED for env
# grants; a new shim facing an old (v1) agent falls back to protocol 1.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
SHIM=$KH_BUILD/keyhole-shim APP=$KH_BUILD/static/envapp KC=$KH_BUILD/tools/khclient
FAKE=$KH_BUILD/tools/shim_fakeagent
for b in "$SHIM" "$APP" "$KC" "$FAKE" "$KHD_BIN" "$KH_BIN"; do
	[ -x "$b" ] || t_skip "$b not built"
done

T=$(t_tmpdir)
mkdir "$T/d"
kh_store_new "$T" || t_skip "keyhole init failed"
kh_put "$T" pay/db "pg-pw-1"
kh_put "$T" pay/url 'p@ss:/"1'
kh_put "$T" pay/plain "plain-1"
printf 'a\0b' | kh "$T" put pay/nul >/dev/null
cat >"$T/policy.json" <<'JSON'
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [
                 { "secret": "pay/db", "file": "db_password",
                   "env_file": "POSTGRES_PASSWORD_FILE" },
                 { "secret": "pay/url", "env": "DATABASE_PASSWORD" },
                 { "secret": "pay/plain" },
                 { "secret": "pay/nul", "env": "NUL_VALUE" },
                 { "template": "url.tmpl", "escape": "url", "env": "DATABASE_URL" } ] } ] }
JSON
printf 'postgres://app:{{ secret "pay/url" }}@db/app' >"$T/url.tmpl"
chmod 0644 "$T/url.tmpl"
kh_agent_start "$T" "$T/policy.json" || { t_notok "keyholed starts with env grants"; t_done; }
SOCK=$T/agent.sock

NS=(unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$T/d")
shim() { "${NS[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" "$@"; }

out=$(shim --secret pay/db -- "$APP" file POSTGRES_PASSWORD_FILE 2>&1); rc=$?
t_eq "env_file: app reading only \$POSTGRES_PASSWORD_FILE gets the password" "$rc/$out" "0/pg-pw-1"
out=$(shim --secret pay/db -- "$APP" var POSTGRES_PASSWORD_FILE 2>&1)
t_eq "env_file: the variable holds the file's absolute path" "$out" \
	"POSTGRES_PASSWORD_FILE=$T/d/db_password"
out=$(cd "$T" && "${NS[@]}" "$SHIM" --socket "$SOCK" --dir d --secret pay/db -- \
	"$APP" var POSTGRES_PASSWORD_FILE 2>&1)
t_eq "env_file: a relative --dir still gives an absolute path" "$out" \
	"POSTGRES_PASSWORD_FILE=$T/d/db_password"
out=$(shim --secret pay/url -- "$APP" var DATABASE_PASSWORD 2>&1); rc=$?
t_eq "env: app reading only \$DATABASE_PASSWORD gets the value" "$rc/$out" \
	"0/DATABASE_PASSWORD=p@ss:/\"1"
out=$(shim --secret template/url -- "$APP" var DATABASE_URL 2>&1); rc=$?
t_eq "env + template: app reading only \$DATABASE_URL gets the escaped URL" "$rc/$out" \
	"0/DATABASE_URL=postgres://app:p%40ss%3A%2F%221@db/app"
out=$(shim --secret pay/url --secret pay/plain -- sh -c 'ls "$KEYHOLE_DIR"' 2>&1)
t_eq "env: no file is written for an env-only grant" "$out" "pay_plain"
out=$(DATABASE_PASSWORD=from-image shim --secret pay/url -- "$APP" var DATABASE_PASSWORD 2>&1)
t_eq "env: the delivered value replaces one the image set" "$out" "DATABASE_PASSWORD=p@ss:/\"1"
rm -f "$T/started"
err=$(shim --secret pay/nul -- touch "$T/started" 2>&1); rc=$?
t_eq "env: a value with a NUL byte is refused (exit 101), app not started" \
	"$rc/$([ -e "$T/started" ] && echo started || echo no)" "101/no"
t_eq "env: the refusal says why" "$(grep -c 'secret pay/nul denied: .*NUL byte' <<<"$err")" 1

out=$(kh "$T" explain --pid $$ 2>&1)
t_eq "explain: an env grant is marked with its exposure" \
	"$(grep -c "^  pay/url -> env DATABASE_PASSWORD (value in the app's environment: readable in /proc/PID/environ by the same uid, inherited by children) (rule host-root)" <<<"$out")" 1
t_eq "explain: an env_file grant names its variable" \
	"$(grep -c '^  pay/db -> db_password (mode 0400, rule host-root) + env_file POSTGRES_PASSWORD_FILE' <<<"$out")" 1
out=$(kh "$T" explain --pid $$ --json 2>&1)
t_eq "explain --json: env and writes_file (pay/url, pay/nul, the url template)" \
	"$(grep -c '"env": *"DATABASE_PASSWORD"' <<<"$out")/$(grep -c '"writes_file": *false' <<<"$out")" "1/3"

# --watch, no --on-rotate: an env secret's rotation restarts the app with
# the new value; a file-only rotation does not.
"${NS[@]}" "$SHIM" --socket "$SOCK" --dir "$T/d" --watch --stop-timeout 2 \
	--secret pay/url --secret pay/plain -- "$APP" wait "$T/o" DATABASE_PASSWORD \
	2>"$T/shim.err" & SPID=$!
t_cleanup "kill -KILL $SPID"
t_wait_for "grep -q '^start' '$T/o' 2>/dev/null" 10 || t_notok "watched app started"
kh_rotate "$T" pay/plain "plain-2"
t_wait_for "[ \"\$(cat /proc/$SPID/root$T/d/pay_plain 2>/dev/null)\" = plain-2 ]" 10
sleep 0.5
t_eq "watch: a file-only rotation leaves the app running" "$(grep -c . "$T/o")" 1
kh_rotate "$T" pay/url "url-2"
t_wait_for "grep -qx 'start DATABASE_PASSWORD=url-2' '$T/o'" 10
t_eq "watch: env rotation restarts the app, which sees the new value" \
	"$(tr '\n' '|' <"$T/o")" "start DATABASE_PASSWORD=p@ss:/\"1|TERM|start DATABASE_PASSWORD=url-2|"
t_eq "watch: the shim says why it restarted (one line)" \
	"$(grep -c "secret pay/url is in the app's environment and changed: restarting" "$T/shim.err")" 1
t_eq "watch: no value in the shim's log" "$(grep -c -e url-2 -e plain-2 "$T/shim.err")" 0
kill -TERM "$SPID"; wait "$SPID"; rc=$?
t_eq "watch: shim exits with the app's status" "$rc" 143

# Old shim (protocol 1) against this agent.
out=$("$KC" "$SOCK" --version 1 pay/plain pay/db pay/url)
t_eq "old shim: a file-only grant still arrives (v1 SECRET)" \
	"$(grep -c '^SECRET name=pay/plain .*value=plain-2$' <<<"$out")" 1
t_eq "old shim: env_file and env grants are DENIED, telling to upgrade the shim" \
	"$(grep -c '^DENIED name=pay/\(db\|url\) reason=.*needs protocol 2.*upgrade keyhole-shim' <<<"$out")" 2
t_eq "old shim: no SECRET2 and no env value sent" "$(grep -c -e SECRET2 -e url-2 <<<"$out")" 0
out=$("$KC" "$SOCK" pay/url)
t_eq "new client: SECRET2 with the env delivery" \
	"$(grep -c '^SECRET2 name=pay/url .*delivery=2 file= .*env=DATABASE_PASSWORD .*value=url-2$' <<<"$out")" 1
out=$("$KC" "$SOCK" --version 3 pay/plain)
t_eq "protocol 3: ERROR VERSION naming 1 or 2" "$(grep -c '^ERROR code=2 .*want 1 or 2' <<<"$out")" 1

# A reload that changes how a held grant is delivered: the watcher gets
# REVOKED, then the secret again with the new delivery.
"$KC" "$SOCK" --watch --batches 2 --timeout-ms 10000 pay/plain >"$T/w.out" & WPID=$!
t_wait_for "grep -q '^END' '$T/w.out'" 10
sed 's/{ "secret": "pay\/plain" }/{ "secret": "pay\/plain", "env": "PLAIN" }/' "$T/policy.json" >"$T/p2"
mv "$T/p2" "$T/policy.json"
kh_agent_hup "$T"
wait "$WPID"
t_eq "reload to env: the watcher gets REVOKED, then SECRET2 with env PLAIN" \
	"$(sed -n '3p;4p' "$T/w.out" | cut -d' ' -f1-2,4 | tr '\n' '|')" \
	"REVOKED name=pay/plain|SECRET2 name=pay/plain delivery=2|"

# New shim against an old (protocol 1) agent: it falls back.
printf 'needv1\nsecret pay/plain pay_plain 0400 1 old-agent-value\nend\nhold\n' >"$T/old.s"
"$FAKE" "$T/old.sock" "$T/old.s" "$T/old.log" & FPID=$!
t_cleanup "kill $FPID"
t_wait_for "[ -S '$T/old.sock' ]" 5
out=$("${NS[@]}" "$SHIM" --socket "$T/old.sock" --dir "$T/d" --secret pay/plain -- \
	sh -c 'cat "$KEYHOLE_DIR/pay_plain"' 2>"$T/old.err"); rc=$?
t_eq "old agent: new shim falls back to protocol 1 and delivers" "$rc/$out" "0/old-agent-value"
t_eq "old agent: first a v2 request, then a v1 one" \
	"$(grep version "$T/old.log" | tr '\n' '|')" "conn 1 version 2|conn 2 version 1|"
t_eq "old agent: the shim says the agent speaks protocol 1" \
	"$(grep -c 'agent speaks protocol 1' "$T/old.err")" 1
t_done
