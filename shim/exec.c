/* SPDX-License-Identifier: MIT */
/* Starting the app (tini spawn): restore the signal state the shim was
 * started with, drop privileges, export KEYHOLE_DIR and execvpe. Secret
 * values are never put in argv or the environment; only the directory is.
 * The environment is copied into mmap'd pages (no setenv: the static shim
 * links no malloc). Exit codes: 127 not found, 126 not executable, 111
 * other. */
#include "shim.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

#define ENV_KEY "KEYHOLE_DIR="

/* environ without KEYHOLE_DIR, plus KEYHOLE_DIR=dir. */
static char **make_env(const char *dir, size_t *ret_bytes)
{
	size_t n = 0, dl = strlen(dir);
	for (char **e = environ; e && *e; e++)
		n++;
	size_t bytes = (n + 2) * sizeof(char *) + sizeof ENV_KEY + dl;
	char **env = mem_alloc(bytes);
	if (!env)
		return NULL;
	char *kv = (char *)(env + n + 2);
	memcpy(kv, ENV_KEY, sizeof ENV_KEY - 1);
	memcpy(kv + sizeof ENV_KEY - 1, dir, dl + 1);
	size_t k = 0;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, ENV_KEY, sizeof ENV_KEY - 1))
			env[k++] = *e;
	env[k++] = kv;
	env[k] = NULL;
	*ret_bytes = bytes;
	return env;
}

int exec_cmd(const struct shim_opts *o, uint64_t old_mask, int *ret_err)
{
	size_t bytes = 0;
	int r;
	reap_restore(old_mask);
	if (o->have_user && (r = privdrop(o->uid, o->gid)) < 0) {
		*ret_err = -r;
		return SHIM_EXIT_SYSTEM;
	}
	char **env = make_env(o->dir, &bytes);
	if (!env) {
		*ret_err = ENOMEM;
		return SHIM_EXIT_SYSTEM;
	}
	execvpe(o->cmd[0], o->cmd, env);
	int e = errno;
	mem_free(env, bytes);
	*ret_err = e;
	return e == ENOENT || e == ENOTDIR ? SHIM_EXIT_NOTFOUND : SHIM_EXIT_NOEXEC;
}

pid_t exec_spawn(const struct shim_opts *o, uint64_t old_mask)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	int err = 0;
	int code = exec_cmd(o, old_mask, &err);
	/* The parent only sees the exit code; say why once, here. */
	char msg[512];
	size_t n =
		fmt_snprintf(msg, sizeof msg, "keyhole-shim: %s: %s\n", o->cmd[0], strerror(err));
	(void)!write(2, msg, n < sizeof msg ? n : sizeof msg - 1);
	_exit(code);
}
