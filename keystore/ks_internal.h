/* SPDX-License-Identifier: MIT */
/* Declarations shared by the keystore's modules (not a public API):
 * seal.c (crypto), format.c (JSON <-> structs, untrusted input), atomic.c
 * (durable file replacement), secmem.c, keyfile.c (private key at rest),
 * store.c / ops.c (the public keystore.h functions). */
#ifndef KH_KS_INTERNAL_H
#define KH_KS_INTERNAL_H

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "keystore.h"

#define KS_FORMAT_VERSION 2 /* reads 1 (unsigned) too */
#define KS_SIG_BYTES 64u
#define KS_DIGEST_BYTES 64u
#define KS_WRITER_TAG "keyhole-writer-v1 "
#define KS_SK_BYTES 32u
#define KS_NONCE_BYTES 24u /* XChaCha20-Poly1305-IETF */
#define KS_TAG_BYTES 16u
#define KS_SALT_BYTES 16u	/* crypto_pwhash_SALTBYTES */
#define KS_ID_BYTES 16u		/* random store id, hex-encoded -> 32 chars */
#define KS_MAX_VERSIONS 64u	/* versions kept per record (cap on read) */
#define KS_MAX_RECORDS 1000000u /* records per store (cap on read) */
#define KS_MAX_FILE (1u << 30)	/* store file size cap on read */
#define KS_MAX_DOC (4u << 20)	/* one record / sealed-record document */
#define KS_MAX_PASSPHRASE 1024u
#define KS_MAX_CT (KS_MAX_VALUE + KS_TAG_BYTES)

/* ---- secmem.c */
/* A ks_secret with len bytes of sodium_malloc memory (+1 NUL). NULL on ENOMEM. */
struct ks_secret *ks_secret_new(size_t len);

/* ---- seal.c */
struct ks_ver {
	uint64_t version;
	int64_t created;
	uint8_t epk[KS_PK_BYTES];
	uint8_t nonce[KS_NONCE_BYTES];
	uint8_t *ct; /* malloc'd, ct_len = plaintext + KS_TAG_BYTES */
	size_t ct_len;
	bool has_sig; /* v2: writer + sig present */
	uint8_t writer[KS_PK_BYTES];
	uint8_t sig[KS_SIG_BYTES];
};

/* Seal m to pk; fills v->epk, v->nonce, v->ct (malloc'd). version and
 * created must be set by the caller (both are bound as associated data). */
int ks_seal(const char *store_id, const uint8_t pk[KS_PK_BYTES], const char *name, const uint8_t *m,
	    size_t mlen, struct ks_ver *v);
/* Open v with sk into out (v->ct_len - KS_TAG_BYTES bytes). -EBADMSG if it
 * does not authenticate (wrong key, moved, tampered). */
int ks_unseal(const char *store_id, const uint8_t pk[KS_PK_BYTES], const uint8_t *sk,
	      const char *name, const struct ks_ver *v, uint8_t *out);

struct ks_wrapped {
	uint64_t opslimit;
	uint64_t memlimit;
	uint8_t salt[KS_SALT_BYTES];
	uint8_t nonce[KS_NONCE_BYTES];
	uint8_t ct[KS_SK_BYTES + KS_TAG_BYTES];
};
/* Argon2id-wrap / unwrap the private key under a passphrase. unwrap: -EACCES
 * on a wrong passphrase. sk is KS_SK_BYTES of sodium_malloc memory. */
int ks_wrap_key(const char *store_id, const uint8_t pk[KS_PK_BYTES], const uint8_t *sk,
		const char *pass, size_t pass_len, struct ks_wrapped *w);
int ks_unwrap_key(const char *store_id, const uint8_t pk[KS_PK_BYTES], const struct ks_wrapped *w,
		  const char *pass, size_t pass_len, uint8_t *sk);

/* ---- format.c (parses untrusted bytes; no syscalls) */
struct ks_meta {
	char store_id[KS_ID_MAX + 1];
	uint8_t pk[KS_PK_BYTES];
	bool has_wrapped;
	struct ks_wrapped wrapped;
	int format_version; /* 1 or 2 (0 when encoding = current) */
	bool has_sig;
	uint8_t writer[KS_PK_BYTES];
	uint8_t sig[KS_SIG_BYTES];
};

struct ks_rec {
	char *name;	  /* malloc'd */
	struct ks_ver *v; /* newest first */
	size_t n;
	ks_rev_t rev; /* backend revision */
	bool bad;     /* document did not decode: get/verify fail */
	bool is_tomb; /* removed: tomb holds the last version, signed */
	struct ks_ver tomb;
	int err;	      /* refused by a reader check: -ENOKEY, -ETIME, ... */
	ks_rev_t refused_rev; /* this (older, accepted) record is held in place of
				 the backend's rolled-back document of that rev */
	bool moved;	      /* contents moved to another array: name borrowed */
};
void ks_rec_clear(struct ks_rec *r);
void ks_ver_clear(struct ks_ver *v);

int ks_meta_decode(json_t *o, struct ks_meta *ret);
json_t *ks_meta_encode(const struct ks_meta *m);
/* Validates the name (proto_secret_name_valid) and every version. */
int ks_rec_decode(const char *name, json_t *o, struct ks_rec *ret);
json_t *ks_rec_encode(const struct ks_rec *r);
int ks_ver_decode(json_t *o, struct ks_ver *ret);
json_t *ks_ver_encode(const struct ks_ver *v);

