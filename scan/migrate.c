/* SPDX-License-Identifier: MIT */
/* Import planning (migrate.h): picks the credentials of one scanned file
 * that can be moved, rewrites the file without them (Dockerfile ENV/ARG
 * instructions rebuilt, compose/.env entries dropped by line range), wraps
 * the final stage's ENTRYPOINT with keyhole-shim and writes a policy rule.
 * Pure. A rewrite of an already-migrated file is byte-identical to it. */
#include "migrate.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "proto.h"
#include "scan_lex.h"

struct mig_ctx {
	const char *path, *buf;
	size_t len;
	const struct scan_result *r;
	bool *rm;  /* per finding of r: value removed from the file */
	FILE *out; /* rewritten text */
	FILE *notes;
	struct mig_plan *p;
};

const char *mig_run_flags(void)
{
	/* The socket's directory, so an agent restart is seen (README). */
	return "-v " MIG_AGENT_DIR ":" MIG_AGENT_DIR " --tmpfs " MIG_SECRETS_DIR
	       ":mode=0755,size=1m";
}

int mig_secret_name(const char *prefix, const char *var, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s", prefix ? prefix : "");
	size_t l;

	if (n < 0 || (size_t)n >= outsz)
		return -EINVAL;
	l = (size_t)n;
	for (const char *v = var; *v; v++) {
		char c = (char)tolower((unsigned char)*v);
		if (l + 1 >= outsz)
			return -EINVAL;
		out[l++] = isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' ? c : '_';
	}
	out[l] = '\0';
	return proto_secret_name_valid(out) ? 0 : -EINVAL;
}

static bool movable(const struct scan_finding *f, const char *path)
{
	return !scan_rule_is_posture(f->rule) && f->name && f->value && !strcmp(f->file, path) &&
	       (f->src == SCAN_SRC_ENV || f->src == SCAN_SRC_ARG || f->src == SCAN_SRC_DOTENV ||
		f->src == SCAN_SRC_COMPOSE);
}

static int add_secret(struct mig_ctx *m, const struct scan_finding *f, const char *prefix)
{
	struct mig_plan *p = m->p;
	struct mig_secret *ns;
	char name[PROTO_MAX_NAME + 1], file[PROTO_MAX_NAME + 1];

	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->s[i].var, f->name) != 0)
			continue;
		if (p->s[i].f->value_len == f->value_len &&
		    sodium_memcmp(p->s[i].f->value, f->value, f->value_len) == 0)
			return 1; /* same variable, same value: one secret */
		fprintf(m->notes, "%s:%u: %s has a different value than at line %u: not moved\n",
			f->file, f->line, f->name, p->s[i].f->line);
		return 0;
	}
	if (mig_secret_name(prefix, f->name, name, sizeof name) < 0 ||
	    mig_secret_name(NULL, f->name, file, sizeof file) < 0 || !proto_file_name_valid(file))
		return -EINVAL;
	ns = reallocarray(p->s, p->n + 1, sizeof *ns);
	if (!ns)
		return -ENOMEM;
	p->s = ns;
	ns[p->n] = (struct mig_secret){
		.var = strdup(f->name), .secret = strdup(name), .file = strdup(file), .f = f
	};
	p->n++;
	if (!ns[p->n - 1].var || !ns[p->n - 1].secret || !ns[p->n - 1].file)
		return -ENOMEM;
	return 1;
}

static int collect(struct mig_ctx *m, const char *prefix)
{
	const struct scan_result *r = m->r;

	for (size_t i = 0; i < r->n; i++) {
		const struct scan_finding *f = &r->f[i];
		int e;
		if (strcmp(f->file, m->path) != 0 || scan_rule_is_posture(f->rule))
			continue;
		if (!movable(f, m->path)) {
			fprintf(m->notes,
				"%s:%u: %s (%s) is not moved automatically: edit by hand\n",
				f->file, f->line, f->name ? f->name : "-", scan_rule_name(f->rule));
			continue;
		}
		if ((e = add_secret(m, f, prefix)) < 0)
			return e;
		m->rm[i] = e == 1;
		if (e == 1 && f->src == SCAN_SRC_ARG)
			fprintf(m->notes,
				"%s:%u: ARG %s default removed; a build-time secret wants "
				"RUN --mount=type=secret instead\n",
				f->file, f->line, f->name);
	}
	return 0;
}

