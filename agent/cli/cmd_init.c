/* SPDX-License-Identifier: MIT */
/* `keyhole init`: create a store (random id, X25519 key pair). The private
 * key goes to --key-file (0400) or, with --passphrase, into the store under
 * an Argon2id-derived key. The first writer key (writer.key next to the key
 * file, 0400) signs the store's meta and is pinned in the trust file.
 * Never overwrites a store or key file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole [--store PATH] [--key-file PATH] init\n"
	"       keyhole [--store PATH] [--passphrase-fd N] init --passphrase\n\n"
	"Create a new, empty store with a random store id and an X25519 key pair.\n"
	"By default the private key is written to the key file (mode 0400; default\n"
	"/var/lib/keyhole/agent.key). With --passphrase (or --passphrase-fd N) it is\n"
	"kept inside the store, encrypted under a key derived with Argon2id from a\n"
	"passphrase read from the terminal (asked twice) or from fd N.\n"
	"The first writer key is made next to the key file (writer.key, mode 0400;\n"
	"--writer-key FILE elsewhere; an existing one is reused). It signs the\n"
	"store and is pinned as \"admin\" in the trust file (/etc/keyhole/writers,\n"
	"--writers FILE), which keyholed and `keyhole get` trust.\n"
	"Refuses to overwrite an existing store or key file (exit 4).\n"
	"Missing directories are created: the store's and the key file's 0700\n"
	"(/var/lib/keyhole), and /etc/keyhole 0755 for the policy when the store\n"
	"is the default one.\n";

/* mkdir -p dir: missing parents 0755, dir itself `mode`; says what it made.
 * 0, or the exit code after printing which directory failed. */
static int make_dir(const char *dir, mode_t mode)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return n ? cli_fail(-ENAMETOOLONG, "init: %s", dir) : 0;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1;; s++) {
		bool last = *s == '\0';
		if (*s != '/' && !last)
			continue;
		*s = '\0';
		if (mkdir(p, last ? mode : 0755) == 0) {
			if (chmod(p, last ? mode : 0755) < 0) /* umask */
				return cli_fail(-errno, "init: chmod %s", p);
			printf("created %s (%04o)\n", p, (unsigned)(last ? mode : 0755));
		} else if (errno != EEXIST) {
			return cli_fail(-errno, "init: creating directory %s", p);
		}
		if (last)
			return 0;
		*s = '/';
	}
}

/* The directory part of path ("." for a bare name), in buf. */
static const char *dir_of(const char *path, char buf[4096])
{
	const char *sl = strrchr(path, '/');
	size_t n = sl ? (size_t)(sl - path) : 0;

	if (!sl || n >= 4096)
		return ".";
	memcpy(buf, path, n);
	buf[n ? n : 1] = '\0';
	if (!n)
		buf[0] = '/';
	return buf;
}

static int make_dirs(const struct cli_ctx *ctx, bool pass)
{
	char b[4096];
	int r = 0;

	if (!strstr(ctx->store, "://"))
		r = make_dir(dir_of(ctx->store, b), 0700);
	if (r == 0 && !pass)
		r = make_dir(dir_of(ctx->key_file, b), 0700);
	if (r == 0 && strcmp(ctx->store, KH_DEFAULT_STORE) == 0)
		r = make_dir(KH_CONFIG_DIR, 0755);
	return r;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "passphrase", no_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	bool pass = ctx->passphrase_fd >= 0;
	struct ks_init_opts o = { .passphrase_fd = ctx->passphrase_fd };
	struct ks_sign_opts so = { .writer_key = cli_writer_key(ctx),
				   .trust_file = cli_trust_file() };
	char fp[KS_FP_LEN];
	struct ks_store *ks = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p')
			return cli_usage_error("init", "unknown option %s", argv[optind - 1]);
		pass = true;
	}
	if (optind != argc)
		return cli_usage_error("init", "unexpected argument %s", argv[optind]);
	o.key_file = pass ? NULL : ctx->key_file;
	if ((r = make_dirs(ctx, pass)) != 0)
		return r;
	r = ks_init_signed(ctx->store, &o, &so);
	if (r == -ENOENT || r == -EACCES)
		return cli_fail(r, "init %s: writing %s, writer key %s and trust file %s",
				ctx->store, pass ? "the store" : ctx->key_file, so.writer_key,
				so.trust_file);
	if (r < 0)
		return cli_fail(r, "init %s", ctx->store);
	r = ks_open(ctx->store, &(struct ks_open_opts){ .public_only = true, .passphrase_fd = -1 },
		    &ks);
	if (r < 0)
		return cli_fail(r, "%s", ctx->store);
	printf("store %s initialised at %s (private key %s%s)\n", ks_store_id(ks), ctx->store,
	       pass ? "in the store, passphrase-protected" : "in ", pass ? "" : ctx->key_file);
	ks_store_fingerprint(ks, fp);
	printf("public key fingerprint %s\n", fp);
	printf("writer key %s, pinned in %s\n", so.writer_key, so.trust_file);
	ks_close(ks);
	return CLI_OK;
}

CLI_COMMAND(init, .name = "init", .summary = "create a new store and key pair", .usage = usage,
	    .run = run);
