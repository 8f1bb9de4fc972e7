# SPDX-License-Identifier: MIT
# Shared helpers for integration/e2e/stress scripts. Source it first:
#   . "$(dirname "$0")/../lib.sh"
# Each check prints "ok - DESC" or "not ok - DESC"; t_done exits 0/1;
# t_skip REASON prints "SKIP: REASON" and exits 77.
set -uo pipefail
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
B=${B:-build}
KH_BUILD=${KH_BUILD:-$KH_ROOT/$B}
T_FAILS=0
T_CLEANUPS=()

t_ok()   { echo "ok - $*"; }
t_notok() { echo "not ok - $*"; T_FAILS=$((T_FAILS + 1)); }
# t_run DESC CMD...: passes when CMD exits 0.
t_run() { local d=$1; shift; if "$@"; then t_ok "$d"; else t_notok "$d (exit $?)"; fi; }
# t_fails DESC CMD...: passes when CMD exits non-zero.
t_fails() { local d=$1; shift; if "$@"; then t_notok "$d (unexpected success)"; else t_ok "$d"; fi; }
# t_eq DESC GOT WANT
t_eq() { if [ "$2" = "$3" ]; then t_ok "$1"; else t_notok "$1 (got '$2', want '$3')"; fi; }
t_skip() { echo "SKIP: $*"; exit 77; }
t_need_root() { [ "$(id -u)" -eq 0 ] || t_skip "needs root"; }
t_done() { [ "$T_FAILS" -eq 0 ] && exit 0; exit 1; }

# Cleanups run in reverse order on exit.
t_cleanup() { T_CLEANUPS+=("$*"); }
t__run_cleanups() {
	local i
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUPS[i]}" >/dev/null 2>&1 || true; done
	# Cleanups registered inside $(...) subshells (d=$(t_tmpdir)), last first.
	local f=${TMPDIR:-/tmp}/keyhole-test-cleanup.$$ c
	if [ -f "$f" ]; then
		while IFS= read -r c; do eval "$c" >/dev/null 2>&1 || true; done < <(tac "$f")
		rm -f "$f"
	fi
}
trap t__run_cleanups EXIT

# Integrity files (docs/threat-model.md) default to /etc/keyhole/writers,
# /var/lib/keyhole/agent.state and ~/.config/keyhole/known_stores: keep a
# test's own, so tests never touch the host's.
if [ -z "${KH_TRUST_DIR:-}" ]; then
	KH_TRUST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/keyhole-trust.XXXXXX")
	chmod 0755 "$KH_TRUST_DIR" # agents run as other uids read the trust file
	export KH_TRUST_DIR
	export KEYHOLE_WRITERS=$KH_TRUST_DIR/writers KEYHOLE_STATE=$KH_TRUST_DIR/agent.state
	export KEYHOLE_KNOWN_STORES=$KH_TRUST_DIR/known_stores
	t_cleanup "rm -rf '$KH_TRUST_DIR'"
fi

# t_tmpdir: a fresh directory removed at exit (unmounting anything below).
t_tmpdir() {
	local d; d=$(mktemp -d "${TMPDIR:-/tmp}/keyhole-test.XXXXXX")
	t_cleanup "grep -o \" $d[^ ]*\" /proc/mounts | sort -r | xargs -r -n1 umount -l; rm -rf '$d'"
	# d=$(t_tmpdir) runs here in a subshell, whose T_CLEANUPS is lost: leave
	# the command where the parent's exit trap finds it ($$ is the parent's).
	printf '%s\n' "${T_CLEANUPS[-1]}" >>"${TMPDIR:-/tmp}/keyhole-test-cleanup.$$"
	echo "$d"
}

# t_wait_for COND_CMD [TIMEOUT_S]: poll up to TIMEOUT_S (default 10).
t_wait_for() {
	local i n=$(( ${2:-10} * 20 ))
	for ((i = 0; i < n; i++)); do eval "$1" && return 0; sleep 0.05; done
	return 1
}
