/* SPDX-License-Identifier: MIT */
/* The throughput floor for `make bench`: a unix-socket server in keyholed's
 * process model (one thread, epoll, non-blocking accept4, at most 64
 * accepts per wakeup, recycled buffers) that only accepts, reads
 * SO_PEERCRED, reads one request frame and replies END. Whatever the agent
 * costs above this is attestation, policy, keystore and encoding. (It used
 * to accept until EAGAIN and calloc 16 KiB per connection: at 64 and 256
 * clients keyholed beat it by 1.3-1.7x, so it was no floor.)
 * Usage: floor SOCKET_PATH  (runs until SIGTERM) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

#define MAXC 4096

struct fconn {
	uint8_t buf[PROTO_MAX_REQUEST + PROTO_HDR];
	size_t have;
};

static struct fconn *conns[1 << 16];
static struct fconn *spare[MAXC]; /* recycled, as keyholed's pool */
static size_t nspare;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void finish(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (conns[fd] && nspare < MAXC)
		spare[nspare++] = conns[fd];
	else
		free(conns[fd]);
	conns[fd] = NULL;
}

static void on_readable(int ep, int fd)
{
	struct fconn *c = conns[fd];
	ssize_t n = read(fd, c->buf + c->have, sizeof c->buf - c->have);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		finish(ep, fd);
		return;
	}
	c->have += (size_t)n;
	uint32_t plen;
	int r = proto_frame_check(c->buf, c->have, PROTO_MAX_REQUEST, &plen);
	if (r == -EAGAIN)
		return;
	uint8_t out[16];
	ssize_t len = proto_encode_end(out, sizeof out, 0);
	if (r == 0 && len > 0 && write(fd, out, (size_t)len) < 0)
		perror("write");
	finish(ep, fd);
}

static void on_accept(int ep, int lfd)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred uc;
		socklen_t ul = sizeof uc;
		if (fd >= (int)(sizeof conns / sizeof conns[0]) ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0) {
			close(fd);
			continue;
		}
		conns[fd] = nspare ? spare[--nspare] : malloc(sizeof(struct fconn));
		if (conns[fd])
			conns[fd]->have = 0;
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (!conns[fd] || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			finish(ep, fd);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: floor SOCKET\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	unlink(argv[1]);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, MAXC) < 0) {
		perror("floor: listen");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				on_accept(ep, lfd);
			else
				on_readable(ep, evs[i].data.fd);
		}
	}
	unlink(argv[1]);
	return 0;
}