/* ---- line-based rewrite (.env, compose) ---- */

static bool line_removed(const struct mig_ctx *m, unsigned line)
{
	for (size_t i = 0; i < m->r->n; i++)
		if (m->rm[i] && line >= m->r->f[i].line && line <= m->r->f[i].end_line)
			return true;
	return false;
}

struct line {
	size_t off, len;
	bool keep;
};

static size_t indent_of(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] == ' ')
		i++;
	return i;
}

static bool blank_or_comment(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", s[i]))
		i++;
	return i == n || s[i] == '#';
}

/* `environment:` keys whose entries were all removed would be null. */
static void drop_empty_env(const char *b, struct line *ln, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = b + ln[i].off;
		size_t ind = indent_of(s, ln[i].len), j, jind;
		if (!ln[i].keep || ln[i].len - ind < 12 || strncmp(s + ind, "environment:", 12) ||
		    !blank_or_comment(s + ind + 12, ln[i].len - ind - 12))
			continue;
		for (j = i + 1;
		     j < n && (!ln[j].keep || blank_or_comment(b + ln[j].off, ln[j].len)); j++)
			;
		jind = j < n ? indent_of(b + ln[j].off, ln[j].len) : 0;
		if (j == n || jind < ind ||
		    (jind == ind && strncmp(b + ln[j].off + jind, "- ", 2) != 0))
			ln[i].keep = false;
	}
}

static int rewrite_lines(struct mig_ctx *m)
{
	size_t n = 0, cap = 64;
	struct line *ln = malloc(cap * sizeof *ln);
	bool any = false;

	if (!ln)
		return -ENOMEM;
	for (size_t off = 0; off < m->len; n++) {
		const char *nl = memchr(m->buf + off, '\n', m->len - off);
		size_t l = nl ? (size_t)(nl - m->buf) - off + 1 : m->len - off;
		if (n == cap) {
			struct line *nn = reallocarray(ln, cap *= 2, sizeof *ln);
			if (!nn) {
				free(ln);
				return -ENOMEM;
			}
			ln = nn;
		}
		ln[n] = (struct line){ off, l, !line_removed(m, (unsigned)n + 1) };
		any |= !ln[n].keep;
		off += l;
	}
	if (any && m->p->type == SCAN_T_COMPOSE)
		drop_empty_env(m->buf, ln, n);
	for (size_t i = 0; i < n; i++)
		if (ln[i].keep)
			fwrite(m->buf + ln[i].off, 1, ln[i].len, m->out);
	free(ln);
	return 0;
}

/* ---- Dockerfile rewrite ---- */

static bool removed_here(const struct mig_ctx *m, unsigned line, const char *name)
{
	for (size_t i = 0; i < m->r->n; i++)
		if (m->rm[i] && m->r->f[i].line == line && !strcmp(m->r->f[i].name, name))
			return true;
	return false;
}

static bool any_removed_at(const struct mig_ctx *m, unsigned line)
{
	for (size_t i = 0; i < m->r->n; i++)
		if (m->rm[i] && m->r->f[i].line == line)
			return true;
	return false;
}

static void put_quoted(FILE *o, const char *v, char esc)
{
	bool plain = *v != '\0';

	for (const char *c = v; *c && plain; c++)
		plain = isalnum((unsigned char)*c) || strchr("_./:@%+,=-", *c);
	if (plain) {
		fputs(v, o);
		return;
	}
	fputc('"', o);
	for (; *v; v++) {
		if (*v == '"' || *v == esc)
			fputc(esc, o);
		fputc(*v, o);
	}
	fputc('"', o);
}

