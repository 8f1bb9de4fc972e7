#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# env_file and env delivery e2e (tests/e2e/env.bash) in real docker containers:
# $POSTGRES_PASSWORD_FILE names the delivered file; $DATABASE_PASSWORD holds
# the value, the app restarts on rotation, and inspect and the container
# config hold no value.
E=docker
KH_ROOT=${KH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KH_ROOT/tests/e2e/env.bash"
env_run_all
