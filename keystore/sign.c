/* SPDX-License-Identifier: MIT */
/* Writer signatures (format v2): Ed25519 (libsodium crypto_sign) over a
 * BLAKE2b-512 digest of a labelled, length-prefixed message, so a record
 * cannot be moved to another store, name, version or time, and nobody
 * without a writer key can produce one. Also the writer key file and the
 * SHA-256 fingerprints printed for writer and store keys. */
#include "ks_internal.h"

#include <errno.h>
#include <string.h>

#define REC_LABEL "keyhole.record.v2"
#define TOMB_LABEL "keyhole.tombstone.v2"
#define META_LABEL "keyhole.meta.v2"

static void h_lp(crypto_generichash_state *st, const char *s, size_t len)
{
	uint8_t b[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };

	crypto_generichash_update(st, b, 4);
	crypto_generichash_update(st, (const uint8_t *)s, len);
}

static void h_u64(crypto_generichash_state *st, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	crypto_generichash_update(st, b, 8);
}

/* digest of (label, store id, name, version, created[, sealed bytes]) */
static int rec_digest(const char *label, const char *store_id, const char *name,
		      const struct ks_ver *v, bool with_ct, uint8_t out[KS_DIGEST_BYTES])
{
	crypto_generichash_state st;
	size_t id_len = strnlen(store_id, KS_ID_MAX + 1), name_len = strnlen(name, 256);

	if (id_len > KS_ID_MAX || name_len > 255)
		return -EINVAL;
	crypto_generichash_init(&st, NULL, 0, KS_DIGEST_BYTES);
	h_lp(&st, label, strlen(label));
	h_lp(&st, store_id, id_len);
	h_lp(&st, name, name_len);
	h_u64(&st, v->version);
	h_u64(&st, (uint64_t)v->created);
	if (with_ct) {
		crypto_generichash_update(&st, v->epk, sizeof(v->epk));
		crypto_generichash_update(&st, v->nonce, sizeof(v->nonce));
		h_u64(&st, v->ct_len);
		crypto_generichash_update(&st, v->ct, v->ct_len);
	}
	crypto_generichash_final(&st, out, KS_DIGEST_BYTES);
	return 0;
}

static int sig_check(const uint8_t d[KS_DIGEST_BYTES], const uint8_t writer[KS_PK_BYTES],
		     const uint8_t sig[KS_SIG_BYTES], const struct ks_trust *t)
{
	if (!ks_trust_has(t, writer))
		return -ENOKEY;
	return crypto_sign_verify_detached(sig, d, KS_DIGEST_BYTES, writer) == 0 ? 0 : -ENOKEY;
}

int ks_sign_ver(const struct ks_writer *w, const char *store_id, const char *name, bool tomb,
		struct ks_ver *v)
{
	uint8_t d[KS_DIGEST_BYTES];
	int r = rec_digest(tomb ? TOMB_LABEL : REC_LABEL, store_id, name, v, !tomb, d);

	if (r < 0)
		return r;
	crypto_sign_detached(v->sig, NULL, d, sizeof(d), w->sk);
	memcpy(v->writer, w->pk, KS_PK_BYTES);
	v->has_sig = true;
	return 0;
}

int ks_verify_ver(const struct ks_trust *t, const char *store_id, const char *name, bool tomb,
		  const struct ks_ver *v)
{
	uint8_t d[KS_DIGEST_BYTES];

	if (!v->has_sig)
		return -ENOKEY;
	if (rec_digest(tomb ? TOMB_LABEL : REC_LABEL, store_id, name, v, !tomb, d) < 0)
		return -EBADMSG;
	return sig_check(d, v->writer, v->sig, t);
}

static void meta_digest(const struct ks_meta *m, uint8_t out[KS_DIGEST_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, KS_DIGEST_BYTES);
	h_lp(&st, META_LABEL, strlen(META_LABEL));
	h_lp(&st, m->store_id, strnlen(m->store_id, KS_ID_MAX));
	crypto_generichash_update(&st, m->pk, KS_PK_BYTES);
	crypto_generichash_final(&st, out, KS_DIGEST_BYTES);
}

void ks_sign_meta(const struct ks_writer *w, struct ks_meta *m)
{
	uint8_t d[KS_DIGEST_BYTES];

	meta_digest(m, d);
	crypto_sign_detached(m->sig, NULL, d, sizeof(d), w->sk);
	memcpy(m->writer, w->pk, KS_PK_BYTES);
	m->has_sig = true;
}

int ks_verify_meta(const struct ks_trust *t, const struct ks_meta *m)
{
	uint8_t d[KS_DIGEST_BYTES];

	if (!m->has_sig)
		return -ENOKEY;
	meta_digest(m, d);
	return sig_check(d, m->writer, m->sig, t);
}

/* ---- the writer key file: "keyhole-writer-v1 <base64 64-byte sk>\n", 0400 */

struct ks_writer *ks_writer_new(void)
{
	struct ks_writer *w = sodium_malloc(sizeof(*w));

	if (w && crypto_sign_keypair(w->pk, w->sk) != 0) {
		sodium_free(w);
		return NULL;
	}
	return w;
}

void ks_writer_free(struct ks_writer *w)
{
	if (w)
		sodium_free(w);
}

int ks_writer_write(const char *path, const struct ks_writer *w)
{
	return ks_keyfile_write_tagged(path, KS_WRITER_TAG, w->sk, sizeof(w->sk));
}

int ks_writer_read(const char *path, struct ks_writer **ret)
{
	struct ks_writer *w = sodium_malloc(sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	r = ks_keyfile_read_tagged(path, KS_WRITER_TAG, w->sk, sizeof(w->sk));
	if (r == 0 && crypto_sign_ed25519_sk_to_pk(w->pk, w->sk) != 0)
		r = -EBADMSG;
	if (r < 0) {
		sodium_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int ks_writer_public(const char *path, uint8_t ret_pk[KS_PK_BYTES])
{
	struct ks_writer *w = NULL;
	int r = ks_writer_read(path, &w);

	if (r == 0)
		memcpy(ret_pk, w->pk, KS_PK_BYTES);
	ks_writer_free(w);
	return r;
}
