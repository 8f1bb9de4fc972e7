#!/bin/bash
# SPDX-License-Identifier: MIT
# Fleet figures (not a pass/fail test; needs root, etcd, a build):
#  1. rotation propagation: `keyhole rotate` -> the value file of a watching
#     keyhole-shim on each of 3 keyholed agents sharing one etcd:// store on a
#     3-member TLS cluster; p50/p99/max over N rotations x 3 agents, and the
#     same split into the CLI's own time (rotate command exit);
#  2. store open time with 10k records from etcd vs from a file (fleet_open).
# usage: B=build-x [PREFILL=N] bash bench/fleet_propagation.sh [N_ROTATIONS] [N_RECORDS]
# PREFILL=N measures propagation on a store already holding N records.
. "$(dirname "$0")/../tests/lib.sh"
. "$KH_ROOT/tests/lib-agent.sh"
. "$KH_ROOT/tests/lib-etcd.sh"
N=${1:-100} NREC=${2:-10000}
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

: >"$FD/prop.ms"; : >"$FD/cli.ms"
for ((i = 1; i <= N; i++)); do
	t0=$(date +%s%N)
	printf 'v%d' "$i" | K rotate db >/dev/null || { echo "rotate $i failed"; continue; }
	t1=$(date +%s%N)
	echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.2f\n", $1 / 1000 }' >>"$FD/cli.ms"
	"$KH_BUILD/bench/fleet_wait" "$t0" "v$i" "$FD"/a{1,2,3}/out/db | tr ' ' '\n' >>"$FD/prop.ms"
done
pct() { sort -n "$1" | awk -v n="$(wc -l <"$1")" '{ a[NR] = $1 } END {
	printf "n=%d p50=%.1f p99=%.1f max=%.1f ms\n", n, a[int(n*0.5)+ (n*0.5>int(n*0.5))], a[int(n*0.99) + (n*0.99>int(n*0.99))], a[n] }'; }
echo "propagation rotate->shim file (3 agents): $(pct "$FD/prop.ms")"
echo "keyhole rotate CLI (start+TLS+txn, exit):  $(pct "$FD/cli.ms")"
grep -c -- '-1.00' "$FD/prop.ms" | sed 's/^/missed (not delivered within 10 s): /'

if [ -z "${PREFILL:-}" ] && [ -x "$KH_BUILD/bench/fleet_open" ]; then
	"$KH_BUILD/bench/fleet_open" "$(ec_store "open$$")" "$FD/open" "$NREC"
fi
