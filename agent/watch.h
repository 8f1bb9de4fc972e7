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
/* Resync every watcher; why goes to the log on failure. */
void watch_resync_all(struct agent *a, const char *why);

#endif
