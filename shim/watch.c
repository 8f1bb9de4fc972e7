/* SPDX-License-Identifier: MIT */
/* The resident shim (PID 1, or --watch): one poll loop over a signalfd and
 * the agent connection. Every signal but SIGCHLD is forwarded to the child
 * and zombies are reaped. The shim holds no value between rotations: a
 * pushed batch is applied to the set's entries, compared against the files
 * on the tmpfs (they are the state), written as a new version only when it
 * differs, and its values are wiped at once. Then --on-rotate: nothing (the
 * default), a signal, or a restart (SIGTERM, SIGKILL after --stop-timeout,
 * the new app only once the old one is reaped). If the agent goes away we
 * reconnect with backoff and re-request; its full answer replaces the set.
 * Part of the main layer: it logs. */
#include "clock.h"
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

#define BATCH_MS 5000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct res {
	const struct shim_opts *o;
	int sigfd, dirfd, agentfd;
	uint64_t old_mask;
	pid_t child;
	bool restarting; /* the old app was asked to stop; start a new one */
	bool stopping;	 /* a stop signal came while restarting: do not */
	int64_t kill_at; /* restarting: SIGKILL the old app then (0 = done) */
	struct shim_set *set;
	struct fetch_rx rx;
	int64_t retry_at, backoff;
};

static void report_batch(struct batch *b)
{
	for (size_t i = 0; i < b->n_denied; i++) {
		text_sanitize(b->denied[i].reason);
		log_warnx("secret %s denied: %s", b->denied[i].name, b->denied[i].reason);
	}
	for (size_t i = 0; i < b->n_revoked; i++)
		log_warnx("secret %s revoked", b->revoked[i]);
}

static void restart(struct res *r)
{
	r->restarting = true;
	r->kill_at = (int64_t)clock_ms() + (int64_t)r->o->stop_timeout_s * 1000;
	(void)kill(r->child, SIGTERM);
}

static void rotate_action(struct res *r, const char *env_name)
{
	const struct shim_opts *o = r->o;
	if (r->child <= 0 || r->restarting)
		return;
	if (env_name) { /* env cannot change in a running process */
		log_info("secret %s is in the app's environment and changed: restarting the app "
			 "(SIGTERM, SIGKILL after %u s)",
			 env_name, o->stop_timeout_s);
		restart(r);
		return;
	}
	switch (o->rotate) {
	case SHIM_ROTATE_NONE: break;
	case SHIM_ROTATE_SIGNAL: (void)kill(r->child, o->rotate_signal); break;
	case SHIM_ROTATE_RESTART: restart(r); break;
	}
}

static const struct shim_secret *find(const struct shim_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i].name, name))
			return &set->s[i];
	return NULL;
}

/* Does x (NULL: gone) put something else in the environment than y did? */
static bool env_differs(const struct shim_secret *x, const struct shim_secret *y)
{
	uint8_t m = PROTO_D_ENV | PROTO_D_ENV_FILE;
	if (!x || !y)
		return (x ? x->delivery : y->delivery) & m;
	if ((x->delivery & m) != (y->delivery & m) || strcmp(x->env, y->env) ||
	    strcmp(x->env_file, y->env_file))
		return true;
	if ((x->delivery & PROTO_D_ENV_FILE) && strcmp(x->file, y->file))
		return true;
	return (x->delivery & PROTO_D_ENV) &&
	       (x->value_len != y->value_len ||
		(x->value_len && memcmp(x->value, y->value, x->value_len)));
}

/* The first secret whose environment entry next changes (a new value,
 * added, or gone: a revoked value must leave the app's environment). */
static const char *env_change(const struct shim_set *next, const struct shim_set *cur)
{
	for (size_t i = 0; i < next->n; i++)
		if (env_differs(&next->s[i], find(cur, next->s[i].name)))
			return next->s[i].name;
	for (size_t i = 0; i < cur->n; i++)
		if (!find(next, cur->s[i].name) && env_differs(NULL, &cur->s[i]))
			return cur->s[i].name;
	return NULL;
}

