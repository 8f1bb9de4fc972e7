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

/* Does entry t set variable v (as env or env_file)? */
static bool sets_var(const struct shim_secret *t, const char *v)
{
	return v[0] && (!strcmp(t->env, v) || !strcmp(t->env_file, v));
}

/* Another entry than s already uses file or one of the variables. */
static bool taken(const struct shim_set *set, const struct shim_secret *s, const char *file,
		  const char *env, const char *env_file)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct shim_secret *t = &set->s[i];
		if (t == s)
			continue;
		if ((file[0] && !strcmp(t->file, file)) || sets_var(t, env) ||
		    sets_var(t, env_file))
			return true;
	}
	return false;
}

/* A free entry for name (the existing one, or a new one at the end). */
static int slot(struct shim_set *set, const char *name, const char *file, const char *env,
		const char *env_file, struct shim_secret **ret)
{
	struct shim_secret *s = set_find(set, name);
	if (strlen(name) > PROTO_MAX_NAME || strlen(file) > PROTO_MAX_NAME ||
	    strlen(env) > PROTO_MAX_ENV_NAME || strlen(env_file) > PROTO_MAX_ENV_NAME)
		return -EINVAL;
	if (taken(set, s, file, env, env_file))
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

static int put(struct shim_set *set, const struct proto_secret *m, const char *file, uint16_t mode,
	       struct shim_secret **ret)
{
	struct shim_secret *s;
	int r = slot(set, m->name, file, m->env, m->env_file, &s);
	if (r < 0)
		return r;
	uint8_t *v = m->value_len ? mem_secret_alloc(m->value_len) : NULL;
	if (m->value_len && !v)
		return -ENOMEM;
	if (m->value_len)
		memcpy(v, m->value, m->value_len);
	fill(set, s, m->name, file, m->version, mode);
	s->value = v;
	s->value_len = m->value_len;
	s->delivery = m->delivery;
	strcpy(s->env, m->env);
	strcpy(s->env_file, m->env_file);
	*ret = s;
	return 0;
}

int set_put(struct shim_set *set, const char *name, const char *file, uint64_t version,
	    uint16_t mode, const uint8_t *value, uint32_t value_len)
{
	struct proto_secret m = {
		.version = version, .value = value, .value_len = value_len, .delivery = PROTO_D_FILE
	};
	struct shim_secret *s;
	if (strlen(name) > PROTO_MAX_NAME)
		return -EINVAL;
	strcpy(m.name, name);
	return put(set, &m, file, mode, &s);
}

int set_put_msg(struct shim_set *set, const struct proto_secret *m, const char *file, uint16_t mode)
{
	struct shim_secret *s;
	return put(set, m, (m->delivery & PROTO_D_FILE) ? file : "", mode, &s);
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
		struct proto_secret m = { .version = s->version,
					  .value = s->value,
					  .value_len = s->on_disk ? 0 : s->value_len,
					  .delivery = s->delivery };
		struct shim_secret *d;
		memcpy(m.name, s->name, sizeof m.name);
		memcpy(m.env, s->env, sizeof m.env);
		memcpy(m.env_file, s->env_file, sizeof m.env_file);
		int r = put(&t, &m, s->file, s->mode, &d);
		explicit_bzero(&m, sizeof m);
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
		if (set->s[i].delivery & PROTO_D_ENV)
			continue;
		value_free(&set->s[i]);
		set->s[i].on_disk = true;
	}
}

bool set_has_env(const struct shim_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->s[i].delivery & PROTO_D_ENV)
			return true;
	return false;
}

size_t set_bytes(const struct shim_set *set)
{
	size_t t = 0;
	for (size_t i = 0; i < set->n; i++)
		if (!set->s[i].on_disk)
			t += set->s[i].value_len;
	return t;
}
