/* SPDX-License-Identifier: MIT */
/* Store-level tests of keystore/: round trip, wrong key, swapped public key,
 * AD binding (record moved to another name / version / store), every byte
 * of a record flipped, truncated and garbage store files, known-answer
 * files in tests/kat/, key file mode, init twice, concurrent writers,
 * reload and watch (other files in the store's directory ignored). Each
 * test works in its own mkdtemp() directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "keystore.h"
#include "ks_internal.h"

struct fx {
	char dir[96];
	char store[160];
	char key[160];
};

/* Parent-side (unchecked) fixture: every test's directories live below
 * base, removed after the test case even when a test fails. */
static char base[64];

static void base_setup(void)
{
	snprintf(base, sizeof(base), "/tmp/check_keystore.XXXXXX");
	if (!mkdtemp(base))
		abort();
}

static void base_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", base);
}

static void fx_init(struct fx *f)
{
	ck_assert_int_ge(sodium_init(), 0);
	snprintf(f->dir, sizeof(f->dir), "%s/t.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->store, sizeof(f->store), "%s/store.json", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/agent.key", f->dir);
}

static void fx_done(struct fx *f)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct ks_store *fx_open(struct fx *f)
{
	struct ks_open_opts o = { .key_file = f->key, .passphrase_fd = -1 };
	struct ks_store *ks = NULL;
	ck_assert_int_eq(ks_open(f->store, &o, &ks), 0);
	return ks;
}

static void fx_new(struct fx *f)
{
	struct ks_init_opts io = { .key_file = f->key, .passphrase_fd = -1 };
	fx_init(f);
	ck_assert_int_eq(ks_init(f->store, &io), 0);
}

static void put_str(struct ks_store *ks, const char *name, const char *v)
{
	uint64_t ver = 0;
	ck_assert_int_eq(ks_put(ks, name, (const uint8_t *)v, strlen(v), &ver), 0);
	ck_assert_uint_eq(ver, 1);
}

