/* SPDX-License-Identifier: MIT */
/* Public API of the sealed keystore (docs/keystore-format.md).
 * Records are sealed to the store's X25519 public key with store id, name and
 * version bound as associated data; writing needs only the public key,
 * reading needs the private key. Storage goes through a backend
 * (keystore/backend.h): a local file by default, etcd for fleets.
 * All functions return 0 or a negative errno and never log or exit:
 *   -ENOENT  no such store / record / version     -EEXIST  already exists
 *   -EBADMSG corrupt or unauthenticated data      -EACCES  wrong key/passphrase
 *   -EPERM   key or store file mode too open      -EINVAL  bad name or argument
 *   -ESTALE  concurrent writer won (CAS conflict) -EFBIG   value over the cap
 *   -EKEYREJECTED  recorded public key is not the private key's (ks_open)
 *   -EPROTONOSUPPORT  unknown store scheme or format version
 *   -ENOKEY  signature check failed: not signed by a writer pinned in the
 *            trust file (or no writer key to sign with)
 *   -ETIME   rollback: a version older than one already accepted
 *   others   I/O errors from the backend
 * Secret bytes handed out live in sodium_malloc memory: free with
 * ks_secret_free(), which wipes them. */
#ifndef KH_KEYSTORE_H
#define KH_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define KS_MAX_VALUE (1u << 20) /* default cap on one value */
#define KS_DEFAULT_KEEP 5u	/* versions kept by rotate */
#define KS_PK_BYTES 32u
#define KS_ID_MAX 64u /* store id text length cap */

struct ks_store;

struct ks_secret {
	uint8_t *data; /* sodium_malloc'd; len bytes (+1 NUL not counted) */
	size_t len;
	uint64_t version;
};
void ks_secret_free(struct ks_secret *s);
/* Scope-bound: `cleanup_ks_secret struct ks_secret *s = NULL;` is wiped and
 * freed on every return path (steal_pointer to keep it). */
static inline void ks_secret_freep(struct ks_secret **s)
{
	ks_secret_free(*s);
}
#define cleanup_ks_secret __attribute__((cleanup(ks_secret_freep)))

#define KS_FP_LEN 52u	 /* "SHA256:" + 43 base64 chars + NUL */
#define KS_LABEL_MAX 63u /* writer label in the trust file */

struct ks_init_opts {
	const char *key_file; /* write the private key here (0400); NULL: key
				 encrypted in the store under a passphrase */
	int passphrase_fd;    /* passphrase source when key_file is NULL; -1 = tty */
};

/* A record a reader refused (ks_open / ks_reload report each new one). */
struct ks_refusal {
	const char *name;
	uint64_t version; /* the version offered by the store (0: none) */
	uint64_t mark;	  /* rollback: the version already accepted */
	int err;	  /* -ENOKEY signature, -EBADMSG corrupt, -ETIME rollback */
	bool kept;	  /* an older accepted value is still served */
};

struct ks_open_opts {
	const char *key_file; /* private key file, or NULL */
	int passphrase_fd;    /* when the key lives in the store; -1 = tty */
	bool public_only;     /* put/rotate/list/history/rm: no private key */
};

/* Integrity options (format 2); every field may be NULL. */
struct ks_sign_opts {
	/* Writers: sign writes with this writer key file. ks_init_signed
	 * makes it (0400) when it does not exist, signs the meta with it and
	 * pins it in trust_file. NULL: writes are unsigned (and refused by
	 * every reader with a trust file). */
	const char *writer_key;
	/* Readers: accept only meta and records signed by a writer pinned in
	 * this trust file. NULL: signatures are not checked. */
	const char *trust_file;
	/* Readers: refuse records older than the high-water marks kept here,
	 * and raise the marks. NULL: no rollback check. */
	const char *state_file;
	bool state_readonly; /* check against the marks, never write them */
	/* Called for every newly refused record (and with name NULL when the
	 * state file cannot be written). */
	void (*on_refusal)(const struct ks_refusal *r, void *arg);
	void *refusal_arg;
};

/* Information about one record, never its value. */
struct ks_info {
	char name[256];
	uint64_t version;    /* current version */
	size_t size;	     /* plaintext length of the current version */
	time_t created;	     /* first version */
	time_t updated;	     /* current version */
	unsigned n_versions; /* versions kept */
	int err;	     /* refused by a reader check (0 = served) */
};

struct ks_version_info {
	uint64_t version;
	size_t size;
	time_t created;
};

int ks_init(const char *store, const struct ks_init_opts *o);
int ks_init_signed(const char *store, const struct ks_init_opts *o, const struct ks_sign_opts *s);
/* ks_open = ks_open_signed with s NULL: no signature or rollback checks,
 * unsigned writes. */
int ks_open(const char *store, const struct ks_open_opts *o, struct ks_store **ret);
int ks_open_signed(const char *store, const struct ks_open_opts *o, const struct ks_sign_opts *s,
		   struct ks_store **ret);
void ks_close(struct ks_store *ks);

