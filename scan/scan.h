/* SPDX-License-Identifier: MIT */
/* Credential and posture scanner (docs/scan.md), the public face of scan/:
 * pure functions over in-memory buffers (Dockerfile, compose YAML, .env,
 * inspect JSON), no I/O, so it can be fuzzed. The input is untrusted text.
 * Layers, each calling only those below it: scan.c (dispatch by file type)
 * -> scan_dockerfile.c, scan_compose.c, scan_env.c (drivers) -> scan_detect.c
 * (heuristics), scan_lex.c (Dockerfile lexer) -> scan_core.c (result list,
 * rules, masking). scan_report.c and migrate.c sit beside, on top. */
#ifndef KH_SCAN_H
#define KH_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "scan_core.h"
#include "scan_detect.h"
#include "scan_report.h"

enum scan_type { SCAN_T_AUTO, SCAN_T_DOCKERFILE, SCAN_T_COMPOSE, SCAN_T_ENV, SCAN_T_INSPECT };

/* Guess the type from the file name, then from the content. */
enum scan_type scan_detect_type(const char *path, const char *buf, size_t len);
const char *scan_type_name(enum scan_type t);

/* Scan buf (need not be NUL-terminated) and append findings to r.
 * Returns 0, -EINVAL/-EBADMSG for unparseable input (YAML/JSON syntax),
 * -E2BIG past the caps, -ENOMEM. Findings added before an error stay. */
int scan_buffer(struct scan_result *r, const char *path, enum scan_type t, const char *buf,
		size_t len);

#endif
