/* SPDX-License-Identifier: MIT */
/* Writing secrets into the target directory, Kubernetes AtomicWriter style:
 *   DIR/..vN/FILE        the values of version N (fresh dir, O_EXCL files)
 *   DIR/..data -> ..vN   swapped with one renameat: the set changes as a whole
 *   DIR/FILE -> ..data/FILE   stable names
 * The directory may hold entries planted by the image: everything is done
 * relative to an O_NOFOLLOW dirfd, nothing is ever opened through a symlink,
 * and entries in our way are replaced by rename (never written through).
 * Internal names all start with "..", which no agent file name can.
 * Between rotations the files are the state: an entry whose value the shim
 * does not hold (on_disk) is copied file to file by the kernel, and a push
 * is compared against the current files. Directories are read with
 * getdents64 (no DIR, no malloc in the static shim). */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat only: no stdio function is called */
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "io.h"

#define TMPFS_MAGIC_ 0x01021994
#define RAMFS_MAGIC_ 0x858458f6
#define DATA                                                                                       \
	".."                                                                                       \
	"data"
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

/* getdents64's record (the kernel ABI, identical for every libc). */
struct kdirent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Call fn(dirfd, name, arg) for each entry of fd other than . and ..;
 * stops at the first negative return. */
static int each_entry(int fd, int (*fn)(int, const char *, void *), void *arg)
{
	_Alignas(8) char buf[2048];
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (long off = 0; off < n;) {
			const struct kdirent *e = (const struct kdirent *)(void *)(buf + off);
			off += e->reclen;
			if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
				continue;
			int r = fn(fd, e->name, arg);
			if (r < 0)
				return r;
		}
	}
}

static int rm_tree_at(int dirfd, const char *name, int depth);

struct rm_walk {
	int depth;
	bool found;
};

