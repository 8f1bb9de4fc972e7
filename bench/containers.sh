#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench-containers`: container start time on real engines (the e2e
# lab's private dockerd and podman, scripts/engine-lab.sh), N containers
# started at once with `run -d`, the same image three ways:
#   a  /bin/benchapp                          (the app directly)
#   b  /bin/tini-static -- /bin/benchapp      (Debian's tini-static)
#   c  /bin/keyhole-shim --secret s0 ... --secret s9 -- /bin/benchapp
#      (10 granted secrets, required: a denial is exit 101 with its reason,
#      not an app without secrets; agent dir mounted, tmpfs on /run/secrets
#      as docs/shim.md recommends)
# Time: bench/ctrstart, from just before each `run` is forked to the moment
# the app (tests/static/benchapp) has stat'ed its secrets and connected to
# ctrstart's socket. Rounds interleave the variants (rotated order). Writes
# bench/results/containers.{md,csv,dat}; bench/run.sh folds them into
# latest.* and plots them. CTR_REPORT=1 recomputes the tables from the last
# run's samples (bench/results/containers.samples) without running anything.
# Env: CTR_VARIANTS ("a b c"; a diagnostic run may take one), CTR_ROUNDS (3), CTR_REPS1 (5: N=1 starts per
# variant and round), CTR_NS ("1 10 50"),
# CTR_ENGINES ("docker podman"). Needs root.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
export KH_ROOT=$PWD KH_BUILD=$PWD/$B
. tests/lib.sh
. tests/lib-agent.sh
. scripts/engine-lab.sh
. bench/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench-containers: needs root" >&2; exit 1; }
VARIANTS=${CTR_VARIANTS:-"a b c"} ROUNDS=${CTR_ROUNDS:-3} REPS1=${CTR_REPS1:-5} NS=${CTR_NS:-"1 10 50"} ENGINES=${CTR_ENGINES:-"docker podman"}
RES=${CTR_RES:-bench/results}
W=$(t_tmpdir)
CSV=$W/rows.tsv
: >"$CSV"
SAMPLES=$W/samples # one line per (engine variant N round): the ctrstart output
: >"$SAMPLES"
say() { printf '== %s\n' "$*" >&2; }
trap 'exit 143' TERM INT HUP
for b in "$KH_BUILD/bench/ctrstart" "$KH_BUILD/static/benchapp" "$KH_BUILD/keyhole-shim" \
	"$KHD_BIN" "$KH_BIN" /usr/bin/tini-static; do
	[ -x "$b" ] || { echo "bench-containers: $b missing (make bench-containers builds it)" >&2; exit 1; }
done

SECRETS=(s0 s1 s2 s3 s4 s5 s6 s7 s8 s9)

# lab_up ENGINE DIR: private engine, image khb, keyholed granting the 10
# secrets to containers named khb-*; sets CLI (argv of the engine CLI).
lab_up() {
	local e=$1 d=$2 s g=""
	mkdir -p "$d"; chmod 0755 "$d"
	t_cleanup "el_stop $e '$d'"
	el_start "$e" "$d" || { echo "bench-containers: $e: $(el_why)" >&2; return 1; }
	el_image "$e" "$d" khb "$KH_BUILD/static/benchapp" "$KH_BUILD/keyhole-shim" \
		/usr/bin/tini-static || { echo "bench-containers: $e: $(el_why)" >&2; return 1; }
	mkdir -p "$d/run" "$d/out"; chmod 0755 "$d/run"; chmod 0777 "$d/out"
	kh_store_new "$d" || return 1
	for s in "${SECRETS[@]}"; do kh_put "$d" "$s" "value-of-$s-$RANDOM$RANDOM"; g+="${g:+, }{\"secret\": \"$s\"}"; done
	cat >"$d/policy.json" <<JSON
{ "version": 1,
  "rules": [ { "name": "bench", "match": { "runtime": "$e", "name": "khb-*" },
               "grant": [ $g ] } ] }
JSON
	KH_AGENT_SOCK=$d/run/agent.sock kh_agent_start "$d" "$d/policy.json" \
		--engine "unix://$d/$e.sock" || return 1
	if [ "$e" = docker ]; then
		export DOCKER_CONFIG=$d/docker/cli
		CLI=(docker -H "unix://$d/docker.sock")
	else
		export CONTAINERS_CONF=$d/podman/containers.conf \
			CONTAINERS_STORAGE_CONF=$d/podman/storage.conf \
			CONTAINERS_REGISTRIES_CONF=$d/podman/registries.conf
		CLI=(podman --root "$d/podman/root" --runroot "$d/podman/runroot")
	fi
	# One warm-up container per variant: first-use costs (image layers
	# unpacked, engine caches) must not land on round 1's variant a.
	local v
	for v in $VARIANTS; do batch "$e" "$d" "$v" 1 warm >/dev/null; done
}

