/* SPDX-License-Identifier: MIT */
/* Unit tests for keystore/atomic.c and the file backend's write path:
 * replacement keeps the mode and leaves no temp file, a failed rename keeps
 * the old file, O_EXCL creation never overwrites, the writer lock excludes
 * other processes, read caps, and killed writers' temp files are swept. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "ks_internal.h"

/* base: made and removed by the parent (unchecked fixture), so it goes even
 * when a test fails; dir: one fresh directory per test inside it. */
static char base[64], dir[96];

static void base_setup(void)
{
	snprintf(base, sizeof(base), "/tmp/check_atomic.XXXXXX");
	if (!mkdtemp(base))
		abort();
}

static void base_teardown(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", base);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
}

static void path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static size_t count_temps(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -c '\\.tmp\\.'", dir);
	FILE *p = popen(cmd, "r");
	unsigned n = 99;
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

START_TEST(replace_keeps_mode_no_temp)
{
	char p[128], *buf = NULL;
	size_t len = 0;
	struct stat st;

	path(p, sizeof(p), "f.json");
	ck_assert_int_eq(ks_atomic_write(p, "one", 3, 0640), 0);
	ck_assert_int_eq(ks_atomic_write(p, "second", 6, 0640), 0);
	ck_assert_int_eq(ks_read_file(p, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(buf, "second");
	free(buf);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	ck_assert_uint_eq(count_temps(), 0);
}
END_TEST

START_TEST(failed_rename_keeps_old)
{
	char p[128], inner[160];

	/* the target is a non-empty directory: rename() must fail */
	path(p, sizeof(p), "d.json");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/x", p);
	ck_assert_int_eq(ks_create_file(inner, "x", 1, 0600), 0);
	int r = ks_atomic_write(p, "new", 3, 0600);
	ck_assert_int_lt(r, 0);
	ck_assert_uint_eq(count_temps(), 0);
	ck_assert_int_eq(access(inner, F_OK), 0);
	/* a missing directory fails cleanly too */
	path(p, sizeof(p), "nodir/f.json");
	ck_assert_int_eq(ks_atomic_write(p, "new", 3, 0600), -ENOENT);
}
END_TEST

START_TEST(create_never_overwrites)
{
	char p[128], *buf = NULL;
	size_t len = 0;

	path(p, sizeof(p), "k");
	ck_assert_int_eq(ks_create_file(p, "first", 5, 0400), 0);
	ck_assert_int_eq(ks_create_file(p, "other", 5, 0400), -EEXIST);
	ck_assert_int_eq(ks_read_file(p, 100, &buf, &len), 0);
	ck_assert_str_eq(buf, "first");
	free(buf);
}
END_TEST

START_TEST(lock_excludes_others)
{
	char p[128];
	int fd = -1, st = 0;

	path(p, sizeof(p), "s.lock");
	ck_assert_int_eq(ks_lock(p, &fd), 0);
	pid_t kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		int f = open(p, O_RDWR | O_CLOEXEC);
		_exit(f >= 0 && flock(f, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		int f = open(p, O_RDWR | O_CLOEXEC);
		_exit(f >= 0 && flock(f, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

START_TEST(read_caps)
{
	char p[128], *buf = NULL;
	size_t len = 0;

	path(p, sizeof(p), "big");
	ck_assert_int_eq(ks_create_file(p, "0123456789", 10, 0600), 0);
	ck_assert_int_eq(ks_read_file(p, 9, &buf, &len), -EFBIG);
	ck_assert_int_eq(ks_read_file(p, 10, &buf, &len), 0);
	free(buf);
	ck_assert_int_eq(ks_read_file(dir, 10, &buf, &len), -EBADMSG);
}
END_TEST

START_TEST(sweep_killed_writers_temps)
{
	char store[128], junk[160];
	struct ks_backend *b = NULL;

	ck_assert_int_ge(sodium_init(), 0);
	path(store, sizeof(store), "store.json");
	snprintf(junk, sizeof(junk), "%s.tmp.AbCdEf", store);
	ck_assert_int_eq(ks_backend_file.open(store, &b), 0);
	json_t *meta = json_pack("{s:s}", "format", "keyhole-store");
	ck_assert_int_eq(b->ops->create(b, meta), 0);
	ck_assert_int_eq(b->ops->create(b, meta), -EEXIST);
	json_decref(meta);
	ck_assert_int_eq(ks_create_file(junk, "torn", 4, 0600), 0);
	json_t *doc = json_pack("{s:[]}", "versions");
	ks_rev_t rev = 0;
	ck_assert_int_eq(b->ops->cas_put(b, "n", doc, 0, &rev), 0);
	ck_assert_uint_ne(rev, 0);
	ck_assert_int_eq(access(junk, F_OK), -1);
	/* compare-and-swap: a stale expectation loses */
	ck_assert_int_eq(b->ops->cas_put(b, "n", doc, 0, NULL), -ESTALE);
	ck_assert_int_eq(b->ops->cas_put(b, "n", NULL, rev + 1, NULL), -ESTALE);
	ck_assert_int_eq(b->ops->cas_put(b, "n", NULL, rev, NULL), 0);
	json_decref(doc);
	b->ops->close(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("atomic");
	TCase *t = tcase_create("atomic");
	tcase_add_unchecked_fixture(t, base_setup, base_teardown);
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, replace_keeps_mode_no_temp);
	tcase_add_test(t, failed_rename_keeps_old);
	tcase_add_test(t, create_never_overwrites);
	tcase_add_test(t, lock_excludes_others);
	tcase_add_test(t, read_caps);
	tcase_add_test(t, sweep_killed_writers_temps);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)
