/* SPDX-License-Identifier: MIT */
/* Keystore figures (not a pass/fail test): for 1k/10k/100k records (32-byte
 * values) the time of ks_open and of ks_open + unsealing every record; for
 * 1k/10k the time of migrate --sign and of an open that checks every
 * writer signature against the same store unsigned (median of 5,
 * interleaved); the latency of one put and one rotate on the signed 10k
 * store (median of 20). Usage: ks_bench [DIR] [MAX_RECORDS]; prints
 * key=value lines. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "ks_internal.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Build an n-record store file directly (one write), sealing each value. */
static int build(const char *store, const char *key, size_t n)
{
	struct ks_init_opts io = { .key_file = key, .passphrase_fd = -1 };
	struct ks_open_opts oo = { .public_only = true, .passphrase_fd = -1 };
	struct ks_store *ks = NULL;
	char *buf = NULL;
	size_t len = 0;
	uint8_t pk[KS_PK_BYTES], val[32];
	int r = ks_init(store, &io);

	if (r == 0)
		r = ks_open(store, &oo, &ks);
	if (r < 0)
		return r;
	ks_public_key(ks, pk);
	r = ks_read_file(store, 1u << 20, &buf, &len);
	json_t *root = NULL;
	if (r == 0)
		r = ks_file_load(buf, len, &root);
	free(buf);
	if (r < 0)
		return r;
	json_t *recs = json_object_get(root, "records");
	/* format 1 (unsigned): the open time of before signatures; bench/run.sh
	 * migrates a copy to format 2 to measure signature checks */
	json_object_set_new(root, "format_version", json_integer(1));
	for (size_t i = 0; i < n; i++) {
		char name[64];
		struct ks_ver v = { .version = 1, .created = (int64_t)time(NULL) };
		struct ks_rec rec = { .name = name, .v = &v, .n = 1 };
		snprintf(name, sizeof(name), "bench/app%zu/secret", i);
		randombytes_buf(val, sizeof(val));
		if (ks_seal(ks_store_id(ks), pk, name, val, sizeof(val), &v) < 0)
			return -EIO;
		json_object_set_new(recs, name, ks_rec_encode(&rec));
		ks_ver_clear(&v);
	}
	buf = ks_file_dump(root, &len);
	r = ks_atomic_write(store, buf, len, 0600);
	free(buf);
	json_decref(root);
	ks_close(ks);
	return r;
}

/* Wall and CPU seconds: the machine is shared, so CPU time shows what the
 * keystore itself costs when wall time is inflated by other load. */
static int open_unseal(const char *store, const char *key, double *t_open, double *t_all,
		       double *c_open, double *c_all)
{
	double c0 = cpu();
	struct ks_open_opts o = { .key_file = key, .passphrase_fd = -1 };
	struct ks_store *ks = NULL;
	struct ks_info *li = NULL;
	size_t n = 0;
	double t0 = now();
	int r = ks_open(store, &o, &ks);

	if (r < 0)
		return r;
	*t_open = now() - t0;
	*c_open = cpu() - c0;
	r = ks_list(ks, &li, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct ks_secret *s = NULL;
		r = ks_get(ks, li[i].name, 0, &s);
		ks_secret_free(s);
	}
	*t_all = now() - t0;
	*c_all = cpu() - c0;
	free(li);
	ks_close(ks);
	return r;
}

struct signed_paths {
	char store[640], wkey[640], trust[640];
};

/* A signed copy of store: a writer key pinned in a trust file, the copy
 * migrated with ks_migrate_sign (its wall and CPU time returned). */
static int make_signed(const char *store, const struct signed_paths *p, double *t, double *c)
{
	struct ks_open_opts o = { .public_only = true, .passphrase_fd = -1 };
	struct ks_sign_opts so = { .writer_key = p->wkey };
	struct ks_store *ks = NULL;
	uint8_t pk[KS_PK_BYTES];
	char *buf = NULL;
	size_t len = 0, n = 0;
	double t0, c0;
	int r = ks_read_file(store, 1u << 30, &buf, &len);

	if (r == 0)
		r = ks_atomic_write(p->store, buf, len, 0600);
	free(buf);
	if (r == 0)
		r = ks_writer_keygen(p->wkey, pk);
	if (r == 0)
		r = ks_trust_add(p->trust, pk, "bench");
	t0 = now();
	c0 = cpu();
	if (r == 0)
		r = ks_open_signed(p->store, &o, &so, &ks);
	if (r == 0)
		r = ks_migrate_sign(ks, &n);
	ks_close(ks);
	*t = now() - t0;
	*c = cpu() - c0;
	return r;
}

/* One open with (trust non-NULL) or without signature checks. */
static int open_once(const char *store, const char *key, const char *trust, double *t, double *c)
{
	struct ks_open_opts o = { .key_file = key, .passphrase_fd = -1 };
	struct ks_sign_opts so = { .trust_file = trust };
	struct ks_store *ks = NULL;
	double t0 = now(), c0 = cpu();
	int r = ks_open_signed(store, &o, &so, &ks);

	*t = now() - t0;
	*c = cpu() - c0;
	ks_close(ks);
	return r;
}

