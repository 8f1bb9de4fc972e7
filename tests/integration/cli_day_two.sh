#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# First contact and day two with the CLI and keyholed (issue: defaults,
# errors that say what to do, safe changes): init creates its directories,
# errors name the file / rule / limit / argument that failed, empty values
# and deleting secrets in use need an explicit flag, rotate --generate
# --format, reload --dry-run, policy check --store, put/rotate/rm/reload in
# the audit log without values, keyholed.conf with flags overriding it,
# start-up warnings, sd_notify READY=1, --version.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
t_need_root
KC=$KH_BUILD/tools/khclient
for b in "$KHD_BIN" "$KH_BIN" "$KC"; do [ -x "$b" ] || t_skip "$b not built"; done

D=$(t_tmpdir); chmod 0755 "$D"
K() { "$KH_BIN" --store "$D/s/store.json" --key-file "$D/k/agent.key" \
	--admin-socket "$D/admin.sock" --audit-log "$D/audit.log" "$@"; }
VAL="val-$$-q7"

# ---- 3. init creates missing directories with the right modes ----
out=$(K init 2>&1); rc=$?
t_eq "init on a fresh path succeeds" "$rc" 0
t_eq "store directory created 0700" "$(stat -c %a "$D/s" 2>/dev/null)" 700
t_eq "key directory created 0700" "$(stat -c %a "$D/k" 2>/dev/null)" 700
t_eq "key file is 0400" "$(stat -c %a "$D/k/agent.key" 2>/dev/null)" 400
t_run "keyhole --help names the one default key path" \
	grep -q /var/lib/keyhole/agent.key <<<"$("$KH_BIN" init --help)"
VER=$(cat "$KH_ROOT/VERSION")
t_eq "keyhole --version" "$("$KH_BIN" --version)" "keyhole $VER"
t_eq "keyholed --version" "$("$KHD_BIN" --version)" "keyholed $VER"

# ---- 4. errors that say what to do ----
out=$(printf x | "$KH_BIN" --store "$D/s/store.json" --key-file /nonexistent put x 2>&1)
# put signs with the writer key found next to --key-file: that is the file named
t_run "missing key file: the failing file is named, not the store" \
	grep -qE '^keyhole: (key file /nonexistent: No such file|no writer key at /writer.key)' <<<"$out"
out=$(printf x | "$KH_BIN" --store "$D/s" --key-file "$D/k/agent.key" put x 2>&1)
t_fails "--store on a directory is not called corrupt" grep -qi corrupt <<<"$out"
t_run "--store on a directory says so" grep -q 'is a directory' <<<"$out"
out=$(printf x | "$KH_BIN" --store "$D/none.json" --key-file "$D/k/agent.key" put x 2>&1)
t_run "missing store: named, with keyhole init as the fix" \
	grep -q "store $D/none.json .*keyhole init.*not found" <<<"$out"
out=$(printf x | K put 'a b' 2>&1)
t_run "name with a space: says it holds a space" grep -q "contains a space" <<<"$out"
out=$(printf x | K put 'a/../b' 2>&1)
t_run "name with a .. segment: says so" grep -q "has a '..' segment" <<<"$out"
out=$(printf x | K put "$(printf 'n%.0s' {1..300})" 2>&1)
t_run "name over 255 bytes: says so" grep -q "longer than 255 bytes" <<<"$out"
out=$(printf x | K put 'a$b' 2>&1)
t_run "name with a bad character: names it and the charset" grep -q "contains '\\$'.*allowed" <<<"$out"
out=$(head -c 1048577 /dev/zero | K put big 2>&1)
t_run "too-large value names the limit" grep -q 'limit of 1048576 bytes' <<<"$out"
out=$(K status --jsn 2>&1)
t_run "status --jsn names the unexpected argument" grep -q "unexpected argument '--jsn'" <<<"$out"
out=$(K status 2>&1); rc=$?
t_run "no agent: 'is keyholed running?' with the admin socket path" \
	grep -qF "is keyholed running? (admin socket $D/admin.sock" <<<"$out"
