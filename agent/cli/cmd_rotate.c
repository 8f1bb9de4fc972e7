/* SPDX-License-Identifier: MIT */
/* `keyhole rotate NAME`: seal a new version (stdin, or --generate N random
 * characters, printable by default, printed nowhere), keeping the newest --keep N. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole rotate NAME [--keep N] [--allow-empty]\n"
	"                      [--generate N [--format alnum|hex|base64|raw]] [< VALUE]\n\n"
	"Add a new version of the existing secret NAME. The value is read from\n"
	"stdin (binary-safe, at most 1 MiB; empty only with --allow-empty), or with\n"
	"--generate N is N random characters (1..1048576) that are printed nowhere:\n"
	"--format alnum (default: A-Z a-z 0-9), hex, base64 (URL-safe, no padding)\n"
	"or raw (N random bytes). Keeps the newest N versions (--keep, default 5,\n"
	"at most 64). Exit 3 if NAME does not exist. The change is written to the\n"
	"agent's audit log.\n";

enum gen_format { GEN_ALNUM, GEN_HEX, GEN_BASE64, GEN_RAW };

static bool parse_format(const char *s, enum gen_format *ret)
{
	static const char *const names[] = { "alnum", "hex", "base64", "raw" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum gen_format)i;
			return true;
		}
	return false;
}

/* n random characters of format f into out (sodium memory, >= n bytes):
 * encode enough random bytes into a temporary, keep the first n chars. */
static int generate(uint8_t *out, size_t n, enum gen_format f)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const int b64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	size_t k = f == GEN_HEX ? (n + 1) / 2 : n * 3 / 4 + 3;
	size_t tn = f == GEN_HEX ? 2 * k + 1 : sodium_base64_ENCODED_LEN(k, (unsigned)b64);
	uint8_t *raw, *tmp;

	if (f == GEN_RAW) {
		randombytes_buf(out, n);
		return 0;
	}
	if (f == GEN_ALNUM) {
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)alnum[randombytes_uniform(sizeof(alnum) - 1)];
		return 0;
	}
	raw = sodium_malloc(k);
	tmp = sodium_malloc(tn);
	if (raw && tmp) {
		randombytes_buf(raw, k);
		if (f == GEN_HEX)
			sodium_bin2hex((char *)tmp, tn, raw, k);
		else
			sodium_bin2base64((char *)tmp, tn, raw, k, b64);
		memcpy(out, tmp, n);
	}
	if (raw)
		sodium_free(raw); /* sodium_free wipes */
	if (tmp)
		sodium_free(tmp);
	return raw && tmp ? 0 : -ENOMEM;
}

static int value(uint64_t gen, enum gen_format f, uint8_t **val, size_t *len)
{
	int r;

	if (!gen)
		return cli_read_secret_fd(STDIN_FILENO, KS_MAX_VALUE, val, len);
	*val = sodium_malloc(KS_MAX_VALUE + 1);
	if (!*val)
		return -ENOMEM;
	if ((r = generate(*val, (size_t)gen, f)) < 0) {
		cli_secret_free(*val, KS_MAX_VALUE + 1);
		*val = NULL;
		return r;
	}
	*len = (size_t)gen;
	return 0;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "keep", required_argument, NULL, 'k' },
					      { "generate", required_argument, NULL, 'g' },
					      { "format", required_argument, NULL, 'f' },
					      { "allow-empty", no_argument, NULL, 'e' },
					      { NULL, 0, NULL, 0 } };
	enum gen_format fmt = GEN_ALNUM;
	bool allow_empty = false, fmt_set = false;
	const char *name;
	uint64_t keep = KS_DEFAULT_KEEP, gen = 0, ver = 0;
	struct ks_store *ks = NULL;
	uint8_t *val = NULL;
	size_t len = 0;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k' && cli_parse_u64(optarg, 1, 64, &keep))
			continue;
		if (c == 'g' && cli_parse_u64(optarg, 1, KS_MAX_VALUE, &gen))
			continue;
		if (c == 'f' && parse_format(optarg, &fmt)) {
			fmt_set = true;
			continue;
		}
		if (c == 'e') {
			allow_empty = true;
			continue;
		}
		return cli_usage_error("rotate", "bad option %s", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_error("rotate", "expected exactly one NAME");
	if (fmt_set && !gen)
		return cli_usage_error("rotate", "--format goes with --generate N");
	name = argv[optind];
	if ((r = cli_check_name("rotate", name)))
		return r;
	r = value(gen, fmt, &val, &len);
	if (r < 0)
		return cli_value_fail(r, "rotate", name);
	if (len == 0 && !allow_empty) {
		cli_secret_free(val, KS_MAX_VALUE + 1);
		return cli_empty_refused("rotate", name);
	}
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r == 0) {
		int e = ks_rotate(ks, name, val, len, (unsigned)keep, &ver);
		r = e < 0 ? cli_fail(e, "rotate %s", name) : CLI_OK;
		if (e == 0)
			cli_audit(ctx, AUDIT_ROTATE, name, ver, gen ? "generated" : NULL);
		ks_close(ks);
	}
	cli_secret_free(val, KS_MAX_VALUE + 1);
	return r;
}

CLI_COMMAND(rotate, .name = "rotate", .summary = "add a new version of a secret", .usage = usage,
	    .run = run);
