/* SPDX-License-Identifier: MIT */
/* notify.h: the sd_notify(3) wire format is one AF_UNIX SOCK_DGRAM message
 * of newline-separated VAR=value; no credentials or fds are passed. */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

int notify_send(const char *socket_path, const char *state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = socket_path ? strlen(socket_path) : 0;
	cleanup_close int fd = -1;
	socklen_t sl;

	if (n < 2 || n >= sizeof(sa.sun_path) || (socket_path[0] != '/' && socket_path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, socket_path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (socket_path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
		return -errno;
	return 0;
}
