#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make stress`: tests/integration/abuse_flood.sh at stress scale (STRESS=1; see the
# sizes at the top of that script). Same pass/fail rules, more iterations.
STRESS=1 exec bash "$(dirname "$0")/../integration/abuse_flood.sh" "$@"
