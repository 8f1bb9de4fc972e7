/* SPDX-License-Identifier: MIT */
/* `keyhole verify [--state FILE]`: check every kept version of every record
 * (writer signature, AEAD with the private key, and with --state the
 * rollback marks); name each record that fails and the check. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole verify [--state FILE]\n\n"
	"Check every kept version of every secret: signed by a writer pinned in the\n"
	"trust file, and unsealed with the private key (values are wiped, never\n"
	"printed). With --state FILE (keyholed's, /var/lib/keyhole/agent.state)\n"
	"also report records older than the version the agent already served;\n"
	"the file is only read. Prints one line per record that fails, naming the\n"
	"check (signature, AEAD, rollback), and a summary. Exit 0 if all are\n"
	"sound, 6 if any record fails, 5 on a wrong key.\n";

static void report(const char *name, uint64_t version, int err, void *arg)
{
	const char *check = cli_failed_check(err);

	(void)arg;
	if (version)
		fprintf(stderr, "keyhole: verify: %s version %llu: %s%s%s\n", name,
			(unsigned long long)version, check ? check : "",
			check ? " check failed: " : "", ks_strerror(err));
	else
		fprintf(stderr, "keyhole: verify: %s: %s%s%s\n", name, check ? check : "",
			check ? " check failed: " : "", ks_strerror(err));
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "state", required_argument, NULL, 's' },
					      { NULL, 0, NULL, 0 } };
	struct ks_store *ks = NULL;
	struct ks_info *v = NULL;
	const char *state = NULL;
	size_t n = 0;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return cli_usage_error("verify", "bad option %s", argv[optind - 1]);
		state = optarg;
	}
	if (optind != argc)
		return cli_usage_error("verify", "unexpected argument %s", argv[optind]);
	r = cli_open_store_state(ctx, CLI_KEY_REQUIRED, state, &ks);
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

CLI_COMMAND(verify, .name = "verify", .summary = "check every record authenticates", .usage = usage,
	    .run = run);
