/* SPDX-License-Identifier: MIT */
/* Scan reports: a human table, JSON and SARIF 2.1.0 over a result. They
 * print masked values and reasons only, never a finding's value. */
#ifndef KH_SCAN_REPORT_H
#define KH_SCAN_REPORT_H

#include "scan_core.h"

/* malloc'd text, NULL on ENOMEM. */
char *scan_report_table(const struct scan_result *r);
char *scan_report_json(const struct scan_result *r);
char *scan_report_sarif(const struct scan_result *r, const char *tool_version);

#endif
