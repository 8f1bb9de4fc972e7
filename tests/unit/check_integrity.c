/* SPDX-License-Identifier: MIT */
/* Store integrity (format 2): writer signatures checked against a local
 * trust file (a record sealed with only the public key, or signed by an
 * unpinned writer, or with any signed byte changed, is refused; the others
 * keep working), signed meta (swapped public key, downgrade to unsigned
 * format 1), rollback marks in a state file (refused on open; on reload
 * the newer record is kept and the refusal reported), signed tombstones
 * (rm + put continues the versions), migrate --sign of the format-1 KAT,
 * the v2 KAT, and the trust file parser. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "keystore.h"
#include "ks_internal.h"

struct fx {
	char dir[64], store[96], key[96], wkey[96], trust[96], state[96];
};

static void fx_paths(struct fx *f)
{
	ck_assert_int_ge(sodium_init(), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/check_integrity.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->store, sizeof(f->store), "%s/store.json", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/agent.key", f->dir);
	snprintf(f->wkey, sizeof(f->wkey), "%s/writer.key", f->dir);
	snprintf(f->trust, sizeof(f->trust), "%s/writers", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/agent.state", f->dir);
}

static void fx_new(struct fx *f)
{
	struct ks_init_opts io = { .key_file = f->key, .passphrase_fd = -1 };
	struct ks_sign_opts so = { .writer_key = f->wkey, .trust_file = f->trust };

	fx_paths(f);
	ck_assert_int_eq(ks_init_signed(f->store, &io, &so), 0);
}

static void fx_done(struct fx *f)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* refusals reported by the keystore */
static struct {
	char name[64];
	int err;
	bool kept;
	unsigned n;
} seen;

static void on_refusal(const struct ks_refusal *r, void *arg)
{
	(void)arg;
	snprintf(seen.name, sizeof(seen.name), "%s", r->name ? r->name : "");
	seen.err = r->err;
	seen.kept = r->kept;
	seen.n++;
}

/* reader (agent): private key, trust file, state file */
static int reader(struct fx *f, struct ks_store **ks)
{
	struct ks_open_opts o = { .key_file = f->key, .passphrase_fd = -1 };
	struct ks_sign_opts so = { .trust_file = f->trust,
				   .state_file = f->state,
				   .on_refusal = on_refusal };

	memset(&seen, 0, sizeof(seen));
	return ks_open_signed(f->store, &o, &so, ks);
}

/* writer: writer key (NULL: an attacker without one), no private key */
static struct ks_store *writer(struct fx *f, const char *wkey)
{
	struct ks_open_opts o = { .public_only = true, .passphrase_fd = -1 };
	struct ks_sign_opts so = { .writer_key = wkey };
	struct ks_store *ks = NULL;

	ck_assert_int_eq(ks_open_signed(f->store, &o, &so, &ks), 0);
	return ks;
}

static void put(struct fx *f, const char *wkey, const char *name, const char *v, bool rotate)
{
	struct ks_store *ks = writer(f, wkey);
	const uint8_t *p = (const uint8_t *)v;

	ck_assert_int_eq(rotate ? ks_rotate(ks, name, p, strlen(v), 5, NULL)
				: ks_put(ks, name, p, strlen(v), NULL),
			 0);
	ks_close(ks);
}

static void expect(struct ks_store *ks, const char *name, const char *want, uint64_t ver)
{
	struct ks_secret *s = NULL;

	ck_assert_int_eq(ks_get(ks, name, 0, &s), 0);
	ck_assert_uint_eq(s->len, strlen(want));
	ck_assert_mem_eq(s->data, want, s->len);
	ck_assert_uint_eq(s->version, ver);
	ks_secret_free(s);
}

static int get_err(struct ks_store *ks, const char *name)
{
	struct ks_secret *s = NULL;
	int r = ks_get(ks, name, 0, &s);

	ks_secret_free(s);
	return r;
}

START_TEST(signed_round_trip)
{
	struct fx f;
	struct ks_store *ks = NULL;

	fx_new(&f);
	put(&f, f.wkey, "payments/db", "good", false);
	put(&f, f.wkey, "payments/db", "better", true);
	ck_assert_int_eq(reader(&f, &ks), 0);
	ck_assert_int_eq(ks_format_version(ks), 2);
	expect(ks, "payments/db", "better", 2);
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 0);
	ck_assert_uint_eq(seen.n, 0);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

