/* SPDX-License-Identifier: MIT */
/* Import planning: exact rewrites of Dockerfiles (ENV/ARG rebuilt, legacy
 * ENV dropped, ENTRYPOINT wrapped, COPY added, CMD-only and shell forms),
 * .env (multi-line values) and compose (map/list entries, empty
 * environment keys, flow style left alone), idempotency (a second plan on
 * the rewrite changes nothing), secret names, policy rules, and that no
 * value reaches the rewrite, the policy or the notes. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "migrate.h"
#include "policy.h"
#include "scan.h"

static int plan(const char *path, enum scan_type t, const char *in, const char *prefix,
		const char *image, struct mig_plan *p, struct scan_result *r)
{
	int e;

	scan_result_init(r);
	e = scan_buffer(r, path, t, in, strlen(in));
	ck_assert_int_eq(e, 0);
	return mig_plan_build(path, in, strlen(in), t, r, prefix, image, p);
}

static void assert_clean(const struct scan_result *r, const struct mig_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *v = p->s[i].f->value;
		ck_assert_ptr_null(memmem(p->rewritten, p->rewritten_len, v, strlen(v)));
		ck_assert_ptr_null(strstr(p->policy, v));
		ck_assert_ptr_null(strstr(p->notes, v));
	}
	(void)r;
}

/* Plan again on the rewrite: nothing left to move, text unchanged. */
static void assert_idempotent(const char *path, enum scan_type t, const struct mig_plan *p)
{
	struct scan_result r2;
	struct mig_plan p2;
	char *copy = strndup(p->rewritten, p->rewritten_len);

	ck_assert_int_eq(plan(path, t, copy, "app/", NULL, &p2, &r2), 0);
	ck_assert_uint_eq(p2.n, 0);
	ck_assert(!p2.changed);
	ck_assert_str_eq(p2.rewritten, copy);
	mig_plan_free(&p2);
	scan_result_free(&r2);
	free(copy);
}

static const char df_in[] = "# build\n"
			    "FROM golang:1.22 AS build\n"
			    "ARG GITHUB_TOKEN=ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi\n"
			    "RUN go build\n"
			    "\n"
			    "FROM debian:12\n"
			    "ENV APP_ENV=production \\\n"
			    "    DB_PASSWORD=\"s3cr3t-Pr0d-pa55!\" \\\n"
			    "    GREETING=\"hello world\"\n"
			    "ENV API_KEY c8Fq2LmZ9tRw4XyB7nK1pV6s\n"
			    "USER app\n"
			    "ENTRYPOINT [\"/usr/local/bin/app\", \"serve\"]\n";

static const char df_out[] =
	"# build\n"
	"FROM golang:1.22 AS build\n"
	"ARG GITHUB_TOKEN\n"
	"RUN go build\n"
	"\n"
	"FROM debian:12\n"
	"ENV APP_ENV=production GREETING=\"hello world\"\n"
	"USER app\n"
	"COPY keyhole-shim /keyhole-shim\n"
	"ENTRYPOINT [\"/keyhole-shim\", \"--\", \"/usr/local/bin/app\", \"serve\"]\n";

