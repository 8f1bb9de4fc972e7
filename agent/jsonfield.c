/* SPDX-License-Identifier: MIT */
/* See jsonfield.h. */
#include <errno.h>
#include <string.h>

#include "jsonfield.h"

const char *jf_str_capped(const json_t *v, size_t cap)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= cap || strlen(s) != n)
		return NULL;
	return s;
}

int jf_copy_str(char *dst, size_t cap, const json_t *v)
{
	const char *s = jf_str_capped(v, cap);

	if (!s)
		return -EBADMSG;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}