/* ENV/ARG without the removed assignments; nothing at all if none is left. */
static int rebuild_assign(struct mig_ctx *m, const struct scan_df_instr *in, char esc)
{
	char *w = malloc(in->text_len + 1);
	size_t pos = 0, wl, kept = 0;
	bool is_arg = !strcmp(in->kw, "ARG");

	if (!w)
		return -ENOMEM;
	while (scan_df_word(in->text, in->text_len, &pos, esc, w, &wl)) {
		char *eq = strchr(w, '=');
		if (!eq && !is_arg)
			break; /* legacy `ENV NAME value`: one variable, removed */
		if (eq)
			*eq = '\0';
		if (eq && removed_here(m, in->line, w) && !is_arg)
			continue;
		if (kept++ == 0)
			fprintf(m->out, "%s ", in->kw);
		else
			fputc(' ', m->out);
		fputs(w, m->out);
		if (eq && !removed_here(m, in->line, w)) {
			fputc('=', m->out);
			put_quoted(m->out, eq + 1, esc);
		}
	}
	if (kept)
		fputc('\n', m->out);
	sodium_memzero(w, in->text_len + 1);
	free(w);
	return 0;
}

static bool is_shim_entry(const struct scan_df_instr *in)
{
	return strstr(in->text, "\"" MIG_SHIM_PATH "\"") != NULL ||
	       !strncmp(in->text, MIG_SHIM_PATH, strlen(MIG_SHIM_PATH));
}

static int wrap_entrypoint(struct mig_ctx *m, const struct scan_df_instr *in, bool have_copy)
{
	json_t *orig = in->text[0] == '[' ? json_loadb(in->text, in->text_len, 0, NULL) : NULL;
	json_t *a = json_pack("[s, s]", MIG_SHIM_PATH, "--");
	char *s;

	if (!a) {
		json_decref(orig);
		return -ENOMEM;
	}
	if (json_is_array(orig))
		json_array_extend(a, orig);
	else
		json_array_extend(a, (orig = json_pack("[s, s, s]", "/bin/sh", "-c", in->text)));
	json_decref(orig);
	s = json_dumps(a, 0);
	json_decref(a);
	if (!s)
		return -ENOMEM;
	if (!have_copy)
		fputs("COPY keyhole-shim " MIG_SHIM_PATH "\n", m->out);
	fprintf(m->out, "ENTRYPOINT %s\n", s);
	free(s);
	return 0;
}

/* Does the final stage already COPY the shim in? */
static int final_has_copy(const struct mig_ctx *m, bool *ret)
{
	struct scan_df_iter it;
	struct scan_df_instr in;
	int got;

	*ret = false;
	scan_df_iter_init(&it, m->buf, m->len);
	while ((got = scan_df_next(&it, &in)) > 0) {
		if (in.line >= m->r->final_from_line && !strcmp(in.kw, "COPY") &&
		    strstr(in.text, MIG_SHIM_PATH))
			*ret = true;
		scan_df_instr_clear(&in);
	}
	return got;
}

/* One instruction: copy the bytes before it, then it (possibly changed). */
static int df_one(struct mig_ctx *m, const struct scan_df_instr *in, char esc, bool have_copy,
		  size_t *cur)
{
	const struct scan_result *r = m->r;
	bool assign = !strcmp(in->kw, "ENV") || !strcmp(in->kw, "ARG");
	bool entry = in->line == r->entrypoint_line && !is_shim_entry(in);
	bool before_cmd = !r->entrypoint_line && in->line == r->cmd_line;

	if (!(assign && any_removed_at(m, in->line)) && !entry && !before_cmd)
		return 0;
	fwrite(m->buf + *cur, 1, in->off - *cur, m->out);
	*cur = in->end_off;
	if (assign)
		return rebuild_assign(m, in, esc);
	if (entry)
		return wrap_entrypoint(m, in, have_copy);
	/* CMD without ENTRYPOINT: CMD becomes the shim's arguments */
	if (!have_copy)
		fputs("COPY keyhole-shim " MIG_SHIM_PATH "\n", m->out);
	fputs("ENTRYPOINT [\"" MIG_SHIM_PATH "\", \"--\"]\n", m->out);
	fwrite(m->buf + in->off, 1, in->end_off - in->off, m->out);
	if (in->end_off == m->len && m->buf[m->len - 1] != '\n')
		fputc('\n', m->out);
	return 0;
}

