#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rename e2e (tests/e2e/rename.bash) on a real docker: a watching container
# renamed out of its rule gets REVOKED at the next rotation, not the value.
E=docker
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KH_ROOT/tests/e2e/rename.bash"
ren_run_all
