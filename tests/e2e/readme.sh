#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README and deploy/compose are executed, so they cannot drift: each
# engine's walkthrough runs in its own private mount namespace
# (tests/e2e/readme-run.bash has the details), with the real Docker and
# podman of the engine lab; deploy/compose runs with docker-compose. The app
# must see its secret, then the rotated one. docs/migrating.md's commands
# are checked by tests/integration/doc_migrating.sh.
. "$(dirname "$0")/../lib.sh"
. "$KH_ROOT/tests/lib-engine.sh"
export KH_ROOT KH_BUILD
t_need_root
command -v unshare >/dev/null || t_skip "unshare missing"
for f in keyholed keyhole keyhole-shim static/demoapp; do
	[ -x "$KH_BUILD/$f" ] || t_skip "$KH_BUILD/$f not built (make tests-build)"
done

ran=0
walk() { # ENGINE MODE
	unshare -m --propagation private bash "$KH_ROOT/tests/e2e/readme-run.bash" "$1" "$2"
	case $? in
	0) ran=$((ran + 1)) ;;
	77) echo "# [$1] $2 skipped" ;;
	*) ran=$((ran + 1)); T_FAILS=$((T_FAILS + 1)) ;;
	esac
}
for e in $(le_engines); do walk "$e" readme; done
case " $(le_engines) " in *" docker "*) walk docker compose ;; esac
[ "$ran" -gt 0 ] || t_skip "no engine could run the README"
t_done
