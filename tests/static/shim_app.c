/* SPDX-License-Identifier: MIT */
/* A tiny static app for the shim's PID-1 and delivery tests.
 *   shim_app env                   print the environment
 *   shim_app id                    "uid=R/E/S gid=R/E/S groups=N nnp=V"
 *   shim_app exit N                exit with N
 *   shim_app sig OUT [FILE]        append one line per signal received to OUT
 *                                  ("HUP VALUE" reads $KEYHOLE_DIR/FILE; a
 *                                  signal without a name here is "SIG<n>",
 *                                  the kernel's number); "ready" first; dies
 *                                  by SIGTERM's default
 *   shim_app stubborn OUT          like sig, but ignores SIGTERM (only
 *                                  SIGKILL ends it)
 *   shim_app exiton N OUT          like sig, and exits 0 after logging
 *                                  signal N (an image's STOPSIGNAL)
 *   shim_app zombies N OUT [MS]    orphan N grandchildren that live MS ms
 *                                  (default 100; they become the shim's to
 *                                  reap), then behave like sig */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t pending[65];

static void on_sig(int s)
{
	pending[s] = 1;
}

static void append(const char *out, const char *line)
{
	int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, line, strlen(line));
	close(fd);
}

static void read_secret(const char *file, char *buf, size_t cap)
{
	char path[4096];
	const char *dir = getenv("KEYHOLE_DIR");
	snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (n < 0)
		snprintf(buf, cap, "<missing>");
	if (fd >= 0)
		close(fd);
}

static const struct {
	int s;
	const char *n;
} names[] = {
	{ SIGHUP, "HUP" },   { SIGINT, "INT" },	  { SIGQUIT, "QUIT" },	 { SIGTERM, "TERM" },
	{ SIGUSR1, "USR1" }, { SIGUSR2, "USR2" }, { SIGWINCH, "WINCH" }, { SIGPWR, "PWR" },
};

static void sig_name(int sig, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].s == sig) {
			snprintf(buf, cap, "%s", names[i].n);
			return;
		}
	snprintf(buf, cap, "SIG%d", sig);
}

/* Every signal a process can catch, except SIGCHLD (the orphans) and the
 * three libc keeps for itself (32-34). */
static bool catchable(int sig)
{
	return sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && (sig < 32 || sig > 34);
}

__attribute__((noreturn)) static int sig_loop(const char *out, const char *file, bool stubborn,
					      int exit_on)
{
	sigset_t block, old;
	sigemptyset(&block);
	for (int s = 1; s < 65; s++) {
		if (!catchable(s))
			continue;
		if (s == SIGTERM && stubborn) {
			signal(s, SIG_IGN);
			continue;
		}
		signal(s, on_sig);
		sigaddset(&block, s);
	}
	sigprocmask(SIG_BLOCK, &block, &old);
	append(out, "ready\n");
	for (;;) {
		sigsuspend(&old);
		for (int s = 1; s < 65; s++) {
			char line[1024], val[512] = "", name[16];
			if (!pending[s])
				continue;
			pending[s] = 0;
			if (s == SIGHUP && file)
				read_secret(file, val, sizeof val);
			sig_name(s, name, sizeof name);
			snprintf(line, sizeof line, "%s%s%s\n", name, val[0] ? " " : "", val);
			append(out, line);
			if (s == exit_on)
				exit(0);
			if (s == SIGTERM) {
				signal(SIGTERM, SIG_DFL);
				sigprocmask(SIG_SETMASK, &old, NULL);
				raise(SIGTERM);
			}
		}
	}
}

static void orphan(int n, long ms)
{
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			if (fork() == 0) {
				usleep((useconds_t)ms * 1000);
				_exit(0);
			}
			_exit(0);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "env")) {
		for (char **e = environ; *e; e++)
			printf("%s\n", *e);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "id")) {
		uid_t r, e, s;
		gid_t gr, ge, gs;
		getresuid(&r, &e, &s);
		getresgid(&gr, &ge, &gs);
		printf("uid=%u/%u/%u gid=%u/%u/%u groups=%d nnp=%d\n", r, e, s, gr, ge, gs,
		       getgroups(0, NULL), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "sig"))
		return sig_loop(argv[2], argc >= 4 ? argv[3] : NULL, false, 0);
	if (argc >= 3 && !strcmp(argv[1], "stubborn"))
		return sig_loop(argv[2], NULL, true, 0);
	if (argc >= 4 && !strcmp(argv[1], "exiton"))
		return sig_loop(argv[3], NULL, false, atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "zombies")) {
		orphan(atoi(argv[2]), argc >= 5 ? atol(argv[4]) : 100);
		return sig_loop(argv[3], NULL, false, 0);
	}
	fprintf(stderr,
		"usage: shim_app env|id|exit N|sig OUT [FILE]|stubborn OUT|exiton N OUT|zombies N OUT\n");
	return 2;
}
