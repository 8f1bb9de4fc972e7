/* SPDX-License-Identifier: MIT */
/* Unit tests for keystore/seal.c and keystore/format.c below the store:
 * seal/unseal round trip, wrong private key, every bit of a sealed record
 * (epk || nonce || ct) flipped, low-order public keys, passphrase wrapping,
 * and the parser's caps on hostile documents (ks_format_parse, the fuzz
 * entry point), key file parsing. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "ks_internal.h"

static uint8_t pk[32], sk[32];

static void keys(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	crypto_box_keypair(pk, sk);
}

START_TEST(seal_round_trip)
{
	struct ks_ver v = { .version = 3, .created = 1700000000 };
	uint8_t out[64];

	keys();
	ck_assert_int_eq(ks_seal("store1", pk, "a/b", (const uint8_t *)"hello", 5, &v), 0);
	ck_assert_uint_eq(v.ct_len, 5 + KS_TAG_BYTES);
	ck_assert_int_eq(ks_unseal("store1", pk, sk, "a/b", &v, out), 0);
	ck_assert_mem_eq(out, "hello", 5);
	/* empty values are values too */
	struct ks_ver e = { .version = 1 };
	ck_assert_int_eq(ks_seal("store1", pk, "e", NULL, 0, &e), 0);
	ck_assert_int_eq(ks_unseal("store1", pk, sk, "e", &e, out), 0);
	ks_ver_clear(&e);
	ks_ver_clear(&v);
}
END_TEST

START_TEST(seal_fresh_each_time)
{
	struct ks_ver a = { .version = 1 }, b = { .version = 1 };

	keys();
	ck_assert_int_eq(ks_seal("s", pk, "n", (const uint8_t *)"same", 4, &a), 0);
	ck_assert_int_eq(ks_seal("s", pk, "n", (const uint8_t *)"same", 4, &b), 0);
	ck_assert(memcmp(a.epk, b.epk, 32) != 0);
	ck_assert(memcmp(a.ct, b.ct, a.ct_len) != 0);
	ks_ver_clear(&a);
	ks_ver_clear(&b);
}
END_TEST

START_TEST(wrong_key)
{
	struct ks_ver v = { .version = 1 };
	uint8_t pk2[32], sk2[32], out[16];

	keys();
	crypto_box_keypair(pk2, sk2);
	ck_assert_int_eq(ks_seal("s", pk, "n", (const uint8_t *)"v", 1, &v), 0);
	ck_assert_int_eq(ks_unseal("s", pk, sk2, "n", &v, out), -EBADMSG);
	ck_assert_int_eq(ks_unseal("s", pk2, sk, "n", &v, out), -EBADMSG); /* pk bound in the KDF */
	ck_assert_int_eq(ks_unseal("s", pk, sk, "n", &v, out), 0);
	ks_ver_clear(&v);
}
END_TEST

/* Every bit of epk, nonce and ciphertext, flipped one at a time. */
START_TEST(every_bit_flipped)
{
	struct ks_ver v = { .version = 9, .created = 42 };
	uint8_t out[64];
	const char *msg = "a secret value of some length";
	size_t fails = 0, total = 0;

	keys();
	ck_assert_int_eq(ks_seal("s", pk, "n", (const uint8_t *)msg, strlen(msg), &v), 0);
	uint8_t *fields[] = { v.epk, v.nonce, v.ct };
	size_t lens[] = { sizeof(v.epk), sizeof(v.nonce), v.ct_len };
	for (size_t f = 0; f < 3; f++)
		for (size_t i = 0; i < lens[f]; i++)
			for (int bit = 0; bit < 8; bit++) {
				fields[f][i] ^= (uint8_t)(1u << bit);
				fails += ks_unseal("s", pk, sk, "n", &v, out) == -EBADMSG;
				total++;
				fields[f][i] ^= (uint8_t)(1u << bit);
			}
	ck_assert_uint_eq(fails, total);
	ck_assert_int_eq(ks_unseal("s", pk, sk, "n", &v, out), 0);
	ck_assert_mem_eq(out, msg, strlen(msg));
	/* truncated ciphertext */
	v.ct_len--;
	ck_assert_int_eq(ks_unseal("s", pk, sk, "n", &v, out), -EBADMSG);
	v.ct_len = 3;
	ck_assert_int_eq(ks_unseal("s", pk, sk, "n", &v, out), -EBADMSG);
	ks_ver_clear(&v);
}
END_TEST

START_TEST(low_order_pk)
{
	struct ks_ver v = { .version = 1 };
	uint8_t zero[32] = { 0 };

	keys();
	ck_assert_int_eq(ks_seal("s", zero, "n", (const uint8_t *)"v", 1, &v), -EINVAL);
	ck_assert_ptr_null(v.ct);
}
END_TEST

