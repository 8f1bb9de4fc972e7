/* SPDX-License-Identifier: MIT */
/* Load generator for `make bench`, in the container-start shape: C client
 * threads, each opening a fresh connection per fetch (REQUEST, read to END,
 * close). Works against keyholed and against bench/floor.
 *   load SOCKET --clients C --seconds S [--name N]... [--with-errors]
 *                                                        -> one result line
 *        (--with-errors: failed fetches count in p50/p99 too, with the time
 *        they took to fail; for the stalled-engine figure)
 *   load SOCKET --watchers N                             -> hold N WATCH
 *        connections open, print "ready", exit on SIGTERM/stdin EOF */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"

static const char *sock_path;
static const char *names[PROTO_MAX_NAMES];
static size_t n_names;
static double run_seconds = 2;
static int with_errors;

struct worker {
	pthread_t th;
	double *lat; /* microseconds */
	size_t n, cap;
	unsigned long errors;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read frames until END (0) or ERROR/EOF (-1). */
static int read_to_end(int fd, uint8_t *buf)
{
	for (;;) {
		uint32_t plen;
		if (io_read_all(fd, buf, PROTO_HDR) < 0 ||
		    proto_frame_check(buf, PROTO_HDR + PROTO_MAX_PAYLOAD, PROTO_MAX_PAYLOAD,
				      &plen) < 0 ||
		    io_read_all(fd, buf + PROTO_HDR, plen) < 0)
			return -1;
		if (buf[PROTO_HDR] == PROTO_END)
			return 0;
		if (buf[PROTO_HDR] == PROTO_ERROR)
			return -1;
	}
}

static int fetch_once(uint8_t flags, uint8_t *buf, int *ret_fd)
{
	uint8_t req[PROTO_MAX_REQUEST + PROTO_HDR];
	ssize_t len = proto_encode_request(req, sizeof req, flags, names, n_names);
	int fd = dial();
	if (fd < 0 || len < 0)
		goto fail;
	if (io_write_all(fd, req, (size_t)len) < 0 || read_to_end(fd, buf) < 0)
		goto fail;
	if (ret_fd) {
		*ret_fd = fd;
		return 0;
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(PROTO_HDR + PROTO_MAX_PAYLOAD);
	double end = now_s() + run_seconds;
	while (buf && now_s() < end) {
		double t0 = now_s();
		if (fetch_once(0, buf, NULL) < 0) {
			w->errors++;
			if (!with_errors)
				continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
			if (!w->lat)
				abort();
		}
		w->lat[w->n++] = (now_s() - t0) * 1e6;
	}
	free(buf);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int run_load(int clients)
{
	struct worker *ws = calloc((size_t)clients, sizeof *ws);
	double t0 = now_s();
	for (int i = 0; i < clients; i++)
		pthread_create(&ws[i].th, NULL, work, &ws[i]);
	size_t total = 0;
	unsigned long errors = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(ws[i].th, NULL);
		total += ws[i].n;
		errors += ws[i].errors;
	}
	double el = now_s() - t0;
	double *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + k, ws[i].lat, ws[i].n * sizeof *all);
		k += ws[i].n;
		free(ws[i].lat);
	}
	qsort(all, total, sizeof *all, cmp_d);
	double p50 = total ? all[total / 2] : 0, p99 = total ? all[(total * 99) / 100] : 0;
	printf("clients=%d ops=%zu rate=%.0f p50_us=%.0f p99_us=%.0f errors=%lu\n", clients, total,
	       (double)total / el, p50, p99, errors);
	free(all);
	free(ws);
	return total ? 0 : 1;
}

static int run_watchers(int n)
{
	uint8_t *buf = malloc(PROTO_HDR + PROTO_MAX_PAYLOAD);
	int *fds = calloc((size_t)n, sizeof *fds);
	for (int i = 0; i < n; i++) {
		if (fetch_once(PROTO_F_WATCH, buf, &fds[i]) < 0) {
			fprintf(stderr, "load: watcher %d failed\n", i);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int clients = 0, watchers = 0;
	/* An agent that refuses before reading the request closes first: a
	 * failed write is counted, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		goto usage;
	sock_path = argv[1];
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--clients") && i + 1 < argc)
			clients = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--watchers") && i + 1 < argc)
			watchers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			run_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--name") && i + 1 < argc && n_names < PROTO_MAX_NAMES)
			names[n_names++] = argv[++i];
		else if (!strcmp(argv[i], "--with-errors"))
			with_errors = 1;
		else
			goto usage;
	}
	if (watchers > 0)
		return run_watchers(watchers);
	if (clients > 0)
		return run_load(clients);
usage:
	fprintf(stderr,
		"usage: load SOCKET (--clients C --seconds S [--with-errors] | --watchers N) [--name N]...\n");
	return 2;
}