/* Store file text <-> meta + record documents (the file backend's layout).
 * ks_file_load: parse and check the top level ({..., "records": {...}}). */
int ks_file_load(const char *buf, size_t len, json_t **ret_root);
int ks_file_split(const char *buf, size_t len, struct ks_snapshot *ret);
/* Whole store file text (sorted keys, indented: reviewable in git). */
char *ks_file_dump(json_t *root, size_t *ret_len);
/* Decode a snapshot's records, sorted by name; undecodable ones are kept
 * with bad set. */
int ks_snapshot_decode(const struct ks_snapshot *s, struct ks_rec **ret, size_t *ret_n);
/* Canonical revision of a record document (never 0). */
ks_rev_t ks_doc_rev(json_t *doc);

/* Fuzz/test entry point: parse a whole store file from memory, decode meta
 * and every record. Records that fail to decode are returned with bad set,
 * as ks_open does. Free with ks_recs_free(). */
int ks_format_parse(const char *buf, size_t len, struct ks_meta *ret_meta, struct ks_rec **ret_recs,
		    size_t *ret_n);
void ks_recs_free(struct ks_rec *recs, size_t n);

/* Offline sealed-record document (ks_seal_record / ks_import_record). */
int ks_sealed_decode(const char *json, size_t len, char ret_id[KS_ID_MAX + 1], char **ret_name,
		     struct ks_ver *ret_v);
char *ks_sealed_encode(const char *store_id, const char *name, const struct ks_ver *v);

/* ---- atomic.c */
/* Replace path with buf durably: temp file in the same dir, write, fsync,
 * rename, fsync dir. On error the old file is intact and the temp removed. */
int ks_atomic_write(const char *path, const void *buf, size_t len, mode_t mode);
/* Create path with O_EXCL, write, fsync, fsync dir (init). */
int ks_create_file(const char *path, const void *buf, size_t len, mode_t mode);
/* Open (creating) and flock(LOCK_EX) a lock file; *ret_fd holds the lock. */
int ks_lock(const char *lock_path, int *ret_fd);
/* Read a whole regular file of at most cap bytes (+1 NUL, not counted). */
int ks_read_file(const char *path, size_t cap, char **ret_buf, size_t *ret_len);

/* ---- sign.c: writer signatures (Ed25519 over BLAKE2b-512) */
struct ks_writer {
	uint8_t pk[KS_PK_BYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* sodium_malloc'd struct */
};
struct ks_trust {
	struct ks_trusted *v;
	size_t n;
};
struct ks_writer *ks_writer_new(void);
void ks_writer_free(struct ks_writer *w);
int ks_writer_write(const char *path, const struct ks_writer *w);
int ks_writer_read(const char *path, struct ks_writer **ret);
/* Sign / check v for (store id, name) as a record version, or as the
 * tombstone of a removed record (tomb: no sealed bytes). verify: -ENOKEY
 * unless signed by a writer in t with a valid signature. */
int ks_sign_ver(const struct ks_writer *w, const char *store_id, const char *name, bool tomb,
		struct ks_ver *v);
int ks_verify_ver(const struct ks_trust *t, const char *store_id, const char *name, bool tomb,
		  const struct ks_ver *v);
void ks_sign_meta(const struct ks_writer *w, struct ks_meta *m);
int ks_verify_meta(const struct ks_trust *t, const struct ks_meta *m);

/* ---- trust.c */
/* Parse trust file text (no syscalls; fuzzable). */
int ks_trust_parse(const char *buf, size_t len, struct ks_trust *ret);
int ks_trust_load(const char *path, struct ks_trust *ret);
void ks_trust_clear(struct ks_trust *t);
bool ks_trust_has(const struct ks_trust *t, const uint8_t pk[KS_PK_BYTES]);

/* ---- state.c: rollback high-water marks */
int ks_state_load(const char *path, json_t **ret); /* missing file = empty */
int ks_state_save(const char *path, json_t *st);
uint64_t ks_state_mark(json_t *st, const char *store_id, const char *name);
bool ks_state_raise(json_t *st, const char *store_id, const char *name, uint64_t version);
bool ks_state_signed(json_t *st, const char *store_id);
bool ks_state_set_signed(json_t *st, const char *store_id);

/* ---- keyfile.c */
int ks_keyfile_write_tagged(const char *path, const char *tag, const uint8_t *sk, size_t sk_len);
int ks_keyfile_read_tagged(const char *path, const char *tag, uint8_t *sk, size_t sk_len);
/* Private key file: one line "keyhole-key-v1 <base64 sk>\n", mode 0400. */
int ks_keyfile_write(const char *path, const uint8_t *sk);
/* -EPERM if group/other may read it; sk = KS_SK_BYTES sodium_malloc. */
int ks_keyfile_read(const char *path, uint8_t *sk);
/* Passphrase from fd (one line) or, with fd < 0, from /dev/tty with echo
 * off (confirm: ask twice). *ret is sodium_malloc'd; free with sodium_free. */
int ks_passphrase_read(int fd, bool confirm, char **ret, size_t *ret_len);

#endif
