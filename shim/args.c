/* SPDX-License-Identifier: MIT */
/* Command-line parsing for keyhole-shim. argv comes from the image's
 * ENTRYPOINT/CMD, i.e. from whoever built the image: parse strictly, numeric
 * ids only (no NSS in a static binary), every name validated with the same
 * validators the agent uses. No logging; errors go back as text. */
#include "shim.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "fmt.h"

struct signame {
	const char *name;
	int sig;
};

static const struct signame signames[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },	  { "QUIT", SIGQUIT },	 { "TERM", SIGTERM },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "WINCH", SIGWINCH }, { "KILL", SIGKILL },
	{ "CONT", SIGCONT }, { "ALRM", SIGALRM }, { "PWR", SIGPWR },	 { "TSTP", SIGTSTP },
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen)
		fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Decimal in [0, max], no sign, no junk, at most 10 digits. */
static int parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long long v = 0;
	size_t n = 0;
	if (!s || !s[0])
		return -EINVAL;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 10)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = (unsigned long)v;
	return 0;
}

int args_signal(const char *s)
{
	unsigned long v;
	if (!strcmp(s, "restart"))
		return 0;
	if (parse_ulong(s, 64, &v) == 0)
		return v >= 1 ? (int)v : -EINVAL;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++)
		if (!strcmp(s, signames[i].name))
			return signames[i].sig;
	return -EINVAL;
}

/* UID[:GID]; GID defaults to UID. 0xffffffff is (uid_t)-1, refused. */
static int parse_user(const char *s, struct shim_opts *o)
{
	char buf[32];
	unsigned long u, g;
	size_t n = strlen(s);
	if (n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, n + 1);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (parse_ulong(buf, 0xfffffffeUL, &u) < 0)
		return -EINVAL;
	g = u;
	if (colon && parse_ulong(colon + 1, 0xfffffffeUL, &g) < 0)
		return -EINVAL;
	o->have_user = true;
	o->uid = (uid_t)u;
	o->gid = (gid_t)g;
	return 0;
}

static int add_want(struct shim_opts *o, char *arg, bool optional, char *err, size_t errlen)
{
	char *eq = optional ? NULL : strchr(arg, '=');
	if (o->n_want >= PROTO_MAX_NAMES)
		return fail(err, errlen, "at most %u --secret/--optional", PROTO_MAX_NAMES);
	if (eq) {
		*eq = '\0';
		if (!proto_file_name_valid(eq + 1))
			return fail(err, errlen, "invalid file name for secret '%s'", arg);
	}
	if (!proto_secret_name_valid(arg))
		return fail(err, errlen, "invalid secret name '%s'", arg);
	for (size_t i = 0; i < o->n_want; i++) {
		if (!strcmp(o->want[i].name, arg))
			return fail(err, errlen, "secret '%s' named twice", arg);
		if (eq && o->want[i].file && !strcmp(o->want[i].file, eq + 1))
			return fail(err, errlen, "file '%s' named twice", eq + 1);
	}
	o->want[o->n_want].name = arg;
	o->want[o->n_want].file = eq ? eq + 1 : NULL;
	o->want[o->n_want].optional = optional;
	o->n_want++;
	return 0;
}

static int opt_value(int argc, char **argv, int *i, const char *opt, char **ret)
{
	size_t n = strlen(opt);
	if (!strcmp(argv[*i], opt)) {
		if (*i + 1 >= argc)
			return -EINVAL;
		*ret = argv[++*i];
		return 1;
	}
	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=') {
		*ret = argv[*i] + n + 1;
		return 1;
	}
	return 0;
}

static int parse_rotate(const char *v, struct shim_opts *o, char *err, size_t errlen)
{
	int sig = strcmp(v, "none") ? args_signal(v) : 0;
	if (sig < 0)
		return fail(err, errlen,
			    "--on-rotate: unknown signal '%s' (HUP, USR1, 10, none, restart)", v);
	o->rotate_given = true;
	o->rotate = !strcmp(v, "none") ? SHIM_ROTATE_NONE
		    : sig == 0	       ? SHIM_ROTATE_RESTART
				       : SHIM_ROTATE_SIGNAL;
	o->rotate_signal = sig;
	return 0;
}

static int parse_seconds(const char *opt, const char *v, unsigned *ret, char *err, size_t errlen)
{
	unsigned long n;
	if (parse_ulong(v, SHIM_MAX_TIMEOUT, &n) < 0)
		return fail(err, errlen, "%s wants 0..%u seconds", opt, SHIM_MAX_TIMEOUT);
	*ret = (unsigned)n;
	return 0;
}

static int parse_flag(const char *a, struct shim_opts *o)
{
	if (!strcmp(a, "--watch"))
		o->watch = true;
	else if (!strcmp(a, "--allow-disk"))
		o->allow_disk = true;
	else if (!strcmp(a, "--allow-none"))
		o->allow_none = true;
	else if (!strcmp(a, "--version"))
		o->version = true;
	else
		return 0;
	return 1;
}

static int parse_one(int argc, char **argv, int *i, struct shim_opts *o, char *err, size_t errlen)
{
	static const char *const valued[] = { "--socket",  "--dir",	    "--user",
					      "--secret",  "--optional",    "--on-rotate",
					      "--timeout", "--stop-timeout" };
	const char *a = argv[*i];
	char *v = NULL;

	if (parse_flag(a, o))
		return 0;
	for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
		int r = opt_value(argc, argv, i, valued[k], &v);
		if (r < 0)
			return fail(err, errlen, "%s needs a value", valued[k]);
		if (r == 0)
			continue;
		switch (k) {
		case 0: o->socket_path = v; return v[0] ? 0 : fail(err, errlen, "empty --socket");
		case 1:
			o->dir = v;
			return v[0] && strlen(v) < 4096 ? 0 : fail(err, errlen, "bad --dir");
		case 2:
			return parse_user(v, o)
				       ? fail(err, errlen, "--user wants UID[:GID] (numeric)")
				       : 0;
		case 3: return add_want(o, v, false, err, errlen);
		case 4: return add_want(o, v, true, err, errlen);
		case 5: return parse_rotate(v, o, err, errlen);
		case 6: return parse_seconds("--timeout", v, &o->timeout_s, err, errlen);
		default: return parse_seconds("--stop-timeout", v, &o->stop_timeout_s, err, errlen);
		}
	}
	return fail(err, errlen, "unknown option '%s'", a);
}

int args_parse(int argc, char **argv, const char *env_socket, const char *env_dir,
	       struct shim_opts *ret, char *err, size_t errlen)
{
	struct shim_opts o;
	int i;

	memset(&o, 0, sizeof o);
	o.socket_path = env_socket && env_socket[0] ? env_socket : SHIM_DEFAULT_SOCKET;
	o.dir = env_dir && env_dir[0] ? env_dir : SHIM_DEFAULT_DIR;
	o.rotate = SHIM_ROTATE_NONE;
	o.stop_timeout_s = SHIM_DEFAULT_STOP_TIMEOUT;
	o.timeout_s = 10;
	o.proto = PROTO_VERSION;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (parse_one(argc, argv, &i, &o, err, errlen) < 0)
			return -EINVAL;
	}
	if (o.version) {
		*ret = o;
		return 0;
	}
	if (i >= argc || i + 1 >= argc)
		return fail(err, errlen, "missing '-- CMD [ARG...]'");
	o.cmd = argv + i + 1;
	if (!o.cmd[0][0])
		return fail(err, errlen, "empty CMD");
	*ret = o;
	return 0;
}
