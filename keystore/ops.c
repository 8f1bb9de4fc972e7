/* SPDX-License-Identifier: MIT */
/* Record operations: get (unseal on demand), put / rotate / rm / import
 * (seal, sign with the writer key, then compare-and-swap one record
 * through the backend, reloading and retrying when another writer won),
 * list / history / verify, migrate --sign. rm leaves a signed tombstone so
 * a later put continues the version sequence. Only ks_get and ks_verify
 * touch plaintext, always in sodium_malloc memory. */
#include "ks_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ks_store.h"
#include "proto.h"

#define CAS_TRIES 16

static struct ks_rec *find(struct ks_store *ks, const char *name)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, ks->recs[mid].name);
		if (c == 0)
			return &ks->recs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Index of name in the sorted records, or where it would be inserted. */
static size_t slot(const struct ks_store *ks, const char *name, bool *ret_found)
{
	size_t lo = 0, hi = ks->n;

	*ret_found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, ks->recs[mid].name);
		if (c == 0) {
			*ret_found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Mirror a successful write in the local state without re-reading it. */
static int apply_local(struct ks_store *ks, const char *name, json_t *doc, ks_rev_t rev)
{
	bool found;
	size_t i = slot(ks, name, &found);
	struct ks_rec nr = { 0 }, *grown;
	int r;

	if (!doc) {
		if (found) {
			ks_rec_clear(&ks->recs[i]);
			memmove(&ks->recs[i], &ks->recs[i + 1], (ks->n - i - 1) * sizeof(nr));
			ks->n--;
		}
		return 0;
	}
	r = ks_rec_decode(name, doc, &nr);
	if (r < 0)
		return r;
	nr.rev = rev;
	if (found) {
		ks_rec_clear(&ks->recs[i]);
		ks->recs[i] = nr;
		return 0;
	}
	grown = realloc(ks->recs, (ks->n + 1) * sizeof(nr));
	if (!grown) {
		ks_rec_clear(&nr);
		return -ENOMEM;
	}
	ks->recs = grown;
	memmove(&ks->recs[i + 1], &ks->recs[i], (ks->n - i) * sizeof(nr));
	ks->recs[i] = nr;
	ks->n++;
	return 0;
}

/* Write rec (or delete name when rec is NULL) if the record is still at
 * expected_rev; on a conflict re-read the backend so the caller can retry. */
static int commit(struct ks_store *ks, const char *name, const struct ks_rec *rec,
		  ks_rev_t expected_rev)
{
	json_t *doc = rec ? ks_rec_encode(rec) : NULL;
	ks_rev_t rev = 0;
	int r;

	if (rec && !doc)
		return -ENOMEM;
	r = ks->be->ops->cas_put(ks->be, name, doc, expected_rev, &rev);
	if (r == 0 && apply_local(ks, name, doc, rev) < 0)
		(void)ks_reread(ks, NULL);
	if (r == -ESTALE)
		(void)ks_reread(ks, NULL);
	json_decref(doc);
	return r;
}

/* New record: v0 first, then up to keep-1 versions of old (deep copies). */
static int build_rec(const char *name, struct ks_ver *v0, const struct ks_rec *old, unsigned keep,
		     struct ks_rec *ret)
{
	size_t n_old = old ? old->n : 0;
	struct ks_rec r = { 0 };

	if (keep == 0 || keep > KS_MAX_VERSIONS)
		keep = keep == 0 ? KS_DEFAULT_KEEP : KS_MAX_VERSIONS;
	if (n_old > keep - 1)
		n_old = keep - 1;
	r.name = (char *)(uintptr_t)name; /* borrowed: only encoded, never freed */
	r.v = calloc(n_old + 1, sizeof(*r.v));
	if (!r.v)
		return -ENOMEM;
	r.v[0] = *v0;
	for (size_t i = 0; old && i < n_old; i++)
		r.v[i + 1] = old->v[i]; /* shallow: the encoder only reads */
	r.n = n_old + 1;
	*ret = r;
	return 0;
}

static uint64_t old_newest(const struct ks_rec *r)
{
	return r->is_tomb ? r->tomb.version : r->v[0].version;
}

/* Writes to an unsigned format-1 store would stay unsigned: migrate first. */
static int writable(const struct ks_store *ks)
{
	return ks->meta.format_version < 2 ? -EUCLEAN : 0;
}

static int seal_and_commit(struct ks_store *ks, const char *name, const uint8_t *val, size_t len,
			   unsigned keep, bool must_exist, uint64_t *ret_version)
{
	if (writable(ks) < 0)
		return -EUCLEAN;
	for (int i = 0; i < CAS_TRIES; i++) {
		struct ks_rec *old = find(ks, name), nr;
		struct ks_ver v = { 0 };
		ks_rev_t rev = old ? old->rev : 0;
		int r;

		if (must_exist && !old && i == 0) {
			/* our view may predate another writer's put */
			int e = ks_reread(ks, NULL);
			if (e < 0)
				return e;
			old = find(ks, name);
			rev = old ? old->rev : 0;
		}
		if (must_exist && (!old || old->is_tomb))
			return -ENOENT;
		if (!must_exist && old && !old->is_tomb)
			return -EEXIST;
		if (old && (old->bad || old->err))
			return old->bad ? -EBADMSG : old->err;
		v.version = old ? old_newest(old) + 1 : 1;
		v.created = (int64_t)time(NULL);
		r = ks_seal(ks->meta.store_id, ks->meta.pk, name, val, len, &v);
		if (r == 0 && ks->writer)
			r = ks_sign_ver(ks->writer, ks->meta.store_id, name, false, &v);
		if (r < 0) {
			ks_ver_clear(&v);
			return r;
		}
		r = build_rec(name, &v, old, keep, &nr);
		if (r == 0) {
			uint64_t ver = v.version;
			r = commit(ks, name, &nr, rev);
			free(nr.v);
			if (r == 0 && ret_version)
				*ret_version = ver;
		}
		ks_ver_clear(&v);
		if (r != -ESTALE)
			return r;
	}
	return -ESTALE;
}

int ks_put(struct ks_store *ks, const char *name, const uint8_t *val, size_t len,
	   uint64_t *ret_version)
{
	if (!proto_secret_name_valid(name))
		return -EINVAL;
	if (len > KS_MAX_VALUE)
		return -EFBIG;
	return seal_and_commit(ks, name, val, len, 1, false, ret_version);
}

int ks_rotate(struct ks_store *ks, const char *name, const uint8_t *val, size_t len, unsigned keep,
	      uint64_t *ret_version)
{
	if (!proto_secret_name_valid(name))
		return -EINVAL;
	if (len > KS_MAX_VALUE)
		return -EFBIG;
	return seal_and_commit(ks, name, val, len, keep, true, ret_version);
}

/* Signed tombstone carrying the last version (unsigned stores: delete). */
static int tombstone(struct ks_store *ks, const char *name, const struct ks_rec *old,
		     struct ks_rec *ret)
{
	struct ks_rec t = { .name = (char *)(uintptr_t)name, .is_tomb = true };

	t.tomb.version = old_newest(old);
	t.tomb.created = (int64_t)time(NULL);
	*ret = t;
	return ks_sign_ver(ks->writer, ks->meta.store_id, name, true, &ret->tomb);
}

int ks_rm(struct ks_store *ks, const char *name)
{
	if (!proto_secret_name_valid(name))
		return -EINVAL;
	if (writable(ks) < 0)
		return -EUCLEAN;
	for (int i = 0; i < CAS_TRIES; i++) {
		struct ks_rec *old = find(ks, name), t;
		int r = 0;

		if (!old || old->is_tomb)
			return -ENOENT;
		if (ks->writer && !old->bad)
			r = tombstone(ks, name, old, &t);
		if (r == 0)
			r = commit(ks, name, ks->writer && !old->bad ? &t : NULL, old->rev);
		if (r != -ESTALE)
			return r;
	}
	return -ESTALE;
}

static int unseal_ver(struct ks_store *ks, const struct ks_rec *rec, const struct ks_ver *v,
		      struct ks_secret **ret)
{
	struct ks_secret *s = ks_secret_new(v->ct_len - KS_TAG_BYTES);
	int r;

	if (!s)
		return -ENOMEM;
	r = ks_unseal(ks->meta.store_id, ks->meta.pk, ks->sk, rec->name, v, s->data);
	if (r < 0) {
		ks_secret_free(s);
		return r;
	}
	s->version = v->version;
	*ret = s;
	return 0;
}

int ks_get(struct ks_store *ks, const char *name, uint64_t version, struct ks_secret **ret)
{
	struct ks_rec *rec;

	if (!proto_secret_name_valid(name))
		return -EINVAL;
	if (!ks->sk)
		return -EACCES;
	rec = find(ks, name);
	if (!rec || rec->is_tomb)
		return -ENOENT;
	if (rec->bad)
		return -EBADMSG;
	if (rec->err)
		return rec->err;
	for (size_t i = 0; i < rec->n; i++)
		if (version == 0 || rec->v[i].version == version)
			return unseal_ver(ks, rec, &rec->v[i], ret);
	return -ENOENT;
}

int ks_list(struct ks_store *ks, struct ks_info **ret, size_t *ret_n)
{
	struct ks_info *out = calloc(ks->n + 1, sizeof(*out));
	size_t k = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n; i++) {
		const struct ks_rec *r = &ks->recs[i];
		struct ks_info *o = &out[k];

		if (r->is_tomb && !r->err)
			continue; /* removed */
		k++;
		snprintf(o->name, sizeof(o->name), "%s", r->name);
		o->err = r->bad ? -EBADMSG : r->err;
		if (o->err || r->n == 0)
			continue; /* refused or undecodable: listed with version 0 */
		o->version = r->v[0].version;
		o->size = r->v[0].ct_len - KS_TAG_BYTES;
		o->created = (time_t)r->v[r->n - 1].created;
		o->updated = (time_t)r->v[0].created;
		o->n_versions = (unsigned)r->n;
	}
	*ret = out;
	*ret_n = k;
	return 0;
}

