/* SPDX-License-Identifier: MIT */
/* Dockerfile scanner: joins continuation lines (a finding names the line
 * where its instruction starts), reads ENV (both forms), ARG defaults,
 * LABEL, RUN export/echo, and the final stage's posture (USER, EXPOSE,
 * ENTRYPOINT/CMD) plus ADD from URLs in any stage. Pure; untrusted text. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "scan_drivers.h"
#include "scan_detect.h"
#include "scan_lex.h"

#define DF_MAX_EXPOSE 32u
#define DF_MAX_ARGV 64u

struct df_stage {
	unsigned from_line, user_line, entry_line, cmd_line, n_ports;
	bool has_user, user_root;
	bool entry_shim, cmd_shim; /* keyhole-shim --user NONROOT */
	char first_port[24];
	unsigned extra_line[DF_MAX_EXPOSE];
	char extra[DF_MAX_EXPOSE][80];
	size_t n_extra;
};

struct df_ctx {
	struct scan_result *r;
	const char *file;
	char esc;
	struct df_stage st;
	char *w;   /* scratch word, text_len + 1, wiped after each instruction */
	char *val; /* scratch value for echo */
};

static bool ident_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* ENV legacy form `ENV NAME rest of line`. */
static int df_env_legacy(struct df_ctx *c, const struct scan_df_instr *in, size_t pos)
{
	const char *v = in->text + pos;
	size_t n = in->text_len - pos;

	while (n && isspace((unsigned char)*v))
		v++, n--;
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
		v++, n -= 2;
	return scan_check_pair(c->r, c->file, in->line, in->end_line, SCAN_SRC_ENV, c->w, NULL, v,
			       n);
}

static int df_assign(struct df_ctx *c, const struct scan_df_instr *in, enum scan_src src)
{
	size_t pos = 0, wl;
	bool first = true;
	int e = 0;

	while (e == 0 && scan_df_word(in->text, in->text_len, &pos, c->esc, c->w, &wl)) {
		char *eq = memchr(c->w, '=', wl);
		if (!eq) {
			if (first && !strcmp(in->kw, "ENV"))
				return df_env_legacy(c, in, pos);
			first = false;
			continue; /* ARG NAME without a default */
		}
		first = false;
		*eq = '\0';
		if (!ident_ok(c->w) && src != SCAN_SRC_NONE)
			continue;
		e = scan_check_pair(c->r, c->file, in->line, in->end_line, src, c->w, NULL, eq + 1,
				    wl - (size_t)(eq + 1 - c->w));
	}
	return e;
}

static bool is_sep(const char *w)
{
	return !strcmp(w, "&&") || !strcmp(w, "||") || !strcmp(w, ";") || !strcmp(w, "|") ||
	       !strcmp(w, "&");
}

/* RUN ... export K=V ... / echo V > FILE: the shell words, escapes '\'. */
static int df_run(struct df_ctx *c, const struct scan_df_instr *in)
{
	enum { NONE, EXPORT, ECHO, TARGET } mode = NONE;
	size_t pos = 0, wl, vl = 0, before = c->r->n;
	int e = 0;

	while (e == 0 && scan_df_word(in->text, in->text_len, &pos, '\\', c->w, &wl)) {
		bool end = wl > 1 && c->w[wl - 1] == ';';
		char *eq;
		if (end)
			c->w[--wl] = '\0';
		if (is_sep(c->w)) {
			mode = NONE;
			continue;
		}
		if (mode == EXPORT && (eq = strchr(c->w, '=')) != NULL) {
			*eq = '\0';
			if (ident_ok(c->w))
				e = scan_check_pair(c->r, c->file, in->line, in->end_line,
						    SCAN_SRC_NONE, c->w, NULL, eq + 1,
						    strlen(eq + 1));
		} else if (mode == ECHO && c->w[0] == '>') {
			size_t k = strspn(c->w, ">");
			mode = c->w[k] ? NONE : TARGET;
			if (c->w[k])
				e = scan_check_pair(c->r, c->file, in->line, in->end_line,
						    SCAN_SRC_NONE, c->w + k, NULL, c->val, vl);
		} else if (mode == TARGET) {
			e = scan_check_pair(c->r, c->file, in->line, in->end_line, SCAN_SRC_NONE,
					    c->w, NULL, c->val, vl);
			mode = NONE;
		} else if (mode == ECHO) {
			if (!(vl == 0 && c->w[0] == '-')) { /* echo -n / -e */
				if (vl)
					c->val[vl++] = ' ';
				memcpy(c->val + vl, c->w, wl + 1);
				vl += wl;
			}
		} else if (!strcmp(c->w, "export")) {
			mode = EXPORT;
		} else if (!strcmp(c->w, "echo") || !strcmp(c->w, "printf")) {
			mode = ECHO;
			vl = 0;
			c->val[0] = '\0';
		} else if (mode != EXPORT) {
			mode = NONE;
		}
		if (end)
			mode = NONE;
	}
	/* Nothing parsed out (curl -H, a JSON exec form...): unmistakable
	 * token formats anywhere in the instruction still count. */
	if (e == 0 && c->r->n == before)
		e = scan_check_text(c->r, c->file, in->line, "RUN", in->text, in->text_len);
	return e;
}

