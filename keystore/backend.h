/* SPDX-License-Identifier: MIT */
/* Storage backend interface of the keystore (internal to keystore/).
 * A store is one meta document (store id, public key, wrapped private key)
 * plus one JSON document per record name. Backends move those documents;
 * they never see plaintext and do no crypto. keystore.c picks a backend from
 * the store string ("etcd://..." -> etcd, anything else -> a file path), so a
 * new backend is one new file plus one line in ks_backend_for().
 * Documents are jansson json_t objects (decoded by format.c, which treats
 * them as untrusted); revisions are opaque to the caller. */
#ifndef KH_KS_BACKEND_H
#define KH_KS_BACKEND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Revision of a record as the backend last saw it. 0 = "absent": a cas_put
 * with expected_rev 0 creates the record and fails with -ESTALE if it exists.
 * Any other value is opaque (file backend: 64-bit BLAKE2b of the record's
 * canonical JSON; etcd: the key's mod_revision). */
typedef uint64_t ks_rev_t;

struct ks_backend_record {
	char *name;   /* malloc'd; NOT yet validated (format.c does that) */
	json_t *doc;  /* one reference owned by the snapshot */
	ks_rev_t rev; /* never 0 */
};

/* Everything read in one consistent view. Free with ks_snapshot_free(). */
struct ks_snapshot {
	json_t *meta; /* owned reference; format "keyhole-store" object */
	struct ks_backend_record *recs;
	size_t n;
};
void ks_snapshot_free(struct ks_snapshot *s);

struct ks_backend;

/* One record of a put_batch: replace name with doc if it is still at
 * expected_rev; ret_rev is set to its new revision on success. */
struct ks_backend_write {
	const char *name;
	json_t *doc;
	ks_rev_t expected_rev;
	ks_rev_t ret_rev;
};

struct ks_backend_ops {
	const char *name; /* "file", "etcd" */
	/* location = the store string verbatim (path or etcd:// URL).
	 * Must not fail when the store does not exist yet (init creates it). */
	int (*open)(const char *location, struct ks_backend **ret);
	void (*close)(struct ks_backend *b);
	/* Create a new, empty store holding only meta. -EEXIST if a store is
	 * already there (never overwrites). */
	int (*create)(struct ks_backend *b, json_t *meta);
	/* Read meta and every record. -ENOENT if there is no store, -EBADMSG
	 * if the stored bytes are not a well-formed store. */
	int (*read_all)(struct ks_backend *b, struct ks_snapshot *ret);
	/* Compare-and-swap one record: replace (doc != NULL) or delete
	 * (doc == NULL) `name` only if its current revision is expected_rev
	 * (0 = must be absent). -ESTALE if another writer got there first;
	 * on success *ret_rev (may be NULL) is the new revision (0 after a
	 * delete). Atomic and durable on return: a crash leaves the old or the
	 * new state. Other records written concurrently are never lost. */
	int (*cas_put)(struct ks_backend *b, const char *name, json_t *doc, ks_rev_t expected_rev,
		       ks_rev_t *ret_rev);
	/* Replace the meta document (keyhole migrate --sign); records are
	 * left alone. */
	int (*put_meta)(struct ks_backend *b, json_t *meta);
	/* Replace n records and the meta in ONE atomic, durable write
	 * (keyhole migrate --sign): -ESTALE and nothing written unless every
	 * w[i].name is still at w[i].expected_rev. Records not named are left
	 * alone. NULL when the backend cannot do it in one step (etcd: txns
	 * are capped at 128 operations); the caller then uses cas_put per
	 * record and put_meta last. */
	int (*put_batch)(struct ks_backend *b, json_t *meta, struct ks_backend_write *w, size_t n);
	/* An fd that polls readable when the store may have changed, or -1
	 * with no support. Owned by the backend. */
	int (*watch_fd)(struct ks_backend *b);
	/* Consume pending notifications: 1 if the store may have changed,
	 * 0 if they were all about something else (other files in the file
	 * store's directory), or -errno. */
	int (*watch_drain)(struct ks_backend *b);
};

/* A backend instance: ops plus backend-private state after it. */
struct ks_backend {
	const struct ks_backend_ops *ops;
};

extern const struct ks_backend_ops ks_backend_file;
/* keystore/backend_etcd.c: "etcd://" and "etcd+http://" stores. */
extern const struct ks_backend_ops ks_backend_etcd;

/* The ops for a store string: file for paths, NULL with -EPROTONOSUPPORT in
 * *ret_err for any "SCHEME://" without a backend. keystore/store.c's
 * ks_backend_for() is the one place a new backend is added (backend_etcd.c
 * defines ks_backend_etcd and adds its line there). */
const struct ks_backend_ops *ks_backend_for(const char *store, int *ret_err);

#endif
