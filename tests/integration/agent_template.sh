#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Template grants (docs/templates.md) against a real keyholed: a host fetch
# renders a DATABASE_URL whose password holds @:/" with URL escaping, and
# the audit line names the template and its secrets but no value; a
# missing secret denies the grant naming it; a bad template (line:col) or
# one using a secret its rule does not grant, or one reached through a
# symlink, or one others can write, is refused by `keyhole policy check`, `keyhole reload` and
# SIGHUP, and the old policy stays; `keyhole rotate` of a used secret
# pushes the re-rendered file to a watcher, and so does an edited template
# after a reload; the shim writes the rendered file.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
KC=$KH_BUILD/tools/khclient SHIM=$KH_BUILD/keyhole-shim
for b in "$KHD_BIN" "$KH_BIN" "$KC" "$SHIM"; do [ -x "$b" ] || t_skip "$b not built"; done

d=$(t_tmpdir)
umask 022 # templates others can write are refused
kh_store_new "$d" || { t_notok "keyhole init"; t_done; }
PW='p@ss:w/rd"1'
kh_put "$d" pay/db "$PW"
kh_put "$d" pay/user 'app'
mkdir "$d/pol"
printf 'postgres://{{ secret "pay/user" }}:{{ secret "pay/db" }}@db:5432/app\n' >"$d/pol/database_url.tmpl"
policy() { # GRANTS...: rule "host-root" with the plain grants plus a template grant
	local g="" s
	for s in "$@"; do g="$g{\"secret\": \"$s\"}, "; done
	cat >"$d/pol/policy.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [ $g{"template": "database_url.tmpl", "escape": "url"} ] } ] }
JSON
}
policy pay/db pay/user
out=$(kh "$d" policy check "$d/pol/policy.json" 2>&1)
t_run "policy check shows the template grant" grep -qx \
	'rule host-root: template database_url.tmpl (url) -> database_url, uses pay/user, pay/db' <<<"$out"
t_run "agent starts with a template grant" kh_agent_start "$d" "$d/pol/policy.json"
S=$d/agent.sock

# 1. host fetch: rendered, URL-escaped
out=$("$KC" "$S" template/database_url)
want='postgres://app:p%40ss%3Aw%2Frd%221@db:5432/app'
t_run "fetch renders the escaped URL" grep -q \
	"^SECRET name=template/database_url version=[0-9]* file=database_url mode=0400 len=$((${#want} + 1)) value=$want\$" <<<"$out"
t_run "audit names the template and its secrets" grep -q \
	'"secret":"template/database_url".*"decision":"release","reason":"template database_url.tmpl (url) uses pay/user v1, pay/db v1"' "$d/audit.log"
t_fails "audit holds no value" grep -qF -e 'p@ss' -e 'p%40ss' "$d/audit.log"
out=$("$KC" "$S")
t_run "ask-all includes the rendered file" grep -q "^SECRET name=template/database_url .*value=$want\$" <<<"$out"
out=$(kh "$d" explain --pid $$ 2>&1)
t_run "explain shows the template grant" grep -qx \
	'    rendered from database_url.tmpl (escape url), uses pay/user, pay/db' <<<"$out"

