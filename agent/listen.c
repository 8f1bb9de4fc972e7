/* SPDX-License-Identifier: MIT */
/* Listening unix sockets (OpenBSD control.c): remove a stale socket (only
 * a socket, never another file type), bind under umask 077, then chmod to
 * the wanted mode, so the socket is never wider than asked even briefly.
 * The agent socket is 0666 (identity decides, not the file mode); the admin
 * socket 0600. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

int listen_unix(const char *path, unsigned mode, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	cleanup_close int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		cleanup_close int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return -EADDRINUSE; /* a live agent owns it */
		if (unlink(path) < 0)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (chmod(path, (mode_t)mode) < 0 || listen(fd, backlog) < 0) {
		int e = -errno;
		unlink(path);
		return e;
	}
	return steal_fd(&fd);
}
