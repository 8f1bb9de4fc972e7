// SPDX-License-Identifier: MIT
/* Interleaved A/B/C... timing of whole commands for `make bench`: each round
 * runs every command once, in a rotating order, so machine drift hits all of
 * them alike. Timing is fork -> exec -> waitpid, from CLOCK_MONOTONIC.
 *   startup RUNS LABEL -- CMD ARGS ;; LABEL -- CMD ARGS ;; ...
 * Prints "LABEL median_us=.. p95_us=.. failures=N" per command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCMD 8

struct cmd {
	const char *label;
	char **argv;
	double *t;
	int fails;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double run(char **argv, int *ok)
{
	double t0 = now_us();
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	*ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	struct cmd c[MAXCMD];
	int nc = 0;
	if (argc < 4)
		goto usage;
	int runs = atoi(argv[1]);
	for (int i = 2; i < argc && nc < MAXCMD;) {
		if (i + 2 >= argc || strcmp(argv[i + 1], "--"))
			goto usage;
		c[nc].label = argv[i];
		c[nc].argv = &argv[i + 2];
		c[nc].fails = 0;
		c[nc].t = calloc((size_t)runs, sizeof(double));
		int j = i + 2;
		while (j < argc && strcmp(argv[j], ";;"))
			j++;
		argv[j < argc ? j : argc] = NULL; /* terminate this command's argv */
		nc++;
		i = j + 1;
	}
	if (runs < 1 || nc == 0)
		goto usage;
	for (int r = 0; r < runs; r++)
		for (int k = 0; k < nc; k++) {
			struct cmd *x = &c[(r + k) % nc];
			int ok;
			x->t[r] = run(x->argv, &ok);
			x->fails += !ok;
		}
	for (int k = 0; k < nc; k++) {
		qsort(c[k].t, (size_t)runs, sizeof(double), cmp_d);
		printf("%s median_us=%.0f p95_us=%.0f failures=%d\n", c[k].label, c[k].t[runs / 2],
		       c[k].t[(runs * 95) / 100], c[k].fails);
	}
	return 0;
usage:
	fprintf(stderr, "usage: startup RUNS LABEL -- CMD [ARG]... [;; LABEL -- CMD...]...\n");
	return 2;
}
