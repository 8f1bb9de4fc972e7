#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: every performance figure of keyhole next to a baseline
# measured in the same run. Prints one table and writes bench/results/
# latest.{md,csv,png}. BENCH_QUICK=1 for a short pass (written as quick.*
# instead, so it never overwrites a full run's results). Needs root (tmpfs
# mounts for the shim's secret dirs, cgroups for the stalled-engine caller).
# Timing comes from the C probes in bench/ (clock_gettime), never from this
# script. Ratios to a floor are taken per round (floor and keyhole
# interleaved) and printed as median + spread; see bench/lib.sh for the
# "noisy" rule. The container-start figures come from the last
# `make bench-containers` (bench/results/containers.*), folded in with
# their own date and load.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
export KH_ROOT=$PWD KH_BUILD=$PWD/$B
. tests/lib.sh
. tests/lib-agent.sh
. tests/lib-k8s.sh
. bench/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (tmpfs mounts)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n 8192 # 1000 watching shims + 1000 agent conns

QUICK=${BENCH_QUICK:-} BENCH_ONLY=${BENCH_ONLY:-}
RUNS=$([ -n "$QUICK" ] && echo 40 || echo 200)
LOAD_S=$([ -n "$QUICK" ] && echo 0.5 || echo 1)
ROT_IT=$([ -n "$QUICK" ] && echo 10 || echo 40)
KS_MAX=$([ -n "$QUICK" ] && echo 10000 || echo 100000)
K=$([ -n "$QUICK" ] && echo 3 || echo 5) # interleaved rounds per ratio
WATCHERS=$([ -n "$QUICK" ] && echo "1 100" || echo "1 100 1000") HELD=1000
STALL_S=$([ -n "$QUICK" ] && echo 2 || echo 4)
FLEET_N=$([ -n "$QUICK" ] && echo 10 || echo 40)
BB=$KH_BUILD/bench SHIM=$KH_BUILD/keyhole-shim APP=$KH_BUILD/static/shim_app
RES=bench/results OUT=latest
# a quick or partial (BENCH_ONLY) pass does not overwrite the committed full results
[ -n "$QUICK$BENCH_ONLY" ] && OUT=quick
mkdir -p "$RES"
W=$(t_tmpdir)
CSV=$W/rows.tsv
: >"$CSV"

say() { printf '== %s\n' "$*" >&2; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# start_bg CMD...: background, killed at exit; pid in $W/last.pid. Disowned so
# that killing it does not print job notices.
start_bg() { "$@" & local p=$!; disown "$p"; t_cleanup "kill -KILL $p"; echo "$p" >"$W/last.pid"; }
gone() { t_wait_for "! kill -0 $1 2>/dev/null" 5; }
trap 'exit 143' TERM INT HUP

machine() {
	printf 'nproc=%s cpu="%s" kernel=%s date=%s quick=%s rounds=%s\n' "$(nproc)" \
		"$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" "$(uname -r)" \
		"$(date -u +%FT%TZ)" "${QUICK:-0}" "$K"
}

# --- 1. shim size -----------------------------------------------------------
bench_size() {
	say "1. shim size"
	local s t d
	s=$(stat -c %s "$SHIM") t=$(stat -c %s /usr/bin/tini-static) d=$(stat -c %s /usr/bin/dumb-init)
	file -b "$SHIM" | grep -q 'stripped' && file -b "$SHIM" | grep -qv 'not stripped' ||
		echo "bench: warning: $SHIM is not stripped" >&2
	row "shim size vs tini-static (static, stripped)" "$s B" "$t B" "$(ratio "$s" "$t")" "-"
	row "shim size vs dumb-init (static, stripped)" "$s B" "$d B" "$(ratio "$s" "$d")" "-"
}

# --- the agent used by rows 2-4, 6 (11 secrets, host uid 0 granted) ---------
agent_up() {
	local names=() i
	kh_store_new "$W" || return 1
	for i in $(seq 0 9); do kh_put "$W" "s$i" "value-$i-$RANDOM"; names+=("s$i"); done
	kh_put "$W" rot "r0"
	kh_policy_host_uid0 "$W/policy.json" "${names[@]}" rot
	kh_agent_start "$W" "$W/policy.json" --rate-limit 0 --max-conns 8192 || return 1
	AGENT=$(kh_agent_pid "$W") SOCK=$W/agent.sock
	mkdir -p "$W/t" && mount -t tmpfs -o mode=0755,size=64m tmpfs "$W/t" || return 1
	sleep 0.3
	AGENT_IDLE_KB=$(rss_kb "$AGENT")
}

# agent_check SECTION: on a shared machine someone's cleanup may stop our
# keyholed; then that section's figures are void: say so in the results and
# start it again for the next section.
agent_check() {
	kill -0 "$AGENT" 2>/dev/null && return 0
	echo "bench: keyholed (pid $AGENT) was stopped during section '$1': $(tail -1 "$W/keyholed.log")" >&2
	row "WARNING: keyholed was stopped from outside during section '$1'" "its figures are void" "-" "-" "-"
	kh_agent_restart "$W" && AGENT=$(kh_agent_pid "$W")
}

# --- 2. start overhead ----------------------------------------------------------
# startup interleaves the commands run by run; rounds_us are the medians of K
# consecutive slices, so each ratio below is taken per slice (same window).
bench_start() {
	say "2. start overhead ($RUNS interleaved runs, $K slices)"
	local ten=() i out
	for i in $(seq 0 9); do ten+=(--secret "s$i"); done
	mkdir -p "$W/t/one" "$W/t/ten"
	out=$("$BB/startup" -k "$K" "$RUNS" \
		true -- /bin/true ";;" \
		tini -- /usr/bin/tini-static -s -- /bin/true ";;" \
		shim1 -- "$SHIM" --socket "$SOCK" --dir "$W/t/one" --secret s0 -- /bin/true ";;" \
		shim10 -- "$SHIM" --socket "$SOCK" --dir "$W/t/ten" "${ten[@]}" -- /bin/true \
		2>>"$W/start.err")
	echo "$out" >&2
	local f tr nr s1r
	f=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^failures=/) s += substr($i, 10) } END { print s + 0 }' <<<"$out")
	[ "$f" = 0 ] || echo "bench: $f start runs failed (see below)" >&2
	line() { grep "^$1 " <<<"$out"; }
	rl() { sed -n 's/.*rounds_us=\([0-9,]*\).*/\1/p' <<<"$(line "$1")"; }
	tr=$(rl true) nr=$(rl tini) s1r=$(rl shim1)
	# start_row FIGURE LABEL BASE BASENAME DIR [FLOOR]: median ms of both, per-slice ratio
	start_row() {
		local st
		# shellcheck disable=SC2046 # one ratio per word
		st=$(rounds_stat "$5" $(round_ratios "$(rl "$2")" "$(rl "$3")" ${6:+"$(rl "$6")"}))
		read -r m sp fl <<<"$st"
		row "$1" "$(ms "$(kv median_us "$(line "$2")")") ms" "$(ms "$(kv median_us "$(line "$3")")") ms ($4)" \
			"$(ratio_cell "$m" "$sp" "$fl" "$K")" "-"
	}
	start_row "start, tini-static -s -- /bin/true vs /bin/true, median" tini true "/bin/true" lower
	start_row "start, shim -- /bin/true, 1 secret vs /bin/true (its floor), median" shim1 true "/bin/true" lower
	start_row "start, shim -- /bin/true, 1 secret vs tini-static, median" shim1 tini tini none
	start_row "start, shim -- /bin/true, 10 secrets vs tini-static, median" shim10 tini tini none
	row "start, shim -- /bin/true, 1 / 10 secrets, p95" "$(ms "$(kv p95_us "$(line shim1)")") / $(ms "$(kv p95_us "$(line shim10)")") ms" \
		"$(ms "$(kv p95_us "$(line tini)")") ms (tini)" "$(ratio "$(kv p95_us "$(line shim1)")" "$(kv p95_us "$(line tini)")") (1 secret)" "-"
	local st m sp fl
	# shellcheck disable=SC2046 # one ratio per word
	st=$(rounds_stat none $(round_ratios "$s1r" "$nr" "$tr"))
	read -r m sp fl <<<"$st"
	row "start overhead over /bin/true: shim (1 secret) vs tini-static, median" \
		"$(ms "$(( $(kv median_us "$(line shim1)") - $(kv median_us "$(line true)") ))") ms" \
		"$(ms "$(( $(kv median_us "$(line tini)") - $(kv median_us "$(line true)") ))") ms (tini)" \
		"$(ratio_cell "$m" "$sp" "$fl" "$K")" "-"
	[ "$f" = 0 ] || { row "start runs that failed" "$f" "-" "-" "0"; sed 's/^/# /' "$W/start.err" | sort | uniq -c | head >&2; }
}

