/* SPDX-License-Identifier: MIT */
/* Unit tests for shim/deliver.c. Tests that need a tmpfs run as root in a
 * private mount namespace (unshare(CLONE_NEWNS) in Check's forked test
 * process) so nothing is visible to, or left behind for, other tests; they
 * return early without root. Covers: disk and symlinked dirs refused, the
 * AtomicWriter layout, ownership and modes, swaps that never mix versions,
 * entries planted by the image that must not redirect any write, and the
 * files as the watching shim's state (copy of untouched entries, compare). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "shim.h"

static char tmp[64], outside[64];

static void put(struct shim_set *s, const char *name, const char *file, uint16_t mode,
		const char *val)
{
	ck_assert_int_eq(
		set_put(s, name, file, 1, mode, (const uint8_t *)val, (uint32_t)strlen(val)), 0);
}

/* A fresh tmpfs at tmp in a private mount namespace; outside is a plain
 * directory on disk used as the target of planted symlinks. Returns false
 * (test passes vacuously, with a note) when not root. */
static bool tmpfs_setup(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "check_deliver: not root, tmpfs tests skipped\n");
		return false;
	}
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
	strcpy(tmp, "/tmp/check_deliver.XXXXXX");
	strcpy(outside, "/tmp/check_deliver_out.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_ptr_nonnull(mkdtemp(outside));
	ck_assert_int_eq(mount("tmpfs", tmp, "tmpfs", 0, "mode=0755"), 0);
	return true;
}

