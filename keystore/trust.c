/* SPDX-License-Identifier: MIT */
/* The local trust file of writer keys (default /etc/keyhole/writers, root,
 * 0644): one "ed25519 <base64 public key> <label>" line per pinned writer,
 * '#' comments. Trust comes only from here, never from the store, so
 * someone who can rewrite the store cannot add a writer. A file that group
 * or others may write is refused (-EPERM). ks_trust_parse is syscall-free. */
#include "ks_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

void ks_fingerprint(const uint8_t pk[KS_PK_BYTES], char out[KS_FP_LEN])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
					   sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	crypto_hash_sha256(h, pk, KS_PK_BYTES);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, strlen(b64) + 1);
}

#define TRUST_MAX_FILE (1u << 20)
#define TRUST_MAX (4096u)

static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || n > KS_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-",
			    s[i]) ||
		    !s[i])
			return false;
	return true;
}

bool ks_writer_label_valid(const char *label)
{
	return label && label_ok(label, strnlen(label, KS_LABEL_MAX + 1));
}

static int parse_line(const char *p, size_t n, struct ks_trusted *ret)
{
	const char *sp1, *sp2, *end = NULL;
	size_t got = 0;

	if (n < 9 || memcmp(p, "ed25519 ", 8) != 0)
		return -EBADMSG;
	sp1 = p + 7;
	sp2 = memchr(sp1 + 1, ' ', n - 8);
	if (!sp2 || !label_ok(sp2 + 1, (size_t)(p + n - sp2 - 1)))
		return -EBADMSG;
	if (sodium_base642bin(ret->pk, KS_PK_BYTES, sp1 + 1, (size_t)(sp2 - sp1 - 1), NULL, &got,
			      &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != KS_PK_BYTES || end != sp2)
		return -EBADMSG;
	memcpy(ret->label, sp2 + 1, (size_t)(p + n - sp2 - 1));
	ret->label[p + n - sp2 - 1] = '\0';
	ks_fingerprint(ret->pk, ret->fp);
	return 0;
}

int ks_trust_parse(const char *buf, size_t len, struct ks_trust *ret)
{
	struct ks_trust t = { 0 };
	size_t off = 0;

	if (len > TRUST_MAX_FILE)
		return -EBADMSG;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		const char *p = buf + off;

		off += n + 1;
		if (n == 0 || p[0] == '#')
			continue;
		if (t.n == TRUST_MAX)
			goto bad;
		if (t.n % 16 == 0) {
			struct ks_trusted *g = reallocarray(t.v, t.n + 16, sizeof(*g));
			if (!g) {
				free(t.v);
				return -ENOMEM;
			}
			t.v = g;
		}
		if (parse_line(p, n, &t.v[t.n]) < 0)
			goto bad;
		t.n++;
	}
	*ret = t;
	return 0;
bad:
	free(t.v);
	return -EBADMSG;
}

void ks_trust_clear(struct ks_trust *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

bool ks_trust_has(const struct ks_trust *t, const uint8_t pk[KS_PK_BYTES])
{
	for (size_t i = 0; t && i < t->n; i++)
		if (sodium_memcmp(t->v[i].pk, pk, KS_PK_BYTES) == 0)
			return true;
	return false;
}

int ks_trust_load(const char *path, struct ks_trust *ret)
{
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (stat(path, &st) < 0)
		return -errno;
	if ((st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != geteuid()))
		return -EPERM; /* anyone else could pin a writer */
	r = ks_read_file(path, TRUST_MAX_FILE, &buf, &len);
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	return ks_trust_parse(buf, len, ret);
}

int ks_trust_list(const char *path, struct ks_trusted **ret, size_t *ret_n)
{
	struct ks_trust t = { 0 };
	int r = ks_trust_load(path, &t);

	if (r < 0)
		return r;
	*ret = t.v;
	*ret_n = t.n;
	return 0;
}

static int trust_rewrite(const char *path, const struct ks_trust *t)
{
	size_t cap = 64 + t->n * (16 + 48 + KS_LABEL_MAX), len = 0;
	cleanup_free char *out = malloc(cap);

	if (!out)
		return -ENOMEM;
	len += (size_t)snprintf(out, cap,
				"# keyhole writer keys (keyhole writer add|list|revoke)\n");
	for (size_t i = 0; i < t->n; i++) {
		char b64[sodium_base64_ENCODED_LEN(KS_PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), t->v[i].pk, KS_PK_BYTES,
				  sodium_base64_VARIANT_ORIGINAL);
		len += (size_t)snprintf(out + len, cap - len, "ed25519 %s %s\n", b64,
					t->v[i].label);
	}
	return ks_atomic_write(path, out, len, 0644);
}

/* Load (missing = empty), edit under the lock, write back atomically. */
static int trust_edit(const char *path, const uint8_t *add_pk, const char *label,
		      const char *remove)
{
	cleanup_free char *lock_path = NULL;
	cleanup_close int lock = -1;
	struct ks_trust t = { 0 };
	int r;

	if (asprintf(&lock_path, "%s.lock", path) < 0) {
		lock_path = NULL;
		return -ENOMEM;
	}
	r = ks_lock(lock_path, &lock);
	if (r == 0)
		r = ks_trust_load(path, &t);
	if (r == -ENOENT)
		r = 0;
	for (size_t i = 0; r == 0 && i < t.n; i++) {
		if (add_pk && (sodium_memcmp(t.v[i].pk, add_pk, KS_PK_BYTES) == 0 ||
			       strcmp(t.v[i].label, label) == 0))
			r = -EEXIST;
		if (remove &&
		    (strcmp(t.v[i].label, remove) == 0 || strcmp(t.v[i].fp, remove) == 0)) {
			memmove(&t.v[i], &t.v[i + 1], (t.n - i - 1) * sizeof(t.v[0]));
			t.n--;
			r = 1;
		}
	}
	if (r == 0 && remove)
		r = -ENOENT;
	if (r >= 0 && add_pk) {
		struct ks_trusted *g = reallocarray(t.v, t.n + 1, sizeof(*g));
		r = g ? 0 : -ENOMEM;
		if (g) {
			t.v = g;
			memcpy(t.v[t.n].pk, add_pk, KS_PK_BYTES);
			snprintf(t.v[t.n].label, sizeof(t.v[t.n].label), "%s", label);
			t.n++;
		}
	}
	if (r >= 0)
		r = trust_rewrite(path, &t);
	ks_trust_clear(&t);
	return r;
}

int ks_trust_add(const char *path, const uint8_t pk[KS_PK_BYTES], const char *label)
{
	if (!ks_writer_label_valid(label))
		return -EINVAL;
	return trust_edit(path, pk, label, NULL);
}

int ks_trust_remove(const char *path, const char *label_or_fp)
{
	return trust_edit(path, NULL, NULL, label_or_fp);
}