# --- 3. fetch throughput vs the floor ----------------------------------------
# K rounds per client count; in each round the floor and keyholed run back to
# back (order alternating), and the ratio is taken within the round.
bench_load() {
	say "3. fetch throughput ($K rounds x ${LOAD_S} s per point and side)"
	start_bg "$BB/floor" "$W/floor.sock"; FLOOR=$(cat "$W/last.pid")
	t_wait_for "[ -S '$W/floor.sock' ]" 5 || { echo "bench: floor did not start" >&2; return 1; }
	: >"$W/tput.dat"
	local c r k f rr lr kr fr kp fp errs st m sp fl lm lsp lfl
	for c in 1 8 64 256; do
		rr=() lr=() kr=() fr=() kp=() fp=() errs=0
		for ((r = 0; r < K; r++)); do
			if ((r % 2)); then
				k=$("$BB/load" "$SOCK" --clients "$c" --seconds "$LOAD_S" --name s0)
				f=$("$BB/load" "$W/floor.sock" --clients "$c" --seconds "$LOAD_S")
			else
				f=$("$BB/load" "$W/floor.sock" --clients "$c" --seconds "$LOAD_S")
				k=$("$BB/load" "$SOCK" --clients "$c" --seconds "$LOAD_S" --name s0)
			fi
			echo "round $r floor   $f" >&2; echo "round $r keyhole $k" >&2
			kr+=("$(kv rate "$k")") fr+=("$(kv rate "$f")")
			kp+=("$(kv p50_us "$k")/$(kv p99_us "$k")") fp+=("$(kv p50_us "$f")/$(kv p99_us "$f")")
			rr+=("$(ratio "$(kv rate "$k")" "$(kv rate "$f")")")
			lr+=("$(ratio "$(kv p50_us "$k")" "$(kv p50_us "$f")")")
			errs=$((errs + $(kv errors "$k")))
		done
		read -r m sp fl <<<"$(rounds_stat upper "${rr[@]}")"
		read -r lm lsp lfl <<<"$(rounds_stat lower "${lr[@]}")"
		local kmed fmed
		kmed=$(printf '%s\n' "${kr[@]}" | sort -n | sed -n "$(( (K + 1) / 2 ))p")
		fmed=$(printf '%s\n' "${fr[@]}" | sort -n | sed -n "$(( (K + 1) / 2 ))p")
		printf '%s %s %s\n' "$c" "$kmed" "$fmed" >>"$W/tput.dat"
		row "fetch rate, $c concurrent fresh connections (median of rounds)" "$kmed/s" "$fmed/s (floor)" \
			"$(ratio_cell "$m" "$sp" "$fl" "$K")" "$(goal_or_noisy "$fl" "$m" '>=' 0.50)"
		row "fetch latency p50 / p99, $c clients (round medians)" \
			"$(ms "$(printf '%s\n' "${kp[@]}" | cut -d/ -f1 | sort -n | sed -n "$(( (K + 1) / 2 ))p")") / $(ms "$(printf '%s\n' "${kp[@]}" | cut -d/ -f2 | sort -n | sed -n "$(( (K + 1) / 2 ))p")") ms" \
			"$(ms "$(printf '%s\n' "${fp[@]}" | cut -d/ -f1 | sort -n | sed -n "$(( (K + 1) / 2 ))p")") / $(ms "$(printf '%s\n' "${fp[@]}" | cut -d/ -f2 | sort -n | sed -n "$(( (K + 1) / 2 ))p")") ms (floor)" \
			"$(ratio_cell "$lm" "$lsp" "$lfl" "$K") (p50)" "-"
		[ "$errs" = 0 ] || echo "bench: keyhole errors at $c clients: $errs" >&2
	done
	FLOOR_KB=$(rss_kb "$FLOOR")
	kill -TERM "$FLOOR"; gone "$FLOOR"
}

