/* SPDX-License-Identifier: MIT */
/* Slow lookups off the event loop (ntpd's DNS-in-another-process rule):
 * one worker thread per source owns that source's HTTP client and does
 * the blocking call, the engine's GET /containers/ID/json or the kubelet's
 * GET /pods, so a hung kubelet cannot hold up engine lookups, nor the other
 * way round. The loop submits keys and collects results when the eventfd
 * it handed in polls readable. Nothing else is shared: the queues are the
 * only state both threads touch, under the lookup's mutex. A worker blocks
 * every signal (the loop's signalfd must get them). */
#ifndef KH_LOOKUP_H
#define KH_LOOKUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "kubelet.h"

#define LOOKUP_QUEUE 64u	  /* keys waiting or in flight, per source */
#define LOOKUP_KUBELET_KEY "pods" /* the kubelet's one job: the node's pod list */

struct lookup;

struct lookup_result {
	char key[65];		    /* a container id; LOOKUP_KUBELET_KEY */
	int rc;			    /* engine_fetch's or kubelet_fetch's result */
	uint64_t took_ms;	    /* how long the call took */
	struct container_meta meta; /* engine, rc == 0: the receiver owns it */
	json_t *pods;		    /* kubelet, rc == 0: the items; the receiver's reference */
};

/* Start the worker for engine e or kubelet k (borrowed: the worker is the
 * only user of its HTTP client until lookup_free). efd (borrowed) is
 * written once per finished lookup; its owner resets it (a read) before
 * taking results with lookup_next, so one eventfd serves several lookups. */
int lookup_new_engine(struct engine *e, int efd, struct lookup **ret);
int lookup_new_kubelet(struct kubelet *k, int efd, struct lookup **ret);
/* Stops the worker (waits at most one timeout of its source) and frees
 * results not taken. NULL is fine. */
void lookup_free(struct lookup *l);
/* Queue key unless it is already queued or in flight: 0, or -EAGAIN when
 * LOOKUP_QUEUE keys are outstanding. */
int lookup_submit(struct lookup *l, const char *key);
/* Take one finished lookup: 1 (filled), or 0 when none is left. */
int lookup_next(struct lookup *l, struct lookup_result *ret);

#endif
