/* SPDX-License-Identifier: MIT */
/* Helpers shared by the `keyhole` verbs (see util.h). Secret values read
 * here go straight into sodium_malloc memory and are wiped on free; they
 * are never printed, logged or put in argv/env. */
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "io.h"
#include "pin.h"
#include "proto.h"
#include "text.h"

/* Which file made ks_open fail: the store when it cannot be opened (or is
 * a directory), else the key file when it is used and cannot be, else the
 * store with ks_open's own error. Prints one line; returns the exit code. */
static int open_store_fail(const struct cli_ctx *ctx, bool key_used, int r)
{
	struct stat st;
	int fd;

	if (strstr(ctx->store, "://"))
		return cli_fail(r, "store %s", ctx->store);
	if (stat(ctx->store, &st) < 0) {
		int e = -errno;
		if (e == -ENOENT)
			return cli_fail(e,
					"store %s (create one with `keyhole init`, or give --store "
					"FILE)",
					ctx->store);
		return cli_fail(e, "store %s", ctx->store);
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"keyhole: store %s is a directory; --store takes the store file, "
			"e.g. %s/store.json\n",
			ctx->store, ctx->store);
		return CLI_EUSAGE;
	}
	if ((fd = open(ctx->store, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(-errno, "store %s", ctx->store);
	close(fd);
	/* blame the key file only for errors a key file can cause (a refused
	 * signature, say, is the store's) */
	if (key_used && ctx->key_file &&
	    (r == -ENOENT || r == -EACCES || r == -EPERM || r == -EKEYREJECTED)) {
		if ((fd = open(ctx->key_file, O_RDONLY | O_CLOEXEC)) < 0) {
			int e = -errno;
			fprintf(stderr, "keyhole: key file %s: %s%s\n", ctx->key_file, strerror(-e),
				e == -ENOENT ? " (give --key-file PATH or KEYHOLE_KEY_FILE)" : "");
			return cli_exit_code(e);
		}
		close(fd);
		if (r == -EPERM || r == -EACCES || r == -EKEYREJECTED)
			return cli_fail(r, "key file %s", ctx->key_file);
	}
	return cli_fail(r, "store %s", ctx->store);
}

const char *cli_writer_key(const struct cli_ctx *ctx)
{
	static char buf[4096];
	const char *env = getenv("KEYHOLE_WRITER_KEY");
	const char *slash = strrchr(ctx->key_file, '/');

	if (env && *env)
		return env;
	size_t dir = slash ? (size_t)(slash - ctx->key_file) : 0;

	if (!slash || dir + sizeof("/writer.key") > sizeof(buf))
		return "writer.key";
	memcpy(buf, ctx->key_file, dir);
	memcpy(buf + dir, "/writer.key", sizeof("/writer.key"));
	return buf;
}

const char *cli_trust_file(void)
{
	const char *env = getenv("KEYHOLE_WRITERS");

	return env && *env ? env : "/etc/keyhole/writers";
}

const char *cli_failed_check(int err)
{
	/* ks_strerror names the signature and rollback checks itself */
	return err == -EBADMSG ? "AEAD" : NULL;
}

/* Integrity options for a verb: writers sign; readers check signatures
 * (writers and listers too when this host has a trust file). */
static int sign_opts(struct cli_ctx *ctx, enum cli_key need, struct ks_sign_opts *so)
{
	const char *wk = cli_writer_key(ctx);
	struct ks_trusted *t = NULL;
	size_t n = 0;
	int r;

	if (need == CLI_KEY_REQUIRED || access(cli_trust_file(), F_OK) == 0) {
		so->trust_file = cli_trust_file();
		r = ks_trust_list(so->trust_file, &t, &n); /* its own error first */
		free(t);
		if (r < 0 && r != -ENOENT)
			return cli_fail(r, "trust file %s", so->trust_file);
	}
	if (need != CLI_KEY_IF_AVAIL)
		return 0;
	if (access(wk, F_OK) < 0) {
		fprintf(stderr,
			"keyhole: no writer key at %s: writes are signed. Pass --writer-key FILE,\n"
			"or make one with `keyhole writer new FILE` and have an admin pin it with\n"
			"`keyhole writer add LABEL --public KEY` (docs/cli.md)\n",
			wk);
		return CLI_EKEY;
	}
	so->writer_key = wk;
	return 0;
}

int cli_open_store_state(struct cli_ctx *ctx, enum cli_key need, const char *state_file,
			 struct ks_store **ret)
{
	struct ks_open_opts o = {
		.key_file = ctx->key_file,
		.passphrase_fd = ctx->passphrase_fd,
		.public_only = need == CLI_KEY_NONE,
	};
	struct ks_sign_opts so = { .state_file = state_file, .state_readonly = true };
	uint8_t pk[KS_PK_BYTES];
	int r = sign_opts(ctx, need, &so);

	if (r)
		return r;
	if (need == CLI_KEY_IF_AVAIL && !ctx->key_file_set && ctx->passphrase_fd < 0 &&
	    access(ctx->key_file, F_OK) < 0)
		o.public_only = true; /* no key here (CI, laptop): seal to the pk */
	r = ks_open_signed(ctx->store, &o, &so, ret);
	/* A passphrase store with no passphrase given: writers still seal. */
	if (r == -ENOTTY && need == CLI_KEY_IF_AVAIL) {
		o.public_only = true;
		r = ks_open_signed(ctx->store, &o, &so, ret);
	}
	if (r == -EINVAL && !o.public_only && !o.key_file)
		return cli_fail(r, "%s: no key file given", ctx->store);
	if (r == -ENOKEY && access(so.trust_file, F_OK) < 0)
		return cli_fail(r, "%s: no trust file %s", ctx->store, so.trust_file);
	if (r < 0)
		return open_store_fail(ctx, !o.public_only && ctx->passphrase_fd < 0, r);
	if (ks_format_version(*ret) < 2)
		fprintf(stderr,
			"keyhole: warning: %s is format 1 (records unsigned): run "
			"`keyhole migrate --sign`\n",
			ctx->store);
	/* Without the private key nothing proves the recorded public key is
	 * the store's own: check it against the pinned fingerprint. */
	if (need == CLI_KEY_IF_AVAIL && o.public_only) {
		ks_public_key(*ret, pk);
		r = cli_pin_check(ks_store_id(*ret), pk);
		if (r) {
			ks_close(*ret);
			*ret = NULL;
			return r;
		}
	}
	return 0;
}

int cli_open_store(struct cli_ctx *ctx, enum cli_key need, struct ks_store **ret)
{
	return cli_open_store_state(ctx, need, NULL, ret);
}

int cli_check_name(const char *verb, const char *name)
{
	char why[160], shown[300];

	if (!proto_secret_name_problem(name, why, sizeof(why)))
		return 0;
	fprintf(stderr, "keyhole: %s: invalid secret name '%s': %s\n", verb,
		text_safe(name, shown, sizeof(shown)), why);
	return CLI_EUSAGE;
}

int cli_empty_refused(const char *verb, const char *name)
{
	fprintf(stderr,
		"keyhole: %s %s: the value on stdin is empty (an unset variable?); "
		"give --allow-empty to store an empty value\n",
		verb, name);
	return CLI_EUSAGE;
}

int cli_value_fail(int err, const char *verb, const char *name)
{
	if (err == -EFBIG) {
		fprintf(stderr,
			"keyhole: %s %s: the value is larger than the limit of %u bytes "
			"(1 MiB)\n",
			verb, name, (unsigned)KS_MAX_VALUE);
		return CLI_EUSAGE;
	}
	return cli_fail(err, "%s %s: reading the value", verb, name);
}

void cli_secret_free(uint8_t *p, size_t len)
{
	if (p) {
		sodium_memzero(p, len);
		sodium_free(p);
	}
}

static int read_secret(int fd, size_t cap, uint8_t **ret, size_t *ret_len)
{
	uint8_t *buf = sodium_malloc(cap + 1);
	size_t have = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = io_read_some(fd, buf + have, cap + 1 - have);
		if (n < 0) {
			cli_secret_free(buf, cap + 1);
			return (int)n;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > cap) {
			cli_secret_free(buf, cap + 1);
			return -EFBIG;
		}
	}
	*ret = buf;
	*ret_len = have;
	return 0;
}

/* A value typed at a terminal is not echoed (end it with Ctrl-D). */
int cli_read_secret_fd(int fd, size_t cap, uint8_t **ret, size_t *ret_len)
{
	struct termios old, quiet;
	int r;

	if (!isatty(fd) || tcgetattr(fd, &old) < 0)
		return read_secret(fd, cap, ret, ret_len);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	fputs("value (not echoed; end with Ctrl-D): ", stderr);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
		return -errno;
	r = read_secret(fd, cap, ret, ret_len);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return r;
}

bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

int cli_parse_json_flag(const char *verb, int argc, char **argv, bool *json)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	int c;

	*json = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error(verb, "bad option %s", argv[optind - 1]);
		*json = true;
	}
	return 0;
}

