/* SPDX-License-Identifier: MIT */
/* File backend: the whole store is one JSON file (reviewable, committable).
 * Writers take an flock on "<store>.lock", re-read the file, check the
 * record's revision (compare-and-swap), and replace the file atomically, so
 * concurrent writers of different records all land. Readers take no lock
 * (rename is atomic), so a read-only store directory can still be read. */
#include "ks_internal.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "cleanup.h"

struct file_backend {
	struct ks_backend base;
	char *path;
	char *lock_path;
	char *base_name;
	int wfd; /* inotify, lazily */
};

static struct file_backend *fb_of(struct ks_backend *b)
{
	return (struct file_backend *)(void *)b;
}

static int fb_open(const char *location, struct ks_backend **ret)
{
	struct file_backend *f = calloc(1, sizeof(*f));
	cleanup_free char *copy = strdup(location);

	if (!f || !copy)
		goto nomem;
	f->base.ops = &ks_backend_file;
	f->wfd = -1;
	f->path = strdup(location);
	f->base_name = strdup(basename(copy));
	if (!f->path || !f->base_name || asprintf(&f->lock_path, "%s.lock", location) < 0)
		goto nomem;
	*ret = &f->base;
	return 0;
nomem:
	if (f) {
		free(f->path);
		free(f->base_name);
		free(f);
	}
	return -ENOMEM;
}

static void fb_close(struct ks_backend *b)
{
	struct file_backend *f = fb_of(b);

	if (!f)
		return;
	if (f->wfd >= 0)
		(void)close(f->wfd);
	free(f->path);
	free(f->lock_path);
	free(f->base_name);
	free(f);
}

static int load_root(struct file_backend *f, json_t **ret_root, mode_t *ret_mode)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int r = ks_read_file(f->path, KS_MAX_FILE, &buf, &len);

	if (r == -EFBIG)
		r = -EBADMSG;
	if (r < 0)
		return r;
	if (ret_mode)
		*ret_mode = stat(f->path, &st) == 0 ? (st.st_mode & 07777) : 0600;
	return ks_file_load(buf, len, ret_root);
}

static int save_root(struct file_backend *f, json_t *root, mode_t mode)
{
	size_t len = 0;
	char *s = ks_file_dump(root, &len);
	int r;

	if (!s)
		return -ENOMEM;
	r = ks_atomic_write(f->path, s, len, mode);
	free(s);
	return r;
}

static int fb_create(struct ks_backend *b, json_t *meta)
{
	struct file_backend *f = fb_of(b);
	cleanup_close int lock = -1;
	json_t *root = json_deep_copy(meta);
	char *s = NULL;
	size_t len = 0;
	int r = -ENOMEM;

	if (root && json_object_set_new(root, "records", json_object()) == 0)
		s = ks_file_dump(root, &len);
	json_decref(root);
	if (!s)
		return r;
	r = ks_lock(f->lock_path, &lock);
	if (r == 0)
		r = ks_create_file(f->path, s, len, 0600);
	free(s);
	return r;
}

static int fb_read_all(struct ks_backend *b, struct ks_snapshot *ret)
{
	struct file_backend *f = fb_of(b);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int r = ks_read_file(f->path, KS_MAX_FILE, &buf, &len);

	if (r == -EFBIG)
		r = -EBADMSG;
	if (r < 0)
		return r;
	return ks_file_split(buf, len, ret);
}

/* Under the lock no writer is active, so any "<store>.tmp.*" is the
 * leftover of one that was killed: remove it. */
