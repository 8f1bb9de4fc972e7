#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `keyhole scan` and `keyhole import` end to end on the tests/scan corpus:
# exit codes 0/1/2, --json and --sarif parse, no corpus value ever appears
# in any output (stdout or stderr), then `import --from` on a temp store
# (dry run, store, idempotent second run, --write with backup, conflicts;
# `keyhole policy check` accepts the rules it prints) and `import FILE` with
# sealed records from `keyhole seal`.
. "$(dirname "$0")/../lib.sh"

KH=$KH_BUILD/keyhole
[ -x "$KH" ] || t_skip "$KH not built"
command -v python3 >/dev/null || t_skip "python3 missing"
C=$KH_ROOT/tests/scan
T=$(t_tmpdir)

# Every credential value in the corpus (none may be printed, ever).
VALUES=(AKIA2QX7TLM4RZK9WB3E ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi npm_9f8e7d6c5b4a
	xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx s3cr3t-Pr0d-pa55!
	c8Fq2LmZ9tRw4XyB7nK1pV6s Hunter2Prod Sup3rS3cretDbPw sk_live_51H7qXyZabcDEF123ghiJKL456
	r3d1sPassw0rd glpat-xY7zQ2mN9pL4rT6vW8bC m41l-Pa55word
	sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7
	Zx8Kq2Lm9Rt4Wv7Bn1Cy6Hd3Pf5Sj0Ae rk_live_9aB8cD7eF6gH5iJ4kL3m
	wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8kLm3Np2 ghs_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8)

no_values() { # DESC FILE
	local v leaked=""
	for v in "${VALUES[@]}"; do grep -qF -- "$v" "$2" && leaked+=" $v"; done
	t_eq "$1: no value in the output" "$leaked" ""
}

rc_of() { "$@" >"$T/out" 2>"$T/err"; echo $?; }

# ---- scan: exit codes ----
for f in Dockerfile.clean clean.env clean-compose.yml; do
	t_eq "scan $f: clean, exit 0" "$(rc_of "$KH" scan "$C/$f")" 0
	t_eq "scan $f: says no findings" "$(cat "$T/out")" "no findings"
done
for f in Dockerfile.multistage compose.yml app.env billing-inspect.json; do
	t_eq "scan $f: findings, exit 1" "$(rc_of "$KH" scan "$C/$f")" 1
	cat "$T/out" "$T/err" >"$T/all"; no_values "scan $f (table)" "$T/all"
	for fmt in json sarif; do
		t_eq "scan --$fmt $f: exit 1" "$(rc_of "$KH" scan --$fmt "$C/$f")" 1
		t_run "scan --$fmt $f: parses with python3 -m json.tool" \
			python3 -m json.tool "$T/out" /dev/null
		cat "$T/out" "$T/err" >"$T/all"; no_values "scan --$fmt $f" "$T/all"
	done
done
t_eq "scan broken YAML: exit 2" "$(rc_of "$KH" scan "$C/broken-compose.yml")" 2
t_eq "scan missing file: exit 2" "$(rc_of "$KH" scan "$T/nope")" 2
t_eq "scan without PATH: exit 2" "$(rc_of "$KH" scan)" 2
t_eq "scan unknown option: exit 2" "$(rc_of "$KH" scan --frobnicate x)" 2
t_eq "scan: findings plus an error is exit 2" \
	"$(rc_of "$KH" scan "$C/app.env" "$C/broken-compose.yml")" 2

# compose env_file references are followed (./app.env) and a missing one warned
"$KH" scan --json "$C/compose.yml" >"$T/c.json" 2>"$T/c.err"
t_eq "compose scan follows env_file ./app.env" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted({f["file"].split("/")[-1] for f in d["findings"]}))' "$T/c.json")" \
	"['app.env', 'compose.yml']"
t_run "compose scan warns about the missing env_file" grep -q "missing.env not found" "$T/c.err"
python3 - "$T/c.json" <<'EOF' >"$T/py" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
want = {("compose.yml", 11, "DB_PASSWORD", "KH104"), ("compose.yml", 25, "GITLAB_TOKEN", "KH102"),
        ("app.env", 5, "TLS_KEY", "KH101"), ("compose.yml", 21, None, "KH204")}
