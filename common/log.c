// SPDX-License-Identifier: MIT
/* One-line diagnostics on stderr: "prog: message[: strerror]". Used only by
 * main layers; messages name secrets, never their values. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "keyhole";
static bool dbg;

void log_init(const char *progname, bool debug)
{
	const char *s = strrchr(progname, '/');
	prog = s ? s + 1 : progname;
	dbg = debug;
}

static void vlog(int err, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", prog, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}

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