START_TEST(dockerfile_rewrite)
{
	struct scan_result r;
	struct mig_plan p;
	json_t *pol, *g;

	ck_assert_int_eq(plan("Dockerfile", SCAN_T_DOCKERFILE, df_in, "app/", "acme/app:1", &p, &r),
			 0);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(p.s[0].secret, "app/github_token");
	ck_assert_str_eq(p.s[1].secret, "app/db_password");
	ck_assert_str_eq(p.s[1].file, "db_password");
	ck_assert_str_eq(p.s[2].secret, "app/api_key");
	ck_assert(p.changed);
	ck_assert_str_eq(p.rewritten, df_out);
	ck_assert_ptr_nonnull(strstr(p.notes, "RUN --mount=type=secret"));
	pol = json_loads(p.policy, 0, NULL);
	ck_assert_uint_eq(json_array_size(pol), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_array_get(pol, 0), "match"), "image")),
			 "acme/app:1");
	g = json_object_get(json_array_get(pol, 0), "grant");
	ck_assert_uint_eq(json_array_size(g), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(g, 1), "secret")),
			 "app/db_password");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(g, 1), "file")),
			 "db_password");
	json_decref(pol);
	assert_clean(&r, &p);
	assert_idempotent("Dockerfile", SCAN_T_DOCKERFILE, &p);
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(dockerfile_entry_forms)
{
	struct scan_result r;
	struct mig_plan p;

	/* CMD only: ENTRYPOINT goes in before it, CMD becomes the shim's args */
	ck_assert_int_eq(plan("D", SCAN_T_DOCKERFILE,
			      "FROM x\nUSER 1\nENV TOKEN=ab12cd34ef\nCMD [\"run\"]", NULL, NULL, &p,
			      &r),
			 0);
	ck_assert_str_eq(p.rewritten, "FROM x\nUSER 1\nCOPY keyhole-shim /keyhole-shim\n"
				      "ENTRYPOINT [\"/keyhole-shim\", \"--\"]\nCMD [\"run\"]\n");
	ck_assert_str_eq(p.s[0].secret, "token");
	assert_idempotent("D", SCAN_T_DOCKERFILE, &p);
	mig_plan_free(&p);
	scan_result_free(&r);
	/* shell-form ENTRYPOINT; COPY already present is not repeated */
	ck_assert_int_eq(plan("D", SCAN_T_DOCKERFILE,
			      "FROM x\nCOPY keyhole-shim /keyhole-shim\nENTRYPOINT exec app --x\n",
			      NULL, NULL, &p, &r),
			 0);
	ck_assert_str_eq(p.rewritten,
			 "FROM x\nCOPY keyhole-shim /keyhole-shim\nENTRYPOINT "
			 "[\"/keyhole-shim\", \"--\", \"/bin/sh\", \"-c\", \"exec app --x\"]\n");
	assert_idempotent("D", SCAN_T_DOCKERFILE, &p);
	mig_plan_free(&p);
	scan_result_free(&r);
	/* neither: appended, with a note */
	ck_assert_int_eq(plan("D", SCAN_T_DOCKERFILE, "FROM x", NULL, NULL, &p, &r), 0);
	ck_assert_str_eq(p.rewritten, "FROM x\nCOPY keyhole-shim /keyhole-shim\n"
				      "ENTRYPOINT [\"/keyhole-shim\", \"--\"]\n");
	ck_assert_ptr_nonnull(strstr(p.notes, "CMD"));
	assert_idempotent("D", SCAN_T_DOCKERFILE, &p);
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(env_rewrite)
{
	static const char in[] = "# app\nAPP=web\nexport DB_PASSWORD='m41l-Pa55word'\n"
				 "TLS_KEY=\"-----BEGIN PRIVATE KEY-----\nMIIEvQ\n"
				 "-----END PRIVATE KEY-----\"\nLAST=1\n";
	struct scan_result r;
	struct mig_plan p;

	ck_assert_int_eq(plan(".env", SCAN_T_ENV, in, "web/", NULL, &p, &r), 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.rewritten, "# app\nAPP=web\nLAST=1\n");
	ck_assert_ptr_nonnull(strstr(p.policy, "\"IMAGE\""));
	assert_clean(&r, &p);
	assert_idempotent(".env", SCAN_T_ENV, &p);
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(compose_rewrite)
{
	static const char in[] = "services:\n"
				 "  web:\n"
				 "    image: acme/web:1\n"
				 "    environment:\n"
				 "      DB_PASSWORD: Sup3rS3cretDbPw\n"
				 "      DB_HOST: db\n"
				 "  worker:\n"
				 "    image: acme/worker:1\n"
				 "    environment:\n"
				 "    - GITLAB_TOKEN=glpat-xY7zQ2mN9pL4rT6vW8bC\n"
				 "    # trailing comment\n"
				 "    command: work\n"
				 "  flow:\n"
				 "    environment: {API_TOKEN: Zx8Kq2Lm9Rt4Wv7Bn1}\n";
	static const char out[] = "services:\n"
				  "  web:\n"
				  "    image: acme/web:1\n"
				  "    environment:\n"
				  "      DB_HOST: db\n"
				  "  worker:\n"
				  "    image: acme/worker:1\n"
				  "    # trailing comment\n"
				  "    command: work\n"
				  "  flow:\n"
				  "    environment: {API_TOKEN: Zx8Kq2Lm9Rt4Wv7Bn1}\n";
	struct scan_result r;
	struct mig_plan p;
	json_t *pol;

	ck_assert_int_eq(plan("compose.yml", SCAN_T_COMPOSE, in, "acme/", NULL, &p, &r), 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.rewritten, out);
	ck_assert_ptr_nonnull(strstr(p.notes, "API_TOKEN"));
	pol = json_loads(p.policy, 0, NULL);
	ck_assert_uint_eq(json_array_size(pol), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pol, 1), "name")),
			 "acme-worker"); /* '/' is not allowed in a rule name */
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_array_get(pol, 1), "match"), "image")),
			 "acme/worker:1");
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(pol, 0), "grant")), 1);
	json_decref(pol);
	/* the flow-style value stays (not moved), everything else is clean */
	ck_assert_ptr_null(strstr(p.rewritten, "Sup3rS3cretDbPw"));
	ck_assert_ptr_null(strstr(p.rewritten, "glpat-"));
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

