/* SPDX-License-Identifier: MIT */
/* See release.h. Every decision is audited before the frame that carries
 * it is queued; a reason sent to the caller never holds a value. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "release.h"
#include "template.h"

void release_cache_flush(struct release *rel)
{
	for (size_t i = 0; i < rel->cache_n; i++)
		ks_secret_free(rel->cache[i].s);
	rel->cache_n = 0;
}

/* Under memory pressure (output queued for all clients near its cap), a
 * value that would need more than a pooled buffer is refused before it is
 * unsealed; small values still go out, so other clients are served. */
static bool too_big_now(struct release *rel, const char *name)
{
	const struct conn_set *cs = rel->cs;
	struct ks_version_info *v = NULL;
	size_t n = 0;
	bool big;

	if (!cs->out_max || cs->out_bytes < cs->out_max - cs->out_max / 8)
		return false;
	if (ks_history(rel->ks, name, &v, &n) < 0 || n == 0) {
		free(v);
		return false; /* let get_secret say what is wrong */
	}
	big = v[0].size > CONN_POOL_BUF / 2;
	free(v);
	return big;
}

/* Opened secrets are kept until the store changes: unsealing (X25519) per
 * fetch was a fifth of the cost of a fresh-connection fetch. Small values
 * only, bounded count. *ret_owned tells whether the caller frees. */
static int get_secret(struct release *rel, const char *name, struct ks_secret **ret,
		      bool *ret_owned)
{
	struct release_cached *e;
	int r;

	for (size_t i = 0; i < rel->cache_n; i++)
		if (strcmp(rel->cache[i].name, name) == 0) {
			*ret = rel->cache[i].s;
			*ret_owned = false;
			return 0;
		}
	if (too_big_now(rel, name))
		return -EBUSY;
	r = ks_get(rel->ks, name, 0, ret);
	if (r < 0)
		return r;
	*ret_owned = true;
	if (rel->cache_n < RELEASE_CACHE_N && (*ret)->len <= RELEASE_CACHE_MAX_VALUE) {
		e = &rel->cache[rel->cache_n++];
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->s = *ret;
		*ret_owned = false;
	}
	return 0;
}

static int queue_denied(struct release *rel, struct conn *c, const char *name, const char *reason)
{
	uint8_t f[PROTO_HDR + 5 + PROTO_MAX_NAME + PROTO_MAX_REASON];
	char why[PROTO_MAX_REASON + 1], nm[PROTO_MAX_NAME + 1];
	ssize_t n;
	int r;

	snprintf(why, sizeof(why), "%s", reason);
	snprintf(nm, sizeof(nm), "%s", name);
	n = proto_encode_denied(f, sizeof(f), nm, why);
	if (n < 0)
		return (int)n;
	r = conn_queue(rel->cs, c, f, (size_t)n);
	return r < 0 ? r : 1;
}

/* The SECRET2 header fields of grant g (value and version set by caller). */
static void secret2_of(const struct policy_grant *g, struct proto_secret *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", g->secret);
	m->mode = g->mode;
	m->delivery = g->delivery;
	if (g->delivery & PROTO_D_FILE)
		snprintf(m->file, sizeof(m->file), "%s", g->file);
	if (g->env)
		snprintf(m->env, sizeof(m->env), "%s", g->env);
	if (g->env_file)
		snprintf(m->env_file, sizeof(m->env_file), "%s", g->env_file);
}

/* Encode SECRET (protocol 1) or SECRET2 (2) for g into p (need bytes). */
static ssize_t encode_value(const struct conn *c, const struct policy_grant *g,
			    const struct ks_secret *s, uint8_t *p, size_t need)
{
	struct proto_secret m;

	if (c->proto < 2)
		return proto_encode_secret(p, need, g->secret, s->version, g->file, g->mode,
					   s->data, s->len);
	secret2_of(g, &m);
	m.version = s->version;
	m.value = s->data;
	m.value_len = (uint32_t)s->len;
	return proto_encode_secret2(p, need, &m);
}