/* version 0 = current. Needs the private key. */
int ks_get(struct ks_store *ks, const char *name, uint64_t version, struct ks_secret **ret);
/* -EEXIST if name exists. */
int ks_put(struct ks_store *ks, const char *name, const uint8_t *val, size_t len,
	   uint64_t *ret_version);
/* -ENOENT if name does not exist; keeps the newest `keep` versions. */
int ks_rotate(struct ks_store *ks, const char *name, const uint8_t *val, size_t len, unsigned keep,
	      uint64_t *ret_version);
int ks_rm(struct ks_store *ks, const char *name);

/* Sorted by name; free(*ret). */
int ks_list(struct ks_store *ks, struct ks_info **ret, size_t *ret_n);
/* Newest first; free(*ret). */
int ks_history(struct ks_store *ks, const char *name, struct ks_version_info **ret, size_t *ret_n);

/* Re-read the backend; *ret_changed tells whether anything differs from the
 * state held before. On error the previous state is kept (an agent keeps
 * serving what it has). */
int ks_reload(struct ks_store *ks, bool *ret_changed);
/* An fd that becomes readable when the store may have changed (inotify for
 * the file backend), or -1. After it polls readable call ks_watch_drain()
 * then ks_reload(). ks_watch_drain returns 1 when the store may have
 * changed, 0 when the wake-up was about other files in the store's
 * directory (lock, temp files, anything else kept there), or -errno; the
 * ks_reload() right after a 0 reads nothing: *ret_changed is false and it
 * returns what the last reload returned. */
int ks_watch_fd(struct ks_store *ks);
int ks_watch_drain(struct ks_store *ks);

const char *ks_store_id(const struct ks_store *ks);
void ks_public_key(const struct ks_store *ks, uint8_t ret_pk[KS_PK_BYTES]);

/* Offline sealing (CI/laptop): needs only the store id and public key.
 * *ret_json is a malloc'd sealed-record JSON document (no plaintext). */
int ks_seal_record(const char *store_id, const uint8_t pk[KS_PK_BYTES], const char *name,
		   uint64_t version, const uint8_t *val, size_t len, char **ret_json);
/* The same, signed with the writer key file writer_key (format 2). */
int ks_seal_record_signed(const char *store_id, const uint8_t pk[KS_PK_BYTES],
			  const char *writer_key, const char *name, uint64_t version,
			  const uint8_t *val, size_t len, char **ret_json);
/* Add a sealed record produced by ks_seal_record (its version must be the
 * record's next version). Needs no private key. */
int ks_import_record(struct ks_store *ks, const char *json, size_t len);

/* Format version of the open store: 1 = unsigned (reads work with a
 * warning; writes need `ks_migrate_sign` first), 2 = signed. */
int ks_format_version(const struct ks_store *ks);
/* Sign every record and the meta with the open writer key and mark the
 * store format 2 (keyhole migrate --sign). *ret_n = records signed. */
int ks_migrate_sign(struct ks_store *ks, size_t *ret_n);

/* "SHA256:<base64>" of a public key (store or writer). */
void ks_fingerprint(const uint8_t pk[KS_PK_BYTES], char out[KS_FP_LEN]);
void ks_store_fingerprint(const struct ks_store *ks, char out[KS_FP_LEN]);

/* Writer keys and the local trust file (keyhole writer add|list|revoke). */
struct ks_trusted {
	uint8_t pk[KS_PK_BYTES];
	char label[KS_LABEL_MAX + 1];
	char fp[KS_FP_LEN];
};
bool ks_writer_label_valid(const char *label);
/* New writer key file (0400; -EEXIST if present); its public key. */
int ks_writer_keygen(const char *path, uint8_t ret_pk[KS_PK_BYTES]);
int ks_writer_public(const char *path, uint8_t ret_pk[KS_PK_BYTES]);
/* free(*ret). -ENOENT without a trust file, -EPERM if others may write it. */
int ks_trust_list(const char *path, struct ks_trusted **ret, size_t *ret_n);
/* -EEXIST if the key or label is pinned already. */
int ks_trust_add(const char *path, const uint8_t pk[KS_PK_BYTES], const char *label);
/* By label or fingerprint; -ENOENT if none. */
int ks_trust_remove(const char *path, const char *label_or_fp);

/* Exported public key document (what `keyhole pubkey` prints and
 * `keyhole seal --pubkey FILE` reads): store id + public key, no secrets.
 * ks_pubkey_encode returns malloc'd JSON text or NULL. */
char *ks_pubkey_encode(const char *store_id, const uint8_t pk[KS_PK_BYTES]);
int ks_pubkey_parse(const char *json, size_t len, char ret_id[KS_ID_MAX + 1],
		    uint8_t ret_pk[KS_PK_BYTES]);

/* Open every version of every record with the private key; calls cb for
 * each record (err 0 or -EBADMSG) and returns the number that failed. */
int ks_verify(struct ks_store *ks,
	      void (*cb)(const char *name, uint64_t version, int err, void *arg), void *arg);

/* Fuzz entry point for the store parser (no syscalls): see
 * keystore/ks_internal.h ks_format_parse(). */

/* Message for a keystore error (negative errno); covers -EKEYREJECTED:
 * "public key does not match private key". */
const char *ks_strerror(int err);

#endif