# --- 4. rotation push latency + 7. shim RSS -----------------------------------
# The watching shims run tests/static/shim_app (static, ~100 KB resident)
# as their app, so 1000 of them fit; the agent has --max-conns 8192.
watchers_up() { # N: start N watching shims, dirs $W/t/wI, wait until each holds "rot"
	local n=$1 i p
	# One fork per shim (1000 of them on a loaded machine): no per-shim mkdir,
	# cat or cleanup entry; watchers_down and the exit cleanup read the pid file.
	for ((i = 0; i < n; i++)); do printf '%s\0' "$W/t/w$i"; done | xargs -0 mkdir -p
	for ((i = 0; i < n; i++)); do
		"$SHIM" --socket "$SOCK" --dir "$W/t/w$i" --watch --on-rotate WINCH \
			--secret rot -- "$APP" sig /dev/null 2>>"$W/watch.err" &
		p=$!; disown "$p"; echo "$p" >>"$W/watchers.pids"
	done
	t_wait_for "[ \$(ls $W/t/w*/rot 2>/dev/null | wc -l) -ge $n ]" $((30 + n / 10))
}
watchers_down() { # SIGTERM: each shim forwards it to its app and exits with it
	local p left=() pids=()
	mapfile -t pids <"$W/watchers.pids"
	[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
	t_wait_for '! kill -0 "${pids[@]}" 2>/dev/null' 20
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
	for p in "${left[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
	: >"$W/watchers.pids"
	rm -rf "$W"/t/w*
}
# push_span N FROM: over the rotations of "rot" pushed to >= N watchers
# (audit lines after line FROM), the time
# from the agent's first to its last push audit line (ms resolution): how
# long the agent's own loop takes to reach every watcher. "MEDIAN / MAX ms".
push_span() {
	tail -n +"$(($2 + 1))" "$W/audit.log" | grep '"decision":"push"' | grep '"secret":"rot"' |
		sed -n 's/.*"time":"[^"T]*T\([0-9:.]*\)Z".*"version":\([0-9]*\).*/\1 \2/p' |
		awk -v n="$1" '{ split($1, t, ":"); x = (t[1] * 3600 + t[2] * 60 + t[3]) * 1000; v = $2
			if (!(v in lo) || x < lo[v]) lo[v] = x; if (!(v in hi) || x > hi[v]) hi[v] = x; c[v]++ }
			END { for (v in c) if (c[v] >= n) print hi[v] - lo[v] }' | sort -n |
		awk '{ a[NR] = $1 } END { if (NR) printf "%.0f / %.0f ms", a[int((NR + 1) / 2)], a[NR]; else print "-" }'
}
bench_rot() {
	say "4. rotation push latency ($ROT_IT rotations; watchers: $WATCHERS)"
	: >"$W/watchers.pids"
	t_cleanup "watchers_down"
	local n out dirs i shimpid tini it a0
	for n in $WATCHERS; do
		watchers_up "$n" || { echo "bench: $n watchers did not all get the secret" >&2
			row "rotation push, $n watching shims" "failed: not all started" "-" "-" "-"; watchers_down; continue; }
		if [ "$n" = 1 ]; then
			shimpid=$(head -1 "$W/watchers.pids"); SHIM_KB=$(rss_kb "$shimpid")
		fi
		dirs=(); for ((i = 0; i < n; i++)); do dirs+=("$W/t/w$i"); done
		it=$ROT_IT; [ "$n" -ge 1000 ] && it=$((ROT_IT / 2))
		a0=$(wc -l <"$W/audit.log")
		out=$("$BB/rotlat" "$it" rot "${dirs[@]}" -- "$KH_BIN" --store "$W/store.json" \
			--key-file "$W/agent.key" --admin-socket "$W/admin.sock" rotate rot)
		echo "$out" >&2
		local p50 p99 g50="-" g99="-"
		p50=$(ms "$(kv p50_us "$out")") p99=$(ms "$(kv p99_us "$out")")
		printf '%s %s %s\n' "$n" "$p50" "$p99" >>"$W/rot.dat"
		[ "$n" = 100 ] && g50="<= 50 ms ($(met "$p50" '<=' 50))" g99="<= 200 ms ($(met "$p99" '<=' 200))"
		[ "$n" = 1000 ] && g99="<= 100 ms ($(met "$p99" '<=' 100))"
		row "rotation push p50, $n watching shim(s) ($it rotations)" "$p50 ms" "-" "-" "$g50"
		row "rotation push p99, $n watching shim(s) (missed $(kv missed "$out"), max $(ms "$(kv max_us "$out")") ms)" "$p99 ms" "-" "-" "$g99"
		[ "$n" -ge 100 ] && row "agent push loop for $n watchers: first to last push line in the audit log, median / max over rotations" \
			"$(push_span "$n" "$a0")" "-" "-" "-"
		watchers_down
	done
	start_bg /usr/bin/tini-static -s -- "$APP" sig /dev/null; tini=$(cat "$W/last.pid"); sleep 0.3
	TINI_KB=$(rss_kb "$tini"); pkill -KILL -P "$tini"; kill -KILL "$tini"
	row "shim RSS while watching (1 secret)" "$(mb "$SHIM_KB") MB" "$(mb "$TINI_KB") MB (tini-static)" "$(ratio "$SHIM_KB" "$TINI_KB")" "-"
}

