/* SPDX-License-Identifier: MIT */
/* Policy parse (every load error, unknown keys, caps) and evaluation (each
 * selector, globs, labels, require, union of rules, defaults, denial
 * reasons) on made-up identities: policy.c is pure, so no agent needed. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "policy.h"
#include "proto.h"

static struct policy *P;
static char err[512];

static int parse(const char *j)
{
	policy_free(P);
	P = NULL;
	return policy_parse(j, strlen(j), &P, err, sizeof(err));
}

static void teardown(void)
{
	policy_free(P);
	P = NULL;
}

#define RULE(m, g) "{\"version\":1,\"rules\":[{\"name\":\"r\",\"match\":{" m "},\"grant\":[" g "]}]}"
#define G(s) "{\"secret\":\"" s "\"}"

START_TEST(parse_valid_example)
{
	const char *j = "{ \"version\": 1, \"rules\": [ { \"name\": \"payments-api\", \"match\": {"
			"\"runtime\": \"podman\", \"name\": \"payments-*\", \"image\": "
			"\"localhost/payments:*\", \"labels\": {\"team\": \"payments\"}, \"uid\": 1000 },"
			"\"require\": { \"privileged\": false, \"root\": false }, \"grant\": [ { "
			"\"secret\": \"payments/db-password\", \"file\": \"db_password\", \"mode\": "
			"\"0400\" } ] } ] }";
	ck_assert_int_eq(parse(j), 0);
	ck_assert_uint_eq(P->n_rules, 1);
	ck_assert_str_eq(P->rules[0].grants[0].file, "db_password");
	ck_assert_uint_eq(P->rules[0].grants[0].mode, 0400);
	ck_assert(P->rules[0].req_unprivileged && P->rules[0].req_nonroot);
	ck_assert_uint_eq(strlen(P->digest), 64);
}
END_TEST

START_TEST(parse_defaults)
{
	ck_assert_int_eq(parse(RULE("", G("a/b/c") ",{\"secret\":\"x\",\"mode\":\"0440\"}")), 0);
	ck_assert_str_eq(P->rules[0].grants[0].file, "a_b_c");
	ck_assert_uint_eq(P->rules[0].grants[0].mode, 0400);
	ck_assert_uint_eq(P->rules[0].grants[1].mode, 0440);
	ck_assert_int_eq(parse("{\"version\":1,\"rules\":[]}"), 0);
}
END_TEST

static const char *const bad[][2] = {
	{ "not json", "line" },
	{ "[]", "top level" },
	{ "{\"rules\":[]}", "version" },
	{ "{\"version\":2,\"rules\":[]}", "version" },
	{ "{\"version\":1}", "rules" },
	{ "{\"version\":1,\"rules\":[],\"extra\":1}", "unknown key 'extra'" },
	{ "{\"version\":1,\"version\":1,\"rules\":[]}", "duplicate" },
	{ "{\"version\":1,\"rules\":[{\"match\":{},\"grant\":[" G("a") "]}]}", "missing \"name\"" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"a b\",\"grant\":[" G("a") "]}]}", "name" },
	{ RULE("\"imgae\":\"x\"", G("a")), "unknown key 'imgae'" },
	{ RULE("\"runtime\":\"lxc\"", G("a")), "unknown runtime" },
	{ RULE("\"container_id\":\"abc\"", G("a")), "64-hex" },
	{ RULE("\"uid\":-1", G("a")), "uid" },
	{ RULE("\"uid\":\"0\"", G("a")), "uid" },
	{ RULE("\"gid\":4294967295", G("a")), "gid" },
	{ RULE("\"labels\":[]", G("a")), "labels" },
	{ RULE("\"labels\":{\"a\":1}", G("a")), "labels" },
	{ RULE("\"name\":\"\"", G("a")), "name" },
	{ RULE("", ""), "non-empty" },
	{ RULE("", "{\"file\":\"f\"}"), "missing \"secret\"" },
	{ RULE("", "{\"secret\":\"../x\"}"), "invalid secret name" },
	{ RULE("", "{\"secret\":\"a\",\"file\":\"a/b\"}"), "invalid file name" },
	{ RULE("", "{\"secret\":\"a\",\"file\":\".hidden\"}"), "invalid file name" },
	{ RULE("", "{\"secret\":\"a\",\"mode\":\"0200\"}"), "mode" },
	{ RULE("", "{\"secret\":\"a\",\"mode\":\"1777\"}"), "mode" },
	{ RULE("", "{\"secret\":\"a\",\"mode\":\"0o400\"}"), "mode" },
	{ RULE("", "{\"secret\":\"a\",\"mode\":400}"), "mode" },
	{ RULE("", "{\"secret\":\"a\",\"owner\":\"x\"}"), "unknown key 'owner'" },
	{ RULE("", "{\"secret\":\"a\",\"file\":\"f\"},{\"secret\":\"b\",\"file\":\"f\"}"),
	  "file 'f' granted twice" },
	{ RULE("", "{\"secret\":\"a\",\"file\":\"f1\"},{\"secret\":\"a\",\"file\":\"f2\"}"),
	  "secret 'a' granted twice" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{\"caps\":false},\"grant\":["
	  G("a") "]}]}", "unknown key 'caps'" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{\"root\":0},\"grant\":["
	  G("a") "]}]}", "root" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[" G("a") "]},{\"name\":\"r\","
	  "\"grant\":[" G("b") "]}]}", "duplicate rule name" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[{\"secret\":\"a\",\"file\":\"f\"}]},"
	  "{\"name\":\"r2\",\"grant\":[{\"secret\":\"b\",\"file\":\"f\"}]}]}", "conflicts with rule 'r1'" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[{\"secret\":\"a\",\"file\":\"f\"}]},"
	  "{\"name\":\"r2\",\"grant\":[{\"secret\":\"a\",\"file\":\"g\"}]}]}", "conflicts" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[{\"secret\":\"a\"}]},"
	  "{\"name\":\"r2\",\"grant\":[{\"secret\":\"a\",\"mode\":\"0440\"}]}]}", "conflicts" },
};

START_TEST(parse_errors)
{
	ck_assert_msg(parse(bad[_i][0]) == -EINVAL, "accepted: %s", bad[_i][0]);
	ck_assert_ptr_null(P);
	ck_assert_msg(strstr(err, bad[_i][1]) != NULL, "case %d: '%s' lacks '%s'", _i, err,
		      bad[_i][1]);
}
END_TEST

START_TEST(parse_same_secret_two_rules_ok)
{
	ck_assert_int_eq(parse("{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[" G("a") "]},"
			       "{\"name\":\"r2\",\"grant\":[" G("a") "]}]}"), 0);
}
END_TEST

static char *big_policy(size_t rules, size_t grants, size_t labels)
{
	size_t cap = 64 + rules * (64 + grants * 40 + labels * 24), off = 0;
	char *s = malloc(cap);

	off += (size_t)snprintf(s + off, cap - off, "{\"version\":1,\"rules\":[");
	for (size_t r = 0; r < rules; r++) {
		off += (size_t)snprintf(s + off, cap - off, "%s{\"name\":\"r%zu\",\"match\":{\"labels\":{",
					r ? "," : "", r);
		for (size_t l = 0; l < labels; l++)
			off += (size_t)snprintf(s + off, cap - off, "%s\"l%zu\":\"v\"", l ? "," : "", l);
		off += (size_t)snprintf(s + off, cap - off, "}},\"grant\":[");
		for (size_t g = 0; g < grants; g++)
			off += (size_t)snprintf(s + off, cap - off, "%s{\"secret\":\"s%zu/%zu\"}",
						g ? "," : "", r, g);
		off += (size_t)snprintf(s + off, cap - off, "]}");
	}
	snprintf(s + off, cap - off, "]}");
	return s;
}

START_TEST(parse_caps)
{
	char *s;

	s = big_policy(POLICY_MAX_RULES, 1, 0);
	ck_assert_int_eq(parse(s), 0);
	free(s);
	s = big_policy(POLICY_MAX_RULES + 1, 1, 0);
	ck_assert_int_eq(parse(s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "rules"));
	free(s);
	s = big_policy(1, POLICY_MAX_GRANTS + 1, 0);
	ck_assert_int_eq(parse(s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "grants"));
	free(s);
	s = big_policy(1, 1, POLICY_MAX_LABELS + 1);
	ck_assert_int_eq(parse(s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "labels"));
	free(s);
	s = big_policy(1, 1, POLICY_MAX_LABELS);
	ck_assert_int_eq(parse(s), 0);
	free(s);
	s = calloc(1, POLICY_MAX_BYTES + 2);
	memset(s, ' ', POLICY_MAX_BYTES + 1);
	ck_assert_int_eq(parse(s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "larger"));
	free(s);
}
END_TEST

START_TEST(parse_total_grants_cap)
{
	char *s = big_policy(POLICY_MAX_TOTAL_GRANTS / POLICY_MAX_GRANTS + 1, POLICY_MAX_GRANTS, 0);

	ck_assert_int_eq(parse(s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "in all"));
	free(s);
}
END_TEST

/* ---- evaluation ---- */

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct peer PE;
static struct container_meta M;
static struct policy_identity ID;
static struct policy_eval *EV;