START_TEST(wrap_unwrap)
{
	struct ks_wrapped w;
	uint8_t *out;

	keys();
	out = sodium_malloc(32);
	ck_assert_int_eq(ks_wrap_key("sid", pk, sk, "pass", 4, &w), 0);
	ck_assert_int_eq(ks_unwrap_key("sid", pk, &w, "pass", 4, out), 0);
	ck_assert_mem_eq(out, sk, 32);
	ck_assert_int_eq(ks_unwrap_key("sid", pk, &w, "pasS", 4, out), -EACCES);
	ck_assert_int_eq(ks_unwrap_key("sid2", pk, &w, "pass", 4, out), -EACCES);
	w.ct[0] ^= 1;
	ck_assert_int_eq(ks_unwrap_key("sid", pk, &w, "pass", 4, out), -EACCES);
	sodium_free(out);
}
END_TEST

static const char *meta_ok =
	"\"format\":\"keyhole-store\",\"format_version\":1,\"store_id\":\"abc\","
	"\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"";

static int parse_doc(const char *records)
{
	char *buf = NULL;
	struct ks_meta m;
	struct ks_rec *recs = NULL;
	size_t n = 0;
	int r;

	ck_assert_int_gt(asprintf(&buf, "{%s,\"records\":%s}", meta_ok, records), 0);
	r = ks_format_parse(buf, strlen(buf), &m, &recs, &n);
	free(buf);
	if (r < 0)
		return r;
	r = n == 1 && recs[0].bad ? 1 : 0; /* 1 = record isolated as bad */
	ks_recs_free(recs, n);
	return r;
}

#define B32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define B24 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define B16 "AAAAAAAAAAAAAAAAAAAAAA=="
#define VER(n, extra)                                                                              \
	"{\"version\":" #n ",\"created\":1,\"epk\":\"" B32 "\",\"nonce\":\"" B24                   \
	"\",\"ct\":\"" B16 "\"" extra "}"

START_TEST(parser_records)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(parse_doc("{}"), 0);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(1, "") "]}}"), 0);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(2, "") "," VER(1, "") "]}}"), 0);
	/* each of these damages only record a: isolated, not fatal */
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(1, "") "," VER(2, "") "]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(1, "") "," VER(1, "") "]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(1, ",\"x\":1") "]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(0, "") "]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(-1, "") "]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":{\"versions\":[" VER(1, "") "],\"x\":0}}"), 1);
	ck_assert_int_eq(parse_doc("{\"../a\":{\"versions\":[" VER(1, "") "]}}"), 1);
	ck_assert_int_eq(parse_doc("{\"a\":[]}"), 1);
	ck_assert_int_eq(
		parse_doc("{\"a\":{\"versions\":[{\"version\":1,\"created\":1,\"epk\":\"" B32
			  "\",\"nonce\":\"" B24 "\",\"ct\":\"AAAA\"}]}}"),
		1); /* ct < tag */
	ck_assert_int_eq(
		parse_doc("{\"a\":{\"versions\":[{\"version\":1,\"created\":1,\"epk\":\"" B24
			  "\",\"nonce\":\"" B24 "\",\"ct\":\"" B16 "\"}]}}"),
		1); /* epk size */
	ck_assert_int_eq(
		parse_doc("{\"a\":{\"versions\":[{\"version\":1,\"created\":1,\"epk\":\"" B32
			  "\",\"nonce\":\"" B24 "\",\"ct\":\"AAAAAAAAAAAAAAAAAAAAAB==\"}]}}"),
		1); /* non-canonical base64 padding bits */
	/* structural damage refuses the store */
	ck_assert_int_eq(parse_doc("[]"), -EBADMSG);
	ck_assert_int_eq(parse_doc("{\"a\":1,\"a\":2}"), -EBADMSG); /* duplicate key */
}
END_TEST

