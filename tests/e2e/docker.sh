#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end cases 1-9 (docs/e2e.md) in real docker containers: a private
# dockerd (scripts/engine-lab.sh), keyholed with --engine on its
# socket, a FROM-scratch image holding keyhole-shim and demoapp.
E=docker
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KH_ROOT/tests/e2e/cases.bash"
run_all
