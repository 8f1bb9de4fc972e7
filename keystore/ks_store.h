/* SPDX-License-Identifier: MIT */
/* struct ks_store, shared by store.c (lifecycle) and ops.c (record verbs).
 * recs is sorted by name; sk is NULL when opened public_only. */
#ifndef KH_KS_STORE_H
#define KH_KS_STORE_H

#include "ks_internal.h"

struct ks_store {
	struct ks_backend *be;
	struct ks_meta meta;
	uint8_t *sk; /* KS_SK_BYTES of sodium_malloc memory, or NULL */
	struct ks_rec *recs;
	size_t n;
};

#endif
