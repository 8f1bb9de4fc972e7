/* SPDX-License-Identifier: MIT */
/* See identify.h. An engine answer is used only after two checks on the
 * kernel's word: the caller's cgroup equals the cgroup of the container's
 * init (a container started with --cgroup-parent below another one sits
 * in a nested cgroup: refused), and the caller shares the init's pid
 * namespace. A cached entry that fails them (the container restarted, an
 * id reused) is dropped and looked up once more before refusing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "identify.h"

int identify_init(struct identify *ix, struct engine *eng)
{
	memset(ix, 0, sizeof(*ix));
	ix->eng = eng;
	ix->engine_ok = true;
	return lookup_new(eng, &ix->lk);
}

void identify_fini(struct identify *ix)
{
	lookup_free(ix->lk);
	ix->lk = NULL;
}

int identify_fd(const struct identify *ix)
{
	return lookup_fd(ix->lk);
}

static struct identify_fail *fail_find(struct identify *ix, const char *id)
{
	for (size_t i = 0; i < ix->nfail; i++)
		if (strcmp(ix->fail[i].id, id) == 0)
			return &ix->fail[i];
	return NULL;
}

static void fail_drop(struct identify *ix, const char *id)
{
	struct identify_fail *f = fail_find(ix, id);

	if (f)
		*f = ix->fail[--ix->nfail];
}

/* Refused, timed out, unreachable: the engine's trouble, not an answer
 * about the container (unknown, not running, malformed). */
static bool engine_trouble(int rc)
{
	return rc != -ENOENT && rc != -ESRCH && rc != -EBADMSG;
}

/* Remember a failed lookup: engine trouble backs off (1 s doubling to
 * 30 s), an answer about the container (unknown, not running) for 1 s. */
static void fail_put(struct identify *ix, const char *id, int rc, uint64_t now)
{
	bool engine_down = engine_trouble(rc);
	struct identify_fail *f = fail_find(ix, id);
	uint64_t backoff = IDENTIFY_BACKOFF_MIN_MS;

	if (f && engine_down && f->rc == rc)
		backoff = f->backoff_ms * 2 > IDENTIFY_BACKOFF_MAX_MS ? IDENTIFY_BACKOFF_MAX_MS
								      : f->backoff_ms * 2;
	if (!f) {
		f = &ix->fail[ix->nfail < IDENTIFY_FAIL_N ? ix->nfail++ : now % IDENTIFY_FAIL_N];
		snprintf(f->id, sizeof(f->id), "%s", id);
	}
	f->rc = rc;
	f->backoff_ms = backoff;
	f->until_ms = now + backoff;
}

static void fail_reason(const struct identify_fail *f, struct conn *c)
{
	if (engine_trouble(f->rc))
		snprintf(c->meta_err, sizeof(c->meta_err), "engine unreachable: %s",
			 strerror(-f->rc));
	else
		snprintf(c->meta_err, sizeof(c->meta_err), "%s",
			 f->rc == -ENOENT  ? "container unknown to the engine"
			 : f->rc == -ESRCH ? "container not running"
					   : "engine reply malformed");
}

/* c->meta holds the engine's answer: is the caller that container? 0 yes,
 * -ESTALE the answer no longer fits (look again), -EPERM no. */
static int check_caller(struct conn *c)
{
	struct cg_identity init_cg;

	if (peer_read_cgroup(c->meta.pid, &init_cg) < 0)
		return -ESTALE; /* the init is gone: the container restarted or stopped */
	if (init_cg.runtime != c->peer.cg.runtime || strcmp(init_cg.id, c->peer.cg.id) != 0)
		return -ESTALE;
	if (strcmp(init_cg.path, c->peer.cg.path) != 0) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "caller's cgroup is not its container's: a cgroup nested below container "
			 "%.12s (is it another container started with --cgroup-parent?)",
			 c->peer.cg.id);
		return -EPERM;
	}
	if (peer_same_pidns(c->peer.pid, c->meta.pid) != 1) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "peer is not in the pid namespace of container %.12s", c->peer.cg.id);
		return -EPERM;
	}
	return 0;
}

/* Answer c from what is known now: 0 done, 1 must ask the engine, -EPERM. */
static int from_cache(struct identify *ix, struct conn *c)
{
	const struct identify_fail *f;
	int r;

	if (engine_cached(ix->eng, c->peer.cg.id, &c->meta) == 0) {
		r = check_caller(c);
		if (r == 0) {
			c->has_meta = true;
			return 0;
		}
		container_meta_clear(&c->meta);
		memset(&c->meta, 0, sizeof(c->meta));
		if (r == -EPERM)
			return r;
		engine_forget(ix->eng, c->peer.cg.id);
		if (c->id_tries++ >= 1) {
			snprintf(c->meta_err, sizeof(c->meta_err),
				 "peer is not in the pid namespace of container %.12s",
				 c->peer.cg.id);
			return -EPERM;
		}
		return 1;
	}
	f = fail_find(ix, c->peer.cg.id);
	if (f && clock_ms() < f->until_ms) {
		fail_reason(f, c);
		return 0;
	}
	return 1;
}

