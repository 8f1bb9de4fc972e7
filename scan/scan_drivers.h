/* SPDX-License-Identifier: MIT */
/* The per-format drivers, called only by the dispatcher (scan.c). Each
 * parses one untrusted buffer and appends to r through the core; none calls
 * back into the dispatcher. Returns as scan_buffer(). */
#ifndef KH_SCAN_DRIVERS_H
#define KH_SCAN_DRIVERS_H

#include <stddef.h>

#include "scan_core.h"

int scan_dockerfile(struct scan_result *r, const char *file, const char *buf, size_t len);
int scan_compose(struct scan_result *r, const char *file, const char *buf, size_t len);
int scan_dotenv(struct scan_result *r, const char *file, const char *buf, size_t len);
int scan_inspect(struct scan_result *r, const char *file, const char *buf, size_t len);

#endif