static void id_host(uid_t uid)
{
	memset(&PE, 0, sizeof(PE));
	PE.pid = 42;
	PE.uid = uid;
	PE.gid = uid;
	PE.pidfd = -1;
	snprintf(PE.cg.path, sizeof(PE.cg.path), "/user.slice/session-1.scope");
	ID = (struct policy_identity){ &PE, NULL, NULL, NULL };
}

static void id_podman(bool with_meta)
{
	id_host(1000);
	PE.cg.runtime = RT_PODMAN;
	snprintf(PE.cg.id, sizeof(PE.cg.id), "%s", CID);
	snprintf(PE.cg.path, sizeof(PE.cg.path), "/machine.slice/libpod-%s.scope", CID);
	container_meta_clear(&M);
	memset(&M, 0, sizeof(M));
	snprintf(M.id, sizeof(M.id), "%s", CID);
	snprintf(M.name, sizeof(M.name), "payments-1");
	snprintf(M.image, sizeof(M.image), "localhost/payments:1");
	snprintf(M.image_id, sizeof(M.image_id), "sha256:abc");
	snprintf(M.user, sizeof(M.user), "1000");
	M.labels = json_pack("{s:s, s:s}", "team", "payments", "tier", "db");
	ID.meta = with_meta ? &M : NULL;
	ID.meta_err = with_meta ? NULL : "engine unreachable: Connection refused";
}

