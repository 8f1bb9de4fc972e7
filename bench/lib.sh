# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared helpers of bench/run.sh and bench/containers.sh: result rows, ratios
# over interleaved rounds, and the "noisy" rule (docs/performance.md).
# Source after tests/lib.sh; set CSV (the rows file) first.
#   row FIGURE KEYHOLE BASELINE RATIO GOAL     one result row (values carry units)
#   kv KEY LINE                                value of KEY=... in LINE
#   ratio A B / ms US / pct_us LIST P          arithmetic helpers (awk)
#   rounds_stat DIR RATIO...                   per-round ratios -> "MEDIAN SPREAD FLAG"
#                                              DIR: "lower" if keyhole can only be
#                                              >= its floor (ratio >= 1 is physical),
#                                              "upper" if ratio <= 1 is physical.
#                                              SPREAD = (max - min) / median, in %.
#                                              FLAG = ok | noisy
#   goal_or_noisy FLAG VALUE OP LIMIT          "LIMIT (met|MISSED)" or "LIMIT (noisy: not judged)"
#   loadavg                                    the 1/5/15-minute load averages

row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$CSV"; }
kv() { sed -n "s/.*\b$1=\([-0-9.]*\).*/\1/p" <<<"$2" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# met VALUE OP LIMIT -> "met" / "MISSED"
met() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { if (op == "<=") ok = (v <= l); else ok = (v >= l); print (ok ? "met" : "MISSED") }'; }

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE, one a line
pct() { sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END { if (NR == 0) { print 0; exit }
	k = int(NR * p / 100 + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR; print a[k] }'; }

rounds_stat() {
	local dir=$1; shift
	printf '%s\n' "$@" | awk -v dir="$dir" '
	$1 != "-" && $1 != "" { a[n++] = $1 + 0 }
	END {
		if (n == 0) { print "- - noisy"; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		med = (n % 2) ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2
		spread = med > 0 ? (a[n - 1] - a[0]) / med * 100 : 999
		bad = 0
		for (i = 0; i < n; i++) if ((dir == "lower" && a[i] < 1) || (dir == "upper" && a[i] > 1)) bad = 1
		printf "%.2f %.0f %s\n", med, spread, (spread > 20 || bad) ? "noisy" : "ok"
	}'
}

# goal_or_noisy FLAG VALUE OP LIMIT
goal_or_noisy() {
	if [ "$1" = noisy ]; then printf '%s %s (noisy: not judged)' "$3" "$4"
	else printf '%s %s (%s)' "$3" "$4" "$(met "$2" "$3" "$4")"; fi
}

# ratio_cell MEDIAN SPREAD FLAG [ROUNDS]: how a round-based ratio is printed
ratio_cell() { printf '%s (spread %s%%, %s rounds)%s' "$1" "$2" "${4:-?}" "$([ "$3" = noisy ] && echo ' NOISY')"; }

# round_ratios "A1,A2,.." "B1,B2,.." [C]: Ai/Bi per round, one a line; with C,
# (Ai - Ci) / (Bi - Ci) (an overhead over a common floor C).
round_ratios() {
	awk -v a="$1" -v b="$2" -v c="${3:-}" 'BEGIN { n = split(a, x, ","); split(b, y, ","); m = split(c, z, ",")
		for (i = 1; i <= n; i++) { zz = (m ? z[i] : 0); d = y[i] - zz
			if (d > 0) printf "%.3f\n", (x[i] - zz) / d; else print "-" } }'
}
