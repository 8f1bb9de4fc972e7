/* SPDX-License-Identifier: MIT */
/* keyhole-shim: container entrypoint. Steps, tini style: make the process
 * undumpable and block the signals first; parse args; fetch the granted
 * secrets from keyholed (fail closed; a SIGTERM/INT/QUIT meanwhile ends it
 * at once); write them into the tmpfs dir; then either exec CMD directly
 * (nothing left running) or, as PID 1 or with --watch, stay resident to
 * forward signals, reap and apply rotations. Exit codes are in shim.h and
 * docs/shim.md. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "shim.h"
#include "text.h"

#ifndef KH_VERSION
#define KH_VERSION "unknown"
#endif
#define BUSY_MARGIN_MS 250

static const char usage[] =
	"usage: keyhole-shim [--socket PATH] [--dir DIR] [--user UID[:GID]]\n"
	"         [--secret NAME[=FILE]]... [--optional NAME]... [--allow-none]\n"
	"         [--watch] [--on-rotate SIGNAL|restart|none] [--stop-timeout SECONDS]\n"
	"         [--timeout SECONDS] [--allow-disk] -- CMD [ARG...]\n"
	"       keyhole-shim --version\n";

static int g_sigfd = -1; /* the signalfd: main layer state, read by stop() */

/* A stop signal (sig, or 0: read it) before the app runs: wipe, exit
 * 128+N. Nothing was written, or (dirfd >= 0) it is removed. */
__attribute__((noreturn)) static void stop(struct shim_set *set, int dirfd, int sig)
{
	sig = sig > 0 ? sig : reap_read(g_sigfd);
	sig = sig > 0 ? sig : SIGTERM;
	set_free(set);
	if (dirfd >= 0)
		(void)deliver_clean(dirfd);
	log_warnx("signal %d before the app started; not starting it", sig);
	exit(128 + sig);
}

static int fetch_exit(int e)
{
	switch (e) {
	case -EPROTO:
	case -EBADMSG: return SHIM_EXIT_AGENT;
	case -ENOMEM: return SHIM_EXIT_SYSTEM;
	default: return SHIM_EXIT_UNREACHABLE;
	}
}

static void report_denied(struct batch *b)
{
	for (size_t i = 0; i < b->n_denied; i++) {
		text_sanitize(b->denied[i].reason);
		log_warnx("secret %s denied: %s", b->denied[i].name, b->denied[i].reason);
	}
}

/* An agent older than protocol 2 answers ERROR VERSION. It cannot have
 * env or env_file grants (its policy parser refuses them), so protocol 1
 * loses nothing: say so once and ask again in it. */
static bool old_agent(struct shim_opts *o, const struct batch *b, int e)
{
	if (e != -EPROTO || b->error.code != PROTO_E_VERSION || o->proto <= PROTO_VERSION_MIN)
		return false;
	log_info("agent speaks protocol 1 (no env/env_file delivery); continuing in protocol 1 "
		 "(upgrade keyholed for env and env_file grants)");
	o->proto = PROTO_VERSION_MIN;
	return true;
}

/* One attempt: connect, request, read the first batch. Returns the fd, or
 * -EBUSY when the agent said it is busy or speaks an older protocol (worth
 * retrying); exits otherwise. */
