// SPDX-License-Identifier: MIT
/* `keyhole rm NAME`: delete a secret and all its versions. */
#include "util.h"

static const char usage[] =
	"usage: keyhole rm NAME\n\n"
	"Delete NAME and every kept version. Exit 3 if it does not exist.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ks_store *ks = NULL;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error("rm", "expected exactly one NAME");
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r)
		return r;
	r = ks_rm(ks, argv[1]);
	r = r < 0 ? cli_fail(r, "rm %s", argv[1]) : CLI_OK;
	ks_close(ks);
	return r;
}

CLI_COMMAND(rm, .name = "rm", .summary = "delete a secret", .usage = usage, .run = run);