int ks_history(struct ks_store *ks, const char *name, struct ks_version_info **ret, size_t *ret_n)
{
	struct ks_rec *rec;
	struct ks_version_info *out;

	if (!proto_secret_name_valid(name))
		return -EINVAL;
	rec = find(ks, name);
	if (!rec || rec->is_tomb)
		return -ENOENT;
	if (rec->bad || rec->err)
		return rec->bad ? -EBADMSG : rec->err;
	out = calloc(rec->n + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < rec->n; i++) {
		out[i].version = rec->v[i].version;
		out[i].size = rec->v[i].ct_len - KS_TAG_BYTES;
		out[i].created = (time_t)rec->v[i].created;
	}
	*ret = out;
	*ret_n = rec->n;
	return 0;
}

int ks_seal_record(const char *store_id, const uint8_t pk[KS_PK_BYTES], const char *name,
		   uint64_t version, const uint8_t *val, size_t len, char **ret_json)
{
	return ks_seal_record_signed(store_id, pk, NULL, name, version, val, len, ret_json);
}

int ks_seal_record_signed(const char *store_id, const uint8_t pk[KS_PK_BYTES],
			  const char *writer_key, const char *name, uint64_t version,
			  const uint8_t *val, size_t len, char **ret_json)
{
	struct ks_ver v = { .version = version, .created = (int64_t)time(NULL) };
	struct ks_writer *w = NULL;
	char *json;
	int r;

	if (sodium_init() < 0 || !proto_secret_name_valid(name) || version == 0 ||
	    version > INT64_MAX || !store_id || !*store_id || strlen(store_id) > KS_ID_MAX)
		return -EINVAL;
	if (len > KS_MAX_VALUE)
		return -EFBIG;
	if (writer_key && (r = ks_writer_read(writer_key, &w)) < 0)
		return r;
	r = ks_seal(store_id, pk, name, val, len, &v);
	if (r == 0 && w)
		r = ks_sign_ver(w, store_id, name, false, &v);
	ks_writer_free(w);
	if (r < 0) {
		ks_ver_clear(&v);
		return r;
	}
	json = ks_sealed_encode(store_id, name, &v);
	ks_ver_clear(&v);
	if (!json)
		return -ENOMEM;
	*ret_json = json;
	return 0;
}