/* The running verb's usage text, set by main before it runs the verb: util
 * never looks verbs up itself (main owns the verb table; calls go one way). */
static const char *usage_verb, *usage_text;

void cli_usage_set(const char *verb, const char *usage)
{
	usage_verb = verb;
	usage_text = usage;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "keyhole: %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (usage_text && usage_verb && strcmp(usage_verb, verb) == 0)
		fprintf(stderr, "%s", usage_text);
	return CLI_EUSAGE;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int cli_print_json(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int r = CLI_OK;

	json_decref(o);
	if (!s)
		return cli_fail(-ENOMEM, "json");
	if (puts(s) == EOF || fflush(stdout) == EOF)
		r = cli_fail(-errno, "stdout");
	free(s);
	return r;
}

void cli_fmt_time(time_t t, char buf[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)t);
}

const char *cli_plural(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

const char *cli_config_get(const struct cli_ctx *ctx, const char *key, char *buf, size_t n)
{
	cleanup_free char *text = NULL;
	struct config *cf = NULL;
	const char *found = NULL;
	char err[128];
	size_t len = 0;

	if (cli_read_small_file(ctx->config, CONFIG_MAX_BYTES, &text, &len) < 0 ||
	    config_parse(text, len, &cf, err, sizeof(err)) < 0)
		return NULL;
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->v[i].key, key) == 0 &&
		    (size_t)snprintf(buf, n, "%s", cf->v[i].value) < n)
			found = buf;
	config_free(cf);
	return found;
}

