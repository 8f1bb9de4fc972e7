// SPDX-License-Identifier: MIT
/* Store lifecycle: init (new id + X25519 key pair, private key to a 0400
 * key file or Argon2id-wrapped in the store), open (decode everything but
 * unseal nothing; check the recorded public key against the private key),
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

static int init_with(struct ks_backend *be, const struct ks_init_opts *o, uint8_t *sk)
{
	struct ks_snapshot s = { 0 };
	struct ks_meta m;
	json_t *meta;
	int r = be->ops->read_all(be, &s);

	ks_snapshot_free(&s);
	if (r != -ENOENT)
		return r == 0 || r == -EBADMSG ? -EEXIST : r;
	r = new_identity(&m, sk);
	if (r == 0 && !o->key_file)
		r = wrap_with_passphrase(&m, sk, o->passphrase_fd);
	if (r == 0 && o->key_file)
		r = ks_keyfile_write(o->key_file, sk);
	if (r < 0)
		return r;
	meta = ks_meta_encode(&m);
	r = meta ? be->ops->create(be, meta) : -ENOMEM;
	json_decref(meta);
	if (r < 0 && o->key_file)
		(void)unlink(o->key_file);
	return r;
}

int ks_init(const char *store, const struct ks_init_opts *o)
{
	struct ks_backend *be = NULL;
	uint8_t *sk;
	int r;

	if (!o || sodium_init() < 0)
		return -EINVAL;
	r = backend_open(store, &be);
	if (r < 0)
		return r;
	sk = sodium_malloc(KS_SK_BYTES);
	r = sk ? init_with(be, o, sk) : -ENOMEM;
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

int ks_open(const char *store, const struct ks_open_opts *o, struct ks_store **ret)
{
	struct ks_store *ks;
	int r;

	if (!o || sodium_init() < 0)
		return -EINVAL;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	r = backend_open(store, &ks->be);
	if (r == 0)
		r = load_state(ks->be, &ks->meta, &ks->recs, &ks->n);
	if (r == 0 && !o->public_only)
		r = load_private(ks, o);
	if (r < 0) {
		ks_close(ks);
		return r;
	}
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
	ks_recs_free(ks->recs, ks->n);
	sodium_memzero(&ks->meta, sizeof(ks->meta));
	free(ks);
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

int ks_reload(struct ks_store *ks, bool *ret_changed)
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
	if (ret_changed)
		*ret_changed = !same_state(ks->recs, ks->n, recs, n);
	ks_recs_free(ks->recs, ks->n);
	ks->recs = recs;
	ks->n = n;
	return 0;
}

int ks_watch_fd(struct ks_store *ks)
{
	return ks->be->ops->watch_fd ? ks->be->ops->watch_fd(ks->be) : -1;
}

int ks_watch_drain(struct ks_store *ks)
{
	return ks->be->ops->watch_drain ? ks->be->ops->watch_drain(ks->be) : 0;
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
	case ENOPROTOOPT: return "plain http to a non-loopback etcd endpoint (KEYHOLE_ETCD_INSECURE=1 allows it)";
	default: return strerror(err < 0 ? -err : err);
	}
}
