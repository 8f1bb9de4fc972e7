/* SPDX-License-Identifier: MIT */
/* Crash injection for tests/integration/faults_*.sh: run CMD, SIGKILL it
 * after a random delay in [0, MAX_US] microseconds (or when it exits
 * first), and report which happened. Sub-millisecond instants that a shell
 * `sleep` cannot hit.
 *   killat MAX_US CMD [ARG...]
 * Prints "killed after U us" or "exited S after U us" (S = exit status) and
 * exits 0; 2 on usage or fork failure. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long elapsed_us(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000L + (t.tv_nsec - t0->tv_nsec) / 1000L;
}

int main(int argc, char **argv)
{
	struct timespec t0, seed;
	int st;
	if (argc < 3 || atol(argv[1]) < 0) {
		fprintf(stderr, "usage: killat MAX_US CMD [ARG...]\n");
		return 2;
	}
	long max_us = atol(argv[1]);
	clock_gettime(CLOCK_REALTIME, &seed);
	srandom((unsigned)(seed.tv_nsec ^ getpid()));
	long delay = max_us ? random() % (max_us + 1) : 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t p = fork();
	if (p < 0)
		return 2;
	if (p == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	/* Poll so a command that finishes early is not waited on for delay. */
	for (;;) {
		pid_t w = waitpid(p, &st, WNOHANG);
		if (w == p) {
			printf("exited %d after %ld us\n",
			       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
			       elapsed_us(&t0));
			return 0;
		}
		if (w < 0 && errno != EINTR)
			return 2;
		if (elapsed_us(&t0) >= delay)
			break;
		struct timespec ts = { 0, 20000 }; /* 20 us */
		nanosleep(&ts, NULL);
	}
	kill(p, SIGKILL);
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		printf("killed after %ld us\n", elapsed_us(&t0));
	else
		printf("exited %d after %ld us\n",
		       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), elapsed_us(&t0));
	return 0;
}