static int df_add(struct df_ctx *c, const struct scan_df_instr *in)
{
	size_t pos = 0, wl, n = 0;
	bool checksum = false, url = false;

	while (scan_df_word(in->text, in->text_len, &pos, c->esc, c->w, &wl)) {
		if (!strncmp(c->w, "--checksum", 10))
			checksum = true;
		else if (strncmp(c->w, "--", 2) != 0 && ++n &&
			 (!strncasecmp(c->w, "http://", 7) || !strncasecmp(c->w, "https://", 8)))
			url = true;
	}
	if (!url || checksum)
		return 0;
	return scan_add(c->r, c->file, in->line, in->end_line, SCAN_R_ADD_URL, SCAN_SRC_NONE, NULL,
			NULL, "ADD from a URL without --checksum", NULL, 0);
}

static void df_user(struct df_ctx *c, const struct scan_df_instr *in)
{
	size_t pos = 0, wl;
	char *colon;

	if (!scan_df_word(in->text, in->text_len, &pos, c->esc, c->w, &wl))
		return;
	colon = strchr(c->w, ':');
	if (colon)
		*colon = '\0';
	c->st.has_user = true;
	c->st.user_line = in->line;
	c->st.user_root = !strcmp(c->w, "root") || !strcmp(c->w, "0");
}

static void df_expose(struct df_ctx *c, const struct scan_df_instr *in)
{
	size_t pos = 0, wl;
	struct df_stage *st = &c->st;

	while (scan_df_word(in->text, in->text_len, &pos, c->esc, c->w, &wl)) {
		if (st->n_ports++ == 0) {
			snprintf(st->first_port, sizeof st->first_port, "%.20s", c->w);
			continue;
		}
		if (st->n_extra == 0 || st->extra_line[st->n_extra - 1] != in->line) {
			if (st->n_extra == DF_MAX_EXPOSE)
				continue;
			st->extra_line[st->n_extra] = in->line;
			st->extra[st->n_extra++][0] = '\0';
		}
		size_t l = strlen(st->extra[st->n_extra - 1]);
		snprintf(st->extra[st->n_extra - 1] + l, sizeof st->extra[0] - l, "%s%.20s",
			 l ? " " : "", c->w);
	}
}

/* ENTRYPOINT/CMD: is it keyhole-shim dropping to a non-root --user? Exec
 * form is a JSON array (as the builder reads it), else shell words. */
static bool df_shim_drops(struct df_ctx *c, const struct scan_df_instr *in)
{
	const char *argv[DF_MAX_ARGV];
	json_t *a = in->text[0] == '[' ? json_loadb(in->text, in->text_len, 0, NULL) : NULL;
	size_t argc = 0, pos = 0, wl, used = 0;
	bool drops;

	if (json_is_array(a)) {
		for (; argc < json_array_size(a) && argc < DF_MAX_ARGV; argc++)
			if (!(argv[argc] = json_string_value(json_array_get(a, argc))))
				break;
	} else {
		/* decoded words, each NUL-terminated, fit in c->val: every word
		 * is no longer than its source and followed by a separator */
		while (argc < DF_MAX_ARGV &&
		       scan_df_word(in->text, in->text_len, &pos, c->esc, c->val + used, &wl)) {
			argv[argc++] = c->val + used;
			used += wl + 1;
		}
	}
	drops = scan_shim_drops_root(argv, argc);
	json_decref(a);
	return drops;
}

