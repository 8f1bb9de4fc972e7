/* SPDX-License-Identifier: MIT */
/* `keyhole history NAME [--json]`: the kept versions of one secret, newest
 * first. No values; needs no private key. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole history NAME [--json]\n\n"
	"List the kept versions of NAME, newest first: version, size in bytes and\n"
	"creation time (UTC). Never prints values; needs no private key.\n";

static int print(const struct ks_version_info *v, size_t n, bool json)
{
	json_t *arr = json ? json_array() : NULL;

	for (size_t i = 0; i < n; i++) {
		char t[32];
		if (json) {
			json_array_append_new(arr, json_pack("{s:I, s:I, s:I}", "version",
							     (json_int_t)v[i].version, "size",
							     (json_int_t)v[i].size, "created",
							     (json_int_t)v[i].created));
			continue;
		}
		cli_fmt_time(v[i].created, t);
		printf("v%llu\t%zu bytes\t%s\n", (unsigned long long)v[i].version, v[i].size, t);
	}
	return json ? cli_print_json(arr) : CLI_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ks_version_info *v = NULL;
	struct ks_store *ks = NULL;
	bool json = false;
	size_t n = 0;
	int r;

	if ((r = cli_parse_json_flag("history", argc, argv, &json)))
		return r;
	if (optind != argc - 1)
		return cli_usage_error("history", "expected exactly one NAME");
	r = cli_open_store(ctx, CLI_KEY_NONE, &ks);
	if (r)
		return r;
	r = ks_history(ks, argv[optind], &v, &n);
	r = r < 0 ? cli_fail(r, "history %s", argv[optind]) : print(v, n, json);
	free(v);
	ks_close(ks);
	return r;
}

CLI_COMMAND(history, .name = "history", .summary = "list a secret's kept versions", .usage = usage,
	    .run = run);
