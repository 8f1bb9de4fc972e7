#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer harness built in $B/fuzz/ for FUZZ_SECONDS each,
# starting from its committed seed corpus tests/fuzz/corpus/<harness>/ (read
# only: new inputs go to $B/fuzz/work/<harness>/; FUZZ_MERGE=1 minimises them
# back into the committed dir). FUZZ_ONLY="fuzz_proto fuzz_policy" picks
# harnesses. Crashes land in $B/fuzz/artifacts/; any crash fails the run.
# Prints one "ok - fuzz X: N execs in S s" / "not ok - ..." line per harness.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
fails=0 ran=0

for bin in "$B"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	h=${bin##*/}
	if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $h "* ]]; then continue; fi
	seeds=tests/fuzz/corpus/$h work=$B/fuzz/work/$h art=$B/fuzz/artifacts/$h
	log=$B/fuzz/$h.log
	if [ ! -d "$seeds" ]; then
		echo "not ok - fuzz $h: no seed corpus $seeds"; fails=$((fails + 1)); continue
	fi
	mkdir -p "$work" "$art"
	echo "== $h for ${FUZZ_SECONDS}s (log $log)"
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	ran=$((ran + 1))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok - fuzz $h: ${execs:-?} execs in ${FUZZ_SECONDS}s, ${cov:-cov: ?}"
	else
		echo "not ok - fuzz $h (exit $rc): $(ls "$art" | head -3 | tr '\n' ' ')"
		grep -E -A12 '^==[0-9]+==ERROR|fuzz property failed|runtime error' "$log" | head -30
		fails=$((fails + 1))
	fi
	if [ -n "${FUZZ_MERGE:-}" ] && [ $rc -eq 0 ]; then
		"$bin" -merge=1 -use_counters=0 "$seeds" "$work" >>"$log" 2>&1 &&
			echo "   merged: $(ls "$seeds" | wc -l) inputs in $seeds"
	fi
done

[ $ran -gt 0 ] || { echo "not ok - no fuzz harnesses built in $B/fuzz"; exit 1; }
[ $fails -eq 0 ]
