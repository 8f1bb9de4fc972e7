/* SPDX-License-Identifier: MIT */
/* A small snprintf for the static shim, which links no stdio (musl's
 * vfprintf and its float printing would be a fifth of the binary). It
 * knows %s %c %d %i %u %x %% with the l, ll and z length modifiers and a
 * '*' or numeric precision for %s; anything else is copied as is. Always
 * NUL-terminates when cap > 0; returns the length it would have written. */
#ifndef KH_FMT_H
#define KH_FMT_H

#include <stdarg.h>
#include <stddef.h>

size_t fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
size_t fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
