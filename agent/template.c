/* SPDX-License-Identifier: MIT */
/* See template.h. The parser copies the source once and records literal
 * runs and substitutions; rendering walks them, escaping each value as it
 * is copied, so no secret byte passes through a buffer of this file. */
#include "template.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const char *const esc_names[] = { "none", "shell", "json", "url" };

int tmpl_escape_from_name(const char *s, enum tmpl_escape *ret)
{
	for (size_t i = 0; i < sizeof(esc_names) / sizeof(esc_names[0]); i++)
		if (strcmp(s, esc_names[i]) == 0) {
			*ret = (enum tmpl_escape)i;
			return 0;
		}
	return -EINVAL;
}

const char *tmpl_escape_name(enum tmpl_escape e)
{
	return (unsigned)e < sizeof(esc_names) / sizeof(esc_names[0]) ? esc_names[e] : "?";
}

/* ---- parse ---- */

struct scan {
	const char *s;
	size_t len, i;
	unsigned line, col;
	struct tmpl *t;
	char *err;
	size_t errlen;
};

/* vsnprintf: -Wformat-truncation=2 takes an unknown snprintf target for one byte. */
__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t errlen, const char *fmt,
						       ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) static int fail_at(struct scan *sc, unsigned line,
							 unsigned col, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errf(sc->err, sc->errlen, "%u:%u: %s", line, col, msg);
	return -EINVAL;
}

static void advance(struct scan *sc, size_t n)
{
	for (; n && sc->i < sc->len; n--, sc->i++) {
		unsigned char c = (unsigned char)sc->s[sc->i];
		if (c == '\n') {
			sc->line++;
			sc->col = 1;
		} else if ((c & 0xc0) != 0x80) {
			sc->col++;
		}
	}
}

static bool at(const struct scan *sc, const char *tok)
{
	size_t n = strlen(tok);
	return sc->len - sc->i >= n && memcmp(sc->s + sc->i, tok, n) == 0;
}

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->len && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
		advance(sc, 1);
}