# --- 5. keystore -----------------------------------------------------------------
bench_ks() {
	say "5. keystore open+unseal (up to $KS_MAX records)"
	mkdir -p "$W/ks"
	local out base n k b
	out=$(KS_BENCH_KEEP=1 "$BB/ks_bench" "$W/ks" "$KS_MAX") || { echo "bench: ks_bench failed" >&2; return 1; }
	echo "$out" >&2
	base=$("$BB/store_base" "$W"/ks/ks_bench.*.json) || return 1
	echo "$base" >&2
	: >"$W/ks.dat"
	for n in 1000 10000 100000; do
		k=$(grep "ks_open_s records=$n " <<<"$out") || continue
		b=$(grep "\.$n\.json " <<<"$base")
		printf '%s %s %s %s\n' "$n" "$(kv open "$k")" "$(kv open_unseal_all "$k")" "$(kv parse_s "$b")" >>"$W/ks.dat"
		row "store open+unseal all, $n records" "$(kv open_unseal_all "$k") s (open $(kv open "$k") s)" \
			"$(kv parse_s "$b") s (JSON parse)" "$(ratio "$(kv open_unseal_all "$k")" "$(kv parse_s "$b")")" \
			"$([ "$n" = 10000 ] && echo "<= 0.5 s ($(met "$(kv open_unseal_all "$k")" '<=' 0.5))" || echo -)"
	done
	b=$(grep "\.10000\.json " <<<"$base")
	local put rot; put=$(kv median "$(grep ks_put_ms <<<"$out")") rot=$(kv median "$(grep ks_rotate_ms <<<"$out")")
	row "put latency, 10k-record signed store (median)" "$put ms" "$(kv write_ms "$b") ms (dump+fsync+rename)" "$(ratio "$put" "$(kv write_ms "$b")")" "-"
	row "rotate latency, 10k-record signed store (median)" "$rot ms" "$(kv write_ms "$b") ms (dump+fsync+rename)" "$(ratio "$rot" "$(kv write_ms "$b")")" "-"
	for n in 1000 10000; do
		k=$(grep "ks_signed_s records=$n " <<<"$out") || continue
		row "ks_open checking every signature, $n records (CPU, median of 5; migrate --sign took $(kv migrate "$k") s)" \
			"$(kv cpu_open_signed "$k") s" "$(kv cpu_open "$k") s (same records unsigned)" \
			"$(ratio "$(kv cpu_open_signed "$k")" "$(kv cpu_open "$k")")" "-"
	done
	bench_ks_signed
}

