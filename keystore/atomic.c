/* SPDX-License-Identifier: MIT */
/* Crash-safe file replacement (skalibs openwritenclose, creds-util): temp
 * file in the same directory -> write -> fsync -> rename -> fsync(dir).
 * kill -9 at any instant leaves the old or the new file; a failed write
 * (ENOSPC, EIO) removes the temp file and leaves the old one untouched.
 * Writers serialise on an flock()ed lock file next to the store. */
#include "ks_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"

static int fsync_parent(const char *path)
{
	cleanup_free char *copy = strdup(path);
	cleanup_close int dfd = -1;

	if (!copy)
		return -ENOMEM;
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

static int write_sync(int fd, const void *buf, size_t len)
{
	int r = io_write_all(fd, buf, len);

	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

int ks_atomic_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	cleanup_free char *tmp = NULL;
	cleanup_close int fd = -1;
	int r;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	r = write_sync(fd, buf, len);
	if (r < 0)
		goto fail;
	if (close(steal_fd(&fd)) < 0) {
		r = -errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return fsync_parent(path);
fail:
	(void)unlink(tmp);
	return r;
}

int ks_create_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	cleanup_close int fd =
		open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	int r;

	if (fd < 0)
		return -errno;
	r = write_sync(fd, buf, len);
	if (r == 0 && close(steal_fd(&fd)) < 0)
		r = -errno;
	if (r == 0)
		r = fsync_parent(path);
	if (r < 0)
		(void)unlink(path);
	return r;
}

int ks_lock(const char *lock_path, int *ret_fd)
{
	cleanup_close int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	*ret_fd = steal_fd(&fd);
	return 0;
}

int ks_read_file(const char *path, size_t cap, char **ret_buf, size_t *ret_len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t have = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if ((uint64_t)st.st_size > cap)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (have < (size_t)st.st_size) {
		ssize_t n = io_read_some(fd, buf + have, (size_t)st.st_size - have);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break; /* shrank under us: parse what is there */
		have += (size_t)n;
	}
	buf[have] = '\0';
	*ret_buf = steal_pointer(&buf);
	*ret_len = have;
	return 0;
}
