/* SPDX-License-Identifier: MIT */
/* Who a container caller is, beyond the kernel's word. A pod's container
 * (a kubepods cgroup, with --kubelet): the kubelet's word on the pod that
 * lists its id, whose uid must be the one in the cgroup. Any other
 * container: the engine's metadata for its id, accepted only when the
 * caller's cgroup is exactly that of the container's init (State.Pid) and
 * it shares the init's pid namespace. Answers come from caches owned here
 * (on the loop thread) or, off the event loop, from one lookup thread per
 * source: a caller waits (its connection paused) while it is looked up;
 * concurrent lookups of one container, or of the pod list, are folded;
 * failures are cached with backoff, so a hung engine or kubelet costs one
 * timeout per backoff window, never the loop's time. Sets c->meta, c->k8s
 * or c->meta_err. Calls engine, kubelet, lookup, peer and conn. */
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
	struct engine *eng;	   /* borrowed; its cache is used on the loop thread only */
	struct lookup *lk;	   /* owned: the thread that talks to the engine, or NULL */
	struct lookup *klk;	   /* owned: the thread that talks to the kubelet, or NULL */
	struct kubelet_cache pods; /* the kubelet's pod list: loop thread only */
	int efd;		   /* both threads' results (eventfd): the loop polls it */
	struct identify_fail fail[IDENTIFY_FAIL_N];
	size_t nfail;
	bool engine_ok; /* the last answer came from the engine */
};

/* eng and kube (either may be NULL) are borrowed; from here on only their
 * lookup threads use their HTTP clients, until identify_fini. */
int identify_init(struct identify *ix, struct engine *eng, struct kubelet *kube);
void identify_fini(struct identify *ix);
/* Readable when lookups finished: call identify_collect, then resume. */
int identify_fd(const struct identify *ix);

/* Start identifying a container caller c: 0 done (c->meta, c->k8s or
 * c->meta_err set; rules that need what is missing fail closed), 1 waiting
 * (c->identifying set: pause the connection), -EPERM refused (the caller is
 * not the container's init's cgroup or pid namespace; the pod uid in its
 * cgroup is not the pod's), -EAGAIN the kubelet does not list the container
 * yet (a container's first call usually comes before the kubelet's status
 * caught up: answer BUSY, the shim retries). The reason is in c->meta_err. */
int identify_begin(struct identify *ix, struct conn *c);
/* Waiting for the kubelet: bounded by --kubelet-timeout (one refresh in
 * flight at most, every waiting caller answered when it ends), not by
 * the read deadline. */
bool identify_waits_on_kubelet(const struct identify *ix, const struct conn *c);
/* Take finished lookups into the caches. */
void identify_collect(struct identify *ix);
/* For a waiting c after identify_collect: like identify_begin. */
int identify_resume(struct identify *ix, struct conn *c);
/* Without waiting (admin explain): cached answers, else one blocking ask of
 * eng2 or kube2 (second clients, never the lookup threads'), unless the
 * source's last failure is still within its backoff. Like identify_begin,
 * never 1. */
int identify_now(struct identify *ix, struct engine *eng2, struct kubelet *kube2, struct conn *c);

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

#endif
