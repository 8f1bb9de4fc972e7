/* SPDX-License-Identifier: MIT */
/* Store lifecycle: init (new id + X25519 key pair, private key to a 0400
 * key file or Argon2id-wrapped in the store; meta signed by the first
 * writer key), open (decode everything but unseal nothing; check the
 * recorded public key against the private key; with a trust file check
 * every writer signature, with a state file refuse rolled-back records),
 * reload (keep the old state on any error), watch, close. */
#include "ks_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ks_store.h"

const struct ks_backend_ops *ks_backend_for(const char *store, int *ret_err)
{
	if (!store || !*store) {
		*ret_err = -EINVAL;
		return NULL;
	}
	/* A new backend adds its ops here (e.g. ks_backend_etcd for
	 * "etcd://" and "etcd+http://"). Any other URL-looking store string is
	 * a scheme we do not have, never a file name. */
	if (strncmp(store, "etcd://", 7) == 0 || strncmp(store, "etcd+http://", 12) == 0) {
		*ret_err = 0;
		return &ks_backend_etcd;
	}
	if (strstr(store, "://")) {
		*ret_err = -EPROTONOSUPPORT;
		return NULL;
	}
	*ret_err = 0;
	return &ks_backend_file;
}

static int backend_open(const char *store, struct ks_backend **ret)
{
	int r;
	const struct ks_backend_ops *ops = ks_backend_for(store, &r);

	if (!ops)
		return r;
	return ops->open(store, ret);
}

static int new_identity(struct ks_meta *m, uint8_t *sk)
{
	uint8_t id[KS_ID_BYTES];

	memset(m, 0, sizeof(*m));
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(m->store_id, sizeof(m->store_id), id, sizeof(id));
	return crypto_box_keypair(m->pk, sk) == 0 ? 0 : -EIO;
}

static int wrap_with_passphrase(struct ks_meta *m, const uint8_t *sk, int fd)
{
	char *pass = NULL;
	size_t n = 0;
	int r = ks_passphrase_read(fd, true, &pass, &n);

	if (r < 0)
		return r;
	r = ks_wrap_key(m->store_id, m->pk, sk, pass, n, &m->wrapped);
	sodium_free(pass);
	m->has_wrapped = r == 0;
	return r;
}

/* The first writer key: reuse the file when there is one (several stores
 * on one host), else make it; *ret_made tells whether to undo. */
static int init_writer(const char *path, struct ks_writer **ret, bool *ret_made)
{
	struct ks_writer *w;
	int r = ks_writer_read(path, ret);

	*ret_made = false;
	if (r != -ENOENT)
		return r;
	w = ks_writer_new();
	if (!w)
		return -ENOMEM;
	r = ks_writer_write(path, w);
	if (r < 0) {
		ks_writer_free(w);
		return r;
	}
	*ret_made = true;
	*ret = w;
	return 0;
}

/* Pin the writer as "admin" (or "admin-<hex>" when that label is taken). */
static int init_pin(const char *trust_file, const uint8_t pk[KS_PK_BYTES])
{
	char label[32], hex[9];
	int r = ks_trust_add(trust_file, pk, "admin");
	struct ks_trust t = { 0 };

	if (r != -EEXIST)
		return r;
	if (ks_trust_load(trust_file, &t) == 0 && ks_trust_has(&t, pk)) {
		ks_trust_clear(&t);
		return 0;
	}
	ks_trust_clear(&t);
	sodium_bin2hex(hex, sizeof(hex), pk, 4);
	snprintf(label, sizeof(label), "admin-%s", hex);
	return ks_trust_add(trust_file, pk, label);
}

static int init_with(struct ks_backend *be, const struct ks_init_opts *o,
		     const struct ks_sign_opts *so, uint8_t *sk, struct ks_writer *w)
{
	struct ks_snapshot s = { 0 };
	struct ks_meta m;
	json_t *meta;
	int r = be->ops->read_all(be, &s);

	ks_snapshot_free(&s);
	if (r != -ENOENT)
		return r == 0 || r == -EBADMSG ? -EEXIST : r;
	/* pin first: a trust file we cannot write must not leave a store
	 * behind that no reader would accept */
	r = w && so->trust_file ? init_pin(so->trust_file, w->pk) : 0;
	if (r == 0)
		r = new_identity(&m, sk);
	if (r == 0 && !o->key_file)
		r = wrap_with_passphrase(&m, sk, o->passphrase_fd);
	if (r == 0 && o->key_file)
		r = ks_keyfile_write(o->key_file, sk);
	if (r < 0)
		return r;
	m.format_version = KS_FORMAT_VERSION;
	if (w)
		ks_sign_meta(w, &m);
	meta = ks_meta_encode(&m);
	r = meta ? be->ops->create(be, meta) : -ENOMEM;
	json_decref(meta);
	if (r < 0 && o->key_file)
		(void)unlink(o->key_file);
	return r;
}

