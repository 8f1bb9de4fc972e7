/* SPDX-License-Identifier: MIT */
/* peer_attest over a socketpair and a real unix socket: our own process,
 * a forked child, a child that dials and exits before attestation (must be
 * refused, never mistaken), a comm holding ") (" and spaces, pid namespaces. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "peer.h"

/* Independent start-time read: sscanf over the fields after the last ')'. */
static unsigned long long starttime_of(pid_t pid)
{
	char path[64], buf[4096];
	unsigned long long st = 0;
	FILE *f;
	size_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 1,
				" %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d"
				" %*d %*d %*d %*d %llu",
				&st),
			 1);
	return st;
}

START_TEST(test_self_socketpair)
{
	int sv[2];
	struct peer p;
	struct cg_identity cg;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(peer_attest(sv[0], &p), 0);
	ck_assert_int_eq(p.pid, getpid());
	ck_assert_uint_eq(p.uid, getuid());
	ck_assert_uint_eq(p.gid, getgid());
	ck_assert_int_ge(p.pidfd, 0);
	/* start time is only read (and needed) without SO_PEERPIDFD */
	ck_assert_uint_eq(p.starttime, p.via_peerpidfd ? 0 : starttime_of(getpid()));
	ck_assert_int_eq(peer_read_cgroup(getpid(), &cg), 0);
	ck_assert_int_eq(p.cg.runtime, cg.runtime);
	ck_assert_str_eq(p.cg.path, cg.path);
	ck_assert_int_eq(peer_check_alive(&p), 0);
	peer_release(&p);
	ck_assert_int_eq(p.pidfd, -1);
	peer_release(&p); /* idempotent */
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A listening socket at a unique path; returns the fd. */
static int listen_unique(struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/tmp/kh-check-peer.%d.%ld", (int)getpid(),
		 random());
	unlink(sa->sun_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

/* Fork a child that sets its comm, dials, writes one byte, then waits
 * for the parent to close its end of the pipe (or exits at once). */
static pid_t dial_child(const struct sockaddr_un *sa, const char *comm, bool exit_now, int *hold)
{
	int pp[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		char b;

		close(pp[1]);
		if (comm)
			prctl(PR_SET_NAME, comm);
		if (c < 0 || connect(c, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
			_exit(2);
		if (exit_now)
			_exit(0);
		(void)!read(pp[0], &b, 1);
		_exit(0);
	}
	close(pp[0]);
	*hold = pp[1];
	return pid;
}

START_TEST(test_child_then_exit)
{
	struct sockaddr_un sa;
	int l = listen_unique(&sa), c, hold, st;
	pid_t pid = dial_child(&sa, "a) b (c) d", false, &hold);
	struct peer p;

	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(peer_attest(c, &p), 0);
	ck_assert_int_eq(p.pid, pid);
	ck_assert_uint_eq(p.starttime, p.via_peerpidfd ? 0 : starttime_of(pid));
	ck_assert_int_eq(peer_check_alive(&p), 0);
	close(hold); /* child exits */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(peer_check_alive(&p), -ESRCH);
	peer_release(&p);
	close(c);
	close(l);
	unlink(sa.sun_path);
}
END_TEST

/* Dial then exit before we attest: zombie first, then reaped. */
START_TEST(test_dying_peer)
{
	struct sockaddr_un sa;
	int l = listen_unique(&sa), c, hold, st;
	pid_t pid = dial_child(&sa, NULL, true, &hold);
	siginfo_t si;
	struct peer p = { .pidfd = -1 };

	/* wait until it has exited, but leave it a zombie */
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(peer_attest(c, &p), -ESRCH);
	ck_assert_int_eq(p.pidfd, -1);		     /* untouched */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid); /* reaped now */
	ck_assert_int_eq(peer_attest(c, &p), -ESRCH);
	close(c);
	close(hold);
	close(l);
	unlink(sa.sun_path);
}
END_TEST

START_TEST(test_read_cgroup_gone)
{
	struct cg_identity cg;
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(peer_read_cgroup(pid, &cg), -ESRCH);
	ck_assert_int_eq(peer_read_cgroup(0, &cg), -ESRCH);
}
END_TEST

START_TEST(test_same_pidns_basic)
{
	ck_assert_int_eq(peer_same_pidns(getpid(), getpid()), 1);
	ck_assert_int_eq(peer_same_pidns(getpid(), getppid()), 1);
	ck_assert_int_eq(peer_same_pidns(getpid(), 0), -ESRCH);
}
END_TEST

/* A new pid namespace needs root. */
START_TEST(test_same_pidns)
{
	int pp[2], st;
	pid_t pid, inner = 0;

	ck_assert_int_eq(peer_same_pidns(getpid(), getpid()), 1);
	ck_assert_int_eq(peer_same_pidns(getpid(), getppid()), 1);
	ck_assert_int_eq(peer_same_pidns(getpid(), 0), -ESRCH);
	ck_assert_int_eq(pipe(pp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t g;

		if (unshare(CLONE_NEWPID) < 0)
			_exit(1);
		g = fork();
		if (g == 0) {
			pause();
			_exit(0);
		}
		(void)!write(pp[1], &g, sizeof(g));
		waitpid(g, NULL, 0);
		_exit(0);
	}
	close(pp[1]);
	ck_assert_int_eq(read(pp[0], &inner, sizeof(inner)), (ssize_t)sizeof(inner));
	close(pp[0]);
	ck_assert_int_gt(inner, 0);
	ck_assert_int_eq(peer_same_pidns(getpid(), inner), 0);
	ck_assert_int_eq(peer_same_pidns(inner, inner), 1);
	kill(inner, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}
END_TEST

/* peer_host_ns: this process shares all three with itself; a child that
 * unshared its ipc and network namespaces (root) shares only pid. */
START_TEST(test_host_ns)
{
	int pp[2], st;
	char c;
	pid_t pid;

	ck_assert_int_eq(peer_host_ns(getpid()), PEER_NS_PID | PEER_NS_IPC | PEER_NS_NET);
	ck_assert_int_eq(peer_host_ns(0), -ESRCH);
	ck_assert_int_eq(pipe(pp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pp[0]);
		if (unshare(CLONE_NEWIPC | CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(pp[1], "x", 1);
		pause();
		_exit(0);
	}
	close(pp[1]);
	ck_assert_int_eq(read(pp[0], &c, 1), 1);
	close(pp[0]);
	ck_assert_int_eq(peer_host_ns(pid), PEER_NS_PID);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(peer_host_ns(pid), -ESRCH);
}
END_TEST

/* Keep this test last: with CK_FORK=no the filter stays for the process.
 * Pretend to be a pre-6.5 kernel: getsockopt(SO_PEERPIDFD = 77) fails with
 * ENOPROTOOPT (seccomp; Check runs each test in its own process). */
static void hide_peerpidfd(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getsockopt, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 77, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOPROTOOPT),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

START_TEST(test_fallback_pidfd_open)
{
	struct sockaddr_un sa;
	int l, c, hold, st;
	pid_t pid;
	struct peer p;
	siginfo_t si;

	hide_peerpidfd();
	l = listen_unique(&sa);
	pid = dial_child(&sa, "a) b (c) d", false, &hold); /* stat parsed from the last ) */
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(peer_attest(c, &p), 0);
	ck_assert(!p.via_peerpidfd);
	{
		/* a pidfd whenever pidfd_open works here (not under valgrind) */
		int probe = pidfd_open(getpid(), 0);

		if (probe >= 0) {
			close(probe);
			ck_assert_int_ge(p.pidfd, 0);
		} else {
			ck_assert_int_eq(p.pidfd, -1);
		}
	}
	ck_assert_int_eq(p.pid, pid);
	ck_assert_uint_eq(p.starttime, starttime_of(pid));
	close(hold);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(peer_check_alive(&p), -ESRCH);
	peer_release(&p);
	close(c);
	/* dial then exit, left a zombie: refused on this path too */
	pid = dial_child(&sa, NULL, true, &hold);
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_eq(peer_attest(c, &p), -ESRCH);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(c);
	close(hold);
	close(l);
	unlink(sa.sun_path);
}
END_TEST

static Suite *peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("attest"), *root = tcase_create("root");

	tcase_add_test(tc, test_self_socketpair);
	tcase_add_test(tc, test_child_then_exit);
	tcase_add_test(tc, test_dying_peer);
	tcase_add_test(tc, test_read_cgroup_gone);
	tcase_add_test(tc, test_same_pidns_basic);
	tcase_add_test(tc, test_fallback_pidfd_open);
	suite_add_tcase(s, tc);
	tcase_add_test(root, test_same_pidns);
	tcase_add_test(root, test_host_ns);
	check_add_root_tcase(s, root, "peer/root", 1);
	return s;
}

CHECK_MAIN(peer_suite)
