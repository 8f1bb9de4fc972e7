#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `keyhole` store verbs end to end: round trip (binary), exit codes (exists,
# not found, usage, key mode, wrong passphrase), init twice, --help for every
# verb, offline seal, list/history --json, and that no value's bytes ever
# reach a file in the store directory.
. "$(dirname "$0")/../lib.sh"
KH=$KH_BUILD/keyhole
[ -x "$KH" ] || t_skip "keyhole not built"
D=$(t_tmpdir) S=$D/store.json K=$D/agent.key
kh() { "$KH" --store "$S" --key-file "$K" "$@"; }
code() { "$@" >/dev/null 2>&1 </dev/null; echo $?; }

t_run "init" kh init
t_eq "init twice refused (exit 4)" "$(code kh init)" 4
t_eq "key file is 0400" "$(stat -c %a "$K")" 400
head -c 4096 /dev/urandom >"$D/bin"
t_run "put binary value" sh -c "'$KH' --store '$S' --key-file '$K' put app/bin <'$D/bin'"
t_run "get returns the same bytes" cmp -s <(kh get app/bin) "$D/bin"
t_eq "put existing name (exit 4)" "$(printf x | kh put app/bin >/dev/null 2>&1; echo $?)" 4
t_eq "get missing (exit 3)" "$(code kh get app/none)" 3
t_eq "bad name (exit 2)" "$(printf x | kh put 'a/../b' >/dev/null 2>&1; echo $?)" 2
t_eq "unknown verb (exit 2)" "$(code kh frobnicate)" 2
t_eq "one line on stderr" "$(kh get app/none 2>&1 | wc -l)" 1
t_eq "global options after the verb" "$(code "$KH" get app/bin --store "$S" --key-file "$K")" 0
t_eq "KEYHOLE_STORE / KEYHOLE_KEY_FILE" \
	"$(KEYHOLE_STORE=$S KEYHOLE_KEY_FILE=$K "$KH" get app/bin | cmp -s - "$D/bin"; echo $?)" 0