static int import_one(struct ks_store *ks, const char *name, struct ks_ver *v)
{
	for (int i = 0; i < CAS_TRIES; i++) {
		struct ks_rec *old = find(ks, name), nr;
		uint64_t next = old && !old->bad ? old_newest(old) + 1 : 1;
		int r;

		if (old && (old->bad || old->err))
			return old->bad ? -EBADMSG : old->err;
		if (v->version < next)
			return -EEXIST;
		if (v->version > next)
			return -EINVAL;
		r = build_rec(name, v, old, KS_DEFAULT_KEEP, &nr);
		if (r < 0)
			return r;
		r = commit(ks, name, &nr, old ? old->rev : 0);
		free(nr.v);
		if (r != -ESTALE)
			return r;
	}
	return -ESTALE;
}

int ks_import_record(struct ks_store *ks, const char *json, size_t len)
{
	char id[KS_ID_MAX + 1];
	char *name = NULL;
	struct ks_ver v = { 0 };
	int r = ks_sealed_decode(json, len, id, &name, &v);

	if (r < 0)
		return r;
	/* Unsigned (sealed with only the public key): the importer, a writer,
	 * vouches for it. A signed one keeps its writer's signature. */
	if (strcmp(id, ks->meta.store_id) != 0)
		r = -EXDEV;
	else if (writable(ks) < 0)
		r = -EUCLEAN;
	else if (!v.has_sig && ks->writer)
		r = ks_sign_ver(ks->writer, id, name, false, &v);
	if (r == 0)
		r = import_one(ks, name, &v);
	ks_ver_clear(&v);
	free(name);
	return r;
}