/* Signed open against the same records unsigned, 5 interleaved rounds. */
static int signed_open(const char *store, const char *key, size_t n, const struct signed_paths *p)
{
	double t[4][5], mt = 0, mc = 0;
	int r = make_signed(store, p, &mt, &mc);

	for (int i = 0; r == 0 && i < 5; i++) {
		r = open_once(store, key, NULL, &t[0][i], &t[1][i]);
		if (r == 0)
			r = open_once(p->store, key, p->trust, &t[2][i], &t[3][i]);
	}
	if (r < 0)
		return r;
	for (int k = 0; k < 4; k++)
		qsort(t[k], 5, sizeof(double), cmp_d);
	printf("ks_signed_s records=%zu migrate=%.3f cpu_migrate=%.3f open=%.3f open_signed=%.3f "
	       "cpu_open=%.3f cpu_open_signed=%.3f\n",
	       n, mt, mc, t[0][2], t[2][2], t[1][2], t[3][2]);
	return 0;
}

static void unlink_store(const char *store)
{
	char p[700];

	unlink(store);
	snprintf(p, sizeof(p), "%s.lock", store);
	unlink(p);
}

/* Writes need format 2: run on the signed copy with its writer key. */
static void latency(const char *store, const char *key, const char *wkey, size_t n)
{
	struct ks_open_opts o = { .key_file = key, .passphrase_fd = -1 };
	struct ks_sign_opts so = { .writer_key = wkey };
	struct ks_store *ks = NULL;
	double put[20], rot[20];

	if (ks_open_signed(store, &o, &so, &ks) < 0) {
		fprintf(stderr, "ks_bench: cannot open %s for put/rotate\n", store);
		return;
	}
	int i;
	for (i = 0; i < 20; i++) {
		char name[64];
		snprintf(name, sizeof(name), "bench/new%d", i);
		double t0 = now();
		if (ks_put(ks, name, (const uint8_t *)"value", 5, NULL) < 0)
			break;
		put[i] = now() - t0;
		t0 = now();
		if (ks_rotate(ks, "bench/app0/secret", (const uint8_t *)"value2", 6, 5, NULL) < 0)
			break;
		rot[i] = now() - t0;
	}
	if (i < 20) {
		fprintf(stderr, "ks_bench: put/rotate failed on %s\n", store);
		ks_close(ks);
		return;
	}
	qsort(put, 20, sizeof(double), cmp_d);
	qsort(rot, 20, sizeof(double), cmp_d);
	printf("ks_put_ms records=%zu median=%.2f\n", n, put[10] * 1e3);
	printf("ks_rotate_ms records=%zu median=%.2f\n", n, rot[10] * 1e3);
	ks_close(ks);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	size_t max = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	static const size_t sizes[] = { 1000, 10000, 100000 };
	char store[512], key[600];

	if (sodium_init() < 0)
		return 1;
	for (size_t i = 0; i < 3 && sizes[i] <= max; i++) {
		double t_open = 0, t_all = 0, c_open = 0, c_all = 0;
		struct signed_paths sp;
		snprintf(store, sizeof(store), "%s/ks_bench.%d.%zu.json", dir, getpid(), sizes[i]);
		snprintf(key, sizeof(key), "%s.key", store);
		/* not *.json: bench/run.sh hands ks_bench.*.json to store_base */
		snprintf(sp.store, sizeof(sp.store), "%s.signed", store);
		snprintf(sp.wkey, sizeof(sp.wkey), "%s.writer.key", store);
		snprintf(sp.trust, sizeof(sp.trust), "%s.writers", store);
		int r = build(store, key, sizes[i]);
		if (r == 0)
			r = open_unseal(store, key, &t_open, &t_all, &c_open, &c_all);
		if (r < 0) {
			fprintf(stderr, "ks_bench: %zu records: %s\n", sizes[i], ks_strerror(r));
			return 1;
		}
		printf("ks_open_s records=%zu open=%.3f open_unseal_all=%.3f cpu_open=%.3f "
		       "cpu_open_unseal_all=%.3f%s\n",
		       sizes[i], t_open, t_all, c_open, c_all,
		       sizes[i] == 10000 ? " goal<=0.5" : "");
		if (sizes[i] <= 10000 && (r = signed_open(store, key, sizes[i], &sp)) < 0) {
			fprintf(stderr, "ks_bench: %zu signed records: %s\n", sizes[i],
				ks_strerror(r));
			return 1;
		}
		if (sizes[i] == 10000)
			latency(sp.store, key, sp.wkey, sizes[i]);
		unlink_store(sp.store);
		unlink(sp.wkey);
		unlink_store(sp.trust); /* and the lock ks_trust_add took */
		if (getenv("KS_BENCH_KEEP"))
			continue; /* leave the store and key for profiling */
		unlink_store(store);
		unlink(key);
	}
	return 0;
}
