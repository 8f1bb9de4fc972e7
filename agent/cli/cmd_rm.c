/* SPDX-License-Identifier: MIT */
/* `keyhole rm NAME`: delete a secret and all its versions. A secret that a
 * rule grants or a running watcher holds is listed and needs --force: an
 * rm would pull it from under running apps. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "policy.h"
#include "util.h"

static const char usage[] =
	"usage: keyhole rm [--force] [--policy FILE] NAME\n\n"
	"Delete NAME and every kept version. Exit 3 if it does not exist.\n"
	"If a policy rule grants NAME or a running container watches it (asked of\n"
	"the agent; without an agent the policy FILE, default\n"
	"/etc/keyhole/policy.json, is read), they are listed and rm refuses\n"
	"(exit 1) unless --force. The change is written to the agent's audit log.\n";

/* The rules granting name and the watchers holding it, printed to out
 * (NULL: only counted). *asked: the agent answered. */
static size_t holders_from_agent(struct cli_ctx *ctx, const char *name, FILE *out, bool *asked)
{
	json_t *rq = json_pack("{s:s, s:s}", "cmd", "holders", "secret", name), *r = NULL, *v;
	size_t n = 0, i;

	*asked = admin_call(ctx->admin_socket, rq, &r) == 0 &&
		 json_is_true(json_object_get(r, "ok"));
	json_decref(rq);
	if (!*asked) {
		json_decref(r);
		return 0;
	}
	json_array_foreach(json_object_get(r, "rules"), i, v)
	{
		if (out)
			fprintf(out, "  granted by rule %s\n", json_string_value(v));
		n++;
	}
	json_array_foreach(json_object_get(r, "watchers"), i, v)
	{
		const char *c = json_string_value(json_object_get(v, "container"));
		if (out)
			fprintf(out, "  held by %s%s (pid %lld)\n",
				c ? "container " : "a host process", c ? c : "",
				(long long)json_integer_value(json_object_get(v, "pid")));
		n++;
	}
	json_decref(r);
	return n;
}

static size_t holders_from_file(const char *path, const char *name, FILE *out)
{
	char *buf = NULL, err[256];
	struct policy *p = NULL;
	size_t len = 0, n = 0;

	if (cli_read_small_file(path, POLICY_MAX_BYTES, &buf, &len) < 0)
		return 0;
	if (policy_parse(buf, len, &p, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < p->n_rules; i++)
			for (size_t g = 0; g < p->rules[i].n_grants; g++)
				if (strcmp(p->rules[i].grants[g].secret, name) == 0) {
					if (out)
						fprintf(out, "  granted by rule %s (%s)\n",
							p->rules[i].name, path);
					n++;
					break;
				}
		policy_free(p);
	}
	free(buf);
	return n;
}

/* Ask the agent; without one, read the policy file. */
static size_t holders(struct cli_ctx *ctx, const char *name, const char *policy, FILE *out)
{
	bool asked = false;
	size_t n = holders_from_agent(ctx, name, out, &asked);

	return asked ? n : holders_from_file(policy, name, out);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "policy", required_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	const char *policy = KH_DEFAULT_POLICY, *name;
	struct ks_store *ks = NULL;
	bool force = false;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'p')
			policy = optarg;
		else
			return cli_usage_error("rm", "unknown option %s", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_error("rm", "expected exactly one NAME");
	name = argv[optind];
	if ((r = cli_check_name("rm", name)))
		return r;
	if (!force && holders(ctx, name, policy, NULL) > 0) {
		fprintf(stderr, "keyhole: rm %s: refused, the secret is in use:\n", name);
		holders(ctx, name, policy, stderr);
		fprintf(stderr, "give --force to delete it anyway (watchers then lose it), or "
				"remove the grants from the policy first\n");
		return CLI_EFAIL;
	}
	r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks);
	if (r)
		return r;
	r = ks_rm(ks, name);
	r = r < 0 ? cli_fail(r, "rm %s", name) : CLI_OK;
	if (r == CLI_OK)
		cli_audit(ctx, AUDIT_RM, name, 0, force ? "--force" : NULL);
	ks_close(ks);
	return r;
}

CLI_COMMAND(rm, .name = "rm", .summary = "delete a secret", .usage = usage, .run = run);