static void expect(struct ks_store *ks, const char *name, uint64_t version, const char *want)
{
	struct ks_secret *s = NULL;
	ck_assert_int_eq(ks_get(ks, name, version, &s), 0);
	ck_assert_uint_eq(s->len, strlen(want));
	ck_assert_mem_eq(s->data, want, s->len);
	ks_secret_free(s);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	ck_assert_int_eq(ks_read_file(path, 1u << 26, &buf, len), 0);
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static int open_err(struct fx *f)
{
	struct ks_open_opts o = { .key_file = f->key, .passphrase_fd = -1 };
	struct ks_store *ks = NULL;
	int r = ks_open(f->store, &o, &ks);
	ks_close(ks);
	return r;
}

START_TEST(round_trip)
{
	struct fx f;
	uint8_t bin[300];
	struct ks_secret *s = NULL;
	struct ks_info *li = NULL;
	struct ks_version_info *h = NULL;
	size_t n = 0;
	uint64_t ver = 0;

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(ks_put(ks, "app/bin", bin, sizeof(bin), &ver), 0);
	put_str(ks, "app/db", "s3cret");
	ck_assert_int_eq(ks_put(ks, "app/db", (const uint8_t *)"x", 1, NULL), -EEXIST);
	ck_assert_int_eq(ks_rotate(ks, "app/db", (const uint8_t *)"two", 3, 5, &ver), 0);
	ck_assert_uint_eq(ver, 2);
	ck_assert_int_eq(ks_rotate(ks, "app/none", (const uint8_t *)"x", 1, 5, NULL), -ENOENT);
	ks_close(ks);

	ks = fx_open(&f); /* everything came from disk */
	ck_assert_int_eq(ks_get(ks, "app/bin", 0, &s), 0);
	ck_assert_uint_eq(s->len, sizeof(bin));
	ck_assert_mem_eq(s->data, bin, sizeof(bin));
	ks_secret_free(s);
	expect(ks, "app/db", 0, "two");
	expect(ks, "app/db", 1, "s3cret");
	ck_assert_int_eq(ks_get(ks, "app/db", 3, &s), -ENOENT);
	ck_assert_int_eq(ks_list(ks, &li, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(li[0].name, "app/bin");
	ck_assert_str_eq(li[1].name, "app/db");
	ck_assert_uint_eq(li[1].version, 2);
	ck_assert_uint_eq(li[1].size, 3);
	ck_assert_uint_eq(li[1].n_versions, 2);
	free(li);
	ck_assert_int_eq(ks_history(ks, "app/db", &h, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(h[0].version, 2);
	ck_assert_uint_eq(h[1].size, 6);
	free(h);
	ck_assert_int_eq(ks_rm(ks, "app/bin"), 0);
	ck_assert_int_eq(ks_rm(ks, "app/bin"), -ENOENT);
	ck_assert_int_eq(ks_get(ks, "app/bin", 0, &s), -ENOENT);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

START_TEST(rotate_keeps_n)
{
	struct fx f;
	struct ks_version_info *h = NULL;
	struct ks_secret *s = NULL;
	size_t n = 0;
	char v[16];

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	put_str(ks, "k", "v1");
	for (int i = 2; i <= 9; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		ck_assert_int_eq(ks_rotate(ks, "k", (const uint8_t *)v, strlen(v), 3, NULL), 0);
	}
	ck_assert_int_eq(ks_history(ks, "k", &h, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(h[0].version, 9);
	ck_assert_uint_eq(h[2].version, 7);
	free(h);
	expect(ks, "k", 7, "v7");
	ck_assert_int_eq(ks_get(ks, "k", 6, &s), -ENOENT);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

START_TEST(wrong_private_key)
{
	struct fx a, b;

	fx_new(&a);
	fx_new(&b);
	struct ks_store *ks = fx_open(&a);
	put_str(ks, "x", "value");
	ks_close(ks);
	/* b's key against a's store: the recorded public key does not match */
	struct ks_open_opts o = { .key_file = b.key, .passphrase_fd = -1 };
	ck_assert_int_eq(ks_open(a.store, &o, &ks), -EKEYREJECTED);
	ck_assert_str_eq(ks_strerror(-EKEYREJECTED), "public key does not match private key");
	fx_done(&a);
	fx_done(&b);
}
END_TEST

/* Replace the public key recorded in the store with another one. */
START_TEST(swapped_public_key)
{
	struct fx f;
	uint8_t pk[32], sk[32];
	char b64[64];
	size_t len;

	fx_new(&f);
	char *buf = slurp(f.store, &len);
	json_t *root = json_loadb(buf, len, 0, NULL);
	free(buf);
	crypto_box_keypair(pk, sk);
	sodium_bin2base64(b64, sizeof(b64), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(root, "public_key", json_string(b64));
	buf = json_dumps(root, 0);
	spit(f.store, buf, strlen(buf));
	free(buf);
	json_decref(root);
	ck_assert_int_eq(open_err(&f), -EKEYREJECTED);
	fx_done(&f);
}
END_TEST

/* Move / copy a record's JSON inside the store file, then try to open it. */
static void edit_records(struct fx *f, void (*edit)(json_t *recs))
{
	size_t len;
	char *buf = slurp(f->store, &len);
	json_t *root = json_loadb(buf, len, 0, NULL);
	free(buf);
	ck_assert_ptr_nonnull(root);
	edit(json_object_get(root, "records"));
	buf = json_dumps(root, 0);
	spit(f->store, buf, strlen(buf));
	free(buf);
	json_decref(root);
}

static void move_name(json_t *recs)
{
	json_object_set(recs, "b", json_object_get(recs, "a"));
}

static void bump_version(json_t *recs)
{
	json_t *v0 = json_array_get(json_object_get(json_object_get(recs, "a"), "versions"), 0);
	json_object_set_new(v0, "version", json_integer(7));
}

static void swap_versions(json_t *recs)
{
	json_t *arr = json_object_get(json_object_get(recs, "a"), "versions");
	json_t *v0 = json_array_get(arr, 0), *v1 = json_array_get(arr, 1);
	json_t *n0 = json_object_get(v0, "version"), *n1 = json_object_get(v1, "version");
	json_int_t a = json_integer_value(n0), b = json_integer_value(n1);
	/* keep numbering valid (newest first) but pair each ct with the other number */
	json_t *c0 = json_copy(v0), *c1 = json_copy(v1);
	json_object_set_new(c0, "version", json_integer(b));
	json_object_set_new(c1, "version", json_integer(a));
	json_array_set_new(arr, 0, c1);
	json_array_set_new(arr, 1, c0);
}

START_TEST(ad_binding)
{
	struct fx f;
	struct ks_secret *s = NULL;

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	put_str(ks, "a", "alpha");
	ck_assert_int_eq(ks_rotate(ks, "a", (const uint8_t *)"alpha2", 6, 5, NULL), 0);
	ks_close(ks);

	edit_records(&f, move_name); /* copy of a under name b */
	ks = fx_open(&f);
	expect(ks, "a", 0, "alpha2");
	ck_assert_int_eq(ks_get(ks, "b", 0, &s), -EBADMSG);
	ck_assert_int_eq(ks_get(ks, "b", 1, &s), -EBADMSG);
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 1);
	ck_assert_int_eq(ks_rm(ks, "b"), 0);
	ks_close(ks);

	edit_records(&f, swap_versions); /* v1's ct labelled 2 and vice versa */
	ks = fx_open(&f);
	ck_assert_int_eq(ks_get(ks, "a", 2, &s), -EBADMSG);
	ck_assert_int_eq(ks_get(ks, "a", 1, &s), -EBADMSG);
	ks_close(ks);

	edit_records(&f, bump_version);
	ks = fx_open(&f);
	ck_assert_int_eq(ks_get(ks, "a", 7, &s), -EBADMSG);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

/* A record sealed for one store opens in no other, even under the same key
 * pair: the store id is bound too. */
START_TEST(ad_binding_store)
{
	struct fx a, b;
	char *doc = NULL;
	uint8_t pk[32];

	fx_new(&a);
	fx_new(&b);
	struct ks_store *ka = fx_open(&a), *kb = fx_open(&b);
	ks_public_key(kb, pk);
	/* sealed for b's id and key, imported into a: refused by id */
	ck_assert_int_eq(ks_seal_record(ks_store_id(kb), pk, "n", 1, (const uint8_t *)"v", 1, &doc),
			 0);
	ck_assert_int_eq(ks_import_record(ka, doc, strlen(doc)), -EXDEV);
	ck_assert_int_eq(ks_import_record(kb, doc, strlen(doc)), 0);
	expect(kb, "n", 0, "v");
	free(doc);
	/* same key, other store id: the AEAD refuses it */
	struct ks_ver v = { .version = 1, .created = 5 };
	uint8_t out[8];
	size_t len;
	char *buf = slurp(b.key, &len);
	free(buf);
	uint8_t *sk = sodium_malloc(32);
	ck_assert_int_eq(ks_keyfile_read(b.key, sk), 0);
	ck_assert_int_eq(ks_seal(ks_store_id(kb), pk, "n", (const uint8_t *)"v", 1, &v), 0);
	ck_assert_int_eq(ks_unseal(ks_store_id(kb), pk, sk, "n", &v, out), 0);
	ck_assert_int_eq(ks_unseal(ks_store_id(ka), pk, sk, "n", &v, out), -EBADMSG);
	ck_assert_int_eq(ks_unseal(ks_store_id(kb), pk, sk, "m", &v, out), -EBADMSG);
	v.created = 6;
	ck_assert_int_eq(ks_unseal(ks_store_id(kb), pk, sk, "n", &v, out), -EBADMSG);
	ks_ver_clear(&v);
	sodium_free(sk);
	ks_close(ka);
	ks_close(kb);
	fx_done(&a);
	fx_done(&b);
}
END_TEST

/* Flip every byte of record "t/a"'s text in the store file in turn: the
 * flip is always detected (store refused, or a record fails to open) and
 * the neighbour record "t/b" always opens with its value. */
START_TEST(every_byte_flipped)
{
	struct fx f;
	size_t len, start, end;
	static const uint8_t masks[] = { 0x01, 0x80 };

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	put_str(ks, "t/a", "target value");
	ck_assert_int_eq(ks_rotate(ks, "t/a", (const uint8_t *)"target v2", 9, 5, NULL), 0);
	put_str(ks, "t/b", "neighbour");
	ks_close(ks);
	char *orig = slurp(f.store, &len);
	char *p = strstr(orig, "\"t/a\""), *q = strstr(orig, "\"t/b\"");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert(p < q); /* sorted keys: t/a's text ends where t/b starts */
	start = (size_t)(p - orig);
	end = (size_t)(q - orig);
	char *buf = malloc(len);
	unsigned refused = 0, failed = 0;
	for (size_t i = start; i < end; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(buf, orig, len);
			buf[i] = (char)(buf[i] ^ masks[m]);
			spit(f.store, buf, len);
			struct ks_open_opts o = { .key_file = f.key, .passphrase_fd = -1 };
			int r = ks_open(f.store, &o, &ks);
			if (r < 0) {
				ck_assert_msg(r == -EBADMSG, "offset %zu: open %d", i, r);
				refused++;
				continue;
			}
			int bad = ks_verify(ks, NULL, NULL);
			ck_assert_msg(bad >= 1, "offset %zu mask %x undetected", i, masks[m]);
			failed++;
			expect(ks, "t/b", 0, "neighbour");
			ks_close(ks);
		}
	}
	ck_assert_uint_gt(failed, 100); /* most flips are isolated to t/a */
	ck_assert_uint_gt(refused, 0);
	free(buf);
	free(orig);
	fx_done(&f);
}
END_TEST

/* Truncations at every length and assorted garbage: a clear -EBADMSG, no
 * crash, and the file is left exactly as it was. */
START_TEST(truncated_and_garbage)
{
	struct fx f;
	size_t len, got;
	static const char *garbage[] = { "",
					 "null",
					 "[]",
					 "{}",
					 "\"x\"",
					 "{\"records\":{}}",
					 "{\"format\":\"keyhole-store\",\"records\":[]}",
					 "\xff\xfe\x00garbage",
					 "{{{{{{{{{{{{{{{{" };

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	put_str(ks, "a", "value");
	ks_close(ks);
	char *orig = slurp(f.store, &len);
	for (size_t cut = 0; cut < len - 1; cut++) { /* len-1: only the final '\n' */
		spit(f.store, orig, cut);
		ck_assert_msg(open_err(&f) == -EBADMSG, "cut %zu", cut);
		char *now = slurp(f.store, &got);
		ck_assert_uint_eq(got, cut);
		ck_assert_mem_eq(now, orig, cut);
		free(now);
	}
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		size_t gl = i == 7 ? 10 : strlen(garbage[i]);
		spit(f.store, garbage[i], gl);
		ck_assert_msg(open_err(&f) == -EBADMSG, "garbage %zu", i);
		char *now = slurp(f.store, &got);
		ck_assert_uint_eq(got, gl);
		free(now);
	}
	spit(f.store, orig, len);
	ck_assert_int_eq(open_err(&f), 0);
	free(orig);
	fx_done(&f);
}
END_TEST

static void kat_path(char *buf, size_t cap, const char *file)
{
	const char *root = getenv("KH_ROOT");
	snprintf(buf, cap, "%s/tests/kat/%s", root ? root : ".", file);
}

static void kat_copy(struct fx *f)
{
	char src[512], cmd[1300];
	fx_init(f);
	kat_path(src, sizeof(src), "store.json");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, f->store);
	ck_assert_int_eq(system(cmd), 0);
	kat_path(src, sizeof(src), "agent.key");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0400 '%s'", src, f->key, f->key);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(kat_store)
{
	struct fx f;
	struct ks_secret *s = NULL;
	static const uint8_t bin[] = { 0x00, 0x01, 0xff, 0x00, 0x0a };

	kat_copy(&f);
	struct ks_store *ks = fx_open(&f);
	ck_assert_str_eq(ks_store_id(ks), "c6847ec7bb28353ae2fae14c2871295a");
	expect(ks, "kat/plain", 0, "correct horse battery staple");
	ck_assert_int_eq(ks_get(ks, "kat/binary", 0, &s), 0);
	ck_assert_uint_eq(s->len, sizeof(bin));
	ck_assert_mem_eq(s->data, bin, sizeof(bin));
	ks_secret_free(s);
	expect(ks, "kat/rotated", 0, "three");
	expect(ks, "kat/rotated", 2, "two");
	expect(ks, "kat/rotated", 1, "one");
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 0);

	char path[512], *doc = NULL;
	size_t len;
	kat_path(path, sizeof(path), "sealed.json");
	ck_assert_int_eq(ks_read_file(path, 65536, &doc, &len), 0);
	/* format 1 reads, but takes no writes before `migrate --sign`
	 * (check_integrity.c covers the migration of this file) */
	ck_assert_int_eq(ks_format_version(ks), 1);
	ck_assert_int_eq(ks_import_record(ks, doc, len), -EUCLEAN);
	free(doc);

	kat_path(path, sizeof(path), "store.pub");
	ck_assert_int_eq(ks_read_file(path, 65536, &doc, &len), 0);
	char id[KS_ID_MAX + 1];
	uint8_t pk[32], pk2[32];
	ck_assert_int_eq(ks_pubkey_parse(doc, len, id, pk), 0);
	free(doc);
	ks_public_key(ks, pk2);
	ck_assert_str_eq(id, ks_store_id(ks));
	ck_assert_mem_eq(pk, pk2, 32);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

static int pass_fd(const char *pass)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], pass, strlen(pass)), (ssize_t)strlen(pass));
	close(p[1]);
	return p[0];
}

START_TEST(kat_passphrase_store)
{
	char path[512];
	struct ks_store *ks = NULL;
	struct ks_secret *s = NULL;

	ck_assert_int_ge(sodium_init(), 0);
	kat_path(path, sizeof(path), "store-pass.json");
	struct ks_open_opts o = { .passphrase_fd = pass_fd("wrong passphrase\n") };
	ck_assert_int_eq(ks_open(path, &o, &ks), -EACCES);
	close(o.passphrase_fd);
	o.passphrase_fd = pass_fd("keyhole kat passphrase\n");
	ck_assert_int_eq(ks_open(path, &o, &ks), 0);
	close(o.passphrase_fd);
	ck_assert_int_eq(ks_get(ks, "kat/pass", 0, &s), 0);
	ck_assert_uint_eq(s->len, 19);
	ck_assert_mem_eq(s->data, "behind a passphrase", 19);
	ks_secret_free(s);
	ks_close(ks);
}
END_TEST

START_TEST(names)
{
	struct fx f;
	char long_ok[256], long_bad[257];
	static const char *bad[] = { "",    "/a",   "a/",    "a//b", "a/../b", "..", ".",
				     "a b", "a\nb", "x/./y", "é",    "a\\b",   "a:b" };

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	memset(long_ok, 'n', 255);
	long_ok[255] = '\0';
	memset(long_bad, 'n', 256);
	long_bad[256] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ks_put(ks, bad[i], (const uint8_t *)"v", 1, NULL) == -EINVAL,
			      "name %zu accepted", i);
	ck_assert_int_eq(ks_put(ks, long_bad, (const uint8_t *)"v", 1, NULL), -EINVAL);
	ck_assert_int_eq(ks_put(ks, long_ok, (const uint8_t *)"v", 1, NULL), 0);
	ck_assert_int_eq(ks_put(ks, "a.b/c-d_e/F9", (const uint8_t *)"v", 1, NULL), 0);
	ck_assert_int_eq(ks_rotate(ks, "../x", (const uint8_t *)"v", 1, 5, NULL), -EINVAL);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

START_TEST(value_cap)
{
	struct fx f;
	uint8_t *big = calloc(1, KS_MAX_VALUE + 1);

	fx_new(&f);
	struct ks_store *ks = fx_open(&f);
	ck_assert_int_eq(ks_put(ks, "big", big, KS_MAX_VALUE + 1, NULL), -EFBIG);
	ck_assert_int_eq(ks_put(ks, "big", big, KS_MAX_VALUE, NULL), 0);
	ks_close(ks);
	ks = fx_open(&f);
	struct ks_secret *s = NULL;
	ck_assert_int_eq(ks_get(ks, "big", 0, &s), 0);
	ck_assert_uint_eq(s->len, KS_MAX_VALUE);
	ks_secret_free(s);
	ks_close(ks);
	free(big);
	fx_done(&f);
}
END_TEST

START_TEST(key_file_mode_and_init_twice)
{
	struct fx f;
	struct ks_init_opts io;

	fx_new(&f);
	io = (struct ks_init_opts){ .key_file = f.key, .passphrase_fd = -1 };
	ck_assert_int_eq(ks_init(f.store, &io), -EEXIST);
	ck_assert_int_eq(open_err(&f), 0); /* the first store and key survive */
	struct stat st;
	ck_assert_int_eq(stat(f.key, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0400);
	ck_assert_int_eq(chmod(f.key, 0644), 0);
	ck_assert_int_eq(open_err(&f), -EPERM);
	ck_assert_int_eq(chmod(f.key, 0440), 0);
	ck_assert_int_eq(open_err(&f), -EPERM);
	ck_assert_int_eq(chmod(f.key, 0600), 0);
	ck_assert_int_eq(open_err(&f), 0);
	/* an existing key file is never overwritten either */
	char other[160];
	snprintf(other, sizeof(other), "%s/other.json", f.dir);
	ck_assert_int_eq(ks_init(other, &io), -EEXIST);
	ck_assert_int_eq(access(other, F_OK), -1);
	ck_assert_int_eq(open_err(&f), 0);
	fx_done(&f);
}
END_TEST

START_TEST(concurrent_writers)
{
	struct fx f;
	pid_t kids[2];

	fx_new(&f);
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		ck_assert_int_ge(kids[k], 0);
		if (kids[k] == 0) {
			struct ks_open_opts o = { .public_only = true, .passphrase_fd = -1 };
			struct ks_store *ks = NULL;
			char name[32];
			if (ks_open(f.store, &o, &ks) < 0)
				_exit(1);
			for (int i = 0; i < 50; i++) {
				snprintf(name, sizeof(name), "w%d/%d", k, i);
				if (ks_put(ks, name, (const uint8_t *)name, strlen(name), NULL) < 0)
					_exit(2);
			}
			ks_close(ks);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st = 0;
		ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct ks_store *ks = fx_open(&f);
	struct ks_info *li = NULL;
	size_t n = 0;
	ck_assert_int_eq(ks_list(ks, &li, &n), 0);
	free(li);
	ck_assert_uint_eq(n, 100);
	expect(ks, "w1/49", 0, "w1/49");
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 0);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

/* Two handles on one store: writes through either land; reload and the
 * watch fd see the other's writes; a garbage file keeps the old state. */
START_TEST(reload_and_watch)
{
	struct fx f;
	bool changed = true;
	size_t len;

	fx_new(&f);
	struct ks_store *a = fx_open(&f), *b = fx_open(&f);
	int wfd = ks_watch_fd(a);
	ck_assert_int_ge(wfd, 0);
	ck_assert_int_eq(ks_reload(a, &changed), 0);
	ck_assert(!changed);
	put_str(b, "x", "from b");
	struct pollfd pfd = { .fd = wfd, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert_int_eq(ks_watch_drain(a), 1); /* the store changed */
	ck_assert_int_eq(ks_reload(a, &changed), 0);
	ck_assert(changed);
	expect(a, "x", 0, "from b");
	/* a stale handle still writes correctly: rotate of a name it never saw */
	put_str(b, "y", "y1");
	ck_assert_int_eq(ks_rotate(a, "y", (const uint8_t *)"y2", 2, 5, NULL), 0);
	ck_assert_int_eq(ks_put(b, "y", (const uint8_t *)"z", 1, NULL), -EEXIST);
	char *orig = slurp(f.store, &len);
	spit(f.store, "{garbage", 8);
	ck_assert_int_eq(ks_reload(a, &changed), -EBADMSG);
	expect(a, "y", 0, "y2"); /* old state kept */
	spit(f.store, orig, len);
	free(orig);
	ks_close(a);
	ks_close(b);
	fx_done(&f);
}
END_TEST

/* Wait for the watch fd, drain it: 1 = the store may have changed. */
static int wake(struct ks_store *ks, int wfd)
{
	struct pollfd pfd = { .fd = wfd, .events = POLLIN };

	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	return ks_watch_drain(ks);
}

/* Files written next to the store (another program's, names that merely
 * start or end like the store's) wake the watch fd but make nobody re-read
 * the store: ks_watch_drain says 0 and the next ks_reload reads nothing.
 * To tell, the store is truncated in place first (truncate(2) raises none
 * of the watched events): a reload that read it would fail -EBADMSG. */
START_TEST(watch_ignores_other_files)
{
	static const char *const others[] = { "other.conf", "store.json.bak", "xstore.json",
					      "store.jso" };
	struct fx f;
	bool changed = true;
	size_t len;
	char path[256];

	fx_new(&f);
	struct ks_store *a = fx_open(&f), *b = fx_open(&f);
	int wfd = ks_watch_fd(a);
	ck_assert_int_ge(wfd, 0);
	put_str(b, "x", "1");
	ck_assert_int_eq(wake(a, wfd), 1);
	ck_assert_int_eq(ks_reload(a, &changed), 0);
	ck_assert(changed);
	char *orig = slurp(f.store, &len);
	ck_assert_int_eq(truncate(f.store, 0), 0);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f.dir, others[i]);
		spit(path, "x", 1);
		ck_assert_msg(wake(a, wfd) == 0, "%s woke the store", others[i]);
		changed = true;
		ck_assert_msg(ks_reload(a, &changed) == 0, "%s: store re-read", others[i]);
		ck_assert(!changed);
	}
	/* the store's own name: read (and found broken, old state kept) */
	spit(f.store, "{garbage", 8);
	ck_assert_int_eq(wake(a, wfd), 1);
	ck_assert_int_eq(ks_reload(a, &changed), -EBADMSG);
	/* a quiet wake-up now answers what the last reload found */
	snprintf(path, sizeof(path), "%s/other.conf", f.dir);
	spit(path, "y", 1);
	ck_assert_int_eq(wake(a, wfd), 0);
	ck_assert_int_eq(ks_reload(a, &changed), -EBADMSG);
	/* restored by rename (how writers replace it): read again */
	snprintf(path, sizeof(path), "%s/new.tmp", f.dir);
	spit(path, orig, len);
	ck_assert_int_eq(rename(path, f.store), 0);
	ck_assert_int_eq(wake(a, wfd), 1);
	ck_assert_int_eq(ks_reload(a, &changed), 0);
	expect(a, "x", 0, "1");
	free(orig);
	ks_close(a);
	ks_close(b);
	fx_done(&f);
}
END_TEST

START_TEST(public_only)
{
	struct fx f;
	struct ks_secret *s = NULL;
	struct ks_store *ks = NULL;

	fx_new(&f);
	struct ks_open_opts o = { .public_only = true, .passphrase_fd = -1 };
	ck_assert_int_eq(ks_open(f.store, &o, &ks), 0);
	put_str(ks, "p", "sealed without the private key");
	ck_assert_int_eq(ks_get(ks, "p", 0, &s), -EACCES);
	ks_close(ks);
	ks = fx_open(&f);
	expect(ks, "p", 0, "sealed without the private key");
	ks_close(ks);
	ck_assert_int_eq(ks_open("nosuch://x", &o, &ks), -EPROTONOSUPPORT);
	fx_done(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("keystore");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 120);
	tcase_add_unchecked_fixture(t, base_setup, base_teardown);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, rotate_keeps_n);
	tcase_add_test(t, wrong_private_key);
	tcase_add_test(t, swapped_public_key);
	tcase_add_test(t, ad_binding);
	tcase_add_test(t, ad_binding_store);
	tcase_add_test(t, every_byte_flipped);
	tcase_add_test(t, truncated_and_garbage);
	tcase_add_test(t, kat_store);
	tcase_add_test(t, kat_passphrase_store);
	tcase_add_test(t, names);
	tcase_add_test(t, value_cap);
	tcase_add_test(t, key_file_mode_and_init_twice);
	tcase_add_test(t, concurrent_writers);
	tcase_add_test(t, reload_and_watch);
	tcase_add_test(t, watch_ignores_other_files);
	tcase_add_test(t, public_only);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)