int ks_init(const char *store, const struct ks_init_opts *o)
{
	return ks_init_signed(store, o, NULL);
}

int ks_init_signed(const char *store, const struct ks_init_opts *o, const struct ks_sign_opts *so)
{
	static const struct ks_sign_opts none;
	struct ks_backend *be = NULL;
	struct ks_writer *w = NULL;
	bool made = false;
	uint8_t *sk;
	int r;

	so = so ? so : &none;
	if (!o || (so->trust_file && !so->writer_key) || sodium_init() < 0)
		return -EINVAL;
	r = backend_open(store, &be);
	if (r < 0)
		return r;

	r = so->writer_key ? init_writer(so->writer_key, &w, &made) : 0;
	sk = sodium_malloc(KS_SK_BYTES);
	if (r == 0)
		r = sk ? init_with(be, o, so, sk, w) : -ENOMEM;
	if (r < 0 && made)
		(void)unlink(so->writer_key);
	ks_writer_free(w);
	sodium_free(sk);
	be->ops->close(be);
	return r;
}

static int load_private(struct ks_store *ks, const struct ks_open_opts *o)
{
	uint8_t derived[KS_PK_BYTES];
	char *pass = NULL;
	size_t n = 0;
	int r;

	ks->sk = sodium_malloc(KS_SK_BYTES);
	if (!ks->sk)
		return -ENOMEM;
	if (ks->meta.has_wrapped) {
		r = ks_passphrase_read(o->passphrase_fd, false, &pass, &n);
		if (r == 0)
			r = ks_unwrap_key(ks->meta.store_id, ks->meta.pk, &ks->meta.wrapped, pass,
					  n, ks->sk);
		if (pass)
			sodium_free(pass);
	} else {
		r = o->key_file ? ks_keyfile_read(o->key_file, ks->sk) : -EINVAL;
	}
	if (r < 0)
		return r;
	/* A swapped public key would make every later writer seal to an
	 * attacker's key: refuse unless it is the one our private key gives. */
	if (crypto_scalarmult_base(derived, ks->sk) != 0 ||
	    sodium_memcmp(derived, ks->meta.pk, KS_PK_BYTES) != 0)
		return -EKEYREJECTED;
	return 0;
}

/* Read and decode the backend into meta + records (nothing unsealed). */
static int load_state(struct ks_backend *be, struct ks_meta *ret_meta, struct ks_rec **ret,
		      size_t *ret_n)
{
	struct ks_snapshot s = { 0 };
	int r = be->ops->read_all(be, &s);

	if (r == 0)
		r = ks_meta_decode(s.meta, ret_meta);
	if (r == 0)
		r = ks_snapshot_decode(&s, ret, ret_n);
	ks_snapshot_free(&s);
	return r;
}

/* ---- reader checks */

static void report(struct ks_store *ks, const char *name, uint64_t version, uint64_t mark, int err,
		   bool kept)
{
	struct ks_refusal f = { name, version, mark, err, kept };

	if (ks->on_refusal)
		ks->on_refusal(&f, ks->refusal_arg);
}

static uint64_t newest(const struct ks_rec *r)
{
	return r->is_tomb ? r->tomb.version : (r->n ? r->v[0].version : 0);
}

static int check_sigs(const struct ks_store *ks, const struct ks_rec *r)
{
	if (r->bad)
		return -EBADMSG;
	if (!ks->check_sigs || ks->meta.format_version < 2)
		return 0; /* format 1: unsigned, read with a warning */
	if (r->is_tomb)
		return ks_verify_ver(&ks->trust, ks->meta.store_id, r->name, true, &r->tomb);
	for (size_t i = 0; i < r->n; i++) {
		int e = ks_verify_ver(&ks->trust, ks->meta.store_id, r->name, false, &r->v[i]);
		if (e < 0)
			return e;
	}
	return 0;
}

