/* SPDX-License-Identifier: MIT */
/* See bodybuf.h. Grows geometrically, never past max + 1 bytes. */
#include <stdlib.h>
#include <string.h>

#include "bodybuf.h"

size_t bodybuf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct bodybuf *b = arg;
	size_t n = size * nmemb;

	if ((nmemb && n / nmemb != size) || n > b->max - b->len) {
		b->over = true;
		return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		if (!(np = realloc(b->p, cap)))
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

void bodybuf_free(struct bodybuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
