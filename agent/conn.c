/* SPDX-License-Identifier: MIT */
/* Per-connection state and buffers (conn.h). Output goes through one
 * sodium_malloc buffer per connection (frames carry secret values), wiped
 * and freed (or wiped and pooled) as soon as it is flushed; writes are
 * non-blocking with EPOLLOUT for the rest. Pending connections (request not
 * yet read) sit in a FIFO whose order is their deadline order, since every
 * deadline is accept + a constant. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "log.h"

static void pending_append(struct conn_set *cs, struct conn *c)
{
	c->pending = true;
	c->deadline_ms = clock_ms() + CONN_READ_TIMEOUT_MS;
	c->pnext = NULL;
	c->pprev = cs->ptail;
	if (cs->ptail)
		cs->ptail->pnext = c;
	else
		cs->phead = c;
	cs->ptail = c;
}

struct conn *conn_new(struct conn_set *cs, int fd, enum conn_kind kind)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

	if (!c)
		return NULL;
	c->fd = fd;
	c->kind = kind;
	c->peer.pidfd = -1;
	ev.data.ptr = c;
	if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->next = cs->head;
	if (cs->head)
		cs->head->prev = c;
	cs->head = c;
	cs->n++;
	pending_append(cs, c);
	return c;
}

void conn_pending_remove(struct conn_set *cs, struct conn *c)
{
	if (!c->pending)
		return;
	if (c->pprev)
		c->pprev->pnext = c->pnext;
	else
		cs->phead = c->pnext;
	if (c->pnext)
		c->pnext->pprev = c->pprev;
	else
		cs->ptail = c->pprev;
	c->pending = false;
	c->pprev = c->pnext = NULL;
}

static void set_events(struct conn_set *cs, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	ev.data.ptr = c;
	(void)epoll_ctl(cs->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void conn_pause(struct conn_set *cs, struct conn *c)
{
	set_events(cs, c, 0); /* EPOLLHUP and EPOLLERR are always reported */
	c->out_armed = false;
}

/* Every deadline is "now + constant", so appending keeps the FIFO sorted. */
void conn_resume(struct conn_set *cs, struct conn *c)
{
	set_events(cs, c, EPOLLIN | EPOLLRDHUP);
	conn_pending_remove(cs, c);
	pending_append(cs, c);
}

/* Recycled sodium buffers: sodium_malloc costs mmap + mprotect + mlock per
 * call, which dominated a fresh-connection fetch. Wiped before pooling. */
static uint8_t *buf_get(struct conn_set *cs, size_t cap)
{
	if (cap == CONN_POOL_BUF && cs->pool_n)
		return cs->pool[--cs->pool_n];
	return sodium_malloc(cap);
}

static void buf_put(struct conn_set *cs, uint8_t *b, size_t cap)
{
	if (!b)
		return;
	if (cap == CONN_POOL_BUF && cs->pool_n < CONN_POOL_MAX) {
		sodium_memzero(b, cap);
		cs->pool[cs->pool_n++] = b;
		return;
	}
	sodium_free(b); /* wipes */
}

static void set_wdeadline(struct conn_set *cs, struct conn *c, uint64_t when)
{
	if (!c->wdeadline_ms != !when)
		cs->n_stalled += when ? 1u : (unsigned)-1;
	c->wdeadline_ms = when;
}

static void wbuf_free(struct conn_set *cs, struct conn *c)
{
	set_wdeadline(cs, c, 0);
	cs->out_bytes -= c->wcap;
	buf_put(cs, c->wbuf, c->wcap);
	c->wbuf = NULL;
	c->wlen = c->woff = c->wcap = 0;
}

void conn_wipe_request(struct conn *c)
{
	if (c->rbuf) /* only the bytes read: never touch (make resident) the rest */
		sodium_memzero(c->rbuf, c->rlen);
	free(c->rbuf);
	c->rbuf = NULL;
	c->rlen = c->rcap = 0;
}

/* Connections are freed only by conn_bury, after the events of the current
 * epoll batch that may still point at them are handled. */
