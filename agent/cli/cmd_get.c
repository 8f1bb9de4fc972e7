/* SPDX-License-Identifier: MIT */
/* `keyhole get NAME [--version N]`: unseal with the private key and write
 * the raw value to stdout (debugging and export). */
#include <getopt.h>
#include <stdint.h>
#include <unistd.h>

#include "io.h"
#include "util.h"

static const char usage[] =
	"usage: keyhole get NAME [--version N]\n\n"
	"Write the value of NAME (the current version, or version N) to stdout,\n"
	"byte for byte. Needs the private key (--key-file, or the passphrase for a\n"
	"passphrase-protected store). Only records signed by a writer pinned in the\n"
	"trust file are opened (--writers, default /etc/keyhole/writers).\n"
	"Exit 3 if NAME or the version is not kept, 5 on a wrong key, 6 if the\n"
	"record fails a check; the message names it: signature, AEAD or rollback.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "version", required_argument, NULL, 'v' },
					      { NULL, 0, NULL, 0 } };
	struct ks_secret *s = NULL;
	struct ks_store *ks = NULL;
	uint64_t version = 0;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c != 'v' || !cli_parse_u64(optarg, 1, INT64_MAX, &version))
			return cli_usage_error("get", "bad option %s", argv[optind - 1]);
	if (optind != argc - 1)
		return cli_usage_error("get", "expected exactly one NAME");
	r = cli_open_store(ctx, CLI_KEY_REQUIRED, &ks);
	if (r)
		return r;
	r = ks_get(ks, argv[optind], version, &s);
	if (r < 0 && cli_failed_check(r))
		r = cli_fail(r, "get %s: %s check failed", argv[optind], cli_failed_check(r));
	else if (r < 0)
		r = cli_fail(r, "get %s", argv[optind]);
	else if ((r = io_write_all(STDOUT_FILENO, s->data, s->len)) < 0)
		r = cli_fail(r, "get %s: stdout", argv[optind]);
	ks_secret_free(s);
	ks_close(ks);
	return r;
}

CLI_COMMAND(get, .name = "get", .summary = "print a secret's value (needs the private key)",
	    .usage = usage, .run = run);
