/* SPDX-License-Identifier: MIT */
/* Templates rendered into a secret file (docs/templates.md): literal text
 * plus {{ secret "name" }} and {{ "literal" }}, one escaping per template.
 * Pure: no syscalls, no logging; parsed when the policy loads (the text is
 * the admin's, but a crash here takes the agent down, so it is fuzzed) and
 * rendered on release into a buffer the caller allocates with
 * sodium_malloc: the output holds secret values. */
#ifndef KH_TEMPLATE_H
#define KH_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#define TMPL_MAX_BYTES (64u << 10) /* template source */
#define TMPL_MAX_OUT (1u << 20)	   /* rendered output (PROTO_MAX_VALUE) */
#define TMPL_MAX_NAMES 64u	   /* distinct secrets one template uses */
#define TMPL_MAX_PARTS 4096u	   /* literal runs + substitutions */

enum tmpl_escape { TMPL_ESC_NONE, TMPL_ESC_SHELL, TMPL_ESC_JSON, TMPL_ESC_URL };

struct tmpl_part {
	uint32_t off, len; /* literal: bytes of tmpl->text */
	int ref;	   /* -1 = literal, else index into names */
};

struct tmpl {
	char *text; /* the literal bytes the parts point into */
	struct tmpl_part *parts;
	size_t n_parts;
	char *names[TMPL_MAX_NAMES]; /* distinct secrets, in order of first use */
	unsigned line[TMPL_MAX_NAMES], col[TMPL_MAX_NAMES]; /* of each first use */
	size_t n_names;
	enum tmpl_escape esc;
	uint8_t digest[32]; /* of the source and the escaping (tmpl_version) */
};

/* "none" / "shell" / "json" / "url": 0, or -EINVAL. */
int tmpl_escape_from_name(const char *s, enum tmpl_escape *ret);
const char *tmpl_escape_name(enum tmpl_escape e);

/* Parse src[0..len). 0 and *ret, or -EINVAL with "LINE:COL: reason" in err
 * (columns count characters, both from 1), or -ENOMEM. */
int tmpl_parse(const char *src, size_t len, enum tmpl_escape esc, struct tmpl **ret, char *err,
	       size_t errlen);
void tmpl_free(struct tmpl *t);

/* The value of names[i] is vals[i][0..lens[i]). Output size: 0 and *ret,
 * -EFBIG past TMPL_MAX_OUT, -EILSEQ when a value is not UTF-8 under json
 * escaping (*ret_bad = the index of that value). */
int tmpl_render_size(const struct tmpl *t, const uint8_t *const *vals, const size_t *lens,
		     size_t *ret, size_t *ret_bad);
/* Render into out (cap bytes, at least tmpl_render_size): 0 and *ret_len,
 * or the errors of tmpl_render_size, or -ENOBUFS. */
int tmpl_render(const struct tmpl *t, const uint8_t *const *vals, const size_t *lens, uint8_t *out,
		size_t cap, size_t *ret_len);

/* A version for the rendered file: changes when the template or the version
 * of any secret it uses changes (versions[i] for names[i]); never 0. */
uint64_t tmpl_version(const struct tmpl *t, const uint64_t *versions);

#endif
