#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: every performance figure of keyhole next to a baseline
# measured in the same run. Prints one table and writes bench/results/
# latest.{md,csv,png}. BENCH_QUICK=1 for a short pass (written as quick.*
# instead, so it never overwrites a full run's results). Needs root (tmpfs
# mounts for the shim's secret dirs). Timing comes from the C probes in
# bench/ (clock_gettime), never from this script.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
export KH_ROOT=$PWD KH_BUILD=$PWD/$B
. tests/lib.sh
. tests/lib-agent.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (tmpfs mounts)" >&2; exit 1; }
ulimit -n 8192

QUICK=${BENCH_QUICK:-}
RUNS=$([ -n "$QUICK" ] && echo 40 || echo 200)
LOAD_S=$([ -n "$QUICK" ] && echo 1 || echo 3)
ROT_IT=$([ -n "$QUICK" ] && echo 10 || echo 40)
KS_MAX=$([ -n "$QUICK" ] && echo 10000 || echo 100000)
WATCHERS_BIG=100 HELD=1000
BB=$KH_BUILD/bench SHIM=$KH_BUILD/keyhole-shim
RES=bench/results OUT=latest
[ -n "$QUICK" ] && OUT=quick # a quick pass does not overwrite the committed full results
mkdir -p "$RES"
W=$(t_tmpdir)
CSV=$W/rows.tsv
: >"$CSV"