# variant_args ENGINE DIR V: the run options and command of variant V.
variant_args() {
	local e=$1 d=$2 v=$3 tmpfs=rw,size=1m,mode=0700
	case $v in
	a) echo "khb /bin/benchapp /out/ready.sock @I@" ;;
	b) echo "khb /bin/tini-static -- /bin/benchapp /out/ready.sock @I@" ;;
	c) echo "-v $d/run:/run/keyhole --tmpfs /run/secrets:$tmpfs khb /bin/keyhole-shim ${SECRETS[*]/#/--secret } -- /bin/benchapp /out/ready.sock @I@ ${SECRETS[*]}" ;;
	esac
}

# batch ENGINE DIR V N TAG: start N containers of variant V at once, print
# ctrstart's line, remove them (not timed).
batch() {
	local e=$1 d=$2 v=$3 n=$4 tag=$5 out
	# shellcheck disable=SC2046 # variant_args is split on purpose (no spaces inside args)
	out=$("$KH_BUILD/bench/ctrstart" "$d/out/ready.sock" "$n" 180 -- "${CLI[@]}" run -d \
		--network none --name "khb-$v-$tag-@I@" -v "$d/out:/out" $(variant_args "$e" "$d" "$v") \
		2>>"$d/run.err")
	echo "$out"
	if [ "$(kv ok "$out")" != "$n" ]; then # why some never reported: state and logs, before rm
		{
			echo "== $v N=$n $tag: $(kv ok "$out") of $n reported"
			"${CLI[@]}" ps -a --format '{{.Names}} {{.Status}}' | grep -v ' Up ' | head -20
			echo "-- agent audit, not releases:"; grep -v '"decision":"release"' "$d/audit.log" | tail -5
			echo "-- agent: pid $(kh_agent_pid "$d"): $(kill -0 "$(kh_agent_pid "$d")" 2>/dev/null && echo alive || echo GONE)," \
				"socket $([ -S "$d/run/agent.sock" ] && echo present || echo MISSING); its log:"
			tail -5 "$d/keyholed.log"
			"${CLI[@]}" ps -aq --filter status=exited | head -5 | xargs -r -n1 "${CLI[@]}" logs 2>&1 | tail -20
		} >>"$d/run.err" 2>&1
	fi
	if [ "$e" = docker ]; then
		"${CLI[@]}" ps -aq | xargs -r "${CLI[@]}" rm -f >/dev/null 2>&1
	else
		"${CLI[@]}" rm -af -t 0 >/dev/null 2>&1
	fi
}

