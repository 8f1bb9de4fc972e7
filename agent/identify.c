/* SPDX-License-Identifier: MIT */
/* See identify.h. An engine answer is used only after two checks on the
 * kernel's word: the caller's cgroup equals the cgroup of the container's
 * init (a container started with --cgroup-parent below another one sits
 * in a nested cgroup: refused), and the caller shares the init's pid
 * namespace. A cached entry that fails them (the container restarted, an
 * id reused) is dropped and looked up once more before refusing. A pod's
 * container is looked up in the kubelet's pod list (kubelet_cache.c says
 * when to read it again); the kubelet thread only ever reads the list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "identify.h"

int identify_init(struct identify *ix, struct engine *eng, struct kubelet *kube)
{
	int r = 0;

	memset(ix, 0, sizeof(*ix));
	ix->eng = eng;
	ix->engine_ok = true;
	ix->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ix->efd < 0)
		return -errno;
	if (eng)
		r = lookup_new_engine(eng, ix->efd, &ix->lk);
	if (r == 0 && kube)
		r = lookup_new_kubelet(kube, ix->efd, &ix->klk);
	if (r < 0)
		identify_fini(ix);
	return r;
}

void identify_fini(struct identify *ix)
{
	lookup_free(ix->lk); /* joins the threads: their clients are free again */
	lookup_free(ix->klk);
	ix->lk = ix->klk = NULL;
	kubelet_cache_clear(&ix->pods);
	if (ix->efd >= 0)
		close(ix->efd);
	ix->efd = -1;
}

int identify_fd(const struct identify *ix)
{
	return ix->efd;
}

/* A pod's container, with --kubelet: the kubelet is asked, not the engine. */
static bool is_pod(const struct identify *ix, const struct conn *c)
{
	return ix->klk && c->peer.cg.pod_uid[0];
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

/* Posture from the kernel: a container init sharing the agent's (the
 * host's) pid, ipc or network namespace is marked so, whatever the engine
 * reported. */
static int host_namespaces(struct conn *c)
{
	int ns = peer_host_ns(c->meta.pid);

	if (ns < 0)
		return -ESTALE; /* the init is gone */
	c->meta.host_pid |= (ns & PEER_NS_PID) != 0;
	c->meta.host_ipc |= (ns & PEER_NS_IPC) != 0;
	c->meta.host_net |= (ns & PEER_NS_NET) != 0;
	return 0;
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
	return host_namespaces(c);
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

static int engine_begin(struct identify *ix, struct conn *c)
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

/* Answer pod caller c from the pod list: 0 done (c->k8s, or c->meta_err:
 * rules that need the pod fail closed), 1 the list must be read first,
 * -EPERM, -EAGAIN (BUSY: not listed yet). */
static int pod_from_cache(struct identify *ix, struct conn *c)
{
	const struct cg_identity *cg = &c->peer.cg;
	struct k8s_meta m;
	int r = kubelet_cache_find(&ix->pods, cg->pod_uid, cg->id, clock_ms(), &m);

	if (r == -EINPROGRESS)
		return 1;
	if (r == -EPERM) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "pod uid %.40s in the cgroup is not the "
			 "uid of the pod the kubelet lists container %.12s in",
			 cg->pod_uid, cg->id);
		return -EPERM;
	}
	if (r == -ENOENT) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "the kubelet does not list container %.12s (yet): retry", cg->id);
		return -EAGAIN;
	}
	if (r < 0) {
		snprintf(c->meta_err, sizeof(c->meta_err), "kubelet %s: %s",
			 r == -EBADMSG	? "reply malformed"
			 : r == -EACCES ? "refused our credentials"
					: "unreachable",
			 strerror(-r));
		return 0;
	}
	if (!(c->k8s = malloc(sizeof(*c->k8s)))) {
		k8s_meta_clear(&m);
		snprintf(c->meta_err, sizeof(c->meta_err), "out of memory");
		return 0;
	}
	*c->k8s = m;
	return 0;
}

/* From the list, else ask the kubelet thread for it (one request however
 * many callers wait: the key is the same) and wait. */
static int pod_begin(struct identify *ix, struct conn *c)
{
	int r = pod_from_cache(ix, c);

	if (r != 1)
		return r;
	if (lookup_submit(ix->klk, LOOKUP_KUBELET_KEY) < 0) {
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "kubelet busy: too many lookups waiting");
		return 0;
	}
	c->identifying = true;
	return 1;
}

static int begin(struct identify *ix, struct conn *c)
{
	if (is_pod(ix, c))
		return pod_begin(ix, c);
	return ix->lk ? engine_begin(ix, c) : 0;
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

bool identify_waits_on_kubelet(const struct identify *ix, const struct conn *c)
{
	return c->identifying && is_pod(ix, c);
}

static void take(struct identify *ix, struct lookup_result *res, uint64_t now)
{
	if (res->rc == 0 && (!res->meta.running || res->meta.pid <= 0))
		res->rc = -ESRCH;
	ix->engine_ok =
		res->rc == 0 || res->rc == -ENOENT || res->rc == -ESRCH || res->rc == -EBADMSG;
	if (res->rc == 0) {
		engine_cache_put(ix->eng, &res->meta);
		fail_drop(ix, res->key);
	} else {
		fail_put(ix, res->key, res->rc, now);
	}
	container_meta_clear(&res->meta);
}

void identify_collect(struct identify *ix)
{
	struct lookup_result res;
	uint64_t cnt, now = clock_ms();
	/* reset the count first: a result queued after this wakes the loop again */
	ssize_t n = read(ix->efd, &cnt, sizeof(cnt));

	(void)n;
	while (ix->lk && lookup_next(ix->lk, &res) == 1)
		take(ix, &res, now);
	while (ix->klk && lookup_next(ix->klk, &res) == 1)
		kubelet_cache_put(&ix->pods, res.rc, res.pods, res.took_ms, now);
}

/* explain's pod: the list, else one blocking read through kube2 (the
 * loop's own client; the kubelet thread's is never touched here). */
static int pod_now(struct identify *ix, struct kubelet *kube2, struct conn *c)
{
	json_t *items = NULL;
	uint64_t t0;
	int r = pod_from_cache(ix, c);

	if (r == 1 && kube2) {
		t0 = clock_ms();
		r = kubelet_fetch(kube2, &items);
		kubelet_cache_put(&ix->pods, r, items, clock_ms() - t0, clock_ms());
		r = pod_from_cache(ix, c);
	}
	if (r == 1) { /* no client, or a refresh due right after one: never wait */
		snprintf(c->meta_err, sizeof(c->meta_err),
			 "the kubelet's pod list is not read yet");
		return -EAGAIN;
	}
	return r;
}

static int engine_now(struct identify *ix, struct engine *eng2, struct conn *c)
{
	struct lookup_result res = { .rc = 0 };
	int r = from_cache(ix, c);

	if (r != 1)
		return r;
	snprintf(res.key, sizeof(res.key), "%s", c->peer.cg.id);
	res.rc = engine_fetch(eng2, res.key, &res.meta);
	take(ix, &res, clock_ms());
	r = from_cache(ix, c);
	return r == 1 ? -EPERM : r;
}

int identify_now(struct identify *ix, struct engine *eng2, struct kubelet *kube2, struct conn *c)
{
	c->id_tries = 0;
	c->meta_err[0] = '\0';
	if (is_pod(ix, c))
		return pod_now(ix, kube2, c);
	return ix->lk && eng2 ? engine_now(ix, eng2, c) : 0;
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
