/* SPDX-License-Identifier: MIT */
/* See lookup.h. Two small rings under one mutex: ids to look up (with the
 * one in flight kept until its result is queued, so duplicates are folded)
 * and finished results. The eventfd counts results not yet collected. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lookup.h"

struct lookup {
	struct engine *eng;
	int efd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, started;
	char ids[LOOKUP_QUEUE][65]; /* ring [head, head+n): ids[head] may be in flight */
	unsigned head, n;
	struct lookup_result res[LOOKUP_QUEUE];
	unsigned rhead, rn;
};

static void *worker(void *arg)
{
	struct lookup *l = arg;
	struct lookup_result r;
	uint64_t one = 1;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->stop && (!l->n || l->rn == LOOKUP_QUEUE))
			pthread_cond_wait(&l->cv, &l->mu);
		if (l->stop)
			break;
		memset(&r, 0, sizeof(r));
		memcpy(r.id, l->ids[l->head], sizeof(r.id));
		pthread_mutex_unlock(&l->mu);
		r.rc = engine_fetch(l->eng, r.id, &r.meta); /* blocking: bounded by its timeouts */
		pthread_mutex_lock(&l->mu);
		l->head = (l->head + 1) % LOOKUP_QUEUE;
		l->n--;
		l->res[(l->rhead + l->rn) % LOOKUP_QUEUE] = r;
		l->rn++;
		ssize_t w = write(l->efd, &one, sizeof(one));
		(void)w; /* cannot fail short of overflow; lookup_next rechecks the ring */
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int lookup_new(struct engine *e, struct lookup **ret)
{
	struct lookup *l = calloc(1, sizeof(*l));
	sigset_t all, old;
	int r;

	if (!l)
		return -ENOMEM;
	l->eng = e;
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->efd < 0) {
		r = -errno;
		free(l);
		return r;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	sigfillset(&all); /* the thread starts with every signal blocked */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&l->th, NULL, worker, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		close(l->efd);
		free(l);
		return r;
	}
	l->started = true;
	*ret = l;
	return 0;
}

void lookup_free(struct lookup *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (l->started)
		pthread_join(l->th, NULL);
	while (l->rn) {
		container_meta_clear(&l->res[l->rhead].meta);
		l->rhead = (l->rhead + 1) % LOOKUP_QUEUE;
		l->rn--;
	}
	close(l->efd);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

int lookup_fd(const struct lookup *l)
{
	return l->efd;
}

int lookup_submit(struct lookup *l, const char *id)
{
	int r = 0;

	pthread_mutex_lock(&l->mu);
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->ids[(l->head + i) % LOOKUP_QUEUE], id) == 0)
			goto out; /* already queued or in flight */
	if (l->n == LOOKUP_QUEUE) {
		r = -EAGAIN;
		goto out;
	}
	snprintf(l->ids[(l->head + l->n) % LOOKUP_QUEUE], sizeof(l->ids[0]), "%s", id);
	l->n++;
	pthread_cond_signal(&l->cv);
out:
	pthread_mutex_unlock(&l->mu);
	return r;
}

int lookup_next(struct lookup *l, struct lookup_result *ret)
{
	uint64_t cnt;
	int got = 0;

	pthread_mutex_lock(&l->mu);
	if (l->rn) {
		*ret = l->res[l->rhead];
		memset(&l->res[l->rhead], 0, sizeof(l->res[0]));
		l->rhead = (l->rhead + 1) % LOOKUP_QUEUE;
		l->rn--;
		got = 1;
		pthread_cond_signal(&l->cv); /* room for the worker's next result */
	} else {
		ssize_t n = read(l->efd, &cnt, sizeof(cnt)); /* drained: reset the counter */
		(void)n;
	}
	pthread_mutex_unlock(&l->mu);
	return got;
}