/* Every version of one record: signature / rollback verdict first, then
 * AEAD. Returns the first failure (0 if sound). */
static int verify_rec(struct ks_store *ks, const struct ks_rec *rec,
		      void (*cb)(const char *name, uint64_t version, int err, void *arg), void *arg)
{
	int bad = rec->bad ? -EBADMSG : rec->err;

	if (bad || rec->is_tomb) {
		if (bad && cb)
			cb(rec->name, 0, bad, arg);
		return bad;
	}
	for (size_t j = 0; j < rec->n; j++) {
		struct ks_secret *s = NULL;
		int r = unseal_ver(ks, rec, &rec->v[j], &s);
		ks_secret_free(s);
		if (r < 0) {
			bad = bad ? bad : r;
			if (cb)
				cb(rec->name, rec->v[j].version, r, arg);
		}
	}
	return bad;
}

int ks_verify(struct ks_store *ks,
	      void (*cb)(const char *name, uint64_t version, int err, void *arg), void *arg)
{
	int failed = 0;

	if (!ks->sk)
		return -EACCES;
	for (size_t i = 0; i < ks->n; i++)
		failed += verify_rec(ks, &ks->recs[i], cb, arg) ? 1 : 0;
	return failed;
}

/* ---- migrate --sign: every record signed in memory, then one write */

struct mig_rec {
	size_t idx;	  /* in ks->recs */
	struct ks_ver *v; /* signed shallow copies of its versions (ct shared) */
	struct ks_ver tomb;
};

struct migration {
	struct mig_rec *m;
	struct ks_backend_write *w; /* w[i] is the document of m[i] */
	size_t n;
};

static void migration_free(struct migration *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->m[i].v); /* shallow: the sealed bytes belong to ks->recs */
		json_decref(g->w[i].doc);
	}
	free(g->m);
	free(g->w);
}

/* Sign every version (or the tombstone) of ks->recs[idx] into o and encode
 * the signed record as w's document. */