static void eval_teardown(void)
{
	policy_eval_free(EV);
	EV = NULL;
	container_meta_clear(&M);
	memset(&M, 0, sizeof(M));
	teardown();
}

/* Does a one-rule policy with match m grant "s" to the identity? */
static bool grants(const char *m)
{
	char j[2048];

	snprintf(j, sizeof(j), RULE("%s", G("s")), m);
	ck_assert_msg(parse(j) == 0, "parse %s: %s", j, err);
	policy_eval_free(EV);
	EV = NULL;
	ck_assert_int_eq(policy_eval(P, &ID, &EV), 0);
	ck_assert_uint_eq(EV->n_rules, 1);
	ck_assert_int_eq(EV->rules[0].matched, policy_eval_find(EV, "s") != NULL);
	return policy_eval_find(EV, "s") != NULL;
}

START_TEST(match_host_selectors)
{
	id_host(0);
	ck_assert(grants(""));
	ck_assert(grants("\"runtime\":\"host\",\"uid\":0,\"gid\":0"));
	ck_assert(!grants("\"runtime\":\"podman\""));
	ck_assert_str_eq(EV->rules[0].why, "runtime 'host' is not 'podman'");
	ck_assert(!grants("\"uid\":1"));
	ck_assert_str_eq(EV->rules[0].why, "uid 0 is not 1");
	ck_assert(!grants("\"gid\":5"));
	ck_assert(grants("\"cgroup\":\"/user.slice/*\""));
	ck_assert(!grants("\"cgroup\":\"/system.slice/*\""));
	ck_assert(!grants("\"container_id\":\"" CID "\""));
	/* metadata selectors never match a host process */
	ck_assert(!grants("\"name\":\"*\""));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "host process"));
	id_host(1000);
	ck_assert(!grants("\"runtime\":\"host\",\"uid\":0"));
}
END_TEST

START_TEST(match_container_selectors)
{
	id_podman(true);
	ck_assert(grants("\"runtime\":\"podman\",\"container_id\":\"" CID "\""));
	ck_assert(!grants("\"runtime\":\"docker\""));
	ck_assert(grants("\"name\":\"payments-*\""));
	ck_assert(!grants("\"name\":\"billing-*\""));
	ck_assert_str_eq(EV->rules[0].why, "name 'payments-1' does not match 'billing-*'");
	ck_assert(grants("\"image\":\"localhost/payments:*\""));
	ck_assert(!grants("\"image\":\"localhost/other:*\""));
	ck_assert(grants("\"image_id\":\"sha256:abc\""));
	ck_assert(!grants("\"image_id\":\"sha256:abd\""));
	ck_assert(grants("\"labels\":{\"team\":\"payments\"}"));
	ck_assert(grants("\"labels\":{\"team\":\"payments\",\"tier\":\"db\"}"));
	ck_assert(!grants("\"labels\":{\"team\":\"payment\"}"));
	ck_assert(!grants("\"labels\":{\"team\":\"payments*\"}")); /* exact, not a glob */
	ck_assert(!grants("\"labels\":{\"owner\":\"x\"}"));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "absent"));
	ck_assert(grants("\"cgroup\":\"/machine.slice/libpod-*.scope\""));
	ck_assert(grants("\"uid\":1000"));
	/* all selectors must hold: the first failing one is reported */
	ck_assert(!grants("\"name\":\"payments-*\",\"image\":\"localhost/other:1\""));
	ck_assert_str_eq(EV->rules[0].why,
			 "image 'localhost/payments:1' does not match 'localhost/other:1'");
}
END_TEST

