/* SPDX-License-Identifier: MIT */
/* Who a container caller is, beyond the kernel's word: the engine's
 * metadata for the container id its cgroup names, accepted only when the
 * caller's cgroup is exactly that of the container's init (State.Pid) and
 * it shares the init's pid namespace. Engine answers come from the cache
 * or, off the event loop, from the lookup thread: a caller waits (its
 * connection paused) while its container is looked up; lookups of one id
 * are folded; failures are cached with backoff, so a hung engine costs one
 * timeout per container and backoff window, never the loop's time. Sets
 * c->meta or c->meta_err. Calls engine, lookup, peer and conn. */
#ifndef KH_IDENTIFY_H
#define KH_IDENTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "engine.h"
#include "kubelet.h"
#include "lookup.h"

#define IDENTIFY_FAIL_N 256u
#define IDENTIFY_BACKOFF_MIN_MS 1000u
#define IDENTIFY_BACKOFF_MAX_MS 30000u

struct identify_fail {
	char id[65];
	int rc;
	uint64_t until_ms, backoff_ms;
};

struct identify {
	struct engine *eng; /* borrowed; its cache is used on the loop thread only */
	struct lookup *lk;  /* owned: the thread that talks to the engine */
	struct identify_fail fail[IDENTIFY_FAIL_N];
	size_t nfail;
	bool engine_ok; /* the last answer came from the engine */
};

int identify_init(struct identify *ix, struct engine *eng);
void identify_fini(struct identify *ix);
/* Readable when lookups finished: call identify_collect, then resume. */
int identify_fd(const struct identify *ix);

/* Start identifying c: 0 done (c->meta or c->meta_err set), 1 waiting for
 * the engine (c->identifying set: pause the connection), -EPERM the caller
 * is not the container's init's cgroup or pid namespace, -EAGAIN too many
 * lookups outstanding. */
int identify_begin(struct identify *ix, struct conn *c);
/* Take finished lookups into the cache. */
void identify_collect(struct identify *ix);
/* For a waiting c after identify_collect: like identify_begin. */
int identify_resume(struct identify *ix, struct conn *c);
/* Without waiting (admin explain): cached answers, else one blocking ask of
 * eng2 (a second engine client, never the lookup thread's). */
int identify_now(struct identify *ix, struct engine *eng2, struct conn *c);

/* Watcher resync (watch.c). identify_refresh drops what is known about
 * container id (cache entry, failure) and asks the engine again (not while
 * an engine failure for id is backed off: that failure is the answer): 0,
 * or -EAGAIN when the lookup queue is full (submit again later).
 * identify_answered: the engine's answer (or failure) for id has come back
 * since. identify_recheck re-identifies a watcher from what is known now,
 * without asking: c->meta, or c->meta_err (refused, engine failure, or no
 * answer in time), so that rules needing metadata fail closed. */
int identify_refresh(struct identify *ix, const char *id);
bool identify_answered(struct identify *ix, const char *id);
void identify_recheck(struct identify *ix, struct conn *c);

/* A pod's container, from the kubelet (--kubelet): 0 (c->k8s or
 * c->meta_err set), -EPERM when the pod uid in its cgroup is not the pod's,
 * -EAGAIN when the kubelet does not list the container yet (a container's
 * first call usually comes before the kubelet's status caught up: answer
 * BUSY, the shim retries). Blocking (kubelet.c: 1 s connect, 3 s total,
 * pods cached 30 s, failures backed off): not yet on the lookup thread. */
int identify_pod(struct kubelet *kube, struct conn *c);

#endif