const char *cli_audit_path(const struct cli_ctx *ctx, char *buf, size_t n)
{
	if (ctx->audit_log && *ctx->audit_log)
		return ctx->audit_log;
	if (cli_config_get(ctx, "audit-log", buf, n))
		return buf;
	return access(KH_DEFAULT_AUDIT_LOG, F_OK) == 0 ? KH_DEFAULT_AUDIT_LOG : NULL;
}

void cli_audit(const struct cli_ctx *ctx, enum audit_decision d, const char *secret,
	       uint64_t version, const char *detail)
{
	struct peer me = { .pid = getpid(), .uid = getuid(), .gid = getgid(), .pidfd = -1 };
	struct policy_identity id = { .peer = &me };
	char pbuf[4096], why[300];
	const char *path = cli_audit_path(ctx, pbuf, sizeof(pbuf));
	struct audit *au = NULL;
	int r;

	if (!path || strcmp(path, "-") == 0)
		return;
	snprintf(why, sizeof(why), "keyhole %s by uid %u%s%s", audit_decision_name(d),
		 (unsigned)me.uid, detail ? ": " : "", detail ? detail : "");
	r = audit_open(path, &au);
	if (r == 0) {
		r = audit_write(au, &(struct audit_event){ .id = &id,
							   .secret = secret,
							   .version = version,
							   .decision = d,
							   .reason = why });
		audit_close(au);
	}
	if (r < 0)
		fprintf(stderr, "keyhole: warning: audit log %s: %s (the change itself is done)\n",
			path, strerror(-r));
}
