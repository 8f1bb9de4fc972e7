/* SPDX-License-Identifier: MIT */
/* Writes seeds for fuzz_keystore: store files and sealed records made by the
 * real encoders and sealed to the harness's fixed test key, so the fuzzer
 * starts from documents that decode and authenticate. Not built by the
 * Makefile (docs/fuzzing.md):
 *   cc -D_GNU_SOURCE -Icommon -Ikeystore -o /tmp/gen tests/fuzz/gen_keystore_seeds.c \
 *      keystore/format.c keystore/seal.c keystore/secmem.c common/proto.c \
 *      -lsodium -ljansson && /tmp/gen tests/fuzz/corpus/fuzz_keystore */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_internal.h"

static const char *dir;
static uint8_t sk[KS_SK_BYTES], pk[KS_PK_BYTES];

static void put(const char *name, const char *s)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!s || !f || fputs(s, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static json_t *record(const char *id, const char *name, unsigned nver)
{
	struct ks_rec r = { 0 };
	char val[64];
	r.v = calloc(nver, sizeof *r.v);
	r.n = nver;
	for (unsigned i = 0; i < nver; i++) {
		struct ks_ver *v = &r.v[i];
		v->version = nver - i; /* newest first */
		v->created = 1700000000 + (int64_t)v->version;
		snprintf(val, sizeof val, "%s-value-%u", name, (unsigned)v->version);
		if (ks_seal(id, pk, name, (const uint8_t *)val, strlen(val), v) < 0)
			exit(1);
	}
	json_t *j = ks_rec_encode(&r);
	for (unsigned i = 0; i < nver; i++)
		ks_ver_clear(&r.v[i]);
	free(r.v);
	return j;
}

int main(int argc, char **argv)
{
	const char *id = "0123456789abcdef0123456789abcdef";
	struct ks_meta m = { 0 };
	size_t len;

	if (argc != 2 || sodium_init() < 0)
		return 2;
	dir = argv[1];
	for (size_t i = 0; i < sizeof sk; i++)
		sk[i] = (uint8_t)(0x40 + i); /* = fuzz_keystore.c's test key */
	crypto_scalarmult_base(pk, sk);
	snprintf(m.store_id, sizeof m.store_id, "%s", id);
	memcpy(m.pk, pk, sizeof pk);

	json_t *root = ks_meta_encode(&m), *recs = json_object();
	json_object_set_new(recs, "db/password", record(id, "db/password", 3));
	json_object_set_new(recs, "api-key", record(id, "api-key", 1));
	json_object_set(root, "records", recs);
	put("store_two_records", ks_file_dump(root, &len));
	json_object_set_new(recs, "../escape", record(id, "../escape", 1));
	put("store_bad_name", ks_file_dump(root, &len));
	json_object_clear(recs);
	put("store_empty", ks_file_dump(root, &len));

	/* Passphrase-wrapped key variant (ciphertext content irrelevant here). */
	m.has_wrapped = true;
	m.wrapped.opslimit = 2;
	m.wrapped.memlimit = 65536;
	json_t *root2 = ks_meta_encode(&m);
	json_object_set_new(root2, "records", json_object());
	put("store_wrapped", ks_file_dump(root2, &len));

	struct ks_ver v = { .version = 4, .created = 1700000004 };
	ks_seal(id, pk, "ci/token", (const uint8_t *)"from-ci", 7, &v);
	put("sealed_record", ks_sealed_encode(id, "ci/token", &v));
	return 0;
}