# Signed records: the 10k store migrated to format 2 by `keyhole migrate
# --sign` (every record signed by a writer key; one store rewrite), opened
# by `keyhole list` with the trust file (every signature checked), against
# the same store unsigned; 5 interleaved rounds, process start included.
bench_ks_signed() {
	local st s=$W/ks/signed i t0 t1 t2 plain=() signed=()
	st=$(ls "$W"/ks/ks_bench.*.10000.json 2>/dev/null | head -1)
	[ -n "$st" ] || return 0
	mkdir -p "$s"; cp "$st" "$s/store.json"; cp "$st.key" "$s/agent.key"; chmod 600 "$s"/*
	"$KH_BIN" writer new "$s/writer.key" >/dev/null 2>&1 &&
		"$KH_BIN" --writers "$s/writers" writer add bench --key "$s/writer.key" >/dev/null 2>&1 &&
		"$KH_BIN" --store "$s/store.json" --key-file "$s/agent.key" --writer-key "$s/writer.key" \
			--writers "$s/writers" migrate --sign >/dev/null 2>&1 ||
		{ echo "bench: could not make the signed 10k store" >&2; return 0; }
	for i in 1 2 3 4 5; do
		t0=$(date +%s%N)
		"$KH_BIN" --store "$st" --key-file "$st.key" list >/dev/null 2>&1 || i=fail
		t1=$(date +%s%N)
		"$KH_BIN" --store "$s/store.json" --key-file "$s/agent.key" --writers "$s/writers" list >/dev/null 2>&1 || i=fail
		t2=$(date +%s%N)
		[ "$i" != fail ] || { echo "bench: keyhole list of the 10k store failed" >&2; return 0; }
		plain+=($(( (t1 - t0) / 1000000 ))) signed+=($(( (t2 - t1) / 1000000 )))
	done
	local mp ms; mp=$(printf '%s\n' "${plain[@]}" | sort -n | sed -n 3p) ms=$(printf '%s\n' "${signed[@]}" | sort -n | sed -n 3p)
	row "store open, 10k signed records (keyhole list, every signature checked; median of 5)" "$ms ms" "$mp ms (same store unsigned)" "$(ratio "$ms" "$mp")" "-"
}

# --- 6. agent RSS ----------------------------------------------------------------
bench_rss() {
	say "6. agent RSS"
	local st d=$W/big pid held w10
	row "agent RSS idle (11 secrets)" "$(mb "$AGENT_IDLE_KB") MB" "$(mb "$FLOOR_KB") MB (floor)" "$(ratio "$AGENT_IDLE_KB" "$FLOOR_KB")" "<= 32 MB ($(met "$(mb "$AGENT_IDLE_KB")" '<=' 32))"
	st=$(ls "$W"/ks/ks_bench.*.10000.json 2>/dev/null | head -1)
	[ -n "$st" ] || { echo "bench: no 10k store kept by ks_bench" >&2; return 1; }
	mkdir -p "$d"; cp "$st" "$d/store.json"; cp "$st.key" "$d/agent.key"; chmod 600 "$d"/*
	kh_policy_host_uid0 "$d/policy.json" bench/app0/secret
	kh_agent_start "$d" "$d/policy.json" --rate-limit 0 --max-conns 8192 || return 1
	pid=$(kh_agent_pid "$d"); sleep 0.3
	w10=$(rss_kb "$pid")
	row "agent RSS idle, 10k secrets" "$(mb "$w10") MB" "$(mb "$FLOOR_KB") MB (floor)" "$(ratio "$w10" "$FLOOR_KB")" "<= 32 MB ($(met "$(mb "$w10")" '<=' 32))"
	# load keeps its watchers until stdin ends: a fifo we hold open (O_RDWR
	# does not block); SIGTERM ends it.
	mkfifo "$d/hold"; exec 9<>"$d/hold"
	start_bg "$BB/load" "$d/agent.sock" --watchers "$HELD" --name bench/app0/secret <&9 >"$d/held.out"
	held=$(cat "$W/last.pid")
	if t_wait_for "grep -q ready '$d/held.out'" 60; then
		sleep 0.3
		local r; r=$(rss_kb "$pid")
		row "agent RSS, 10k secrets + $HELD watchers" "$(mb "$r") MB" "$(mb "$FLOOR_KB") MB (floor)" "$(ratio "$r" "$FLOOR_KB")" "<= 32 MB ($(met "$(mb "$r")" '<=' 32))"
	else
		echo "bench: $HELD watchers did not connect" >&2
		row "agent RSS, 10k secrets + $HELD watchers" "failed" "-" "-" "<= 32 MB"
	fi
	kill -TERM "$held"; gone "$held"; exec 9>&-
	kh_agent_stop "$d"
}

# --- 8. stalled engine ----------------------------------------------------------
# A "container" (bench/load in a docker-shaped cgroup, /docker/<id> in every
# hierarchy, as tests/integration/attest_cgroups.sh places processes) keeps
# asking with 4 connections in a loop, while 4 host clients (root, no engine
# lookup) fetch. The engine is bench/engstub: "ok" answers at once, "hang"
# accepts and never answers. Failed host fetches count in p99 (--with-errors).
cg_place_at() { # PID REL: REL made level by level in every hierarchy
	local pid=$1 rel=$2 h d seg
	for h in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | grep '^/sys/fs/cgroup'); do
		d=$h
		for seg in ${rel//\// }; do
			d=$d/$seg
			[ -d "$d" ] && continue
			mkdir "$d" || return 1
			echo "$d" >>"$W/cg.made"
			if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
				cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"; cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
			fi
		done
		echo "$pid" >"$h/$rel/cgroup.procs" || return 1
	done
}
cg_place() { cg_place_at "$1" "docker/$2"; } # PID ID
cg_rm() {
	local d
	[ -f "$W/cg.made" ] || return 0
	tac "$W/cg.made" | while read -r d; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.1; done
	done
	: >"$W/cg.made"
}
stall_once() { # MODE -> $W/stall-MODE.res: "host=[load line] asker=[load line] denied=N"
	local mode=$1 d=$W/stall-$1 id eng ap host
	id=$(printf 'keyhole-bench-%s-%s' "$$" "$mode" | sha256sum | cut -c1-64)
	mkdir -p "$d"; cp "$W/store.json" "$d/"; cp "$W/agent.key" "$d/"; chmod 600 "$d"/*
	cat >"$d/policy.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 }, "grant": [ { "secret": "s0" } ] },
             { "name": "stall", "match": { "runtime": "docker", "name": "khb-stall" }, "grant": [ { "secret": "s0" } ] } ] }
JSON
	start_bg "$BB/engstub" "$d/engine.sock" "$mode" "$d/asker.pid"; eng=$(cat "$W/last.pid")
	t_wait_for "[ -S '$d/engine.sock' ]" 5 || return 1
	kh_agent_start "$d" "$d/policy.json" --engine "unix://$d/engine.sock" --rate-limit 0 \
		--max-conns 8192 || return 1
	mkfifo "$d/go"
	(read -r _ <"$d/go"; exec "$BB/load" "$d/agent.sock" --clients 4 --seconds $((STALL_S + 3)) \
		--name s0 --with-errors) >"$d/asker.out" 2>&1 &
	ap=$!; echo "$ap" >"$d/asker.pid"; t_cleanup "kill -KILL $ap"
	cg_place "$ap" "$id" || { echo "bench: cannot place the asker in /docker/$id" >&2; kill -KILL "$ap"; return 1; }
	echo go >"$d/go"
	sleep 1 # the asker is busy
	host=$("$BB/load" "$d/agent.sock" --clients 4 --seconds "$STALL_S" --name s0 --with-errors)
	wait "$ap" 2>/dev/null
	echo "host=[$host] asker=[$(cat "$d/asker.out")] denied=$(grep -c '"decision":"deny"' "$d/audit.log")" >"$W/stall-$mode.res"
	kh_agent_stop "$d"; kill -KILL "$eng"; cg_rm
}
bench_stall() {
	say "8. stalled engine ($STALL_S s per mode)"
	local ok hang
	stall_once ok || { row "host fetch, healthy engine" "failed" "-" "-" "-"; cg_rm; return 1; }
	stall_once hang || { row "host fetch, hung engine" "failed" "-" "-" "-"; cg_rm; return 1; }
	ok=$(cat "$W/stall-ok.res") hang=$(cat "$W/stall-hang.res")
	echo "healthy: $ok" >&2; echo "hung:    $hang" >&2
	hp() { sed 's/.*host=\[\([^]]*\)\].*/\1/' <<<"$1"; }
	ap() { sed 's/.*asker=\[\([^]]*\)\].*/\1/' <<<"$1"; }
	row "host fetch p99 while a container asks, engine hung (p50; fetches; failed)" \
		"$(ms "$(kv p99_us "$(hp "$hang")")") ms ($(ms "$(kv p50_us "$(hp "$hang")")") ms; $(kv ops "$(hp "$hang")"); $(kv errors "$(hp "$hang")"))" \
		"$(ms "$(kv p99_us "$(hp "$ok")")") ms ($(ms "$(kv p50_us "$(hp "$ok")")") ms; $(kv ops "$(hp "$ok")"); $(kv errors "$(hp "$ok")")) (healthy engine)" \
		"$(ratio "$(kv p99_us "$(hp "$hang")")" "$(kv p99_us "$(hp "$ok")")")" \
		"<= 50 ms, issue 13 ($(met "$(ms "$(kv p99_us "$(hp "$hang")")")" '<=' 50))"
	row "container fetches while asking, engine hung (p50 / p99; denials)" \
		"$(kv ops "$(ap "$hang")") ($(ms "$(kv p50_us "$(ap "$hang")")") / $(ms "$(kv p99_us "$(ap "$hang")")") ms; $(sed -n 's/.*denied=\([0-9]*\).*/\1/p' <<<"$hang") denied)" \
		"$(kv ops "$(ap "$ok")") ($(ms "$(kv p50_us "$(ap "$ok")")") / $(ms "$(kv p99_us "$(ap "$ok")")") ms; $(sed -n 's/.*denied=\([0-9]*\).*/\1/p' <<<"$ok") denied) (healthy engine)" "-" \
		"fails closed after the timeout"
}

