/* SPDX-License-Identifier: MIT */
/* Watchers: connections that asked with WATCH stay open; after a store
 * change (inotify via ks_watch_fd) or a policy reload each one is resynced:
 * the secrets it should hold now (its grants, limited to the names it asked
 * for) are compared with what it was sent, and the difference is pushed as
 * one batch: SECRET for new versions and new grants, REVOKED for grants
 * that are gone (or secrets removed from the store), then END.
 * A resync runs in three parts, top to bottom in this file:
 *   resync_one    what one watcher must be sent (per-watcher decision);
 *   push_all      every watcher decided, audited in one write, then written;
 *   watch_round   fresh container identities before push_all (the engine
 *                 asked again, on the lookup thread; the loop never waits). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
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

/* Watchers that share an identity share one policy evaluation per resync:
 * the policy reads the peer's uid, gid and cgroup, the container's metadata
 * and the engine error, nothing per process. A few recent evaluations are
 * kept (watchers of one identity tend to be neighbours in the list); a miss
 * only costs an evaluation. */
#define EVCACHE_N 16u

struct evcache {
	const struct conn *who[EVCACHE_N];
	struct policy_eval *ev[EVCACHE_N];
	unsigned n, next;
};

static bool same_identity(const struct conn *x, const struct conn *y)
{
	const struct peer *p = &x->peer, *q = &y->peer;

	if (x->k8s || y->k8s || p->uid != q->uid || p->gid != q->gid ||
	    p->cg.runtime != q->cg.runtime || strcmp(p->cg.id, q->cg.id) != 0 ||
	    strcmp(p->cg.pod_uid, q->cg.pod_uid) != 0 || strcmp(p->cg.path, q->cg.path) != 0 ||
	    x->has_meta != y->has_meta || strcmp(x->meta_err, y->meta_err) != 0)
		return false;
	/* copies of one cache entry: same bytes, same (immutable) JSON objects */
	return !x->has_meta || memcmp(&x->meta, &y->meta, sizeof(x->meta)) == 0;
}

static const struct policy_eval *evcache_get(struct evcache *ec, const struct policy *pol,
					     const struct conn *c)
{
	struct policy_identity id;
	struct policy_eval *ev = NULL;
	unsigned slot;

	for (unsigned i = 0; i < ec->n; i++)
		if (!ec->who[i]->dead && same_identity(ec->who[i], c))
			return ec->ev[i];
	conn_identity(c, &id);
	if (policy_eval(pol, &id, &ev) < 0)
		return NULL;
	slot = ec->n < EVCACHE_N ? ec->n++ : ec->next++ % EVCACHE_N;
	policy_eval_free(ec->ev[slot]);
	ec->who[slot] = c;
	ec->ev[slot] = ev;
	return ev;
}

static void evcache_free(struct evcache *ec)
{
	for (unsigned i = 0; i < ec->n; i++)
		policy_eval_free(ec->ev[i]);
	ec->n = 0;
}

static int resync_one(struct agent *a, struct conn *c, const struct policy_eval *ev,
		      const struct ks_info *inf, size_t ninf)
{
	cleanup_free struct held *keep = NULL;
	size_t nkeep = 0;
	int count, r = 0;

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
	if (count < 0)
		return count;
	free(c->held);
	c->held = steal_pointer(&keep);
	c->n_held = nkeep;
	return count;
}

/* --- The push: decide everything, audit it in one write, then write the
 * frames. Deciding (policy, store, audit lines, encoding) runs before any
 * watcher is woken: on a busy machine every woken watcher competes with the
 * agent for the CPU, and interleaving the two made the agent wait for
 * hundreds of them (profile: docs/performance.md). Frames are staged in one
 * sodium_malloc arena (they carry values), at most WATCH_STAGE_MAX bytes;
 * past that, the batch so far is committed and a new one begun. --- */
#define WATCH_STAGE_MAX (4u << 20)

struct staged {
	struct conn *c;
	size_t off, len; /* in the arena; len 0: c's own queue holds its frames */
};

struct batch {
	uint8_t *buf; /* sodium_malloc */
	size_t len, cap;
	struct staged *st;
	size_t n, stcap;
};

