// SPDX-License-Identifier: MIT
/* The set of secrets the shim currently holds, keyed by secret name, each
 * mapped to one file name (unique within the set). Values live in malloc
 * memory (no libsodium in the static shim) and are wiped with explicit_bzero
 * before every free. */
#include "shim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void secret_wipe(struct shim_secret *s)
{
	if (s->value) {
		explicit_bzero(s->value, s->value_len);
		free(s->value);
	}
	explicit_bzero(s, sizeof *s);
}

void set_free(struct shim_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		secret_wipe(&set->s[i]);
	free(set->s);
	set->s = NULL;
	set->n = 0;
}

struct shim_secret *set_find(struct shim_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i].name, name))
			return &set->s[i];
	return NULL;
}

int set_put(struct shim_set *set, const char *name, const char *file, uint64_t version,
	    uint16_t mode, const uint8_t *value, uint32_t value_len)
{
	struct shim_secret *s = set_find(set, name);
	uint8_t *v;

	if (strlen(name) > PROTO_MAX_NAME || strlen(file) > PROTO_MAX_NAME)
		return -EINVAL;
	for (size_t i = 0; i < set->n; i++)
		if (&set->s[i] != s && !strcmp(set->s[i].file, file))
			return -EEXIST;
	if (!s) {
		if (set->n >= SHIM_MAX_SECRETS)
			return -ENOSPC;
		if (!set->s && !(set->s = calloc(SHIM_MAX_SECRETS, sizeof *set->s)))
			return -ENOMEM;
		s = &set->s[set->n];
	}
	v = malloc(value_len ? value_len : 1);
	if (!v)
		return -ENOMEM;
	if (value_len)
		memcpy(v, value, value_len);
	if (s == &set->s[set->n])
		set->n++;
	else
		secret_wipe(s);
	strcpy(s->name, name);
	strcpy(s->file, file);
	s->version = version;
	s->mode = mode;
	s->value = v;
	s->value_len = value_len;
	return 0;
}

void set_del(struct shim_set *set, const char *name)
{
	struct shim_secret *s = set_find(set, name);
	if (!s)
		return;
	secret_wipe(s);
	size_t idx = (size_t)(s - set->s);
	if (idx + 1 < set->n) {
		set->s[idx] = set->s[set->n - 1];
		explicit_bzero(&set->s[set->n - 1], sizeof set->s[0]);
	}
	set->n--;
}

bool set_equal(const struct shim_set *a, const struct shim_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct shim_secret *x = &a->s[i], *y = NULL;
		for (size_t j = 0; j < b->n && !y; j++)
			if (!strcmp(b->s[j].name, x->name))
				y = &b->s[j];
		if (!y || strcmp(x->file, y->file) || x->mode != y->mode ||
		    x->value_len != y->value_len ||
		    (x->value_len && memcmp(x->value, y->value, x->value_len)))
			return false;
	}
	return true;
}

int set_copy(struct shim_set *dst, const struct shim_set *src)
{
	struct shim_set t = { NULL, 0 };
	for (size_t i = 0; i < src->n; i++) {
		const struct shim_secret *s = &src->s[i];
		int r = set_put(&t, s->name, s->file, s->version, s->mode, s->value, s->value_len);
		if (r < 0) {
			set_free(&t);
			return r;
		}
	}
	*dst = t;
	return 0;
}