secret="needle-$RANDOM$RANDOM-$$-$(date +%s%N)"
t_run "put text value" sh -c "printf '%s' '$secret' | '$KH' --store '$S' --key-file '$K' put db/pw"
new="rotated-$RANDOM$RANDOM-$$"
t_run "rotate" sh -c "printf '%s' '$new' | '$KH' --store '$S' --key-file '$K' rotate db/pw"
t_eq "get current" "$(kh get db/pw)" "$new"
t_eq "get --version 1" "$(kh get db/pw --version 1)" "$secret"
t_run "rotate --generate 48" kh rotate db/pw --generate 48
t_eq "generated value is 48 bytes" "$(kh get db/pw | wc -c)" 48
t_eq "history lists 3 versions" "$(kh history db/pw | wc -l)" 3
for i in 1 2 3 4; do kh rotate db/pw --generate 8 --keep 4 || t_notok "rotate --keep 4"; done
t_eq "--keep 4 keeps 4 versions" "$(kh history db/pw | wc -l)" 4
t_eq "the newest is version 7" "$(kh history db/pw | head -1 | cut -f1)" v7
t_run "rotate --generate 48 again" kh rotate db/pw --generate 48
t_eq "history --json (default --keep 5)" "$(kh history db/pw --json | grep -c '"version"')" 5
t_run "list --json names db/pw" sh -c "'$KH' --store '$S' list --json | grep -q '\"db/pw\"'"
gen=$(kh get db/pw | od -An -tx1 | tr -d ' \n')
leak=0
for f in "$D"/*; do
	grep -qaF -e "$secret" -e "$new" "$f" && leak=1
	od -An -tx1 "$f" | tr -d ' \n' | grep -qF "$gen" && leak=1
done
t_eq "no value's bytes in any file of the store dir" "$leak" 0
t_eq "list never prints values" "$(kh list | grep -cF -e "$secret" -e "$new")" 0

t_run "pubkey" sh -c "'$KH' --store '$S' pubkey >'$D/pub.json'"
t_run "seal offline (no store, no key)" sh -c \
	"printf offline | '$KH' --store /nonexistent seal --pubkey '$D/pub.json' ci/token >'$D/sealed.json'"
t_eq "sealed record has no plaintext" "$(grep -c offline "$D/sealed.json")" 0
if "$KH" import --help >/dev/null 2>&1; then
	t_run "import sealed record" kh import "$D/sealed.json"
	t_eq "imported value" "$(kh get ci/token)" offline
	t_run "seal --version 2 offline" sh -c \
		"printf offline2 | '$KH' seal --pubkey '$D/pub.json' ci/token --version 2 >'$D/s2.json'"
	t_run "import the rotation" kh import "$D/s2.json"
	t_eq "rotated by import" "$(kh get ci/token)" offline2
	t_fails "importing the same version again is refused" kh import "$D/s2.json"
fi
t_run "verify" kh verify
t_run "rm" kh rm app/bin
t_eq "rm again (exit 3)" "$(code kh rm app/bin)" 3

chmod 0644 "$K"
t_eq "key file mode 0644 refused (exit 5)" "$(code kh get db/pw)" 5
t_run "the refusal names the mode" sh -c "'$KH' --store '$S' --key-file '$K' get db/pw 2>&1 | grep -q 'group or others'"
chmod 0400 "$K"

P=$D/pass.json
# no key file: the writer key would default to /etc/keyhole/writer.key
export KEYHOLE_WRITER_KEY=$D/pass-writer.key
t_run "init --passphrase-fd" "$KH" --store "$P" --passphrase-fd 3 init 3<<<'pass phrase'
t_run "put without the passphrase (public key only)" sh -c "printf pv | '$KH' --store '$P' put p/x"
t_eq "get with the passphrase" "$("$KH" --store "$P" --passphrase-fd 3 get p/x 3<<<'pass phrase')" pv
t_eq "wrong passphrase (exit 5)" "$(code "$KH" --store "$P" --passphrase-fd 3 get p/x 3<<<'nope')" 5
t_eq "no passphrase in the store file" "$(grep -c 'pass phrase' "$P")" 0

# A real tty (tests/tools/ptyfeed answers each prompt when it appears):
# prompt, echo off, asked twice.
PTY=$KH_BUILD/tools/ptyfeed
if [ -x "$PTY" ]; then
	T=$D/tty.json
	out=$("$PTY" "keyhole passphrase: " 'tty words\n' "(again): " 'tty words\n' \
		-- "$KH" --store "$T" init --passphrase 2>&1)
	t_run "init --passphrase on a tty" test -s "$T"
	t_eq "the passphrase is not echoed" "$(grep -c 'tty words' <<<"$out")" 0
	printf tv | "$KH" --store "$T" put t/x
	out=$("$PTY" "keyhole passphrase: " 'tty words\n' -- "$KH" --store "$T" get t/x 2>&1)
	t_eq "get with the tty passphrase" "${out: -2}" tv
	# Ctrl-D after text ends the read; a second one, on an empty line, is EOF
	out=$("$PTY" "end with Ctrl-D): " 'typed-at-a-tty' "" '\004' "" '\004' \
		-- "$KH" --store "$S" --key-file "$K" put tty/typed 2>&1)
	t_eq "a value typed at a tty is not echoed" "$(grep -c typed-at-a-tty <<<"$out")" 0
	t_eq "and is stored" "$(kh get tty/typed)" typed-at-a-tty
else
	t_notok "tests/tools/ptyfeed not built"
fi

bad_help=()
mapfile -t verbs < <("$KH" --help | awk '/^verbs:/ {on=1; next} on && NF {print $1}')
t_run "keyhole --help lists its verbs (${#verbs[@]})" test "${#verbs[@]}" -ge 10
for v in "${verbs[@]}"; do
	"$KH" "$v" --help >"$D/help" 2>&1 && grep -q "usage: keyhole" "$D/help" || bad_help+=("$v")
done
t_eq "--help for every verb prints its usage" "${bad_help[*]}" ""
t_done
