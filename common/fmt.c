/* SPDX-License-Identifier: MIT */
/* fmt_snprintf: the subset of printf the shim's messages use (fmt.h), with
 * no stdio and no floating point, so the static shim stays small. Pure: it
 * writes only into the caller's buffer. */
#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, o->len++)
		if (o->len + 1 < o->cap)
			o->buf[o->len] = s[i];
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base)
{
	char t[24];
	size_t i = sizeof t;
	do {
		t[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		t[--i] = '-';
	put(o, t + i, sizeof t - i);
}

/* One conversion at *f (just after '%'); returns the next format char. */
static const char *conv(struct out *o, const char *f, va_list *ap)
{
	int lng = 0;
	size_t prec = (size_t)-1;
	if (f[0] == '.' && f[1] == '*') {
		prec = (size_t)va_arg(*ap, int);
		f += 2;
	} else if (f[0] == '.') {
		for (prec = 0, f++; *f >= '0' && *f <= '9'; f++)
			prec = prec * 10 + (size_t)(*f - '0');
	}
	for (; *f == 'l' || *f == 'z'; f++)
		lng = *f == 'z' ? 3 : lng + 1;
	switch (*f) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		s = s ? s : "(null)";
		put(o, s, prec == (size_t)-1 ? strlen(s) : strnlen(s, prec));
		break;
	}
	case 'c': {
		char c = (char)va_arg(*ap, int);
		put(o, &c, 1);
		break;
	}
	case 'd':
	case 'i': {
		int64_t v = lng == 0   ? va_arg(*ap, int)
			    : lng == 1 ? va_arg(*ap, long)
			    : lng == 2 ? va_arg(*ap, long long)
				       : (int64_t)va_arg(*ap, size_t);
		put_num(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10);
		break;
	}
	case 'u':
	case 'x': {
		uint64_t v = lng == 0	? va_arg(*ap, unsigned)
			     : lng == 1 ? va_arg(*ap, unsigned long)
			     : lng == 2 ? va_arg(*ap, unsigned long long)
					: va_arg(*ap, size_t);
		put_num(o, v, false, *f == 'x' ? 16 : 10);
		break;
	}
	case '%': put(o, "%", 1); break;
	default:
		put(o, "%", 1);
		if (!*f)
			return f;
		put(o, f, 1);
	}
	return f + 1;
}

size_t fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	va_list aq;
	va_copy(aq, ap);
	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		size_t n = pct ? (size_t)(pct - fmt) : strlen(fmt);
		put(&o, fmt, n);
		fmt += n;
		if (pct)
			fmt = conv(&o, pct + 1, &aq);
	}
	va_end(aq);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}

size_t fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}
