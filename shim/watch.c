// SPDX-License-Identifier: MIT
/* The resident shim (PID 1, or --watch): one poll loop over a signalfd and
 * the agent connection. Signals are forwarded to the child and zombies
 * reaped; pushed batches are applied to a copy of the set, which replaces
 * the live one (new version on disk, then --on-rotate) only when it differs.
 * If the agent goes away we reconnect with backoff and re-request, and the
 * agent's full answer replaces the set. Part of the main layer: it logs. */
#include "clock.h"
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "text.h"
#include "log.h"

#define BATCH_MS 5000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct res {
	const struct shim_opts *o;
	int sigfd, dirfd, agentfd;
	sigset_t child_mask;
	pid_t child;
	bool restarting;
	struct shim_set *set;
	struct fetch_rx rx;
	int64_t retry_at, backoff;
};

static void report_batch(struct fetch_batch *b)
{
	for (size_t i = 0; i < b->n_denied; i++) {
		text_sanitize(b->denied[i].reason);
		log_warnx("secret %s denied: %s", b->denied[i].name, b->denied[i].reason);
	}
	for (size_t i = 0; i < b->n_revoked; i++)
		log_warnx("secret %s revoked", b->revoked[i]);
}

/* Swap in `next` if it differs from the live set, then tell the child. */
static void apply(struct res *r, struct shim_set *next)
{
	const struct shim_opts *o = r->o;
	if (set_equal(next, r->set)) {
		set_free(next);
		return;
	}
	int e = deliver_apply(r->dirfd, next, o->have_user ? o->uid : (uid_t)-1,
			      o->have_user ? o->gid : (gid_t)-1);
	if (e < 0) {
		log_errno(e, "cannot write the new secrets to %s; keeping the old ones", o->dir);
		set_free(next);
		return;
	}
	set_free(r->set);
	*r->set = *next;
	if (r->child <= 0 || r->restarting)
		return;
	if (o->rotate_signal) {
		(void)kill(r->child, o->rotate_signal);
	} else {
		r->restarting = true;
		(void)kill(r->child, SIGTERM);
	}
}

static void drop_agent(struct res *r, int err)
{
	if (err == -EPIPE)
		log_warnx("agent closed the connection; reconnecting");
	else
		log_errno(err, "agent connection lost; reconnecting");
	close(r->agentfd);
	r->agentfd = -1;
	r->rx.have = 0;
	r->retry_at = (int64_t)clock_ms() + r->backoff;
	r->backoff = r->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff * 2;
}

/* Read one batch; a push modifies a copy of the live set, a resync after
 * reconnect (full) starts from an empty set. */
static void on_agent(struct res *r, bool full)
{
	struct shim_set next = { NULL, 0 };
	struct fetch_batch b;
	memset(&b, 0, sizeof b);
	int e = full ? 0 : set_copy(&next, r->set);
	if (e == 0)
		e = fetch_batch(r->agentfd, &r->rx, r->o, (int64_t)clock_ms() + BATCH_MS, &next, &b);
	if (e == -EPROTO) {
		text_sanitize(b.error.reason);
		log_warnx("agent error %u: %s", b.error.code, b.error.reason);
	}
	report_batch(&b);
	fetch_batch_free(&b);
	if (e < 0) {
		set_free(&next);
		drop_agent(r, e);
		return;
	}
	r->backoff = BACKOFF_MIN_MS;
	apply(r, &next);
}

static void reconnect(struct res *r)
{
	int fd = fetch_connect(r->o->socket_path, 0);
	int e = fd < 0 ? fd : fetch_send_request(fd, r->o);
	if (e < 0) {
		if (fd >= 0)
			close(fd);
		r->agentfd = -1;
		r->retry_at = (int64_t)clock_ms() + r->backoff;
		r->backoff = r->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff * 2;
		return;
	}
	r->agentfd = fd;
	log_info("reconnected to the agent");
	on_agent(r, true);
}

/* Handle pending signals. Returns 1 with *ret_code set when we are done. */
static int on_signals(struct res *r, int *ret_code)
{
	struct signalfd_siginfo si;
	while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo, st;
		if (sig != SIGCHLD) {
			for (size_t i = 0; i < reap_n_forward; i++)
				if (reap_forward_signals[i] == sig && r->child > 0)
					(void)kill(r->child, sig);
			continue;
		}
		if (!reap_children(r->child, &st))
			continue;
		if (!r->restarting) {
			*ret_code = reap_exit_code(st);
			return 1;
		}
		r->restarting = false;
		r->child = exec_spawn(r->o, &r->child_mask);
		if (r->child < 0) {
			log_errno(r->child, "cannot restart the command");
			*ret_code = SHIM_EXIT_SYSTEM;
			return 1;
		}
	}
	return 0;
}

static int loop(struct res *r)
{
	int code = SHIM_EXIT_SYSTEM;
	for (;;) {
		struct pollfd p[2] = { { .fd = r->sigfd, .events = POLLIN },
				       { .fd = r->agentfd, .events = POLLIN } };
		int timeout = -1;
		if (r->o->watch && r->agentfd < 0) {
			int64_t left = r->retry_at - (int64_t)clock_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			return SHIM_EXIT_SYSTEM;
		if (on_signals(r, &code))
			return code;
		if (r->agentfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			on_agent(r, false);
		else if (r->o->watch && r->agentfd < 0 && (int64_t)clock_ms() >= r->retry_at)
			reconnect(r);
	}
}

int watch_run(const struct shim_opts *o, int dirfd, int agentfd, struct shim_set *set)
{
	struct res r = { .o = o, .dirfd = dirfd, .agentfd = agentfd, .set = set,
			 .backoff = BACKOFF_MIN_MS };
	int code;

	r.sigfd = reap_setup(&r.child_mask);
	if (r.sigfd < 0) {
		log_errno(r.sigfd, "signalfd");
		return SHIM_EXIT_SYSTEM;
	}
	if (o->watch && fetch_rx_init(&r.rx) < 0) {
		log_warnx("out of memory");
		return SHIM_EXIT_SYSTEM;
	}
	r.child = exec_spawn(o, &r.child_mask);
	if (r.child < 0) {
		log_errno(r.child, "fork");
		code = SHIM_EXIT_SYSTEM;
	} else {
		code = loop(&r);
	}
	int e = deliver_clean(dirfd);
	if (e < 0)
		log_errno(e, "cleaning %s", o->dir);
	set_free(set);
	fetch_rx_free(&r.rx);
	if (r.agentfd >= 0)
		close(r.agentfd);
	close(r.sigfd);
	close(dirfd);
	return code;
}
