/* SPDX-License-Identifier: MIT */
/* `keyhole migrate --sign`: turn a format-1 store (unsigned records) into
 * format 2 in one step: every record and the meta signed with the writer
 * key (keystore/ops.c ks_migrate_sign: one store write, linear time). With
 * the private key every record is first checked to open. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole migrate --sign\n\n"
	"Sign every record of a store written before format 2 (unsigned) with the\n"
	"writer key (--writer-key, default writer.key next to the key file) and\n"
	"mark the store format 2. Review `keyhole list` first: signing vouches for\n"
	"what is in the store now. With the private key available every version\n"
	"is unsealed first and the migration refused if one fails (exit 6).\n"
	"Every record is signed in memory and a file store rewritten once; if\n"
	"another writer changed a record meanwhile nothing is written (exit 8).\n"
	"Interrupted, it can simply be run again. Exit 6 if already signed.\n";

static void report(const char *name, uint64_t version, int err, void *arg)
{
	(void)arg;
	fprintf(stderr, "keyhole: migrate: %s version %llu: %s\n", name,
		(unsigned long long)version, ks_strerror(err));
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ks_store *ks = NULL;
	size_t n = 0;
	int r;

	if (argc != 2 || strcmp(argv[1], "--sign") != 0)
		return cli_usage_error("migrate", "expected --sign");
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r)
		return r;
	r = ks_verify(ks, report, NULL); /* -EACCES: no private key here */
	if (r > 0) {
		ks_close(ks);
		return cli_fail(-EBADMSG, "migrate: %d records do not open; nothing signed", r);
	}
	r = ks_migrate_sign(ks, &n);
	ks_close(ks);
	if (r < 0)
		return cli_fail(r, "migrate --sign %s", ctx->store);
	printf("signed %zu records; %s is format 2\n", n, ctx->store);
	return CLI_OK;
}

CLI_COMMAND(migrate, .name = "migrate", .summary = "sign a store made before format 2",
	    .usage = usage, .run = run);