/* The review's attack: seal with only the public key, splice it in. */
START_TEST(unsigned_splice_refused)
{
	struct fx f;
	struct ks_store *ks = NULL;
	char rogue[128];
	uint8_t pk[KS_PK_BYTES];
	struct ks_info *li = NULL;
	size_t n = 0;

	fx_new(&f);
	put(&f, f.wkey, "payments/db", "good", false);
	put(&f, f.wkey, "payments/api", "api", false);
	put(&f, NULL, "payments/evil", "ATTACKER-CHOSEN", false); /* no writer key */
	snprintf(rogue, sizeof(rogue), "%s/rogue.key", f.dir);
	ck_assert_int_eq(ks_writer_keygen(rogue, pk), 0); /* a writer nobody pinned */
	put(&f, rogue, "payments/api", "ATTACKER-2", true);
	ck_assert_int_eq(reader(&f, &ks), 0);
	ck_assert_int_eq(get_err(ks, "payments/evil"), -ENOKEY);
	ck_assert_int_eq(get_err(ks, "payments/api"), -ENOKEY);
	expect(ks, "payments/db", "good", 1); /* the others keep working */
	ck_assert_uint_eq(seen.n, 2);
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 2);
	ck_assert_int_eq(ks_list(ks, &li, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(li[1].name, "payments/db");
	ck_assert_int_eq(li[1].err, 0);
	ck_assert_int_eq(li[2].err, -ENOKEY);
	free(li);
	ks_close(ks);
	/* pinning the rogue writer makes its record acceptable */
	ck_assert_int_eq(ks_trust_add(f.trust, pk, "ci"), 0);
	ck_assert_int_eq(reader(&f, &ks), 0);
	expect(ks, "payments/api", "ATTACKER-2", 2);
	ks_close(ks);
	ck_assert_int_eq(ks_trust_remove(f.trust, "ci"), 0);
	ck_assert_int_eq(ks_trust_remove(f.trust, "ci"), -ENOENT);
	fx_done(&f);
}
END_TEST

/* Any signed byte changed: the record is refused, never served. */
START_TEST(signed_fields_bound)
{
	static const char *const fields[] = { "version", "created", "sig", "writer", "ct" };
	struct fx f;

	fx_new(&f);
	put(&f, f.wkey, "a/b", "value", false);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *root = json_load_file(f.store, 0, NULL), *v;
		struct ks_store *ks = NULL;

		ck_assert_ptr_nonnull(root);
		v = json_array_get(
			json_object_get(json_object_get(json_object_get(root, "records"), "a/b"),
					"versions"),
			0);
		if (strcmp(fields[i], "version") == 0 || strcmp(fields[i], "created") == 0) {
			json_object_set_new(
				v, fields[i],
				json_integer(json_integer_value(json_object_get(v, fields[i])) +
					     1));
		} else {
			char *s = strdup(json_string_value(json_object_get(v, fields[i])));
			s[2] = s[2] == 'A' ? 'B' : 'A';
			json_object_set_new(v, fields[i], json_string(s));
			free(s);
		}
		ck_assert_int_eq(json_dump_file(root, f.store, 0), 0);
		json_decref(root);
		ck_assert_int_eq(reader(&f, &ks), 0);
		ck_assert_msg(get_err(ks, "a/b") == -ENOKEY, "%s changed, still served", fields[i]);
		ks_close(ks);
		/* restore a good record */
		{
			struct ks_store *w = writer(&f, f.wkey);
			ck_assert_int_eq(ks_rm(w, "a/b"), 0);
			ck_assert_int_eq(ks_put(w, "a/b", (const uint8_t *)"value", 5, NULL), 0);
			ks_close(w);
		}
	}
	fx_done(&f);
}
END_TEST

