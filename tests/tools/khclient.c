/* SPDX-License-Identifier: MIT */
/* khclient: a raw keyhole protocol client for tests. Sends a REQUEST (or a
 * deliberately broken frame) to SOCKET and prints every reply as one text
 * line: "SECRET name=N version=V file=F mode=0400 len=L value=X",
 * "SECRET2 name=N version=V delivery=D file=F mode=M env=E env_file=EF ..."
 * (a SECRET2 that only writes a file prints as SECRET; one sent to a
 * --version 1 client is "UNEXPECTED"),
 * "DENIED name=N reason=R", "REVOKED name=N file=F", "END count=C",
 * "ERROR code=C reason=R", finally "EOF" or "TIMEOUT". Values are printed:
 * this is a test tool, never use it on real secrets.
 *
 * usage: khclient SOCKET [--watch] [--batches N] [--timeout-ms N]
 *                 [--version V (1 speaks as an old shim)] [--garbage | --truncated | --oversize |
 *                  --type T | --admin JSON | --silent | --extra]
 *                 [--hold-ms N] [NAME...] */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"

enum mode { M_REQ, M_GARBAGE, M_TRUNC, M_OVERSIZE, M_TYPE, M_ADMIN, M_SILENT, M_EXTRA };

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read exactly n bytes before deadline: 1 ok, 0 EOF, -1 timeout. */
static int read_n(int fd, uint8_t *b, size_t n, long deadline)
{
	size_t have = 0;

	while (have < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left = deadline - now_ms();
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return -1;
		r = read(fd, b + have, n - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		have += (size_t)r;
	}
	return 1;
}

static unsigned g_version = PROTO_VERSION; /* of the REQUEST sent */

static void print_secret2(const struct proto_msg *m)
{
	printf("SECRET2 name=%s version=%llu delivery=%u file=%s mode=%04o env=%s "
	       "env_file=%s len=%u value=%.*s\n",
	       m->u.secret.name, (unsigned long long)m->u.secret.version, m->u.secret.delivery,
	       m->u.secret.file, m->u.secret.mode, m->u.secret.env, m->u.secret.env_file,
	       m->u.secret.value_len, (int)m->u.secret.value_len, (const char *)m->u.secret.value);
}

static void print_msg(const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_SECRET2:
		if (g_version < 2) { /* a protocol-1 client must never get one */
			printf("UNEXPECTED type=SECRET2 to a protocol 1 client\n");
			break;
		}
		if (m->u.secret.delivery != PROTO_D_FILE) {
			print_secret2(m);
			break;
		}
		__attribute__((fallthrough)); /* a file-only SECRET2 delivers what a SECRET does */
	case PROTO_SECRET:
		printf("SECRET name=%s version=%llu file=%s mode=%04o len=%u value=%.*s\n",
		       m->u.secret.name, (unsigned long long)m->u.secret.version, m->u.secret.file,
		       m->u.secret.mode, m->u.secret.value_len, (int)m->u.secret.value_len,
		       (const char *)m->u.secret.value);
		break;
	case PROTO_DENIED:
		printf("DENIED name=%s reason=%s\n", m->u.denied.name, m->u.denied.reason);
		break;
	case PROTO_REVOKED:
		printf("REVOKED name=%s file=%s\n", m->u.revoked.name, m->u.revoked.file);
		break;
	case PROTO_END: printf("END count=%u\n", m->u.end.count); break;
	case PROTO_ERROR:
		printf("ERROR code=%u reason=%s\n", m->u.error.code, m->u.error.reason);
		break;
	case PROTO_ADMIN_REPLY: printf("ADMIN %.*s\n", (int)m->u.admin.len, m->u.admin.json); break;
	case PROTO_REQUEST:
	case PROTO_ADMIN: printf("UNEXPECTED type=%s\n", proto_type_name(m->type)); break;
	}
	fflush(stdout);
}

/* Print replies until batches ENDs, ERROR, EOF or the deadline. */
static int read_replies(int fd, int batches, long timeout)
{
	static uint8_t buf[PROTO_HDR + PROTO_MAX_PAYLOAD];
	struct proto_msg m;
	long deadline = now_ms() + timeout;

	for (;;) {
		uint32_t len;
		int r = read_n(fd, buf, PROTO_HDR, deadline);
		if (r <= 0)
			return printf(r ? "TIMEOUT\n" : "EOF\n"), r ? 3 : 0;
		len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
		      buf[3];
		if (len == 0 || len > PROTO_MAX_PAYLOAD)
			return printf("BADFRAME\n"), 4;
		if ((r = read_n(fd, buf + PROTO_HDR, len, deadline)) <= 0)
			return printf(r ? "TIMEOUT\n" : "EOF-MIDFRAME\n"), 4;
		if (proto_decode(buf + PROTO_HDR, len, &m) < 0)
			return printf("BADMSG\n"), 4;
		print_msg(&m);
		if (m.type == PROTO_ERROR || m.type == PROTO_ADMIN_REPLY)
			return 0;
		if (m.type == PROTO_END && --batches <= 0)
			return 0;
	}
}

