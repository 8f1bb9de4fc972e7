/* SPDX-License-Identifier: MIT */
/* `keyhole explain --pid PID | --container ID`: how the agent sees a
 * process: its attested identity, each rule's verdict with the first
 * failing selector, and what it would be given. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/util.h"

static const char usage[] =
	"usage: keyhole [--admin-socket PATH] explain (--pid PID | --container ID) [--json]\n\n"
	"Attest PID (or a process of container ID) the way the agent attests a\n"
	"caller, and show each policy rule as matched or not with the first\n"
	"selector that failed, and the secrets that would be released.\n";

static void print_identity(json_t *id)
{
	const char *k;
	json_t *v;

	printf("identity:\n");
	json_object_foreach(id, k, v) {
		char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  %-15s %s\n", k, s ? s : json_string_value(v));
		free(s);
	}
}

static void print_explain(json_t *r)
{
	size_t i;
	json_t *v;

	print_identity(json_object_get(r, "identity"));
	printf("rules (policy sha256:%.16s):\n",
	       json_string_value(json_object_get(r, "policy_digest")));
	json_array_foreach(json_object_get(r, "rules"), i, v)
		printf("  %-7s %s: %s\n", json_is_true(json_object_get(v, "matched")) ? "MATCH" : "no",
		       json_string_value(json_object_get(v, "rule")),
		       json_string_value(json_object_get(v, "why")));
	if (json_array_size(json_object_get(r, "release")) == 0)
		printf("would release: nothing\n");
	else
		printf("would release:\n");
	json_array_foreach(json_object_get(r, "release"), i, v)
		printf("  %s -> %s (mode %s, rule %s)%s\n",
		       json_string_value(json_object_get(v, "secret")),
		       json_string_value(json_object_get(v, "file")),
		       json_string_value(json_object_get(v, "mode")),
		       json_string_value(json_object_get(v, "rule")),
		       json_is_true(json_object_get(v, "in_store")) ? "" : " [not in store]");
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "pid", 1, NULL, 'p' }, { "container", 1, NULL, 'c' },
					      { "json", 0, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	const char *cid = NULL;
	uint64_t pid = 0;
	bool as_json = false;
	json_t *rq, *r = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p' && !cli_parse_u64(optarg, 1, 4194304, &pid))
			return cli_usage_error("explain", "--pid: not a pid: %s", optarg);
		else if (c == 'c')
			cid = optarg;
		else if (c == 'j')
			as_json = true;
		else if (c != 'p')
			return cli_usage_error("explain", "unknown option");
	}
	if (optind != argc || (!pid) == (!cid))
		return cli_usage_error("explain", "give exactly one of --pid or --container");
	rq = pid ? json_pack("{s:s, s:I}", "cmd", "explain", "pid", (json_int_t)pid)
		 : json_pack("{s:s, s:s}", "cmd", "explain", "container", cid);
	rc = admin_call_cli("explain", ctx->admin_socket, rq, &r);
	json_decref(rq);
	if (rc)
		return rc;
	if (as_json)
		return cli_print_json(r);
	print_explain(r);
	json_decref(r);
	return CLI_OK;
}

CLI_COMMAND(explain, .name = "explain",
	    .summary = "show a process's identity, each rule's verdict, what it would get",
	    .usage = usage, .run = run);
