/* SPDX-License-Identifier: MIT */
/* Starting the app (tini spawn): restore the signal state the shim was
 * started with, drop privileges, export KEYHOLE_DIR (and, for grants that
 * say so, env_file paths and opt-in env values) and execvpe. Secret values
 * are never put in argv, and in the environment only for an "env" grant:
 * the envp copy becomes the new image's, the shim's copy is wiped first.
 * The environment is copied into mmap'd pages (no setenv: the static shim
 * links no malloc). Exit codes: 127 not found, 126 not executable, 111
 * other. */
#include "shim.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"

#define ENV_KEY "KEYHOLE_DIR="

/* Is the environ entry e ("NAME=...") one the shim sets itself? */
static bool replaced(const char *e, const struct shim_set *set)
{
	size_t n = strcspn(e, "=");
	if (!strncmp(e, ENV_KEY, sizeof ENV_KEY - 1))
		return true;
	for (size_t i = 0; set && i < set->n; i++) {
		const struct shim_secret *s = &set->s[i];
		if (((s->delivery & PROTO_D_ENV) && strlen(s->env) == n &&
		     !strncmp(e, s->env, n)) ||
		    ((s->delivery & PROTO_D_ENV_FILE) && strlen(s->env_file) == n &&
		     !strncmp(e, s->env_file, n)))
			return true;
	}
	return false;
}

/* Bytes of the strings the set adds ("NAME=value\0", "NAME=DIR/file\0"). */
static size_t vars_bytes(const char *dir, const struct shim_set *set, size_t *ret_n)
{
	size_t b = 0, n = 0;
	for (size_t i = 0; set && i < set->n; i++) {
		const struct shim_secret *s = &set->s[i];
		if (s->delivery & PROTO_D_ENV)
			b += strlen(s->env) + 2 + s->value_len, n++;
		if (s->delivery & PROTO_D_ENV_FILE)
			b += strlen(s->env_file) + 3 + strlen(dir) + strlen(s->file), n++;
	}
	*ret_n = n;
	return b;
}

/* Write "a=b" (b of blen bytes, or the string c after a '/' when c) at p. */
static char *put_var(char *p, const char *a, const char *b, size_t blen, const char *c)
{
	char *start = p;
	size_t al = strlen(a);
	memcpy(p, a, al);
	p += al;
	*p++ = '=';
	memcpy(p, b, blen);
	p += blen;
	if (c) {
		*p++ = '/';
		memcpy(p, c, strlen(c));
		p += strlen(c);
	}
	*p = '\0';
	return start;
}

char **exec_make_env(char **environ_in, const char *dir, const struct shim_set *set,
		     size_t *ret_bytes)
{
	size_t n = 0, nv = 0, dl = strlen(dir);
	for (char **e = environ_in; e && *e; e++)
		n++;
	size_t vb = vars_bytes(dir, set, &nv);
	size_t bytes = (n + nv + 2) * sizeof(char *) + sizeof ENV_KEY + dl + vb;
	char **env = mem_secret_alloc(bytes);
	if (!env)
		return NULL;
	char *p = (char *)(env + n + nv + 2);
	size_t k = 0;
	for (char **e = environ_in; e && *e; e++)
		if (!replaced(*e, set))
			env[k++] = *e;
	env[k++] = put_var(p, "KEYHOLE_DIR", dir, dl, NULL);
	p += sizeof ENV_KEY + dl;
	for (size_t i = 0; set && i < set->n; i++) {
		const struct shim_secret *s = &set->s[i];
		if (s->delivery & PROTO_D_ENV) {
			env[k++] = put_var(p, s->env, (const char *)s->value, s->value_len, NULL);
			p += strlen(s->env) + 2 + s->value_len;
		}
		if (s->delivery & PROTO_D_ENV_FILE) {
			env[k++] = put_var(p, s->env_file, dir, dl, s->file);
			p += strlen(s->env_file) + 3 + dl + strlen(s->file);
		}
	}
	env[k] = NULL;
	*ret_bytes = bytes;
	return env;
}

/* dir made absolute (a relative --dir is taken from the cwd) into buf.
 * The raw syscall: musl's getcwd() links malloc (strdup), which the static
 * shim does without. */
static const char *abs_dir(const char *dir, char *buf, size_t cap)
{
	if (dir[0] == '/' || syscall(SYS_getcwd, buf, cap - 1) <= 0 || buf[0] != '/')
		return dir;
	size_t n = strlen(buf), dl = strlen(dir);
	if (n + 1 + dl >= cap)
		return dir;
	buf[n] = '/';
	memcpy(buf + n + 1, dir, dl + 1);
	return buf;
}

int exec_cmd(const struct shim_opts *o, struct shim_set *set, uint64_t old_mask, int *ret_err)
{
	char dirbuf[8192];
	size_t bytes = 0;
	int r;
	reap_restore(old_mask);
	if (o->have_user && (r = privdrop(o->uid, o->gid)) < 0) {
		if (set)
			set_free(set);
		*ret_err = -r;
		return SHIM_EXIT_SYSTEM;
	}
	char **env = exec_make_env(environ, abs_dir(o->dir, dirbuf, sizeof dirbuf), set, &bytes);
	if (set)
		set_free(set); /* the values now live only in env: the new image's */
	if (!env) {
		*ret_err = ENOMEM;
		return SHIM_EXIT_SYSTEM;
	}
	execvpe(o->cmd[0], o->cmd, env);
	int e = errno;
	mem_secret_free(env, bytes);
	*ret_err = e;
	return e == ENOENT || e == ENOTDIR ? SHIM_EXIT_NOTFOUND : SHIM_EXIT_NOEXEC;
}

pid_t exec_spawn(const struct shim_opts *o, struct shim_set *set, uint64_t old_mask)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	int err = 0;
	int code = exec_cmd(o, set, old_mask, &err); /* wipes the child's copy */
	/* The parent only sees the exit code; say why once, here. */
	char msg[512];
	size_t n =
		fmt_snprintf(msg, sizeof msg, "keyhole-shim: %s: %s\n", o->cmd[0], strerror(err));
	(void)!write(2, msg, n < sizeof msg ? n : sizeof msg - 1);
	_exit(code);
}