# 2. the shim writes the rendered file (host, tmpfs in a private mount ns)
mkdir "$d/run"
got=$(unshare -m -- sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$0" && exec "$@"' "$d/run" \
	"$SHIM" --socket "$S" --dir "$d/run" -- cat "$d/run/database_url")
t_eq "shim delivers the rendered file" "$got" "$want"

# 3. a referenced secret missing from the store denies the grant, naming it
printf 'x{{ secret "pay/gone" }}\n' >"$d/pol/gone.tmpl"
cat >"$d/pol/policy.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [ {"secret": "pay/gone"}, {"template": "gone.tmpl", "escape": "none"} ] } ] }
JSON
t_run "reload with a template of a missing secret" kh "$d" reload >/dev/null
out=$("$KC" "$S" template/gone | head -1)
t_eq "missing secret: DENIED naming it" "$out" \
	"DENIED name=template/gone reason=template gone.tmpl: secret 'pay/gone' not in store"

# 4. bad templates are load errors with line:col; the old policy stays
policy pay/db pay/user
t_run "reload back to the URL template" kh "$d" reload >/dev/null
cp "$d/pol/database_url.tmpl" "$d/good.tmpl"
printf 'postgres://\n\n  app:{{ secrt "pay/db" }}@db\n' >"$d/pol/database_url.tmpl"
err="rules[0].grant[2]: database_url.tmpl:3:10: unknown function 'secrt' (only secret \"name\")"
out=$(kh "$d" policy check "$d/pol/policy.json" 2>&1)
t_eq "policy check: bad template with line:col" "$out" "keyhole: policy check $d/pol/policy.json: $err"
out=$(kh "$d" reload 2>&1)
t_run "keyhole reload refuses it with line:col ($out)" grep -qF "$err" <<<"$out"
printf 'policy not reloaded, keeping the old one: %s\n' "$err" >"$d/want.log"
kh_agent_hup "$d"
t_run "SIGHUP refuses it with line:col" t_wait_for "grep -qFf '$d/want.log' '$d/keyholed.log'" 3
out=$("$KC" "$S" template/database_url)
t_run "old template still renders" grep -q "value=$want\$" <<<"$out"

printf '{{ secret "pay/db" }}{{ secret "pay/other" }}\n' >"$d/pol/database_url.tmpl"
out=$(kh "$d" reload 2>&1)
t_run "a secret the rule does not grant is a load error ($out)" grep -qF \
	"database_url.tmpl:1:32: secret 'pay/other' is not granted by rule 'host-root'" <<<"$out"
policy pay/db
cp "$d/good.tmpl" "$d/pol/database_url.tmpl"
out=$(kh "$d" policy check "$d/pol/policy.json" 2>&1)
t_run "pay/user granted by no rule: load error ($out)" grep -qF \
	"database_url.tmpl:1:22: secret 'pay/user' is not granted by rule 'host-root'" <<<"$out"
policy pay/db pay/user
ln -sf /etc/shadow "$d/pol/database_url.tmpl"
out=$(kh "$d" reload 2>&1)
t_run "a symlinked template is refused ($out)" grep -qF \
	"template database_url.tmpl: is a symbolic link" <<<"$out"
rm "$d/pol/database_url.tmpl"; cp "$d/good.tmpl" "$d/pol/database_url.tmpl"
chmod 0666 "$d/pol/database_url.tmpl"
out=$(kh "$d" reload 2>&1)
t_run "a template others can write is refused ($out)" grep -qF \
	"template database_url.tmpl: is writable by group or others" <<<"$out"
chmod 0644 "$d/pol/database_url.tmpl"
sed -i 's/"database_url.tmpl"/"..\/good.tmpl"/' "$d/pol/policy.json"
out=$(kh "$d" reload 2>&1)
t_run "a template outside the policy's directory is refused ($out)" grep -qF \
	"must be a file name next to the policy" <<<"$out"
policy pay/db pay/user
out=$("$KC" "$S" template/database_url)
t_run "still serving the old template" grep -q "value=$want\$" <<<"$out"

# 5. rotation of a used secret pushes the re-rendered file to a watcher;
#    so does an edit of the template (reload)
"$KC" "$S" --watch --batches 3 --timeout-ms 15000 template/database_url >"$d/w.out" &
wp=$!; t_cleanup "kill $wp"
t_wait_for "grep -q '^END' '$d/w.out'" 5
t_run "watcher got the rendered file" grep -q "^SECRET name=template/database_url .*value=$want\$" "$d/w.out"
kh_rotate "$d" pay/db 'n3w/p@ss'
t_run "rotate pushes the re-rendered file" t_wait_for \
	"grep -q 'value=postgres://app:n3w%2Fp%40ss@db:5432/app\$' '$d/w.out'" 3
t_run "push audited with the new version" grep -q \
	'"decision":"push","reason":"template database_url.tmpl (url) uses pay/user v1, pay/db v2"' "$d/audit.log"
printf 'user={{ secret "pay/user" }}\n' >"$d/pol/database_url.tmpl"
kh_agent_hup "$d"
t_run "an edited template pushes after SIGHUP" t_wait_for "grep -q 'value=user=app\$' '$d/w.out'" 3
wait $wp
t_eq "three batches, no spurious push" "$(grep -c '^END' "$d/w.out")" 3
t_done
