// SPDX-License-Identifier: MIT
/* Talking to keyholed: connect (with backoff while the agent is not up yet),
 * send one REQUEST, read batches of SECRET/DENIED/REVOKED up to END. Every
 * reply is untrusted: lengths capped before buffering (proto_frame_check),
 * exact-size decode, names and file names validated, END count checked,
 * duplicate file names refused, unrequested secrets dropped. Frame bytes are
 * wiped from the receive buffer as soon as they have been consumed. */
#include "clock.h"
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

#define RX_CAP (PROTO_HDR + PROTO_MAX_PAYLOAD)
#define MAX_BATCH_MSGS (4u * SHIM_MAX_SECRETS)
#define MAX_SET_BYTES (64u << 20) /* all values together */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int connect_once(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int fetch_connect(const char *path, int64_t deadline_ms)
{
	int64_t backoff = 10;
	for (;;) {
		int fd = connect_once(path);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED && fd != -EAGAIN))
			return fd;
		int64_t left = deadline_ms - (int64_t)clock_ms();
		if (left <= 0)
			return fd;
		sleep_ms(backoff < left ? backoff : left);
		backoff = backoff * 2 > 500 ? 500 : backoff * 2;
	}
}

int fetch_send_request(int fd, const struct shim_opts *o)
{
	const char *names[PROTO_MAX_NAMES];
	uint8_t buf[PROTO_MAX_REQUEST + PROTO_HDR];
	for (size_t i = 0; i < o->n_want; i++)
		names[i] = o->want[i].name;
	ssize_t n = proto_encode_request(buf, sizeof buf, o->watch ? PROTO_F_WATCH : 0, names,
					 o->n_want);
	if (n < 0)
		return (int)n;
	return io_write_all(fd, buf, (size_t)n);
}

int fetch_rx_init(struct fetch_rx *rx)
{
	rx->have = 0;
	rx->buf = malloc(RX_CAP);
	return rx->buf ? 0 : -ENOMEM;
}

void fetch_rx_free(struct fetch_rx *rx)
{
	if (rx->buf) {
		explicit_bzero(rx->buf, RX_CAP);
		free(rx->buf);
	}
	rx->buf = NULL;
	rx->have = 0;
}

/* Wait for one whole frame in rx; returns its payload length or -errno. */
static int rx_frame(int fd, struct fetch_rx *rx, int64_t deadline_ms, uint32_t *ret_len)
{
	for (;;) {
		int r = proto_frame_check(rx->buf, rx->have, PROTO_MAX_PAYLOAD, ret_len);
		if (r == 0)
			return 0;
		if (r != -EAGAIN)
			return -EBADMSG;
		int timeout = -1;
		if (deadline_ms >= 0) {
			/* past the deadline: still take what is already there */
			int64_t left = deadline_ms - (int64_t)clock_ms();
			timeout = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, timeout);
		if (pr < 0 && errno != EINTR)
			return -errno;
		if (pr == 0 && timeout == 0)
			return -ETIMEDOUT;
		if (pr <= 0)
			continue;
		ssize_t n = io_read_some(fd, rx->buf + rx->have, RX_CAP - rx->have);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		rx->have += (size_t)n;
	}
}

static void rx_consume(struct fetch_rx *rx, uint32_t payload_len)
{
	size_t fl = PROTO_HDR + payload_len;
	memmove(rx->buf, rx->buf + fl, rx->have - fl);
	explicit_bzero(rx->buf + rx->have - fl, fl);
	rx->have -= fl;
}

static const struct shim_want *want_of(const struct shim_opts *o, const char *name)
{
	for (size_t i = 0; i < o->n_want; i++)
		if (!strcmp(o->want[i].name, name))
			return &o->want[i];
	return NULL;
}

static size_t set_bytes(const struct shim_set *set)
{
	size_t t = 0;
	for (size_t i = 0; i < set->n; i++)
		t += set->s[i].value_len;
	return t;
}

