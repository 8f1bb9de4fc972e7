/* SPDX-License-Identifier: MIT */
/* etcd backend (docs/fleet.md): meta at /keyhole/NAME/meta, each record's
 * sealed JSON at /keyhole/NAME/records/RECORD (every '/' of the record name
 * written as "%2F", so a name is always one key segment); etcd only ever holds
 * ciphertext. Writes are txns comparing the key's mod_revision; reads are
 * paginated ranges pinned to one revision. A watcher thread streams
 * /v3/watch from the last revision seen and pokes an eventfd; it fails over
 * between endpoints and, after a compaction, resumes from the compact
 * revision (the agent's reload re-reads everything anyway). */
#include "ks_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bodybuf.h"
#include "cleanup.h"
#include "etcd.h"

#define RANGE_PAGE 1000

struct etcd_backend {
	struct ks_backend base;
	struct etcd *e;
	struct etcd_url url;
	char *root, *meta_key, *rec_prefix;
	_Atomic int64_t last_rev;  /* store revision of the last read_all */
	_Atomic int64_t watch_rev; /* newest revision the watcher delivered */
	atomic_bool stop;
	atomic_bool watching; /* watch stream currently established */
	int efd;
	bool thread_started;
	pthread_t th;
	/* Snapshot kept current by the watcher's events, so an agent's reload
	 * need not re-read the whole store (mu guards these four). */
	pthread_mutex_t mu;
	json_t *cache; /* name -> [doc, mod_revision]; NULL = invalid */
	json_t *cache_meta;
	int64_t cache_rev; /* revision the cache reflects */
	int64_t seen_rev;  /* newest event revision the watcher processed */
};

static struct etcd_backend *eb_of(struct ks_backend *b)
{
	return (struct etcd_backend *)(void *)b;
}

static const char *env_nonempty(const char *n)
{
	const char *v = getenv(n);

	return v && *v ? v : NULL;
}

/* a + b + c, malloc'd, or NULL. Never hands out asprintf's pointer after
 * a failure: it is indeterminate then. */
static char *cat3(const char *a, const char *b, const char *c)
{
	char *s;

	return asprintf(&s, "%s%s%s", a, b, c) < 0 ? NULL : s;
}

static int eb_open(const char *location, struct ks_backend **ret)
{
	struct etcd_backend *b = calloc(1, sizeof(*b));
	struct etcd_tls tls = { env_nonempty("KEYHOLE_ETCD_CACERT"),
				env_nonempty("KEYHOLE_ETCD_CERT"),
				env_nonempty("KEYHOLE_ETCD_KEY") };
	const char *ins = env_nonempty("KEYHOLE_ETCD_INSECURE");
	int r;

	if (!b)
		return -ENOMEM;
	b->base.ops = &ks_backend_etcd;
	b->efd = -1;
	(void)pthread_mutex_init(&b->mu, NULL);
	r = etcd_url_parse(location, ins && strcmp(ins, "0") != 0, &b->url);
	if (r == 0)
		r = etcd_new(&b->url, &tls, &b->e);
	if (r == 0) {
		b->root = cat3("/keyhole/", b->url.name, "/");
		b->meta_key = b->root ? cat3(b->root, "meta", "") : NULL;
		b->rec_prefix = b->root ? cat3(b->root, "records/", "") : NULL;
		if (!b->meta_key || !b->rec_prefix)
			r = -ENOMEM;
	}
	if (r < 0) {
		b->base.ops->close(&b->base);
		return r;
	}
	*ret = &b->base;
	return 0;
}

static void eb_close(struct ks_backend *base)
{
	struct etcd_backend *b = eb_of(base);

	if (!b)
		return;
	if (b->thread_started) {
		atomic_store(&b->stop, true);
		(void)pthread_join(b->th, NULL);
	}
	if (b->efd >= 0)
		(void)close(b->efd);
	json_decref(b->cache);
	json_decref(b->cache_meta);
	(void)pthread_mutex_destroy(&b->mu);
	etcd_free(b->e);
	etcd_url_clear(&b->url);
	free(b->root);
	free(b->meta_key);
	free(b->rec_prefix);
	free(b);
}

