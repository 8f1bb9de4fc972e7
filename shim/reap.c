/* SPDX-License-Identifier: MIT */
/* PID-1 duties (tini): from the first instruction, block every asynchronous
 * signal and read them from a signalfd; forward them all (except SIGCHLD)
 * to the child; reap every zombie with waitpid(-1, WNOHANG); turn the
 * child's wait status into an exit code (128+signal when it was killed).
 * The synchronous signals stay unblocked, and TTIN/TTOU are ignored in the
 * shim and restored in the child, as tini does. Masks are the kernel's
 * 64-bit sets, set with the raw syscalls: a libc's sigset_t leaves out the
 * signals it reserves (32-34), and those must be forwarded too. The shim is
 * a child subreaper, so orphans come to it even when it is not PID 1. */
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

uint64_t reap_async_mask(void)
{
	static const int keep[] = { SIGFPE, SIGILL,  SIGSEGV, SIGBUS,  SIGABRT, SIGTRAP,
				    SIGSYS, SIGTTIN, SIGTTOU, SIGKILL, SIGSTOP };
	uint64_t m = ~0ull;
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		m &= ~REAP_BIT(keep[i]);
	return m;
}

static int mask_set(uint64_t mask, uint64_t *ret_old)
{
	return syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, ret_old, sizeof mask) < 0 ? -errno
											 : 0;
}

static int sigfd_set(int fd, uint64_t mask)
{
	int r = (int)syscall(SYS_signalfd4, fd, &mask, sizeof mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return r < 0 ? -errno : r;
}

int reap_setup(uint64_t *ret_old)
{
	int r = mask_set(reap_async_mask(), ret_old);
	if (r < 0)
		return r;
	/* The shim may run in a background process group: a terminal must
	 * not stop it (tini). The child gets the defaults back. */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	/* Orphans of the app come to us even when we are not PID 1 (tini -s). */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return sigfd_set(-1, REAP_STOP_MASK);
}

int reap_widen(int sigfd)
{
	int r = sigfd_set(sigfd, reap_async_mask());
	return r < 0 ? r : 0;
}

void reap_restore(uint64_t old_mask)
{
	signal(SIGTTIN, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	signal(SIGPIPE, SIG_DFL); /* ignored dispositions survive exec */
	(void)mask_set(old_mask, NULL);
}

int reap_read(int sigfd)
{
	struct signalfd_siginfo si;
	ssize_t n;
	while ((n = read(sigfd, &si, sizeof si)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}

int reap_children(pid_t child, int *ret_status)
{
	int st, found = 0;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0 || (p < 0 && errno == EINTR)) {
		if (p == child && child > 0) {
			*ret_status = st;
			found = 1;
		}
	}
	return found;
}

int reap_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return SHIM_EXIT_SYSTEM;
}