static int rm_entry(int fd, const char *name, void *arg)
{
	struct rm_walk *w = arg;
	w->found = true;
	return rm_tree_at(fd, name, w->depth + 1);
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
	/* Removing while listing: list again until a pass finds nothing. */
	struct rm_walk w = { depth, true };
	int r = 0;
	for (int pass = 0; pass < 64 && w.found && r == 0; pass++) {
		w.found = false;
		r = lseek(fd, 0, SEEK_SET) < 0 ? -errno : each_entry(fd, rm_entry, &w);
	}
	close(fd);
	if (r < 0)
		return r;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

/* "..v<digits>" -> N, else 0. */
static unsigned long version_of(const char *name)
{
	unsigned long n = 0;
	if (strncmp(name, "..v", 3) || name[3] < '1' || name[3] > '9')
		return 0;
	for (const char *p = name + 3; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000000UL)
			return 0;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	return n;
}

/* Current version dir name (from ..data) into buf, or "" if none. */
static void current_version(int dirfd, char *buf, size_t cap)
{
	ssize_t n = readlinkat(dirfd, DATA, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (!version_of(buf))
		buf[0] = '\0';
}

/* The current version's file `file`, opened without following links and
 * checked to be a regular file of at most PROTO_MAX_VALUE bytes. */
static int open_current(int oldfd, const char *file, size_t *ret_size)
{
	struct stat st;
	int fd = openat(oldfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)PROTO_MAX_VALUE) {
		close(fd);
		return -EBADF;
	}
	*ret_size = (size_t)st.st_size;
	return fd;
}

/* Copy a file the shim does not hold in memory: sendfile, in the kernel. */
static int copy_current(int oldfd, const char *file, int out)
{
	size_t left;
	int in = open_current(oldfd, file, &left);
	if (in < 0)
		return in;
	int r = 0;
	while (left > 0 && r == 0) {
		ssize_t n = sendfile(out, in, NULL, left);
		if (n < 0 && errno == EINTR)
			continue;
		r = n < 0 ? -errno : n == 0 ? -EIO : 0;
		left -= n > 0 ? (size_t)n : 0;
	}
	close(in);
	return r;
}

static int write_file_at(int vfd, int oldfd, const struct shim_secret *s, uid_t uid, gid_t gid)
{
	int fd = openat(vfd, s->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = s->on_disk ? copy_current(oldfd, s->file, fd)
			   : io_write_all(fd, s->value, s->value_len);
	if (r == 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		r = -errno;
	if (r == 0 && fchmod(fd, s->mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Make a fresh ..vN holding every file of the set; name into vname. */
static int write_version(int dirfd, int oldfd, const struct shim_set *set, uid_t uid, gid_t gid,
			 unsigned long start, char *vname, size_t cap)
{
	int r = -EEXIST;
	for (unsigned long n = start; n < start + 1000 && r == -EEXIST; n++) {
		fmt_snprintf(vname, cap, "..v%lu", n);
		r = mkdirat(dirfd, vname, 0700) < 0 ? -errno : 0;
	}
	if (r < 0)
		return r;
	int vfd = openat(dirfd, vname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && i < set->n; i++) {
		if (!(set->s[i].delivery & PROTO_D_FILE))
			continue; /* env only: no file */
		if (!proto_file_name_valid(set->s[i].file))
			r = -EINVAL;
		else
			r = write_file_at(vfd, oldfd, &set->s[i], uid, gid);
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
	if (renameat(dirfd, tmp, dirfd, name) == 0)
		return 0;
	/* A directory planted under that name: clear it, then retry. */
	if (errno != EISDIR && errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR)
		return -errno;
	if ((r = rm_tree_at(dirfd, name, 0)) == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
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

/* Drop a stable link into ..data/ whose file is not in keep (NULL = all). */
static int prune_entry(int dirfd, const char *name, void *arg)
{
	const struct shim_set *keep = arg;
	char buf[PROTO_MAX_NAME + 16];
	if (name[0] == '.')
		return 0;
	ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
	if (n < 0 || (size_t)n <= 7 || strncmp(buf, DATA "/", 7))
		return 0;
	buf[n] = '\0';
	bool in = false;
	for (size_t i = 0; keep && i < keep->n && !in; i++)
		in = !strcmp(keep->s[i].file, buf + 7) && !strcmp(name, buf + 7);
	if (!in)
		(void)unlinkat(dirfd, name, 0);
	return 0;
}

static int prune_links(int dirfd, const struct shim_set *keep)
{
	/* A second open: getdents moves the offset of the fd it reads. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = each_entry(fd, prune_entry, (void *)(uintptr_t)keep);
	close(fd);
	return r;
}

static int open_version(int dirfd, const char *vname)
{
	if (!vname[0])
		return -ENOENT;
	int fd = openat(dirfd, vname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int deliver_apply(int dirfd, const struct shim_set *set, uid_t uid, gid_t gid)
{
	char old[64], vname[32], target[PROTO_MAX_NAME + 16];
	int r;

	current_version(dirfd, old, sizeof old);
	int oldfd = open_version(dirfd, old); /* source of the entries on_disk */
	r = write_version(dirfd, oldfd, set, uid, gid, version_of(old) + 1, vname, sizeof vname);
	if (oldfd >= 0)
		close(oldfd);
	if (r < 0)
		return r;
	if ((r = swap_link(dirfd, vname, DATA, DATA_TMP)) < 0) {
		(void)rm_tree_at(dirfd, vname, 0);
		return r;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (!(set->s[i].delivery & PROTO_D_FILE))
			continue;
		fmt_snprintf(target, sizeof target, DATA "/%s", set->s[i].file);
		if (!link_is(dirfd, set->s[i].file, target) &&
		    (r = swap_link(dirfd, target, set->s[i].file, LINK_TMP)) < 0)
			return r;
	}
	(void)prune_links(dirfd, set);
	if (old[0] && strcmp(old, vname))
		(void)rm_tree_at(dirfd, old, 0);
	return 0;
}

/* Does the current file hold exactly value? Read through locked scratch. */
static bool file_equals(int oldfd, const char *file, const uint8_t *value, size_t len)
{
	enum { CHUNK = 4096 };
	size_t size, off = 0;
	int fd = open_current(oldfd, file, &size);
	if (fd < 0)
		return false;
	uint8_t *buf = size == len ? mem_secret_alloc(CHUNK) : NULL;
	bool same = buf != NULL;
	while (same && off < len) {
		size_t want = len - off < CHUNK ? len - off : CHUNK;
		same = io_read_all(fd, buf, want) == 0 && !memcmp(buf, value + off, want);
		off += want;
	}
	mem_secret_free(buf, CHUNK);
	close(fd);
	return same;
}

/* Same delivery, and for an env entry the same value (held in memory). */
static bool same_delivery(const struct shim_secret *x, const struct shim_secret *y)
{
	if (x->delivery != y->delivery || strcmp(x->env, y->env) ||
	    strcmp(x->env_file, y->env_file))
		return false;
	if (!(x->delivery & PROTO_D_ENV))
		return true;
	return !x->on_disk && !y->on_disk && x->value_len == y->value_len &&
	       (x->value_len == 0 || !memcmp(x->value, y->value, x->value_len));
}

bool deliver_same(int dirfd, const struct shim_set *next, const struct shim_set *cur)
{
	char old[64];
	if (next->n != cur->n)
		return false;
	if (next->n == 0)
		return true;
	current_version(dirfd, old, sizeof old);
	int oldfd = open_version(dirfd, old);
	bool same = oldfd >= 0;
	for (size_t i = 0; same && i < next->n; i++) {
		const struct shim_secret *x = &next->s[i], *y = NULL;
		for (size_t j = 0; j < cur->n && !y; j++)
			if (!strcmp(cur->s[j].name, x->name))
				y = &cur->s[j];
		same = y && !strcmp(x->file, y->file) && x->mode == y->mode &&
		       same_delivery(x, y) &&
		       (!(x->delivery & PROTO_D_FILE) || x->on_disk ||
			file_equals(oldfd, x->file, x->value, x->value_len));
	}
	if (oldfd >= 0)
		close(oldfd);
	return same;
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
