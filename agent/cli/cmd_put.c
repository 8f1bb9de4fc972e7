/* SPDX-License-Identifier: MIT */
/* `keyhole put NAME`: seal the value on stdin as version 1 of a new record.
 * Needs only the public key; binary-safe; capped at 1 MiB. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole put [--allow-empty] NAME < VALUE\n\n"
	"Add a new secret NAME whose value is read from stdin (binary-safe, at most\n"
	"1 MiB, never echoed). Sealed to the store's public key as version 1.\n"
	"Fails with exit 4 if NAME exists (use rotate). NAME: 1..255 characters of\n"
	"[A-Za-z0-9._/-], no '.' or '..' segment, no leading/trailing or double '/'.\n"
	"An empty value is refused (an unset shell variable, `printf %s \"$UNSET\"`)\n"
	"unless --allow-empty. The change is written to the agent's audit log.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "allow-empty", no_argument, NULL, 'e' },
					      { NULL, 0, NULL, 0 } };
	struct ks_store *ks = NULL;
	uint8_t *val = NULL;
	size_t len = 0;
	uint64_t ver = 0;
	bool allow_empty = false;
	const char *name;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'e')
			return cli_usage_error("put", "unknown option %s", argv[optind - 1]);
		allow_empty = true;
	}
	if (optind != argc - 1)
		return cli_usage_error("put", "expected exactly one NAME");
	name = argv[optind];
	if ((r = cli_check_name("put", name)))
		return r;
	r = cli_read_secret_fd(STDIN_FILENO, KS_MAX_VALUE, &val, &len);
	if (r < 0)
		return cli_value_fail(r, "put", name);
	if (len == 0 && !allow_empty) {
		cli_secret_free(val, KS_MAX_VALUE + 1);
		return cli_empty_refused("put", name);
	}
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r == 0) {
		int e = ks_put(ks, name, val, len, &ver);
		r = e < 0 ? cli_fail(e, "put %s", name) : CLI_OK;
		if (e == 0)
			cli_audit(ctx, AUDIT_PUT, name, ver, NULL);
		ks_close(ks);
	}
	cli_secret_free(val, KS_MAX_VALUE + 1);
	return r;
}

CLI_COMMAND(put, .name = "put", .summary = "add a new secret (value on stdin)", .usage = usage,
	    .run = run);