static size_t value_frame_size(const struct conn *c, const struct policy_grant *g, size_t len)
{
	if (c->proto < 2)
		return proto_secret_frame_size(strlen(g->secret), strlen(g->file), len);
	return proto_secret2_frame_size(
		strlen(g->secret), (g->delivery & PROTO_D_FILE) ? strlen(g->file) : 0,
		g->env ? strlen(g->env) : 0, g->env_file ? strlen(g->env_file) : 0, len);
}

/* Audit, then encode the SECRET frame in place (the value goes straight
 * from the keystore's sodium memory to the connection's). */
static int queue_value(struct release *rel, struct conn *c, const struct policy_grant_ref *g,
		       const struct ks_secret *s, enum audit_decision ok)
{
	size_t need = value_frame_size(c, g->grant, s->len);
	uint8_t *p;
	ssize_t n;
	int r = conn_reserve(rel->cs, c, need, &p);

	if (r < 0)
		return r;
	if (conn_audit(rel->audit, c, g->rule->name, g->grant->secret, s->version, ok, NULL) < 0)
		return -EIO;
	n = encode_value(c, g->grant, s, p, need);
	if (n < 0)
		return (int)n;
	conn_commit(c, (size_t)n);
	return 0;
}

/* A value an "env" grant cannot deliver: a NUL cuts it, and the kernel
 * refuses an environment string over MAX_ARG_STRLEN (128 KiB) at exec. */
static bool env_refused(const struct ks_secret *s, char *why, size_t len)
{
	if (s->len && memchr(s->data, '\0', s->len))
		snprintf(why, len,
			 "its value holds a NUL byte, so it cannot be an environment variable "
			 "(deliver it as a file: drop \"env\" from the grant)");
	else if (s->len > RELEASE_MAX_ENV_VALUE)
		snprintf(why, len,
			 "its value (%zu bytes) is too large for an environment variable "
			 "(at most %u; deliver it as a file)",
			 s->len, RELEASE_MAX_ENV_VALUE);
	else
		return false;
	return true;
}

static int queue_secret(struct release *rel, struct conn *c, const struct policy_grant_ref *g,
			enum audit_decision ok, struct held *h)
{
	cleanup_ks_secret struct ks_secret *owned = NULL; /* when not cached */
	struct ks_secret *s = NULL;
	bool is_owned = false;
	char why[256];
	int r = get_secret(rel, g->grant->secret, &s, &is_owned);

	if (r == -EBUSY)
		return r; /* answered busy by the caller; nothing was decided */
	if (r < 0) {
		snprintf(why, sizeof(why), "%s%s", r == -ENOENT ? "not in store" : "store error: ",
			 r == -ENOENT ? "" : ks_strerror(r));
		conn_audit(rel->audit, c, g->rule->name, g->grant->secret, 0, AUDIT_DENY, why);
		return queue_denied(rel, c, g->grant->secret, why);
	}
	if (is_owned)
		owned = s;
	if ((g->grant->delivery & PROTO_D_ENV) && env_refused(s, why, sizeof(why))) {
		conn_audit(rel->audit, c, g->rule->name, g->grant->secret, s->version, AUDIT_DENY,
			   why);
		return queue_denied(rel, c, g->grant->secret, why);
	}
	r = queue_value(rel, c, g, s, ok);
	if (r == 0)
		h->version = s->version;
	if (r == -EIO)
		return queue_denied(rel, c, g->grant->secret, "audit log unavailable");
	return r < 0 ? r : 1;
}

/* ---- template grants (docs/templates.md): rendered from current values ---- */

struct tmpl_vals {
	struct ks_secret *s[TMPL_MAX_NAMES];
	bool owned[TMPL_MAX_NAMES];
	const uint8_t *v[TMPL_MAX_NAMES];
	size_t len[TMPL_MAX_NAMES];
	uint64_t ver[TMPL_MAX_NAMES];
	size_t n;
};