say() { printf '== %s\n' "$*" >&2; }
# row FIGURE KEYHOLE BASELINE RATIO GOAL  (values already carry units)
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$CSV"; }
kv() { sed -n "s/.*\b$1=\([-0-9.]*\).*/\1/p" <<<"$2" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# met VALUE OP LIMIT -> "met" / "missed"
met() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { if (op == "<=") ok = (v <= l); else ok = (v >= l); print (ok ? "met" : "MISSED") }'; }
# start_bg CMD...: background, killed at exit; pid in $W/last.pid. Disowned so
# that killing it does not print job notices.
start_bg() { "$@" & local p=$!; disown "$p"; t_cleanup "kill -KILL $p"; echo "$p" >"$W/last.pid"; }
gone() { t_wait_for "! kill -0 $1 2>/dev/null" 5; }
trap 'exit 143' TERM INT HUP

machine() {
	printf 'nproc=%s cpu="%s" kernel=%s date=%s quick=%s\n' "$(nproc)" \
		"$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" "$(uname -r)" \
		"$(date -u +%FT%TZ)" "${QUICK:-0}"
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

# --- 2. start overhead --------------------------------------------------------
bench_start() {
	say "2. start overhead ($RUNS interleaved runs)"
	local ten=() i out
	for i in $(seq 0 9); do ten+=(--secret "s$i"); done
	mkdir -p "$W/t/one" "$W/t/ten"
	out=$("$BB/startup" "$RUNS" \
		true -- /bin/true ";;" \
		tini -- /usr/bin/tini-static -- /bin/true ";;" \
		shim1 -- "$SHIM" --socket "$SOCK" --dir "$W/t/one" --secret s0 -- /bin/true ";;" \
		shim10 -- "$SHIM" --socket "$SOCK" --dir "$W/t/ten" "${ten[@]}" -- /bin/true \
		2>>"$W/start.err")
	echo "$out" >&2
	local tm tp nm np s1m s1p s10m s10p f
	tm=$(kv median_us "$(grep '^true ' <<<"$out")") tp=$(kv p95_us "$(grep '^true ' <<<"$out")")
	nm=$(kv median_us "$(grep '^tini ' <<<"$out")") np=$(kv p95_us "$(grep '^tini ' <<<"$out")")
	s1m=$(kv median_us "$(grep '^shim1 ' <<<"$out")") s1p=$(kv p95_us "$(grep '^shim1 ' <<<"$out")")
	s10m=$(kv median_us "$(grep '^shim10 ' <<<"$out")") s10p=$(kv p95_us "$(grep '^shim10 ' <<<"$out")")
	f=$(awk '{ s += $NF ~ /failures=/ ? substr($NF, 10) : 0 } END { print s + 0 }' <<<"$out")
	[ "$f" = 0 ] || echo "bench: $f start runs failed (see below)" >&2
	row "start, /bin/true direct vs tini-static -- /bin/true, median" "$(ms "$tm") ms" "$(ms "$nm") ms (tini)" "$(ratio "$tm" "$nm")" "-"
	row "start, shim -- /bin/true, 1 secret, median" "$(ms "$s1m") ms" "$(ms "$nm") ms (tini)" "$(ratio "$s1m" "$nm")" "-"
	row "start, shim -- /bin/true, 1 secret, p95" "$(ms "$s1p") ms" "$(ms "$np") ms (tini)" "$(ratio "$s1p" "$np")" "-"
	row "start, shim -- /bin/true, 10 secrets, median" "$(ms "$s10m") ms" "$(ms "$nm") ms (tini)" "$(ratio "$s10m" "$nm")" "-"
	row "start, shim -- /bin/true, 10 secrets, p95" "$(ms "$s10p") ms" "$(ms "$np") ms (tini)" "$(ratio "$s10p" "$np")" "-"
	row "start overhead over /bin/true, 1 secret, median" "$(ms $((s1m - tm))) ms" "$(ms $((nm - tm))) ms (tini)" "$(ratio $((s1m - tm)) $((nm - tm)))" "-"
	[ "$f" = 0 ] || { row "start runs that failed" "$f" "-" "-" "0"; sed 's/^/# /' "$W/start.err" | sort | uniq -c | head >&2; }
}

# --- 3. fetch throughput vs the floor ----------------------------------------
bench_load() {
	say "3. fetch throughput (${LOAD_S} s per point)"
	start_bg "$BB/floor" "$W/floor.sock"; FLOOR=$(cat "$W/last.pid")
	t_wait_for "[ -S '$W/floor.sock' ]" 5 || { echo "bench: floor did not start" >&2; return 1; }
	: >"$W/tput.dat"
	local c k f fr kr
	for c in 1 8 64 256; do
		f=$("$BB/load" "$W/floor.sock" --clients "$c" --seconds "$LOAD_S")
		k=$("$BB/load" "$SOCK" --clients "$c" --seconds "$LOAD_S" --name s0)
		echo "floor  $f" >&2; echo "keyhole $k" >&2
		fr=$(kv rate "$f") kr=$(kv rate "$k")
		printf '%s %s %s\n' "$c" "$kr" "$fr" >>"$W/tput.dat"
		row "fetch rate, $c concurrent fresh connections" "$kr/s" "$fr/s (floor)" "$(ratio "$kr" "$fr")" ">= 0.50 ($(met "$(ratio "$kr" "$fr")" '>=' 0.5))"
		row "fetch latency p50 / p99, $c clients" "$(ms "$(kv p50_us "$k")") / $(ms "$(kv p99_us "$k")") ms" \
			"$(ms "$(kv p50_us "$f")") / $(ms "$(kv p99_us "$f")") ms (floor)" "$(ratio "$(kv p50_us "$k")" "$(kv p50_us "$f")")" "-"
		[ "$(kv errors "$k")" = 0 ] || echo "bench: keyhole errors at $c clients: $(kv errors "$k")" >&2
	done
	FLOOR_KB=$(rss_kb "$FLOOR")
	kill -TERM "$FLOOR"; gone "$FLOOR"
}

# --- 4. rotation push latency + 7. shim RSS -----------------------------------
watchers_up() { # N: start N watching shims, dirs $W/t/wI, wait until each holds "rot"
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		mkdir -p "$W/t/w$i"
		start_bg "$SHIM" --socket "$SOCK" --dir "$W/t/w$i" --watch --on-rotate WINCH \
			--secret rot -- sleep 100000 2>>"$W/watch.err"
		cat "$W/last.pid" >>"$W/watchers.pids"
	done
	t_wait_for "[ \$(ls $W/t/w*/rot 2>/dev/null | wc -l) -ge $n ]" 30
}
watchers_down() {
	local p
	while read -r p; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done <"$W/watchers.pids"
	: >"$W/watchers.pids"
	rm -rf "$W"/t/w*
}
bench_rot() {
	say "4. rotation push latency ($ROT_IT rotations)"
	: >"$W/watchers.pids"
	local n out dirs i shimpid tini
	for n in 1 "$WATCHERS_BIG"; do
		watchers_up "$n" || { echo "bench: $n watchers did not all get the secret" >&2; watchers_down; return 1; }
		if [ "$n" = 1 ]; then
			shimpid=$(head -1 "$W/watchers.pids"); SHIM_KB=$(rss_kb "$shimpid")
		fi
		dirs=(); for ((i = 0; i < n; i++)); do dirs+=("$W/t/w$i"); done
		out=$("$BB/rotlat" "$ROT_IT" rot "${dirs[@]}" -- "$KH_BIN" --store "$W/store.json" \
			--key-file "$W/agent.key" --admin-socket "$W/admin.sock" rotate rot)
		echo "$out" >&2
		local p50 p99 g50 g99
		p50=$(ms "$(kv p50_us "$out")") p99=$(ms "$(kv p99_us "$out")")
		g50="-" g99="-"
		[ "$n" = "$WATCHERS_BIG" ] && g50="<= 50 ms ($(met "$p50" '<=' 50))" g99="<= 200 ms ($(met "$p99" '<=' 200))"
		row "rotation push p50, $n watching shim(s)" "$p50 ms" "-" "-" "$g50"
		row "rotation push p99, $n watching shim(s) (missed $(kv missed "$out"))" "$p99 ms" "-" "-" "$g99"
		watchers_down
	done
	start_bg /usr/bin/tini-static -s -- sleep 100000; tini=$(cat "$W/last.pid"); sleep 0.3
	TINI_KB=$(rss_kb "$tini"); pkill -KILL -P "$tini"; kill -KILL "$tini"
	row "shim RSS while watching (1 secret)" "$(mb "$SHIM_KB") MB" "$(mb "$TINI_KB") MB (tini-static + sleep)" "$(ratio "$SHIM_KB" "$TINI_KB")" "-"
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
	row "put latency, 10k-record store (median)" "$put ms" "$(kv write_ms "$b") ms (dump+fsync+rename)" "$(ratio "$put" "$(kv write_ms "$b")")" "-"
	row "rotate latency, 10k-record store (median)" "$rot ms" "$(kv write_ms "$b") ms (dump+fsync+rename)" "$(ratio "$rot" "$(kv write_ms "$b")")" "-"
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

# --- output ------------------------------------------------------------------------
report() {
	local m; m=$(machine)
	{
		echo "# keyhole bench results"
		echo
		echo "Machine: $m"
		echo
		echo "Shared machine: absolute numbers drift; compare each figure with its baseline from the same run."
		echo
		echo "| figure | keyhole | baseline (same run) | ratio | goal |"
		echo "|---|---|---|---|---|"
		awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$CSV"
	} >"$RES/$OUT.md"
	{
		echo "# $m"
		echo "figure,keyhole,baseline,ratio,goal"
		awk -F'\t' '{ for (i = 1; i <= 5; i++) { gsub(/"/, "\"\"", $i); printf "%s\"%s\"", (i > 1 ? "," : ""), $i } print "" }' "$CSV"
	} >"$RES/$OUT.csv"
	cat "$RES/$OUT.md"
	plot "$m"
}

plot() {
	[ -s "$W/tput.dat" ] || return 0
	local term=pngcairo
	gnuplot -e 'set terminal pngcairo' 2>/dev/null || term=png
	gnuplot <<GP 2>&1 | sed 's/^/gnuplot: /' >&2
set terminal $term size 1100,480 noenhanced
set output "$RES/$OUT.png"
set multiplot layout 1,2 title "keyhole bench: ${1//\"/}" font ",9"
set title "fetch throughput (fresh connection per fetch)"
set xlabel "concurrent clients"; set ylabel "fetches / s"
set logscale x 2; set key top left; set grid
plot "$W/tput.dat" using 1:2 with linespoints lw 2 title "keyholed", \
     "$W/tput.dat" using 1:3 with linespoints lw 2 title "floor (accept+SO_PEERCRED+reply)"
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
		"$BB/ks_bench" "$BB/store_base" /usr/bin/tini-static /usr/bin/dumb-init; do
		[ -x "$b" ] || { echo "bench: $b missing (run make bench)" >&2; exit 1; }
	done
	local t0=$SECONDS
	machine >&2
	bench_size
	agent_up || { echo "bench: keyholed did not start" >&2; exit 1; }
	bench_start
	bench_load
	bench_rot
	bench_ks
	bench_rss
	report
	say "done in $((SECONDS - t0)) s"
	disown -a 2>/dev/null # the exit cleanups kill the agents: no job notices
}
main