static int batch_room(struct batch *b, size_t need)
{
	size_t cap = b->cap ? b->cap : CONN_POOL_BUF * 16;
	uint8_t *n;

	if (b->len + need <= b->cap)
		return 0;
	while (cap < b->len + need)
		cap *= 2;
	if (cap > WATCH_STAGE_MAX)
		return -ENOBUFS;
	if (!(n = sodium_malloc(cap)))
		return -ENOMEM;
	if (b->len)
		memcpy(n, b->buf, b->len);
	sodium_free(b->buf); /* wipes */
	b->buf = n;
	b->cap = cap;
	return 0;
}

/* Take c's frames queued since offset from into the batch; when they do
 * not fit (a large value), they stay in c's own queue. */
static int batch_add(struct batch *b, struct conn_set *cs, struct conn *c, size_t from)
{
	struct staged *st = &b->st[b->n];
	ssize_t n = -ENOBUFS;

	if (b->n == b->stcap)
		return -ENOBUFS;
	*st = (struct staged){ .c = c, .off = b->len };
	if (batch_room(b, c->wlen - from) == 0)
		n = conn_take_output(cs, c, from, b->buf + b->len, b->cap - b->len);
	if (n > 0) {
		st->len = (size_t)n;
		b->len += (size_t)n;
	}
	b->n++;
	return 0;
}

/* Write the held audit lines, then, only if that worked, every frame. */
static void batch_commit(struct agent *a, struct batch *b)
{
	int r = audit_release(a->audit);

	if (r < 0)
		log_errno(-r, "audit log write failed: watchers of this push are closed unserved");
	for (size_t i = 0; i < b->n; i++) {
		struct conn *c = b->st[i].c;
		if (c->dead)
			continue;
		if (r < 0) {
			(void)conn_take_output(&a->cs, c, c->woff, NULL, 0);
			conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "audit log unavailable");
		} else if (b->st[i].len) {
			if (conn_send(&a->cs, c, b->buf + b->st[i].off, b->st[i].len) < 0 &&
			    !c->dead) /* could not queue the rest: it must not lose frames */
				conn_send_error(&a->cs, c, PROTO_E_BUSY, "push not delivered");
		} else {
			conn_flush(&a->cs, c);
		}
	}
	if (b->buf)
		sodium_memzero(b->buf, b->len);
	b->len = b->n = 0;
	audit_hold(a->audit);
}

/* Decide and stage one watcher's push. */
static void push_one(struct agent *a, struct batch *b, struct conn *c, const struct policy_eval *ev,
		     const struct ks_info *inf, size_t ninf)
{
	size_t from = c->wlen;
	int r = ev ? resync_one(a, c, ev, inf, ninf) : -ENOMEM;

	if (r > 0 && (r = release_end(&a->rel, c, (uint32_t)r)) == 0)
		r = 1;
	if (r <= 0) {
		if (r < 0) { /* nothing of it goes out; its audit lines stay (over-report) */
			(void)conn_take_output(&a->cs, c, from, NULL, 0);
			conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "push failed");
		}
		return;
	}
	if (c->wlen - from > WATCH_STAGE_MAX - b->len || b->n == b->stcap)
		batch_commit(a, b);
	batch_add(b, &a->cs, c, from);
}

/* Push to every watcher what changed for it, with the identities it has now. */
static void push_all(struct agent *a, const char *why)
{
	struct ks_info *inf = NULL;
	struct evcache ec = { .n = 0 };
	struct batch b = { .stcap = a->cs.n_watchers ? a->cs.n_watchers : 1 };
	size_t ninf = 0;
	int r = ks_list(a->ks, &inf, &ninf);

	if (r < 0 || !(b.st = calloc(b.stcap, sizeof(*b.st)))) {
		log_errno(r < 0 ? -r : ENOMEM, "%s: watchers not resynced", why);
		free(inf);
		return;
	}
	audit_hold(a->audit);
	for (struct conn *c = a->cs.head, *next; c; c = next) {
		next = c->next;
		if (!c->watching || c->dead)
			continue;
		if (peer_check_alive(&c->peer) < 0) {
			conn_close(&a->cs, c);
			continue;
		}
		push_one(a, &b, c, evcache_get(&ec, a->pol, c), inf, ninf);
	}
	batch_commit(a, &b);
	(void)audit_release(a->audit); /* batch_commit held it again: nothing is held */
	sodium_free(b.buf);
	free(b.st);
	evcache_free(&ec);
	free(inf);
}

