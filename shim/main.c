// SPDX-License-Identifier: MIT
/* keyhole-shim: container entrypoint. Steps: parse args, fetch the granted
 * secrets from keyholed (fail closed), write them into the tmpfs dir, then
 * either exec CMD directly (nothing left running) or, as PID 1 or with
 * --watch, stay resident to forward signals, reap and apply rotations.
 * Exit codes are in shim.h and docs/shim.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "shim.h"
#include "text.h"

#define BUSY_MARGIN_MS 250

static const char usage[] =
	"usage: keyhole-shim [--socket PATH] [--dir DIR] [--user UID[:GID]]\n"
	"         [--secret NAME[=FILE]]... [--optional NAME]... [--watch]\n"
	"         [--on-rotate SIGNAL|restart] [--timeout SECONDS] [--allow-disk]\n"
	"         -- CMD [ARG...]\n";

static int fetch_exit(int e)
{
	switch (e) {
	case -EPROTO:
	case -EBADMSG:
		return SHIM_EXIT_AGENT;
	case -ENOMEM:
		return SHIM_EXIT_SYSTEM;
	default:
		return SHIM_EXIT_UNREACHABLE;
	}
}

/* One attempt: connect, request, read the first batch. Returns the fd, or
 * -EBUSY when the agent said it is busy (worth retrying); exits otherwise. */
static int fetch_once(const struct shim_opts *o, int64_t deadline, long backoff_ms,
		      struct shim_set *set)
{
	struct fetch_batch b;
	struct fetch_rx rx;
	int fd, e;

	memset(&b, 0, sizeof b);
	fd = fetch_connect(o->socket_path, deadline);
	if (fd < 0)
		fatal_errno(SHIM_EXIT_UNREACHABLE, fd, "agent unreachable at %s", o->socket_path);
	/* If the send fails the agent may already have said why (ERROR, e.g.
	 * busy) and closed: read that before giving up. */
	int se = fetch_send_request(fd, o);
	if (fetch_rx_init(&rx) < 0)
		fatalx(SHIM_EXIT_SYSTEM, "out of memory");
	e = fetch_batch(fd, &rx, o, deadline, set, &b);
	fetch_rx_free(&rx);
	/* Retry only if the next attempt still starts well before the
	 * deadline; otherwise report the agent's reason. */
	if (e == -EPROTO && b.error.code == PROTO_E_BUSY &&
	    (int64_t)clock_ms() + backoff_ms + BUSY_MARGIN_MS < deadline) {
		close(fd);
		set_free(set);
		return -EBUSY;
	}
	if (e < 0 || se < 0)
		set_free(set); /* wipe what arrived before the failure */
	if (e == -EPROTO) {
		text_sanitize(b.error.reason);
		fatalx(SHIM_EXIT_AGENT, "agent refused (error %u): %s", b.error.code,
		       b.error.reason);
	}
	if (se < 0)
		fatal_errno(SHIM_EXIT_UNREACHABLE, se, "sending the request");
	if (e < 0)
		fatal_errno(fetch_exit(e), e, "reading the agent's reply");
	for (size_t i = 0; i < b.n_denied; i++) {
		text_sanitize(b.denied[i].reason);
		log_warnx("secret %s denied: %s", b.denied[i].name, b.denied[i].reason);
	}
	fetch_batch_free(&b);
	return fd;
}

/* Retry while the agent is busy (many containers starting at once). */
static int fetch(const struct shim_opts *o, struct shim_set *set)
{
	int64_t deadline = (int64_t)clock_ms() + (int64_t)o->timeout_s * 1000;
	long backoff_ms = 10;
	int fd;
	while ((fd = fetch_once(o, deadline, backoff_ms, set)) == -EBUSY) {
		struct timespec ts = { 0, backoff_ms * 1000000L };
		nanosleep(&ts, NULL);
		backoff_ms = backoff_ms * 2 > 500 ? 500 : backoff_ms * 2;
	}
	return fd;
}

static void check_required(const struct shim_opts *o, struct shim_set *set)
{
	const char *missing[PROTO_MAX_NAMES];
	size_t n = fetch_missing(o, set, missing, PROTO_MAX_NAMES);
	for (size_t i = 0; i < n; i++)
		log_warnx("required secret %s not delivered", missing[i]);
	if (n) {
		set_free(set);
		fatalx(SHIM_EXIT_DENIED, "%zu required secret(s) missing; not starting %s", n,
		       o->cmd[0]);
	}
}

static int deliver(const struct shim_opts *o, struct shim_set *set)
{
	int dirfd = deliver_open_dir(o->dir, o->allow_disk);
	if (dirfd == -EXDEV) {
		set_free(set);
		fatalx(SHIM_EXIT_DELIVERY, "%s is not tmpfs or ramfs (mount one, or --allow-disk)",
		       o->dir);
	}
	if (dirfd < 0) {
		set_free(set);
		fatal_errno(SHIM_EXIT_DELIVERY, dirfd, "opening %s (a symlink is refused)", o->dir);
	}
	int e = deliver_apply(dirfd, set, o->have_user ? o->uid : (uid_t)-1,
			      o->have_user ? o->gid : (gid_t)-1);
	if (e < 0) {
		set_free(set);
		fatal_errno(SHIM_EXIT_DELIVERY, e, "writing secrets into %s", o->dir);
	}
	return dirfd;
}

int main(int argc, char **argv)
{
	struct shim_opts o;
	struct shim_set set = { NULL, 0 };
	char err[256];
	int e;

	log_init("keyhole-shim", false);
	if (args_parse(argc, argv, getenv("KEYHOLE_SOCKET"), getenv("KEYHOLE_DIR"), &o, err,
		       sizeof err) < 0) {
		log_warnx("%s", err);
		fputs(usage, stderr);
		return SHIM_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN); /* agent gone: EPIPE, not death */
	int agentfd = fetch(&o, &set);
	check_required(&o, &set);
	if (!o.watch) {
		close(agentfd);
		agentfd = -1;
	}
	int dirfd = deliver(&o, &set);
	if (!o.watch)
		set_free(&set); /* values are on tmpfs now; wipe our copies */
	if (o.watch || getpid() == 1)
		return watch_run(&o, dirfd, agentfd, &set);
	close(dirfd);
	int code = exec_cmd(&o, &e);
	fatal_errno(code, e, "%s", o.cmd[0]);
}
