/* SPDX-License-Identifier: MIT */
/* fleet_open: store open time, etcd vs file (not a pass/fail test; run by
 * bench/fleet_propagation.sh). Builds a file store with N records (32-byte
 * values), copies its meta and sealed record documents into the etcd store
 * named by URL (txns of 128 puts, the gateway's default op cap), then times
 * ks_open with the private key on each, median of 5.
 * usage: fleet_open ETCD_URL WORKDIR [N]   (KEYHOLE_ETCD_* for TLS) */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "etcd.h"
#include "keystore.h"
#include "ks_internal.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static json_t *put_op(const char *key, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	char *k = etcd_b64(key, strlen(key)), *v = text ? etcd_b64(text, strlen(text)) : NULL;
	json_t *op =
		k && v ? json_pack("{s:{s:s, s:s}}", "request_put", "key", k, "value", v) : NULL;

	free(text), free(k), free(v);
	return op;
}

static int flush(struct etcd *e, json_t **ops)
{
	json_t *req = json_pack("{s:o}", "success", *ops), *reply = NULL;
	int r = etcd_call(e, "/v3/kv/txn", req, &reply);

	json_decref(req), json_decref(reply);
	*ops = json_array();
	return r;
}

/* Copy the file store's documents into etcd under /keyhole/NAME/. */
static int copy_to_etcd(const char *url, const char *file)
{
	struct etcd_tls tls = { getenv("KEYHOLE_ETCD_CACERT"), getenv("KEYHOLE_ETCD_CERT"),
				getenv("KEYHOLE_ETCD_KEY") };
	struct ks_snapshot s = { 0 };
	struct etcd_url u;
	struct etcd *e = NULL;
	char *buf = NULL, key[512];
	size_t len = 0;
	json_t *ops = json_array();
	int r = ks_read_file(file, KS_MAX_FILE, &buf, &len);

	if (r == 0)
		r = ks_file_split(buf, len, &s);
	if (r == 0)
		r = etcd_url_parse(url, false, &u);
	if (r == 0)
		r = etcd_new(&u, &tls, &e);
	snprintf(key, sizeof(key), "/keyhole/%s/meta", r == 0 ? u.name : "");
	if (r == 0)
		json_array_append_new(ops, put_op(key, s.meta));
	for (size_t i = 0; r == 0 && i < s.n; i++) {
		snprintf(key, sizeof(key), "/keyhole/%s/records/%s", u.name, s.recs[i].name);
		json_array_append_new(ops, put_op(key, s.recs[i].doc));
		if (json_array_size(ops) == 128)
			r = flush(e, &ops);
	}
	if (r == 0 && json_array_size(ops))
		r = flush(e, &ops);
	json_decref(ops);
	etcd_free(e);
	ks_snapshot_free(&s);
	free(buf);
	return r;
}

static double time_open(const char *store, const char *key_file, size_t *ret_n)
{
	struct ks_open_opts o = { key_file, -1, false };
	double t[5];

	for (int i = 0; i < 5; i++) {
		struct ks_store *ks = NULL;
		struct ks_info *inf = NULL;
		double t0 = now();
		int r = ks_open(store, &o, &ks);

		t[i] = now() - t0;
		if (r < 0) {
			fprintf(stderr, "open %s: %s\n", store, ks_strerror(r));
			exit(1);
		}
		if (ks_list(ks, &inf, ret_n) < 0)
			*ret_n = 0;
		free(inf);
		ks_close(ks);
	}
	qsort(t, 5, sizeof(t[0]), cmp_d);
	return t[2] * 1000;
}

/* Add n sealed records straight into the store file (one rewrite; n ks_put
 * calls would rewrite the whole file n times). */
static int fill_file(const char *file, unsigned n)
{
	struct ks_open_opts po = { NULL, -1, true };
	struct ks_store *ks = NULL;
	json_t *root = NULL, *recs;
	uint8_t pk[KS_PK_BYTES], val[32] = { 0 };
	char *buf = NULL, *text, name[32];
	size_t len = 0;
	int r = ks_open(file, &po, &ks);

	if (r == 0)
		r = ks_read_file(file, KS_MAX_FILE, &buf, &len);
	if (r == 0)
		r = ks_file_load(buf, len, &root);
	free(buf);
	if (r < 0)
		return r;
	ks_public_key(ks, pk);
	recs = json_object_get(root, "records");
	for (unsigned i = 0; r == 0 && i < n; i++) {
		struct ks_ver v = { .version = 1, .created = (int64_t)time(NULL) };
		struct ks_rec rec = { .name = name, .v = &v, .n = 1 };

		snprintf(name, sizeof(name), "rec%05u", i);
		r = ks_seal(ks_store_id(ks), pk, name, val, sizeof(val), &v);
		if (r == 0)
			r = json_object_set_new(recs, name, ks_rec_encode(&rec)) == 0 ? 0 : -ENOMEM;
		ks_ver_clear(&v);
	}
	ks_close(ks);
	text = r == 0 ? ks_file_dump(root, &len) : NULL;
	if (r == 0)
		r = text ? ks_atomic_write(file, text, len, 0600) : -ENOMEM;
	free(text);
	json_decref(root);
	return r;
}

int main(int argc, char **argv)
{
	char file[4096], key_file[4096];
	struct ks_init_opts io = { key_file, -1 };
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 10000;
	size_t nf = 0, ne = 0;
	double tf, te, t0;
	int r;

	if (argc < 3)
		return fputs("usage: fleet_open ETCD_URL WORKDIR [N]\n", stderr), 2;
	(void)mkdir(argv[2], 0700);
	snprintf(file, sizeof(file), "%s/store.json", argv[2]);
	snprintf(key_file, sizeof(key_file), "%s/agent.key", argv[2]);
	r = ks_init(file, &io);
	if (r == 0)
		r = fill_file(file, n);
	t0 = now();
	if (r == 0)
		r = copy_to_etcd(argv[1], file);
	if (r < 0)
		return fprintf(stderr, "setup: %s\n", ks_strerror(r)), 1;
	printf("copied %u records into etcd in %.0f ms\n", n, (now() - t0) * 1000);
	tf = time_open(file, key_file, &nf);
	te = time_open(argv[1], key_file, &ne);
	printf("store open (%zu records, with private key, median of 5): file %.1f ms, etcd %.1f ms (%zu)\n",
	       nf, tf, te, ne);
	return nf == n && ne == n ? 0 : 1;
}
