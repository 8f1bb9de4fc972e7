/* SPDX-License-Identifier: MIT */
/* JSON <-> structs for the store file, record documents, offline sealed
 * records and exported public keys (docs/keystore-format.md). Every input
 * here is untrusted: exact key sets, every length and number capped, base64
 * decoded canonically. No syscalls, so tests/fuzz can drive ks_format_parse. */
#include "ks_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

static int b64_decode(json_t *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	const char *txt = json_string_value(s);
	size_t tlen = json_string_length(s), n = 0;
	const char *end = NULL;

	if (!txt || tlen > sodium_base64_ENCODED_LEN(cap, B64))
		return -EBADMSG;
	if (sodium_base642bin(out, cap, txt, tlen, NULL, &n, &end, B64) != 0 || end != txt + tlen)
		return -EBADMSG;
	*ret_len = n;
	return 0;
}

static int get_fixed(json_t *o, const char *key, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (b64_decode(json_object_get(o, key), out, n, &got) < 0 || got != n)
		return -EBADMSG;
	return 0;
}

static json_t *b64_encode(const uint8_t *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, B64);
	char *s = malloc(cap);
	json_t *j;

	if (!s)
		return NULL;
	sodium_bin2base64(s, cap, p, n, B64);
	j = json_string(s);
	free(s);
	return j;
}

static int get_u64(json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *ret)
{
	json_t *j = json_object_get(o, key);
	json_int_t v;

	if (!json_is_integer(j))
		return -EBADMSG;
	v = json_integer_value(j);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return -EBADMSG;
	*ret = (uint64_t)v;
	return 0;
}

static int get_str(json_t *o, const char *key, const char *want)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && strcmp(s, want) == 0 ? 0 : -EBADMSG;
}