static int rewrite_dockerfile(struct mig_ctx *m)
{
	struct scan_df_iter it;
	struct scan_df_instr in;
	size_t cur = 0;
	bool have_copy;
	int got, e = final_has_copy(m, &have_copy);

	if (e < 0)
		return e;
	scan_df_iter_init(&it, m->buf, m->len);
	while (e == 0 && (got = scan_df_next(&it, &in)) != 0) {
		if (got < 0)
			return got;
		e = df_one(m, &in, it.esc, have_copy, &cur);
		scan_df_instr_clear(&in);
	}
	fwrite(m->buf + cur, 1, m->len - cur, m->out);
	if (m->r->final_from_line && !m->r->entrypoint_line && !m->r->cmd_line && !have_copy) {
		if (m->len && m->buf[m->len - 1] != '\n')
			fputc('\n', m->out);
		fputs("COPY keyhole-shim " MIG_SHIM_PATH "\n"
		      "ENTRYPOINT [\"" MIG_SHIM_PATH "\", \"--\"]\n",
		      m->out);
		fprintf(m->notes,
			"%s: no ENTRYPOINT or CMD in the final stage: add the base "
			"image's CMD after the new ENTRYPOINT\n",
			m->path);
	}
	return e;
}

/* ---- policy ---- */

static const struct mig_secret *secret_of(const struct mig_plan *p, const char *var)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].var, var))
			return &p->s[i];
	return NULL;
}

/* A policy rule name: 1..MIG_MAX_RULE_NAME of [A-Za-z0-9._-]
 * (agent/policy.c). Runs of other bytes ('/' of a prefix, spaces, UTF-8)
 * become one '-'; "app" if nothing is left. */
static void rule_name_clean(const char *raw, char *out, size_t outsz)
{
	size_t o = 0, lim = outsz - 1 < MIG_MAX_RULE_NAME ? outsz - 1 : MIG_MAX_RULE_NAME;
	bool dash = false;

	for (const char *c = raw; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) {
			dash = o > 0;
			continue;
		}
		if (o + dash + 1 > lim)
			break;
		if (dash)
			out[o++] = '-';
		out[o++] = *c;
		dash = false;
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, outsz, "app");
}

/* <prefix><service> for a compose service; else the prefix, or the
 * image's last path element without tag or digest. */
static void rule_name(const char *prefix, const char *svc, const char *image, char *out,
		      size_t outsz)
{
	const char *b = strrchr(image, '/');
	char raw[600];

	if (svc) {
		snprintf(raw, sizeof raw, "%s%s", prefix ? prefix : "", svc);
	} else {
		snprintf(raw, sizeof raw, "%s", prefix && *prefix ? prefix : (b ? b + 1 : image));
		raw[strcspn(raw, ":@")] = '\0';
	}
	rule_name_clean(raw, out, outsz);
}

/* Rule names are unique in a policy: a name taken already gets "-2", "-3".. */
static void rule_name_unique(json_t *rules, char *name, size_t namesz)
{
	char base[MIG_MAX_RULE_NAME + 1];
	size_t i;
	json_t *r;

	snprintf(base, sizeof base, "%s", name);
	for (unsigned k = 2;; k++) {
		bool taken = false;
		json_array_foreach(rules, i, r) taken |=
			!strcmp(json_string_value(json_object_get(r, "name")), name);
		if (!taken)
			return;
		snprintf(name, namesz, "%.*s-%u", MIG_MAX_RULE_NAME - 11, base, k);
	}
}

