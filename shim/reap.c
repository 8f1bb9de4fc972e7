// SPDX-License-Identifier: MIT
/* PID-1 duties (tini): block the asynchronous signals and read them from a
 * signalfd, forward the listed ones to the child, reap every zombie with
 * waitpid(-1, WNOHANG), and turn the child's wait status into an exit code
 * (128+signal when it was killed). Synchronous signals stay unblocked. The
 * shim is made a child subreaper, so this also holds when it is not PID 1. */
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

const int reap_forward_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
				     SIGUSR1, SIGUSR2, SIGWINCH };
const size_t reap_n_forward = sizeof reap_forward_signals / sizeof reap_forward_signals[0];

int reap_setup(sigset_t *ret_old)
{
	static const int sync_sigs[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT,
					 SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU };
	sigset_t all;
	sigfillset(&all);
	for (size_t i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++)
		sigdelset(&all, sync_sigs[i]);
	/* Orphans of the app come to us even when we are not PID 1 (tini -s). */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (sigprocmask(SIG_SETMASK, &all, ret_old) < 0)
		return -errno;
	int fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
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