static bool store_id_valid(const char *s)
{
	size_t n = s ? strnlen(s, KS_ID_MAX + 1) : 0;

	if (n == 0 || n > KS_ID_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int set_new(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

#define MAX_TIME ((uint64_t)1 << 40) /* seconds; far future, keeps int64 sane */

/* v2 writer signature fields, when present: "writer" + "sig". */
static int sig_decode(json_t *o, bool *has, uint8_t writer[KS_PK_BYTES], uint8_t sig[KS_SIG_BYTES])
{
	json_t *w = json_object_get(o, "writer"), *s = json_object_get(o, "sig");

	*has = false;
	if (!w && !s)
		return 0;
	if (get_fixed(o, "writer", writer, KS_PK_BYTES) < 0 ||
	    get_fixed(o, "sig", sig, KS_SIG_BYTES) < 0)
		return -EBADMSG;
	*has = true;
	return 0;
}

static int sig_encode(json_t *o, bool has, const uint8_t writer[KS_PK_BYTES],
		      const uint8_t sig[KS_SIG_BYTES])
{
	if (!has)
		return 0;
	if (set_new(o, "writer", b64_encode(writer, KS_PK_BYTES)) < 0 ||
	    set_new(o, "sig", b64_encode(sig, KS_SIG_BYTES)) < 0)
		return -ENOMEM;
	return 0;
}

int ks_ver_decode(json_t *o, struct ks_ver *ret)
{
	struct ks_ver v = { 0 };
	uint64_t created = 0;
	json_t *ct;
	size_t tlen;

	if (!json_is_object(o) || sig_decode(o, &v.has_sig, v.writer, v.sig) < 0 ||
	    json_object_size(o) != (v.has_sig ? 7u : 5u) ||
	    get_u64(o, "version", 1, INT64_MAX, &v.version) < 0 ||
	    get_u64(o, "created", 0, MAX_TIME, &created) < 0 ||
	    get_fixed(o, "epk", v.epk, sizeof(v.epk)) < 0 ||
	    get_fixed(o, "nonce", v.nonce, sizeof(v.nonce)) < 0)
		return -EBADMSG;
	v.created = (int64_t)created;
	ct = json_object_get(o, "ct");
	tlen = json_string_length(ct);
	if (!json_is_string(ct) || tlen > sodium_base64_ENCODED_LEN(KS_MAX_CT, B64))
		return -EBADMSG;
	v.ct = malloc(tlen / 4 * 3 + 3);
	if (!v.ct)
		return -ENOMEM;
	if (b64_decode(ct, v.ct, tlen / 4 * 3 + 3, &v.ct_len) < 0 || v.ct_len < KS_TAG_BYTES ||
	    v.ct_len > KS_MAX_CT) {
		free(v.ct);
		return -EBADMSG;
	}
	*ret = v;
	return 0;
}

json_t *ks_ver_encode(const struct ks_ver *v)
{
	json_t *o = json_object();

	if (!o || set_new(o, "version", json_integer((json_int_t)v->version)) < 0 ||
	    set_new(o, "created", json_integer((json_int_t)v->created)) < 0 ||
	    set_new(o, "epk", b64_encode(v->epk, sizeof(v->epk))) < 0 ||
	    set_new(o, "nonce", b64_encode(v->nonce, sizeof(v->nonce))) < 0 ||
	    set_new(o, "ct", b64_encode(v->ct, v->ct_len)) < 0 ||
	    sig_encode(o, v->has_sig, v->writer, v->sig) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Tombstone of a removed record (v2): {"version", "created", "writer", "sig"}. */
static int tomb_decode(json_t *o, struct ks_ver *v)
{
	uint64_t created = 0;

	memset(v, 0, sizeof(*v));
	if (!json_is_object(o) || sig_decode(o, &v->has_sig, v->writer, v->sig) < 0 ||
	    !v->has_sig || json_object_size(o) != 4 ||
	    get_u64(o, "version", 1, INT64_MAX, &v->version) < 0 ||
	    get_u64(o, "created", 0, MAX_TIME, &created) < 0)
		return -EBADMSG;
	v->created = (int64_t)created;
	return 0;
}

static json_t *tomb_encode(const struct ks_ver *v)
{
	json_t *o = json_object();

	if (!o || set_new(o, "version", json_integer((json_int_t)v->version)) < 0 ||
	    set_new(o, "created", json_integer((json_int_t)v->created)) < 0 ||
	    sig_encode(o, v->has_sig, v->writer, v->sig) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void ks_ver_clear(struct ks_ver *v)
{
	free(v->ct);
	memset(v, 0, sizeof(*v));
}

void ks_rec_clear(struct ks_rec *r)
{
	if (r->moved) {
		memset(r, 0, sizeof(*r));
		return;
	}
	for (size_t i = 0; i < r->n; i++)
		ks_ver_clear(&r->v[i]);
	free(r->v);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

void ks_recs_free(struct ks_rec *recs, size_t n)
{
	for (size_t i = 0; recs && i < n; i++)
		ks_rec_clear(&recs[i]);
	free(recs);
}

/* Record document: {"versions": [newest, ..., oldest]}. */
int ks_rec_decode(const char *name, json_t *o, struct ks_rec *ret)
{
	struct ks_rec r = { 0 };
	json_t *arr = json_object_get(o, "versions");
	size_t n = json_array_size(arr);
	int e = -EBADMSG;

	if (!proto_secret_name_valid(name) || !json_is_object(o) || json_object_size(o) != 1)
		return -EBADMSG;
	if (json_object_get(o, "tombstone")) {
		if (tomb_decode(json_object_get(o, "tombstone"), &r.tomb) < 0)
			return -EBADMSG;
		r.name = strdup(name);
		if (!r.name)
			return -ENOMEM;
		r.is_tomb = true;
		*ret = r;
		return 0;
	}
	if (!json_is_array(arr) || n == 0 || n > KS_MAX_VERSIONS)
		return -EBADMSG;
	r.v = calloc(n, sizeof(*r.v));
	r.name = strdup(name);
	if (!r.v || !r.name) {
		e = -ENOMEM;
		goto fail;
	}
	for (; r.n < n; r.n++) {
		e = ks_ver_decode(json_array_get(arr, r.n), &r.v[r.n]);
		if (e < 0)
			goto fail;
		if (r.n > 0 && r.v[r.n].version >= r.v[r.n - 1].version) {
			r.n++;
			e = -EBADMSG;
			goto fail;
		}
	}
	*ret = r;
	return 0;
fail:
	ks_rec_clear(&r);
	return e;
}

json_t *ks_rec_encode(const struct ks_rec *r)
{
	json_t *o = json_object(), *arr = json_array();

	if (o && r->is_tomb) {
		json_decref(arr);
		if (set_new(o, "tombstone", tomb_encode(&r->tomb)) < 0) {
			json_decref(o);
			return NULL;
		}
		return o;
	}
	if (!o || !arr || json_object_set(o, "versions", arr) < 0)
		goto fail;
	for (size_t i = 0; i < r->n; i++)
		if (json_array_append_new(arr, ks_ver_encode(&r->v[i])) < 0)
			goto fail;
	json_decref(arr);
	return o;
fail:
	json_decref(arr);
	json_decref(o);
	return NULL;
}

static int wrapped_decode(json_t *o, struct ks_wrapped *w)
{
	size_t n = 0;

	if (!json_is_object(o) || json_object_size(o) != 6 || get_str(o, "kdf", "argon2id13") < 0 ||
	    get_u64(o, "opslimit", crypto_pwhash_OPSLIMIT_MIN, 16, &w->opslimit) < 0 ||
	    get_u64(o, "memlimit", 8192, (uint64_t)1 << 31, &w->memlimit) < 0 ||
	    get_fixed(o, "salt", w->salt, sizeof(w->salt)) < 0 ||
	    get_fixed(o, "nonce", w->nonce, sizeof(w->nonce)) < 0 ||
	    b64_decode(json_object_get(o, "ciphertext"), w->ct, sizeof(w->ct), &n) < 0 ||
	    n != sizeof(w->ct))
		return -EBADMSG;
	return 0;
}

/* Meta: the store file's top-level object without "records". */
int ks_meta_decode(json_t *o, struct ks_meta *ret)
{
	struct ks_meta m = { 0 };
	json_t *id = json_object_get(o, "store_id"), *w = json_object_get(o, "private_key");
	json_t *sig = json_object_get(o, "signature");
	json_int_t fv = json_integer_value(json_object_get(o, "format_version"));
	size_t want = (w ? 5u : 4u) + (sig ? 1u : 0u);

	if (!json_is_object(o) || json_object_size(o) != want ||
	    get_str(o, "format", "keyhole-store") < 0 ||
	    !json_is_integer(json_object_get(o, "format_version")))
		return -EBADMSG;
	if (fv != 1 && fv != KS_FORMAT_VERSION)
		return -EPROTONOSUPPORT;
	m.format_version = (int)fv;
	/* v1 has no signature; v2 always has one (a v2 meta without it is
	 * kept and then refused by a reader with a trust file) */
	if ((fv == 1 && sig) || (sig && (!json_is_object(sig) || json_object_size(sig) != 2 ||
					 sig_decode(sig, &m.has_sig, m.writer, m.sig) < 0)))
		return -EBADMSG;
	if (!store_id_valid(json_string_value(id)) ||
	    get_fixed(o, "public_key", m.pk, sizeof(m.pk)) < 0)
		return -EBADMSG;
	memcpy(m.store_id, json_string_value(id), json_string_length(id) + 1);
	if (w) {
		if (wrapped_decode(w, &m.wrapped) < 0)
			return -EBADMSG;
		m.has_wrapped = true;
	}
	*ret = m;
	return 0;
}

static json_t *wrapped_encode(const struct ks_wrapped *w)
{
	json_t *o = json_object();

	if (!o || set_new(o, "kdf", json_string("argon2id13")) < 0 ||
	    set_new(o, "opslimit", json_integer((json_int_t)w->opslimit)) < 0 ||
	    set_new(o, "memlimit", json_integer((json_int_t)w->memlimit)) < 0 ||
	    set_new(o, "salt", b64_encode(w->salt, sizeof(w->salt))) < 0 ||
	    set_new(o, "nonce", b64_encode(w->nonce, sizeof(w->nonce))) < 0 ||
	    set_new(o, "ciphertext", b64_encode(w->ct, sizeof(w->ct))) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ks_meta_encode(const struct ks_meta *m)
{
	json_t *o = json_object();

	json_t *sig = m->has_sig ? json_object() : NULL;

	if (sig && sig_encode(sig, true, m->writer, m->sig) < 0) {
		json_decref(sig);
		sig = NULL;
	}
	if (!o || set_new(o, "format", json_string("keyhole-store")) < 0 ||
	    set_new(o, "format_version",
		    json_integer(m->format_version ? m->format_version : KS_FORMAT_VERSION)) < 0 ||
	    set_new(o, "store_id", json_string(m->store_id)) < 0 ||
	    set_new(o, "public_key", b64_encode(m->pk, sizeof(m->pk))) < 0 ||
	    (m->has_sig && set_new(o, "signature", sig) < 0) ||
	    (m->has_wrapped && set_new(o, "private_key", wrapped_encode(&m->wrapped)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

ks_rev_t ks_doc_rev(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	uint8_t h[8];
	ks_rev_t rev = 0;

	if (s) {
		crypto_generichash(h, sizeof(h), (const uint8_t *)s, strlen(s), NULL, 0);
		for (size_t i = 0; i < sizeof(h); i++)
			rev = rev << 8 | h[i];
		free(s);
	}
	return rev ? rev : 1;
}

void ks_snapshot_free(struct ks_snapshot *s)
{
	for (size_t i = 0; s->recs && i < s->n; i++) {
		free(s->recs[i].name);
		json_decref(s->recs[i].doc);
	}
	free(s->recs);
	json_decref(s->meta);
	memset(s, 0, sizeof(*s));
}

int ks_file_load(const char *buf, size_t len, json_t **ret_root)
{
	json_t *root, *recs;

	if (len > KS_MAX_FILE)
		return -EBADMSG;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	recs = json_object_get(root, "records");
	if (!json_is_object(root) || !json_is_object(recs) ||
	    json_object_size(recs) > KS_MAX_RECORDS) {
		json_decref(root);
		return -EBADMSG;
	}
	*ret_root = root;
	return 0;
}

int ks_file_split(const char *buf, size_t len, struct ks_snapshot *ret)
{
	struct ks_snapshot s = { 0 };
	json_t *root, *recs, *v;
	const char *k;
	int r = ks_file_load(buf, len, &root);

	if (r < 0)
		return r;
	recs = json_incref(json_object_get(root, "records"));
	json_object_del(root, "records");
	s.meta = root;
	s.recs = calloc(json_object_size(recs) + 1, sizeof(*s.recs));
	if (!s.recs)
		goto nomem;
	json_object_foreach(recs, k, v)
	{
		s.recs[s.n].name = strdup(k);
		if (!s.recs[s.n].name)
			goto nomem;
		s.recs[s.n].doc = json_incref(v);
		s.recs[s.n].rev = ks_doc_rev(v);
		s.n++;
	}
	json_decref(recs);
	*ret = s;
	return 0;
nomem:
	json_decref(recs);
	ks_snapshot_free(&s);
	return -ENOMEM;
}

char *ks_file_dump(json_t *root, size_t *ret_len)
{
	char *s = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS), *t;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*ret_len = n + 1;
	return t;
}

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ks_rec *)a)->name, ((const struct ks_rec *)b)->name);
}

/* Decode a snapshot's records; undecodable ones become bad entries. */
int ks_snapshot_decode(const struct ks_snapshot *s, struct ks_rec **ret, size_t *ret_n)
{
	struct ks_rec *recs = calloc(s->n + 1, sizeof(*recs));
	size_t n = 0;

	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		int r = ks_rec_decode(s->recs[i].name, s->recs[i].doc, &recs[n]);
		if (r == -ENOMEM) {
			ks_recs_free(recs, n);
			return r;
		}
		if (r < 0) {
			recs[n].bad = true;
			recs[n].name = strndup(s->recs[i].name, 255);
			if (!recs[n].name) {
				ks_recs_free(recs, n);
				return -ENOMEM;
			}
		}
		recs[n++].rev = s->recs[i].rev;
	}
	qsort(recs, n, sizeof(*recs), rec_cmp);
	*ret = recs;
	*ret_n = n;
	return 0;
}

int ks_format_parse(const char *buf, size_t len, struct ks_meta *ret_meta, struct ks_rec **ret_recs,
		    size_t *ret_n)
{
	struct ks_snapshot s = { 0 };
	struct ks_meta m;
	int r = ks_file_split(buf, len, &s);

	if (r < 0)
		return r;
	r = ks_meta_decode(s.meta, &m);
	if (r == 0)
		r = ks_snapshot_decode(&s, ret_recs, ret_n);
	if (r == 0)
		*ret_meta = m;
	ks_snapshot_free(&s);
	return r;
}

int ks_sealed_decode(const char *json, size_t len, char ret_id[KS_ID_MAX + 1], char **ret_name,
		     struct ks_ver *ret_v)
{
	json_t *o, *id, *name, *ver;
	int r = -EBADMSG;

	if (len > KS_MAX_DOC)
		return -EBADMSG;
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	id = json_object_get(o, "store_id");
	name = json_object_get(o, "name");
	if (!json_is_object(o) || json_object_size(o) != 5 ||
	    get_str(o, "format", "keyhole-sealed") < 0 ||
	    !json_is_integer(json_object_get(o, "format_version")) ||
	    (json_integer_value(json_object_get(o, "format_version")) != 1 &&
	     json_integer_value(json_object_get(o, "format_version")) != KS_FORMAT_VERSION) ||
	    !store_id_valid(json_string_value(id)) ||
	    !proto_secret_name_valid(json_string_value(name)))
		goto out;
	ver = json_object_get(o, "record");
	r = ks_ver_decode(ver, ret_v);
	if (r < 0)
		goto out;
	*ret_name = strdup(json_string_value(name));
	if (!*ret_name) {
		ks_ver_clear(ret_v);
		r = -ENOMEM;
		goto out;
	}
	memcpy(ret_id, json_string_value(id), json_string_length(id) + 1);
out:
	json_decref(o);
	return r;
}

static json_t *doc_header(const char *format, int version, const char *store_id)
{
	json_t *o = json_object();

	if (!o || set_new(o, "format", json_string(format)) < 0 ||
	    set_new(o, "format_version", json_integer(version)) < 0 ||
	    set_new(o, "store_id", json_string(store_id)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *dump_free(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return s;
}

char *ks_sealed_encode(const char *store_id, const char *name, const struct ks_ver *v)
{
	json_t *o = doc_header("keyhole-sealed", v->has_sig ? KS_FORMAT_VERSION : 1, store_id);

	if (o && (set_new(o, "name", json_string(name)) < 0 ||
		  set_new(o, "record", ks_ver_encode(v)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return dump_free(o);
}

char *ks_pubkey_encode(const char *store_id, const uint8_t pk[KS_PK_BYTES])
{
	json_t *o = doc_header("keyhole-pubkey", 1, store_id);

	if (o && set_new(o, "public_key", b64_encode(pk, KS_PK_BYTES)) < 0) {
		json_decref(o);
		return NULL;
	}
	return dump_free(o);
}

int ks_pubkey_parse(const char *json, size_t len, char ret_id[KS_ID_MAX + 1],
		    uint8_t ret_pk[KS_PK_BYTES])
{
	json_t *o, *id;
	uint8_t pk[KS_PK_BYTES];
	int r = -EBADMSG;

	if (len > KS_MAX_DOC)
		return -EBADMSG;
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	id = json_object_get(o, "store_id");
	if (json_is_object(o) && json_object_size(o) == 4 &&
	    get_str(o, "format", "keyhole-pubkey") == 0 &&
	    json_is_integer(json_object_get(o, "format_version")) &&
	    json_integer_value(json_object_get(o, "format_version")) == 1 &&
	    store_id_valid(json_string_value(id)) &&
	    get_fixed(o, "public_key", pk, sizeof(pk)) == 0) {
		memcpy(ret_id, json_string_value(id), json_string_length(id) + 1);
		memcpy(ret_pk, pk, KS_PK_BYTES);
		r = 0;
	}
	json_decref(o);
	return r;
}
