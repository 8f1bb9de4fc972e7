/* SPDX-License-Identifier: MIT */
/* Container start latency for `make bench-containers`: listens on a unix
 * socket (bind-mounted into the containers), launches N copies of an engine
 * `run -d` command at once, and times each from just before its fork to the
 * moment its app connects and names itself (tests/static/benchapp). One
 * clock (CLOCK_MONOTONIC, this process) on both ends.
 *   ctrstart SOCK N TIMEOUT_S -- CMD [ARG]...   ("@I@" in an ARG -> index)
 * Prints "n=N ok=K failed_runs=F p50_us=.. p99_us=.. max_us=.. lat_us=a,b,..". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 1024

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

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0777) < 0 ||
	    listen(fd, MAXN) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* argv with every "@I@" replaced by i (leaks: the child execs or exits). */
static char **expand(char **tmpl, int i)
{
	int n = 0;
	while (tmpl[n])
		n++;
	char **v = calloc((size_t)n + 1, sizeof *v);
	for (int k = 0; v && k < n; k++) {
		char *at = strstr(tmpl[k], "@I@");
		if (!at) {
			v[k] = tmpl[k];
			continue;
		}
		char num[16];
		size_t pre = (size_t)(at - tmpl[k]),
		       nl = (size_t)snprintf(num, sizeof num, "%d", i);
		v[k] = malloc(strlen(tmpl[k]) + sizeof num);
		if (!v[k])
			continue;
		memcpy(v[k], tmpl[k], pre);
		memcpy(v[k] + pre, num, nl);
		strcpy(v[k] + pre + nl, at + 3);
	}
	return v;
}

static pid_t launch(char **tmpl, int i)
{
	pid_t pid = fork();
	if (pid == 0) {
		char **v = expand(tmpl, i);
		int dn = open("/dev/null", O_WRONLY);
		if (!v || dn < 0)
			_exit(127);
		dup2(dn, 1);
		execvp(v[0], v);
		_exit(127);
	}
	return pid;
}

/* One report: "TAG\n" where TAG is the index. Returns the index or -1. */
static int take(int lfd)
{
	char buf[32];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n = poll(&pf, 1, 1000) == 1 ? read(fd, buf, sizeof buf - 1) : -1;
	close(fd);
	if (n <= 0)
		return -2;
	buf[n] = 0;
	return atoi(buf);
}

int main(int argc, char **argv)
{
	static double t0[MAXN], lat[MAXN];
	static pid_t pids[MAXN];
	static char seen[MAXN];
	if (argc < 6 || strcmp(argv[4], "--")) {
		fprintf(stderr, "usage: ctrstart SOCK N TIMEOUT_S -- CMD [ARG]...\n");
		return 2;
	}
	int n = atoi(argv[2]), ok = 0, failed = 0, running = 0;
	double deadline;
	if (n < 1 || n > MAXN)
		return 2;
	int lfd = listen_at(argv[1]);
	if (lfd < 0) {
		perror("ctrstart: listen");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		t0[i] = now_us();
		pids[i] = launch(&argv[5], i);
		running += pids[i] > 0;
	}
	deadline = now_us() + atof(argv[3]) * 1e6;
	while (ok < n && now_us() < deadline) {
		struct pollfd pf = { .fd = lfd, .events = POLLIN };
		if (poll(&pf, 1, 20) == 1) {
			int i;
			while ((i = take(lfd)) != -1) {
				if (i >= 0 && i < n && !seen[i]) {
					lat[ok++] = now_us() - t0[i];
					seen[i] = 1;
				}
			}
		}
		int st;
		pid_t p;
		while (running > 0 && (p = waitpid(-1, &st, WNOHANG)) > 0) {
			running--;
			failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		if (running == 0 && failed > 0 && ok + failed >= n)
			break; /* every run returned; the failed ones never report */
	}
	deadline = now_us() + 60e6; /* the run commands themselves, at most 60 s more */
	while (running > 0 && now_us() < deadline) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0)
			break;
		if (p == 0) {
			usleep(20000);
			continue;
		}
		running--;
		failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	failed += running; /* still hanging: counted as failed, left to the caller's cleanup */
	close(lfd);
	unlink(argv[1]);
	qsort(lat, (size_t)ok, sizeof *lat, cmp_d);
	printf("n=%d ok=%d failed_runs=%d p50_us=%.0f p99_us=%.0f max_us=%.0f lat_us=", n, ok,
	       failed, ok ? lat[ok / 2] : 0, ok ? lat[(ok * 99) / 100] : 0, ok ? lat[ok - 1] : 0);
	for (int i = 0; i < ok; i++)
		printf("%s%.0f", i ? "," : "", lat[i]);
	printf("\n");
	return ok == n ? 0 : 1;
}