got = {(f["file"].split("/")[-1], f["line"], f.get("name"), f["rule"]) for f in d["findings"]}
missing = want - got
print("missing:", missing) if missing else print("ok")
EOF
t_eq "scan --json: file, line, name and rule of sample findings" "$(cat "$T/py")" ok

# SARIF: the schema-shaped fields code-scanning UIs read
"$KH" scan --sarif "$C/Dockerfile.multistage" >"$T/s.json"
python3 - "$T/s.json" <<'EOF' >"$T/py" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == "2.1.0" and "sarif" in d["$schema"]
run = d["runs"][0]
ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
assert run["tool"]["driver"]["name"] == "keyhole"
for r in run["results"]:
    assert r["ruleId"] in ids and r["level"] in ("error", "warning", "note")
    assert r["message"]["text"]
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("Dockerfile.multistage")
    assert loc["region"]["startLine"] >= 1
print(len(run["results"]))
EOF
t_eq "scan --sarif: valid shape, 10 results" "$(cat "$T/py")" 10

# env_file references must stay inside the compose file's directory
mkdir -p "$T/esc/p"
printf 'services:\n  a:\n    env_file: [../out.env, %s, link.env, ok.env]\n' "$T/esc/out.env" >"$T/esc/p/compose.yml"
echo 'DB_PASSWORD=Outside-Secret-1' >"$T/esc/out.env"
ln -s ../out.env "$T/esc/p/link.env"
echo 'DB_PASSWORD=Inside-Secret-22' >"$T/esc/p/ok.env"
"$KH" scan --json "$T/esc/p/compose.yml" >"$T/out" 2>"$T/err"
t_eq "env_file: only the one inside the directory is read" \
	"$(python3 -c 'import json,sys; print([f["file"][-6:] for f in json.load(open(sys.argv[1]))["findings"]])' "$T/out")" \
	"['ok.env']"
t_eq "env_file: ../, absolute and symlinked-out references refused" "$(grep -c 'outside the compose' "$T/err")" 3

# directory walk
mkdir -p "$T/repo/svc/.git"
cp "$C/Dockerfile.multistage" "$T/repo/svc/Dockerfile"
cp "$C/clean.env" "$T/repo/.env"
cp "$C/app.env" "$T/repo/svc/.git/leak.env"   # .git is not walked
echo "not scanned" >"$T/repo/README.md"
t_eq "scan DIR: exit 1" "$(rc_of "$KH" scan --json "$T/repo")" 1
t_eq "scan DIR: only the Dockerfile's findings" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["count"], sorted({f["file"][-10:] for f in d["findings"]}))' "$T/out")" \
	"10 ['Dockerfile']"

# KH201: keyhole-shim dropping to a non-root --user is not "runs as root"
printf 'FROM debian:12\nCOPY keyhole-shim /keyhole-shim\nENTRYPOINT ["/keyhole-shim", "--user", "10001:10001", "--"]\nCMD ["/app"]\n' >"$T/Dockerfile.shim"
t_eq "scan: ENTRYPOINT keyhole-shim --user 10001: clean, exit 0" "$(rc_of "$KH" scan "$T/Dockerfile.shim")" 0
sed -i 's/10001:10001/0/' "$T/Dockerfile.shim"
t_eq "scan: ENTRYPOINT keyhole-shim --user 0: KH201, exit 1" "$(rc_of "$KH" scan "$T/Dockerfile.shim")" 1
t_run "... reported as root-user" grep -q "KH201" "$T/out"

# ---- import --from on a temp store ----
S=$T/store.json K=$T/agent.key
ks() { "$KH" --store "$S" --key-file "$K" "$@"; }
ks init >/dev/null 2>&1 || t_skip "keyhole init failed"
cp "$C/Dockerfile.multistage" "$T/Dockerfile"
cp "$C/app.env" "$T/app.env"

t_eq "import --dry-run: exit 0" "$(rc_of ks import --from "$T/Dockerfile" --prefix acme/ --dry-run)" 0
cat "$T/out" "$T/err" >"$T/all"; no_values "import --dry-run" "$T/all"
t_eq "import --dry-run stores nothing" "$(ks list 2>/dev/null | grep -c acme/)" 0
t_run "import --dry-run prints the shim ENTRYPOINT" \
	grep -qF 'ENTRYPOINT ["/keyhole-shim", "--", "/usr/local/bin/app", "serve"]' "$T/out"
