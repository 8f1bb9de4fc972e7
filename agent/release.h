/* SPDX-License-Identifier: MIT */
/* Releasing secrets to one attested connection: for each name, decide by
 * the evaluated policy, audit the decision (a failed audit write denies),
 * then queue SECRET, DENIED or REVOKED. Values come from the keystore
 * through a small cache of opened secrets (sodium_malloc memory, flushed on
 * every store change) that struct release owns. Calls conn, policy,
 * keystore and audit; nothing above it. */
#ifndef KH_RELEASE_H
#define KH_RELEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "keystore.h"
#include "policy.h"

#define RELEASE_CACHE_N 256u
#define RELEASE_CACHE_MAX_VALUE (64u << 10)
/* Largest value an "env" grant delivers: MAX_ARG_STRLEN (128 KiB) less
 * room for the name and '='. */
#define RELEASE_MAX_ENV_VALUE ((128u << 10) - 256u)

struct release_cached {
	char name[PROTO_MAX_NAME + 1];
	struct ks_secret *s;
};

struct release {
	struct ks_store *ks; /* borrowed */
	struct audit *audit; /* borrowed; NULL = no audit log */
	struct conn_set *cs; /* borrowed */
	struct release_cached cache[RELEASE_CACHE_N];
	size_t cache_n;
	uint64_t released, denied; /* counters for status */
};

/* Decide and queue one secret for c under ev (the policy evaluated for c).
 * ok is the decision recorded for a release (AUDIT_RELEASE or AUDIT_PUSH).
 * *ret_held is what c now holds for that grant (name empty: nothing).
 * Returns 1 when a frame was queued, 0 when none, -errno. */
int release_secret(struct release *rel, const struct policy *pol, struct conn *c,
		   const struct policy_eval *ev, const char *name, enum audit_decision ok,
		   struct held *ret_held);
/* Audit and queue REVOKED for what c held; 1 queued, -errno. */
int release_revoke(struct release *rel, struct conn *c, const struct held *h, const char *rule,
		   const char *why);
/* Queue the END frame closing a batch of count frames. */
int release_end(struct release *rel, struct conn *c, uint32_t count);
/* Drop every cached value (after a store change, and at exit). */
void release_cache_flush(struct release *rel);

#endif
