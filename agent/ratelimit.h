/* SPDX-License-Identifier: MIT */
/* Per-identity limits: a token bucket for new connections, and counts of
 * the connections and watchers each identity holds now. The key is
 * "<runtime>:<container id>" for a container and "host:uid:<N>" for a host
 * process, so one flooding identity cannot starve the others. The table
 * has a fixed size (twice the agent's connection cap, at least 4096): an
 * identity that holds connections is never evicted; one that holds none is
 * recycled least-recently-used first. */
#ifndef KH_RATELIMIT_H
#define KH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rl_table;
struct rl_ident; /* one identity's entry; stable while it holds a connection */

/* rate 0 = no token bucket; slots = the most connections that can be held
 * at once (the table is sized from it). */
struct rl_table *rl_new(unsigned rate, unsigned burst, unsigned slots);
void rl_free(struct rl_table *t);
/* true = allowed (one token taken). */
bool rl_take(struct rl_table *t, const char *key, uint64_t now_ms);

/* Count one more connection for key, refused with -EBUSY when key already
 * holds max (0 = no per-identity cap) or -ENOSPC when the table is full of
 * identities that hold connections. *ret is released by rl_conn_put. */
int rl_conn_get(struct rl_table *t, const char *key, uint64_t now_ms, unsigned max,
		struct rl_ident **ret);
void rl_conn_put(struct rl_ident *id);
/* The connection counted on id becomes a watcher: -EBUSY past max (0 = no
 * cap). rl_conn_put(watching = true) releases both counts. */
int rl_watch_get(struct rl_ident *id, unsigned max);
void rl_watch_put(struct rl_ident *id);
unsigned rl_conns(const struct rl_ident *id);

#endif
