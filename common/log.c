/* SPDX-License-Identifier: MIT */
/* One-line diagnostics on stderr: "prog: message[: strerror]". Used only by
 * main layers; messages name secrets, never their values. Built with
 * KH_LOG_TINY (the static shim only), it formats with fmt.c and writes the
 * line with one write(2): no stdio, same text for what the shim prints. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#ifdef KH_LOG_TINY
#include <unistd.h>

#include "fmt.h"
#else
#include <stdio.h>
#endif

static const char *prog = "keyhole";
static bool dbg;

void log_init(const char *progname, bool debug)
{
	const char *s = strrchr(progname, '/');
	prog = s ? s + 1 : progname;
	dbg = debug;
}

#ifdef KH_LOG_TINY
static void vlog(int err, const char *fmt, va_list ap)
{
	char msg[1024], line[1400];
	fmt_vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = err ? fmt_snprintf(line, sizeof line, "%s: %s: %s\n", prog, msg, strerror(err))
		       : fmt_snprintf(line, sizeof line, "%s: %s\n", prog, msg);
	if (n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	(void)!write(2, line, n);
}
#else
static void vlog(int err, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", prog, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}
#endif

void log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (!dbg)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void log_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}

void fatal(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
	exit(code);
}

void fatalx(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	exit(code);
}

void fatal_errno(int code, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(err < 0 ? -err : err, fmt, ap);
	va_end(ap);
	exit(code);
}
