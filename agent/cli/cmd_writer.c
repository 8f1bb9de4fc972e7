/* SPDX-License-Identifier: MIT */
/* `keyhole writer new|add|list|revoke`: writer keys (Ed25519) and the local
 * trust file that pins them. Trust is per host and never read from the
 * store: keyholed and `keyhole get/verify` accept only records signed by a
 * writer listed here. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole writer new FILE\n"
	"       keyhole [--writers FILE] writer add LABEL (--key FILE | --public KEY)\n"
	"       keyhole [--writers FILE] writer list [--json]\n"
	"       keyhole [--writers FILE] writer revoke LABEL|FINGERPRINT\n\n"
	"new: make a writer key FILE (mode 0400) and print its public KEY and\n"
	"fingerprint; give those to an admin (a CI runner keeps FILE).\n"
	"add: pin a writer in the trust file (default /etc/keyhole/writers, 0644):\n"
	"the public key of writer key FILE, or KEY as printed by `writer new`.\n"
	"list: pinned writers. revoke: unpin one; records it signed are refused\n"
	"from then on (re-sign them by rotating). Exit 4 if the key or LABEL is\n"
	"pinned already, 3 if revoke finds none.\n";

static void print_pub(const uint8_t pk[KS_PK_BYTES])
{
	char b64[sodium_base64_ENCODED_LEN(KS_PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char fp[KS_FP_LEN];

	sodium_bin2base64(b64, sizeof(b64), pk, KS_PK_BYTES, sodium_base64_VARIANT_ORIGINAL);
	ks_fingerprint(pk, fp);
	printf("public key %s\nfingerprint %s\n", b64, fp);
}

static int do_new(int argc, char **argv)
{
	uint8_t pk[KS_PK_BYTES];
	int r;

	if (argc != 3)
		return cli_usage_error("writer", "new takes exactly one FILE");
	r = ks_writer_keygen(argv[2], pk);
	if (r < 0)
		return cli_fail(r, "writer new %s", argv[2]);
	print_pub(pk);
	return CLI_OK;
}

static int parse_pub(const char *s, uint8_t pk[KS_PK_BYTES])
{
	size_t n = 0;
	const char *end = NULL;

	if (sodium_base642bin(pk, KS_PK_BYTES, s, strlen(s), NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != KS_PK_BYTES || *end)
		return -EINVAL;
	return 0;
}

static int do_add(int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' },
					      { "public", required_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	const char *key = NULL, *pub = NULL;
	uint8_t pk[KS_PK_BYTES];
	int c, r;

	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			key = optarg;
		else if (c == 'p')
			pub = optarg;
		else
			return cli_usage_error("writer", "bad option %s", argv[optind - 1]);
	}
	if (optind != argc - 1 || !key == !pub)
		return cli_usage_error("writer", "add takes LABEL and one of --key, --public");
	if (!ks_writer_label_valid(argv[optind]))
		return cli_usage_error("writer", "LABEL: 1..63 of [A-Za-z0-9._@-]");
	r = key ? ks_writer_public(key, pk) : pub ? parse_pub(pub, pk) : -EINVAL;
	if (r < 0)
		return cli_fail(r, "writer add: %s", key ? key : "--public");
	r = ks_trust_add(cli_trust_file(), pk, argv[optind]);
	if (r < 0)
		return cli_fail(r, "writer add %s to %s", argv[optind], cli_trust_file());
	printf("pinned writer %s in %s\n", argv[optind], cli_trust_file());
	print_pub(pk);
	return CLI_OK;
}

static int do_list(int argc, char **argv)
{
	struct ks_trusted *v = NULL;
	size_t n = 0;
	bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
	int r;

	if (argc > 3 || (argc == 3 && !json))
		return cli_usage_error("writer", "list takes only --json");
	r = ks_trust_list(cli_trust_file(), &v, &n);
	if (r < 0)
		return cli_fail(r, "writer list %s", cli_trust_file());
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s}", "label", v[i].label,
							   "fingerprint", v[i].fp));
		free(v);
		return cli_print_json(a);
	}
	for (size_t i = 0; i < n; i++)
		printf("%-24s %s\n", v[i].label, v[i].fp);
	free(v);
	return CLI_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc < 2)
		return cli_usage_error("writer", "expected new, add, list or revoke");
	if (strcmp(argv[1], "new") == 0)
		return do_new(argc, argv);
	if (strcmp(argv[1], "add") == 0)
		return do_add(argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return do_list(argc, argv);
	if (strcmp(argv[1], "revoke") == 0) {
		int r;
		if (argc != 3)
			return cli_usage_error("writer", "revoke takes one LABEL or FINGERPRINT");
		r = ks_trust_remove(cli_trust_file(), argv[2]);
		if (r < 0)
			return cli_fail(r, "writer revoke %s in %s", argv[2], cli_trust_file());
		printf("revoked writer %s in %s\n", argv[2], cli_trust_file());
		return CLI_OK;
	}
	return cli_usage_error("writer", "unknown subcommand %s", argv[1]);
}

CLI_COMMAND(writer, .name = "writer", .summary = "manage writer keys and the trust file",
	    .usage = usage, .run = run);