/* One rule: the secrets moved from findings of service svc (NULL = all). */
static json_t *rule_json(const struct mig_ctx *m, const char *name, const char *svc,
			 const char *image)
{
	json_t *grant = json_array(), *seen = json_object();

	for (size_t i = 0; grant && seen && i < m->r->n; i++) {
		const struct scan_finding *f = &m->r->f[i];
		const struct mig_secret *s;
		if (!m->rm[i] || (svc && (!f->service || strcmp(f->service, svc))) ||
		    !(s = secret_of(m->p, f->name)) || json_object_get(seen, s->secret))
			continue;
		json_object_set_new(seen, s->secret, json_true());
		json_array_append_new(
			grant, json_pack("{s:s, s:s}", "secret", s->secret, "file", s->file));
	}
	json_decref(seen);
	if (!grant || json_array_size(grant) == 0) {
		json_decref(grant);
		return NULL;
	}
	return json_pack("{s:s, s:{s:s}, s:o}", "name", name, "match", "image", image, "grant",
			 grant);
}

/* Append the rule for service svc (NULL = the whole file), if it grants. */
static void add_rule(const struct mig_ctx *m, json_t *rules, const char *prefix, const char *svc,
		     const char *image)
{
	char name[MIG_MAX_RULE_NAME + 1];
	json_t *one;

	rule_name(prefix, svc, image, name, sizeof name);
	rule_name_unique(rules, name, sizeof name);
	one = rule_json(m, name, svc, image);
	if (one)
		json_array_append_new(rules, one);
}

/* A JSON array of rules: one per compose service that lost secrets, else
 * one for the image. */
static char *policy_json(const struct mig_ctx *m, const char *prefix, const char *image)
{
	const struct scan_result *r = m->r;
	json_t *rules = json_array();
	char *s;

	if (rules && m->p->type == SCAN_T_COMPOSE) {
		for (size_t i = 0; i < r->n_services; i++)
			add_rule(m, rules, prefix, r->services[i].name,
				 r->services[i].image ? r->services[i].image
				 : image	      ? image
						      : "IMAGE");
	} else if (rules) {
		add_rule(m, rules, prefix, NULL, image ? image : "IMAGE");
	}
	s = rules ? json_dumps(rules, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(rules);
	return s;
}

/* ---- delivery (env_file / env) ---- */

static const struct mig_secret *secret_by_name(const struct mig_plan *p, const char *secret)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].secret, secret))
			return &p->s[i];
	return NULL;
}

/* Append one note line to p->notes. */
static int note_add(struct mig_plan *p, const char *var, const char *what)
{
	size_t have = p->notes ? strlen(p->notes) : 0, add = strlen(var) + strlen(what) + 64;
	char *n = realloc(p->notes, have + add);

	if (!n)
		return -ENOMEM;
	snprintf(n + have, add, "%s: %s; kept as a file only\n", var, what);
	p->notes = n;
	return 0;
}

/* One grant g of the rule: add env_file / env for its variable. */
static int grant_delivery(struct mig_plan *p, json_t *g, enum mig_delivery d)
{
	const struct mig_secret *s =
		secret_by_name(p, json_string_value(json_object_get(g, "secret")));
	char name[PROTO_MAX_ENV_NAME + 8], why[160];

	if (!s)
		return 0;
	snprintf(name, sizeof name, "%s%s", s->var, d == MIG_D_ENV_FILE ? "_FILE" : "");
	if (strlen(s->var) > PROTO_MAX_ENV_NAME - 5 ||
	    proto_env_name_problem(name, why, sizeof why))
		return note_add(p, s->var, "not a variable name keyhole sets");
	if (d == MIG_D_ENV) {
		json_object_del(g, "file");
		return json_object_set_new(g, "env", json_string(name)) < 0 ? -ENOMEM : 0;
	}
	return json_object_set_new(g, "env_file", json_string(name)) < 0 ? -ENOMEM : 0;
}

