/* SPDX-License-Identifier: MIT */
/* Rotation push latency for `make bench`: runs a rotate command (value on its
 * stdin), and measures from the moment it returns until the new value is
 * readable as FILE in each watching shim's directory (inotify on the dirs;
 * after one full pass only the directories named by events are read again,
 * so 1000 watchers cost no 1000 reads per wake-up). A watcher that has not
 * got the value 10 s after the command returned is "missed" and counts as
 * 10 s in the percentiles.
 *   rotlat ITER FILE DIR... -- ROTATE_CMD [ARG]...
 * Prints "watchers=N samples=M p50_us=.. p99_us=.. max_us=.. missed=K". */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

#define DEADLINE_US 10e6 /* per rotation; a watcher not updated by then is "missed" */

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

static int has_value(const char *dir, const char *file, const char *want)
{
	char path[4096], got[256];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(got, 1, sizeof got - 1, f);
	fclose(f);
	got[n] = 0;
	return strcmp(got, want) == 0;
}

static int rotate(char **cmd, const char *value)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		int dn = open("/dev/null", 1);
		dup2(dn, 1);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(p[0]);
	io_write_all(p[1], value, strlen(value));
	close(p[1]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Mark dirs named by pending inotify events (wds[d] is dir d's watch). */
static void drain_events(int in, const int *wds, int nd, char *dirty)
{
	char evbuf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(in, evbuf, sizeof evbuf)) > 0)
		for (char *p = evbuf; p < evbuf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			for (int d = 0; d < nd; d++) /* linear: fine for 1000 */
				if (wds[d] == ev->wd) {
					dirty[d] = 1;
					break;
				}
			p += sizeof *ev + ev->len;
		}
}

int main(int argc, char **argv)
{
	int sep = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			sep = i;
			break;
		}
	if (argc < 6 || sep < 4 || sep + 1 >= argc) {
		fprintf(stderr, "usage: rotlat ITER FILE DIR... -- ROTATE_CMD [ARG]...\n");
		return 2;
	}
	int iters = atoi(argv[1]), nd = sep - 3;
	const char *file = argv[2];
	char **dirs = &argv[3], **cmd = &argv[sep + 1];
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int *wds = calloc((size_t)nd, sizeof *wds);
	for (int d = 0; d < nd; d++)
		wds[d] = inotify_add_watch(in, dirs[d], IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE);
	double *lat = calloc((size_t)(iters * nd), sizeof *lat);
	char *done = calloc((size_t)nd, 1), *dirty = calloc((size_t)nd, 1);
	int ns = 0, missed = 0;
	char value[64];
	for (int it = 0; it < iters; it++) {
		snprintf(value, sizeof value, "bench-%d-%ld", it, (long)now_us());
		if (rotate(cmd, value) < 0) {
			fprintf(stderr, "rotlat: rotate command failed\n");
			return 1;
		}
		double t0 = now_us(), deadline = t0 + DEADLINE_US;
		int left = nd;
		memset(done, 0, (size_t)nd);
		memset(dirty, 1, (size_t)nd); /* first pass: every dir */
		while (left > 0 && now_us() < deadline) {
			drain_events(in, wds, nd, dirty);
			for (int d = 0; d < nd; d++) {
				if (done[d] || !dirty[d])
					continue;
				dirty[d] = 0;
				if (has_value(dirs[d], file, value)) {
					done[d] = 1;
					left--;
					lat[ns++] = now_us() - t0;
				}
			}
			if (left == 0)
				break;
			struct pollfd pf = { .fd = in, .events = POLLIN };
			if (poll(&pf, 1, 20) == 0)
				memset(dirty, 1,
				       (size_t)nd); /* no event for 20 ms: look at all again */
		}
		missed += left;
		for (; left > 0; left--) /* a miss counts as the deadline: p99 must not hide it */
			lat[ns++] = DEADLINE_US;
	}
	qsort(lat, (size_t)ns, sizeof *lat, cmp_d);
	printf("watchers=%d samples=%d p50_us=%.0f p99_us=%.0f max_us=%.0f missed=%d\n", nd, ns,
	       ns ? lat[ns / 2] : 0, ns ? lat[(ns * 99) / 100] : 0, ns ? lat[ns - 1] : 0, missed);
	return missed ? 1 : 0;
}