# --- 8b. stalled kubelet -------------------------------------------------------
# As 8, for a pod: the asker is bench/load in a kubepods-shaped cgroup
# (/kubepods/besteffort/pod<uid>/<id> in every hierarchy) and the kubelet
# tests/tools/fake_kubelet.py over HTTPS, certificates made by openssl here,
# serving the fixture with the asker as the payments/api pod. "ok" answers
# GET /pods at once (the asker is then served from the cached list); "stall"
# reads the request and never answers (--kubelet-timeout 2, then the
# remembered failure's backoff: the asker is denied).
kube_once() { # MODE -> $W/kube-MODE.res: "host=[load line] asker=[load line] requests=N"
	local mode=$1 d=$W/kube-$1 c=$W/kcert id uid ap host fk
	id=$(printf 'keyhole-bench-%s-kube-%s' "$$" "$mode" | sha256sum | cut -c1-64)
	uid=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p "$d"; cp "$W/store.json" "$d/"; cp "$W/agent.key" "$d/"; chmod 600 "$d"/*
	cat >"$d/policy.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "host-root", "match": { "runtime": "host", "uid": 0 }, "grant": [ { "secret": "s0" } ] },
             { "name": "pods", "match": { "k8s": { "namespace": "payments" } }, "grant": [ { "secret": "s0" } ] } ] }
JSON
	sed -e "s/68599b052dffe302eba8dffeca05019d6923c463cfd10156c696e315cf1a39f0/$id/g" \
		-e "s/6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c/$uid/g" \
		"$KH_ROOT/tests/fixtures/k8s/pods.json" >"$d/pods.json"
	start_bg python3 "$KH_ROOT/tests/tools/fake_kubelet.py" --mode "$mode" \
		--pods "$d/pods.json" --cert "$c/kubelet.pem" --key "$c/kubelet.key" \
		--client-ca "$c/ca.pem" --port-file "$d/port" --log "$d/kubelet.log"
	fk=$(cat "$W/last.pid")
	t_wait_for "[ -s '$d/port' ]" 10 || return 1
	kh_agent_start "$d" "$d/policy.json" --kubelet "https://127.0.0.1:$(cat "$d/port")" \
		--kubelet-cacert "$c/ca.pem" --kubelet-cert "$c/client.pem" --kubelet-key "$c/client.key" \
		--kubelet-timeout 2 --rate-limit 0 --max-conns 8192 || return 1
	mkfifo "$d/go"
	(read -r _ <"$d/go"; exec "$BB/load" "$d/agent.sock" --clients 4 --seconds $((STALL_S + 3)) \
		--name s0 --with-errors) >"$d/asker.out" 2>&1 &
	ap=$!; t_cleanup "kill -KILL $ap"
	cg_place_at "$ap" "kubepods/besteffort/pod$uid/$id" ||
		{ echo "bench: cannot place the asker in a kubepods cgroup" >&2; kill -KILL "$ap"; return 1; }
	echo go >"$d/go"
	sleep 1 # the asker is busy
	host=$("$BB/load" "$d/agent.sock" --clients 4 --seconds "$STALL_S" --name s0 --with-errors)
	wait "$ap" 2>/dev/null
	echo "host=[$host] asker=[$(cat "$d/asker.out")] requests=$(grep -c 'GET /pods' "$d/kubelet.log")" >"$W/kube-$mode.res"
	kh_agent_stop "$d"; kill -KILL "$fk"; cg_rm
}
bench_kube() {
	say "8b. stalled kubelet ($STALL_S s per mode)"
	local ok hang
	if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null; then
		row "host fetch p99 while a pod asks, kubelet stalled" "skipped: no python3/openssl" "-" "-" "-"
		return 0
	fi
	mkdir -p "$W/kcert" && k8s_certs "$W/kcert" ||
		{ row "host fetch p99 while a pod asks, kubelet stalled" "failed (openssl)" "-" "-" "-"; return 1; }
	kube_once ok || { row "host fetch, healthy kubelet" "failed" "-" "-" "-"; cg_rm; return 1; }
	kube_once stall || { row "host fetch, stalled kubelet" "failed" "-" "-" "-"; cg_rm; return 1; }
	ok=$(cat "$W/kube-ok.res") hang=$(cat "$W/kube-stall.res")
	echo "healthy: $ok" >&2; echo "stalled: $hang" >&2
	hp() { sed 's/.*host=\[\([^]]*\)\].*/\1/' <<<"$1"; }
	ap() { sed 's/.*asker=\[\([^]]*\)\].*/\1/' <<<"$1"; }
	row "host fetch p99 while a pod asks, kubelet stalled (p50; fetches; failed)" \
		"$(ms "$(kv p99_us "$(hp "$hang")")") ms ($(ms "$(kv p50_us "$(hp "$hang")")") ms; $(kv ops "$(hp "$hang")"); $(kv errors "$(hp "$hang")"))" \
		"$(ms "$(kv p99_us "$(hp "$ok")")") ms ($(ms "$(kv p50_us "$(hp "$ok")")") ms; $(kv ops "$(hp "$ok")"); $(kv errors "$(hp "$ok")")) (healthy kubelet)" \
		"$(ratio "$(kv p99_us "$(hp "$hang")")" "$(kv p99_us "$(hp "$ok")")")" \
		"<= 50 ms, as the engine, issue 18 ($(met "$(ms "$(kv p99_us "$(hp "$hang")")")" '<=' 50))"
	row "pod fetches while asking, kubelet stalled (p50 / p99; kubelet requests)" \
		"$(kv ops "$(ap "$hang")") ($(ms "$(kv p50_us "$(ap "$hang")")") / $(ms "$(kv p99_us "$(ap "$hang")")") ms; $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$hang") requests)" \
		"$(kv ops "$(ap "$ok")") ($(ms "$(kv p50_us "$(ap "$ok")")") / $(ms "$(kv p99_us "$(ap "$ok")")") ms; $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$ok") requests) (healthy kubelet)" "-" \
		"fails closed; one request per backoff window, not per caller"
}

