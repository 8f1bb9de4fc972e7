/* SPDX-License-Identifier: MIT */
/* `keyhole policy check FILE`: offline validation with the agent's own
 * parser (agent/policy.c), so a policy that passes here loads there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/util.h"
#include "policy.h"

static const char usage[] =
	"usage: keyhole policy check FILE\n\n"
	"Validate a policy file offline. Exit 0 and a summary when it would load;\n"
	"exit 1 and the reason (e.g. an unknown key, a file name granted twice)\n"
	"when it would not.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	char *buf = NULL, err[512];
	size_t len = 0, grants = 0;
	struct policy *p = NULL;
	int r;

	(void)ctx;
	if (argc != 3 || strcmp(argv[1], "check") != 0)
		return cli_usage_error("policy", "expected: policy check FILE");
	r = cli_read_small_file(argv[2], POLICY_MAX_BYTES, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "keyhole: policy check %s: %s\n", argv[2],
			r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r == -ENOENT ? CLI_ENOTFOUND : CLI_EIO;
	}
	r = policy_parse(buf, len, &p, err, sizeof(err));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "keyhole: policy check %s: %s\n", argv[2], err);
		return CLI_EFAIL;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		grants += p->rules[i].n_grants;
	printf("%s: ok: %zu rule%s, %zu grant%s, sha256:%s\n", argv[2], p->n_rules,
	       cli_plural(p->n_rules), grants, cli_plural(grants), p->digest);
	policy_free(p);
	return CLI_OK;
}

CLI_COMMAND(policy, .name = "policy", .summary = "validate a policy file (policy check FILE)",
	    .usage = usage, .run = run);