t_eq "no agent: exit 9" "$rc" 9

# ---- 5. safe changes ----
out=$(printf '' | K put app/empty 2>&1); rc=$?
t_eq "put of an empty value refused (exit 2)" "$rc" 2
t_run "... and says --allow-empty" grep -q -- --allow-empty <<<"$out"
t_run "put --allow-empty stores an empty value" bash -c "printf '' | \"\$0\" --store '$D/s/store.json' --key-file '$D/k/agent.key' put --allow-empty app/empty" "$KH_BIN"
t_run "put app/db" bash -c "printf %s '$VAL' | \"\$0\" --store '$D/s/store.json' --key-file '$D/k/agent.key' --audit-log '$D/audit.log' put app/db" "$KH_BIN"
out=$(printf '' | K rotate app/db 2>&1); rc=$?
t_eq "rotate of an empty value refused (exit 2)" "$rc" 2
for f in alnum hex base64; do
	K rotate app/db --generate 24 --format $f >/dev/null 2>&1
	v=$(K get app/db 2>/dev/null)
	case $f in alnum) re='^[A-Za-z0-9]{24}$' ;; hex) re='^[0-9a-f]{24}$' ;; base64) re='^[A-Za-z0-9_-]{24}$' ;; esac
	t_run "rotate --generate 24 --format $f gives 24 $f characters" grep -qE "$re" <<<"$v"
done
v=$(K rotate app/db --generate 16 >/dev/null 2>&1; K get app/db 2>/dev/null)
t_run "rotate --generate is printable by default" grep -qE '^[A-Za-z0-9]{16}$' <<<"$v"
printf %s "$VAL" | K rotate app/db >/dev/null 2>&1
t_run "put and rotate are in the audit log, by uid, with versions" \
	bash -c "grep -q '\"secret\":\"app/db\",\"version\":1,\"decision\":\"put\",\"reason\":\"keyhole put by uid 0' '$D/audit.log' &&
	       grep -q '\"secret\":\"app/db\",\"version\":6,\"decision\":\"rotate\"' '$D/audit.log'"
t_fails "the audit log holds no value" grep -qF "$VAL" "$D/audit.log"

cat >"$D/p.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [ { "secret": "app/db" }, { "secret": "app/ghost" } ] } ] }
JSON
out=$(K policy check --store "$D/s/store.json" "$D/p.json" 2>&1); rc=$?
t_eq "policy check --store: still exit 0" "$rc" 0
t_run "policy check --store warns about a granted secret not in the store" \
	grep -q 'rule host-root grants app/ghost, which is not in the store' <<<"$out"
t_run "policy check: singular '1 rule'" grep -q ': ok: 1 rule, 2 grants' <<<"$out"

out=$(K rm --policy "$D/p.json" app/db 2>&1); rc=$?
t_eq "rm of a granted secret (no agent: policy file) refused" "$rc" 1
t_run "... listing the rule and asking for --force" \
	bash -c 'grep -q "granted by rule host-root" <<<"$0" && grep -q -- --force <<<"$0"' "$out"
t_run "the secret is still there" K history app/db >/dev/null

# keyholed: config file, flags override it, warnings, READY=1.
cat >"$D/keyholed.conf" <<CONF
# keyholed.conf for the test
store $D/s/store.json
key-file = $D/k/agent.key
policy $D/p.json
socket $D/agent.sock
admin-socket $D/nowhere.sock
audit-log "$D/audit.log"
rate-limit 0
CONF
cat >"$D/p2.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 },
               "grant": [ { "secret": "app/db" }, { "secret": "app/ghost" } ] },
             { "name": "web", "match": { "name": "web-*" }, "grant": [ { "secret": "app/db" } ] } ] }
