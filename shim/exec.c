// SPDX-License-Identifier: MIT
/* Starting the app (tini spawn): in the child, restore the signal mask and
 * default dispositions, drop privileges, export KEYHOLE_DIR and execvp.
 * Secret values are never put in argv or the environment; only the
 * directory is. Exit codes: 127 not found, 126 not executable, 111 other. */
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int exec_cmd(const struct shim_opts *o, int *ret_err)
{
	int r;
	signal(SIGPIPE, SIG_DFL); /* ignored dispositions survive exec */
	if (o->have_user && (r = privdrop(o->uid, o->gid)) < 0) {
		*ret_err = -r;
		return SHIM_EXIT_SYSTEM;
	}
	if (setenv("KEYHOLE_DIR", o->dir, 1) < 0) {
		*ret_err = errno;
		return SHIM_EXIT_SYSTEM;
	}
	execvp(o->cmd[0], o->cmd);
	*ret_err = errno;
	return errno == ENOENT || errno == ENOTDIR ? SHIM_EXIT_NOTFOUND : SHIM_EXIT_NOEXEC;
}

pid_t exec_spawn(const struct shim_opts *o, const sigset_t *child_mask)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	/* Child: handlers are not inherited across exec, but ignored
	 * dispositions are; reset the ones the parent may have set. */
	for (size_t i = 0; i < reap_n_forward; i++)
		signal(reap_forward_signals[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, child_mask, NULL);
	int err = 0;
	int code = exec_cmd(o, &err);
	/* The parent only sees the exit code; say why once, here. */
	char msg[512];
	int n = snprintf(msg, sizeof msg, "keyhole-shim: %s: %s\n", o->cmd[0], strerror(err));
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	_exit(code);
}
