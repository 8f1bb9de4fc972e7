/* SPDX-License-Identifier: MIT */
/* See template_load.h. A template is admin-written like the policy, but it
 * is still read with a cap and without following links, so a policy
 * directory an attacker can add a symlink to does not leak another file
 * into a container; and one others can write is refused, since rewriting
 * "@db:5432" to another host would send the password there. */
#include "template_load.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

__attribute__((format(printf, 3, 4))) static int lerr(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The template file name of dirfd into *ret (NUL-terminated), *ret_len. */
static int read_template(int dirfd, const char *name, char **ret, size_t *ret_len)
{
	cleanup_close int fd =
		openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return -EPERM; /* whoever writes it can point the values elsewhere */
	if (st.st_size > (off_t)TMPL_MAX_BYTES)
		return -EFBIG;
	if (!(buf = malloc(TMPL_MAX_BYTES + 1)))
		return -ENOMEM;
	while (got <= TMPL_MAX_BYTES && (n = read(fd, buf + got, TMPL_MAX_BYTES + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	if (got > TMPL_MAX_BYTES)
		return -EFBIG; /* grew since fstat */
	buf[got] = '\0';
	*ret = steal_pointer(&buf);
	*ret_len = got;
	return 0;
}

static const char *read_error(int r)
{
	switch (r) {
	case -ELOOP:
		return "is a symbolic link (refused: templates are read without following links)";
	case -EBADF: return "is not a regular file";
	case -EFBIG: return "is larger than 64 KiB";
	case -EPERM:
		return "is writable by group or others (chmod go-w: whoever can write a "
		       "template can send the values it renders elsewhere)";
	default: return strerror(-r);
	}
}

static bool rule_grants(const struct policy_rule *r, const char *secret)
{
	for (size_t g = 0; g < r->n_grants; g++)
		if (!r->grants[g].template && strcmp(r->grants[g].secret, secret) == 0)
			return true;
	return false;
}

/* No plain grant may use a template's synthetic name, and two template
 * grants of one file must be the same template with the same escaping. */
static int check_names(const struct policy *p, size_t ri, size_t gi, char *err, size_t errlen)
{
	const struct policy_grant *t = &p->rules[ri].grants[gi];

	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++) {
			const struct policy_grant *o = &p->rules[i].grants[g];
			if (strcmp(o->secret, t->secret) != 0 || o == t)
				continue;
			if (!o->template)
				return lerr(err, errlen,
					    "rules[%zu].grant[%zu]: secret '%s' is the name of the "
					    "template grant rules[%zu].grant[%zu]; rename one",
					    i, g, o->secret, ri, gi);
			if (strcmp(o->template, t->template) != 0 || o->escape != t->escape)
				return lerr(
					err, errlen,
					"rules[%zu].grant[%zu]: file '%s' is rendered from '%s' "
					"(%s) by rules[%zu].grant[%zu] and from '%s' (%s) here; "
					"one template per file",
					ri, gi, t->file, o->template,
					tmpl_escape_name((enum tmpl_escape)o->escape), i, g,
					t->template, tmpl_escape_name((enum tmpl_escape)t->escape));
		}
	return 0;
}

static int load_one(struct policy *p, size_t ri, size_t gi, int dirfd, char *err, size_t errlen)
{
	struct policy_rule *r = &p->rules[ri];
	struct policy_grant *g = &r->grants[gi];
	cleanup_free char *src = NULL;
	char why[256];
	size_t len = 0;
	int e = read_template(dirfd, g->template, &src, &len);

	if (e < 0)
		return lerr(err, errlen, "rules[%zu].grant[%zu]: template %s: %s", ri, gi,
			    g->template, read_error(e));
	e = tmpl_parse(src, len, (enum tmpl_escape)g->escape, &g->tmpl, why, sizeof(why));
	if (e < 0)
		return lerr(err, errlen, "rules[%zu].grant[%zu]: %s:%s", ri, gi, g->template, why);
	for (size_t k = 0; k < g->tmpl->n_names; k++)
		if (!rule_grants(r, g->tmpl->names[k]))
			return lerr(
				err, errlen,
				"rules[%zu].grant[%zu]: %s:%u:%u: secret '%s' is not granted by "
				"rule '%s' (a template uses only secrets its own rule grants: "
				"add {\"secret\": \"%s\"} to it)",
				ri, gi, g->template, g->tmpl->line[k], g->tmpl->col[k],
				g->tmpl->names[k], r->name, g->tmpl->names[k]);
	return check_names(p, ri, gi, err, errlen);
}

/* The policy's digest covers its templates too, so that a reload after an
 * edit of a template alone is not "unchanged". */
static void fold_digest(struct policy *p)
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	bool any = false;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)p->digest, strlen(p->digest));
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++) {
			const struct tmpl *t = p->rules[i].grants[g].tmpl;
			if (!t)
				continue;
			crypto_hash_sha256_update(&st, t->digest, sizeof(t->digest));
			any = true;
		}
	crypto_hash_sha256_final(&st, h);
	if (any)
		sodium_bin2hex(p->digest, sizeof(p->digest), h, sizeof(h));
}

int tmpl_policy_load_at(struct policy *p, int dirfd, char *err, size_t errlen)
{
	int e;

	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++) {
			if (!p->rules[i].grants[g].template || p->rules[i].grants[g].tmpl)
				continue;
			if ((e = load_one(p, i, g, dirfd, err, errlen)) < 0)
				return e;
		}
	fold_digest(p);
	return 0;
}

static bool has_templates(const struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++)
			if (p->rules[i].grants[g].template)
				return true;
	return false;
}

int tmpl_policy_load(struct policy *p, const char *policy_path, char *err, size_t errlen)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;
	char *slash;

	if (!has_templates(p))
		return 0;
	if (!(dir = strdup(policy_path)))
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0'; /* "/policy.json" -> "/" */
	dfd = open(slash ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;
		lerr(err, errlen, "%s: the policy's directory: %s", policy_path, strerror(e));
		return -e;
	}
	return tmpl_policy_load_at(p, dfd, err, errlen);
}

static int info_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct ks_info *)e)->name);
}

uint64_t tmpl_store_version(const struct tmpl *t, const struct ks_info *inf, size_t n)
{
	uint64_t v[TMPL_MAX_NAMES];

	for (size_t i = 0; i < t->n_names; i++) {
		const struct ks_info *x = bsearch(t->names[i], inf, n, sizeof(*inf), info_cmp);
		if (!x || !x->version || x->err)
			return 0;
		v[i] = x->version;
	}
	return tmpl_version(t, v);
}

json_t *tmpl_grant_json(const struct policy_grant *g)
{
	json_t *uses, *o;

	if (!g->template || !(uses = json_array()))
		return NULL;
	for (size_t i = 0; g->tmpl && i < g->tmpl->n_names; i++)
		json_array_append_new(uses, json_string(g->tmpl->names[i]));
	o = json_pack("{s:s, s:s, s:o}", "template", g->template, "escape",
		      tmpl_escape_name((enum tmpl_escape)g->escape), "uses", uses);
	return o;
}
