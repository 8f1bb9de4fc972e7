#!/bin/bash
# SPDX-License-Identifier: MIT
# Fleet figures (not a pass/fail test; needs root, etcd, a build); run by
# `make bench` (bench/run.sh) when etcd is installed, or by hand:
#  1. rotation propagation: `keyhole rotate` -> the value file of a watching
#     keyhole-shim on each of 3 keyholed agents sharing one etcd:// store on a
#     3-member TLS cluster; p50/p99/max over N rotations x 3 agents, and the
#     same split into the CLI's own time (rotate command exit);
#  2. its floor, interleaved with 1 in the same run: a bare `etcdctl put` ->
#     the value file written by an `etcdctl watch` on each member (same
#     cluster, same TLS, a CLI process per change as well); the ratio is
#     taken per round (ROUNDS slices of the N iterations, order alternating);
#  3. store open time with N_RECORDS records from etcd vs from a file
#     (fleet_open; skipped when N_RECORDS is 0).
# usage: B=build-x [PREFILL=N] [ROUNDS=5] bash bench/fleet_propagation.sh [N_ROTATIONS] [N_RECORDS]
# PREFILL=N measures propagation on a store already holding N records.
# Machine-readable lines: "fleet_round R keyhole_p50_ms=.. bare_p50_ms=..",
# "fleet keyhole p50_ms=.. p99_ms=.. missed=.." and "fleet bare ...".
. "$(dirname "$0")/../tests/lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-etcd.sh"
N=${1:-100} NREC=${2:-10000} ROUNDS=${ROUNDS:-5}
ec_need
FD=$(t_tmpdir)
ec_start "$FD/ec" >/dev/null || { echo "etcd cluster did not start"; exit 1; }
S=$(ec_store "bench$$") EC_KEY_FILE=$FD/agent.key
K() { "$KH_BUILD/keyhole" --store "$S" --key-file "$EC_KEY_FILE" "$@"; }
if [ -n "${PREFILL:-}" ]; then
	# Propagation on a big store: PREFILL records copied in by fleet_open.
	"$KH_BUILD/bench/fleet_open" "$S" "$FD/pre" "$PREFILL" | sed 's/^/prefill: /' || exit 1
	EC_KEY_FILE=$FD/pre/agent.key
else
	K init >/dev/null || exit 1
fi
printf 'v0' | K put db >/dev/null || exit 1
for a in 1 2 3; do ec_agent_start "$FD/a$a" "$S" db || exit 1; ec_client_start "$FD/a$a" db; done
t_wait_for "ec_client_has $FD/a1 db v0 && ec_client_has $FD/a2 db v0 && ec_client_has $FD/a3 db v0" 10 || exit 1

# The floor: one `etcdctl watch` per member, each writing the latest value
# to its own file (write + rename, as the shim swaps its files in).
BARE=bench-bare-$$
bare_reader() { # DIR: the latest watched value into DIR/v
	local l
	while IFS= read -r l; do
		case $l in bare-v*) printf '%s' "$l" >"$1/v.tmp" && mv "$1/v.tmp" "$1/v" ;; esac
	done
}
bare_ctl() {
	ETCDCTL_API=3 etcdctl --endpoints "$1" --cacert "$EC_DIR/ca.crt" --cert "$EC_DIR/client.crt" \
		--key "$EC_DIR/client.key" --command-timeout 5s "${@:2}"
}
for a in 1 2 3; do
	mkdir -p "$FD/w$a"
	(exec env ETCDCTL_API=3 etcdctl --endpoints "https://127.0.0.1:${EC_CPORT[a]}" \
		--cacert "$EC_DIR/ca.crt" --cert "$EC_DIR/client.crt" --key "$EC_DIR/client.key" \
		watch "$BARE" 2>/dev/null) > >(bare_reader "$FD/w$a") &
	t_cleanup "kill $!"
done
sleep 1 # the watches are established
bare_ctl "$EC_EPS_HTTPS" put "$BARE" bare-v0 >/dev/null || exit 1
t_wait_for "[ \"\$(cat $FD/w1/v $FD/w2/v $FD/w3/v 2>/dev/null)\" = bare-v0bare-v0bare-v0 ]" 10 ||
	{ echo "etcdctl watch did not see the first put"; exit 1; }

