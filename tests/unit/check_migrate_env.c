/* SPDX-License-Identifier: MIT */
/* `keyhole import --deliver`: the printed policy rule for env-file (each
 * grant gains "env_file": "<VAR>_FILE") and env ("env": "<VAR>", no file),
 * the file form untouched by default, a variable keyhole refuses to set
 * (PATH) kept as a file with a note, and the rule accepted by the policy
 * parser as printed. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "migrate.h"
#include "policy.h"
#include "scan.h"

static const char df[] = "FROM x\n"
			 "ENV DATABASE_URL=postgres://shop:Kq7v-Rm2x-Lp9z@db:5432/shop\n"
			 "ENV PATH=/usr/bin:/sk_live_4eC39HqLyjWDarjtT1zdp7dc\n"
			 "CMD [\"app\"]\n";

static void build(enum mig_delivery d, struct mig_plan *p, struct scan_result *r)
{
	scan_result_init(r);
	ck_assert_int_eq(scan_buffer(r, "Dockerfile", SCAN_T_DOCKERFILE, df, strlen(df)), 0);
	ck_assert_int_eq(mig_plan_build("Dockerfile", df, strlen(df), SCAN_T_DOCKERFILE, r, "shop/",
					"img:1", p),
			 0);
	ck_assert_int_eq(mig_policy_delivery(p, d), 0);
}

/* The printed rules must load as a policy. */
static void assert_loads(const char *rules)
{
	char doc[8192], err[256];
	struct policy *pol = NULL;
	snprintf(doc, sizeof doc, "{\"version\":1,\"rules\":%s}", rules);
	ck_assert_msg(policy_parse(doc, strlen(doc), &pol, err, sizeof err) == 0, "%s", err);
	policy_free(pol);
}

START_TEST(default_is_file)
{
	struct mig_plan p;
	struct scan_result r;
	build(MIG_D_FILE, &p, &r);
	ck_assert_ptr_null(strstr(p.policy, "env"));
	ck_assert_ptr_nonnull(strstr(p.policy, "\"file\": \"database_url\""));
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(env_file_form)
{
	struct mig_plan p;
	struct scan_result r;
	build(MIG_D_ENV_FILE, &p, &r);
	ck_assert_ptr_nonnull(strstr(p.policy, "\"env_file\": \"DATABASE_URL_FILE\""));
	ck_assert_ptr_nonnull(strstr(p.policy, "\"file\": \"database_url\""));
	assert_loads(p.policy);
	ck_assert_ptr_null(strstr(p.policy, "Kq7v"));
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(env_form)
{
	struct mig_plan p;
	struct scan_result r;
	build(MIG_D_ENV, &p, &r);
	ck_assert_ptr_nonnull(strstr(p.policy, "\"env\": \"DATABASE_URL\""));
	ck_assert_ptr_null(strstr(p.policy, "\"file\": \"database_url\""));
	assert_loads(p.policy);
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

START_TEST(refused_variable_stays_a_file)
{
	struct mig_plan p;
	struct scan_result r;
	build(MIG_D_ENV, &p, &r);
	bool moved = false;
	for (size_t i = 0; i < p.n; i++)
		moved |= !strcmp(p.s[i].var, "PATH");
	ck_assert(moved); /* the sample must exercise it */
	ck_assert_ptr_null(strstr(p.policy, "\"env\": \"PATH\""));
	ck_assert_ptr_nonnull(strstr(p.policy, "\"file\": \"path\""));
	ck_assert_ptr_nonnull(strstr(p.notes, "PATH: not a variable name keyhole sets"));
	ck_assert_int_eq(mig_policy_delivery(&p, (enum mig_delivery)7), -EINVAL);
	mig_plan_free(&p);
	scan_result_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("migrate_env");
	TCase *tc = tcase_create("deliver");
	tcase_add_test(tc, default_is_file);
	tcase_add_test(tc, env_file_form);
	tcase_add_test(tc, env_form);
	tcase_add_test(tc, refused_variable_stays_a_file);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