int mig_policy_delivery(struct mig_plan *p, enum mig_delivery d)
{
	json_t *rules, *r, *g;
	size_t i, k;
	char *s;
	int e = 0;

	if (d != MIG_D_FILE && d != MIG_D_ENV_FILE && d != MIG_D_ENV)
		return -EINVAL;
	if (d == MIG_D_FILE || !p->policy)
		return 0;
	rules = json_loads(p->policy, JSON_REJECT_DUPLICATES, NULL);
	if (!rules)
		return -ENOMEM;
	json_array_foreach(rules, i, r) json_array_foreach(json_object_get(r, "grant"), k, g)
	{
		if (e == 0)
			e = grant_delivery(p, g, d);
	}
	s = e == 0 ? json_dumps(rules, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(rules);
	if (!s)
		return e < 0 ? e : -ENOMEM;
	free(p->policy);
	p->policy = s;
	return 0;
}

/* ---- plan ---- */

void mig_plan_free(struct mig_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->s[i].var);
		free(p->s[i].secret);
		free(p->s[i].file);
	}
	free(p->s);
	free(p->rewritten);
	free(p->policy);
	free(p->notes);
	memset(p, 0, sizeof *p);
}

/* The rewrite must still parse and must no longer hold what was moved. */
static int verify(const struct mig_plan *p, const char *path)
{
	struct scan_result v;
	int e;

	scan_result_init(&v);
	e = scan_buffer(&v, path, p->type, p->rewritten, p->rewritten_len);
	for (size_t i = 0; e == 0 && i < v.n; i++)
		for (size_t k = 0; k < p->n; k++)
			if (v.f[i].name && v.f[i].value && !strcmp(v.f[i].name, p->s[k].var) &&
			    v.f[i].src != SCAN_SRC_NONE &&
			    v.f[i].value_len == p->s[k].f->value_len &&
			    !sodium_memcmp(v.f[i].value, p->s[k].f->value, v.f[i].value_len))
				e = -EBADMSG;
	scan_result_free(&v);
	return e < 0 ? -EBADMSG : 0;
}

static int build(struct mig_ctx *m, const char *prefix)
{
	int e = collect(m, prefix);

	if (e)
		return e;
	switch (m->p->type) {
	case SCAN_T_DOCKERFILE: return rewrite_dockerfile(m);
	case SCAN_T_COMPOSE:
	case SCAN_T_ENV: return rewrite_lines(m);
	case SCAN_T_INSPECT:
	case SCAN_T_AUTO: break;
	}
	return -EINVAL;
}

int mig_plan_build(const char *path, const char *buf, size_t len, enum scan_type t,
		   const struct scan_result *r, const char *prefix, const char *image,
		   struct mig_plan *ret)
{
	struct mig_plan p = { .type = t == SCAN_T_AUTO ? scan_detect_type(path, buf, len) : t };
	struct mig_ctx m = { .path = path, .buf = buf, .len = len, .r = r, .p = &p };
	size_t nlen = 0;
	int e;

	m.rm = calloc(r->n + 1, sizeof *m.rm);
	m.out = open_memstream(&p.rewritten, &p.rewritten_len);
	m.notes = open_memstream(&p.notes, &nlen);
	e = m.rm && m.out && m.notes ? build(&m, prefix) : -ENOMEM;
	if (e == 0 && !(p.policy = policy_json(&m, prefix, image)))
		e = -ENOMEM;
	if (m.out && fclose(m.out) != 0 && e == 0)
		e = -ENOMEM;
	if (m.notes && fclose(m.notes) != 0 && e == 0)
		e = -ENOMEM;
	free(m.rm);
	if (e == 0 && !p.rewritten)
		e = -ENOMEM;
	if (e == 0) {
		p.changed = p.rewritten_len != len || memcmp(p.rewritten, buf, len) != 0;
		e = verify(&p, path);
	}
	if (e < 0) {
		mig_plan_free(&p);
		return e;
	}
	*ret = p;
	return 0;
}
