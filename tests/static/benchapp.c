/* SPDX-License-Identifier: MIT */
/* benchapp: the app of `make bench-containers` (bench/containers.sh). It
 * stands for a service that is "running" once its secrets are readable:
 *   benchapp SOCK TAG [FILE...]
 * stats each FILE in $KEYHOLE_DIR (default /run/secrets; exit 1 if one is
 * missing or empty), then connects to the unix socket SOCK (bind-mounted from
 * the host, where bench/ctrstart listens and timestamps the arrival), writes
 * "TAG\n", and stays alive (pause) until the container is removed. Timing is
 * the listener's, so no clock is shared across the container boundary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"

static int have_files(char **files, int n)
{
	const char *dir = getenv("KEYHOLE_DIR");
	char path[4096];
	struct stat st;

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir ? dir : "/run/secrets", files[i]);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
			fprintf(stderr, "benchapp: %s missing\n", path);
			return -1;
		}
	}
	return 0;
}

static int report(const char *sock, const char *tag)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[128];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int n = snprintf(line, sizeof line, "%s\n", tag);

	if (fd < 0 || strlen(sock) >= sizeof sa.sun_path || n < 0 || (size_t)n >= sizeof line)
		return -1;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    io_write_all(fd, line, (size_t)n) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: benchapp SOCK TAG [FILE...]\n");
		return 100;
	}
	if (have_files(&argv[3], argc - 3) < 0)
		return 1;
	if (report(argv[1], argv[2]) < 0) {
		perror("benchapp: report");
		return 111;
	}
	for (;;)
		pause();
}
