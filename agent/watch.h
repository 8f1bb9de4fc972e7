/* SPDX-License-Identifier: MIT */
/* Watchers: connections that asked with WATCH stay open and are resynced
 * (new versions, new grants, revocations) after a store change or policy
 * reload. */
#ifndef KH_WATCH_H
#define KH_WATCH_H

#include "agent.h"

/* Admit c as a watcher before its first batch is released: refused with
 * -EPERM when nothing is granted to it, -EBUSY past its identity's watcher
 * cap; 0 and c counted as a watcher otherwise. */
int watch_admit(struct agent *a, struct conn *c, const struct policy_eval *ev);
/* Turn c into a watcher of rq's names, holding held[0..n_held). */
int watch_start(struct agent *a, struct conn *c, const struct proto_request *rq,
		const struct held *held, size_t n_held);
/* Resync every watcher; why goes to the log on failure. Watchers in
 * engine-identified containers are re-identified first: one lookup per
 * distinct container on the lookup thread; the push waits for the answers
 * (the loop does not), at most WATCH_IDENTIFY_MS, then whoever has no
 * answer fails closed. Requests made while a push waits join it. */
#define WATCH_IDENTIFY_MS 3000u /* the engine's 2 s timeout, plus margin */
void watch_resync_all(struct agent *a, const char *why);
/* Lookups finished (after identify_collect): push if all answers are in. */
void watch_identified(struct agent *a);
/* Milliseconds until a waiting push is due (-1: none waits), and the due
 * push itself. */
int watch_timeout(const struct agent *a, uint64_t now);
void watch_tick(struct agent *a, uint64_t now);
/* Free the resync state (exit). */
void watch_fini(struct agent *a);

#endif
