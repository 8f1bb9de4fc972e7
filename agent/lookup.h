/* SPDX-License-Identifier: MIT */
/* Engine lookups off the event loop (ntpd's DNS-in-another-process rule):
 * one worker thread owns the engine's HTTP client and does the blocking
 * GET /containers/ID/json; the loop submits ids and collects results when
 * lookup_fd() (an eventfd) polls readable. Nothing else is shared: the
 * queues are the only state both threads touch, under one mutex. The
 * worker blocks every signal (the loop's signalfd must get them). */
#ifndef KH_LOOKUP_H
#define KH_LOOKUP_H

#include <stdbool.h>

#include "engine.h"

#define LOOKUP_QUEUE 64u /* ids waiting or in flight */

struct lookup;

struct lookup_result {
	char id[65];
	int rc;			    /* engine_fetch's result */
	struct container_meta meta; /* on rc == 0; the receiver owns it */
};

/* Start the worker for engine e (borrowed; the worker is its only user of
 * e's HTTP client until lookup_free). */
int lookup_new(struct engine *e, struct lookup **ret);
/* Stops the worker (waits at most one engine timeout) and frees results. */
void lookup_free(struct lookup *l);
int lookup_fd(const struct lookup *l);
/* Queue id unless it is already queued or in flight: 0, or -EAGAIN when
 * LOOKUP_QUEUE ids are outstanding. */
int lookup_submit(struct lookup *l, const char *id);
/* Take one finished lookup: 1 (filled), or 0 when none is left. */
int lookup_next(struct lookup *l, struct lookup_result *ret);

#endif
