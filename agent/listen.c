/* SPDX-License-Identifier: MIT */
/* Listening unix sockets (OpenBSD control.c): remove a stale socket (only
 * a socket, never another file type), bind under umask 077, then chmod to
 * the wanted mode, so the socket is never wider than asked even briefly.
 * The agent socket is 0666 (identity decides, not the file mode); the admin
 * socket 0600. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "cleanup.h"

/* Create the socket's directory when it is missing (one level, 0755, as
 * systemd's RuntimeDirectory= would), so the defaults work without a unit. */
static int ensure_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0)
		return errno == EEXIST ? 0 : -errno;
	return chmod(dir, 0755) < 0 ? -errno : 0;
}

int listen_unix(const char *path, unsigned mode, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	cleanup_close int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int r = ensure_parent(path);
	if (r < 0)
		return r;
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