static int add_part(struct scan *sc, size_t off, size_t len, int ref)
{
	struct tmpl *t = sc->t;
	struct tmpl_part *np;

	if (ref < 0 && len == 0)
		return 0;
	if (t->n_parts >= TMPL_MAX_PARTS)
		return fail_at(sc, sc->line, sc->col, "more than %u literal runs and substitutions",
			       TMPL_MAX_PARTS);
	if ((t->n_parts & (t->n_parts - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
		np = realloc(t->parts, (t->n_parts ? t->n_parts * 2 : 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->parts = np;
	}
	t->parts[t->n_parts++] = (struct tmpl_part){ (uint32_t)off, (uint32_t)len, ref };
	return 0;
}

/* A "string" at sc->i: no escapes, no newline. *ret_off/len: its content. */
static int parse_string(struct scan *sc, size_t *ret_off, size_t *ret_len)
{
	unsigned line = sc->line, col = sc->col;
	size_t start;

	advance(sc, 1);
	start = sc->i;
	while (sc->i < sc->len && sc->s[sc->i] != '"') {
		char c = sc->s[sc->i];
		if (c == '\n' || c == '\0')
			break;
		if (c == '\\')
			return fail_at(
				sc, sc->line, sc->col,
				"no escapes in a quoted string (write '{{' as {{ \"{{\" }})");
		advance(sc, 1);
	}
	if (sc->i >= sc->len || sc->s[sc->i] != '"')
		return fail_at(sc, line, col, "unterminated string");
	*ret_off = start;
	*ret_len = sc->i - start;
	advance(sc, 1);
	return 0;
}

static int add_name(struct scan *sc, size_t off, size_t len, unsigned line, unsigned col)
{
	struct tmpl *t = sc->t;
	char name[PROTO_MAX_NAME + 1];

	if (len > PROTO_MAX_NAME)
		return fail_at(sc, line, col, "secret name longer than %u characters",
			       PROTO_MAX_NAME);
	memcpy(name, sc->s + off, len);
	name[len] = '\0';
	if (!proto_secret_name_valid(name))
		return fail_at(sc, line, col, "invalid secret name \"%s\"", name);
	for (size_t k = 0; k < t->n_names; k++)
		if (strcmp(t->names[k], name) == 0)
			return add_part(sc, 0, 0, (int)k);
	if (t->n_names >= TMPL_MAX_NAMES)
		return fail_at(sc, line, col, "more than %u distinct secrets", TMPL_MAX_NAMES);
	if (!(t->names[t->n_names] = strdup(name)))
		return -ENOMEM;
	t->line[t->n_names] = line;
	t->col[t->n_names] = col;
	t->n_names++;
	return add_part(sc, 0, 0, (int)t->n_names - 1);
}

/* secret "name": sc->i is at the identifier. */
static int parse_call(struct scan *sc)
{
	unsigned line = sc->line, col = sc->col;
	size_t start = sc->i, off, len;
	int r;

	while (sc->i < sc->len &&
	       (sc->s[sc->i] == '_' || (sc->s[sc->i] >= 'a' && sc->s[sc->i] <= 'z') ||
		(sc->s[sc->i] >= 'A' && sc->s[sc->i] <= 'Z') ||
		(sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')))
		advance(sc, 1);
	if (sc->i - start != 6 || memcmp(sc->s + start, "secret", 6) != 0)
		return fail_at(sc, line, col, "unknown function '%.*s' (only secret \"name\")",
			       (int)(sc->i - start > 40 ? 40 : sc->i - start), sc->s + start);
	skip_ws(sc);
	if (sc->i >= sc->len || sc->s[sc->i] != '"')
		return fail_at(sc, sc->line, sc->col,
			       "expected a quoted secret name after 'secret'");
	line = sc->line;
	col = sc->col;
	if ((r = parse_string(sc, &off, &len)) < 0)
		return r;
	return add_name(sc, off, len, line, col);
}

static int bad_char(struct scan *sc)
{
	unsigned char c = (unsigned char)sc->s[sc->i];

	if (c > 0x20 && c < 0x7f)
		return fail_at(sc, sc->line, sc->col,
			       "unexpected '%c' in {{ }} (expected secret \"name\")", c);
	return fail_at(sc, sc->line, sc->col,
		       "unexpected byte 0x%02x in {{ }} (expected secret \"name\")", c);
}

/* One {{ ... }}: sc->i is at the opening braces. */
static int parse_action(struct scan *sc)
{
	unsigned line = sc->line, col = sc->col;
	size_t off, len;
	char c;
	int r;

	advance(sc, 2);
	skip_ws(sc);
	if (sc->i >= sc->len)
		return fail_at(sc, line, col, "unclosed '{{' (no matching '}}')");
	c = sc->s[sc->i];
	if (at(sc, "}}"))
		return fail_at(sc, line, col, "empty {{ }}");
	if (c == '"') {
		if ((r = parse_string(sc, &off, &len)) < 0 || (r = add_part(sc, off, len, -1)) < 0)
			return r;
	} else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		if ((r = parse_call(sc)) < 0)
			return r;
	} else {
		return bad_char(sc);
	}
	skip_ws(sc);
	if (sc->i >= sc->len)
		return fail_at(sc, line, col, "unclosed '{{' (no matching '}}')");
	if (!at(sc, "}}"))
		return fail_at(sc, sc->line, sc->col, "expected '}}'");
	advance(sc, 2);
	return 0;
}

static int parse_all(struct scan *sc)
{
	size_t lit = 0;
	int r;

	while (sc->i < sc->len) {
		if (sc->s[sc->i] == '\0')
			return fail_at(sc, sc->line, sc->col, "NUL byte in the template");
		if (!at(sc, "{{")) {
			advance(sc, 1);
			continue;
		}
		if ((r = add_part(sc, lit, sc->i - lit, -1)) < 0 || (r = parse_action(sc)) < 0)
			return r;
		lit = sc->i;
	}
	return add_part(sc, lit, sc->i - lit, -1);
}

int tmpl_parse(const char *src, size_t len, enum tmpl_escape esc, struct tmpl **ret, char *err,
	       size_t errlen)
{
	struct scan sc = {
		.s = src, .len = len, .line = 1, .col = 1, .err = err, .errlen = errlen
	};
	uint8_t e = (uint8_t)esc;
	int r;

	if (errlen)
		err[0] = '\0';
	if (len > TMPL_MAX_BYTES)
		return fail_at(&sc, 1, 1, "template larger than %u bytes", TMPL_MAX_BYTES);
	if ((unsigned)esc > TMPL_ESC_URL)
		return fail_at(&sc, 1, 1, "unknown escaping");
	if (!(sc.t = calloc(1, sizeof(*sc.t))) || !(sc.t->text = malloc(len + 1))) {
		tmpl_free(sc.t);
		return -ENOMEM;
	}
	memcpy(sc.t->text, src, len);
	sc.t->text[len] = '\0';
	sc.t->esc = esc;
	r = parse_all(&sc);
	if (r < 0) {
		if (r == -ENOMEM)
			errf(err, errlen, "out of memory");
		tmpl_free(sc.t);
		return r;
	}
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(sc.t->digest));
	crypto_generichash_update(&st, &e, 1);
	crypto_generichash_update(&st, (const uint8_t *)src, len);
	crypto_generichash_final(&st, sc.t->digest, sizeof(sc.t->digest));
	*ret = sc.t;
	return 0;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_names; i++)
		free(t->names[i]);
	free(t->parts);
	free(t->text);
	free(t);
}

/* ---- render ---- */

struct out {
	uint8_t *p; /* NULL: count only */
	size_t cap, len;
};

static void put(struct out *o, const void *b, size_t n)
{
	if (o->p && o->len <= o->cap && n <= o->cap - o->len)
		memcpy(o->p + o->len, b, n);
	o->len += n;
}

/* Length of the valid UTF-8 character at p (n bytes left), 0 if invalid. */
static size_t utf8_char(const uint8_t *p, size_t n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t k = p[0] < 0x80		   ? 1
		   : (p[0] & 0xe0) == 0xc0 ? 2
		   : (p[0] & 0xf0) == 0xe0 ? 3
		   : (p[0] & 0xf8) == 0xf0 ? 4
					   : 0;
	uint32_t cp = k == 2 ? (p[0] & 0x1fu) : k == 3 ? (p[0] & 0x0fu) : (p[0] & 0x07u);

	if (k <= 1 || k > n)
		return k > n ? 0 : k;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

static int esc_json(struct out *o, const uint8_t *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n;) {
		uint8_t c = v[i];
		size_t k = utf8_char(v + i, n - i);
		char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

		if (!k)
			return -EILSEQ;
		if (k == 3 && c == 0xe2 && v[i + 1] == 0x80 &&
		    (v[i + 2] == 0xa8 || v[i + 2] == 0xa9))
			put(o, v[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6); /* JS line ends */
		else if (c == '"' || c == '\\')
			put(o, c == '"' ? "\\\"" : "\\\\", 2);
		else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
			put(o,
			    c == '\n'	? "\\n"
			    : c == '\r' ? "\\r"
			    : c == '\t' ? "\\t"
			    : c == '\b' ? "\\b"
					: "\\f",
			    2);
		else if (c < 0x20 || c == 0x7f)
			put(o, u, 6);
		else
			put(o, v + i, k);
		i += k;
	}
	return 0;
}

static void esc_url(struct out *o, const uint8_t *v, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];
		char pct[3] = { '%', hex[c >> 4], hex[c & 15] };
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			put(o, &c, 1);
		else
			put(o, pct, 3);
	}
}

static void esc_shell(struct out *o, const uint8_t *v, size_t n)
{
	size_t run = 0;

	put(o, "'", 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] != '\'')
			continue;
		put(o, v + run, i - run);
		put(o, "'\\''", 4);
		run = i + 1;
	}
	put(o, v + run, n - run);
	put(o, "'", 1);
}

static int render(const struct tmpl *t, const uint8_t *const *vals, const size_t *lens,
		  struct out *o, size_t *ret_bad)
{
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct tmpl_part *p = &t->parts[i];
		const uint8_t *v = p->ref < 0 ? (const uint8_t *)t->text + p->off : vals[p->ref];
		size_t n = p->ref < 0 ? p->len : lens[p->ref];

		switch (p->ref < 0 ? TMPL_ESC_NONE : t->esc) {
		case TMPL_ESC_NONE: put(o, v, n); break;
		case TMPL_ESC_SHELL: esc_shell(o, v, n); break;
		case TMPL_ESC_URL: esc_url(o, v, n); break;
		case TMPL_ESC_JSON:
			if (esc_json(o, v, n) < 0) {
				if (ret_bad)
					*ret_bad = (size_t)p->ref;
				return -EILSEQ;
			}
			break;
		}
		if (o->len > TMPL_MAX_OUT)
			return -EFBIG;
	}
	return 0;
}

