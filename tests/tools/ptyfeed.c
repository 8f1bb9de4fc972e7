/* SPDX-License-Identifier: MIT */
/* ptyfeed: run a command on a pseudo-terminal and answer its prompts, for
 * tests of tty input (passphrases, values typed with echo off). Each
 * EXPECT/SEND pair waits until EXPECT has appeared in the output since the
 * previous match, then types SEND (escapes: \n, \004 = end of input).
 * Everything the command printed goes to stdout; exit status is the
 * command's (124 when a prompt did not come within the timeout, or the
 * command did not end within twice that).
 *   ptyfeed [-t SECONDS] EXPECT SEND [EXPECT SEND...] -- CMD [ARG...] */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char out[1 << 16];
static size_t out_len, seen;
static pid_t child;

/* Never hang a test: past the overall limit the command is killed. */
static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
	_exit(124);
}

static size_t unescape(const char *s, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 1 < cap; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			buf[n++] = '\n';
			s++;
		} else if (s[0] == '\\' && strncmp(s + 1, "004", 3) == 0) {
			buf[n++] = 4;
			s += 3;
		} else {
			buf[n++] = *s;
		}
	}
	return n;
}

/* Read what the command printed, up to timeout_ms; false at EOF. */
static int pump(int fd, int timeout_ms)
{
	struct pollfd pf = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pf, 1, timeout_ms) <= 0)
		return 1;
	n = read(fd, out + out_len, sizeof(out) - 1 - out_len);
	if (n <= 0)
		return 0;
	out_len += (size_t)n;
	out[out_len] = '\0';
	return 1;
}

int main(int argc, char **argv)
{
	int i = 1, secs = 20, fd, st = 0, n_pairs;
	char buf[512];
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		secs = atoi(argv[2]);
		i = 3;
	}
	for (n_pairs = 0; i + 2 * n_pairs < argc && strcmp(argv[i + 2 * n_pairs], "--"); n_pairs++)
		;
	if (i + 2 * n_pairs + 1 >= argc)
		return 2;
	pid = forkpty(&fd, NULL, NULL, NULL);
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execvp(argv[i + 2 * n_pairs + 1], argv + i + 2 * n_pairs + 1);
		_exit(127);
	}
	child = pid;
	signal(SIGALRM, on_alarm);
	alarm((unsigned)secs * 2u);
	for (int p = 0; p < n_pairs; p++) {
		const char *want = argv[i + 2 * p];
		time_t end = time(NULL) + secs;
		char *hit;
		while (!(hit = strstr(out + seen, want)) && time(NULL) < end && pump(fd, 200))
			;
		if (!hit) {
			fwrite(out, 1, out_len, stdout);
			kill(pid, SIGKILL);
			return 124;
		}
		seen = (size_t)(hit - out) + strlen(want);
		usleep(50 * 1000); /* let it turn echo off after printing the prompt */
		size_t len = unescape(argv[i + 2 * p + 1], buf, sizeof(buf));
		if (write(fd, buf, len) != (ssize_t)len)
			return 2;
	}
	while (pump(fd, 1000) && out_len < sizeof(out) - 1)
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	while (pump(fd, 100) && out_len < sizeof(out) - 1)
		;
	fwrite(out, 1, out_len, stdout);
	if (waitpid(pid, &st, 0) != pid && errno != ECHILD)
		return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