JSON
cp "$D/p2.json" "$D/p.json"
NS=$D/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(15)
try:
    print(s.recv(4096).decode())
except Exception as e:
    print("none", e)
' "$NS" >"$D/notify.out" 2>&1 &
npid=$!
t_wait_for "[ -S '$NS' ]" 5
NOTIFY_SOCKET=$NS "$KHD_BIN" --config "$D/keyholed.conf" --admin-socket "$D/admin.sock" \
	</dev/null >"$D/keyholed.log" 2>&1 &
kpid=$!
t_cleanup "kill -KILL $kpid $npid"
t_run "keyholed starts from keyholed.conf (flag overrides admin-socket)" \
	t_wait_for "[ -S '$D/agent.sock' ] && [ -S '$D/admin.sock' ]" 10
t_fails "the config's admin-socket was overridden by the flag" test -e "$D/nowhere.sock"
wait $npid
t_run "READY=1 sent to NOTIFY_SOCKET once the sockets are bound" grep -q '^READY=1' "$D/notify.out"
t_run "warning: rule with engine selectors and no engine" \
	grep -q "rule 'web' uses engine selectors .* no engine is configured" "$D/keyholed.log"
out=$(K status 2>&1)
t_run "status shows the agent's version" grep -q "^version: *keyholed $VER" <<<"$out"
t_run "status --json has the version" grep -q "\"version\": \"$VER\"" <<<"$(K status --json)"

# a watcher holding app/db: rm lists it; reload --dry-run shows the loss
"$KC" "$D/agent.sock" --watch --hold-ms 20000 app/db >"$D/watch.out" 2>&1 &
wpid=$!
t_cleanup "kill -KILL $wpid"
t_wait_for "grep -q '^END' '$D/watch.out'" 5
out=$(K rm app/db 2>&1); rc=$?
t_eq "rm of a secret a watcher holds: refused (exit 1)" "$rc" 1
t_run "... names the rule and the watching process" \
	bash -c 'grep -q "granted by rule host-root" <<<"$0" && grep -q "held by a host process" <<<"$0"' "$out"
sed 's/{ "secret": "app\/db" }, //' "$D/p2.json" >"$D/p.json"
out=$(K reload --dry-run 2>&1); rc=$?
t_eq "reload --dry-run exit 0" "$rc" 0
t_run "reload --dry-run shows the watcher would lose app/db" grep -q -- '-app/db' <<<"$out"
t_run "reload --dry-run changed nothing (agent still on the old digest)" \
	grep -q "sha256:$(sha256sum "$D/p2.json" | cut -c1-64)" <<<"$(K status)"
t_run "reload" K reload
t_run "reload is in the audit log with the new digest" \
	grep -q "\"decision\":\"reload\",\"reason\":\"keyhole reload by uid 0: policy sha256:$(sha256sum "$D/p.json" | cut -c1-64)" "$D/audit.log"
t_run "rm --force deletes it" K rm --force app/db
t_run "rm is in the audit log" grep -q '"secret":"app/db","version":null,"decision":"rm"' "$D/audit.log"

if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$KHD_BIN" --config "$D/keyholed.conf" \
		--socket "$D/nobody.sock" --admin-socket "$D/nobody-admin.sock" 2>&1 </dev/null)
	t_run "keyholed warns when it runs as non-root" grep -q 'running as uid 65534, not root' <<<"$out"
fi

# config errors name the file and line
printf 'engine unix:///x\nbogus 1\n' >"$D/bad.conf"
out=$("$KHD_BIN" --config "$D/bad.conf" 2>&1); rc=$?
t_eq "unknown key in keyholed.conf: exit 2" "$rc" 2
t_run "... names file, line and key" grep -q "bad.conf line 2: unknown key 'bogus'" <<<"$out"
out=$("$KHD_BIN" --config "$D/none.conf" 2>&1); rc=$?
t_run "a missing --config FILE is an error" grep -q "none.conf: No such file" <<<"$out"
t_done
