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
	struct ks_writer *writer; /* signs writes, or NULL */
	bool check_sigs;	  /* a trust file was given */
	struct ks_trust trust;
	char *state_path; /* rollback marks, or NULL */
	bool state_readonly;
	json_t *state;
	void (*on_refusal)(const struct ks_refusal *r, void *arg);
	void *refusal_arg;
	bool watch_quiet; /* last ks_watch_drain saw only other files */
	int reload_err;	  /* what the last ks_reload that read returned */
};

/* store.c: run the reader checks (signature, rollback) on freshly decoded
 * records; old/n_old is the state held before (NULL at open). */
void ks_check_recs(struct ks_store *ks, struct ks_rec *recs, size_t n, struct ks_rec *old,
		   size_t n_old);

/* store.c: ks_reload that always reads the backend (writers after a
 * conflict), whatever the last ks_watch_drain said. */
int ks_reread(struct ks_store *ks, bool *ret_changed);

#endif