static struct ks_rec *find_in(struct ks_rec *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (v && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, v[mid].name);
		if (c == 0)
			return &v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* One record: unchanged documents keep their verdict; a rolled-back one
 * is replaced by the newer record held before, if any. true: state dirty. */
static bool check_one(struct ks_store *ks, struct ks_rec *nr, struct ks_rec *old)
{
	uint64_t mark = ks->state ? ks_state_mark(ks->state, ks->meta.store_id, nr->name) : 0;
	int e;

	if (old && old->rev == nr->rev) {
		nr->err = old->err;
		return false;
	}
	if (old && old->refused_rev == nr->rev && old->refused_rev) {
		ks_rec_clear(nr);
		*nr = *old; /* still the same rolled-back document: keep ours */
		old->moved = true;
		return false;
	}
	e = check_sigs(ks, nr);
	if (e == 0 && newest(nr) < mark)
		e = -ETIME;
	if (e == -ETIME && old && !old->err && !old->bad && newest(old) >= mark) {
		ks_rev_t offered = nr->rev;
		report(ks, nr->name, newest(nr), mark, e, true);
		ks_rec_clear(nr);
		*nr = *old;
		nr->refused_rev = offered;
		old->moved = true;
		return false;
	}
	nr->err = e;
	if (e < 0) {
		report(ks, nr->name, newest(nr), mark, e, false);
		return false;
	}
	return ks->state && ks_state_raise(ks->state, ks->meta.store_id, nr->name, newest(nr));
}

void ks_check_recs(struct ks_store *ks, struct ks_rec *recs, size_t n, struct ks_rec *old,
		   size_t n_old)
{
	bool dirty = false;
	int r;

	for (size_t i = 0; i < n; i++)
		dirty |= check_one(ks, &recs[i], find_in(old, n_old, recs[i].name));
	if (ks->state && ks->meta.format_version >= 2)
		dirty |= ks_state_set_signed(ks->state, ks->meta.store_id);
	if (dirty && !ks->state_readonly && (r = ks_state_save(ks->state_path, ks->state)) < 0)
		report(ks, NULL, 0, 0, r, false);
}

/* Meta: signed by a pinned writer (format 2), never a downgrade to the
 * unsigned format 1 once this reader has seen the store signed. */
static int check_meta(const struct ks_store *ks, const struct ks_meta *m)
{
	if (m->format_version < 2)
		return ks->state && ks_state_signed(ks->state, m->store_id) ? -ENOKEY : 0;
	return ks->check_sigs ? ks_verify_meta(&ks->trust, m) : 0;
}

static int load_reader_files(struct ks_store *ks, const struct ks_sign_opts *o)
{
	int r = 0;

	ks->on_refusal = o->on_refusal;
	ks->refusal_arg = o->refusal_arg;
	ks->state_readonly = o->state_readonly;
	if (o->trust_file) {
		ks->check_sigs = true;
		r = ks_trust_load(o->trust_file, &ks->trust);
		if (r == -ENOENT)
			r = 0; /* no writer pinned: nothing signed is accepted */
	}
	if (r == 0 && o->state_file) {
		ks->state_path = strdup(o->state_file);
		r = ks->state_path ? ks_state_load(o->state_file, &ks->state) : -ENOMEM;
	}
	if (r == 0 && o->writer_key)
		r = ks_writer_read(o->writer_key, &ks->writer);
	return r;
}

int ks_open(const char *store, const struct ks_open_opts *o, struct ks_store **ret)
{
	return ks_open_signed(store, o, NULL, ret);
}

int ks_open_signed(const char *store, const struct ks_open_opts *o, const struct ks_sign_opts *so,
		   struct ks_store **ret)
{
	static const struct ks_sign_opts none;
	struct ks_store *ks;
	int r;

	if (!o || sodium_init() < 0)
		return -EINVAL;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	r = load_reader_files(ks, so ? so : &none);
	if (r == 0)
		r = backend_open(store, &ks->be);
	if (r == 0)
		r = load_state(ks->be, &ks->meta, &ks->recs, &ks->n);
	if (r == 0)
		r = check_meta(ks, &ks->meta);
	if (r == 0 && !o->public_only)
		r = load_private(ks, o);
	if (r < 0) {
		ks_close(ks);
		return r;
	}
	ks_check_recs(ks, ks->recs, ks->n, NULL, 0);
	*ret = ks;
	return 0;
}

void ks_close(struct ks_store *ks)
{
	if (!ks)
		return;
	if (ks->be)
		ks->be->ops->close(ks->be);
	if (ks->sk)
		sodium_free(ks->sk);
	ks_writer_free(ks->writer);
	ks_trust_clear(&ks->trust);
	json_decref(ks->state);
	free(ks->state_path);
	ks_recs_free(ks->recs, ks->n);
	sodium_memzero(&ks->meta, sizeof(ks->meta));
	free(ks);
}

int ks_format_version(const struct ks_store *ks)
{
	return ks->meta.format_version;
}

static bool same_state(const struct ks_rec *a, size_t na, const struct ks_rec *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].rev != b[i].rev || strcmp(a[i].name, b[i].name) != 0)
			return false;
	return true;
}

