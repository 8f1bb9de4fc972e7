/* SPDX-License-Identifier: MIT */
/* Per-connection state and buffers. Output goes through one sodium_malloc
 * buffer per connection (frames carry secret values), wiped and freed as
 * soon as it is flushed; writes are non-blocking with EPOLLOUT for the
 * rest. Pending connections (request not yet read) sit in a FIFO whose
 * order is their deadline order, since every deadline is accept + const. */
#include <errno.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "agent.h"

struct conn *conn_new(struct agent *a, int fd, enum conn_kind kind)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

	if (!c)
		return NULL;
	c->fd = fd;
	c->kind = kind;
	c->peer.pidfd = -1;
	ev.data.ptr = c;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->n_conns++;
	c->pending = true;
	c->deadline_ms = clock_ms() + AGENT_READ_TIMEOUT_MS;
	c->pprev = a->ptail;
	if (a->ptail)
		a->ptail->pnext = c;
	else
		a->phead = c;
	a->ptail = c;
	return c;
}

void conn_pending_remove(struct agent *a, struct conn *c)
{
	if (!c->pending)
		return;
	if (c->pprev)
		c->pprev->pnext = c->pnext;
	else
		a->phead = c->pnext;
	if (c->pnext)
		c->pnext->pprev = c->pprev;
	else
		a->ptail = c->pprev;
	c->pending = false;
	c->pprev = c->pnext = NULL;
}

/* Recycled 4 KiB sodium buffers: sodium_malloc costs mmap + mprotect +
 * mlock per call, which dominated a fresh-connection fetch. Buffers are
 * wiped before they go back to the pool. */
#define POOL_BUF 4096u
#define POOL_MAX 128u
static uint8_t *pool[POOL_MAX];
static size_t pool_n;

static uint8_t *buf_get(size_t cap)
{
	if (cap == POOL_BUF && pool_n)
		return pool[--pool_n];
	return sodium_malloc(cap);
}

static void buf_put(uint8_t *b, size_t cap)
{
	if (!b)
		return;
	if (cap == POOL_BUF && pool_n < POOL_MAX) {
		sodium_memzero(b, cap);
		pool[pool_n++] = b;
		return;
	}
	sodium_free(b); /* wipes */
}

static void wbuf_free(struct conn *c)
{
	buf_put(c->wbuf, c->wcap);
	c->wbuf = NULL;
	c->wlen = c->woff = c->wcap = 0;
}

/* Connections are freed only from the loop (c->dead), after the events of
 * the current epoll batch that may still point at them are handled. */
void conn_close(struct agent *a, struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	conn_pending_remove(a, c);
	close(c->fd); /* the only reference to the file: epoll drops it too */
	c->fd = -1;
	if (c->watching)
		a->n_watchers--;
	a->n_conns--;
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = a->graveyard;
	a->graveyard = c;
	peer_release(&c->peer);
	if (c->has_meta)
		container_meta_clear(&c->meta);
	k8s_meta_free(c->k8s);
	wbuf_free(c);
	if (c->rbuf) /* only the bytes read: never touch (make resident) the rest */
		sodium_memzero(c->rbuf, c->rlen);
	free(c->rbuf);
	free(c->want);
	free(c->held);
	c->rbuf = NULL;
	c->want = NULL;
	c->held = NULL;
}

int conn_reserve(struct conn *c, size_t need, uint8_t **ret)
{
	if (c->wlen + need > AGENT_MAX_WBUF)
		return -ENOBUFS;
	if (c->wlen + need > c->wcap) {
		size_t cap = c->wcap ? c->wcap : POOL_BUF;
		uint8_t *n;
		while (cap < c->wlen + need)
			cap *= 2;
		n = buf_get(cap);
		if (!n)
			return -ENOMEM;
		if (c->wlen)
			memcpy(n, c->wbuf, c->wlen);
		buf_put(c->wbuf, c->wcap);
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

static void want_out(struct agent *a, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u) };

	if (c->out_armed == on)
		return; /* most replies fit the socket buffer: no epoll_ctl at all */
	c->out_armed = on;
	ev.data.ptr = c;
	epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what is queued. Closes the connection when done and closing, or on
 * a write error. Returns 0, or -EPIPE when the connection was closed. */
int conn_flush(struct agent *a, struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			want_out(a, c, true);
			return 0;
		}
		if (n <= 0) {
			conn_close(a, c);
			return -EPIPE;
		}
		c->woff += (size_t)n;
	}
	want_out(a, c, false);
	wbuf_free(c);
	if (c->closing) {
		shutdown(c->fd, SHUT_WR);
		conn_close(a, c);
		return -EPIPE;
	}
	return 0;
}

int conn_send_error(struct agent *a, struct conn *c, uint16_t code, const char *reason)
{
	uint8_t *p;
	size_t need = PROTO_HDR + 3 + 2 + PROTO_MAX_REASON;
	char why[PROTO_MAX_REASON + 1];
	ssize_t n;
	int r = conn_reserve(c, need, &p);

	snprintf(why, sizeof(why), "%s", reason);

	c->closing = true;
	if (r < 0) {
		conn_close(a, c);
		return r;
	}
	n = proto_encode_error(p, need, code, why);
	if (n > 0)
		conn_commit(c, (size_t)n);
	return conn_flush(a, c);
}
