/* SPDX-License-Identifier: MIT */
/* The set of secrets the shim currently holds, keyed by secret name, each
 * mapped to one file name (unique within the set). Values live in locked,
 * undumpable pages (mem_secret_alloc; no libsodium in the static shim) and
 * are wiped before they are unmapped. Between rotations a watching shim
 * keeps only the entries (names, files, modes) with on_disk set: the files
 * on the tmpfs are the state. */
#include "shim.h"

#include <errno.h>
#include <string.h>

#define SET_BYTES (SHIM_MAX_SECRETS * sizeof(struct shim_secret))

static void value_free(struct shim_secret *s)
{
	mem_secret_free(s->value, s->value_len);
	s->value = NULL;
}

static void secret_wipe(struct shim_secret *s)
{
	value_free(s);
	explicit_bzero(s, sizeof *s);
}

void set_free(struct shim_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		secret_wipe(&set->s[i]);
	mem_free(set->s, SET_BYTES);
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

/* A free entry for name (the existing one, or a new one at the end). */
static int slot(struct shim_set *set, const char *name, const char *file, struct shim_secret **ret)
{
	struct shim_secret *s = set_find(set, name);
	if (strlen(name) > PROTO_MAX_NAME || strlen(file) > PROTO_MAX_NAME)
		return -EINVAL;
	for (size_t i = 0; i < set->n; i++)
		if (&set->s[i] != s && !strcmp(set->s[i].file, file))
			return -EEXIST;
	if (!s) {
		if (set->n >= SHIM_MAX_SECRETS)
			return -ENOSPC;
		if (!set->s && !(set->s = mem_alloc(SET_BYTES)))
			return -ENOMEM;
		s = &set->s[set->n];
	}
	*ret = s;
	return 0;
}

static void fill(struct shim_set *set, struct shim_secret *s, const char *name, const char *file,
		 uint64_t version, uint16_t mode)
{
	if (s == &set->s[set->n])
		set->n++;
	else
		secret_wipe(s);
	strcpy(s->name, name);
	strcpy(s->file, file);
	s->version = version;
	s->mode = mode;
}

int set_put(struct shim_set *set, const char *name, const char *file, uint64_t version,
	    uint16_t mode, const uint8_t *value, uint32_t value_len)
{
	struct shim_secret *s;
	int r = slot(set, name, file, &s);
	if (r < 0)
		return r;
	uint8_t *v = value_len ? mem_secret_alloc(value_len) : NULL;
	if (value_len && !v)
		return -ENOMEM;
	if (value_len)
		memcpy(v, value, value_len);
	fill(set, s, name, file, version, mode);
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

int set_copy(struct shim_set *dst, const struct shim_set *src)
{
	struct shim_set t = { NULL, 0 };
	for (size_t i = 0; i < src->n; i++) {
		const struct shim_secret *s = &src->s[i];
		int r = set_put(&t, s->name, s->file, s->version, s->mode, s->value,
				s->on_disk ? 0 : s->value_len);
		if (r < 0) {
			set_free(&t);
			return r;
		}
		t.s[t.n - 1].on_disk = s->on_disk;
		if (s->on_disk)
			t.s[t.n - 1].value_len = s->value_len;
	}
	*dst = t;
	return 0;
}

void set_drop_values(struct shim_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		value_free(&set->s[i]);
		set->s[i].on_disk = true;
	}
}

size_t set_bytes(const struct shim_set *set)
{
	size_t t = 0;
	for (size_t i = 0; i < set->n; i++)
		if (!set->s[i].on_disk)
			t += set->s[i].value_len;
	return t;
}