# record KIND T0_NS T1_NS: fleet_wait's line (ms from T0) on stdin -> KIND.ms
# (from the CLI's start), KIND.after (from its exit, T1), and this round's
# round.KIND / round.KINDa
record() {
	local s; s=$(tr ' ' '\n')
	printf '%s\n' "$s" | tee -a "$FD/round.$1" >>"$FD/$1.ms"
	printf '%s\n' "$s" | awk -v c="$(( ($3 - $2) / 1000 ))" '$1 >= 0 { printf "%.2f\n", $1 - c / 1000 }' |
		tee -a "$FD/round.$1a" >>"$FD/$1.after"
}
one_keyhole() { # I: 3 samples; the CLI's own time in cli.ms
	local t0 t1
	t0=$(date +%s%N)
	printf 'v%d' "$1" | K rotate db >/dev/null || { echo "rotate $1 failed" >&2; return; }
	t1=$(date +%s%N)
	echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.2f\n", $1 / 1000 }' >>"$FD/cli.ms"
	"$KH_BUILD/bench/fleet_wait" "$t0" "v$1" "$FD"/a{1,2,3}/out/db | record prop "$t0" "$t1"
}
one_bare() { # I: 3 samples
	local t0 t1
	t0=$(date +%s%N)
	bare_ctl "$EC_EPS_HTTPS" put "$BARE" "bare-v$1" >/dev/null || { echo "put $1 failed" >&2; return; }
	t1=$(date +%s%N)
	"$KH_BUILD/bench/fleet_wait" "$t0" "bare-v$1" "$FD"/w{1,2,3}/v | record bare "$t0" "$t1"
}
pct() { sort -n "$1" | awk -v n="$(wc -l <"$1")" '{ a[NR] = $1 } END {
	printf "n=%d p50=%.1f p99=%.1f max=%.1f ms\n", n, a[int(n*0.5)+ (n*0.5>int(n*0.5))], a[int(n*0.99) + (n*0.99>int(n*0.99))], a[n] }'; }
p50() { sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print 0 }'; }

: >"$FD/prop.ms"; : >"$FD/cli.ms"; : >"$FD/bare.ms"; : >"$FD/prop.after"; : >"$FD/bare.after"
per=$(( (N + ROUNDS - 1) / ROUNDS ))
for ((i = 1; i <= N; i++)); do
	if (( (i - 1) % per == 0 )); then : >"$FD/round.prop"; : >"$FD/round.bare"; : >"$FD/round.propa"; : >"$FD/round.barea"; fi
	if (( i % 2 )); then one_keyhole "$i"; one_bare "$i"; else one_bare "$i"; one_keyhole "$i"; fi
	if (( i % per == 0 || i == N )); then
		echo "fleet_round $(( (i - 1) / per + 1 )) keyhole_p50_ms=$(p50 "$FD/round.prop") bare_p50_ms=$(p50 "$FD/round.bare") keyhole_after_p50_ms=$(p50 "$FD/round.propa") bare_after_p50_ms=$(p50 "$FD/round.barea")"
	fi
done
echo "propagation rotate->shim file (3 agents): $(pct "$FD/prop.ms")"
echo "keyhole rotate CLI (start+TLS+txn, exit):  $(pct "$FD/cli.ms")"
echo "bare etcdctl put->watch file (3 members): $(pct "$FD/bare.ms")"
grep -c -- '-1.00' "$FD/prop.ms" | sed 's/^/missed (not delivered within 10 s): /'
kvs() { pct "$1" | sed 's/n=\([0-9]*\) p50=\([0-9.]*\) p99=\([0-9.]*\) max=\([0-9.]*\) ms/n=\1 p50_ms=\2 p99_ms=\3 max_ms=\4/'; }
for f in prop bare; do
	grep -v -- '-1.00' "$FD/$f.ms" >"$FD/$f.ok"
	echo "fleet $([ $f = prop ] && echo keyhole || echo bare) $(kvs "$FD/$f.ok") missed=$(grep -c -- '-1.00' "$FD/$f.ms")"
	echo "fleet_after $([ $f = prop ] && echo keyhole || echo bare) $(kvs "$FD/$f.after")"
done
echo "fleet_cli keyhole $(kvs "$FD/cli.ms")"

if [ -z "${PREFILL:-}" ] && [ "$NREC" -gt 0 ] && [ -x "$KH_BUILD/bench/fleet_open" ]; then
	"$KH_BUILD/bench/fleet_open" "$(ec_store "open$$")" "$FD/open" "$NREC"
fi