# A round starts each N once per variant (N=1: REPS1 times, one sample
# each is too few), the variants in a rotated order.
measure() {
	local e=$1 d=$2 r n k vs v out rep reps
	for ((r = 1; r <= ROUNDS; r++)); do
		for n in $NS; do
			reps=1; [ "$n" = 1 ] && reps=$REPS1
			read -ra vs <<<"$VARIANTS"
			for ((rep = 0; rep < reps; rep++)); do
				for ((k = 0; k < ${#vs[@]}; k++)); do
					v=${vs[(r + n + k + rep) % ${#vs[@]}]}
					out=$(batch "$e" "$d" "$v" "$n" "r$r-n$n-$rep")
					printf '%s %s %s %s %s\n' "$e" "$v" "$n" "$r" "$out" >>"$SAMPLES"
					say "$e $v N=$n round $r: $(cut -d' ' -f1-6 <<<"$out")"
				done
			done
		done
	done
}

# samples ENGINE V N [ROUND]: every per-container latency (us), one a line
samples() {
	awk -v e="$1" -v v="$2" -v n="$3" -v r="${4:-}" '$1 == e && $2 == v && $3 == n && (r == "" || $4 == r) {
		for (i = 5; i <= NF; i++) if ($i ~ /^lat_us=/) { s = substr($i, 8); m = split(s, x, ","); for (j = 1; j <= m; j++) if (x[j] != "") print x[j] } }' "$SAMPLES"
}
fails() {
	awk -v e="$1" -v n="$2" '$1 == e && $3 == n { for (i = 5; i <= NF; i++) { if ($i ~ /^failed_runs=/) f += substr($i, 13)
		if ($i ~ /^n=/) want += substr($i, 3); if ($i ~ /^ok=/) ok += substr($i, 4) } } END { print want - ok + 0 }' "$SAMPLES"
}

# p50 of V's samples in round R (us)
round_p50() { samples "$1" "$2" "$3" "$4" >"$W/x"; pct "$W/x" 50; }

report_engine() {
	local e=$1 n v r ra rb fa fb sa sb fla flb ca s lost
	for n in $NS; do
		[ -n "$(samples "$e" a "$n")" ] || continue # not measured (CTR_NS)
		for v in a b c; do
			samples "$e" "$v" "$n" >"$W/$v"
			p50[$v]=$(pct "$W/$v" 50) p99[$v]=$(pct "$W/$v" 99)
		done
		ra=() rb=()
		for ((r = 1; r <= ROUNDS; r++)); do
			ca=$(round_p50 "$e" c "$n" "$r")
			ra+=("$(ratio "$ca" "$(round_p50 "$e" a "$n" "$r")")")
			rb+=("$(ratio "$ca" "$(round_p50 "$e" b "$n" "$r")")")
		done
		read -r fa sa fla <<<"$(rounds_stat lower "${ra[@]}")"
		read -r fb sb flb <<<"$(rounds_stat none "${rb[@]}")" # tini is no floor of the shim
		lost=$(fails "$e" "$n")
		printf '%s %s %s %s %s %s %s %s\n' "$e" "$n" "${p50[a]}" "${p50[b]}" "${p50[c]}" \
			"${p99[a]}" "${p99[b]}" "${p99[c]}" >>"$RES/containers.dat.new"
		s="container start, $e, N=$n at once"
		row "$s: p50 shim (c) vs app (a)" "$(ms "${p50[c]}") ms" "$(ms "${p50[a]}") ms (app)" \
			"$(ratio_cell "$fa" "$sa" "$fla" "$ROUNDS")" \
			"$([ "$n" = 50 ] && goal_or_noisy "$fla" "$fa" '<=' 1.05 || echo -)"
		row "$s: p50 shim (c) vs tini-static (b)" "$(ms "${p50[c]}") ms" "$(ms "${p50[b]}") ms (tini)" \
			"$(ratio_cell "$fb" "$sb" "$flb" "$ROUNDS")" \
			"$([ "$n" = 50 ] && goal_or_noisy "$flb" "$fb" '<=' 1.05 || echo -)"
		row "$s: p99 shim / tini / app" "$(ms "${p99[c]}") ms" "$(ms "${p99[b]}") / $(ms "${p99[a]}") ms" \
			"$(ratio "${p99[c]}" "${p99[a]}") (vs app)" "-"
		[ "$lost" = 0 ] || row "$s: containers that never reported" "$lost" "-" "-" "0"
	done
}

write_results() { # MACHINE-LINE
	{ echo "# $1"; cat "$CSV"; } >"$RES/containers.tsv"
	[ -f "$RES/containers.dat.new" ] && mv "$RES/containers.dat.new" "$RES/containers.dat"
	[ "$SAMPLES" -ef "$RES/containers.samples" ] || cp "$SAMPLES" "$RES/containers.samples"
	{
		echo "# keyhole container start (make bench-containers)"
		echo; echo "Machine: $1"; echo
		echo "| figure | keyhole | baseline (same run) | ratio (median of per-round ratios) | goal |"
		echo "|---|---|---|---|---|"
		awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$CSV"
	} | tee "$RES/containers.md"
}

main() {
	local e t0=$SECONDS l0 d m
	declare -gA p50 p99
	rm -f "$RES/containers.dat.new"
	if [ -n "${CTR_REPORT:-}" ]; then # recompute the tables from the last run's samples
		SAMPLES=$RES/containers.samples
		ROUNDS=$(awk '{ if ($4 > r) r = $4 } END { print r + 0 }' "$SAMPLES")
		for e in $ENGINES; do grep -q "^$e " "$SAMPLES" && report_engine "$e"; done
		write_results "$(head -1 "$RES/containers.tsv" | sed 's/^# //')"
		return
	fi
	l0=$(loadavg)
	say "container start: engines '$ENGINES', N '$NS', $ROUNDS rounds; load $l0"
	for e in $ENGINES; do
		d=$W/$e
		if ! lab_up "$e" "$d"; then
			row "container start, $e" "not run: engine lab did not start" "-" "-" "-"
			continue
		fi
		measure "$e" "$d"
		cp "$d/run.err" "$RES/containers.$e.err" 2>/dev/null # why containers did not report
		report_engine "$e"
		kh_agent_stop "$d"; el_stop "$e" "$d"
		unset DOCKER_CONFIG CONTAINERS_CONF CONTAINERS_STORAGE_CONF CONTAINERS_REGISTRIES_CONF
	done
	m="nproc=$(nproc) kernel=$(uname -r) date=$(date -u +%FT%TZ) rounds=$ROUNDS load_before=\"$l0\" load_after=\"$(loadavg)\" took=$((SECONDS - t0))s"
	write_results "$m"
	say "done in $((SECONDS - t0)) s"
	disown -a 2>/dev/null
}
main