t_run "import --dry-run prints the run flags" \
	grep -qF -- '--tmpfs /run/secrets' "$T/out"
t_eq "import --dry-run leaves the file alone" "$(cmp -s "$C/Dockerfile.multistage" "$T/Dockerfile"; echo $?)" 0

t_eq "import: exit 0" "$(rc_of ks import --from "$T/Dockerfile" --prefix acme/ --image acme/app:1)" 0
cat "$T/out" "$T/err" >"$T/all"; no_values "import" "$T/all"
t_eq "import stored 5 secrets" "$(grep -c '^stored ' "$T/out")" 5
t_eq "stored value round-trips (get)" "$(ks get acme/db_password)" 's3cr3t-Pr0d-pa55!'
t_eq "ARG default stored too" "$(ks get acme/github_token)" ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi
sed -n '/^# --- policy/,/^# --- notes/p' "$T/out" | sed '1d;$d' >"$T/policy.json"
t_eq "policy rule grants exactly the 5 secrets to the image" \
	"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r), r[0]["match"]["image"], sorted(g["secret"] for g in r[0]["grant"]))' "$T/policy.json")" \
	"1 acme/app:1 ['acme/api_key', 'acme/aws_access_key_id', 'acme/database_url', 'acme/db_password', 'acme/github_token']"
# what import prints must load as it is: `keyhole policy check` on it
policy_of() { # IMPORT-OUTPUT POLICY-DOC
	{ printf '{"version": 1, "rules": '
	  sed -n '/^# --- policy/,/^# --- notes/p' "$1" | sed '1d;/^# --- notes/d'
	  printf '}\n'; } >"$2"
}
policy_of "$T/out" "$T/policy-doc.json"
t_run "policy check accepts import's rules (Dockerfile)" "$KH" policy check "$T/policy-doc.json"
cp "$C/compose.yml" "$T/compose.yml"
t_eq "import compose --prefix payments/: exit 0" \
	"$(rc_of ks import --from "$T/compose.yml" --prefix payments/ --dry-run)" 0
cat "$T/out" "$T/err" >"$T/all"; no_values "import compose" "$T/all"
policy_of "$T/out" "$T/policy-doc.json"
t_run "policy check accepts import's rules (compose, prefix payments/)" \
	"$KH" policy check "$T/policy-doc.json"
t_eq "compose rule names: prefix and service, '/' made '-'" \
	"$(python3 -c 'import json,sys; print([r["name"] for r in json.load(open(sys.argv[1]))["rules"]])' "$T/policy-doc.json")" \
	"['payments-web', 'payments-worker']"

sum1=$(sha256sum <"$S")
t_eq "import again: exit 0" "$(rc_of ks import --from "$T/Dockerfile" --prefix acme/)" 0
t_eq "import again: all 5 unchanged" "$(grep -c '^unchanged ' "$T/out")" 5
t_eq "import again: store byte-identical" "$(sha256sum <"$S")" "$sum1"

t_eq "import --write: exit 0" "$(rc_of ks import --from "$T/Dockerfile" --prefix acme/ --write)" 0
cat "$T/out" "$T/err" >"$T/all"; no_values "import --write" "$T/all"
t_eq "--write keeps the original as .keyhole-bak" "$(cmp -s "$C/Dockerfile.multistage" "$T/Dockerfile.keyhole-bak"; echo $?)" 0
t_eq "backup mode 0600" "$(stat -c %a "$T/Dockerfile.keyhole-bak")" 600
t_eq "rewritten file: no moved value left" "$(grep -cE 's3cr3t|AKIA2QX7|Hunter2Prod|c8Fq2LmZ|ghp_8fK2' "$T/Dockerfile")" 0
t_run "rewritten file: shim ENTRYPOINT" grep -qF '"/keyhole-shim", "--"' "$T/Dockerfile"
"$KH" scan --json "$T/Dockerfile" >"$T/re.json"
t_eq "rescan of the rewrite: only RUN findings and posture left" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(f.get("name","-") for f in d["findings"] if f["kind"]=="credential"))' "$T/re.json")" \
	"['/root/.slack', 'NPM_AUTH']"