START_TEST(parser_caps)
{
	ck_assert_int_ge(sodium_init(), 0);
	/* 65 versions: over KS_MAX_VERSIONS */
	size_t cap = 65 * 200 + 256;
	char *recs = malloc(cap), *p = recs;
	p += sprintf(p, "{\"a\":{\"versions\":[");
	for (int i = 65; i >= 1; i--)
		p += sprintf(p,
			     "%s{\"version\":%d,\"created\":1,\"epk\":\"" B32 "\",\"nonce\":\"" B24
			     "\",\"ct\":\"" B16 "\"}",
			     i == 65 ? "" : ",", i);
	sprintf(p, "]}}");
	ck_assert_int_eq(parse_doc(recs), 1);
	free(recs);
	/* ct over the value cap */
	size_t big = sodium_base64_ENCODED_LEN(KS_MAX_CT + 3, sodium_base64_VARIANT_ORIGINAL);
	char *doc = malloc(big + 512), *ct = malloc(big);
	memset(ct, 'A', big - 1);
	ct[big - 1] = '\0';
	ct[(big - 1) / 4 * 4] = '\0';
	struct ks_meta m;
	struct ks_rec *rr = NULL;
	size_t n = 0;
	int len = sprintf(doc,
			  "{%s,\"records\":{\"a\":{\"versions\":[{\"version\":1,\"created\":1,"
			  "\"epk\":\"" B32 "\",\"nonce\":\"" B24 "\",\"ct\":\"%s\"}]}}}",
			  meta_ok, ct);
	ck_assert_int_eq(ks_format_parse(doc, (size_t)len, &m, &rr, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(rr[0].bad);
	ks_recs_free(rr, n);
	free(doc);
	free(ct);
}
END_TEST

START_TEST(parser_meta)
{
	struct ks_meta m;
	struct ks_rec *rr = NULL;
	size_t n = 0;
	static const char *bad[] = {
		"{\"records\":{}}",
		"{\"format\":\"keyhole-store\",\"format_version\":1,\"store_id\":\"a b\","
		"\"public_key\":\"" B32 "\",\"records\":{}}",
		"{\"format\":\"keyhole-store\",\"format_version\":1,\"store_id\":\"\","
		"\"public_key\":\"" B32 "\",\"records\":{}}",
		"{\"format\":\"keyhole-store\",\"format_version\":1,\"store_id\":\"a\","
		"\"public_key\":\"" B24 "\",\"records\":{}}",
		"{\"format\":\"keyhole-store\",\"format_version\":1,\"store_id\":\"a\","
		"\"public_key\":\"" B32 "\",\"extra\":1,\"records\":{}}",
		"{\"format\":\"keyhole-store\",\"format_version\":1,\"store_id\":\"a\","
		"\"public_key\":\"" B32 "\",\"private_key\":{\"kdf\":\"argon2id13\",\"opslimit\":"
		"99999999,\"memlimit\":65536,\"salt\":\"" B16 "\",\"nonce\":\"" B24 "\","
		"\"ciphertext\":\"" B32 "\"},\"records\":{}}",
	};

	ck_assert_int_ge(sodium_init(), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ks_format_parse(bad[i], strlen(bad[i]), &m, &rr, &n) == -EBADMSG,
			      "meta %zu accepted", i);
	const char *v3 = "{\"format\":\"keyhole-store\",\"format_version\":3,\"store_id\":\"a\","
			 "\"public_key\":\"" B32 "\",\"records\":{}}";
	ck_assert_int_eq(ks_format_parse(v3, strlen(v3), &m, &rr, &n), -EPROTONOSUPPORT);
}
END_TEST

START_TEST(keyfile_parse)
{
	char dir[] = "/tmp/check_seal.XXXXXX", path[64];
	uint8_t *out;
	static const char *bad[] = { "",
				     "keyhole-key-v1 \n",
				     "keyhole-key-v2 " B32 "\n",
				     "keyhole-key-v1 " B32,
				     "keyhole-key-v1 " B24 "\n",
				     "keyhole-key-v1 " B32 "\nX" };

	keys();
	out = sodium_malloc(32);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	ck_assert_int_eq(ks_keyfile_write(path, sk), 0);
	ck_assert_int_eq(ks_keyfile_write(path, sk), -EEXIST);
	ck_assert_int_eq(ks_keyfile_read(path, out), 0);
	ck_assert_mem_eq(out, sk, 32);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unlink(path);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0400);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		close(fd);
		ck_assert_msg(ks_keyfile_read(path, out) == -EBADMSG, "key file %zu accepted", i);
	}
	unlink(path);
	rmdir(dir);
	sodium_free(out);
}
END_TEST

START_TEST(sealed_doc)
{
	char *json = NULL, id[KS_ID_MAX + 1], *name = NULL;
	struct ks_ver v;
	uint8_t out[8];

	keys();
	ck_assert_int_eq(ks_seal_record("sid", pk, "x/y", 4, (const uint8_t *)"val", 3, &json), 0);
	ck_assert_ptr_null(strstr(json, "val\""));
	ck_assert_int_eq(ks_sealed_decode(json, strlen(json), id, &name, &v), 0);
	ck_assert_str_eq(id, "sid");
	ck_assert_str_eq(name, "x/y");
	ck_assert_uint_eq(v.version, 4);
	ck_assert_int_eq(ks_unseal("sid", pk, sk, "x/y", &v, out), 0);
	ck_assert_mem_eq(out, "val", 3);
	ks_ver_clear(&v);
	free(name);
	ck_assert_int_eq(ks_seal_record("sid", pk, "../y", 1, (const uint8_t *)"v", 1, &name),
			 -EINVAL);
	ck_assert_int_eq(ks_seal_record("sid", pk, "y", 0, (const uint8_t *)"v", 1, &name),
			 -EINVAL);
	for (size_t cut = 0; cut < strlen(json); cut += 7)
		ck_assert_int_eq(ks_sealed_decode(json, cut, id, &name, &v), -EBADMSG);
	free(json);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("seal");
	TCase *t = tcase_create("seal");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, seal_round_trip);
	tcase_add_test(t, seal_fresh_each_time);
	tcase_add_test(t, wrong_key);
	tcase_add_test(t, every_bit_flipped);
	tcase_add_test(t, low_order_pk);
	tcase_add_test(t, wrap_unwrap);
	tcase_add_test(t, parser_records);
	tcase_add_test(t, parser_caps);
	tcase_add_test(t, parser_meta);
	tcase_add_test(t, keyfile_parse);
	tcase_add_test(t, sealed_doc);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)