static int sign_copy(struct ks_store *ks, size_t idx, struct mig_rec *o, struct ks_backend_write *w)
{
	const struct ks_rec *rec = &ks->recs[idx];
	struct ks_rec copy = *rec;
	int r = 0;

	o->idx = idx;
	o->tomb = rec->tomb;
	o->v = calloc(rec->n + 1, sizeof(*o->v));
	if (!o->v)
		return -ENOMEM;
	for (size_t j = 0; r == 0 && j < rec->n; j++) {
		o->v[j] = rec->v[j];
		r = ks_sign_ver(ks->writer, ks->meta.store_id, rec->name, false, &o->v[j]);
	}
	if (r == 0 && rec->is_tomb)
		r = ks_sign_ver(ks->writer, ks->meta.store_id, rec->name, true, &o->tomb);
	copy.v = o->v;
	copy.tomb = o->tomb;
	w->name = rec->name;
	w->expected_rev = rec->rev;
	w->doc = r == 0 ? ks_rec_encode(&copy) : NULL;
	return r < 0 ? r : (w->doc ? 0 : -ENOMEM);
}

/* Undecodable records are left as they are (readers keep refusing them). */
static int migration_build(struct ks_store *ks, struct migration *g)
{
	int r = 0;

	g->m = calloc(ks->n + 1, sizeof(*g->m));
	g->w = calloc(ks->n + 1, sizeof(*g->w));
	if (!g->m || !g->w)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < ks->n; i++) {
		if (ks->recs[i].bad)
			continue;
		r = sign_copy(ks, i, &g->m[g->n], &g->w[g->n]);
		g->n++; /* freed even when half built */
	}
	return r;
}

/* The written record in memory too: its signed versions and new revision. */
static void migration_apply(struct ks_store *ks, struct mig_rec *o, ks_rev_t rev)
{
	struct ks_rec *rec = &ks->recs[o->idx];

	free(rec->v); /* shallow: the signed copies hold the same sealed bytes */
	rec->v = o->v;
	o->v = NULL;
	rec->tomb = o->tomb;
	rec->rev = rev;
}

static int migration_write(struct ks_store *ks, struct migration *g, json_t *meta)
{
	const struct ks_backend_ops *ops = ks->be->ops;
	int r = 0;

	if (ops->put_batch) {
		r = ops->put_batch(ks->be, meta, g->w, g->n);
		for (size_t i = 0; r == 0 && i < g->n; i++)
			migration_apply(ks, &g->m[i], g->w[i].ret_rev);
		return r;
	}
	/* One compare-and-swap per record, the meta last: interrupted, the
	 * store is still format 1 and a rerun signs everything again. */
	for (size_t i = 0; r == 0 && i < g->n; i++) {
		struct ks_backend_write *w = &g->w[i];
		r = ops->cas_put(ks->be, w->name, w->doc, w->expected_rev, &w->ret_rev);
		if (r == 0)
			migration_apply(ks, &g->m[i], w->ret_rev);
	}
	return r == 0 ? ops->put_meta(ks->be, meta) : r;
}

int ks_migrate_sign(struct ks_store *ks, size_t *ret_n)
{
	struct migration g = { 0 };
	struct ks_meta m = ks->meta;
	json_t *meta = NULL;
	int r;

	if (!ks->writer)
		return -ENOKEY;
	if (ks->meta.format_version >= 2)
		return -EALREADY; /* never launder records a reader refused */
	if (!ks->be->ops->put_batch && !ks->be->ops->put_meta)
		return -EOPNOTSUPP;
	m.format_version = KS_FORMAT_VERSION;
	ks_sign_meta(ks->writer, &m);
	r = migration_build(ks, &g);
	if (r == 0)
		r = (meta = ks_meta_encode(&m)) ? 0 : -ENOMEM;
	if (r == 0)
		r = migration_write(ks, &g, meta);
	if (r == 0) {
		ks->meta = m;
		*ret_n = g.n;
	}
	json_decref(meta);
	migration_free(&g);
	sodium_memzero(&m, sizeof(m));
	return r;
}

int ks_writer_keygen(const char *path, uint8_t ret_pk[KS_PK_BYTES])
{
	struct ks_writer *w;
	int r;

	if (sodium_init() < 0)
		return -EINVAL;
	w = ks_writer_new();
	if (!w)
		return -ENOMEM;
	r = ks_writer_write(path, w);
	if (r == 0)
		memcpy(ret_pk, w->pk, KS_PK_BYTES);
	ks_writer_free(w);
	return r;
}
