/* SPDX-License-Identifier: MIT */
/* Logging for the main layers only (OpenBSD log.c): log_warn appends
 * strerror(errno), log_warnx does not; fatal/fatalx log and exit.
 * Library code returns -errno and never calls these. */
#ifndef KH_LOG_H
#define KH_LOG_H

#include <stdbool.h>

void log_init(const char *progname, bool debug);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like log_warn/log_warnx but with an explicit errno value (e.g. -ret). */
void log_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void fatal(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void fatalx(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fatal with an explicit errno value */
__attribute__((noreturn)) void fatal_errno(int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
