/* SPDX-License-Identifier: MIT */
/* The one size-capped body collector for HTTP replies (libcurl's
 * CURLOPT_WRITEFUNCTION signature, but libc only): the engine client and
 * the etcd client read replies from servers we do not trust to be small.
 * Past max bytes the writer returns 0, which aborts the transfer, and sets
 * over. The buffer is always NUL-terminated once anything arrived. */
#ifndef KH_BODYBUF_H
#define KH_BODYBUF_H

#include <stdbool.h>
#include <stddef.h>

struct bodybuf {
	char *p;    /* malloc'd; the caller frees with bodybuf_free */
	size_t len; /* bytes received, excluding the NUL */
	size_t cap;
	size_t max; /* set before the transfer */
	bool over;  /* the reply was larger than max */
};

size_t bodybuf_write(char *data, size_t size, size_t nmemb, void *bodybuf);
void bodybuf_free(struct bodybuf *b);

#endif
