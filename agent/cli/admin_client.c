/* SPDX-License-Identifier: MIT */
/* Admin socket client (agent/admin.h): blocking, one request, one reply.
 * The reply comes from a root-owned socket but is still parsed with caps. */
#include "cli/admin_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "io.h"
#include "proto.h"

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int admin_call(const char *socket_path, json_t *request, json_t **ret)
{
	cleanup_close int fd = dial(socket_path);
	cleanup_free char *req = json_dumps(request, JSON_COMPACT);
	cleanup_free uint8_t *buf = NULL;
	struct proto_msg m;
	uint8_t hdr[PROTO_HDR];
	size_t cap;
	uint32_t len;
	ssize_t n;
	int r;

	if (fd < 0)
		return fd;
	if (!req)
		return -ENOMEM;
	cap = PROTO_HDR + 16 + strlen(req);
	if (cap < PROTO_HDR + 16 + PROTO_MAX_ADMIN)
		cap = PROTO_HDR + 16 + PROTO_MAX_ADMIN;
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	n = proto_encode_admin(buf, cap, PROTO_ADMIN, req, strlen(req));
	if (n < 0)
		return (int)n;
	if ((r = io_write_all(fd, buf, (size_t)n)) < 0 ||
	    (r = io_read_all(fd, hdr, sizeof(hdr))) < 0)
		return r;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > PROTO_MAX_ADMIN + 16)
		return -EBADMSG;
	if ((r = io_read_all(fd, buf, len)) < 0)
		return r;
	if (proto_decode(buf, len, &m) < 0)
		return -EBADMSG;
	if (m.type == PROTO_ERROR) {
		fprintf(stderr, "keyhole: agent refused: %s\n", m.u.error.reason);
		return -EPROTO;
	}
	if (m.type != PROTO_ADMIN_REPLY)
		return -EBADMSG;
	*ret = json_loadb(m.u.admin.json, m.u.admin.len, 0, NULL);
	return *ret ? 0 : -EBADMSG;
}

int admin_call_cli(const char *verb, const char *socket_path, json_t *request, json_t **ret)
{
	int r = admin_call(socket_path, request, ret);

	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "keyhole: %s: is keyholed running? (admin socket %s: %s)\n", verb,
			socket_path, strerror(-r));
		return CLI_EAGENT;
	}
	if (r < 0) {
		fprintf(stderr, "keyhole: %s: agent admin socket %s: %s\n", verb, socket_path,
			r == -EBADMSG  ? "malformed reply"
			: r == -EACCES ? "permission denied (the "
					 "admin socket is for root)"
				       : strerror(-r));
		return CLI_EAGENT;
	}
	if (!json_is_true(json_object_get(*ret, "ok"))) {
		const char *e = json_string_value(json_object_get(*ret, "error"));
		fprintf(stderr, "keyhole: %s: %s\n", verb, e ? e : "agent reported failure");
		json_decref(*ret);
		*ret = NULL;
		return CLI_EFAIL;
	}
	return 0;
}
