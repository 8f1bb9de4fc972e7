/* SPDX-License-Identifier: MIT */
/* hog: one identity holding as many keyholed connections as it can, for
 * the per-identity limit and memory tests (tests/integration/abuse_*.sh).
 *   hog SOCK --n N [--uid U] [--mode idle|watch|noread] [--name NAME]
 *       [--hold-s S]
 * idle: connect and send nothing (held until the agent drops it);
 * watch: send a WATCH request for NAME and keep the connection;
 * noread: ask for NAME and never read the reply.
 * Prints "hog: opened O, refused R (first refusal: ...); refused after
 * opening L (first: ...)" once all N were tried (L: held connections whose
 * reply turned out to be an ERROR half a second later), then holds what is open for S seconds
 * (default 10) or until SIGTERM. Exit 0. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An ERROR (or EOF) already waiting on fd means the agent refused it. */
static int refused(int fd, char *why, size_t len)
{
	struct pollfd pf = { fd, POLLIN, 0 };
	uint8_t b[PROTO_HDR + 8 + PROTO_MAX_REASON];
	struct proto_reply rp;
	uint32_t plen;
	ssize_t n;

	if (poll(&pf, 1, 20) != 1)
		return 0;
	n = recv(fd, b, sizeof(b), MSG_PEEK);
	if (n <= 0) {
		snprintf(why, len, "closed");
		return 1;
	}
	if (proto_frame_check(b, (size_t)n, PROTO_MAX_PAYLOAD, &plen) == 0 &&
	    proto_decode_reply(b + PROTO_HDR, plen, &rp) == 0 && rp.type == PROTO_ERROR) {
		snprintf(why, len, "ERROR %u %s", rp.u.error.code, rp.u.error.reason);
		return 1;
	}
	return 0; /* a reply to a request (noread/watch): held */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "n", 1, NULL, 'n' },	  { "uid", 1, NULL, 'u' },
					      { "mode", 1, NULL, 'm' },	  { "name", 1, NULL, 'N' },
					      { "hold-s", 1, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *mode = "idle", *name = "x";
	long n = 100, uid = -1, hold = 10, opened = 0, nref = 0, late = 0;
	char why[PROTO_MAX_REASON + 32] = "", first[sizeof(why)] = "", first_late[sizeof(why)] = "";
	int *fds;
	struct rlimit rl = { 65536, 65536 };
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'n')
			n = atol(optarg);
		else if (ch == 'u')
			uid = atol(optarg);
		else if (ch == 'm')
			mode = optarg;
		else if (ch == 'N')
			name = optarg;
		else if (ch == 'h')
			hold = atol(optarg);
		else
			return 2;
	}
	if (optind + 1 != argc)
		return 2;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (uid >= 0 &&
	    (setgroups(0, NULL) < 0 || setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
	     setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)) {
		perror("hog: uid");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (n < 0 || !(fds = calloc((size_t)n + 1, sizeof(*fds))))
		return 2;
	for (long i = 0; i < n; i++) {
		int fd = dial(argv[optind]);
		if (fd < 0) {
			nref++;
			continue;
		}
		if (strcmp(mode, "idle") != 0) {
			const char *names[1] = { name };
			uint8_t rq[PROTO_HDR + PROTO_MAX_NAME + 16];
			ssize_t len = proto_encode_request(
				rq, sizeof(rq), strcmp(mode, "watch") == 0 ? PROTO_F_WATCH : 0,
				names, 1);
			if (len < 0 || io_write_all(fd, rq, (size_t)len) < 0) {
				close(fd);
				nref++;
				continue;
			}
		}
		if (refused(fd, why, sizeof(why))) {
			if (!nref++)
				snprintf(first, sizeof(first), "%s", why);
			close(fd);
			continue;
		}
		fds[opened++] = fd; /* kept open (never read) until exit */
	}
	/* Replies come later under load: count the held ones refused since. */
	usleep(500 * 1000);
	for (long i = 0; i < opened; i++)
		if (refused(fds[i], why, sizeof(why)) && !late++)
			snprintf(first_late, sizeof(first_late), "%s", why);
	printf("hog: opened %ld, refused %ld (first refusal: %s); refused after opening %ld "
	       "(first: %s)\n",
	       opened, nref, first[0] ? first : "none", late, first_late[0] ? first_late : "none");
	fflush(stdout);
	sleep((unsigned)hold);
	return 0;
}
