/* SPDX-License-Identifier: MIT */
/* See text.h. Pure functions, no allocation. */
#include <string.h>

#include "text.h"

static bool is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

bool text_is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

bool text_is_id64(const char *s)
{
	return strnlen(s, TEXT_ID_LEN + 1) == TEXT_ID_LEN && text_is_hex(s, TEXT_ID_LEN);
}

void text_sanitize(char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s))
			*s = '?';
}

const char *text_safe(const char *src, char *buf, size_t sz)
{
	size_t i = 0;

	for (; *src && i + 1 < sz; src++)
		buf[i++] = is_ctl((unsigned char)*src) ? '?' : *src;
	buf[i] = '\0';
	return buf;
}
