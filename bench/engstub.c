/* SPDX-License-Identifier: MIT */
/* A stand-in container engine API for the stalled-engine figure of
 * `make bench` (not a test double for correctness: it answers one request).
 *   engstub SOCK hang           accept every connection, never answer
 *                               (what a hung dockerd looks like to libcurl)
 *   engstub SOCK ok PIDFILE     answer GET /containers/<id>/json at once with
 *                               a running, unprivileged container named
 *                               khb-stall whose State.Pid is read from
 *                               PIDFILE, then close (a healthy engine)
 * Runs until killed. One thread, poll; at most MAXC connections held. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"

#define MAXC 512

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static long read_pid(const char *pidfile)
{
	char b[32] = "";
	FILE *f = fopen(pidfile, "r");
	if (f) {
		if (!fgets(b, sizeof b, f))
			b[0] = 0;
		fclose(f);
	}
	return atol(b);
}

/* Read the request head; answer with the container's JSON; close. */
static void answer(int fd, const char *pidfile)
{
	char req[4096], body[1024], head[256], id[65] = "";
	size_t got = 0;
	while (got < sizeof req - 1 && !memmem(req, got, "\r\n\r\n", 4)) {
		ssize_t n = read(fd, req + got, sizeof req - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	req[got] = 0;
	char *p = strstr(req, "/containers/");
	if (p && sscanf(p, "/containers/%64[0-9a-f]/json", id) != 1)
		id[0] = 0;
	int bl = snprintf(body, sizeof body,
			  "{\"Id\":\"%s\",\"Name\":\"/khb-stall\",\"Image\":\"sha256:%s\","
			  "\"State\":{\"Running\":true,\"Pid\":%ld},"
			  "\"Config\":{\"Image\":\"khb\",\"User\":\"\",\"Labels\":{}},"
			  "\"HostConfig\":{\"Privileged\":false}}",
			  id, id, read_pid(pidfile));
	int hl = snprintf(head, sizeof head,
			  "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			  "Content-Length: %d\r\nConnection: close\r\n\r\n",
			  id[0] ? "200 OK" : "404 Not Found", id[0] ? bl : 0);
	io_write_all(fd, head, (size_t)hl);
	if (id[0])
		io_write_all(fd, body, (size_t)bl);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[2], "hang") && (strcmp(argv[2], "ok") || argc < 4))) {
		fprintf(stderr, "usage: engstub SOCK hang | engstub SOCK ok PIDFILE\n");
		return 2;
	}
	int lfd = listen_at(argv[1]), hang = !strcmp(argv[2], "hang");
	struct pollfd pf[MAXC];
	int nheld = 0;
	if (lfd < 0) {
		perror("engstub: listen");
		return 1;
	}
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (!hang) {
			answer(fd, argv[3]);
			continue;
		}
		/* Hold it open, never reply; drop closed peers so the table does not fill. */
		if (nheld == MAXC) {
			for (int i = 0; i < nheld; i++)
				pf[i] = (struct pollfd){ .fd = pf[i].fd, .events = POLLIN };
			poll(pf, (nfds_t)nheld, 0);
			for (int i = 0; i < nheld;) {
				char junk[512];
				if ((pf[i].revents & (POLLHUP | POLLIN)) &&
				    read(pf[i].fd, junk, sizeof junk) <= 0) {
					close(pf[i].fd);
					pf[i] = pf[--nheld];
				} else {
					i++;
				}
			}
		}
		if (nheld < MAXC)
			pf[nheld++].fd = fd;
		else
			close(fd);
	}
}