/* base64 of key, and of the end of its prefix range (last byte + 1). */
static int b64_set(json_t *o, const char *field, const char *s, size_t len)
{
	char *v = etcd_b64(s, len);

	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, field, json_string(v)), free(v), 0;
}

static int prefix_end_set(json_t *o, const char *prefix)
{
	cleanup_free char *end = strdup(prefix);
	size_t n = strlen(prefix);

	if (!end || n == 0)
		return -ENOMEM;
	end[n - 1]++; /* prefixes end in '/', so no carry */
	return b64_set(o, "range_end", end, n);
}

static int range_page(struct etcd_backend *b, const char *from, size_t from_len, int64_t rev,
		      json_t **ret)
{
	json_t *req = json_object();
	char revs[24];
	int r = req ? 0 : -ENOMEM;

	if (r == 0)
		r = b64_set(req, "key", from, from_len);
	if (r == 0)
		r = prefix_end_set(req, b->root);
	if (r == 0) {
		(void)json_object_set_new(req, "limit", json_integer(RANGE_PAGE));
		if (rev > 0) {
			(void)snprintf(revs, sizeof(revs), "%lld", (long long)rev);
			(void)json_object_set_new(req, "revision", json_string(revs));
		}
		r = etcd_call(b->e, "/v3/kv/range", req, ret);
	}
	json_decref(req);
	return r;
}

