/* SPDX-License-Identifier: MIT */
/* `keyhole reload`: ask the agent to re-read its policy; it swaps the new
 * one in only if it validates, else keeps the old one and says why. */
#include <stdio.h>

#include "cli/admin_client.h"
#include "cli/util.h"

static const char usage[] =
	"usage: keyhole [--admin-socket PATH] reload\n\n"
	"Reload the agent's policy file. An invalid policy is rejected with the\n"
	"reason (exit 1) and the agent keeps serving the old one. Grants that\n"
	"the new policy drops are revoked from watching shims.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *rq, *r = NULL;
	int rc;

	(void)argv;
	if (argc != 1)
		return cli_usage_error("reload", "unexpected argument");
	rq = json_pack("{s:s}", "cmd", "reload");
	rc = admin_call_cli("reload", ctx->admin_socket, rq, &r);
	json_decref(rq);
	if (rc)
		return rc;
	long long nr = (long long)json_integer_value(json_object_get(r, "policy_rules"));
	printf("policy reloaded: sha256:%s (%lld rule%s)\n",
	       json_string_value(json_object_get(r, "policy_digest")), nr, cli_plural((unsigned long long)nr));
	json_decref(r);
	return CLI_OK;
}

CLI_COMMAND(reload, .name = "reload", .summary = "reload the agent's policy",
	    .usage = usage, .run = run);
