/* SPDX-License-Identifier: MIT */
/* fleet_wait: helper of bench/fleet_propagation.sh (not a test). Waits until
 * every FILE holds exactly VALUE and prints, per file, the milliseconds from
 * T0_NS (CLOCK_REALTIME nanoseconds, as `date +%s%N`) to when it was seen.
 * Polls every 0.2 ms; gives up after 10 s (prints -1 for the missing ones).
 * usage: fleet_wait T0_NS VALUE FILE... */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int holds(const char *path, const char *want, size_t n)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf));
	close(fd);
	return r >= 0 && (size_t)r == n && memcmp(buf, want, n) == 0;
}

int main(int argc, char **argv)
{
	long long t0, seen[64] = { 0 }, deadline;
	int n = argc - 3, left;

	if (argc < 4 || n > 64) {
		fputs("usage: fleet_wait T0_NS VALUE FILE...\n", stderr);
		return 2;
	}
	t0 = atoll(argv[1]);
	deadline = now_ns() + 10000000000LL;
	for (left = n; left > 0 && now_ns() < deadline;) {
		for (int i = 0; i < n; i++)
			if (!seen[i] && holds(argv[3 + i], argv[2], strlen(argv[2]))) {
				seen[i] = now_ns();
				left--;
			}
		if (left)
			usleep(200);
	}
	for (int i = 0; i < n; i++)
		printf("%s%.2f", i ? " " : "", seen[i] ? (double)(seen[i] - t0) / 1e6 : -1.0);
	putchar('\n');
	return left ? 1 : 0;
}