static void tmpl_vals_free(struct tmpl_vals *tv)
{
	for (size_t i = 0; i < tv->n; i++)
		if (tv->owned[i])
			ks_secret_free(tv->s[i]);
	tv->n = 0;
}

/* The current value of every secret t uses; a reason in why when one is
 * missing or unreadable (-ENOENT), -EBUSY as get_secret. */
static int tmpl_collect(struct release *rel, const struct policy_grant *g, struct tmpl_vals *tv,
			char *why, size_t len)
{
	const struct tmpl *t = g->tmpl;
	int r;

	for (size_t i = 0; i < t->n_names; i++) {
		r = get_secret(rel, t->names[i], &tv->s[i], &tv->owned[i]);
		if (r == -EBUSY)
			return r;
		if (r < 0) {
			snprintf(why, len, "template %s: secret '%s' %s%s", g->template,
				 t->names[i], r == -ENOENT ? "not in store" : "store error: ",
				 r == -ENOENT ? "" : ks_strerror(r));
			return -ENOENT;
		}
		tv->n++;
		tv->v[i] = tv->s[i]->data;
		tv->len[i] = tv->s[i]->len;
		tv->ver[i] = tv->s[i]->version;
	}
	return 0;
}

/* "template db.tmpl (url) uses pay/db v3, pay/host v1": the audit reason. */
static void tmpl_uses(const struct policy_grant *g, const struct tmpl_vals *tv, char *buf,
		      size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	policy_appendf(buf, len, &off, "template %s (%s) uses", g->template,
		       tmpl_escape_name((enum tmpl_escape)g->escape));
	for (size_t i = 0; i < g->tmpl->n_names; i++)
		policy_appendf(buf, len, &off, "%s %s v%llu", i ? "," : "", g->tmpl->names[i],
			       (unsigned long long)tv->ver[i]);
}

/* Render into sodium memory, audit, queue; the rendered bytes are wiped. */
static int queue_rendered(struct release *rel, struct conn *c, const struct policy_grant_ref *g,
			  const struct tmpl_vals *tv, enum audit_decision ok, struct held *h)
{
	const struct policy_grant *pg = g->grant;
	uint64_t ver = tmpl_version(pg->tmpl, tv->ver);
	size_t n = 0, bad = 0, need;
	uint8_t *out, *p;
	char why[PROTO_MAX_REASON + 1];
	struct ks_secret view; /* the rendered bytes, as a value to encode */
	ssize_t w;
	int r = tmpl_render_size(pg->tmpl, tv->v, tv->len, &n, &bad);

	if (r < 0) {
		snprintf(why, sizeof(why), "template %s: %s", pg->template,
			 r == -EFBIG ? "rendered file larger than 1 MiB"
				     : "a secret it uses is not valid UTF-8 (json escaping)");
		conn_audit(rel->audit, c, g->rule->name, pg->secret, 0, AUDIT_DENY, why);
		return queue_denied(rel, c, pg->secret, why);
	}
	if (!(out = sodium_malloc(n ? n : 1)))
		return -ENOMEM;
	r = tmpl_render(pg->tmpl, tv->v, tv->len, out, n, &n);
	view = (struct ks_secret){ .data = out, .len = n, .version = ver };
	if (r == 0 && (pg->delivery & PROTO_D_ENV) && env_refused(&view, why, sizeof(why))) {
		sodium_free(out);
		conn_audit(rel->audit, c, g->rule->name, pg->secret, ver, AUDIT_DENY, why);
		return queue_denied(rel, c, pg->secret, why);
	}
	need = value_frame_size(c, pg, n);
	if (r == 0)
		r = conn_reserve(rel->cs, c, need, &p);
	tmpl_uses(pg, tv, why, sizeof(why));
	if (r == 0 && conn_audit(rel->audit, c, g->rule->name, pg->secret, ver, ok, why) < 0)
		r = -EIO;
	if (r == 0) {
		w = encode_value(c, pg, &view, p, need);
		r = w < 0 ? (int)w : 0;
		if (r == 0)
			conn_commit(c, (size_t)w);
	}
	sodium_free(out);
	if (r == 0)
		h->version = ver;
	if (r == -EIO)
		return queue_denied(rel, c, pg->secret, "audit log unavailable");
	return r < 0 ? r : 1;
}

