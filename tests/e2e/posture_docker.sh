#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Posture e2e (tests/e2e/posture.bash) in real docker containers: a container
# privileged in effect, or a root process exec'd into a --user 1000 one, is
# refused under require {"privileged": false, "root": false}.
E=docker
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KH_ROOT/tests/e2e/posture.bash"
pos_run_all
