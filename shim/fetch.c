/* SPDX-License-Identifier: MIT */
/* Talking to keyholed: connect (with backoff while the agent is not up yet),
 * send one REQUEST, read bytes until batch.c has seen a whole batch. Every
 * wait also watches a cancel fd (the signalfd before the app starts), so a
 * SIGTERM never waits for the agent. The receive buffer is locked pages
 * grown to the frame being read, capped by the frame header before it
 * grows, and wiped as soon as frames have been consumed. */
#include "clock.h"
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"

#define RX_MIN 4096u

/* poll fd (-1 = none) and cancel_fd for up to timeout ms: 1 if fd is
 * ready, 0 on timeout, -ECANCELED, or -errno. */
static int wait_fd(int fd, int cancel_fd, int timeout)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			       { .fd = cancel_fd, .events = POLLIN } };
	int r = poll(p, 2, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents)
		return -ECANCELED;
	return r > 0 && p[0].revents ? 1 : 0;
}

int fetch_sleep(int64_t ms, int cancel_fd)
{
	int64_t end = (int64_t)clock_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - (int64_t)clock_ms()) {
		int r = wait_fd(-1, cancel_fd, (int)left);
		if (r < 0)
			return r;
	}
	return 0;
}

static int connect_once(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	if (n >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n);
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

int fetch_connect(const char *path, int64_t deadline_ms, int cancel_fd)
{
	int64_t backoff = 10;
	for (;;) {
		int fd = connect_once(path);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED && fd != -EAGAIN))
			return fd;
		int64_t left = deadline_ms - (int64_t)clock_ms();
		if (left <= 0)
			return fd;
		int r = fetch_sleep(backoff < left ? backoff : left, cancel_fd);
		if (r < 0)
			return r;
		backoff = backoff * 2 > 500 ? 500 : backoff * 2;
	}
}

int fetch_send_request(int fd, const struct shim_opts *o)
{
	const char *names[PROTO_MAX_NAMES];
	uint8_t buf[PROTO_MAX_REQUEST + PROTO_HDR];
	for (size_t i = 0; i < o->n_want; i++)
		names[i] = o->want[i].name;
	ssize_t n = proto_encode_request_v(buf, sizeof buf, o->proto ? o->proto : PROTO_VERSION,
					   o->watch ? PROTO_F_WATCH : 0, names, o->n_want);
	if (n < 0)
		return (int)n;
	return io_write_all(fd, buf, (size_t)n);
}

void fetch_rx_free(struct fetch_rx *rx)
{
	mem_secret_free(rx->buf, rx->cap);
	memset(rx, 0, sizeof *rx);
}

/* Room for the frame that starts the buffer (its header is checked against
 * the cap first), or RX_MIN. */
static int rx_reserve(struct fetch_rx *rx)
{
	uint32_t plen = 0;
	size_t need = RX_MIN;
	int r = proto_frame_check(rx->buf, rx->have, PROTO_MAX_PAYLOAD, &plen);
	if (r == -EMSGSIZE)
		return -EBADMSG;
	if (rx->have >= PROTO_HDR)
		need = PROTO_HDR + (size_t)plen > need ? PROTO_HDR + (size_t)plen : need;
	if (need <= rx->cap)
		return 0;
	uint8_t *nb = mem_secret_alloc(need);
	if (!nb)
		return -ENOMEM;
	if (rx->have)
		memcpy(nb, rx->buf, rx->have);
	mem_secret_free(rx->buf, rx->cap);
	rx->buf = nb;
	rx->cap = need;
	return 0;
}

static void rx_consume(struct fetch_rx *rx, size_t n)
{
	if (n == 0)
		return;
	memmove(rx->buf, rx->buf + n, rx->have - n);
	explicit_bzero(rx->buf + rx->have - n, n);
	rx->have -= n;
}

/* Read more bytes: 0, -EPIPE, -ETIMEDOUT, -ECANCELED or -errno. */
static int rx_fill(int fd, struct fetch_rx *rx, int64_t deadline_ms, int cancel_fd)
{
	int r = rx_reserve(rx);
	if (r < 0)
		return r;
	for (;;) {
		int timeout = -1;
		if (deadline_ms >= 0) {
			/* past the deadline: still take what is already there */
			int64_t left = deadline_ms - (int64_t)clock_ms();
			timeout = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
		}
		r = wait_fd(fd, cancel_fd, timeout);
		if (r < 0)
			return r;
		if (r == 0 && timeout == 0)
			return -ETIMEDOUT;
		if (r > 0)
			break;
	}
	ssize_t n = io_read_some(fd, rx->buf + rx->have, rx->cap - rx->have);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	rx->have += (size_t)n;
	return 0;
}

int fetch_batch(int fd, struct fetch_rx *rx, const struct shim_opts *o, int64_t deadline_ms,
		int cancel_fd, struct shim_set *set, struct batch *b)
{
	for (;;) {
		size_t used = 0;
		int r = rx->have ? batch_feed(rx->buf, rx->have, o, set, b, &used) : 0;
		rx_consume(rx, used);
		if (r != 0)
			return r == 1 ? 0 : r;
		if ((r = rx_fill(fd, rx, deadline_ms, cancel_fd)) < 0)
			return r;
	}
}