static int on_secret(const struct proto_secret *m, const struct shim_opts *o,
		     struct shim_set *set)
{
	if (!proto_secret_name_valid(m->name) || !proto_file_name_valid(m->file))
		return -EBADMSG;
	const struct shim_want *w = want_of(o, m->name);
	if (o->n_want && !w)
		return 0; /* not asked for: ignored */
	uint16_t mode = (uint16_t)(m->mode & 0777u);
	struct shim_secret *old = set_find(set, m->name);
	size_t old_len = old ? old->value_len : 0;
	if (set_bytes(set) - old_len + m->value_len > MAX_SET_BYTES)
		return -EBADMSG;
	int r = set_put(set, m->name, w && w->file ? w->file : m->file, m->version,
			mode ? mode : 0400, m->value, m->value_len);
	return r == -EEXIST || r == -EINVAL ? -EBADMSG : r;
}

static int on_denied(const struct proto_denied *m, struct shim_set *set, struct fetch_batch *b)
{
	if (!proto_secret_name_valid(m->name) || b->n_denied >= SHIM_MAX_SECRETS)
		return -EBADMSG;
	if (!b->denied && !(b->denied = calloc(SHIM_MAX_SECRETS, sizeof *b->denied)))
		return -ENOMEM;
	struct fetch_denied *d = &b->denied[b->n_denied++];
	memcpy(d->name, m->name, sizeof d->name);
	memcpy(d->reason, m->reason, sizeof d->reason);
	set_del(set, m->name);
	return 0;
}

static int on_revoked(const struct proto_revoked *m, struct shim_set *set, struct fetch_batch *b)
{
	if (!proto_secret_name_valid(m->name) || b->n_revoked >= SHIM_MAX_SECRETS)
		return -EBADMSG;
	strcpy(b->revoked[b->n_revoked++], m->name);
	set_del(set, m->name);
	return 0;
}

static int on_msg(const struct proto_msg *m, const struct shim_opts *o, struct shim_set *set,
		  struct fetch_batch *b)
{
	switch (m->type) {
	case PROTO_SECRET:
		return on_secret(&m->u.secret, o, set);
	case PROTO_DENIED:
		return on_denied(&m->u.denied, set, b);
	case PROTO_REVOKED:
		return on_revoked(&m->u.revoked, set, b);
	case PROTO_ERROR:
		b->error = m->u.error;
		b->got_error = true;
		return -EPROTO;
	case PROTO_END:
	case PROTO_REQUEST:
	case PROTO_ADMIN:
	case PROTO_ADMIN_REPLY:
		break;
	}
	return -EBADMSG;
}

int fetch_batch(int fd, struct fetch_rx *rx, const struct shim_opts *o, int64_t deadline_ms,
		struct shim_set *set, struct fetch_batch *b)
{
	struct proto_msg *m = malloc(sizeof *m);
	uint32_t count = 0, len;
	int r;

	if (!m)
		return -ENOMEM;
	for (;;) {
		r = rx_frame(fd, rx, deadline_ms, &len);
		if (r < 0)
			break;
		r = proto_decode(rx->buf + PROTO_HDR, len, m) < 0 ? -EBADMSG : 0;
		if (r == 0 && m->type == PROTO_END) {
			r = m->u.end.count == count ? 1 : -EBADMSG;
		} else if (r == 0) {
			r = ++count > MAX_BATCH_MSGS ? -EBADMSG : on_msg(m, o, set, b);
		}
		explicit_bzero(m, sizeof *m);
		rx_consume(rx, len);
		if (r != 0)
			break;
	}
	free(m);
	return r == 1 ? 0 : r;
}

void fetch_batch_free(struct fetch_batch *b)
{
	free(b->denied);
	memset(b, 0, sizeof *b);
}

size_t fetch_missing(const struct shim_opts *o, const struct shim_set *set,
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
