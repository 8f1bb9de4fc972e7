/* SPDX-License-Identifier: MIT */
/* `keyhole status`: the running agent's figures over the admin socket. */
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/util.h"

static const char usage[] =
	"usage: keyhole [--admin-socket PATH] status [--json]\n\n"
	"Show the running agent's version, uptime, secrets in the store, open connections,\n"
	"watchers, policy digest and whether the container engine is reachable.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *rq, *r = NULL;
	bool as_json = argc == 2 && strcmp(argv[1], "--json") == 0;
	int rc;

	if (argc > 2 || (argc == 2 && !as_json))
		return cli_usage_error("status", "unexpected argument '%s'",
				       argv[argc == 2 ? 1 : 2]);
	rq = json_pack("{s:s}", "cmd", "status");
	rc = admin_call_cli("status", ctx->admin_socket, rq, &r);
	json_decref(rq);
	if (rc)
		return rc;
	if (as_json)
		return cli_print_json(r);
	json_t *er = json_object_get(r, "engine_reachable");
	json_t *ver = json_object_get(r, "version");
	printf("version:       keyholed %s%s\n",
	       json_is_string(ver) ? json_string_value(ver) : "(before 0.2.0)",
	       json_is_string(ver) && strcmp(json_string_value(ver), KH_VERSION) != 0
		       ? " (this keyhole is " KH_VERSION ")"
		       : "");
	printf("uptime:        %llds\n",
	       (long long)json_integer_value(json_object_get(r, "uptime")));
	printf("secrets:       %lld\n",
	       (long long)json_integer_value(json_object_get(r, "secrets")));
	printf("connections:   %lld\n",
	       (long long)json_integer_value(json_object_get(r, "connections")));
	printf("watchers:      %lld\n",
	       (long long)json_integer_value(json_object_get(r, "watchers")));
	long long nr = (long long)json_integer_value(json_object_get(r, "policy_rules"));
	printf("policy:        sha256:%s (%lld rule%s)\n",
	       json_string_value(json_object_get(r, "policy_digest")), nr,
	       cli_plural((unsigned long long)nr));
	printf("engine:        %s%s\n",
	       json_is_string(json_object_get(r, "engine"))
		       ? json_string_value(json_object_get(r, "engine"))
		       : "none",
	       json_is_null(er)	  ? ""
	       : json_is_true(er) ? " (reachable)"
				  : " (UNREACHABLE)");
	json_t *se = json_object_get(r, "store_error");
	if (json_is_string(se)) {
		time_t since = (time_t)json_integer_value(json_object_get(r, "store_error_since"));
		printf("store:         STALE since %s", ctime(&since));
		printf("               (%s; serving what was loaded before)\n",
		       json_string_value(se));
	} else {
		printf("store:         ok\n");
	}
	json_t *rf = json_object_get(r, "refused"), *e;
	size_t i;
	json_array_foreach(rf, i, e)
		printf("refused:       %s (%s)\n", json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "error")));
	printf("requests:      %lld (released %lld, denied %lld)\n",
	       (long long)json_integer_value(json_object_get(r, "requests")),
	       (long long)json_integer_value(json_object_get(r, "released")),
	       (long long)json_integer_value(json_object_get(r, "denied")));
	json_decref(r);
	return CLI_OK;
}

CLI_COMMAND(status, .name = "status", .summary = "show the running agent's status", .usage = usage,
	    .run = run);
