#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Template e2e (tests/e2e/template.bash) in real podman containers: an app that
# reads only the rendered database_url file gets the escaped URL, and the
# re-rendered one after `keyhole rotate`.
E=podman
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KH_ROOT/tests/e2e/template.bash"
tpl_run_all
