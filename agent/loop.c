/* SPDX-License-Identifier: MIT */
/* The one event loop (ntpd/ssh-agent style, epoll): listening sockets,
 * connections, signalfd (SIGTERM/SIGINT drain and exit, SIGHUP reloads the
 * policy) and the store's watch fd (inotify: store changes pushed to
 * watchers within milliseconds). Read deadlines come from the pending FIFO
 * head. Engine and kubelet lookups run on their own threads (lookup.c);
 * their results wake the loop through one eventfd; see docs/agent.md. */
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
#include "admin.h"
#include "dispatch.h"
#include "log.h"
#include "loop.h"
#include "reload.h"
#include "watch.h"

/* epoll data tags for the non-connection fds */
static char tag_listen, tag_admin, tag_signal, tag_store, tag_lookup;

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
		if (si.ssi_signo == SIGUSR1) {
			int r = a->audit ? audit_reopen(a->audit) : 0;
			if (r < 0)
				log_errno(-r,
					  "SIGUSR1: audit log not reopened, keeping the old file");
			else
				log_info("SIGUSR1: audit log reopened");
		} else if (si.ssi_signo == SIGHUP) {
			char why[PROTO_MAX_REASON + 1];
			if (reload_policy(a, err, sizeof(err)) < 0) {
				log_warnx("SIGHUP: policy not reloaded, keeping the old one: %s",
					  err);
				snprintf(why, sizeof(why),
					 "SIGHUP: policy rejected, old one kept: %.400s", err);
			} else {
				snprintf(why, sizeof(why), "SIGHUP: policy sha256 %.16s in force",
					 a->pol->digest);
			}
			conn_audit(a->audit, NULL, NULL, NULL, 0, AUDIT_RELOAD, why);
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
		snprintf(why, sizeof(why),
			 "store reload failed, serving what was loaded before: %s", ks_strerror(r));
		log_warnx("%s", why);
		conn_audit(a->audit, NULL, NULL, NULL, 0, AUDIT_STORE, why);
		a->store_err_since = time(NULL);
	} else if (r == 0 && a->store_err != 0) {
		log_warnx("store readable again");
		conn_audit(a->audit, NULL, NULL, NULL, 0, AUDIT_STORE, "store readable again");
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
		release_cache_flush(&a->rel);
		if (a->cs.n_watchers)
			a->resync = "store change";
	}
}

static void on_conn(struct agent *a, struct conn *c, uint32_t events)
{
	if (!c->dead && (events & EPOLLOUT))
		conn_flush(&a->cs, c);
	if (c->dead || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		return;
	if (c->kind == CONN_ADMIN)
		admin_readable(a, c);
	else
		dispatch_readable(a, c);
}

static void on_event(struct agent *a, struct epoll_event *e)
{
	void *p = e->data.ptr;

	if (p == &tag_listen)
		on_accept(a, a->lfd, false);
	else if (p == &tag_admin)
		on_accept(a, a->afd, true);
	else if (p == &tag_signal)
		on_signal(a);
	else if (p == &tag_store)
		on_store(a);
	else if (p == &tag_lookup)
		dispatch_identified(a);
	else
		on_conn(a, p, e->events);
}

static int add_fd(struct agent *a, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(a->cs.epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_init(struct agent *a)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGUSR1);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	a->cs.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->cs.epfd < 0)
		return -errno;
	a->ksfd = ks_watch_fd(a->ks);
	if (add_fd(a, a->lfd, &tag_listen) < 0 || add_fd(a, a->afd, &tag_admin) < 0 ||
	    add_fd(a, a->sigfd, &tag_signal) < 0 ||
	    (a->ksfd >= 0 && add_fd(a, a->ksfd, &tag_store) < 0) ||
	    add_fd(a, identify_fd(&a->idf), &tag_lookup) < 0)
		return -errno;
	return 0;
}

/* Free space under the audit log: say once when it runs low (log,
 * status), and once when it is back. */
static void check_space(struct agent *a, uint64_t now)
{
	uint64_t free_b;
	unsigned pct;
	bool low;

	if (!a->audit || now < a->next_space_ms)
		return;
	a->next_space_ms = now + AGENT_SPACE_CHECK_MS;
	if (audit_space(a->audit, &free_b, &pct) < 0)
		return;
	low = free_b < AGENT_AUDIT_LOW_BYTES || pct < 5;
	if (low && !a->audit_low)
		log_warnx("audit log: only %llu MB (%u%%) free; when it is full every release is "
			  "denied: rotate or grow it",
			  (unsigned long long)(free_b >> 20), pct);
	else if (!low && a->audit_low)
		log_info("audit log: free space back to %llu MB",
			 (unsigned long long)(free_b >> 20));
	a->audit_low = low;
	a->audit_free = free_b;
}

/* After a batch: what a store change or policy reload asked for. */
static void after_batch(struct agent *a)
{
	const char *why = a->resync;

	a->resync = NULL;
	watch_tick(a, clock_ms());
	if (why)
		watch_resync_all(a, why);
	conn_bury(&a->cs);
}

static bool busy(const struct agent *a)
{
	for (const struct conn *c = a->cs.head; c; c = c->next)
		if (c->wlen > c->woff || c->pending)
			return true;
	return false;
}

/* Milliseconds epoll may sleep: until the first read deadline (-1: none);
 * at most a second while some output waits on a write deadline. */
static int next_timeout(const struct agent *a, uint64_t now, int timeout)
{
	const struct conn *h = a->cs.phead;
	int w = watch_timeout(a, now);

	if (w >= 0 && (timeout < 0 || timeout > w))
		timeout = w;
	if ((a->cs.n_stalled || a->audit_pending) && (timeout < 0 || timeout > 1000))
		timeout = 1000;
	if (a->audit && (timeout < 0 || timeout > (int)AGENT_SPACE_CHECK_MS))
		timeout = (int)AGENT_SPACE_CHECK_MS;
	if (!h)
		return timeout;
	if (h->deadline_ms <= now)
		return 0;
	if (timeout < 0 || h->deadline_ms - now < (uint64_t)timeout)
		return (int)(h->deadline_ms - now);
	return timeout;
}

void loop_run(struct agent *a)
{
	struct epoll_event ev[128];
	uint64_t drain_until = 0;

	for (;;) {
		uint64_t now = clock_ms();
		int timeout = -1, n;
		dispatch_expire(a, now);
		if (a->cs.n_stalled && conn_expire_writes(&a->cs, now))
			log_debug("closed connections whose replies were not read in time");
		if (a->audit) {
			a->audit_pending = audit_flush(a->audit, now);
			check_space(a, now);
		}
		after_batch(a);
		if (a->stop && !drain_until) { /* stop accepting; let replies go out */
			epoll_ctl(a->cs.epfd, EPOLL_CTL_DEL, a->lfd, NULL);
			epoll_ctl(a->cs.epfd, EPOLL_CTL_DEL, a->afd, NULL);
			drain_until = now + 2000;
		}
		if (drain_until) {
			if (!busy(a) || now >= drain_until)
				break;
			timeout = (int)(drain_until - now);
		}
		n = epoll_wait(a->cs.epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])),
			       next_timeout(a, now, timeout));
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++)
			on_event(a, &ev[i]);
	}
	conn_set_free(&a->cs);
	release_cache_flush(&a->rel);
	watch_fini(a);
}
