// SPDX-License-Identifier: MIT
/* Record operations: get (unseal on demand), put / rotate / rm / import
 * (seal, then compare-and-swap one record through the backend, reloading
 * and retrying when another writer won), list / history / verify. Only
 * ks_get and ks_verify touch plaintext, always in sodium_malloc memory. */
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
		(void)ks_reload(ks, NULL);
	if (r == -ESTALE)
		(void)ks_reload(ks, NULL);
	json_decref(doc);
	return r;
}

/* New record: v0 first, then up to keep-1 versions of old (deep copies). */
static int build_rec(const char *name, struct ks_ver *v0, const struct ks_rec *old,
		     unsigned keep, struct ks_rec *ret)
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
	for (size_t i = 0; i < n_old; i++)
		r.v[i + 1] = old->v[i]; /* shallow: the encoder only reads */
	r.n = n_old + 1;
	*ret = r;
	return 0;
}

static int seal_and_commit(struct ks_store *ks, const char *name, const uint8_t *val,
			   size_t len, unsigned keep, bool must_exist, uint64_t *ret_version)
{
	for (int i = 0; i < CAS_TRIES; i++) {
		struct ks_rec *old = find(ks, name), nr;
		struct ks_ver v = { 0 };
		ks_rev_t rev = old ? old->rev : 0;
		int r;

		if (must_exist && !old && i == 0) {
			/* our view may predate another writer's put */
			int e = ks_reload(ks, NULL);
			if (e < 0)
				return e;
			old = find(ks, name);
			rev = old ? old->rev : 0;
		}
		if (must_exist && !old)
			return -ENOENT;
		if (!must_exist && old)
			return -EEXIST;
		if (old && old->bad)
			return -EBADMSG;
		v.version = old ? old->v[0].version + 1 : 1;
		v.created = (int64_t)time(NULL);
		r = ks_seal(ks->meta.store_id, ks->meta.pk, name, val, len, &v);
		if (r < 0)
			return r;
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

int ks_rotate(struct ks_store *ks, const char *name, const uint8_t *val, size_t len,
	      unsigned keep, uint64_t *ret_version)
{
	if (!proto_secret_name_valid(name))
		return -EINVAL;
	if (len > KS_MAX_VALUE)
		return -EFBIG;
	return seal_and_commit(ks, name, val, len, keep, true, ret_version);
}

int ks_rm(struct ks_store *ks, const char *name)
{
	if (!proto_secret_name_valid(name))
		return -EINVAL;
	for (int i = 0; i < CAS_TRIES; i++) {
		struct ks_rec *old = find(ks, name);
		int r;

		if (!old)
			return -ENOENT;
		r = commit(ks, name, NULL, old->rev);
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
	if (!rec)
		return -ENOENT;
	if (rec->bad)
		return -EBADMSG;
	for (size_t i = 0; i < rec->n; i++)
		if (version == 0 || rec->v[i].version == version)
			return unseal_ver(ks, rec, &rec->v[i], ret);
	return -ENOENT;
}

int ks_list(struct ks_store *ks, struct ks_info **ret, size_t *ret_n)
{
	struct ks_info *out = calloc(ks->n + 1, sizeof(*out));

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n; i++) {
		const struct ks_rec *r = &ks->recs[i];
		snprintf(out[i].name, sizeof(out[i].name), "%s", r->name);
		if (r->bad || r->n == 0)
			continue; /* undecodable: listed with version 0 */
		out[i].version = r->v[0].version;
		out[i].size = r->v[0].ct_len - KS_TAG_BYTES;
		out[i].created = (time_t)r->v[r->n - 1].created;
		out[i].updated = (time_t)r->v[0].created;
		out[i].n_versions = (unsigned)r->n;
	}
	*ret = out;
	*ret_n = ks->n;
	return 0;
}

int ks_history(struct ks_store *ks, const char *name, struct ks_version_info **ret,
	       size_t *ret_n)
{
	struct ks_rec *rec;
	struct ks_version_info *out;

	if (!proto_secret_name_valid(name))
		return -EINVAL;
	rec = find(ks, name);
	if (!rec)
		return -ENOENT;
	if (rec->bad)
		return -EBADMSG;
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
	struct ks_ver v = { .version = version, .created = (int64_t)time(NULL) };
	char *json;
	int r;

	if (sodium_init() < 0 || !proto_secret_name_valid(name) || version == 0 ||
	    version > INT64_MAX || !store_id || !*store_id || strlen(store_id) > KS_ID_MAX)
		return -EINVAL;
	if (len > KS_MAX_VALUE)
		return -EFBIG;
	r = ks_seal(store_id, pk, name, val, len, &v);
	if (r < 0)
		return r;
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
		uint64_t next = old && !old->bad ? old->v[0].version + 1 : 1;
		int r;

		if (old && old->bad)
			return -EBADMSG;
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
	r = strcmp(id, ks->meta.store_id) == 0 ? import_one(ks, name, &v) : -EXDEV;
	ks_ver_clear(&v);
	free(name);
	return r;
}

int ks_verify(struct ks_store *ks,
	      void (*cb)(const char *name, uint64_t version, int err, void *arg), void *arg)
{
	int failed = 0;

	if (!ks->sk)
		return -EACCES;
	for (size_t i = 0; i < ks->n; i++) {
		const struct ks_rec *rec = &ks->recs[i];
		int bad = rec->bad ? -EBADMSG : 0;

		for (size_t j = 0; !bad && j < rec->n; j++) {
			struct ks_secret *s = NULL;
			int r = unseal_ver(ks, rec, &rec->v[j], &s);
			ks_secret_free(s);
			if (r < 0) {
				bad = r;
				if (cb)
					cb(rec->name, rec->v[j].version, r, arg);
			}
		}
		if (rec->bad && cb)
			cb(rec->name, 0, bad, arg);
		failed += bad ? 1 : 0;
	}
	return failed;
}
