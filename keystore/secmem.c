/* SPDX-License-Identifier: MIT */
/* Secret values handed out by the keystore live in sodium_malloc memory
 * (guard pages, mlock, MADV_DONTDUMP) and are wiped when freed. */
#include "ks_internal.h"

#include <stdlib.h>

struct ks_secret *ks_secret_new(size_t len)
{
	struct ks_secret *s;

	if (len > KS_MAX_VALUE)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->data = sodium_malloc(len + 1);
	if (!s->data) {
		free(s);
		return NULL;
	}
	sodium_memzero(s->data, len + 1);
	s->len = len;
	return s;
}

void ks_secret_free(struct ks_secret *s)
{
	if (!s)
		return;
	if (s->data) {
		sodium_memzero(s->data, s->len + 1);
		sodium_free(s->data);
	}
	free(s);
}