static int begin(struct identify *ix, struct conn *c)
{
	int r = from_cache(ix, c);

	if (r != 1)
		return r;
	if (lookup_submit(ix->lk, c->peer.cg.id) < 0) {
		snprintf(c->meta_err, sizeof(c->meta_err), "engine busy: too many lookups waiting");
		return 0; /* fail closed: rules that need metadata do not match */
	}
	c->identifying = true;
	return 1;
}

int identify_begin(struct identify *ix, struct conn *c)
{
	c->id_tries = 0;
	c->meta_err[0] = '\0';
	return begin(ix, c);
}

int identify_resume(struct identify *ix, struct conn *c)
{
	c->identifying = false;
	return begin(ix, c);
}

static void take(struct identify *ix, struct lookup_result *res, uint64_t now)
{
	if (res->rc == 0 && (!res->meta.running || res->meta.pid <= 0))
		res->rc = -ESRCH;
	ix->engine_ok =
		res->rc == 0 || res->rc == -ENOENT || res->rc == -ESRCH || res->rc == -EBADMSG;
	if (res->rc == 0) {
		engine_cache_put(ix->eng, &res->meta);
		fail_drop(ix, res->id);
	} else {
		fail_put(ix, res->id, res->rc, now);
	}
	container_meta_clear(&res->meta);
}

void identify_collect(struct identify *ix)
{
	struct lookup_result res;
	uint64_t now = clock_ms();

	while (lookup_next(ix->lk, &res) == 1)
		take(ix, &res, now);
}

int identify_now(struct identify *ix, struct engine *eng2, struct conn *c)
{
	struct lookup_result res = { .rc = 0 };
	int r;

	c->id_tries = 0;
	c->meta_err[0] = '\0';
	r = from_cache(ix, c);
	if (r != 1)
		return r;
	snprintf(res.id, sizeof(res.id), "%s", c->peer.cg.id);
	res.rc = engine_fetch(eng2, res.id, &res.meta);
	take(ix, &res, clock_ms());
	r = from_cache(ix, c);
	return r == 1 ? -EPERM : r;
}

int identify_pod(struct kubelet *kube, struct conn *c)
{
	const struct cg_identity *cg = &c->peer.cg;
	struct k8s_meta m;
	int r = kubelet_lookup(kube, cg->pod_uid, cg->id, &m);

	if (r == -EPERM) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "pod uid %.40s in the cgroup is not the "
			 "uid of the pod the kubelet lists container %.12s in",
			 cg->pod_uid, cg->id);
		return -EPERM;
	}
	if (r == -ENOENT || r == -EAGAIN) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "the kubelet does not list container "
			 "%.12s (yet): retry",
			 cg->id);
		return -EAGAIN;
	}
	if (r < 0)
		snprintf(c->meta_err, sizeof(c->meta_err), "kubelet %s: %s",
			 r == -EBADMSG	? "reply malformed"
			 : r == -EACCES ? "refused our credentials"
					: "unreachable",
			 strerror(-r));
	if (r == 0 && !(c->k8s = malloc(sizeof(*c->k8s)))) {
		k8s_meta_clear(&m);
		snprintf(c->meta_err, sizeof(c->meta_err), "out of memory");
	} else if (r == 0) {
		*c->k8s = m;
	}
	return 0;
}

/* --- Watcher resync (watch.c): identities re-read from the engine, one
 * lookup per container, never blocking the loop. --- */

int identify_refresh(struct identify *ix, const char *id)
{
	const struct identify_fail *f = fail_find(ix, id);

	if (f && engine_trouble(f->rc) && clock_ms() < f->until_ms)
		return 0; /* engine trouble: its backoff stands, the answer is that failure */
	engine_forget(ix->eng, id);
	fail_drop(ix, id);
	return lookup_submit(ix->lk, id);
}

bool identify_answered(struct identify *ix, const char *id)
{
	struct container_meta m;

	if (fail_find(ix, id))
		return true;
	if (engine_cached(ix->eng, id, &m) < 0)
		return false;
	container_meta_clear(&m);
	return true;
}

void identify_recheck(struct identify *ix, struct conn *c)
{
	const struct identify_fail *f;

	if (c->has_meta)
		container_meta_clear(&c->meta);
	memset(&c->meta, 0, sizeof(c->meta));
	c->has_meta = false;
	c->meta_err[0] = '\0';
	c->id_tries = 1; /* the resync asked already: no second lookup */
	if (from_cache(ix, c) != 1)
		return; /* c->meta, or c->meta_err (refused, or the engine's answer) */
	if ((f = fail_find(ix, c->peer.cg.id)))
		fail_reason(f, c);
	else
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "container metadata: the engine did not answer in time");
}
