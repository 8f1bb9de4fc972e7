/* SPDX-License-Identifier: MIT */
/* One batch of the agent's reply (SECRET/DENIED/REVOKED ... END, or ERROR),
 * decoded and validated, applied to a set. Pure: no I/O, so the fuzzer
 * (tests/fuzz/fuzz_shim_batch.c) runs exactly this code. Every byte is
 * untrusted: frames capped before use (proto_frame_check), exact-size
 * decode, names and file names validated, END count checked, duplicate file
 * names, over 1024 messages or 64 MiB of values refused, unrequested
 * secrets dropped. The decoded message is wiped after each frame. */
#include "shim.h"

#include <errno.h>
#include <string.h>

#define MAX_BATCH_MSGS (4u * SHIM_MAX_SECRETS)
#define MAX_SET_BYTES (64u << 20) /* all values together */

static const struct shim_want *want_of(const struct shim_opts *o, const char *name)
{
	for (size_t i = 0; i < o->n_want; i++)
		if (!strcmp(o->want[i].name, name))
			return &o->want[i];
	return NULL;
}

static int on_denied(const struct proto_denied *m, struct shim_set *set, struct batch *b);

/* A value for the environment with a NUL in it cannot be one: the secret
 * is refused like a DENIED (and any older version dropped). */
static int deny_env_nul(const struct proto_secret *m, struct shim_set *set, struct batch *b)
{
	static const char why[] = "its value holds a NUL byte, so it cannot be an environment "
				  "variable (deliver it as a file: drop \"env\" from the grant)";
	struct proto_denied d;
	_Static_assert(sizeof why <= sizeof d.reason, "reason fits");
	memset(&d, 0, sizeof d);
	memcpy(d.name, m->name, sizeof d.name);
	memcpy(d.reason, why, sizeof why);
	return on_denied(&d, set, b);
}

static int on_secret(const struct proto_secret *m, const struct shim_opts *o, struct shim_set *set,
		     struct batch *b)
{
	bool has_file = m->delivery & PROTO_D_FILE;
	if (!proto_secret_name_valid(m->name) || (has_file && !proto_file_name_valid(m->file)))
		return -EBADMSG;
	const struct shim_want *w = want_of(o, m->name);
	if (o->n_want && !w)
		return 0; /* not asked for: ignored */
	if ((m->delivery & PROTO_D_ENV) && m->value_len && memchr(m->value, '\0', m->value_len))
		return deny_env_nul(m, set, b);
	uint16_t mode = (uint16_t)(m->mode & 0777u);
	struct shim_secret *old = set_find(set, m->name);
	size_t old_len = old && !old->on_disk ? old->value_len : 0;
	if (set_bytes(set) - old_len + m->value_len > MAX_SET_BYTES)
		return -EBADMSG;
	int r = set_put_msg(set, m, w && w->file ? w->file : m->file, mode ? mode : 0400);
	return r == -EEXIST || r == -EINVAL || r == -ENOSPC ? -EBADMSG : r;
}

static int on_denied(const struct proto_denied *m, struct shim_set *set, struct batch *b)
{
	if (!proto_secret_name_valid(m->name) || b->n_denied >= SHIM_MAX_SECRETS)
		return -EBADMSG;
	if (!b->denied && !(b->denied = mem_alloc(SHIM_MAX_SECRETS * sizeof *b->denied)))
		return -ENOMEM;
	struct batch_denied *d = &b->denied[b->n_denied++];
	memcpy(d->name, m->name, sizeof d->name);
	memcpy(d->reason, m->reason, sizeof d->reason);
	set_del(set, m->name);
	return 0;
}

static int on_revoked(const struct proto_revoked *m, struct shim_set *set, struct batch *b)
{
	if (!proto_secret_name_valid(m->name) || b->n_revoked >= SHIM_MAX_SECRETS)
		return -EBADMSG;
	if (!b->revoked && !(b->revoked = mem_alloc(SHIM_MAX_SECRETS * sizeof *b->revoked)))
		return -ENOMEM;
	strcpy(b->revoked[b->n_revoked++], m->name);
	set_del(set, m->name);
	return 0;
}

/* One decoded message: 1 after a valid END, 0 to go on, or -errno. */
static int on_msg(const struct proto_reply *m, const struct shim_opts *o, struct shim_set *set,
		  struct batch *b)
{
	if (m->type == PROTO_END)
		return m->u.end.count == b->count ? 1 : -EBADMSG;
	if (m->type != PROTO_ERROR && ++b->count > MAX_BATCH_MSGS)
		return -EBADMSG;
	switch (m->type) {
	case PROTO_SECRET:
	case PROTO_SECRET2: return on_secret(&m->u.secret, o, set, b);
	case PROTO_DENIED: return on_denied(&m->u.denied, set, b);
	case PROTO_REVOKED: return on_revoked(&m->u.revoked, set, b);
	case PROTO_ERROR:
		b->error = m->u.error;
		b->got_error = true;
		return -EPROTO;
	case PROTO_END:
	case PROTO_REQUEST:
	case PROTO_ADMIN:
	case PROTO_ADMIN_REPLY: break;
	}
	return -EBADMSG;
}

int batch_feed(const uint8_t *buf, size_t len, const struct shim_opts *o, struct shim_set *set,
	       struct batch *b, size_t *ret_used)
{
	struct proto_reply m; /* the agent->shim direction only: no 16 KiB request inside */
	size_t off = 0;
	int r = 0;

	while (r == 0) {
		uint32_t plen;
		int f = proto_frame_check(buf + off, len - off, PROTO_MAX_PAYLOAD, &plen);
		if (f == -EAGAIN)
			break;
		if (f < 0) {
			r = -EBADMSG;
			break;
		}
		r = proto_decode_reply(buf + off + PROTO_HDR, plen, &m) < 0 ? -EBADMSG
									    : on_msg(&m, o, set, b);
		explicit_bzero(&m, sizeof m);
		off += PROTO_HDR + plen;
	}
	*ret_used = off;
	if (r == 1)
		b->count = 0; /* the next batch counts afresh */
	return r;
}

void batch_free(struct batch *b)
{
	mem_free(b->denied, SHIM_MAX_SECRETS * sizeof *b->denied);
	mem_free(b->revoked, SHIM_MAX_SECRETS * sizeof *b->revoked);
	memset(b, 0, sizeof *b);
}

size_t batch_missing(const struct shim_opts *o, const struct shim_set *set,
		     const char **ret_missing, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n_want; i++) {
		bool found = false;
		if (o->want[i].optional)
			continue;
		for (size_t j = 0; j < set->n && !found; j++)
			found = !strcmp(set->s[j].name, o->want[i].name);
		if (!found && n < cap)
			ret_missing[n++] = o->want[i].name;
	}
	return n;
}
