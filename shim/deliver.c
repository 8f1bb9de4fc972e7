// SPDX-License-Identifier: MIT
/* Writing secrets into the target directory, Kubernetes AtomicWriter style:
 *   DIR/..vN/FILE        the values of version N (fresh dir, O_EXCL files)
 *   DIR/..data -> ..vN   swapped with one renameat: the set changes as a whole
 *   DIR/FILE -> ..data/FILE   stable names
 * The directory may hold entries planted by the image: everything is done
 * relative to an O_NOFOLLOW dirfd, nothing is ever opened through a symlink,
 * and entries in our way are replaced by rename (never written through).
 * Internal names all start with "..", which no agent file name can. */
#include "shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "io.h"

#define TMPFS_MAGIC_ 0x01021994
#define RAMFS_MAGIC_ 0x858458f6
#define DATA ".." "data"
#define DATA_TMP "..data.tmp"
#define LINK_TMP "..link.tmp"
#define MAX_DEPTH 16

int deliver_open_dir(const char *path, bool allow_disk)
{
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sfs) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!allow_disk && (unsigned long)sfs.f_type != TMPFS_MAGIC_ &&
	    (unsigned long)sfs.f_type != RAMFS_MAGIC_) {
		close(fd);
		return -EXDEV;
	}
	return fd;
}

/* Remove name below dirfd, recursing into real directories only. */
static int rm_tree_at(int dirfd, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= MAX_DEPTH)
		return -ELOOP;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	for (int pass = 0, found = 1; found && pass < 64; pass++) {
		struct dirent *e;
		found = 0;
		rewinddir(d);
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			found = 1;
			int r = rm_tree_at(fd, e->d_name, depth + 1);
			if (r < 0) {
				closedir(d);
				return r;
			}
		}
	}
	closedir(d);
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

/* "..v<digits>" -> N, else 0. */
static unsigned long version_of(const char *name)
{
	char *end;
	if (strncmp(name, "..v", 3) || name[3] < '1' || name[3] > '9')
		return 0;
	unsigned long n = strtoul(name + 3, &end, 10);
	return *end || n > 1000000000UL ? 0 : n;
}

/* Current version dir name (from ..data) into buf, or "" if none. */
static void current_version(int dirfd, char *buf, size_t cap)
{
	ssize_t n = readlinkat(dirfd, DATA, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (!version_of(buf))
		buf[0] = '\0';
}

static int write_file_at(int vfd, const struct shim_secret *s, uid_t uid, gid_t gid)
{
	int fd = openat(vfd, s->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = io_write_all(fd, s->value, s->value_len);
	if (r == 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		r = -errno;
	if (r == 0 && fchmod(fd, s->mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Make a fresh ..vN holding every file of the set; name into vname. */
static int write_version(int dirfd, const struct shim_set *set, uid_t uid, gid_t gid,
			 unsigned long start, char *vname, size_t cap)
{
	int r = -EEXIST;
	for (unsigned long n = start; n < start + 1000 && r == -EEXIST; n++) {
		snprintf(vname, cap, "..v%lu", n);
		r = mkdirat(dirfd, vname, 0700) < 0 ? -errno : 0;
	}
	if (r < 0)
		return r;
	int vfd = openat(dirfd, vname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && i < set->n; i++) {
		if (!proto_file_name_valid(set->s[i].file))
			r = -EINVAL;
		else
			r = write_file_at(vfd, &set->s[i], uid, gid);
	}
	/* Readable (not listable-for-write) only once complete. */
	if (r == 0 && fchmod(vfd, 0755) < 0)
		r = -errno;
	if (vfd >= 0)
		close(vfd);
	if (r < 0)
		(void)rm_tree_at(dirfd, vname, 0);
	return r;
}

/* Atomically point `name` at `target` (a new symlink renamed over it). */
static int swap_link(int dirfd, const char *target, const char *name, const char *tmp)
{
	int r;
	if ((r = rm_tree_at(dirfd, tmp, 0)) < 0)
		return r;
	if (symlinkat(target, dirfd, tmp) < 0)
		return -errno;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		/* A directory planted under that name: clear it, then retry. */
		if (errno != EISDIR && errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR)
			return -errno;
		if ((r = rm_tree_at(dirfd, name, 0)) < 0 ||
		    (renameat(dirfd, tmp, dirfd, name) < 0 && (r = -errno)))
			return (void)unlinkat(dirfd, tmp, 0), r;
	}
	return 0;
}

static bool link_is(int dirfd, const char *name, const char *want)
{
	char buf[PROTO_MAX_NAME + 16];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

/* Drop stable links into ..data/ whose file is not in keep (NULL = all). */
static int prune_links(int dirfd, const struct shim_set *keep)
{
	char buf[PROTO_MAX_NAME + 16];
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dirfd, e->d_name, buf, sizeof buf - 1);
		if (n < 0 || strncmp(buf, DATA "/", 7) || (size_t)n <= 7)
			continue;
		buf[n] = '\0';
		bool in = false;
		for (size_t i = 0; keep && i < keep->n && !in; i++)
			in = !strcmp(keep->s[i].file, buf + 7) && !strcmp(e->d_name, buf + 7);
		if (!in)
			(void)unlinkat(dirfd, e->d_name, 0);
	}
	closedir(d);
	return 0;
}

int deliver_apply(int dirfd, const struct shim_set *set, uid_t uid, gid_t gid)
{
	char old[64], vname[32], target[PROTO_MAX_NAME + 16];
	int r;

	current_version(dirfd, old, sizeof old);
	r = write_version(dirfd, set, uid, gid, version_of(old) + 1, vname, sizeof vname);
	if (r < 0)
		return r;
	if ((r = swap_link(dirfd, vname, DATA, DATA_TMP)) < 0) {
		(void)rm_tree_at(dirfd, vname, 0);
		return r;
	}
	for (size_t i = 0; i < set->n; i++) {
		snprintf(target, sizeof target, DATA "/%s", set->s[i].file);
		if (!link_is(dirfd, set->s[i].file, target) &&
		    (r = swap_link(dirfd, target, set->s[i].file, LINK_TMP)) < 0)
			return r;
	}
	(void)prune_links(dirfd, set);
	if (old[0] && strcmp(old, vname))
		(void)rm_tree_at(dirfd, old, 0);
	return 0;
}

int deliver_clean(int dirfd)
{
	char old[64];
	current_version(dirfd, old, sizeof old);
	int r = prune_links(dirfd, NULL);
	(void)unlinkat(dirfd, DATA, 0);
	(void)rm_tree_at(dirfd, DATA_TMP, 0);
	(void)rm_tree_at(dirfd, LINK_TMP, 0);
	if (old[0]) {
		int r2 = rm_tree_at(dirfd, old, 0);
		if (r == 0)
			r = r2;
	}
	return r;
}