static int queue_template(struct release *rel, struct conn *c, const struct policy_grant_ref *g,
			  enum audit_decision ok, struct held *h)
{
	struct tmpl_vals tv = { .n = 0 };
	char why[PROTO_MAX_REASON + 1];
	int r;

	if (!g->grant->tmpl) /* parsed without its directory (tmpl_policy_load) */
		return queue_denied(rel, c, g->grant->secret, "template not loaded");
	r = tmpl_collect(rel, g->grant, &tv, why, sizeof(why));
	if (r == -ENOENT) {
		conn_audit(rel->audit, c, g->rule->name, g->grant->secret, 0, AUDIT_DENY, why);
		r = queue_denied(rel, c, g->grant->secret, why);
	} else if (r == 0) {
		r = queue_rendered(rel, c, g, &tv, ok, h);
	}
	tmpl_vals_free(&tv);
	return r;
}

int release_secret(struct release *rel, const struct policy *pol, struct conn *c,
		   const struct policy_eval *ev, const char *name, enum audit_decision ok,
		   struct held *ret_held)
{
	const struct policy_grant_ref *g;
	struct policy_identity id;
	char why[PROTO_MAX_REASON + 1];

	memset(ret_held, 0, sizeof(*ret_held));
	if (!proto_secret_name_valid(name)) {
		conn_audit(rel->audit, c, NULL, NULL, 0, AUDIT_DENY, "invalid secret name");
		return queue_denied(rel, c, name, "invalid secret name");
	}
	g = policy_eval_find(ev, name);
	if (!g) {
		conn_identity(c, &id);
		policy_deny_reason(pol, ev, &id, name, why, sizeof(why));
		conn_audit(rel->audit, c, NULL, name, 0, AUDIT_DENY, why);
		rel->denied++;
		return queue_denied(rel, c, name, why);
	}
	if (c->proto < 2 && g->grant->delivery != PROTO_D_FILE) {
		snprintf(why, sizeof(why),
			 "the grant (rule %s) delivers it as env/env_file, which needs protocol 2; "
			 "this keyhole-shim speaks protocol 1: upgrade keyhole-shim in the image",
			 g->rule->name);
		conn_audit(rel->audit, c, g->rule->name, name, 0, AUDIT_DENY, why);
		rel->denied++;
		return queue_denied(rel, c, name, why);
	}
	snprintf(ret_held->name, sizeof(ret_held->name), "%s", g->grant->secret);
	snprintf(ret_held->file, sizeof(ret_held->file), "%s", g->grant->file);
	ret_held->delivery = policy_grant_delivery_key(g->grant);
	rel->released++;
	if (g->grant->template)
		return queue_template(rel, c, g, ok, ret_held);
	return queue_secret(rel, c, g, ok, ret_held);
}

int release_revoke(struct release *rel, struct conn *c, const struct held *h, const char *rule,
		   const char *why)
{
	uint8_t f[PROTO_HDR + 5 + 2 * PROTO_MAX_NAME];
	ssize_t n;
	int r;

	conn_audit(rel->audit, c, rule, h->name, h->version, AUDIT_REVOKE, why);
	n = proto_encode_revoked(f, sizeof(f), h->name, h->file);
	if (n < 0)
		return (int)n;
	r = conn_queue(rel->cs, c, f, (size_t)n);
	return r < 0 ? r : 1;
}

int release_end(struct release *rel, struct conn *c, uint32_t count)
{
	uint8_t f[PROTO_HDR + 5];
	ssize_t n = proto_encode_end(f, sizeof(f), count);

	return n < 0 ? (int)n : conn_queue(rel->cs, c, f, (size_t)n);
}