# --- 9. fleet (optional: etcd installed) ---------------------------------------
bench_fleet() {
	if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
		say "9. fleet: skipped (etcd not installed)"
		row "fleet rotation propagation" "skipped: etcd not installed" "-" "-" "-"
		return 0
	fi
	say "9. fleet: 3 agents on a 3-member TLS etcd, $FLEET_N rotations, $K rounds"
	local out r e2e aft st m sp fl am asp afl
	out=$(ROUNDS=$K B=$B bash bench/fleet_propagation.sh "$FLEET_N" 0 2>&1)
	echo "$out" >&2
	grep -q '^fleet keyhole ' <<<"$out" || { row "fleet rotation propagation" "failed (see log)" "-" "-" "-"; return 1; }
	e2e=() aft=()
	while read -r r; do
		e2e+=("$(ratio "$(kv keyhole_p50_ms "$r")" "$(kv bare_p50_ms "$r")")")
		aft+=("$(ratio "$(kv keyhole_after_p50_ms "$r")" "$(kv bare_after_p50_ms "$r")")")
	done < <(grep '^fleet_round ' <<<"$out")
	read -r m sp fl <<<"$(rounds_stat none "${e2e[@]}")"
	read -r am asp afl <<<"$(rounds_stat none "${aft[@]}")"
	local k b ka ba c
	k=$(grep '^fleet keyhole ' <<<"$out") b=$(grep '^fleet bare ' <<<"$out")
	ka=$(grep '^fleet_after keyhole ' <<<"$out") ba=$(grep '^fleet_after bare ' <<<"$out")
	c=$(grep '^fleet_cli keyhole ' <<<"$out")
	row "fleet: rotate -> 3 agents' shims, from the CLI's start, p50 / p99 (missed $(kv missed "$k"))" \
		"$(kv p50_ms "$k") / $(kv p99_ms "$k") ms" "$(kv p50_ms "$b") / $(kv p99_ms "$b") ms (etcdctl put -> watch)" \
		"$(ratio_cell "$m" "$sp" "$fl" "$K") (p50)" "-"
	row "fleet: the same from the CLI's exit (after the commit), p50 / p99" \
		"$(kv p50_ms "$ka") / $(kv p99_ms "$ka") ms" "$(kv p50_ms "$ba") / $(kv p99_ms "$ba") ms (etcdctl put -> watch)" \
		"$(ratio_cell "$am" "$asp" "$afl" "$K") (p50)" "-"
	row "fleet: keyhole rotate CLI itself (start, TLS, txn), p50 / p99" "$(kv p50_ms "$c") / $(kv p99_ms "$c") ms" "-" "-" "-"
}

