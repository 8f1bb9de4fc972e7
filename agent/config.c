/* SPDX-License-Identifier: MIT */
/* keyholed.conf parser (config.h). The file is root-owned, so this is not a
 * trust boundary, but it is still capped and strict: an unknown key or a
 * duplicate is an error, never ignored, so a typo cannot silently drop a
 * setting. Which keys exist is main.c's business (its option table). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "line %u: ", line);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].value);
	free(c->v);
	free(c);
}

/* Split one line [s, e) (no '\n') into key and value; 0, 1 = blank, -EINVAL. */
static int parse_line(const char *s, const char *e, struct config_entry *ret, unsigned line,
		      char *err, size_t errlen)
{
	const char *k, *v;
	size_t kl;

	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if (s == e || *s == '#')
		return 1;
	for (k = s; s < e && key_char(*s); s++)
		;
	kl = (size_t)(s - k);
	if (kl == 0 || (s < e && !is_space(*s) && *s != '='))
		return fail(err, errlen, line,
			    "expected `key value` (keys are lower-case "
			    "option names such as engine, audit-log)");
	if (kl > CONFIG_MAX_KEY)
		return fail(err, errlen, line, "key longer than %u bytes", CONFIG_MAX_KEY);
	while (s < e && is_space(*s))
		s++;
	if (s < e && *s == '=')
		for (s++; s < e && is_space(*s); s++)
			;
	v = s;
	if (e - v >= 2 && *v == '"' && e[-1] == '"') {
		v++;
		e--;
	} else if (v < e && (*v == '"' || memchr(v, '"', (size_t)(e - v)))) {
		return fail(err, errlen, line, "unbalanced '\"' in the value of %.*s", (int)kl, k);
	}
	memcpy(ret->key, k, kl);
	ret->key[kl] = '\0';
	ret->line = line;
	ret->value = strndup(v, (size_t)(e - v));
	return ret->value ? 0 : -ENOMEM;
}

static int add(struct config *c, const struct config_entry *en, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].key, en->key) == 0)
			return fail(err, errlen, en->line, "%s given twice (first on line %u)",
				    en->key, c->v[i].line);
	if (c->n == CONFIG_MAX_ENTRIES)
		return fail(err, errlen, en->line, "more than %u settings", CONFIG_MAX_ENTRIES);
	c->v[c->n++] = *en;
	return 0;
}

int config_parse(const char *text, size_t len, struct config **ret, char *err, size_t errlen)
{
	struct config *c;
	unsigned line = 0;
	int r = 0;

	if (len > CONFIG_MAX_BYTES)
		return fail(err, errlen, 0, "file larger than %u bytes", CONFIG_MAX_BYTES);
	if (memchr(text, '\0', len))
		return fail(err, errlen, 0, "file holds a NUL byte");
	if (!(c = calloc(1, sizeof(*c))) || !(c->v = calloc(CONFIG_MAX_ENTRIES, sizeof(*c->v)))) {
		free(c);
		return -ENOMEM;
	}
	for (const char *s = text, *end = text + len; s < end && r == 0;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		struct config_entry en = { .value = NULL };
		r = parse_line(s, e, &en, ++line, err, errlen);
		if (r == 0 && (r = add(c, &en, err, errlen)) < 0)
			free(en.value); /* else c->v owns it now */
		r = r == 1 ? 0 : r;
		s = e + 1;
	}
	if (r < 0) {
		config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}
