/* SPDX-License-Identifier: MIT */
/* Unit tests for shim/privdrop.c, shim/exec.c's exit codes and shim/reap.c's
 * signal masks. privdrop runs
 * in a forked child (it is irreversible); the child reports what it sees
 * through its exit status. Root-only cases return early without root. */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "shim.h"

/* Child: drop, then check every id, groups, NNP and that root is gone. */
static int drop_and_verify(uid_t uid, gid_t gid)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	gid_t extra[] = { 10, 20 };
	if (setgroups(2, extra) < 0)
		return 10;
	if (privdrop(uid, gid) < 0)
		return 11;
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return 12;
	if (getresgid(&gr, &ge, &gs) < 0 || gr != gid || ge != gid || gs != gid)
		return 13;
	if (getgroups(0, NULL) != 0)
		return 14;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 15;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return 16;
	return 0;
}

static int in_child(int (*fn)(uid_t, gid_t), uid_t u, gid_t g)
{
	int st;
	pid_t p = fork();
	if (p == 0)
		_exit(fn(u, g));
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(drops_everything)
{
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(in_child(drop_and_verify, 65534, 65534), 0);
	ck_assert_int_eq(in_child(drop_and_verify, 1000, 2000), 0);
}
END_TEST

static int drop_unprivileged(uid_t uid, gid_t gid)
{
	if (geteuid() == 0 && setresuid(4000, 4000, 4000) < 0)
		return 20;
	int r = privdrop(uid, gid);
	return r == -EPERM ? 0 : 21;
}

START_TEST(unprivileged_drop_fails)
{
	/* as a non-root user, switching to another uid must fail, not half-work */
	ck_assert_int_eq(in_child(drop_unprivileged, 1000, 1000), 0);
}
END_TEST

START_TEST(invalid_ids)
{
	ck_assert_int_eq(privdrop((uid_t)-1, 0), -EINVAL);
	ck_assert_int_eq(privdrop(0, (gid_t)-1), -EINVAL);
}
END_TEST

static int exec_code(uid_t which, gid_t unused)
{
	(void)unused;
	static char nf0[] = "/nonexistent/keyhole-test", nx0[] = "/tmp/check_privdrop.XXXXXX";
	static char *nf[] = { nf0, NULL };
	static char *nx[] = { nx0, NULL };
	struct shim_opts o;
	int err = 0;
	memset(&o, 0, sizeof o);
	o.dir = "/run/secrets";
	o.cmd = which ? nx : nf;
	if (which) { /* a file without any x bit: EACCES, even for root */
		int fd = mkstemp(nx0);
		if (fd < 0 || fchmod(fd, 0644) < 0 || write(fd, "#!/bin/sh\n", 10) != 10)
			return 1;
		close(fd);
	}
	int code = exec_cmd(&o, NULL, 0, &err);
	if (which)
		unlink(nx0);
	return code;
}

START_TEST(exec_exit_codes)
{
	ck_assert_int_eq(in_child(exec_code, 0, 0), SHIM_EXIT_NOTFOUND);
	ck_assert_int_eq(in_child(exec_code, 1, 0), SHIM_EXIT_NOEXEC);
}
END_TEST

static int spawn_env(uid_t u, gid_t g)
{
	(void)u;
	(void)g;
	static char sh[] = "/bin/sh", c[] = "-c",
		    script[] = "[ \"$KEYHOLE_DIR\" = /run/x ] && exit 42";
	static char *cmd[] = { sh, c, script, NULL };
	struct shim_opts o;
	int st;
	memset(&o, 0, sizeof o);
	o.dir = "/run/x";
	o.cmd = cmd;
	pid_t p = exec_spawn(&o, NULL, 0);
	if (p < 0 || waitpid(p, &st, 0) != p)
		return 1;
	return reap_exit_code(st);
}

START_TEST(spawn_sets_dir_and_status)
{
	ck_assert_int_eq(in_child(spawn_env, 0, 0), 42);
}
END_TEST

START_TEST(exit_code_mapping)
{
	ck_assert_int_eq(reap_exit_code(3 << 8), 3);
	ck_assert_int_eq(reap_exit_code(SIGKILL), 128 + SIGKILL);
	ck_assert_int_eq(reap_exit_code(SIGTERM), 128 + SIGTERM);
}
END_TEST

/* tini's list: every signal but the synchronous ones, TTIN/TTOU and the two
 * that cannot be caught; the ones libcs reserve (32-34) and the real-time
 * ones included. */
START_TEST(signal_masks)
{
	uint64_t m = reap_async_mask();
	static const int kept[] = { SIGFPE, SIGILL,  SIGSEGV, SIGBUS,  SIGABRT, SIGTRAP,
				    SIGSYS, SIGTTIN, SIGTTOU, SIGKILL, SIGSTOP };
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		ck_assert_msg(!(m & REAP_BIT(kept[i])), "signal %d must not be blocked", kept[i]);
	for (int sig = 1; sig <= 64; sig++) {
		bool is_kept = false;
		for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
			is_kept |= kept[i] == sig;
		if (!is_kept)
			ck_assert_msg(m & REAP_BIT(sig), "signal %d must be forwarded", sig);
	}
	ck_assert(REAP_STOP_MASK == (REAP_BIT(SIGTERM) | REAP_BIT(SIGINT) | REAP_BIT(SIGQUIT)));
}
END_TEST

/* Before the app runs only TERM/INT/QUIT are read; others stay pending. */
static int stop_mask_child(uid_t u, gid_t g)
{
	(void)u;
	(void)g;
	uint64_t old;
	int fd = reap_setup(&old);
	if (fd < 0)
		return 1;
	raise(SIGUSR1);
	if (reap_read(fd) != 0)
		return 2; /* USR1 must not be read yet */
	raise(SIGTERM);
	if (reap_read(fd) != SIGTERM)
		return 3;
	if (reap_widen(fd) < 0 || reap_read(fd) != SIGUSR1)
		return 4; /* pending USR1 is read once the fd is widened */
	return 0;
}

START_TEST(stop_signals_first)
{
	ck_assert_int_eq(in_child(stop_mask_child, 0, 0), 0);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("privdrop");
	TCase *tc = tcase_create("privdrop");
	tcase_add_test(tc, drops_everything);
	tcase_add_test(tc, unprivileged_drop_fails);
	tcase_add_test(tc, invalid_ids);
	tcase_add_test(tc, exec_exit_codes);
	tcase_add_test(tc, spawn_sets_dir_and_status);
	tcase_add_test(tc, exit_code_mapping);
	tcase_add_test(tc, signal_masks);
	tcase_add_test(tc, stop_signals_first);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
