/* SPDX-License-Identifier: MIT */
/* Record sealing (HPKE-style, libsodium only) and passphrase key wrapping.
 * seal: fresh ephemeral X25519 key, shared = X25519(esk, pk),
 * key = BLAKE2b-256(shared || epk || pk), XChaCha20-Poly1305-IETF with
 * AD = lp("keyhole.seal.v1") || lp(store_id) || lp(name) || be64(version)
 * || be64(created); lp(s) = be32(len) || s. Key material is wiped on every
 * return path. See docs/keystore-format.md. */
#include "ks_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_LABEL "keyhole.seal.v1"
#define WRAP_LABEL "keyhole.key.v1"
#define AD_MAX (4u + 16u + 4u + KS_ID_MAX + 4u + 256u + 16u)

static size_t put_lp(uint8_t *p, const char *s, size_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, s, len);
	return 4 + len;
}

static size_t put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
	return 8;
}

/* Unambiguous associated data; -EINVAL if a field is over its cap. */
static int build_ad(const char *label, const char *store_id, const char *name, uint64_t version,
		    int64_t created, uint8_t ad[AD_MAX], size_t *ret_len)
{
	size_t id_len = strnlen(store_id, KS_ID_MAX + 1);
	size_t name_len = name ? strnlen(name, 256) : 0;
	size_t n = 0;

	if (id_len > KS_ID_MAX || name_len > 255)
		return -EINVAL;
	n += put_lp(ad + n, label, strlen(label));
	n += put_lp(ad + n, store_id, id_len);
	n += put_lp(ad + n, name ? name : "", name_len);
	n += put_be64(ad + n, version);
	n += put_be64(ad + n, (uint64_t)created);
	*ret_len = n;
	return 0;
}

static int derive_key(const uint8_t *shared, const uint8_t epk[KS_PK_BYTES],
		      const uint8_t pk[KS_PK_BYTES], uint8_t key[32])
{
	crypto_generichash_state st;
	int r = 0;

	if (crypto_generichash_init(&st, NULL, 0, 32) != 0 ||
	    crypto_generichash_update(&st, shared, crypto_scalarmult_BYTES) != 0 ||
	    crypto_generichash_update(&st, epk, KS_PK_BYTES) != 0 ||
	    crypto_generichash_update(&st, pk, KS_PK_BYTES) != 0 ||
	    crypto_generichash_final(&st, key, 32) != 0)
		r = -EIO;
	sodium_memzero(&st, sizeof(st));
	return r;
}

int ks_seal(const char *store_id, const uint8_t pk[KS_PK_BYTES], const char *name, const uint8_t *m,
	    size_t mlen, struct ks_ver *v)
{
	uint8_t esk[32], shared[32], key[32], ad[AD_MAX];
	size_t ad_len;
	uint8_t *ct;
	int r;

	if (mlen > KS_MAX_VALUE)
		return -EFBIG;
	r = build_ad(SEAL_LABEL, store_id, name, v->version, v->created, ad, &ad_len);
	if (r < 0)
		return r;
	ct = malloc(mlen + KS_TAG_BYTES);
	if (!ct)
		return -ENOMEM;
	crypto_box_keypair(v->epk, esk);
	randombytes_buf(v->nonce, sizeof(v->nonce));
	r = -EINVAL; /* low-order public key */
	if (crypto_scalarmult(shared, esk, pk) == 0 && derive_key(shared, v->epk, pk, key) == 0) {
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, m, mlen, ad, ad_len, NULL,
							   v->nonce, key);
		r = 0;
	}
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(key, sizeof(key));
	if (r < 0) {
		free(ct);
		return r;
	}
	v->ct = ct;
	v->ct_len = mlen + KS_TAG_BYTES;
	return 0;
}

int ks_unseal(const char *store_id, const uint8_t pk[KS_PK_BYTES], const uint8_t *sk,
	      const char *name, const struct ks_ver *v, uint8_t *out)
{
	uint8_t shared[32], key[32], ad[AD_MAX];
	size_t ad_len;
	int r;

	if (v->ct_len < KS_TAG_BYTES || v->ct_len > KS_MAX_CT)
		return -EBADMSG;
	r = build_ad(SEAL_LABEL, store_id, name, v->version, v->created, ad, &ad_len);
	if (r < 0)
		return r;
	r = -EBADMSG;
	if (crypto_scalarmult(shared, sk, v->epk) == 0 &&
	    derive_key(shared, v->epk, pk, key) == 0 &&
	    crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, v->ct, v->ct_len, ad,
						       ad_len, v->nonce, key) == 0)
		r = 0;
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(key, sizeof(key));
	return r;
}

static int pw_key(const struct ks_wrapped *w, const char *pass, size_t pass_len, uint8_t key[32])
{
	if (crypto_pwhash(key, 32, pass, pass_len, w->salt, w->opslimit, (size_t)w->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}

int ks_wrap_key(const char *store_id, const uint8_t pk[KS_PK_BYTES], const uint8_t *sk,
		const char *pass, size_t pass_len, struct ks_wrapped *w)
{
	uint8_t *key, ad[AD_MAX + KS_PK_BYTES];
	size_t ad_len;
	int r;

	r = build_ad(WRAP_LABEL, store_id, NULL, 0, 0, ad, &ad_len);
	if (r < 0)
		return r;
	memcpy(ad + ad_len, pk, KS_PK_BYTES);
	w->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	w->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	randombytes_buf(w->salt, sizeof(w->salt));
	randombytes_buf(w->nonce, sizeof(w->nonce));
	key = sodium_malloc(32);
	if (!key)
		return -ENOMEM;
	r = pw_key(w, pass, pass_len, key);
	if (r == 0)
		crypto_aead_xchacha20poly1305_ietf_encrypt(w->ct, NULL, sk, KS_SK_BYTES, ad,
							   ad_len + KS_PK_BYTES, NULL, w->nonce,
							   key);
	sodium_free(key);
	return r;
}

int ks_unwrap_key(const char *store_id, const uint8_t pk[KS_PK_BYTES], const struct ks_wrapped *w,
		  const char *pass, size_t pass_len, uint8_t *sk)
{
	uint8_t *key, ad[AD_MAX + KS_PK_BYTES];
	size_t ad_len;
	int r;

	r = build_ad(WRAP_LABEL, store_id, NULL, 0, 0, ad, &ad_len);
	if (r < 0)
		return r;
	memcpy(ad + ad_len, pk, KS_PK_BYTES);
	key = sodium_malloc(32);
	if (!key)
		return -ENOMEM;
	r = pw_key(w, pass, pass_len, key);
	if (r == 0 &&
	    crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL, w->ct, sizeof(w->ct), ad,
						       ad_len + KS_PK_BYTES, w->nonce, key) != 0)
		r = -EACCES;
	sodium_free(key);
	return r;
}