/* Swap in `next` if it differs from the files, then act on the app. */
static void apply(struct res *r, struct shim_set *next)
{
	const struct shim_opts *o = r->o;
	if (deliver_same(r->dirfd, next, r->set)) {
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
	char env_name[PROTO_MAX_NAME + 1] = "";
	const char *ch = env_change(next, r->set);
	if (ch)
		memcpy(env_name, ch, strlen(ch) + 1);
	set_drop_values(next);
	set_free(r->set);
	*r->set = *next;
	rotate_action(r, env_name[0] ? env_name : NULL);
}

static void drop_agent(struct res *r, int err)
{
	if (err == -EPIPE)
		log_warnx("agent closed the connection; reconnecting");
	else
		log_errno(err, "agent connection lost; reconnecting");
	close(r->agentfd);
	r->agentfd = -1;
	fetch_rx_free(&r->rx);
	r->retry_at = (int64_t)clock_ms() + r->backoff;
	r->backoff = r->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff * 2;
}

/* Read one batch; a push modifies a copy of the entries, a resync after
 * reconnect (full) starts from an empty set. */
static void on_agent(struct res *r, bool full)
{
	struct shim_set next = { NULL, 0 };
	struct batch b;
	memset(&b, 0, sizeof b);
	int e = full ? 0 : set_copy(&next, r->set);
	if (e == 0)
		e = fetch_batch(r->agentfd, &r->rx, r->o, (int64_t)clock_ms() + BATCH_MS, -1, &next,
				&b);
	if (e == -EPROTO) {
		text_sanitize(b.error.reason);
		log_warnx("agent error %u: %s", b.error.code, b.error.reason);
	}
	report_batch(&b);
	batch_free(&b);
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
	int fd = fetch_connect(r->o->socket_path, 0, -1);
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

/* The app is gone: 1 with *ret_code when the shim is done, else restart. */
static int on_exit_of_child(struct res *r, int st, int *ret_code)
{
	if (!r->restarting || r->stopping) {
		*ret_code = reap_exit_code(st);
		return 1;
	}
	r->restarting = false;
	r->kill_at = 0;
	r->child = exec_spawn(r->o, r->set, r->old_mask);
	if (r->child < 0) {
		log_errno(r->child, "cannot restart the command");
		*ret_code = SHIM_EXIT_SYSTEM;
		return 1;
	}
	return 0;
}

/* Handle pending signals. Returns 1 with *ret_code set when we are done. */
static int on_signals(struct res *r, int *ret_code)
{
	int sig, st;
	while ((sig = reap_read(r->sigfd)) > 0) {
		if (sig != SIGCHLD) {
			if (r->restarting && (REAP_BIT(sig) & REAP_STOP_MASK))
				r->stopping = true;
			if (r->child > 0)
				(void)kill(r->child, sig);
			continue;
		}
		if (reap_children(r->child, &st) && on_exit_of_child(r, st, ret_code))
			return 1;
	}
	return 0;
}

static void escalate(struct res *r)
{
	if (!r->restarting || !r->kill_at || (int64_t)clock_ms() < r->kill_at)
		return;
	log_warnx("the app did not exit %u s after SIGTERM; sending SIGKILL", r->o->stop_timeout_s);
	(void)kill(r->child, SIGKILL);
	r->kill_at = 0;
}

static int poll_timeout(const struct res *r)
{
	int64_t now = (int64_t)clock_ms(), t = -1;
	if (r->o->watch && r->agentfd < 0)
		t = r->retry_at > now ? r->retry_at - now : 0;
	if (r->restarting && r->kill_at) {
		int64_t k = r->kill_at > now ? r->kill_at - now : 0;
		t = t < 0 || k < t ? k : t;
	}
	return t > 60000 ? 60000 : (int)t;
}

static int loop(struct res *r)
{
	int code = SHIM_EXIT_SYSTEM;
	for (;;) {
		struct pollfd p[2] = { { .fd = r->sigfd, .events = POLLIN },
				       { .fd = r->agentfd, .events = POLLIN } };
		if (poll(p, 2, poll_timeout(r)) < 0 && errno != EINTR)
			return SHIM_EXIT_SYSTEM;
		if (on_signals(r, &code))
			return code;
		escalate(r);
		if (r->agentfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			do
				on_agent(r, false);
			while (r->agentfd >= 0 && r->rx.have > 0);
		} else if (r->o->watch && r->agentfd < 0 && (int64_t)clock_ms() >= r->retry_at) {
			reconnect(r);
		}
	}
}

int watch_run(const struct shim_opts *o, int dirfd, int agentfd, int sigfd, uint64_t old_mask,
	      struct shim_set *set)
{
	struct res r = { .o = o,
			 .sigfd = sigfd,
			 .dirfd = dirfd,
			 .agentfd = agentfd,
			 .old_mask = old_mask,
			 .set = set,
			 .backoff = BACKOFF_MIN_MS };
	int code, e;

	if ((e = reap_widen(sigfd)) < 0) {
		log_errno(e, "signalfd");
		code = SHIM_EXIT_SYSTEM;
	} else if ((r.child = exec_spawn(o, set, old_mask)) < 0) {
		log_errno(r.child, "fork");
		code = SHIM_EXIT_SYSTEM;
	} else {
		if (!o->watch)
			set_free(set); /* no restart without --watch: env values go now */
		else if (set_has_env(set) && o->rotate != SHIM_ROTATE_RESTART)
			log_info("env grants delivered: a rotation of one of them restarts the app "
				 "(other rotations: --on-rotate as given)");
		code = loop(&r);
	}
	if ((e = deliver_clean(dirfd)) < 0)
		log_errno(e, "cleaning %s", o->dir);
	set_free(set);
	fetch_rx_free(&r.rx);
	if (r.agentfd >= 0)
		close(r.agentfd);
	close(sigfd);
	close(dirfd);
	return code;
}
