/* SPDX-License-Identifier: MIT */
/* `keyhole explain --pid PID | --container ID|NAME`: how the agent sees a
 * process: its attested identity, each rule's verdict with the first
 * failing selector, and what it would be given. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bodybuf.h"
#include "cli/admin_client.h"
#include "cli/util.h"
#include "engine.h"
#include "text.h"

static const char usage[] =
	"usage: keyhole [--admin-socket PATH] explain (--pid PID | --container ID|NAME) [--json]\n\n"
	"Attest PID (or a process of container ID) the way the agent attests a\n"
	"caller, and show each policy rule as matched or not with the first\n"
	"selector that failed, and the secrets that would be released. A container\n"
	"name is looked up in the agent's engine (keyholed --engine).\n";

static bool is_container_id(const char *s)
{
	size_t n = strlen(s);
	return n >= 12 && n <= 64 && text_is_hex(s, n);
}

/* Docker/podman names: [A-Za-z0-9][A-Za-z0-9_.-]* (an optional leading '/'). */
static bool is_container_name(const char *s)
{
	s += *s == '/';
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	for (size_t i = 0; s[i]; i++)
		if (i >= 255 ||
		    !(s[i] == '_' || s[i] == '.' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* GET /containers/NAME/json on the engine's socket; 0 and the full id. */
static int engine_lookup(const char *url, const char *name, char id[65])
{
	struct bodybuf b = { .max = ENGINE_MAX_BODY };
	struct container_meta m;
	char u[512];
	long code = 0;
	CURL *c;
	int r = -EHOSTUNREACH;

	if (strncmp(url, "unix://", 7) != 0 || !(c = curl_easy_init()))
		return -EINVAL;
	snprintf(u, sizeof(u), "http://engine/containers/%s/json", name + (*name == '/'));
	if (curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, url + 7) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_URL, u) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bodybuf_write) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) == CURLE_OK &&
	    curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
		r = code == 404 ? -ENOENT : code != 200 ? -EBADMSG : 0;
	curl_easy_cleanup(c);
	if (r == 0 && (r = engine_parse_container(b.p ? b.p : "", b.len, &m)) == 0) {
		memcpy(id, m.id, 65);
		container_meta_clear(&m);
	}
	bodybuf_free(&b);
	return r;
}

/* A container NAME becomes its id through the engine the agent uses. */
static int resolve_name(struct cli_ctx *ctx, const char *name, char id[65])
{
	json_t *rq = json_pack("{s:s}", "cmd", "status"), *st = NULL;
	const char *url;
	int rc = admin_call_cli("explain", ctx->admin_socket, rq, &st), r;

	json_decref(rq);
	if (rc)
		return rc;
	url = json_string_value(json_object_get(st, "engine"));
	if (!url) {
		json_decref(st);
		fprintf(stderr,
			"keyhole: explain: '%s' is not a container id and keyholed has no "
			"--engine to look names up; give the id (docker ps --no-trunc)\n",
			name);
		return CLI_EUSAGE;
	}
	r = engine_lookup(url, name, id);
	if (r < 0)
		fprintf(stderr, "keyhole: explain: container '%s' %s (engine %s)\n", name,
			r == -ENOENT ? "not found" : "could not be looked up", url);
	json_decref(st);
	return r == -ENOENT ? CLI_ENOTFOUND : r < 0 ? CLI_EAGENT : 0;
}

static void print_identity(json_t *id)
{
	const char *k;
	json_t *v;

	printf("identity:\n");
	json_object_foreach(id, k, v)
	{
		char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  %-15s %s\n", k, s ? s : json_string_value(v));
		free(s);
	}
}

/* "    rendered from db.tmpl (escape url), uses pay/db, pay/host" */
static void print_template(json_t *g)
{
	const char *t = json_string_value(json_object_get(g, "template"));
	size_t i;
	json_t *v;

	if (!t)
		return;
	printf("    rendered from %s (escape %s), uses", t,
	       json_string_value(json_object_get(g, "escape")));
	json_array_foreach(json_object_get(g, "uses"), i, v)
		printf("%s %s", i ? "," : "", json_string_value(v));
	printf("\n");
}

/* One released grant: its file, and how it reaches the app's environment. */
static void print_release(json_t *v)
{
	const char *env = json_string_value(json_object_get(v, "env"));
	const char *env_file = json_string_value(json_object_get(v, "env_file"));
	const char *rule = json_string_value(json_object_get(v, "rule"));

	printf("  %s ->", json_string_value(json_object_get(v, "secret")));
	if (!json_is_false(json_object_get(v, "writes_file")))
		printf(" %s (mode %s, rule %s)", json_string_value(json_object_get(v, "file")),
		       json_string_value(json_object_get(v, "mode")), rule);
	if (env_file)
		printf(" + env_file %s (the file's path)", env_file);
	if (env)
		printf("%s env %s (value in the app's environment: readable in /proc/PID/environ by "
		       "the same uid, inherited by children)",
		       json_is_false(json_object_get(v, "writes_file")) ? "" : " +", env);
	if (json_is_false(json_object_get(v, "writes_file")))
		printf(" (rule %s)", rule);
	printf("%s\n", json_is_true(json_object_get(v, "in_store")) ? "" : " [not in store]");
}

static void print_explain(json_t *r)
{
	size_t i;
	json_t *v;

	print_identity(json_object_get(r, "identity"));
	printf("rules (policy sha256:%.16s):\n",
	       json_string_value(json_object_get(r, "policy_digest")));
	json_array_foreach(json_object_get(r, "rules"), i, v) printf(
		"  %-7s %s: %s\n", json_is_true(json_object_get(v, "matched")) ? "MATCH" : "no",
		json_string_value(json_object_get(v, "rule")),
		json_string_value(json_object_get(v, "why")));
	if (json_array_size(json_object_get(r, "release")) == 0)
		printf("would release: nothing\n");
	else
		printf("would release:\n");
	json_array_foreach(json_object_get(r, "release"), i, v)
	{
		print_release(v);
		print_template(v);
	}
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "pid", 1, NULL, 'p' },
					      { "container", 1, NULL, 'c' },
					      { "json", 0, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	const char *cid = NULL;
	char idbuf[65];
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
	if (cid && !is_container_id(cid)) {
		if (!is_container_name(cid))
			return cli_usage_error("explain",
					       "--container: '%s' is neither a container "
					       "id nor a name",
					       cid);
		if ((rc = resolve_name(ctx, cid, idbuf)) != 0)
			return rc;
		cid = idbuf;
	}
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