/* The rules import prints must load as they are: wrapped in a policy
 * document, the agent's own parser (agent/policy.c) accepts them. */
static void assert_policy_loads(const struct mig_plan *p)
{
	struct policy *pol = NULL;
	char *doc = NULL, err[512] = "";
	int e;

	ck_assert_int_gt(asprintf(&doc, "{\"version\": 1, \"rules\": %s}", p->policy), 0);
	e = policy_parse(doc, strlen(doc), &pol, err, sizeof err);
	ck_assert_msg(e == 0, "policy rejected: %s\n%s", err, p->policy);
	policy_free(pol);
	free(doc);
}

START_TEST(rule_names_pass_policy_check)
{
	static const struct {
		const char *path, *in, *prefix, *image, *name0;
		enum scan_type t;
	} c[] = {
		{ "compose.yml",
		  "services:\n  api:\n    image: acme/api:1\n    environment:\n"
		  "      DB_PASSWORD: Sup3rS3cretDbPw\n",
		  "payments/", NULL, "payments-api", SCAN_T_COMPOSE },
		{ "compose.yml",
		  "services:\n  api:\n    image: acme/api:1\n    environment:\n"
		  "      DB_PASSWORD: Sup3rS3cretDbPw\n",
		  "team/payments/", NULL, "team-payments-api", SCAN_T_COMPOSE },
		{ "Dockerfile", "FROM x\nENV DB_PASSWORD=Sup3rS3cretDbPw\n", "payments/api/",
		  "acme/api:1", "payments-api", SCAN_T_DOCKERFILE },
		{ "Dockerfile", "FROM x\nENV DB_PASSWORD=Sup3rS3cretDbPw\n", NULL,
		  "registry.example:5000/team/api@sha256:0123", "api", SCAN_T_DOCKERFILE },
		{ ".env", "DB_PASSWORD=Sup3rS3cretDbPw\n", NULL, NULL, "IMAGE", SCAN_T_ENV },
		/* service names that sanitize alike still give unique rule names */
		{ "compose.yml",
		  "services:\n  \"a b\":\n    environment:\n"
		  "      DB_PASSWORD: Sup3rS3cretDbPw\n  a-b:\n    environment:\n"
		  "      DB_PASSWORD: Sup3rS3cretDbPw\n  \"w\\u00e9b\":\n    environment:\n"
		  "      DB_PASSWORD: Sup3rS3cretDbPw\n",
		  "x/", NULL, "x-a-b", SCAN_T_COMPOSE },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct scan_result r;
		struct mig_plan p;
		json_t *pol;
		ck_assert_int_eq(plan(c[i].path, c[i].t, c[i].in, c[i].prefix, c[i].image, &p, &r),
				 0);
		assert_policy_loads(&p);
		pol = json_loads(p.policy, 0, NULL);
		ck_assert_msg(
			!strcmp(json_string_value(json_object_get(json_array_get(pol, 0), "name")),
				c[i].name0),
			"%zu: %s", i, p.policy);
		json_decref(pol);
		mig_plan_free(&p);
		scan_result_free(&r);
	}
}
END_TEST