START_TEST(match_no_metadata_fails_closed)
{
	id_podman(false);
	ck_assert(grants("\"runtime\":\"podman\",\"container_id\":\"" CID "\""));
	ck_assert(!grants("\"runtime\":\"podman\",\"name\":\"*\""));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "engine unreachable"));
	ID.meta_err = NULL;
	ck_assert(!grants("\"image\":\"*\""));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "no --engine"));
}
END_TEST

static bool grants_req(const char *req)
{
	char j[1024];

	snprintf(j, sizeof(j), "{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{%s},"
		 "\"grant\":[" G("s") "]}]}", req);
	ck_assert_int_eq(parse(j), 0);
	policy_eval_free(EV);
	EV = NULL;
	ck_assert_int_eq(policy_eval(P, &ID, &EV), 0);
	return policy_eval_find(EV, "s") != NULL;
}

START_TEST(match_require)
{
	id_podman(true);
	ck_assert(grants_req("\"privileged\":false,\"root\":false"));
	M.privileged = true;
	ck_assert(!grants_req("\"privileged\":false"));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "privileged"));
	ck_assert(grants_req("\"privileged\":true"));
	ck_assert(grants_req("\"root\":false"));
	M.root = true;
	ck_assert(!grants_req("\"root\":false"));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "root"));
	id_podman(false);
	ck_assert(!grants_req("\"root\":false"));
	id_host(1000);
	ck_assert(!grants_req("\"root\":false"));
}
END_TEST

START_TEST(eval_union_and_reason)
{
	const char *j =
		"{\"version\":1,\"rules\":["
		"{\"name\":\"a\",\"match\":{\"runtime\":\"podman\"},\"grant\":[" G("x") "," G("y") "]},"
		"{\"name\":\"b\",\"match\":{\"name\":\"payments-*\"},\"grant\":[" G("y") "," G("z") "]},"
		"{\"name\":\"payments-api\",\"match\":{\"image\":\"localhost/other:*\"},\"grant\":["
		G("w") "]}]}";
	char why[PROTO_MAX_REASON + 1];

	id_podman(true);
	ck_assert_int_eq(parse(j), 0);
	ck_assert_int_eq(policy_eval(P, &ID, &EV), 0);
	ck_assert_uint_eq(EV->n_grants, 3);
	ck_assert_ptr_nonnull(policy_eval_find(EV, "x"));
	ck_assert_str_eq(policy_eval_find(EV, "y")->rule->name, "a");
	ck_assert_str_eq(policy_eval_find(EV, "z")->rule->name, "b");
	ck_assert_ptr_null(policy_eval_find(EV, "w"));
	policy_deny_reason(P, EV, &ID, "w", why, sizeof(why));
	ck_assert_str_eq(why, "no rule grants 'w' to podman container payments-1 (rule "
			      "payments-api: image 'localhost/payments:1' does not match "
			      "'localhost/other:*')");
	policy_deny_reason(P, EV, &ID, "nothing", why, sizeof(why));
	ck_assert_str_eq(why, "no rule grants 'nothing' to podman container payments-1");
	policy_deny_reason(P, EV, &ID, "w", why, 20); /* truncates, stays terminated */
	ck_assert_uint_eq(strlen(why), 19);
	ck_assert(policy_mentions(P, "w"));
	ck_assert(!policy_mentions(P, "v"));
}
END_TEST

START_TEST(eval_default_deny)
{
	id_host(0);
	ck_assert_int_eq(parse("{\"version\":1,\"rules\":[]}"), 0);
	ck_assert_int_eq(policy_eval(P, &ID, &EV), 0);
	ck_assert_uint_eq(EV->n_grants, 0);
	ck_assert_ptr_null(policy_eval_find(EV, "anything"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("policy");
	TCase *p = tcase_create("parse"), *m = tcase_create("match");

	tcase_add_checked_fixture(p, NULL, teardown);
	tcase_add_test(p, parse_valid_example);
	tcase_add_test(p, parse_defaults);
	tcase_add_loop_test(p, parse_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(p, parse_same_secret_two_rules_ok);
	tcase_add_test(p, parse_caps);
	tcase_add_test(p, parse_total_grants_cap);
	tcase_set_timeout(p, 30);
	suite_add_tcase(s, p);
	tcase_add_checked_fixture(m, NULL, eval_teardown);
	tcase_add_test(m, match_host_selectors);
	tcase_add_test(m, match_container_selectors);
	tcase_add_test(m, match_no_metadata_fails_closed);
	tcase_add_test(m, match_require);
	tcase_add_test(m, eval_union_and_reason);
	tcase_add_test(m, eval_default_deny);
	suite_add_tcase(s, m);
	return s;
}

CHECK_MAIN(suite)
