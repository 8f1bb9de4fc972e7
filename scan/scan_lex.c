/* SPDX-License-Identifier: MIT */
/* Dockerfile lexer (scan_lex.h): logical instructions with continuations
 * joined, `# escape=` honoured, comment lines inside continuations dropped
 * (as BuildKit does), and shell-like words. Pure; untrusted text; copies of
 * instruction text are wiped when cleared. */
#include "scan_lex.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* `# escape=`` ` parser directive on the first lines. */
static char parse_escape(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && buf[i] == '#') {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - buf) : len, k = i + 1;
		while (k < e && blank(buf[k]))
			k++;
		if (e - k >= 8 && !strncasecmp(buf + k, "escape", 6)) {
			k += 6;
			while (k < e && blank(buf[k]))
				k++;
			if (k < e && buf[k] == '=') {
				k++;
				while (k < e && blank(buf[k]))
					k++;
				if (k < e && (buf[k] == '`' || buf[k] == '\\'))
					return buf[k];
			}
		}
		i = e + 1;
	}
	return '\\';
}

void scan_df_iter_init(struct scan_df_iter *it, const char *buf, size_t len)
{
	memset(it, 0, sizeof *it);
	it->buf = buf;
	it->len = len;
	it->esc = parse_escape(buf, len);
}

void scan_df_instr_clear(struct scan_df_instr *in)
{
	if (in->text) {
		sodium_memzero(in->text, in->text_len);
		free(in->text);
	}
	memset(in, 0, sizeof *in);
}

/* One physical line: [*s, *s + *n), advancing the iterator. */
static bool next_line(struct scan_df_iter *it, const char **s, size_t *n)
{
	const char *nl;

	if (it->pos >= it->len)
		return false;
	*s = it->buf + it->pos;
	nl = memchr(*s, '\n', it->len - it->pos);
	*n = nl ? (size_t)(nl - *s) : it->len - it->pos;
	it->pos += *n + (nl ? 1 : 0);
	it->lineno++;
	while (*n && blank((*s)[*n - 1]))
		(*n)--;
	return true;
}

static void set_keyword(struct scan_df_instr *in, const char *t, size_t n, size_t *ret_k)
{
	size_t k = 0, w = 0;

	while (k < n && blank(t[k]))
		k++;
	while (k < n && !blank(t[k])) {
		if (w < sizeof in->kw - 1)
			in->kw[w++] = (char)toupper((unsigned char)t[k]);
		k++;
	}
	in->kw[w] = '\0';
	while (k < n && blank(t[k]))
		k++;
	*ret_k = k;
}

int scan_df_next(struct scan_df_iter *it, struct scan_df_instr *ret)
{
	struct scan_df_instr in = { 0 };
	size_t cap = 0, k;
	const char *s;
	size_t n;

	while (next_line(it, &s, &n)) {
		size_t lead = 0;
		bool cont;
		while (lead < n && blank(s[lead]))
			lead++;
		/* Blank and comment lines are dropped, inside continuations too
		 * (as BuildKit does). */
		if (lead == n || s[lead] == '#')
			continue;
		if (!in.text) {
			in.line = it->lineno;
			in.off = (size_t)(s - it->buf);
		}
		cont = n > 0 && s[n - 1] == it->esc;
		if (cont)
			n--;
		if (!in.text || in.text_len + n + 2 > cap) {
			char *nb;
			cap = (in.text_len + n + 2) * 2;
			nb = malloc(cap);
			if (!nb) {
				scan_df_instr_clear(&in);
				return -ENOMEM;
			}
			if (in.text)
				memcpy(nb, in.text, in.text_len);
			scan_df_instr_clear(&(struct scan_df_instr){ .text = in.text,
								     .text_len = in.text_len });
			in.text = nb;
		}
		memcpy(in.text + in.text_len, s, n);
		in.text_len += n;
		in.text[in.text_len] = '\0';
		in.end_line = it->lineno;
		in.end_off = it->pos;
		if (!cont)
			break;
	}
	if (!in.text)
		return 0;
	set_keyword(&in, in.text, in.text_len, &k);
	memmove(in.text, in.text + k, in.text_len - k + 1);
	in.text_len -= k;
	*ret = in;
	return 1;
}

bool scan_df_word(const char *t, size_t len, size_t *pos, char esc, char *out, size_t *ret_len)
{
	size_t i = *pos, o = 0;
	char q = 0;

	while (i < len && isspace((unsigned char)t[i]))
		i++;
	if (i >= len)
		return false;
	for (; i < len; i++) {
		char c = t[i];
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				out[o++] = c;
		} else if (c == esc && i + 1 < len && (q == 0 || strchr("\"$`\\", t[i + 1]))) {
			out[o++] = t[++i];
		} else if (q == '"') {
			if (c == '"')
				q = 0;
			else
				out[o++] = c;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (isspace((unsigned char)c)) {
			break;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	*pos = i;
	*ret_len = o;
	return true;
}
