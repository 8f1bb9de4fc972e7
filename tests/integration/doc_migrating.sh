#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/migrating.md's walkthrough is executed: the "Before" Dockerfile
# (`<!-- readme-test: file Dockerfile -->`) is written to a fresh directory
# with a fresh store, then every `$ command` of each console block marked
# `<!-- readme-test: console -->` runs in one shell, in order, and must print
# what the page shows. Whitespace is ignored (columns, and the policy JSON
# the page shows compacted); a `...` line ends the comparison of that
# output (the rest is not shown). The `docker run` of step 6 needs the
# app's own base image and is not run here.
. "$(dirname "$0")/../lib.sh"
KH_BIN=$KH_BUILD/keyhole
[ -x "$KH_BIN" ] || t_skip "keyhole not built"
DOC=$KH_ROOT/docs/migrating.md
D=$(t_tmpdir)
export PATH=$KH_BUILD:$PATH KEYHOLE_STORE=$D/store.json KEYHOLE_KEY_FILE=$D/agent.key \
	KEYHOLE_CONFIG=$D/keyholed.conf KEYHOLE_ADMIN_SOCKET=$D/admin.sock
keyhole init >/dev/null || { t_notok "keyhole init"; t_done; }

# blocks NAME: every block marked NAME, each followed by a "@@END" line.
blocks() {
	awk -v want="<!-- readme-test: $1 -->" '
		$0 == want { armed = 1; next }
		armed && /^```/ { if (inside) { print "@@END"; armed = inside = 0; next } inside = 1; next }
		inside { print }' "$DOC"
}
blocks "file Dockerfile" | sed '/^@@END$/d' >"$D/Dockerfile"
t_run "the page's Before Dockerfile is marked and extracted" grep -q '^FROM ' "$D/Dockerfile"

# Split console blocks into commands (with \ continuations) and expected
# outputs: $D/cmd.N and $D/want.N.
n=0 cont=0
while IFS= read -r line; do
	if [ "$line" = "@@END" ]; then cont=0; continue; fi
	if [ $cont = 1 ]; then
		printf '%s\n' "$line" >>"$D/cmd.$n"
		[[ $line == *\\ ]] || cont=0
	elif [[ $line == '$ '* ]]; then
		n=$((n + 1)); printf '%s\n' "${line#\$ }" >"$D/cmd.$n"; : >"$D/want.$n"
		[[ $line == *\\ ]] && cont=1
	elif [ $n -gt 0 ]; then
		printf '%s\n' "$line" >>"$D/want.$n"
	fi
done < <(blocks console)
t_run "the page has marked console blocks ($n commands)" test "$n" -ge 5

# One shell runs them all (so `echo $?` sees the previous command).
script=$D/run.sh
for ((i = 1; i <= n; i++)); do
	printf '__rc=$?; echo "@@OUT %d"; (exit $__rc)\n' "$i"
	cat "$D/cmd.$i"
done >"$script"
(cd "$D" && bash "$script" >"$D/out" 2>&1)
for ((i = 1; i <= n; i++)); do
	awk -v a="@@OUT $i" -v b="@@OUT $((i + 1))" '$0 == b { exit } on { print } $0 == a { on = 1 }' \
		"$D/out" >"$D/got.$i"
	want=$(sed '/^\.\.\.$/,$d' "$D/want.$i" | tr -d '[:space:]')
	got=$(tr -d '[:space:]' <"$D/got.$i")
	if grep -qx '\.\.\.' "$D/want.$i"; then got=${got:0:${#want}}; fi
	c=$(head -1 "$D/cmd.$i")
	if [ "$got" = "$want" ]; then
		t_ok "migrating.md: \`$c\` prints what the page shows"
	else
		t_notok "migrating.md: \`$c\` prints what the page shows"
		diff <(sed '/^\.\.\.$/,$d' "$D/want.$i") "$D/got.$i" | sed 's/^/#   /' | head -20
	fi
done
t_done