static int reload(struct ks_store *ks, bool *ret_changed)
{
	struct ks_meta m;
	struct ks_rec *recs = NULL;
	size_t n = 0;
	int r = load_state(ks->be, &m, &recs, &n);

	if (r < 0)
		return r;
	if (strcmp(m.store_id, ks->meta.store_id) != 0 ||
	    sodium_memcmp(m.pk, ks->meta.pk, KS_PK_BYTES) != 0) {
		ks_recs_free(recs, n);
		return -EBADMSG; /* another store swapped in: keep serving ours */
	}
	r = check_meta(ks, &m);
	if (r < 0) {
		ks_recs_free(recs, n);
		return r;
	}
	ks->meta = m;
	ks_check_recs(ks, recs, n, ks->recs, ks->n);
	if (ret_changed)
		*ret_changed = !same_state(ks->recs, ks->n, recs, n);
	ks_recs_free(ks->recs, ks->n);
	ks->recs = recs;
	ks->n = n;
	return 0;
}

int ks_reload(struct ks_store *ks, bool *ret_changed)
{
	if (ks->watch_quiet) {
		/* woken by another file in the store's directory: the store
		 * reads as it did, so answer as the last reload did */
		ks->watch_quiet = false;
		if (ret_changed)
			*ret_changed = false;
		return ks->reload_err;
	}
	return ks_reread(ks, ret_changed);
}

int ks_reread(struct ks_store *ks, bool *ret_changed)
{
	ks->watch_quiet = false;
	ks->reload_err = reload(ks, ret_changed);
	return ks->reload_err;
}

int ks_watch_fd(struct ks_store *ks)
{
	return ks->be->ops->watch_fd ? ks->be->ops->watch_fd(ks->be) : -1;
}

int ks_watch_drain(struct ks_store *ks)
{
	int r = ks->be->ops->watch_drain ? ks->be->ops->watch_drain(ks->be) : 1;

	ks->watch_quiet = r == 0;
	return r;
}

const char *ks_store_id(const struct ks_store *ks)
{
	return ks->meta.store_id;
}

void ks_public_key(const struct ks_store *ks, uint8_t ret_pk[KS_PK_BYTES])
{
	memcpy(ret_pk, ks->meta.pk, KS_PK_BYTES);
}

const char *ks_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case ENOENT: return "not found";
	case EEXIST: return "already exists";
	case EBADMSG: return "corrupt or unauthenticated data";
	case EACCES: return "wrong key or passphrase";
	case EPERM: return "key file is readable by group or others (must be 0400/0600)";
	case EINVAL: return "invalid name or argument";
	case ESTALE: return "another writer changed the store; retry";
	case EFBIG: return "value too large";
	case EKEYREJECTED: return "public key does not match private key";
	case EPROTONOSUPPORT: return "unsupported store backend or format version";
	case EXDEV: return "record was sealed for another store";
	case ENOTTY: return "no terminal to read a passphrase from (use --passphrase-fd)";
	case ENOSPC: return "no space left on device";
	case EHOSTUNREACH: return "store unreachable (no etcd endpoint answered)";
	case ECONNREFUSED: return "store refused the TLS connection (client certificate or CA)";
	case ENOPROTOOPT:
		return "plain http to a non-loopback etcd endpoint (KEYHOLE_ETCD_INSECURE=1 allows it)";
	case ENOKEY:
		return "signature check failed: not signed by a writer pinned in the trust file";
	case ETIME: return "rollback check failed: older than a version already served";
	case EALREADY: return "store is already signed (format 2)";
	case EUCLEAN: return "store is format 1 (unsigned): run `keyhole migrate --sign` first";
	default: return strerror(err < 0 ? -err : err);
	}
}

void ks_store_fingerprint(const struct ks_store *ks, char out[KS_FP_LEN])
{
	uint8_t pk[KS_PK_BYTES];

	ks_public_key(ks, pk);
	ks_fingerprint(pk, out);
}