static void tmpfs_teardown(void)
{
	char cmd[200];
	(void)umount2(tmp, MNT_DETACH);
	(void)rmdir(tmp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", outside);
	ck_assert_int_eq(system(cmd), 0);
}

static void read_at(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", name, strerror(errno));
	ssize_t n = read(fd, buf, cap - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
}

static void link_eq(int dirfd, const char *name, const char *want)
{
	char buf[300];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
	ck_assert_msg(n >= 0, "%s is not a symlink", name);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static bool exists_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

START_TEST(disk_dir_refused)
{
	char d[] = "/var/tmp/check_deliver_disk.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(d));
	int r = deliver_open_dir(d, false);
	int fd = deliver_open_dir(d, true);
	rmdir(d);
	ck_assert_int_eq(r, -EXDEV);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

START_TEST(symlinked_dir_refused)
{
	char d[] = "/var/tmp/check_deliver_ln.XXXXXX";
	char ln[80];
	ck_assert_ptr_nonnull(mkdtemp(d));
	snprintf(ln, sizeof ln, "%s/secrets", d);
	ck_assert_int_eq(symlink("/dev/shm", ln), 0); /* a tmpfs, behind a symlink */
	int r = deliver_open_dir(ln, false);
	unlink(ln);
	rmdir(d);
	ck_assert_msg(r == -ELOOP || r == -ENOTDIR, "got %d", r);
}
END_TEST

START_TEST(layout_modes_owner)
{
	if (!tmpfs_setup())
		return;
	struct shim_set s = { NULL, 0 };
	struct stat st;
	char buf[64];
	put(&s, "db/password", "pw", 0440, "hunter2");
	put(&s, "api", "api_key", 0400, "k3y");
	int dfd = deliver_open_dir(tmp, false);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(deliver_apply(dfd, &s, 1234, 5678), 0);
	link_eq(dfd, "..data", "..v1");
	link_eq(dfd, "pw", "..data/pw");
	link_eq(dfd, "api_key", "..data/api_key");
	ck_assert_int_eq(fstatat(dfd, "pw", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 1234);
	ck_assert_uint_eq(st.st_gid, 5678);
	ck_assert_uint_eq(st.st_mode & 07777, 0440);
	ck_assert_int_eq(fstatat(dfd, "api_key", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0400);
	ck_assert_int_eq(fstatat(dfd, "..v1", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	read_at(dfd, "pw", buf, sizeof buf);
	ck_assert_str_eq(buf, "hunter2");
	read_at(dfd, "api_key", buf, sizeof buf);
	ck_assert_str_eq(buf, "k3y");
	/* uid -1: the files keep the shim's own owner */
	ck_assert_int_eq(deliver_apply(dfd, &s, (uid_t)-1, (gid_t)-1), 0);
	ck_assert_int_eq(fstatat(dfd, "pw", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	set_free(&s);
	close(dfd);
	tmpfs_teardown();
}
END_TEST

START_TEST(swap_replaces_whole_set)
{
	if (!tmpfs_setup())
		return;
	struct shim_set a = { NULL, 0 }, b = { NULL, 0 };
	char buf[64];
	put(&a, "x", "alpha", 0400, "A1");
	put(&a, "y", "beta", 0400, "B1");
	put(&b, "x", "alpha", 0400, "A2");
	put(&b, "z", "gamma", 0400, "G2");
	int dfd = deliver_open_dir(tmp, false);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(deliver_apply(dfd, &a, (uid_t)-1, (gid_t)-1), 0);
	ck_assert_int_eq(deliver_apply(dfd, &b, (uid_t)-1, (gid_t)-1), 0);
	link_eq(dfd, "..data", "..v2");
	ck_assert(!exists_at(dfd, "..v1"));
	ck_assert(!exists_at(dfd, "beta"));
	ck_assert(!exists_at(dfd, "..data.tmp"));
	ck_assert(!exists_at(dfd, "..link.tmp"));
	read_at(dfd, "alpha", buf, sizeof buf);
	ck_assert_str_eq(buf, "A2");
	read_at(dfd, "gamma", buf, sizeof buf);
	ck_assert_str_eq(buf, "G2");
	/* clean removes all of it */
	ck_assert_int_eq(deliver_clean(dfd), 0);
	ck_assert(!exists_at(dfd, "..data"));
	ck_assert(!exists_at(dfd, "..v2"));
	ck_assert(!exists_at(dfd, "alpha"));
	ck_assert(!exists_at(dfd, "gamma"));
	set_free(&a);
	set_free(&b);
	close(dfd);
	tmpfs_teardown();
}
END_TEST

/* A reader that opens ..data once per round and reads both files through
 * that one directory fd must always see one version, never a mix. */
static int reader(const char *dir, int rounds)
{
	char p[128], x[16], y[16];
	int compared = 0;
	snprintf(p, sizeof p, "%s/..data", dir);
	for (int i = 0; i < rounds; i++) {
		char l[64];
		if (readlink(p, l, sizeof l) <= 0)
			return 2; /* ..data must exist at every instant */
		int d = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d < 0)
			continue; /* its target was just retired: retry, not a mix */
		int fx = openat(d, "x", O_RDONLY), fy = openat(d, "y", O_RDONLY);
		ssize_t nx = fx < 0 ? -1 : read(fx, x, sizeof x - 1);
		ssize_t ny = fy < 0 ? -1 : read(fy, y, sizeof y - 1);
		if (fx >= 0)
			close(fx);
		if (fy >= 0)
			close(fy);
		close(d);
		if (nx < 0 || ny < 0)
			continue; /* old version removed under us: retry, not a mix */
		x[nx] = y[ny] = '\0';
		if (strcmp(x + 1, y + 1))
			return 1;
		compared++;
	}
	return compared ? 0 : 3; /* a reader that never read proves nothing */
}

START_TEST(swap_never_mixes)
{
	if (!tmpfs_setup())
		return;
	int dfd = deliver_open_dir(tmp, false);
	struct shim_set s = { NULL, 0 };
	char v[16];
	int st;
	put(&s, "x", "x", 0400, "x0");
	put(&s, "y", "y", 0400, "y0");
	ck_assert_int_eq(deliver_apply(dfd, &s, (uid_t)-1, (gid_t)-1), 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(reader(tmp, 3000));
	for (int i = 1; i <= 300; i++) {
		snprintf(v, sizeof v, "x%d", i);
		put(&s, "x", "x", 0400, v);
		snprintf(v, sizeof v, "y%d", i);
		put(&s, "y", "y", 0400, v);
		ck_assert_int_eq(deliver_apply(dfd, &s, (uid_t)-1, (gid_t)-1), 0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader status %d", st);
	set_free(&s);
	close(dfd);
	tmpfs_teardown();
}
END_TEST

static void plant(int dfd)
{
	char p[128];
	snprintf(p, sizeof p, "%s/victim", outside);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs("orig", f);
	fclose(f);
	ck_assert_int_eq(symlinkat(p, dfd, "alpha"), 0);	/* stable name -> victim */
	ck_assert_int_eq(symlinkat(outside, dfd, "..data"), 0); /* ..data -> outside dir */
	ck_assert_int_eq(symlinkat(outside, dfd, "..v1"), 0);	/* next version name */
	ck_assert_int_eq(symlinkat(outside, dfd, "..v2"), 0);
	ck_assert_int_eq(mkdirat(dfd, "..data.tmp", 0755), 0); /* our temp name, as a dir */
	ck_assert_int_eq(mkdirat(dfd, "beta", 0755), 0);       /* stable name as a dir */
	ck_assert_int_eq(symlinkat(p, dfd, "beta/inner"), 0);
	ck_assert_int_eq(symlinkat(outside, dfd, "..link.tmp"), 0);
	int fd = openat(dfd, "image_file", O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

START_TEST(planted_entries_do_not_redirect)
{
	if (!tmpfs_setup())
		return;
	int dfd = deliver_open_dir(tmp, false);
	struct shim_set s = { NULL, 0 };
	char buf[64], p[128];
	plant(dfd);
	put(&s, "x", "alpha", 0400, "SECRET-A");
	put(&s, "y", "beta", 0400, "SECRET-B");
	ck_assert_int_eq(deliver_apply(dfd, &s, 4321, 4321), 0);
	/* nothing written outside; the victim is untouched and not chowned */
	snprintf(p, sizeof p, "%s/victim", outside);
	int vfd = open(p, O_RDONLY);
	struct stat st;
	ck_assert_int_ge(vfd, 0);
	ck_assert_int_eq(fstat(vfd, &st), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_int_eq((int)read(vfd, buf, sizeof buf), 4);
	close(vfd);
	snprintf(p, sizeof p, "ls -A '%s' | grep -vx victim | grep -q .", outside);
	ck_assert_msg(system(p) != 0, "something was written into the outside dir");
	/* our layout replaced the plants; unrelated image files stay */
	link_eq(dfd, "..data", "..v3");
	link_eq(dfd, "alpha", "..data/alpha");
	link_eq(dfd, "beta", "..data/beta");
	link_eq(dfd, "..v1", outside);
	ck_assert(exists_at(dfd, "image_file"));
	read_at(dfd, "alpha", buf, sizeof buf);
	ck_assert_str_eq(buf, "SECRET-A");
	read_at(dfd, "beta", buf, sizeof buf);
	ck_assert_str_eq(buf, "SECRET-B");
	/* clean must not follow the planted ..v1/..v2 links either */
	ck_assert_int_eq(deliver_clean(dfd), 0);
	snprintf(p, sizeof p, "%s/victim", outside);
	ck_assert_int_eq(access(p, F_OK), 0);
	ck_assert(exists_at(dfd, "image_file"));
	ck_assert(!exists_at(dfd, "alpha"));
	set_free(&s);
	close(dfd);
	tmpfs_teardown();
}
END_TEST

/* The watching shim's state is on the tmpfs: entries it does not hold are
 * copied from the current version, and a push is compared with the files. */
START_TEST(files_are_the_state)
{
	if (!tmpfs_setup())
		return;
	struct shim_set cur = { NULL, 0 }, next = { NULL, 0 };
	char buf[64];
	put(&cur, "x", "alpha", 0400, "A1");
	put(&cur, "y", "beta", 0440, "B1");
	int dfd = deliver_open_dir(tmp, false);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(deliver_apply(dfd, &cur, 1000, 1000), 0);
	set_drop_values(&cur);
	/* same entries, nothing held: the same */
	ck_assert_int_eq(set_copy(&next, &cur), 0);
	ck_assert(deliver_same(dfd, &next, &cur));
	/* the same value pushed again: compared with the file, the same */
	put(&next, "x", "alpha", 0400, "A1");
	ck_assert(deliver_same(dfd, &next, &cur));
	/* another value, a longer one, another mode, another file: different */
	put(&next, "x", "alpha", 0400, "A2");
	ck_assert(!deliver_same(dfd, &next, &cur));
	put(&next, "x", "alpha", 0400, "A1+");
	ck_assert(!deliver_same(dfd, &next, &cur));
	put(&next, "x", "alpha", 0440, "A1");
	ck_assert(!deliver_same(dfd, &next, &cur));
	put(&next, "x", "alpha2", 0400, "A1");
	ck_assert(!deliver_same(dfd, &next, &cur));
	/* a rotation of x carries y over from the current version's file */
	put(&next, "x", "alpha", 0400, "A2");
	ck_assert_int_eq(deliver_apply(dfd, &next, 1000, 1000), 0);
	link_eq(dfd, "..data", "..v2");
	read_at(dfd, "alpha", buf, sizeof buf);
	ck_assert_str_eq(buf, "A2");
	read_at(dfd, "beta", buf, sizeof buf);
	ck_assert_str_eq(buf, "B1");
	struct stat st;
	ck_assert_int_eq(fstatat(dfd, "beta", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0440);
	ck_assert_uint_eq(st.st_uid, 1000);
	ck_assert(!exists_at(dfd, "..v1"));
	/* a planted symlink in place of a current file is not followed */
	set_free(&next);
	set_drop_values(&cur);
	ck_assert_int_eq(set_copy(&next, &cur), 0);
	ck_assert_int_eq(unlinkat(dfd, "..v2/beta", 0), 0);
	ck_assert_int_eq(symlinkat("/etc/shadow", dfd, "..v2/beta"), 0);
	put(&next, "x", "alpha", 0400, "A3");
	ck_assert_int_ne(deliver_apply(dfd, &next, 1000, 1000), 0);
	link_eq(dfd, "..data", "..v2"); /* the previous version stays */
	set_free(&next);
	set_free(&cur);
	close(dfd);
	tmpfs_teardown();
}
END_TEST

START_TEST(bad_file_name_in_set_refused)
{
	if (!tmpfs_setup())
		return;
	int dfd = deliver_open_dir(tmp, false);
	struct shim_set s = { NULL, 0 };
	put(&s, "x", "ok", 0400, "1");
	put(&s, "y", "../escape", 0400, "2"); /* set.c does not validate; deliver must */
	ck_assert_int_eq(deliver_apply(dfd, &s, (uid_t)-1, (gid_t)-1), -EINVAL);
	ck_assert(!exists_at(dfd, "..data"));
	ck_assert(!exists_at(dfd, "..v1"));
	ck_assert(!exists_at(dfd, "ok"));
	set_free(&s);
	close(dfd);
	tmpfs_teardown();
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("deliver");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, disk_dir_refused);
	tcase_add_test(tc, symlinked_dir_refused);
	tcase_add_test(tc, layout_modes_owner);
	tcase_add_test(tc, swap_replaces_whole_set);
	tcase_add_test(tc, swap_never_mixes);
	tcase_add_test(tc, planted_entries_do_not_redirect);
	tcase_add_test(tc, bad_file_name_in_set_refused);
	tcase_add_test(tc, files_are_the_state);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
