/* SPDX-License-Identifier: MIT */
/* `keyhole seal --pubkey FILE NAME`: offline sealing (laptop, CI). Reads
 * the value from stdin and prints a sealed-record JSON document for
 * `keyhole import`, signed with --writer-key; needs no store and no
 * private key. The public key is checked against the pinned fingerprint. */
#include <getopt.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pin.h"
#include "util.h"

static const char usage[] =
	"usage: keyhole seal --pubkey FILE [--writer-key FILE] NAME [--version N]\n"
	"                    < VALUE > NAME.sealed.json\n\n"
	"Seal the value on stdin (binary-safe, at most 1 MiB) to the store whose\n"
	"public key FILE holds (the output of `keyhole pubkey`), as version N of\n"
	"NAME (default 1: a new secret; use the current version + 1 to rotate).\n"
	"Prints a sealed record (JSON, no plaintext) to stdout for `keyhole import`.\n"
	"Works offline: needs neither the store nor the private key.\n"
	"--writer-key FILE (or KEYHOLE_WRITER_KEY) signs the record; readers accept\n"
	"it only if that writer is pinned in their trust file. Without it the\n"
	"record is unsigned and counts only once a writer imports it.\n"
	"The store's public key is pinned like an ssh host key (known_stores,\n"
	"--pubkey-fingerprint FP): a changed key is refused with exit 10.\n";

static int seal(const char *pubfile, const char *wkey, const char *name, uint64_t version)
{
	char id[KS_ID_MAX + 1], *doc = NULL, *out = NULL;
	uint8_t pk[KS_PK_BYTES], *val = NULL;
	size_t doc_len = 0, len = 0;
	int r = cli_read_small_file(pubfile, 65536, &doc, &doc_len);

	if (r < 0)
		return cli_fail(r, "seal: %s", pubfile);
	r = ks_pubkey_parse(doc, doc_len, id, pk);
	free(doc);
	if (r < 0)
		return cli_fail(r, "seal: %s", pubfile);
	r = cli_pin_check(id, pk);
	if (r)
		return r;
	r = cli_read_secret_fd(STDIN_FILENO, KS_MAX_VALUE, &val, &len);
	if (r < 0)
		return cli_fail(r, "seal %s: reading stdin", name);
	r = ks_seal_record_signed(id, pk, wkey, name, version, val, len, &out);
	cli_secret_free(val, KS_MAX_VALUE + 1);
	if (r < 0)
		return cli_fail(r, "seal %s", name);
	r = puts(out) != EOF && fflush(stdout) != EOF ? CLI_OK : cli_fail(-EIO, "seal: stdout");
	free(out);
	return r;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "pubkey", required_argument, NULL, 'p' },
					      { "version", required_argument, NULL, 'v' },
					      { "writer-key", required_argument, NULL, 'w' },
					      { NULL, 0, NULL, 0 } };
	const char *pubfile = NULL, *wkey = getenv("KEYHOLE_WRITER_KEY");
	uint64_t version = 1;
	int c;

	(void)ctx;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			pubfile = optarg;
		else if (c == 'w')
			wkey = optarg;
		else if (c != 'v' || !cli_parse_u64(optarg, 1, INT64_MAX, &version))
			return cli_usage_error("seal", "bad option %s", argv[optind - 1]);
	}
	if (!pubfile || optind != argc - 1)
		return cli_usage_error("seal", "expected --pubkey FILE and one NAME");
	if (!wkey || !*wkey) {
		wkey = NULL;
		fprintf(stderr,
			"keyhole: seal: warning: no --writer-key: the record is unsigned\n");
	}
	return seal(pubfile, wkey, argv[optind], version);
}

CLI_COMMAND(seal, .name = "seal", .summary = "seal a value offline with a public key file",
	    .usage = usage, .run = run);
