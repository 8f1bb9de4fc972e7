// SPDX-License-Identifier: MIT
/* `keyhole rotate NAME`: seal a new version (stdin, or --generate BYTES of
 * random data that is printed nowhere), keeping the newest --keep N. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole rotate NAME [--keep N] [--generate BYTES] [< VALUE]\n\n"
	"Add a new version of the existing secret NAME. The value is read from\n"
	"stdin (binary-safe, at most 1 MiB), or with --generate BYTES is BYTES\n"
	"random bytes (1..1048576) that are printed nowhere. Keeps the newest N\n"
	"versions (--keep, default 5, at most 64). Exit 3 if NAME does not exist.\n";

static int value(uint64_t gen, uint8_t **val, size_t *len)
{
	if (!gen)
		return cli_read_secret_fd(STDIN_FILENO, KS_MAX_VALUE, val, len);
	*val = sodium_malloc(KS_MAX_VALUE + 1);
	if (!*val)
		return -ENOMEM;
	randombytes_buf(*val, (size_t)gen);
	*len = (size_t)gen;
	return 0;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "keep", required_argument, NULL, 'k' },
					      { "generate", required_argument, NULL, 'g' },
					      { NULL, 0, NULL, 0 } };
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
		return cli_usage_error("rotate", "bad option %s", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_error("rotate", "expected exactly one NAME");
	r = value(gen, &val, &len);
	if (r < 0)
		return cli_fail(r, "rotate %s: reading value", argv[optind]);
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r == 0) {
		int e = ks_rotate(ks, argv[optind], val, len, (unsigned)keep, &ver);
		r = e < 0 ? cli_fail(e, "rotate %s", argv[optind]) : CLI_OK;
		ks_close(ks);
	}
	cli_secret_free(val, KS_MAX_VALUE + 1);
	return r;
}

CLI_COMMAND(rotate, .name = "rotate", .summary = "add a new version of a secret",
	    .usage = usage, .run = run);
