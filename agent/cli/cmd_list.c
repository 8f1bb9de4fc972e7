/* SPDX-License-Identifier: MIT */
/* `keyhole list [--json]`: names, current version, size, times. Never
 * values; needs no private key. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole list [--json]\n\n"
	"List every secret: name, current version, size in bytes of the current\n"
	"value, number of versions kept, created and updated times (UTC). Never\n"
	"prints values and needs no private key. A record that does not decode is\n"
	"listed with version 0 (run `keyhole verify`).\n";

static json_t *info_json(const struct ks_info *i)
{
	return json_pack("{s:s, s:I, s:I, s:i, s:I, s:I}", "name", i->name, "version",
			 (json_int_t)i->version, "size", (json_int_t)i->size, "versions",
			 (int)i->n_versions, "created", (json_int_t)i->created, "updated",
			 (json_int_t)i->updated);
}

static int print(const struct ks_info *v, size_t n, bool json)
{
	json_t *arr = json ? json_array() : NULL;

	for (size_t i = 0; i < n; i++) {
		char upd[32];
		if (json) {
			json_array_append_new(arr, info_json(&v[i]));
			continue;
		}
		cli_fmt_time(v[i].updated, upd);
		printf("%s\tv%llu\t%zu bytes\t%u versions\tupdated %s\n", v[i].name,
		       (unsigned long long)v[i].version, v[i].size, v[i].n_versions, upd);
	}
	return json ? cli_print_json(arr) : CLI_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ks_store *ks = NULL;
	struct ks_info *v = NULL;
	bool json = false;
	size_t n = 0;
	int r;

	if ((r = cli_parse_json_flag("list", argc, argv, &json)))
		return r;
	if (optind != argc)
		return cli_usage_error("list", "unexpected argument %s", argv[optind]);
	r = cli_open_store(ctx, CLI_KEY_NONE, &ks);
	if (r)
		return r;
	r = ks_list(ks, &v, &n);
	r = r < 0 ? cli_fail(r, "list") : print(v, n, json);
	free(v);
	ks_close(ks);
	return r;
}

CLI_COMMAND(list, .name = "list", .summary = "list secrets (never values)", .usage = usage,
	    .run = run);