sum2=$(sha256sum <"$T/Dockerfile") sum1=$(sha256sum <"$S")
t_eq "import --write twice: exit 0" "$(rc_of ks import --from "$T/Dockerfile" --prefix acme/ --write)" 0
t_run "import --write twice: nothing to write" grep -q "unchanged: nothing to write" "$T/out"
t_eq "import --write twice: file unchanged" "$(sha256sum <"$T/Dockerfile")" "$sum2"
t_eq "import --write twice: store unchanged" "$(sha256sum <"$S")" "$sum1"

# a different value under an existing name: never overwritten, file kept
printf 'DB_PASSWORD=AnotherValue99\n' >"$T/other.env"
t_eq "conflicting value: exit 4" "$(rc_of ks import --from "$T/other.env" --prefix acme/ --write)" 4
t_eq "conflicting value: stored value kept" "$(ks get acme/db_password)" 's3cr3t-Pr0d-pa55!'
t_eq "conflicting value: file not rewritten" "$(cat "$T/other.env")" "DB_PASSWORD=AnotherValue99"
t_run "conflicting value: no value in stderr" bash -c "! grep -q AnotherValue99 '$T/err'"

# --write refuses to clobber an existing backup
: >"$T/app.env.keyhole-bak"
t_fails "import --write with an existing backup fails" ks import --from "$T/app.env" --prefix web/ --write
t_eq "... and leaves the file alone" "$(cmp -s "$C/app.env" "$T/app.env"; echo $?)" 0
t_eq "... and stores nothing first" "$(ks list 2>/dev/null | grep -c web/)" 0
ln -s app.env "$T/link.env"
t_fails "import --write through a symlink is refused" ks import --from "$T/link.env" --prefix lnk/ --write
t_eq "... before storing anything" "$(ks list 2>/dev/null | grep -c lnk/)" 0
t_eq "--dry-run --write is a usage error" "$(rc_of ks import --from "$T/app.env" --dry-run --write)" 2

# without the private key (CI/laptop): stores by public key, existing names kept
if [ ! -e /etc/keyhole/agent.key ]; then
	pubonly() { env -u KEYHOLE_KEY_FILE KEYHOLE_WRITER_KEY="$T/writer.key" "$KH" --store "$S" "$@"; }
	pubonly import --from "$C/app.env" --prefix ci/ >"$T/out" 2>&1
	t_eq "import with only the public key: stored 4" "$(grep -c '^stored ' "$T/out")" 4
	pubonly import --from "$C/app.env" --prefix ci/ >"$T/out" 2>&1
	t_eq "again with only the public key: 4 kept, not compared" "$(grep -c '^exists ' "$T/out")" 4
	t_eq "... and the values are right" "$(ks get ci/smtp_password)" m41l-Pa55word
fi

# ---- import FILE: sealed records ----
ks pubkey >"$T/pub.json"
printf 'sealed-value-1' | "$KH" seal --pubkey "$T/pub.json" sealed/one >"$T/one.json"
t_run "import FILE (one sealed record)" ks import "$T/one.json"
t_eq "sealed record value" "$(ks get sealed/one)" sealed-value-1
printf 'sealed-value-2' | "$KH" seal --pubkey "$T/pub.json" sealed/two >"$T/two.json"
printf 'sealed-value-3' | "$KH" seal --pubkey "$T/pub.json" sealed/three >"$T/three.json"
python3 -c 'import json,sys; print(json.dumps([json.load(open(p)) for p in sys.argv[1:]]))' \
	"$T/two.json" "$T/three.json" >"$T/many.json"
t_run "import FILE (array of sealed records)" ks import "$T/many.json"
t_eq "array: both imported" "$(ks get sealed/two)/$(ks get sealed/three)" sealed-value-2/sealed-value-3
t_fails "import FILE again (same version) fails" ks import "$T/one.json"
echo '{"not": "a record"}' >"$T/bad.json"
t_fails "import FILE with junk fails" ks import "$T/bad.json"
t_done
