/* SPDX-License-Identifier: MIT */
/* `keyhole pubkey`: print the store id and public key as JSON, the only
 * thing `keyhole seal` needs on a laptop or CI runner. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char usage[] =
	"usage: keyhole pubkey [--fingerprint] > store.pub\n\n"
	"Print the store id and public key (a \"keyhole-pubkey\" JSON document),\n"
	"and its fingerprint on stderr. Safe to publish: with it `keyhole seal\n"
	"--pubkey FILE` seals values for this store offline. Needs no private key.\n"
	"--fingerprint prints only the fingerprint (SHA256:...), for\n"
	"--pubkey-fingerprint / KEYHOLE_PUBKEY_FINGERPRINT on writers.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	uint8_t pk[KS_PK_BYTES];
	struct ks_store *ks = NULL;
	char fp[KS_FP_LEN];
	bool only_fp = argc == 2 && strcmp(argv[1], "--fingerprint") == 0;
	char *s;
	int r;

	if (argc > 2 || (argc == 2 && !only_fp))
		return cli_usage_error("pubkey", "unexpected argument %s", argv[1]);
	r = cli_open_store(ctx, CLI_KEY_NONE, &ks);
	if (r)
		return r;
	ks_public_key(ks, pk);
	ks_fingerprint(pk, fp);
	if (only_fp) {
		ks_close(ks);
		return puts(fp) != EOF ? CLI_OK : cli_fail(-EIO, "pubkey");
	}
	fprintf(stderr, "fingerprint %s\n", fp);
	s = ks_pubkey_encode(ks_store_id(ks), pk);
	r = s && puts(s) != EOF ? CLI_OK : cli_fail(-EIO, "pubkey");
	free(s);
	ks_close(ks);
	return r;
}

CLI_COMMAND(pubkey, .name = "pubkey", .summary = "print the store id and public key",
	    .usage = usage, .run = run);
