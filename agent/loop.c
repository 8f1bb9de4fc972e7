/* SPDX-License-Identifier: MIT */
/* The one event loop (ntpd/ssh-agent style, epoll): listening sockets,
 * connections, signalfd (SIGTERM/SIGINT drain and exit, SIGHUP reloads the
 * policy) and the store's watch fd (inotify: store changes pushed to
 * watchers within milliseconds). Read deadlines come from the pending FIFO
 * head. A blocking engine lookup may run inside the loop (libcurl with a
 * short timeout, cached per container); see docs/agent.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "agent.h"
#include "io.h"
#include "log.h"

/* epoll data tags for the non-connection fds */
static char tag_listen, tag_admin, tag_signal, tag_store;

void conn_identity(const struct conn *c, struct policy_identity *ret)
{
	ret->peer = &c->peer;
	ret->meta = c->has_meta ? &c->meta : NULL;
	ret->k8s = c->k8s;
	ret->meta_err = c->meta_err[0] ? c->meta_err : NULL;
}

int agent_audit(struct agent *a, const struct conn *c, const char *rule, const char *secret,
		uint64_t version, enum audit_decision d, const char *reason)
{
	struct policy_identity id;
	struct audit_event ev = { NULL, rule, secret, version, d, reason };
	int r;

	if (!a->audit)
		return 0;
	if (c && c->peer.pid > 0) {
		conn_identity(c, &id);
		ev.id = &id;
	}
	r = audit_write(a->audit, &ev);
	if (r < 0)
		log_errno(-r, "audit log write failed");
	return r;
}

int agent_reload_policy(struct agent *a, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	struct policy *p = NULL;
	FILE *f = fopen(a->o.policy, "re");
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", a->o.policy, strerror(-r));
		return r;
	}
	buf = malloc(POLICY_MAX_BYTES + 1);
	if (buf)
		len = fread(buf, 1, POLICY_MAX_BYTES + 1, f);
	fclose(f);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = policy_parse(buf, len, &p, err, errlen);
	free(buf);
	if (r < 0)
		return r;
	if (strcmp(p->digest, a->pol ? a->pol->digest : "") == 0) {
		policy_free(p); /* unchanged */
		return 0;
	}
	policy_free(a->pol);
	a->pol = p;
	log_info("policy loaded: %zu rules, sha256 %.16s", p->n_rules, p->digest);
	if (a->n_watchers)
		watch_resync_all(a, "policy reload");
	return 0;
}

static void on_accept(struct agent *a, int lfd, bool admin)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("accept");
			return;
		}
		if (admin)
			admin_accept(a, fd);
		else
			dispatch_accept(a, fd);
	}
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;
	char err[512];

	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (agent_reload_policy(a, err, sizeof(err)) < 0)
				log_warnx("SIGHUP: policy not reloaded, keeping the old one: %s", err);
		} else {
			log_info("signal %u: draining and exiting", si.ssi_signo);
			a->stop = true;
		}
	}
}

/* Say once (log, audit, status) when the store stops answering and once
 * when it recovers; in between the agent serves what it last loaded. */
static void store_health(struct agent *a, int r)
{
	char why[256];

	if (r < 0 && a->store_err == 0) {
		snprintf(why, sizeof(why), "store reload failed, serving what was loaded before: %s",
			 ks_strerror(r));
		log_warnx("%s", why);
		agent_audit(a, NULL, NULL, NULL, 0, AUDIT_STORE, why);
		a->store_err_since = time(NULL);
	} else if (r == 0 && a->store_err != 0) {
		log_warnx("store readable again");
		agent_audit(a, NULL, NULL, NULL, 0, AUDIT_STORE, "store readable again");
	}
	a->store_err = r < 0 ? r : 0;
}

static void on_store(struct agent *a)
{
	bool changed = false;
	int r;

	ks_watch_drain(a->ks);
	r = ks_reload(a->ks, &changed);
	store_health(a, r);
	if (r < 0)
		return;
	if (changed) {
		dispatch_cache_flush();
		watch_resync_all(a, "store change");
	}
}

static void expire_pending(struct agent *a, uint64_t now)
{
	while (a->phead && a->phead->deadline_ms <= now) {
		struct conn *c = a->phead;
		conn_pending_remove(a, c);
		conn_send_error(a, c, PROTO_E_BADMSG, "request not received in time");
	}
}

static void bury(struct agent *a)
{
	while (a->graveyard) {
		struct conn *c = a->graveyard;
		a->graveyard = c->next;
		free(c);
	}
}

static void on_event(struct agent *a, struct epoll_event *e)
{
	struct conn *c = e->data.ptr;

	if (e->data.ptr == &tag_listen)
		on_accept(a, a->lfd, false);
	else if (e->data.ptr == &tag_admin)
		on_accept(a, a->afd, true);
	else if (e->data.ptr == &tag_signal)
		on_signal(a);
	else if (e->data.ptr == &tag_store)
		on_store(a);
	else if (!c->dead && (e->events & EPOLLOUT))
		conn_flush(a, c);
	if (e->data.ptr == &tag_listen || e->data.ptr == &tag_admin ||
	    e->data.ptr == &tag_signal || e->data.ptr == &tag_store)
		return;
	if (!c->dead && (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		dispatch_readable(a, c);
}

static int add_fd(struct agent *a, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_init(struct agent *a)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->epfd < 0)
		return -errno;
	a->ksfd = ks_watch_fd(a->ks);
	if (add_fd(a, a->lfd, &tag_listen) < 0 || add_fd(a, a->afd, &tag_admin) < 0 ||
	    add_fd(a, a->sigfd, &tag_signal) < 0 ||
	    (a->ksfd >= 0 && add_fd(a, a->ksfd, &tag_store) < 0))
		return -errno;
	return 0;
}

/* Runs until SIGTERM; then closes the listeners, lets queued replies go out
 * (at most 2 s) and returns. */
void loop_run(struct agent *a)
{
	struct epoll_event ev[128];
	uint64_t drain_until = 0;

	for (;;) {
		uint64_t now = clock_ms();
		int timeout = -1, n;
		expire_pending(a, now);
		bury(a);
		if (a->stop && !drain_until) {
			epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->lfd, NULL);
			epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->afd, NULL);
			drain_until = now + 2000;
		}
		if (drain_until) {
			bool busy = false;
			for (struct conn *c = a->conns; c; c = c->next)
				busy = busy || c->wlen > c->woff || c->pending;
			if (!busy || now >= drain_until)
				break;
			timeout = (int)(drain_until - now);
		}
		if (a->phead && (timeout < 0 || a->phead->deadline_ms - now < (uint64_t)timeout))
			timeout = a->phead->deadline_ms > now ? (int)(a->phead->deadline_ms - now) : 0;
		n = epoll_wait(a->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), timeout);
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++)
			on_event(a, &ev[i]);
	}
	while (a->conns)
		conn_close(a, a->conns);
	bury(a);
	dispatch_cache_flush();
}