/* --- Fresh identities before a push (docs/attestation.md "cache
 * freshness"): a container's name and labels can change under a running
 * watcher (docker rename), so every resync asks the engine again, once per
 * distinct container, on the lookup thread; the push waits (the loop does
 * not) until every answer is back or WATCH_IDENTIFY_MS passed; a container
 * without an answer then fails closed (its rules needing metadata do not
 * match: its grants are revoked). --- */
struct watch_round {
	const char *why; /* waiting for identities before this push; NULL: idle */
	uint64_t until_ms;
	char (*ids)[CG_ID_LEN + 1]; /* distinct engine-identified containers */
	bool *asked;
	size_t n, cap;
};

static bool engine_identified(const struct agent *a, const struct conn *c)
{
	return a->eng && c->watching && !c->dead && c->peer.cg.runtime != RT_HOST && !c->k8s &&
	       !(a->kube && c->peer.cg.pod_uid[0]);
}

static int round_add(struct watch_round *w, const char *id)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->ids[i], id) == 0)
			return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		void *ids = realloc(w->ids, cap * sizeof(*w->ids));
		if (!ids)
			return -ENOMEM;
		w->ids = ids;
		void *asked = realloc(w->asked, cap * sizeof(*w->asked));
		if (!asked)
			return -ENOMEM;
		w->asked = asked;
		w->cap = cap;
	}
	snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s", id);
	w->asked[w->n++] = false;
	return 0;
}

/* Ask for what is not asked yet (the lookup queue is bounded); true when
 * every container has its answer. */
static bool round_progress(struct agent *a, struct watch_round *w)
{
	bool all = true;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->asked[i]) {
			w->asked[i] = identify_refresh(&a->idf, w->ids[i]) == 0;
			all = false;
		} else if (all && !identify_answered(&a->idf, w->ids[i])) {
			all = false;
		}
	}
	return all;
}

/* The push itself, once identities are fresh (or their time is up). */
static void round_push(struct agent *a)
{
	struct watch_round *w = a->watch;
	const char *why = w->why;

	w->why = NULL;
	w->n = 0;
	for (struct conn *c = a->cs.head; c; c = c->next)
		if (engine_identified(a, c))
			identify_recheck(&a->idf, c);
	push_all(a, why);
}

void watch_resync_all(struct agent *a, const char *why)
{
	struct watch_round *w = a->watch;

	if (!a->eng) { /* nothing to look up */
		push_all(a, why);
		return;
	}
	if (!w && !(w = a->watch = calloc(1, sizeof(*w)))) {
		push_all(a, why); /* no memory to wait: push on what is known */
		return;
	}
	if (w->why)
		return; /* a push is already waiting; it lists the store when it runs */
	for (struct conn *c = a->cs.head; c; c = c->next)
		if (engine_identified(a, c) && round_add(w, c->peer.cg.id) < 0)
			break; /* out of memory: the rest fail closed at the recheck */
	if (!w->n) {
		push_all(a, why);
		return;
	}
	w->why = why;
	w->until_ms = clock_ms() + WATCH_IDENTIFY_MS;
	if (round_progress(a, w))
		round_push(a);
}

void watch_identified(struct agent *a)
{
	if (a->watch && a->watch->why && round_progress(a, a->watch))
		round_push(a);
}

int watch_timeout(const struct agent *a, uint64_t now)
{
	const struct watch_round *w = a->watch;

	if (!w || !w->why)
		return -1;
	return w->until_ms > now ? (int)(w->until_ms - now) : 0;
}

void watch_tick(struct agent *a, uint64_t now)
{
	if (a->watch && a->watch->why && now >= a->watch->until_ms)
		round_push(a);
}

void watch_fini(struct agent *a)
{
	if (!a->watch)
		return;
	free(a->watch->ids);
	free(a->watch->asked);
	free(a->watch);
	a->watch = NULL;
}