/* A swapped public key (the writer's attack): meta signature fails. */
START_TEST(meta_swap_and_downgrade)
{
	struct fx f;
	struct ks_store *ks = NULL;
	json_t *root;
	uint8_t pk[32], sk[32];
	char b64[64];

	fx_new(&f);
	put(&f, f.wkey, "x", "1", false);
	ck_assert_int_eq(reader(&f, &ks), 0); /* marks the store as seen signed */
	ks_close(ks);
	root = json_load_file(f.store, 0, NULL);
	crypto_box_keypair(pk, sk);
	sodium_bin2base64(b64, sizeof(b64), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(root, "public_key", json_string(b64));
	ck_assert_int_eq(json_dump_file(root, f.store, 0), 0);
	{
		struct ks_open_opts o = { .public_only = true, .passphrase_fd = -1 };
		struct ks_sign_opts so = { .trust_file = f.trust };
		ck_assert_int_eq(ks_open_signed(f.store, &o, &so, &ks), -ENOKEY);
	}
	/* downgrade: format 1, signatures stripped, as if never migrated */
	json_object_set_new(root, "format_version", json_integer(1));
	json_object_del(root, "signature");
	json_object_set_new(root, "public_key",
			    json_string(json_string_value(json_object_get(root, "public_key"))));
	ck_assert_int_eq(json_dump_file(root, f.store, 0), 0);
	json_decref(root);
	ck_assert_int_eq(reader(&f, &ks), -ENOKEY);
	fx_done(&f);
}
END_TEST

/* Rollback: refused on open; on reload the newer record is kept. */
START_TEST(rollback)
{
	struct fx f;
	struct ks_store *ks = NULL;
	char old[128], cmd[320];
	bool changed = true;

	fx_new(&f);
	put(&f, f.wkey, "w/a", "alpha-1", false);
	put(&f, f.wkey, "w/a", "alpha-2", true);
	put(&f, f.wkey, "w/b", "beta-1", false);
	snprintf(old, sizeof(old), "%s/old.json", f.dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", f.store, old);
	ck_assert_int_eq(system(cmd), 0);
	put(&f, f.wkey, "w/a", "alpha-3", true);
	ck_assert_int_eq(reader(&f, &ks), 0);
	expect(ks, "w/a", "alpha-3", 3);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", old, f.store);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(ks_reload(ks, &changed), 0);
	ck_assert(!changed); /* nothing new to push to watchers */
	expect(ks, "w/a", "alpha-3", 3);
	expect(ks, "w/b", "beta-1", 1);
	ck_assert_str_eq(seen.name, "w/a");
	ck_assert_int_eq(seen.err, -ETIME);
	ck_assert(seen.kept);
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_int_eq(ks_reload(ks, &changed), 0); /* same document: said once */
	ck_assert_uint_eq(seen.n, 1);
	ks_close(ks);
	ck_assert_int_eq(reader(&f, &ks), 0); /* restart: nothing newer held */
	ck_assert_int_eq(get_err(ks, "w/a"), -ETIME);
	ck_assert(!seen.kept);
	expect(ks, "w/b", "beta-1", 1);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

START_TEST(tombstone_continues_versions)
{
	struct fx f;
	struct ks_store *ks = NULL, *w;
	uint64_t ver = 0;
	struct ks_info *li = NULL;
	size_t n = 9;

	fx_new(&f);
	put(&f, f.wkey, "t", "1", false);
	put(&f, f.wkey, "t", "2", true);
	ck_assert_int_eq(reader(&f, &ks), 0);
	ks_close(ks);
	w = writer(&f, f.wkey);
	ck_assert_int_eq(ks_rm(w, "t"), 0);
	ck_assert_int_eq(ks_rm(w, "t"), -ENOENT);
	ck_assert_int_eq(ks_rotate(w, "t", (const uint8_t *)"x", 1, 5, NULL), -ENOENT);
	ck_assert_int_eq(ks_list(w, &li, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(li);
	ck_assert_int_eq(ks_put(w, "t", (const uint8_t *)"3", 1, &ver), 0);
	ck_assert_uint_eq(ver, 3);
	ks_close(w);
	ck_assert_int_eq(reader(&f, &ks), 0);
	expect(ks, "t", "3", 3);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

static void kat_path(char *buf, size_t cap, const char *file)
{
	const char *root = getenv("KH_ROOT");
	snprintf(buf, cap, "%s/tests/kat/%s", root ? root : ".", file);
}

static void kat_copy(struct fx *f, const char *dir)
{
	char cmd[4096], src[256];

	fx_paths(f);
	kat_path(src, sizeof(src), dir);
	snprintf(
		cmd, sizeof(cmd),
		"cp '%s/store.json' '%s' && cp '%s/agent.key' '%s' && chmod 0400 '%s' && "
		"{ [ ! -f '%s/writer.key' ] || { cp '%s/writer.key' '%s' && chmod 0400 '%s'; }; } && "
		"{ [ ! -f '%s/writers' ] || { cp '%s/writers' '%s' && chmod 0644 '%s'; }; }",
		src, f->store, src, f->key, f->key, src, src, f->wkey, f->wkey, src, src, f->trust,
		f->trust);
	ck_assert_int_eq(system(cmd), 0);
}

/* The format-1 KAT: read with the warning, then migrate --sign. */
START_TEST(kat_v1_migrate)
{
	struct fx f;
	struct ks_store *ks = NULL, *w;
	uint8_t pk[32];
	size_t n = 0;

	kat_copy(&f, ".");
	ck_assert_int_eq(reader(&f, &ks), 0); /* no trust file yet: format 1 reads */
	ck_assert_int_eq(ks_format_version(ks), 1);
	expect(ks, "kat/plain", "correct horse battery staple", 1);
	ks_close(ks);
	ck_assert_int_eq(ks_writer_keygen(f.wkey, pk), 0);
	ck_assert_int_eq(ks_trust_add(f.trust, pk, "admin"), 0);
	w = writer(&f, NULL);
	ck_assert_int_eq(ks_migrate_sign(w, &n), -ENOKEY);
	ks_close(w);
	w = writer(&f, f.wkey);
	ck_assert_int_eq(ks_migrate_sign(w, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ks_migrate_sign(w, &n), -EALREADY);
	ks_close(w);
	ck_assert_int_eq(reader(&f, &ks), 0);
	ck_assert_int_eq(ks_format_version(ks), 2);
	expect(ks, "kat/rotated", "three", 3);
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 0);
	ck_assert_uint_eq(seen.n, 0);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

/* A format-1 store of n records (value "v<i>") next to f's keys; record i
 * gets 1 + i % 3 versions, so migrate signs several versions per record. */
static void fx_v1(struct fx *f, size_t n)
{
	struct ks_init_opts io = { .key_file = f->key, .passphrase_fd = -1 };
	struct ks_open_opts oo = { .public_only = true, .passphrase_fd = -1 };
	struct ks_store *ks = NULL;
	uint8_t pk[KS_PK_BYTES];
	json_t *root, *recs;

	fx_paths(f);
	ck_assert_int_eq(ks_init(f->store, &io), 0);
	ck_assert_int_eq(ks_open(f->store, &oo, &ks), 0);
	ks_public_key(ks, pk);
	root = json_load_file(f->store, 0, NULL);
	ck_assert_ptr_nonnull(root);
	json_object_set_new(root, "format_version", json_integer(1));
	json_object_del(root, "signature");
	json_object_del(root, "writer");
	recs = json_object_get(root, "records");
	for (size_t i = 0; i < n; i++) {
		struct ks_ver v[3] = { { 0 } };
		struct ks_rec rec = { .v = v, .n = 1 + i % 3 };
		char name[32], val[48];

		snprintf(name, sizeof(name), "m/r%03zu", i);
		rec.name = name;
		for (size_t j = 0; j < rec.n; j++) {
			v[j].version = rec.n - j;
			v[j].created = 1700000000 + (int64_t)i;
			snprintf(val, sizeof(val), "v%zu.%llu", i,
				 (unsigned long long)v[j].version);
			ck_assert_int_eq(ks_seal(ks_store_id(ks), pk, name, (const uint8_t *)val,
						 strlen(val), &v[j]),
					 0);
		}
		json_object_set_new(recs, name, ks_rec_encode(&rec));
		for (size_t j = 0; j < rec.n; j++)
			ks_ver_clear(&v[j]);
	}
	ck_assert_int_eq(json_dump_file(root, f->store, JSON_SORT_KEYS), 0);
	json_decref(root);
	ks_close(ks);
}

/* Renames onto the store file seen by an inotify fd (one per rewrite). */
static unsigned store_renames(int ifd)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned n = 0;
	ssize_t len;

	while ((len = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *e = (const struct inotify_event *)(void *)p;
			ck_assert_msg(!(e->mask & IN_Q_OVERFLOW), "inotify queue overflowed");
			if ((e->mask & IN_MOVED_TO) && e->len && strcmp(e->name, "store.json") == 0)
				n++;
			p += sizeof(*e) + e->len;
		}
	}
	return n;
}

/* migrate --sign signs in memory and rewrites the store once, not once
 * per record (it was quadratic: a 10k store took over 12 CPU minutes). */
START_TEST(migrate_one_write)
{
	enum { N = 200 };
	struct fx f;
	struct ks_store *ks = NULL, *w;
	uint8_t pk[32];
	size_t n = 0;
	int ifd;

	fx_v1(&f, N);
	ck_assert_int_eq(ks_writer_keygen(f.wkey, pk), 0);
	ck_assert_int_eq(ks_trust_add(f.trust, pk, "admin"), 0);
	w = writer(&f, f.wkey);
	ck_assert_int_eq(ks_format_version(w), 1);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(ifd, 0);
	/* IN_CREATE too: each rewrite's temp file sits between two renames,
	 * so the kernel cannot merge identical consecutive IN_MOVED_TO events */
	ck_assert_int_ge(inotify_add_watch(ifd, f.dir, IN_MOVED_TO | IN_CREATE), 0);
	ck_assert_int_eq(ks_migrate_sign(w, &n), 0);
	ck_assert_uint_eq(n, N);
	ck_assert_uint_eq(store_renames(ifd), 1);
	/* the handle that migrated writes signed records right away */
	ck_assert_int_eq(ks_rotate(w, "m/r000", (const uint8_t *)"new", 3, 5, NULL), 0);
	ck_assert_uint_eq(store_renames(ifd), 1);
	close(ifd);
	ks_close(w);
	ck_assert_int_eq(reader(&f, &ks), 0);
	ck_assert_int_eq(ks_format_version(ks), 2);
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 0);
	ck_assert_uint_eq(seen.n, 0);
	expect(ks, "m/r000", "new", 2);
	expect(ks, "m/r001", "v1.2", 2);
	expect(ks, "m/r198", "v198.1", 1);
	ks_close(ks);
	fx_done(&f);
}
END_TEST

/* Another writer changed the store between open and migrate: nothing is
 * written (still format 1, nothing signed); a fresh run then succeeds. */
START_TEST(migrate_conflict_writes_nothing)
{
	struct fx f;
	struct ks_store *w;
	uint8_t pk[32];
	size_t n = 0;
	json_t *root;
	char *before = NULL, *after = NULL;
	size_t lb = 0, la = 0;

	fx_v1(&f, 20);
	ck_assert_int_eq(ks_writer_keygen(f.wkey, pk), 0);
	ck_assert_int_eq(ks_trust_add(f.trust, pk, "admin"), 0);
	w = writer(&f, f.wkey);
	root = json_load_file(f.store, 0, NULL);
	json_object_del(json_object_get(root, "records"), "m/r007");
	ck_assert_int_eq(json_dump_file(root, f.store, JSON_SORT_KEYS), 0);
	json_decref(root);
	ck_assert_int_eq(ks_read_file(f.store, 1u << 24, &before, &lb), 0);
	ck_assert_int_eq(ks_migrate_sign(w, &n), -ESTALE);
	ck_assert_int_eq(ks_read_file(f.store, 1u << 24, &after, &la), 0);
	ck_assert_uint_eq(lb, la);
	ck_assert_mem_eq(before, after, lb);
	free(before);
	free(after);
	ks_close(w);
	w = writer(&f, f.wkey);
	ck_assert_int_eq(ks_format_version(w), 1);
	ck_assert_int_eq(ks_migrate_sign(w, &n), 0);
	ck_assert_uint_eq(n, 19);
	ks_close(w);
	fx_done(&f);
}
END_TEST

/* The format-2 KAT (tests/kat/v2): signatures, a tombstone, a signed
 * sealed record. */
START_TEST(kat_v2)
{
	struct fx f;
	struct ks_store *ks = NULL;
	char path[512], *doc = NULL;
	size_t len = 0;
	uint64_t ver = 0;

	kat_copy(&f, "v2");
	ck_assert_int_eq(reader(&f, &ks), 0);
	ck_assert_str_eq(ks_store_id(ks), "4f1cc169fda3b1884ad70bedf911da59");
	expect(ks, "kat/plain", "correct horse battery staple", 1);
	expect(ks, "kat/rotated", "three", 3);
	ck_assert_int_eq(get_err(ks, "kat/removed"), -ENOENT);
	ck_assert_int_eq(ks_verify(ks, NULL, NULL), 0);
	ks_close(ks);
	{
		struct ks_store *w = writer(&f, f.wkey);
		kat_path(path, sizeof(path), "v2/sealed.json");
		ck_assert_int_eq(ks_read_file(path, 65536, &doc, &len), 0);
		ck_assert_int_eq(ks_import_record(w, doc, len), 0);
		free(doc);
		ck_assert_int_eq(ks_put(w, "kat/removed", (const uint8_t *)"b", 1, &ver), 0);
		ck_assert_uint_eq(ver, 2);
		ks_close(w);
	}
	ck_assert_int_eq(reader(&f, &ks), 0);
	expect(ks, "kat/imported", "imported value", 1);
	ks_close(ks);
	/* an empty trust file: nothing is accepted, the meta first */
	ck_assert_int_eq(truncate(f.trust, 0), 0);
	ck_assert_int_eq(reader(&f, &ks), -ENOKEY);
	fx_done(&f);
}
END_TEST

START_TEST(trust_file)
{
	static const char *const bad[] = {
		"ed25519 AAAA admin\n",
		"ed25519 xm3pQTZeOMVCHv0o7fdb0KZzxd8oqu1v+FpukVachzA=\n",
		"ed25519 xm3pQTZeOMVCHv0o7fdb0KZzxd8oqu1v+FpukVachzA= bad label\n",
		"rsa xm3pQTZeOMVCHv0o7fdb0KZzxd8oqu1v+FpukVachzA= a\n",
		" ed25519 xm3pQTZeOMVCHv0o7fdb0KZzxd8oqu1v+FpukVachzA= a\n",
	};
	const char *good = "# c\n\ned25519 xm3pQTZeOMVCHv0o7fdb0KZzxd8oqu1v+FpukVachzA= ci@x\n";
	struct ks_trust t = { 0 };
	struct fx f;
	uint8_t pk[32];

	ck_assert_int_ge(sodium_init(), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ks_trust_parse(bad[i], strlen(bad[i]), &t) == -EBADMSG, "line %zu",
			      i);
	ck_assert_int_eq(ks_trust_parse(good, strlen(good), &t), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_str_eq(t.v[0].label, "ci@x");
	ks_trust_clear(&t);
	fx_new(&f);
	ck_assert_int_eq(ks_writer_public(f.wkey, pk), 0);
	ck_assert_int_eq(ks_trust_add(f.trust, pk, "again"), -EEXIST);
	ck_assert_int_eq(chmod(f.trust, 0666), 0);
	ck_assert_int_eq(ks_trust_load(f.trust, &t), -EPERM);
	ck_assert_int_eq(chmod(f.wkey, 0440), 0);
	ck_assert_int_eq(ks_writer_public(f.wkey, pk), -EPERM);
	fx_done(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("integrity");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, signed_round_trip);
	tcase_add_test(t, unsigned_splice_refused);
	tcase_add_test(t, signed_fields_bound);
	tcase_add_test(t, meta_swap_and_downgrade);
	tcase_add_test(t, rollback);
	tcase_add_test(t, tombstone_continues_versions);
	tcase_add_test(t, kat_v1_migrate);
	tcase_add_test(t, migrate_one_write);
	tcase_add_test(t, migrate_conflict_writes_nothing);
	tcase_add_test(t, kat_v2);
	tcase_add_test(t, trust_file);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)
