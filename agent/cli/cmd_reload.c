/* SPDX-License-Identifier: MIT */
/* `keyhole reload [--dry-run]`: ask the agent to re-read its policy; it
 * swaps the new one in only if it validates, else keeps the old one and
 * says why. --dry-run shows which watching containers would gain or lose
 * which secrets, and changes nothing. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/util.h"

static const char usage[] =
	"usage: keyhole [--admin-socket PATH] reload [--dry-run]\n\n"
	"Reload the agent's policy file. An invalid policy is rejected with the\n"
	"reason (exit 1) and the agent keeps serving the old one. Grants that\n"
	"the new policy drops are revoked from watching shims. With --dry-run,\n"
	"list the running containers (watching shims) that would gain or lose\n"
	"which secrets, and change nothing. A reload is written to the audit log.\n";

static void print_names(const char *sign, json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) printf(" %s%s", sign, json_string_value(v));
}

static int dry_run(struct cli_ctx *ctx)
{
	json_t *rq = json_pack("{s:s}", "cmd", "reload-plan"), *r = NULL, *v;
	size_t i, n;
	int rc = admin_call_cli("reload", ctx->admin_socket, rq, &r);

	json_decref(rq);
	if (rc)
		return rc;
	n = json_array_size(json_object_get(r, "changes"));
	printf("policy file: sha256:%s%s\n", json_string_value(json_object_get(r, "policy_digest")),
	       strcmp(json_string_value(json_object_get(r, "policy_digest")),
		      json_string_value(json_object_get(r, "current_digest"))) == 0
		       ? " (unchanged)"
		       : " (valid; differs from the loaded one)");
	json_array_foreach(json_object_get(r, "changes"), i, v)
	{
		const char *c = json_string_value(json_object_get(v, "container"));
		printf("%s%s (pid %lld):", c ? "container " : "host process", c ? c : "",
		       (long long)json_integer_value(json_object_get(v, "pid")));
		print_names("+", json_object_get(v, "gain"));
		print_names("-", json_object_get(v, "lose"));
		putchar('\n');
	}
	printf("%zu running container%s would change; nothing was reloaded\n", n, cli_plural(n));
	json_decref(r);
	return CLI_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	json_t *rq, *r = NULL;
	bool dry = false;
	char what[160];
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'n')
			return cli_usage_error("reload", "unknown option %s", argv[optind - 1]);
		dry = true;
	}
	if (optind != argc)
		return cli_usage_error("reload", "unexpected argument '%s'", argv[optind]);
	if (dry)
		return dry_run(ctx);
	rq = json_pack("{s:s}", "cmd", "reload");
	rc = admin_call_cli("reload", ctx->admin_socket, rq, &r);
	json_decref(rq);
	if (rc)
		return rc;
	long long nr = (long long)json_integer_value(json_object_get(r, "policy_rules"));
	printf("policy reloaded: sha256:%s (%lld rule%s)\n",
	       json_string_value(json_object_get(r, "policy_digest")), nr,
	       cli_plural((unsigned long long)nr));
	snprintf(what, sizeof(what), "policy sha256:%.64s, %lld rule%s",
		 json_string_value(json_object_get(r, "policy_digest")), nr,
		 cli_plural((unsigned long long)nr));
	cli_audit(ctx, AUDIT_RELOAD, NULL, 0, what);
	json_decref(r);
	return CLI_OK;
}

CLI_COMMAND(reload, .name = "reload",
	    .summary = "reload the agent's policy (--dry-run: show the effect)", .usage = usage,
	    .run = run);