static void sweep_temps(struct file_backend *f)
{
	cleanup_free char *copy = strdup(f->path);
	cleanup_free char *prefix = NULL;
	DIR *d;
	struct dirent *e;

	if (!copy || asprintf(&prefix, "%s.tmp.", f->base_name) < 0) {
		prefix = NULL;
		return;
	}
	d = opendir(dirname(copy));
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static int fb_cas_put(struct ks_backend *b, const char *name, json_t *doc, ks_rev_t expected_rev,
		      ks_rev_t *ret_rev)
{
	struct file_backend *f = fb_of(b);
	cleanup_close int lock = -1;
	json_t *root = NULL, *recs, *cur;
	mode_t mode = 0600;
	int r;

	r = ks_lock(f->lock_path, &lock);
	if (r < 0)
		return r;
	sweep_temps(f);
	r = load_root(f, &root, &mode);
	if (r < 0)
		return r;
	recs = json_object_get(root, "records");
	cur = json_object_get(recs, name);
	if ((cur ? ks_doc_rev(cur) : 0) != expected_rev) {
		r = -ESTALE;
		goto out;
	}
	if (doc)
		r = json_object_set(recs, name, doc) == 0 ? 0 : -ENOMEM;
	else
		r = json_object_del(recs, name) == 0 || !cur ? 0 : -ENOMEM;
	if (r == 0)
		r = save_root(f, root, mode);
	if (r == 0 && ret_rev)
		*ret_rev = doc ? ks_doc_rev(doc) : 0;
out:
	json_decref(root);
	return r;
}

/* Swap *root's meta for a copy of meta, keeping its records. */
static int replace_meta(json_t **root, json_t *meta)
{
	json_t *nr = json_deep_copy(meta);

	if (!nr || json_object_set(nr, "records", json_object_get(*root, "records")) < 0) {
		json_decref(nr);
		return -ENOMEM;
	}
	json_decref(*root);
	*root = nr;
	return 0;
}

static int fb_put_meta(struct ks_backend *b, json_t *meta)
{
	struct file_backend *f = fb_of(b);
	cleanup_close int lock = -1;
	json_t *root = NULL;
	mode_t mode = 0600;
	int r = ks_lock(f->lock_path, &lock);

	if (r == 0)
		r = load_root(f, &root, &mode);
	if (r < 0)
		return r;
	r = replace_meta(&root, meta);
	if (r == 0)
		r = save_root(f, root, mode);
	json_decref(root);
	return r;
}

/* Every record checked first, then all replaced and the file written once:
 * a conflict writes nothing, a crash leaves the old or the new file. */
static int fb_put_batch(struct ks_backend *b, json_t *meta, struct ks_backend_write *w, size_t n)
{
	struct file_backend *f = fb_of(b);
	cleanup_close int lock = -1;
	json_t *root = NULL, *recs;
	mode_t mode = 0600;
	int r = ks_lock(f->lock_path, &lock);

	if (r < 0)
		return r;
	sweep_temps(f);
	r = load_root(f, &root, &mode);
	if (r < 0)
		return r;
	recs = json_object_get(root, "records");
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *cur = json_object_get(recs, w[i].name);
		if (!w[i].doc)
			r = -EINVAL;
		else if ((cur ? ks_doc_rev(cur) : 0) != w[i].expected_rev)
			r = -ESTALE;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = json_object_set(recs, w[i].name, w[i].doc) == 0 ? 0 : -ENOMEM;
	if (r == 0)
		r = replace_meta(&root, meta);
	if (r == 0)
		r = save_root(f, root, mode);
	for (size_t i = 0; r == 0 && i < n; i++)
		w[i].ret_rev = ks_doc_rev(w[i].doc);
	json_decref(root);
	return r;
}

static int fb_watch_fd(struct ks_backend *b)
{
	struct file_backend *f = fb_of(b);
	cleanup_free char *copy = NULL;

	if (f->wfd >= 0)
		return f->wfd;
	copy = strdup(f->path);
	if (!copy)
		return -1;
	f->wfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->wfd < 0)
		return -1;
	if (inotify_add_watch(f->wfd, dirname(copy),
			      IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_CREATE | IN_MOVED_FROM |
				      IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		(void)close(f->wfd);
		f->wfd = -1;
	}
	return f->wfd;
}

/* Does this event concern the store file? The directory also holds the
 * lock file, writers' temp files and anything else people keep there; a
 * writer's temp file needs no reload of its own, as its rename onto the
 * store is an IN_MOVED_TO naming the store. Overflow or the directory
 * itself going away: assume it changed. */
static bool fb_event_relevant(const struct file_backend *f, const struct inotify_event *e)
{
	if (e->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return true;
	return e->len > 0 && strnlen(e->name, e->len) < e->len &&
	       strcmp(e->name, f->base_name) == 0;
}

static int fb_watch_drain(struct ks_backend *b)
{
	struct file_backend *f = fb_of(b);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int relevant = 0;

	if (f->wfd < 0)
		return 1;
	for (;;) {
		ssize_t n = read(f->wfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? relevant : -errno;
		if (n == 0)
			return relevant;
		for (char *p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)(void *)p;
			relevant |= fb_event_relevant(f, e);
			p += sizeof(*e) + e->len;
		}
	}
}

const struct ks_backend_ops ks_backend_file = {
	.name = "file",
	.open = fb_open,
	.close = fb_close,
	.create = fb_create,
	.read_all = fb_read_all,
	.cas_put = fb_cas_put,
	.put_meta = fb_put_meta,
	.put_batch = fb_put_batch,
	.watch_fd = fb_watch_fd,
	.watch_drain = fb_watch_drain,
};