static int df_final_posture(struct df_ctx *c)
{
	const struct df_stage *st = &c->st;
	/* the shim starts as root and drops to --user before the app runs */
	bool shim = st->entry_line ? st->entry_shim : st->cmd_shim;
	char why[160];
	int e = 0;

	if (!st->from_line)
		return 0;
	c->r->final_from_line = st->from_line;
	c->r->entrypoint_line = st->entry_line;
	c->r->cmd_line = st->cmd_line;
	if (!shim && !st->has_user)
		e = scan_add(c->r, c->file, st->from_line, st->from_line, SCAN_R_ROOT_USER,
			     SCAN_SRC_NONE, NULL, NULL, "final stage has no USER: runs as root",
			     NULL, 0);
	else if (!shim && st->user_root)
		e = scan_add(c->r, c->file, st->user_line, st->user_line, SCAN_R_ROOT_USER,
			     SCAN_SRC_NONE, NULL, NULL, "final stage sets USER root", NULL, 0);
	for (size_t i = 0; e == 0 && i < st->n_extra; i++) {
		snprintf(why, sizeof why, "EXPOSE %s beyond the first port (%s)", st->extra[i],
			 st->first_port);
		e = scan_add(c->r, c->file, st->extra_line[i], st->extra_line[i], SCAN_R_EXPOSE,
			     SCAN_SRC_NONE, NULL, NULL, why, NULL, 0);
	}
	return e;
}

static int df_instr(struct df_ctx *c, const struct scan_df_instr *in)
{
	const char *k = in->kw;

	if (!strcmp(k, "FROM")) {
		memset(&c->st, 0, sizeof c->st);
		c->st.from_line = in->line;
	} else if (!strcmp(k, "ENV")) {
		return df_assign(c, in, SCAN_SRC_ENV);
	} else if (!strcmp(k, "ARG")) {
		return df_assign(c, in, SCAN_SRC_ARG);
	} else if (!strcmp(k, "LABEL")) {
		return df_assign(c, in, SCAN_SRC_NONE);
	} else if (!strcmp(k, "RUN")) {
		return df_run(c, in);
	} else if (!strcmp(k, "ADD")) {
		return df_add(c, in);
	} else if (!strcmp(k, "USER")) {
		df_user(c, in);
	} else if (!strcmp(k, "EXPOSE")) {
		df_expose(c, in);
	} else if (!strcmp(k, "ENTRYPOINT")) {
		c->st.entry_line = in->line;
		c->st.entry_shim = df_shim_drops(c, in);
	} else if (!strcmp(k, "CMD")) {
		c->st.cmd_line = in->line;
		c->st.cmd_shim = df_shim_drops(c, in);
	}
	return 0;
}

int scan_dockerfile(struct scan_result *r, const char *file, const char *buf, size_t len)
{
	struct scan_df_iter it;
	struct scan_df_instr in;
	struct df_ctx c = { .r = r, .file = file };
	int e = 0, got;

	scan_df_iter_init(&it, buf, len);
	c.esc = it.esc;
	while (e == 0 && (got = scan_df_next(&it, &in)) != 0) {
		if (got < 0)
			return got;
		c.w = malloc(in.text_len + 1);
		c.val = malloc(in.text_len + 1);
		e = c.w && c.val ? df_instr(&c, &in) : -ENOMEM;
		if (c.w)
			sodium_memzero(c.w, in.text_len + 1);
		if (c.val)
			sodium_memzero(c.val, in.text_len + 1);
		free(c.w);
		free(c.val);
		scan_df_instr_clear(&in);
	}
	return e ? e : df_final_posture(&c);
}