void conn_close(struct conn_set *cs, struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	conn_pending_remove(cs, c);
	close(c->fd); /* the only reference to the file: epoll drops it too */
	c->fd = -1;
	if (c->watching) {
		cs->n_watchers--;
		rl_watch_put(c->ident);
	}
	rl_conn_put(c->ident);
	c->ident = NULL;
	cs->n--;
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = cs->graveyard;
	cs->graveyard = c;
	peer_release(&c->peer);
	if (c->has_meta)
		container_meta_clear(&c->meta);
	k8s_meta_free(c->k8s);
	c->k8s = NULL;
	wbuf_free(cs, c);
	conn_wipe_request(c);
	free(c->want);
	free(c->held);
	c->want = NULL;
	c->held = NULL;
}

void conn_bury(struct conn_set *cs)
{
	while (cs->graveyard) {
		struct conn *c = cs->graveyard;
		cs->graveyard = c->next;
		free(c);
	}
}

void conn_set_free(struct conn_set *cs)
{
	while (cs->head)
		conn_close(cs, cs->head);
	conn_bury(cs);
	while (cs->pool_n)
		sodium_free(cs->pool[--cs->pool_n]);
}

/* Requests are small (a few names): start with RBUF_START bytes and grow
 * towards the cap only as bytes arrive, so 1000 idle watchers do not each
 * keep a 16 KiB buffer's pages resident. */
#define RBUF_START 512u

static int rbuf_grow(struct conn *c, size_t full)
{
	size_t cap = c->rcap ? c->rcap * 4 : RBUF_START;
	uint8_t *n;

	if (cap > full)
		cap = full;
	if (!(n = malloc(cap)))
		return -ENOMEM;
	if (c->rbuf) {
		memcpy(n, c->rbuf, c->rlen);
		sodium_memzero(c->rbuf, c->rlen);
		free(c->rbuf);
	}
	c->rbuf = n;
	c->rcap = cap;
	return 0;
}

/* Read until EAGAIN, EOF, the cap, or a decided frame; sets *eof. */
static int fill(struct conn *c, size_t full, uint32_t max, bool *eof)
{
	uint32_t len;

	for (;;) {
		if (c->rlen == c->rcap) {
			if (c->rcap >= full)
				return 0;
			if (rbuf_grow(c, full) < 0)
				return -ENOMEM;
		}
		ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			*eof = true;
			return 0;
		}
		c->rlen += (size_t)n;
		/* a whole frame (or an oversize prefix) decides: no EAGAIN read */
		if (proto_frame_check(c->rbuf, c->rlen, max, &len) != -EAGAIN)
			return 0;
	}
}

int conn_read_frame(struct conn *c, uint32_t max, uint32_t *ret_len)
{
	const size_t full = PROTO_HDR + (size_t)max;
	bool eof = false;
	uint32_t len = 0;
	int r = fill(c, full, max, &eof);

	if (r < 0)
		return r;
	r = proto_frame_check(c->rbuf, c->rlen, max, &len);
	if (r == -EMSGSIZE)
		return -EMSGSIZE;
	if (r == 0 && c->rlen != PROTO_HDR + (size_t)len)
		return -EBADMSG;
	if (r == 0) {
		*ret_len = len;
		return 1;
	}
	if (eof)
		return c->rlen ? -EPIPE : -ECONNRESET;
	return 0;
}

int conn_reserve(struct conn_set *cs, struct conn *c, size_t need, uint8_t **ret)
{
	if (need > CONN_MAX_WBUF || c->wlen > CONN_MAX_WBUF - need)
		return -ENOBUFS;
	if (c->wlen + need > c->wcap) {
		size_t cap = c->wcap ? c->wcap : CONN_POOL_BUF;
		uint8_t *n;
		while (cap < c->wlen + need)
			cap *= 2;
		if (cs->out_max && cap > CONN_POOL_BUF &&
		    cs->out_bytes - c->wcap + cap > cs->out_max)
			return -EBUSY;
		n = buf_get(cs, cap);
		if (!n)
			return -ENOMEM;
		if (c->wlen)
			memcpy(n, c->wbuf, c->wlen);
		buf_put(cs, c->wbuf, c->wcap);
		cs->out_bytes += cap - c->wcap;
		c->wbuf = n;
		c->wcap = cap;
	}
	*ret = c->wbuf + c->wlen;
	return 0;
}

void conn_commit(struct conn *c, size_t n)
{
	c->wlen += n;
}

