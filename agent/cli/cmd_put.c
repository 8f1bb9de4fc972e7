// SPDX-License-Identifier: MIT
/* `keyhole put NAME`: seal the value on stdin as version 1 of a new record.
 * Needs only the public key; binary-safe; capped at 1 MiB. */
#include <errno.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole put NAME < VALUE\n\n"
	"Add a new secret NAME whose value is read from stdin (binary-safe, at most\n"
	"1 MiB, never echoed). Sealed to the store's public key as version 1.\n"
	"Fails with exit 4 if NAME exists (use rotate). NAME: 1..255 characters of\n"
	"[A-Za-z0-9._/-], no '.' or '..' segment, no leading/trailing or double '/'.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ks_store *ks = NULL;
	uint8_t *val = NULL;
	size_t len = 0;
	uint64_t ver = 0;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error("put", "expected exactly one NAME");
	r = cli_read_secret_fd(STDIN_FILENO, KS_MAX_VALUE, &val, &len);
	if (r < 0)
		return cli_fail(r, "put %s: reading stdin", argv[1]);
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r == 0) {
		int e = ks_put(ks, argv[1], val, len, &ver);
		r = e < 0 ? cli_fail(e, "put %s", argv[1]) : CLI_OK;
		ks_close(ks);
	}
	cli_secret_free(val, KS_MAX_VALUE + 1);
	return r;
}

CLI_COMMAND(put, .name = "put", .summary = "add a new secret (value on stdin)",
	    .usage = usage, .run = run);
