/* SPDX-License-Identifier: MIT */
/* `keyhole policy check [--store S] FILE`: offline validation with the agent's own
 * parser (agent/policy.c), so a policy that passes here loads there. */
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"
#include "policy.h"
#include "template_load.h"

static const char usage[] =
	"usage: keyhole [--store PATH] policy check [--store PATH] FILE\n\n"
	"Validate a policy file offline. Exit 0 and a summary when it would load;\n"
	"exit 1 and the reason (e.g. an unknown key, a file name granted twice)\n"
	"when it would not. With a store (--store, or the default store when it\n"
	"exists) each granted secret that is not in it is named in a warning.\n";

/* Warn about grants of secrets the store does not hold; 0 or exit code. */
static int check_store(struct cli_ctx *ctx, const struct policy *p, bool required)
{
	struct ks_store *ks = NULL;
	struct ks_info *inf = NULL;
	size_t n = 0, missing = 0;
	int r;

	if (!required && access(ctx->store, F_OK) < 0)
		return 0;
	if ((r = cli_open_store(ctx, CLI_KEY_NONE, &ks)))
		return r;
	if ((r = ks_list(ks, &inf, &n)) < 0) {
		ks_close(ks);
		return cli_fail(r, "policy check: listing %s", ctx->store);
	}
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++) {
			const char *s = p->rules[i].grants[g].secret;
			size_t k = 0;
			if (p->rules[i].grants[g].template)
				continue; /* the secrets it uses are granted by its rule */
			while (k < n && strcmp(inf[k].name, s) != 0)
				k++;
			if (k == n && ++missing)
				fprintf(stderr,
					"warning: rule %s grants %s, which is not in the store %s "
					"(keyhole put %s)\n",
					p->rules[i].name, s, ctx->store, s);
		}
	free(inf);
	ks_close(ks);
	return 0;
}

/* "rule app: template db.tmpl (url) -> database_url, uses pay/db" */
static void print_templates(const struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++) {
			const struct policy_grant *t = &p->rules[i].grants[g];
			if (!t->tmpl)
				continue;
			printf("rule %s: template %s (%s) -> %s, uses", p->rules[i].name,
			       t->template, tmpl_escape_name((enum tmpl_escape)t->escape), t->file);
			for (size_t k = 0; k < t->tmpl->n_names; k++)
				printf("%s %s", k ? "," : "", t->tmpl->names[k]);
			printf("\n");
		}
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	char *buf = NULL, err[512];
	size_t len = 0, grants = 0;
	struct policy *p = NULL;
	int r;

	/* --store anywhere on the line is a global option (main.c) */
	if (argc != 3 || strcmp(argv[1], "check") != 0)
		return cli_usage_error("policy", "expected: policy check [--store PATH] FILE");
	r = cli_read_small_file(argv[2], POLICY_MAX_BYTES, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "keyhole: policy check %s: %s\n", argv[2],
			r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r == -ENOENT ? CLI_ENOTFOUND : CLI_EIO;
	}
	r = policy_parse(buf, len, &p, err, sizeof(err));
	free(buf);
	if (r == 0 && (r = tmpl_policy_load(p, argv[2], err, sizeof(err))) < 0)
		policy_free(p);
	if (r < 0) {
		fprintf(stderr, "keyhole: policy check %s: %s\n", argv[2], err);
		return CLI_EFAIL;
	}
	if ((r = check_store(ctx, p, ctx->store_set))) {
		policy_free(p);
		return r;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		grants += p->rules[i].n_grants;
	printf("%s: ok: %zu rule%s, %zu grant%s, sha256:%s\n", argv[2], p->n_rules,
	       cli_plural(p->n_rules), grants, cli_plural(grants), p->digest);
	print_templates(p);
	policy_free(p);
	return CLI_OK;
}

CLI_COMMAND(policy, .name = "policy", .summary = "validate a policy file (policy check FILE)",
	    .usage = usage, .run = run);