# --- output ------------------------------------------------------------------------
# Container-start rows come from the last `make bench-containers`
# (bench/results/containers.tsv: a "# machine" line, then rows).
CTR=bench/results/containers.tsv
report() {
	local m; m=$(machine)
	{
		echo "# keyhole bench results"
		echo
		echo "Machine: $m"
		echo
		echo "Load average (1/5/15 min): before $LOAD0, after $(loadavg)."
		echo
		echo "Shared machine: absolute numbers drift; compare each figure with its baseline from the same run."
		echo "A ratio to a floor is the median of per-round ratios (floor and keyhole interleaved, $K rounds);"
		echo "spread = (max - min) / median of those ratios. NOISY (spread > 20 %, or a round where keyhole"
		echo "beat its floor): such a figure is printed but its goal is not judged."
		echo
		echo "| figure | keyhole | baseline (same run) | ratio | goal |"
		echo "|---|---|---|---|---|"
		awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$CSV"
		if [ -s "$CTR" ]; then
			echo
			echo "## Container start (from \`make bench-containers\`, its own run)"
			echo
			echo "Run: $(head -1 "$CTR" | sed 's/^# //')"
			echo
			echo "| figure | keyhole | baseline (same run) | ratio | goal |"
			echo "|---|---|---|---|---|"
			tail -n +2 "$CTR" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
		fi
	} >"$RES/$OUT.md"
	{
		echo "# $m load_before=\"$LOAD0\" load_after=\"$(loadavg)\""
		echo "figure,keyhole,baseline,ratio,goal"
		{ cat "$CSV"; [ -s "$CTR" ] && tail -n +2 "$CTR"; } |
			awk -F'\t' '{ for (i = 1; i <= 5; i++) { gsub(/"/, "\"\"", $i); printf "%s\"%s\"", (i > 1 ? "," : ""), $i } print "" }'
		[ -s "$CTR" ] && echo "# container rows: $(head -1 "$CTR" | sed 's/^# //')"
	} >"$RES/$OUT.csv"
	cat "$RES/$OUT.md"
	plot "$m"
}

plot() {
	[ -s "$W/tput.dat" ] || return 0
	local term=pngcairo ctr=bench/results/containers.dat
	gnuplot -e 'set terminal pngcairo' 2>/dev/null || term=png
	# containers.dat: ENGINE N p50a p50b p50c p99a p99b p99c (us)
	for e in docker podman; do
		awk -v e="$e" '$1 == e { print $2, $3 / 1e6, $4 / 1e6, $5 / 1e6, $6 / 1e6, $7 / 1e6, $8 / 1e6 }' \
			"$ctr" 2>/dev/null >"$W/ctr-$e.dat"
	done
	[ -s "$W/rot.dat" ] || echo "1 0 0" >"$W/rot.dat"
	gnuplot <<GP 2>&1 | sed 's/^/gnuplot: /' >&2
set terminal $term size 1400,900 noenhanced
set output "$RES/$OUT.png"
set multiplot layout 2,2 title "keyhole bench: ${1//\"/}" font ",9"
set title "container start, p50 per container (make bench-containers)"
set xlabel "containers started at once (N)"; set ylabel "seconds (run -> app running)"
set logscale x 10; set key top left; set grid
plot "$W/ctr-docker.dat" using 1:2 with linespoints lw 2 dt 1 lc 1 title "docker: app", \
     "$W/ctr-docker.dat" using 1:3 with linespoints lw 2 dt 1 lc 2 title "docker: tini-static -> app", \
     "$W/ctr-docker.dat" using 1:4 with linespoints lw 2 dt 1 lc 7 title "docker: keyhole-shim (10 secrets) -> app", \
     "$W/ctr-podman.dat" using 1:2 with linespoints lw 2 dt 2 lc 1 title "podman: app", \
     "$W/ctr-podman.dat" using 1:3 with linespoints lw 2 dt 2 lc 2 title "podman: tini-static -> app", \
     "$W/ctr-podman.dat" using 1:4 with linespoints lw 2 dt 2 lc 7 title "podman: keyhole-shim (10 secrets) -> app"
unset logscale
set title "fetch throughput (fresh connection per fetch, median of rounds)"
set xlabel "concurrent clients"; set ylabel "fetches / s"
set logscale x 2; set key top left; set grid
plot "$W/tput.dat" using 1:2 with linespoints lw 2 title "keyholed", \
     "$W/tput.dat" using 1:3 with linespoints lw 2 title "floor (accept+SO_PEERCRED+reply)"
unset logscale
set title "rotation push latency vs watching shims"
set xlabel "watching shims"; set ylabel "ms (log)"
set logscale xy 10; set key top left
plot "$W/rot.dat" using 1:2 with linespoints lw 2 title "p50", \
     "$W/rot.dat" using 1:3 with linespoints lw 2 title "p99", \
     100 with lines dt 2 title "goal p99 at 1000 (100 ms)"
unset logscale
set title "store open time vs records"
set xlabel "records"; set ylabel "seconds"
set logscale xy 10; set key top left
plot "$W/ks.dat" using 1:3 with linespoints lw 2 title "keyhole open + unseal all", \
     "$W/ks.dat" using 1:2 with linespoints lw 2 title "keyhole open", \
     "$W/ks.dat" using 1:4 with linespoints lw 2 title "plain JSON parse (jansson)"
unset multiplot
GP
}

main() {
	for b in "$SHIM" "$KH_BIN" "$KHD_BIN" "$BB/floor" "$BB/load" "$BB/startup" "$BB/rotlat" \
		"$BB/ks_bench" "$BB/store_base" "$BB/engstub" "$APP" /usr/bin/tini-static /usr/bin/dumb-init; do
		[ -x "$b" ] || { echo "bench: $b missing (run make bench)" >&2; exit 1; }
	done
	local t0=$SECONDS sec
	LOAD0=$(loadavg)
	machine >&2
	say "load average before: $LOAD0"
	bench_size
	agent_up || { echo "bench: keyholed did not start" >&2; exit 1; }
	# BENCH_ONLY="start load ..." runs only those sections (for development;
	# the committed results come from a full run).
	for sec in start load rot ks rss stall kube fleet; do
		[ -z "$BENCH_ONLY" ] || [[ " $BENCH_ONLY " == *" $sec "* ]] || continue
		"bench_$sec"
		agent_check "$sec"
	done
	say "load average after: $(loadavg)"
	report
	say "done in $((SECONDS - t0)) s"
	disown -a 2>/dev/null # the exit cleanups kill the agents: no job notices
}
main