static int fetch_once(struct shim_opts *o, int64_t deadline, long backoff_ms, struct shim_set *set)
{
	struct batch b;
	struct fetch_rx rx = { NULL, 0, 0 };
	memset(&b, 0, sizeof b);
	int fd = fetch_connect(o->socket_path, deadline, g_sigfd);
	if (fd == -ECANCELED)
		stop(set, -1, 0);
	if (fd < 0)
		fatal_errno(SHIM_EXIT_UNREACHABLE, fd, "agent unreachable at %s", o->socket_path);
	/* If the send fails the agent may already have said why (ERROR, e.g.
	 * busy) and closed: read that before giving up. */
	int se = fetch_send_request(fd, o);
	int e = fetch_batch(fd, &rx, o, deadline, g_sigfd, set, &b);
	fetch_rx_free(&rx);
	if (e == -ECANCELED)
		stop(set, -1, 0);
	if (old_agent(o, &b, e)) {
		close(fd);
		set_free(set);
		batch_free(&b);
		return -EAGAIN;
	}
	/* Retry only if the next attempt still starts well before the
	 * deadline; otherwise report the agent's reason. */
	if (e == -EPROTO && b.error.code == PROTO_E_BUSY &&
	    (int64_t)clock_ms() + backoff_ms + BUSY_MARGIN_MS < deadline) {
		close(fd);
		set_free(set);
		batch_free(&b);
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
	report_denied(&b);
	batch_free(&b);
	return fd;
}

/* Retry while the agent is busy (many containers starting at once). */
static int fetch(struct shim_opts *o, struct shim_set *set)
{
	int64_t deadline = (int64_t)clock_ms() + (int64_t)o->timeout_s * 1000;
	long backoff_ms = 10;
	int fd;
	while ((fd = fetch_once(o, deadline, backoff_ms, set)) == -EBUSY || fd == -EAGAIN) {
		if (fd == -EAGAIN)
			continue; /* at once, in protocol 1 */
		if (fetch_sleep(backoff_ms, g_sigfd) == -ECANCELED)
			stop(set, -1, 0);
		backoff_ms = backoff_ms * 2 > 500 ? 500 : backoff_ms * 2;
	}
	return fd;
}

static void check_granted(const struct shim_opts *o, struct shim_set *set)
{
	const char *missing[PROTO_MAX_NAMES];
	size_t n = batch_missing(o, set, missing, PROTO_MAX_NAMES);
	for (size_t i = 0; i < n; i++)
		log_warnx("required secret %s not delivered", missing[i]);
	if (n) {
		set_free(set);
		fatalx(SHIM_EXIT_DENIED, "%zu required secret(s) missing; not starting %s", n,
		       o->cmd[0]);
	}
	/* Asked for everything and got nothing: fail closed. */
	if (o->n_want == 0 && set->n == 0 && !o->allow_none)
		fatalx(SHIM_EXIT_DENIED,
		       "no secret granted to this container (see: keyhole "
		       "explain --container ID); --allow-none starts the app anyway");
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

/* --user as non-root: fine when it names what we already are. */
static void check_user(const struct shim_opts *o)
{
	if (!o->have_user || privdrop_check(o->uid, o->gid) == 0)
		return;
	fatalx(SHIM_EXIT_USAGE,
	       "runs as uid %u gid %u, not root, so --user %u:%u cannot be applied: run the "
	       "container as --user %u:%u (with the tmpfs owned by it), or start the shim as root",
	       (unsigned)getuid(), (unsigned)getgid(), (unsigned)o->uid, (unsigned)o->gid,
	       (unsigned)o->uid, (unsigned)o->gid);
}

static void parse(int argc, char **argv, struct shim_opts *o)
{
	char err[256];
	if (args_parse(argc, argv, getenv("KEYHOLE_SOCKET"), getenv("KEYHOLE_DIR"), o, err,
		       sizeof err) < 0) {
		log_warnx("%s", err);
		(void)!write(2, usage, sizeof usage - 1);
		exit(SHIM_EXIT_USAGE);
	}
	if (o->version) {
		static const char v[] = "keyhole-shim " KH_VERSION "\n";
		exit(write(1, v, sizeof v - 1) == (ssize_t)sizeof v - 1 ? 0 : SHIM_EXIT_SYSTEM);
	}
	if (o->watch && !o->rotate_given)
		log_info(
			"--watch with no --on-rotate: a rotation swaps the files and sends the app "
			"nothing (--on-rotate HUP|SIG|restart to signal or restart it)");
}

int main(int argc, char **argv)
{
	struct shim_opts o;
	struct shim_set set = { NULL, 0 };
	uint64_t old_mask = 0;
	int e;

	/* First: no core, no ptrace or /proc/PID/mem for the app's uid. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	g_sigfd = reap_setup(&old_mask);
	log_init("keyhole-shim", false);
	if (g_sigfd < 0)
		fatal_errno(SHIM_EXIT_SYSTEM, g_sigfd, "blocking signals");
	parse(argc, argv, &o);
	check_user(&o);
	signal(SIGPIPE, SIG_IGN); /* agent gone: EPIPE, not death */
	int agentfd = fetch(&o, &set);
	check_granted(&o, &set);
	if (!o.watch) {
		close(agentfd);
		agentfd = -1;
	}
	int dirfd = deliver(&o, &set);
	/* The files on the tmpfs are the state; env values stay until exec. */
	set_drop_values(&set);
	int sig = reap_read(g_sigfd); /* one that came while writing */
	if (sig > 0)
		stop(&set, dirfd, sig);
	if (o.watch || getpid() == 1)
		return watch_run(&o, dirfd, agentfd, g_sigfd, old_mask, &set);
	close(dirfd);
	close(g_sigfd);
	int code = exec_cmd(&o, &set, old_mask, &e); /* wipes set */
	fatal_errno(code, e, "%s", o.cmd[0]);
}
