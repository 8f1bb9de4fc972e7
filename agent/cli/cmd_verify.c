// SPDX-License-Identifier: MIT
/* `keyhole verify`: open every kept version of every record with the
 * private key; name each record that fails. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole verify\n\n"
	"Unseal every kept version of every secret with the private key (values\n"
	"are wiped, never printed). Prints one line per record that fails to\n"
	"authenticate or decode, and a summary. Exit 0 if all are sound, 6 if any\n"
	"record fails, 5 on a wrong key.\n";

static void report(const char *name, uint64_t version, int err, void *arg)
{
	(void)arg;
	if (version)
		fprintf(stderr, "keyhole: verify: %s version %llu: %s\n", name,
			(unsigned long long)version, ks_strerror(err));
	else
		fprintf(stderr, "keyhole: verify: %s: %s\n", name, ks_strerror(err));
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ks_store *ks = NULL;
	struct ks_info *v = NULL;
	size_t n = 0;
	int r;

	if (argc != 1)
		return cli_usage_error("verify", "unexpected argument %s", argv[1]);
	r = cli_open_store(ctx, CLI_KEY_REQUIRED, &ks);
	if (r)
		return r;
	r = ks_verify(ks, report, NULL);
	if (r < 0) {
		r = cli_fail(r, "verify");
	} else {
		if (ks_list(ks, &v, &n) == 0)
			free(v);
		printf("%zu records, %d failed\n", n, r);
		r = r ? CLI_ECORRUPT : CLI_OK;
	}
	ks_close(ks);
	return r;
}

CLI_COMMAND(verify, .name = "verify", .summary = "check every record authenticates",
	    .usage = usage, .run = run);