int tmpl_render_size(const struct tmpl *t, const uint8_t *const *vals, const size_t *lens,
		     size_t *ret, size_t *ret_bad)
{
	struct out o = { NULL, 0, 0 };
	int r = render(t, vals, lens, &o, ret_bad);

	if (r < 0)
		return r;
	*ret = o.len;
	return 0;
}

int tmpl_render(const struct tmpl *t, const uint8_t *const *vals, const size_t *lens, uint8_t *out,
		size_t cap, size_t *ret_len)
{
	struct out o = { out, cap, 0 };
	int r = render(t, vals, lens, &o, NULL);

	if (r < 0)
		return r;
	if (o.len > cap)
		return -ENOBUFS;
	*ret_len = o.len;
	return 0;
}

uint64_t tmpl_version(const struct tmpl *t, const uint64_t *versions)
{
	crypto_generichash_state st;
	uint8_t h[8], le[8];
	uint64_t v = 0;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, t->digest, sizeof(t->digest));
	for (size_t i = 0; i < t->n_names; i++) {
		for (size_t b = 0; b < 8; b++)
			le[b] = (uint8_t)(versions[i] >> (8 * b));
		crypto_generichash_update(&st, le, sizeof(le));
	}
	crypto_generichash_final(&st, h, sizeof(h));
	for (size_t b = 0; b < 8; b++)
		v |= (uint64_t)h[b] << (8 * b);
	v &= ((uint64_t)1 << 53) - 1; /* exact as a JSON number (audit lines, explain) */
	return v ? v : 1;
}