int conn_queue(struct conn_set *cs, struct conn *c, const uint8_t *frame, size_t n)
{
	uint8_t *p;
	int r = conn_reserve(cs, c, n, &p);

	if (r < 0)
		return r;
	memcpy(p, frame, n);
	conn_commit(c, n);
	return 0;
}

static void want_out(struct conn_set *cs, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u) };

	if (c->out_armed == on)
		return; /* most replies fit the socket buffer: no epoll_ctl at all */
	c->out_armed = on;
	ev.data.ptr = c;
	(void)epoll_ctl(cs->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

int conn_flush(struct conn_set *cs, struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			want_out(cs, c, true);
			if (!c->wdeadline_ms)
				set_wdeadline(cs, c, clock_ms() + cs->write_timeout_ms);
			return 0;
		}
		if (n <= 0) {
			conn_close(cs, c);
			return -EPIPE;
		}
		c->woff += (size_t)n;
	}
	want_out(cs, c, false);
	wbuf_free(cs, c);
	if (c->closing) {
		shutdown(c->fd, SHUT_WR);
		conn_close(cs, c);
		return -EPIPE;
	}
	return 0;
}

ssize_t conn_take_output(struct conn_set *cs, struct conn *c, size_t from, uint8_t *dst, size_t cap)
{
	size_t n;

	if (from < c->woff || from > c->wlen)
		return -EINVAL; /* part of it is written already */
	n = c->wlen - from;
	if (dst && n > cap)
		return -ENOBUFS;
	if (dst)
		memcpy(dst, c->wbuf + from, n);
	sodium_memzero(c->wbuf + from, n);
	c->wlen = from;
	if (c->wlen == c->woff && !c->wdeadline_ms)
		wbuf_free(cs, c);
	return (ssize_t)n;
}

int conn_send(struct conn_set *cs, struct conn *c, const uint8_t *p, size_t n)
{
	int r;

	if (c->wlen > c->woff) { /* behind earlier output: keep the order */
		r = conn_queue(cs, c, p, n);
		return r < 0 ? r : conn_flush(cs, c);
	}
	while (n) {
		ssize_t w = write(c->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			conn_close(cs, c);
			return -EPIPE;
		}
		p += w;
		n -= (size_t)w;
	}
	if (!n)
		return 0;
	r = conn_queue(cs, c, p, n);
	return r < 0 ? r : conn_flush(cs, c); /* arms EPOLLOUT and the deadline */
}

int conn_send_error(struct conn_set *cs, struct conn *c, uint16_t code, const char *reason)
{
	uint8_t f[PROTO_HDR + 3 + 2 + PROTO_MAX_REASON];
	char why[PROTO_MAX_REASON + 1];
	ssize_t n;

	snprintf(why, sizeof(why), "%s", reason);
	c->closing = true;
	n = proto_encode_error(f, sizeof(f), code, why);
	if (n < 0 || conn_queue(cs, c, f, (size_t)n) < 0) {
		conn_close(cs, c);
		return -EPIPE;
	}
	return conn_flush(cs, c);
}

unsigned conn_expire_writes(struct conn_set *cs, uint64_t now)
{
	unsigned n = 0;

	for (struct conn *c = cs->head, *next; c && cs->n_stalled; c = next) {
		next = c->next;
		if (c->wdeadline_ms && c->wdeadline_ms <= now) {
			conn_close(cs, c); /* wipes and frees the queued output */
			n++;
		}
	}
	return n;
}

void conn_identity(const struct conn *c, struct policy_identity *ret)
{
	ret->peer = &c->peer;
	ret->meta = c->has_meta ? &c->meta : NULL;
	ret->k8s = c->k8s;
	ret->meta_err = c->meta_err[0] ? c->meta_err : NULL;
}

int conn_audit(struct audit *au, const struct conn *c, const char *rule, const char *secret,
	       uint64_t version, enum audit_decision d, const char *reason)
{
	struct policy_identity id;
	struct audit_event ev = { NULL, rule, secret, version, d, reason };
	int r;

	if (!au)
		return 0;
	if (c && c->peer.pid > 0) {
		conn_identity(c, &id);
		ev.id = &id;
	}
	r = audit_write(au, &ev);
	if (r < 0)
		log_errno(-r, "audit log write failed");
	return r;
}
