/* SPDX-License-Identifier: MIT */
/* Interleaved A/B/C... timing of whole commands for `make bench`: each round
 * runs every command once, in a rotating order, so machine drift hits all of
 * them alike. Timing is fork -> exec -> waitpid, from CLOCK_MONOTONIC.
 *   startup [-k K] RUNS LABEL -- CMD ARGS ;; LABEL -- CMD ARGS ;; ...
 * Prints "LABEL median_us=.. p95_us=.. failures=N rounds_us=m1,..,mK" per
 * command: rounds_us are the medians of K consecutive slices of the runs
 * (default 5), so a ratio can be taken per slice, between commands timed in
 * the same window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCMD 8
#define MAXROUNDS 32

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

/* Median of t[lo..hi) (copied: t stays in run order). */
static double slice_median(const double *t, int lo, int hi)
{
	size_t n = hi > lo ? (size_t)(hi - lo) : 1;
	double *tmp = calloc(n, sizeof *tmp), m;
	if (!tmp)
		return 0;
	memcpy(tmp, t + lo, (size_t)(hi - lo) * sizeof *tmp);
	qsort(tmp, (size_t)(hi - lo), sizeof *tmp, cmp_d);
	m = tmp[(hi - lo) / 2];
	free(tmp);
	return m;
}

int main(int argc, char **argv)
{
	struct cmd c[MAXCMD];
	int nc = 0, k = 5;
	if (argc > 2 && !strcmp(argv[1], "-k")) {
		k = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc < 4 || k < 1)
		goto usage;
	int runs = atoi(argv[1]);
	if (runs < k)
		k = runs > 0 ? runs : 1;
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
		for (int j = 0; j < nc; j++) {
			struct cmd *x = &c[(r + j) % nc];
			int ok;
			x->t[r] = run(x->argv, &ok);
			x->fails += !ok;
		}
	for (int x = 0; x < nc; x++) {
		char rounds[MAXROUNDS * 16] = "";
		size_t used = 0;
		for (int r = 0; r < k && r < MAXROUNDS; r++) {
			int n = snprintf(rounds + used, sizeof rounds - used, "%s%.0f",
					 r ? "," : "",
					 slice_median(c[x].t, r * runs / k, (r + 1) * runs / k));
			if (n < 0 || (size_t)n >= sizeof rounds - used)
				break;
			used += (size_t)n;
		}
		qsort(c[x].t, (size_t)runs, sizeof(double), cmp_d);
		printf("%s median_us=%.0f p95_us=%.0f failures=%d rounds_us=%s\n", c[x].label,
		       c[x].t[runs / 2], c[x].t[(runs * 95) / 100], c[x].fails, rounds);
	}
	return 0;
usage:
	fprintf(stderr,
		"usage: startup [-k K] RUNS LABEL -- CMD [ARG]... [;; LABEL -- CMD...]...\n");
	return 2;
}
