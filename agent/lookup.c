/* SPDX-License-Identifier: MIT */
/* See lookup.h. Two small rings under one mutex: keys to look up (with
 * the one in flight kept until its result is queued, so duplicates are
 * folded) and finished results. The eventfd counts results not yet
 * collected. One worker per source; the source decides the call. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "lookup.h"

enum lookup_kind { LOOKUP_ENGINE, LOOKUP_KUBELET };

struct lookup {
	enum lookup_kind kind;
	struct engine *eng;   /* LOOKUP_ENGINE */
	struct kubelet *kube; /* LOOKUP_KUBELET */
	int efd;	      /* borrowed */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, started;
	char keys[LOOKUP_QUEUE][65]; /* ring [head, head+n): keys[head] may be in flight */
	unsigned head, n;
	struct lookup_result res[LOOKUP_QUEUE];
	unsigned rhead, rn;
};

/* The blocking call, bounded by the source's own timeouts. */
static void run(const struct lookup *l, struct lookup_result *r)
{
	uint64_t t0 = clock_ms();

	switch (l->kind) {
	case LOOKUP_ENGINE: r->rc = engine_fetch(l->eng, r->key, &r->meta); break;
	case LOOKUP_KUBELET: r->rc = kubelet_fetch(l->kube, &r->pods); break;
	}
	r->took_ms = clock_ms() - t0;
}

static void result_clear(struct lookup_result *r)
{
	container_meta_clear(&r->meta);
	json_decref(r->pods);
	r->pods = NULL;
}

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
		memcpy(r.key, l->keys[l->head], sizeof(r.key));
		pthread_mutex_unlock(&l->mu);
		run(l, &r);
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

static int start(struct lookup *l, struct lookup **ret)
{
	sigset_t all, old;
	int r;

	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	sigfillset(&all); /* the thread starts with every signal blocked */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&l->th, NULL, worker, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return r;
	}
	l->started = true;
	*ret = l;
	return 0;
}

int lookup_new_engine(struct engine *e, int efd, struct lookup **ret)
{
	struct lookup *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->kind = LOOKUP_ENGINE;
	l->eng = e;
	l->efd = efd;
	return start(l, ret);
}

int lookup_new_kubelet(struct kubelet *k, int efd, struct lookup **ret)
{
	struct lookup *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->kind = LOOKUP_KUBELET;
	l->kube = k;
	l->efd = efd;
	return start(l, ret);
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
		result_clear(&l->res[l->rhead]);
		l->rhead = (l->rhead + 1) % LOOKUP_QUEUE;
		l->rn--;
	}
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

int lookup_submit(struct lookup *l, const char *key)
{
	int r = 0;

	pthread_mutex_lock(&l->mu);
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->keys[(l->head + i) % LOOKUP_QUEUE], key) == 0)
			goto out; /* already queued or in flight */
	if (l->n == LOOKUP_QUEUE) {
		r = -EAGAIN;
		goto out;
	}
	snprintf(l->keys[(l->head + l->n) % LOOKUP_QUEUE], sizeof(l->keys[0]), "%s", key);
	l->n++;
	pthread_cond_signal(&l->cv);
out:
	pthread_mutex_unlock(&l->mu);
	return r;
}

int lookup_next(struct lookup *l, struct lookup_result *ret)
{
	int got = 0;

	pthread_mutex_lock(&l->mu);
	if (l->rn) {
		*ret = l->res[l->rhead];
		memset(&l->res[l->rhead], 0, sizeof(l->res[0]));
		l->rhead = (l->rhead + 1) % LOOKUP_QUEUE;
		l->rn--;
		got = 1;
		pthread_cond_signal(&l->cv); /* room for the worker's next result */
	}
	pthread_mutex_unlock(&l->mu);
	return got;
}