static int send_req(int fd, enum mode mode, int type, unsigned version, uint8_t flags, char **names,
		    size_t n, const char *admin)
{
	static uint8_t buf[PROTO_HDR + PROTO_MAX_REQUEST + 64];
	ssize_t len;

	switch (mode) {
	case M_GARBAGE: return io_write_all(fd, "\0\0\0\x05hello", 9);
	case M_OVERSIZE: return io_write_all(fd, "\x7f\xff\xff\xff", 4);
	case M_TYPE:
		buf[0] = buf[1] = buf[2] = 0;
		buf[3] = 1;
		buf[4] = (uint8_t)type;
		return io_write_all(fd, buf, 5);
	case M_ADMIN:
		len = proto_encode_admin(buf, sizeof(buf), PROTO_ADMIN, admin, strlen(admin));
		return len < 0 ? (int)len : io_write_all(fd, buf, (size_t)len);
	case M_SILENT: return 0;
	case M_REQ:
	case M_TRUNC:
	case M_EXTRA: break;
	}
	len = proto_encode_request(buf, sizeof(buf), flags, (const char *const *)names, n);
	if (len < 0)
		return (int)len;
	buf[PROTO_HDR + 1] = (uint8_t)(version >> 8);
	buf[PROTO_HDR + 2] = (uint8_t)version;
	if (mode == M_TRUNC)
		len -= 2;
	if (mode == M_EXTRA)
		buf[len++] = 0;
	return io_write_all(fd, buf, (size_t)len);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", 0, NULL, 'w' },	{ "batches", 1, NULL, 'b' },
		{ "timeout-ms", 1, NULL, 't' }, { "version", 1, NULL, 'v' },
		{ "garbage", 0, NULL, 'g' },	{ "truncated", 0, NULL, 'T' },
		{ "oversize", 0, NULL, 'o' },	{ "type", 1, NULL, 'y' },
		{ "admin", 1, NULL, 'a' },	{ "silent", 0, NULL, 's' },
		{ "extra", 0, NULL, 'x' },	{ "hold-ms", 1, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum mode mode = M_REQ;
	int ch, fd, batches = 1, type = 0, hold = 0, rc;
	long timeout = 5000;
	unsigned version = PROTO_VERSION;
	uint8_t flags = 0;
	const char *admin = NULL;

	/* An agent that refuses at accept closes before our request lands:
	 * the write fails (EPIPE), and the ERROR it sent is still to be read. */
	signal(SIGPIPE, SIG_IGN);

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'w': flags |= PROTO_F_WATCH; break;
		case 'b': batches = atoi(optarg); break;
		case 't': timeout = atol(optarg); break;
		case 'v': g_version = version = (unsigned)atoi(optarg); break;
		case 'g': mode = M_GARBAGE; break;
		case 'T': mode = M_TRUNC; break;
		case 'o': mode = M_OVERSIZE; break;
		case 'y':
			mode = M_TYPE;
			type = (int)strtol(optarg, NULL, 0);
			break;
		case 'a':
			mode = M_ADMIN;
			admin = optarg;
			break;
		case 's': mode = M_SILENT; break;
		case 'x': mode = M_EXTRA; break;
		case 'h': hold = atoi(optarg); break;
		default: fprintf(stderr, "khclient: bad usage\n"); return 2;
		}
	}
	if (optind >= argc)
		return fprintf(stderr, "usage: khclient SOCKET [options] [NAME...]\n"), 2;
	fd = dial(argv[optind]);
	if (fd < 0)
		return printf("CONNECT-FAILED %s\n", strerror(errno)), 5;
	if (send_req(fd, mode, type, version, flags, argv + optind + 1, (size_t)(argc - optind - 1),
		     admin) < 0)
		printf("SEND-FAILED\n");
	if (mode == M_TRUNC)
		shutdown(fd, SHUT_WR);
	rc = read_replies(fd, batches, timeout);
	if (hold > 0)
		usleep((useconds_t)hold * 1000u);
	close(fd);
	return rc;
}