START_TEST(same_name_twice)
{
	struct scan_result r;
	struct mig_plan p;

	/* same value twice: one secret; a different value: not moved, noted */
	ck_assert_int_eq(plan(".env", SCAN_T_ENV,
			      "TOKEN=abcdef123456\nTOKEN=abcdef123456\nTOKEN=zzzzzz999999\n", NULL,
			      NULL, &p, &r),
			 0);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_str_eq(p.rewritten, "TOKEN=zzzzzz999999\n");
	ck_assert_ptr_nonnull(strstr(p.notes, "different value"));
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(secret_names)
{
	char out[300];

	ck_assert_int_eq(mig_secret_name("app/", "DB_PASSWORD", out, sizeof out), 0);
	ck_assert_str_eq(out, "app/db_password");
	ck_assert_int_eq(mig_secret_name(NULL, "com.acme:key", out, sizeof out), 0);
	ck_assert_str_eq(out, "com.acme_key");
	ck_assert_int_eq(mig_secret_name("../", "X", out, sizeof out), -EINVAL);
	ck_assert_int_eq(mig_secret_name("/abs/", "X", out, sizeof out), -EINVAL);
	ck_assert_int_eq(mig_secret_name("a//", "X", out, sizeof out), -EINVAL);
	ck_assert_int_eq(mig_secret_name("app/", "X", out, 5), -EINVAL);
}
END_TEST

START_TEST(bad_prefix_refused)
{
	struct scan_result r;
	struct mig_plan p;

	ck_assert_int_eq(plan(".env", SCAN_T_ENV, "TOKEN=abcdef123456\n", "../x/", NULL, &p, &r),
			 -EINVAL);
	scan_result_free(&r);
	ck_assert_int_eq(plan("x.json", SCAN_T_INSPECT, "[{\"Config\":{\"User\":\"app\"}}]", NULL,
			      NULL, &p, &r),
			 -EINVAL);
	scan_result_free(&r);
}
END_TEST

START_TEST(run_flags)
{
	ck_assert_ptr_nonnull(strstr(mig_run_flags(), "-v /run/keyhole:/run/keyhole "));
	ck_assert_ptr_nonnull(strstr(mig_run_flags(), "--tmpfs /run/secrets"));
	ck_assert_ptr_null(strstr(mig_run_flags(), "admin"));
}
END_TEST

static Suite *migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *c = tcase_create("migrate");

	tcase_add_test(c, dockerfile_rewrite);
	tcase_add_test(c, dockerfile_entry_forms);
	tcase_add_test(c, env_rewrite);
	tcase_add_test(c, compose_rewrite);
	tcase_add_test(c, rule_names_pass_policy_check);
	tcase_add_test(c, same_name_twice);
	tcase_add_test(c, secret_names);
	tcase_add_test(c, bad_prefix_refused);
	tcase_add_test(c, run_flags);
	suite_add_tcase(s, c);
	return s;
}

CHECK_MAIN(migrate_suite)