static int snap_add(struct ks_snapshot *s, const char *name, json_t *doc, int64_t rev)
{
	struct ks_backend_record *n;

	if (s->n >= KS_MAX_RECORDS)
		return -EBADMSG;
	if (s->n == 0 || (s->n >= 16 && (s->n & (s->n - 1)) == 0)) {
		n = reallocarray(s->recs, s->n ? s->n * 2 : 16, sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->recs = n;
	}
	s->recs[s->n].name = strdup(name);
	if (!s->recs[s->n].name)
		return -ENOMEM;
	s->recs[s->n].doc = json_incref(doc);
	s->recs[s->n].rev = (ks_rev_t)rev;
	s->n++;
	return 0;
}

/* One kv of the store's range into the snapshot. */
static int take_kv(struct etcd_backend *b, const struct etcd_kv *kv, struct ks_snapshot *s)
{
	size_t plen = strlen(b->rec_prefix);
	json_t *doc = json_loadb(kv->value, kv->value_len, JSON_REJECT_DUPLICATES, NULL);
	int r = 0;

	if (strcmp(kv->key, b->meta_key) == 0) {
		if (!json_is_object(doc))
			r = -EBADMSG;
		else
			s->meta = json_incref(doc);
	} else if (strncmp(kv->key, b->rec_prefix, plen) == 0 && kv->key[plen]) {
		/* An unparsable record stays in as null: format.c marks it bad. */
		char *name = etcd_seg_to_name(kv->key + plen);
		r = name ? snap_add(s, name, doc ? doc : json_null(), kv->mod_revision) : -ENOMEM;
		free(name);
	}
	json_decref(doc);
	return r;
}

/* Take one page; more and next say where the next page starts. */
static int take_page(struct etcd_backend *b, json_t *reply, struct ks_snapshot *s, char **next,
		     size_t *next_len, bool *more)
{
	json_t *kvs = json_object_get(reply, "kvs"), *kv;
	size_t i;
	int r = 0;

	if (kvs && !json_is_array(kvs))
		return -EBADMSG;
	*more = json_is_true(json_object_get(reply, "more"));
	json_array_foreach(kvs, i, kv)
	{
		struct etcd_kv x;

		r = etcd_kv_parse(kv, KS_MAX_DOC, &x);
		if (r == 0)
			r = take_kv(b, &x, s);
		if (r == 0 && i + 1 == json_array_size(kvs)) {
			free(*next);
			*next = malloc(x.key_len + 1);
			if (*next) {
				memcpy(*next, x.key, x.key_len + 1); /* key + "\0" */
				*next_len = x.key_len + 1;
			} else {
				r = -ENOMEM;
			}
		}
		etcd_kv_clear(&x);
		if (r < 0)
			return r;
	}
	if (*more && json_array_size(kvs) == 0)
		return -EBADMSG;
	return 0;
}

static int read_pinned(struct etcd_backend *b, struct ks_snapshot *s, int64_t *ret_rev)
{
	cleanup_free char *next = strdup(b->root);
	size_t next_len = strlen(b->root);
	int64_t rev = 0;
	bool more = true;
	int r = next ? 0 : -ENOMEM;

	while (r == 0 && more) {
		json_t *reply = NULL;

		r = range_page(b, next, next_len, rev, &reply);
		if (r == 0 && rev == 0)
			r = etcd_int64(json_object_get(reply, "header"), "revision", &rev);
		if (r == 0)
			r = take_page(b, reply, s, &next, &next_len, &more);
		json_decref(reply);
	}
	*ret_rev = rev;
	return r;
}

/* ---- event-fed cache (only once a watcher runs) */

static void cache_drop_locked(struct etcd_backend *b)
{
	json_decref(b->cache);
	json_decref(b->cache_meta);
	b->cache = b->cache_meta = NULL;
}

/* A full read at rev becomes the cache unless the watcher already processed
 * newer events (they would be missing from it). */
static void cache_install(struct etcd_backend *b, const struct ks_snapshot *s, int64_t rev)
{
	json_t *c = json_object();

	for (size_t i = 0; c && i < s->n; i++)
		if (json_object_set_new(
			    c, s->recs[i].name,
			    json_pack("[O,I]", s->recs[i].doc, (json_int_t)s->recs[i].rev)) < 0) {
			json_decref(c);
			c = NULL;
		}
	(void)pthread_mutex_lock(&b->mu);
	cache_drop_locked(b);
	if (c && rev >= b->seen_rev) {
		b->cache = c;
		b->cache_meta = json_incref(s->meta);
		b->cache_rev = rev;
		c = NULL;
	}
	(void)pthread_mutex_unlock(&b->mu);
	json_decref(c);
}

static int cache_read(struct etcd_backend *b, struct ks_snapshot *ret)
{
	struct ks_snapshot s = { 0 };
	const char *name;
	json_t *v;
	int r = -EAGAIN;

	(void)pthread_mutex_lock(&b->mu);
	if (b->cache && b->cache_meta && atomic_load(&b->watching)) {
		r = 0;
		s.meta = json_incref(b->cache_meta);
		json_object_foreach(b->cache, name, v)
		{
			r = snap_add(&s, name, json_array_get(v, 0),
				     (int64_t)json_integer_value(json_array_get(v, 1)));
			if (r < 0)
				break;
		}
	}
	(void)pthread_mutex_unlock(&b->mu);
	if (r < 0) {
		ks_snapshot_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

static int eb_read_all(struct ks_backend *base, struct ks_snapshot *ret)
{
	struct etcd_backend *b = eb_of(base);
	int64_t rev = 0;
	int r = -ERANGE;

	if (b->thread_started && cache_read(b, ret) == 0)
		return 0;

	/* A compaction between pages invalidates the pinned revision: retry. */
	for (int i = 0; i < 3 && r == -ERANGE; i++) {
		struct ks_snapshot s = { 0 };

		r = read_pinned(b, &s, &rev);
		if (r == 0 && !s.meta)
			r = s.n ? -EBADMSG : -ENOENT;
		if (r == 0) {
			if (b->thread_started)
				cache_install(b, &s, rev);
			*ret = s;
			atomic_store(&b->last_rev, rev);
			return 0;
		}
		ks_snapshot_free(&s);
	}
	return r;
}

/* txn: if compare then put key=doc (or delete key when doc is NULL). */
static int txn(struct etcd_backend *b, const char *key, json_t *cmp, json_t *doc, bool *ret_ok,
	       int64_t *ret_rev)
{
	json_t *req = json_pack("{s:[o], s:[]}", "compare", cmp, "success");
	json_t *op = json_object(), *reply = NULL;
	cleanup_free char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r = req && op && (!doc || text) ? 0 : -ENOMEM;

	if (r == 0)
		r = b64_set(op, "key", key, strlen(key));
	if (r == 0 && doc)
		r = b64_set(op, "value", text, strlen(text));
	if (r == 0) {
		json_t *wrap = json_pack("{s:O}", doc ? "request_put" : "request_delete_range", op);
		r = wrap ? json_array_append_new(json_object_get(req, "success"), wrap) : -ENOMEM;
	}
	if (r == 0)
		r = etcd_call(b->e, "/v3/kv/txn", req, &reply);
	if (r == 0) {
		*ret_ok = json_is_true(json_object_get(reply, "succeeded"));
		r = etcd_int64(json_object_get(reply, "header"), "revision", ret_rev);
	}
	json_decref(reply);
	json_decref(op);
	json_decref(req);
	return r;
}

static json_t *compare(const char *key, const char *target, const char *field, int64_t v)
{
	char *k = etcd_b64(key, strlen(key));
	char num[24];
	json_t *c;

	if (!k)
		return NULL;
	(void)snprintf(num, sizeof(num), "%lld", (long long)v);
	c = json_pack("{s:s, s:s, s:s, s:s}", "key", k, "target", target, "result", "EQUAL", field,
		      num);
	free(k);
	return c;
}

static int eb_create(struct ks_backend *base, json_t *meta)
{
	struct etcd_backend *b = eb_of(base);
	json_t *cmp = compare(b->meta_key, "CREATE", "create_revision", 0);
	bool ok = false;
	int64_t rev = 0;
	int r = cmp ? txn(b, b->meta_key, cmp, meta, &ok, &rev) : -ENOMEM;

	return r < 0 ? r : (ok ? 0 : -EEXIST);
}

static int eb_put_meta(struct ks_backend *base, json_t *meta)
{
	struct etcd_backend *b = eb_of(base);
	/* only over an existing meta (create_revision > 0 is "not EQUAL 0"
	 * for the gateway's compare; use the inverse txn) */
	json_t *cmp = compare(b->meta_key, "CREATE", "create_revision", 0);
	bool ok = false;
	int64_t rev = 0;
	int r;

	if (!cmp)
		return -ENOMEM;
	(void)json_object_set_new(cmp, "result", json_string("NOT_EQUAL"));
	r = txn(b, b->meta_key, cmp, meta, &ok, &rev);
	return r < 0 ? r : (ok ? 0 : -ENOENT);
}

static int eb_cas_put(struct ks_backend *base, const char *name, json_t *doc, ks_rev_t expected_rev,
		      ks_rev_t *ret_rev)
{
	struct etcd_backend *b = eb_of(base);
	cleanup_free char *key = NULL;
	cleanup_free char *seg = NULL;
	json_t *cmp;
	bool ok = false;
	int64_t rev = 0;
	int r;

	if (!name || !*name || expected_rev > INT64_MAX)
		return -EINVAL;
	seg = etcd_name_to_seg(name);
	key = seg ? cat3(b->rec_prefix, seg, "") : NULL;
	if (!key)
		return -ENOMEM;
	/* An absent key has mod_revision 0, so 0 means "must not exist". */
	cmp = compare(key, "MOD", "mod_revision", (int64_t)expected_rev);
	r = cmp ? txn(b, key, cmp, doc, &ok, &rev) : -ENOMEM;
	if (r < 0)
		return r;
	if (!ok)
		return -ESTALE;
	if (ret_rev)
		*ret_rev = doc ? (ks_rev_t)rev : 0;
	return 0;
}

/* ------------------------------------------------------------ watcher */

struct stream {
	struct etcd_backend *b;
	struct bodybuf line; /* the message being received, up to '\n' */
	int64_t compacted;   /* compact_revision of a cancel, or 0 */
	bool created;
	bool failed;
};

static void poke(struct etcd_backend *b)
{
	uint64_t one = 1;

	(void)!write(b->efd, &one, sizeof(one));
}

/* One event into the cache (mu held). false: cache must be dropped. */
static bool cache_apply_one(struct etcd_backend *b, json_t *ev)
{
	size_t plen = strlen(b->rec_prefix);
	bool del = json_is_string(json_object_get(ev, "type")) &&
		   strcmp(json_string_value(json_object_get(ev, "type")), "DELETE") == 0;
	struct etcd_kv kv;
	json_t *doc;
	bool ok = true;

	if (etcd_kv_parse(json_object_get(ev, "kv"), KS_MAX_DOC, &kv) < 0)
		return false;
	if (kv.mod_revision > b->seen_rev)
		b->seen_rev = kv.mod_revision;
	if (!b->cache || kv.mod_revision <= b->cache_rev) {
		etcd_kv_clear(&kv);
		return true; /* no cache, or already in it */
	}
	doc = del ? NULL : json_loadb(kv.value, kv.value_len, JSON_REJECT_DUPLICATES, NULL);
	if (strcmp(kv.key, b->meta_key) == 0) {
		ok = json_is_object(doc);
		if (ok) {
			json_decref(b->cache_meta);
			b->cache_meta = json_incref(doc);
		}
	} else if (strncmp(kv.key, b->rec_prefix, plen) == 0 && kv.key[plen]) {
		char *name = etcd_seg_to_name(kv.key + plen);
		if (!name)
			ok = false;
		else if (del)
			(void)json_object_del(b->cache, name);
		else
			ok = json_object_set_new(b->cache, name,
						 json_pack("[O,I]", doc ? doc : json_null(),
							   (json_int_t)kv.mod_revision)) == 0;
		free(name);
	}
	b->cache_rev = kv.mod_revision;
	json_decref(doc);
	etcd_kv_clear(&kv);
	return ok;
}

static void cache_apply(struct etcd_backend *b, json_t *msg)
{
	json_t *evs = json_object_get(json_object_get(msg, "result"), "events"), *ev;
	size_t i;

	(void)pthread_mutex_lock(&b->mu);
	json_array_foreach(evs, i, ev)
	{
		if (!cache_apply_one(b, ev)) {
			cache_drop_locked(b);
			/* later full reads must not predate this event */
		}
	}
	(void)pthread_mutex_unlock(&b->mu);
}

/* History up to compact_rev may be lost to us: no cache, and no full read
 * older than that may become one. */
static void cache_compacted(struct etcd_backend *b, int64_t compact_rev)
{
	(void)pthread_mutex_lock(&b->mu);
	cache_drop_locked(b);
	if (compact_rev - 1 > b->seen_rev)
		b->seen_rev = compact_rev - 1;
	(void)pthread_mutex_unlock(&b->mu);
}

static void stream_msg(struct stream *st, const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	struct etcd_watch_msg m;

	if (!j || etcd_watch_parse(j, &m) < 0) {
		st->failed = true;
	} else {
		if (m.created) {
			st->created = true;
			atomic_store(&st->b->watching, true);
			poke(st->b); /* (re)connected: whatever we missed, reload */
		}
		if (m.compact_revision > 0)
			st->compacted = m.compact_revision;
		if (m.canceled)
			st->failed = true;
		if (m.n_events) {
			cache_apply(st->b, j);
			atomic_store(&st->b->watch_rev, m.last_event_rev);
			poke(st->b);
		}
	}
	json_decref(j);
}

/* The gateway streams one JSON message per line: collect each line with
 * the shared size-capped body writer, handle it at its newline. */
static size_t stream_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct stream *st = arg;
	size_t n = sz * nm, start = 0;

	for (size_t i = 0; i <= n && !st->failed; i++) {
		if (i < n && data[i] != '\n')
			continue;
		if (i > start && bodybuf_write(data + start, 1, i - start, &st->line) != i - start)
			return 0; /* over ETCD_MAX_WATCH_MSG, or out of memory */
		if (i < n) {
			if (st->line.len)
				stream_msg(st, st->line.p, st->line.len);
			st->line.len = 0;
		}
		start = i + 1;
	}
	return st->failed ? 0 : n;
}

static int stream_progress(void *arg, curl_off_t a, curl_off_t b2, curl_off_t c, curl_off_t d)
{
	struct stream *st = arg;

	(void)a, (void)b2, (void)c, (void)d;
	return atomic_load(&st->b->stop) ? 1 : 0;
}

static char *watch_body(struct etcd_backend *b, int64_t from)
{
	json_t *cr = json_object(), *req;
	char num[24];
	char *s = NULL;

	if (!cr || b64_set(cr, "key", b->root, strlen(b->root)) < 0 ||
	    prefix_end_set(cr, b->root) < 0) {
		json_decref(cr);
		return NULL;
	}
	(void)snprintf(num, sizeof(num), "%lld", (long long)from);
	(void)json_object_set_new(cr, "start_revision", json_string(num));
	req = json_pack("{s:o}", "create_request", cr);
	if (req)
		s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

/* One streaming watch on endpoint i; returns when it breaks. */
static void watch_once(struct etcd_backend *b, size_t i, struct stream *st)
{
	CURL *h = etcd_curl_for(b->e, i);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	cleanup_free char *body = watch_body(b, atomic_load(&b->watch_rev) + 1);
	cleanup_free char *url =
		h && hdr && body ? cat3(etcd_endpoint(b->e, i), "/v3/watch", "") : NULL;

	if (url) {
		(void)curl_easy_setopt(h, CURLOPT_URL, url);
		(void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
		(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
		(void)curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		(void)curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stream_progress);
		(void)curl_easy_setopt(h, CURLOPT_XFERINFODATA, st);
		(void)curl_easy_perform(h);
	}
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
}

static void nap_ms(struct etcd_backend *b, long ms)
{
	for (long t = 0; t < ms && !atomic_load(&b->stop); t += 50) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		(void)nanosleep(&ts, NULL);
	}
}

static void *watcher(void *arg)
{
	struct etcd_backend *b = arg;
	size_t i = etcd_current(b->e), n = etcd_n_endpoints(b->e);
	long backoff = 100;

	while (!atomic_load(&b->stop)) {
		struct stream st = { .b = b, .line = { .max = ETCD_MAX_WATCH_MSG } };

		watch_once(b, i, &st);
		bodybuf_free(&st.line);
		atomic_store(&b->watching, false);
		if (st.created)
			poke(b); /* lost the stream: the agent's reload tells whether
				  * the store is still reachable (and logs if not) */
		if (atomic_load(&b->stop))
			break;
		if (st.compacted > 0) {
			/* History before compact_revision is gone: resume there
			 * and have the agent re-read everything. */
			cache_compacted(b, st.compacted);
			atomic_store(&b->watch_rev, st.compacted - 1);
			poke(b);
			continue;
		}
		if (st.created)
			backoff = 100;
		i = (i + 1) % n; /* broken stream: try the next member */
		nap_ms(b, backoff);
		backoff = backoff < 1000 ? backoff * 2 : 1000;
	}
	return NULL;
}

static int eb_watch_fd(struct ks_backend *base)
{
	struct etcd_backend *b = eb_of(base);

	if (b->efd >= 0)
		return b->efd;
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->efd < 0)
		return -1;
	atomic_store(&b->watch_rev, atomic_load(&b->last_rev));
	if (pthread_create(&b->th, NULL, watcher, b) != 0) {
		(void)close(b->efd);
		b->efd = -1;
		return -1;
	}
	b->thread_started = true;
	return b->efd;
}

static int eb_watch_drain(struct ks_backend *base)
{
	struct etcd_backend *b = eb_of(base);
	uint64_t v;

	if (b->efd >= 0 && read(b->efd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	return 1; /* the watcher signals only store changes: reload */
}

const struct ks_backend_ops ks_backend_etcd = {
	.name = "etcd",
	.open = eb_open,
	.close = eb_close,
	.create = eb_create,
	.read_all = eb_read_all,
	.cas_put = eb_cas_put,
	.put_meta = eb_put_meta,
	.watch_fd = eb_watch_fd,
	.watch_drain = eb_watch_drain,
};
