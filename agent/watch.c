/* SPDX-License-Identifier: MIT */
/* Watchers: connections that asked with WATCH stay open; after a store
 * change (inotify via ks_watch_fd) or a policy reload each one is resynced:
 * the secrets it should hold now (its grants, limited to the names it asked
 * for) are compared with what it was sent, and the difference is pushed as
 * one batch: SECRET for new versions and new grants, REVOKED for grants
 * that are gone (or secrets removed from the store), then END. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "template_load.h"
#include "watch.h"

int watch_admit(struct agent *a, struct conn *c, const struct policy_eval *ev)
{
	bool root = c->peer.cg.runtime == RT_HOST && c->peer.uid == 0;
	int r;

	if (ev->n_grants == 0)
		return -EPERM;
	if (c->ident && (r = rl_watch_get(c->ident, root ? 0 : a->o.max_watch_ident)) < 0)
		return r;
	c->watching = true;
	a->cs.n_watchers++;
	return 0;
}

int watch_start(struct agent *a, struct conn *c, const struct proto_request *rq,
		const struct held *held, size_t n_held)
{
	(void)a;
	c->want_all = rq->n_names == 0;
	c->n_want = rq->n_names;
	c->want = calloc(c->n_want + 1, sizeof(*c->want));
	c->held = calloc(n_held + 1, sizeof(*c->held));
	if (!c->want || !c->held)
		return -ENOMEM;
	memcpy(c->want, rq->names, c->n_want * sizeof(*c->want));
	memcpy(c->held, held, n_held * sizeof(*held));
	c->n_held = n_held;
	return 0;
}

static int info_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct ks_info *)e)->name);
}

static uint64_t store_version(const struct ks_info *inf, size_t n, const char *name)
{
	const struct ks_info *i = bsearch(name, inf, n, sizeof(*inf), info_cmp);

	return i ? i->version : 0;
}

/* A template grant's version follows the secrets it uses (template_load.c). */
static uint64_t grant_version(const struct policy_grant *g, const struct ks_info *inf, size_t n)
{
	return g->tmpl ? tmpl_store_version(g->tmpl, inf, n) : store_version(inf, n, g->secret);
}

static const struct held *find_held(const struct conn *c, const char *name)
{
	for (size_t i = 0; i < c->n_held; i++)
		if (strcmp(c->held[i].name, name) == 0)
			return &c->held[i];
	return NULL;
}

static bool wanted(const struct conn *c, const char *name)
{
	if (c->want_all)
		return true;
	for (size_t i = 0; i < c->n_want; i++)
		if (strcmp(c->want[i], name) == 0)
			return true;
	return false;
}

/* Revocations: held grants no longer granted (or granted to another file,
 * or delivered another way: env / env_file changed by a reload). */
static int resync_revoke(struct agent *a, struct conn *c, const struct policy_eval *ev,
			 const struct ks_info *inf, size_t ninf, struct held *keep, size_t *nkeep)
{
	int count = 0, r;

	for (size_t i = 0; i < c->n_held; i++) {
		const struct held *h = &c->held[i];
		const struct policy_grant_ref *g = policy_eval_find(ev, h->name);
		bool gone = !g || strcmp(g->grant->file, h->file) != 0 ||
			    policy_grant_delivery_key(g->grant) != h->delivery;
		bool removed = !gone && h->version && !grant_version(g->grant, inf, ninf);
		if (!gone && !removed) {
			keep[(*nkeep)++] = *h;
			continue;
		}
		if (h->version) {
			r = release_revoke(&a->rel, c, h, g ? g->rule->name : NULL,
					   gone ? "grant revoked or changed by policy"
						: "removed from the store");
			if (r < 0)
				return r;
			count++;
		}
		if (removed) {
			keep[*nkeep] = *h;
			keep[(*nkeep)++].version = 0;
		}
	}
	return count;
}

static int resync_one(struct agent *a, struct conn *c, const struct ks_info *inf, size_t ninf)
{
	struct policy_identity id;
	struct policy_eval *ev = NULL;
	cleanup_free struct held *keep = NULL;
	size_t nkeep = 0;
	int count, r = 0;

	conn_identity(c, &id);
	if (policy_eval(a->pol, &id, &ev) < 0)
		return -ENOMEM;
	keep = calloc(c->n_held + ev->n_grants + 1, sizeof(*keep));
	count = keep ? resync_revoke(a, c, ev, inf, ninf, keep, &nkeep) : -ENOMEM;
	for (size_t i = 0; count >= 0 && i < ev->n_grants; i++) {
		const char *name = ev->grants[i].grant->secret;
		const struct held *h = find_held(c, name);
		uint64_t v = grant_version(ev->grants[i].grant, inf, ninf);
		bool was_kept = false;
		if (!wanted(c, name))
			continue;
		for (size_t k = 0; k < nkeep && !was_kept; k++)
			was_kept = strcmp(keep[k].name, name) == 0;
		if (was_kept && (!v || (h && h->version == v)))
			continue;
		if (!v) { /* newly granted, not in the store yet: remember it */
			snprintf(keep[nkeep].name, sizeof(keep->name), "%s", name);
			keep[nkeep].delivery = policy_grant_delivery_key(ev->grants[i].grant);
			snprintf(keep[nkeep++].file, sizeof(keep->file), "%s",
				 ev->grants[i].grant->file);
			continue;
		}
		for (size_t k = 0; k < nkeep; k++) /* drop the stale entry */
			if (strcmp(keep[k].name, name) == 0)
				keep[k] = keep[--nkeep];
		r = release_secret(&a->rel, a->pol, c, ev, name, AUDIT_PUSH, &keep[nkeep]);
		if (r < 0)
			count = r;
		else
			count += r;
		if (keep[nkeep].name[0])
			nkeep++;
	}
	policy_eval_free(ev);
	if (count < 0)
		return count;
	free(c->held);
	c->held = steal_pointer(&keep);
	c->n_held = nkeep;
	return count;
}

void watch_resync_all(struct agent *a, const char *why)
{
	struct ks_info *inf = NULL;
	size_t ninf = 0;
	int r = ks_list(a->ks, &inf, &ninf);

	if (r < 0) {
		log_errno(-r, "%s: cannot list the store; watchers not resynced", why);
		return;
	}
	for (struct conn *c = a->cs.head, *next; c; c = next) {
		next = c->next;
		if (!c->watching || c->dead)
			continue;
		if (peer_check_alive(&c->peer) < 0) {
			conn_close(&a->cs, c);
			continue;
		}
		r = resync_one(a, c, inf, ninf);
		if (r > 0 && release_end(&a->rel, c, (uint32_t)r) == 0)
			conn_flush(&a->cs, c);
		else if (r != 0)
			conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "push failed");
	}
	free(inf);
}
