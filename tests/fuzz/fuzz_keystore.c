/* SPDX-License-Identifier: MIT */
/* Fuzz the keystore's parsers of untrusted documents (keystore/format.c):
 * a whole store file (ks_format_parse: meta + every record; a file may be
 * tampered with, restored from a bad backup, or served by a hostile etcd)
 * and an offline sealed record (ks_sealed_decode: made by CI, imported).
 * Every decoded version is also unsealed with a fixed test key, so the AEAD
 * path sees hostile lengths, and every writer signature is checked against
 * a one-writer trust set. Properties: decoded records satisfy the caps and
 * ordering, and encode -> decode reproduces them exactly (signatures and
 * tombstones included). The same bytes also go to the trust-file parser. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ks_internal.h"
#include "proto.h"

static uint8_t test_sk[KS_SK_BYTES], test_pk[KS_PK_BYTES];

static void init_once(void)
{
	static int done;
	if (done)
		return;
	FUZZ_CHECK(sodium_init() >= 0);
	/* Fixed test key; tests/fuzz/corpus/fuzz_keystore/ seeds sealed to it. */
	for (size_t i = 0; i < sizeof test_sk; i++)
		test_sk[i] = (uint8_t)(0x40 + i);
	FUZZ_CHECK(crypto_scalarmult_base(test_pk, test_sk) == 0);
	done = 1;
}

static void check_ver(const struct ks_ver *v)
{
	FUZZ_CHECK(v->version >= 1);
	FUZZ_CHECK(v->ct && v->ct_len >= KS_TAG_BYTES && v->ct_len <= KS_MAX_CT);
}

static void try_unseal(const char *store_id, const char *name, const struct ks_ver *v)
{
	uint8_t *out = malloc(v->ct_len - KS_TAG_BYTES + 1);
	FUZZ_CHECK(out);
	int r = ks_unseal(store_id, test_pk, test_sk, name, v, out);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL);
	free(out);
}

static bool ver_equal(const struct ks_ver *a, const struct ks_ver *b)
{
	return a->version == b->version && a->created == b->created &&
	       !memcmp(a->epk, b->epk, sizeof a->epk) &&
	       !memcmp(a->nonce, b->nonce, sizeof a->nonce) && a->ct_len == b->ct_len &&
	       (!a->ct_len || !memcmp(a->ct, b->ct, a->ct_len)) && a->has_sig == b->has_sig &&
	       (!a->has_sig || (!memcmp(a->writer, b->writer, sizeof a->writer) &&
				!memcmp(a->sig, b->sig, sizeof a->sig)));
}

/* A signature check never crashes and accepts only the pinned writer. */
static void try_verify(const char *store_id, const char *name, bool tomb, const struct ks_ver *v)
{
	static struct ks_trusted one;
	struct ks_trust t = { &one, 1 };
	int r = ks_verify_ver(&t, store_id, name, tomb, v);

	FUZZ_CHECK(r == 0 || r == -ENOKEY || r == -EBADMSG);
	if (r == 0)
		FUZZ_CHECK(v->has_sig && !memcmp(v->writer, one.pk, sizeof one.pk));
}

static void check_rec(const struct ks_meta *m, const struct ks_rec *r)
{
	struct ks_rec back;
	FUZZ_CHECK(r->name);
	if (r->bad)
		return;
	FUZZ_CHECK(proto_secret_name_valid(r->name));
	if (r->is_tomb) {
		FUZZ_CHECK(r->n == 0 && r->tomb.version >= 1 && r->tomb.has_sig);
		try_verify(m->store_id, r->name, true, &r->tomb);
	} else {
		FUZZ_CHECK(r->n >= 1 && r->n <= KS_MAX_VERSIONS);
	}
	for (size_t i = 0; i < r->n; i++) {
		check_ver(&r->v[i]);
		if (i)
			FUZZ_CHECK(r->v[i].version < r->v[i - 1].version);
		try_unseal(m->store_id, r->name, &r->v[i]);
		try_verify(m->store_id, r->name, false, &r->v[i]);
	}
	json_t *j = ks_rec_encode(r);
	FUZZ_CHECK(j);
	FUZZ_CHECK(ks_rec_decode(r->name, j, &back) == 0);
	FUZZ_CHECK(back.n == r->n && back.is_tomb == r->is_tomb);
	if (r->is_tomb)
		FUZZ_CHECK(ver_equal(&r->tomb, &back.tomb));
	for (size_t i = 0; i < r->n; i++)
		FUZZ_CHECK(ver_equal(&r->v[i], &back.v[i]));
	ks_rec_clear(&back);
	json_decref(j);
}

static void fuzz_store(const char *buf, size_t len)
{
	struct ks_meta m;
	struct ks_rec *recs = NULL;
	size_t n = 0;
	int r = ks_format_parse(buf, len, &m, &recs, &n);
	FUZZ_CHECK(r <= 0);
	if (r < 0)
		return;
	FUZZ_CHECK(strnlen(m.store_id, sizeof m.store_id) < sizeof m.store_id);
	FUZZ_CHECK(m.format_version == 1 || m.format_version == 2);
	{
		static struct ks_trusted one;
		struct ks_trust t = { &one, 1 };
		int e = ks_verify_meta(&t, &m);
		FUZZ_CHECK(e == 0 || e == -ENOKEY);
	}
	for (size_t i = 0; i < n; i++) {
		check_rec(&m, &recs[i]);
		if (i)
			FUZZ_CHECK(strcmp(recs[i - 1].name, recs[i].name) <= 0);
	}
	ks_recs_free(recs, n);
}

static void fuzz_sealed(const char *buf, size_t len)
{
	char id[KS_ID_MAX + 1], id2[KS_ID_MAX + 1], *name = NULL, *name2 = NULL;
	struct ks_ver v, v2;
	if (ks_sealed_decode(buf, len, id, &name, &v) < 0)
		return;
	FUZZ_CHECK(name && proto_secret_name_valid(name));
	check_ver(&v);
	try_unseal(id, name, &v);
	char *doc = ks_sealed_encode(id, name, &v);
	FUZZ_CHECK(doc);
	FUZZ_CHECK(ks_sealed_decode(doc, strlen(doc), id2, &name2, &v2) == 0);
	FUZZ_CHECK(!strcmp(id, id2) && !strcmp(name, name2) && ver_equal(&v, &v2));
	free(doc);
	free(name);
	free(name2);
	ks_ver_clear(&v);
	ks_ver_clear(&v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	init_once();
	FUZZ_CHECK(buf);
	if (size)
		memcpy(buf, data, size);
	fuzz_store(buf, size);
	fuzz_sealed(buf, size);
	{
		struct ks_trust t = { 0 };
		if (ks_trust_parse(buf, size, &t) == 0) {
			for (size_t i = 0; i < t.n; i++)
				FUZZ_CHECK(ks_writer_label_valid(t.v[i].label));
			ks_trust_clear(&t);
		}
	}
	free(buf);
	return 0;
}
