/* SPDX-License-Identifier: MIT */
/* Policy parse (every load error, unknown keys, caps) and evaluation (each
 * selector, globs, labels, require, union of rules, defaults, denial
 * reasons) on made-up identities: policy.c is pure, so no agent needed. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
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

#define RULE(m, g)                                                                                 \
	"{\"version\":1,\"rules\":[{\"name\":\"r\",\"match\":{" m "},\"grant\":[" g "]}]}"
#define G(s) "{\"secret\":\"" s "\"}"
#define REQ(q)                                                                                     \
	"{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{" q "},\"grant\":[" G("a") "]}]}"

START_TEST(parse_valid_example)
{
	const char *j =
		"{ \"version\": 1, \"rules\": [ { \"name\": \"payments-api\", \"match\": {"
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
	ck_assert(!P->rules[0].has_caps && !P->rules[0].req_no_host_ns);
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
	{ "{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{\"caps\":false},\"grant\":[" G(
		  "a") "]}]}",
	  "unknown key 'caps'" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{\"root\":0},\"grant\":[" G(
		  "a") "]}]}",
	  "root" },
	{ REQ("\"host_namespaces\":\"no\""), "require.host_namespaces: must be true or false" },
	{ REQ("\"unconfined\":null"), "require.unconfined" },
	{ REQ("\"host_mounts\":0"), "require.host_mounts" },
	{ REQ("\"devices\":[]"), "require.devices" },
	{ REQ("\"capabilities\":\"NET_RAW\""), "require.capabilities: must be an array" },
	{ REQ("\"capabilities\":[\"NET_BIND_SERIVCE\"]"), "capabilities[0]: not a capability" },
	{ REQ("\"capabilities\":[\"NET_RAW\",1]"), "capabilities[1]" },
	{ REQ("\"capabilities\":[\"CAP_\"]"), "capabilities[0]" },
	{ REQ("\"capabilites\":[]"), "unknown key 'capabilites'" },
	{ REQ("\"seccomp\":false"), "unknown key 'seccomp'" },
	{ REQ("\"x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x\":1"),
	  "unknown key" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[" G("a") "]},{\"name\":\"r\","
									 "\"grant\":[" G(
										 "b") "]}]}",
	  "duplicate rule name" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[{\"secret\":\"a\",\"file\":\"f\"}]},"
	  "{\"name\":\"r2\",\"grant\":[{\"secret\":\"b\",\"file\":\"f\"}]}]}",
	  "conflicts with rule 'r1'" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[{\"secret\":\"a\",\"file\":\"f\"}]},"
	  "{\"name\":\"r2\",\"grant\":[{\"secret\":\"a\",\"file\":\"g\"}]}]}",
	  "conflicts" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[{\"secret\":\"a\"}]},"
	  "{\"name\":\"r2\",\"grant\":[{\"secret\":\"a\",\"mode\":\"0440\"}]}]}",
	  "conflicts" },
};

static bool valid_utf8(const char *s);

START_TEST(parse_errors)
{
	ck_assert_msg(parse(bad[_i][0]) == -EINVAL, "accepted: %s", bad[_i][0]);
	ck_assert_msg(valid_utf8(err), "case %d: error not UTF-8", _i);
	ck_assert_ptr_null(P);
	ck_assert_msg(strstr(err, bad[_i][1]) != NULL, "case %d: '%s' lacks '%s'", _i, err,
		      bad[_i][1]);
}
END_TEST

START_TEST(parse_same_secret_two_rules_ok)
{
	ck_assert_int_eq(parse("{\"version\":1,\"rules\":[{\"name\":\"r1\",\"grant\":[" G(
				 "a") "]},"
				      "{\"name\":\"r2\",\"grant\":[" G("a") "]}]}"),
			 0);
}
END_TEST

static char *big_policy(size_t rules, size_t grants, size_t labels)
{
	size_t cap = 64 + rules * (64 + grants * 40 + labels * 24), off = 0;
	char *s = malloc(cap);

	off += (size_t)snprintf(s + off, cap - off, "{\"version\":1,\"rules\":[");
	for (size_t r = 0; r < rules; r++) {
		off += (size_t)snprintf(s + off, cap - off,
					"%s{\"name\":\"r%zu\",\"match\":{\"labels\":{",
					r ? "," : "", r);
		for (size_t l = 0; l < labels; l++)
			off += (size_t)snprintf(s + off, cap - off, "%s\"l%zu\":\"v\"",
						l ? "," : "", l);
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

	snprintf(j, sizeof(j),
		 "{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":{%s},"
		 "\"grant\":[" G("s") "]}]}",
		 req);
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
		"{\"name\":\"a\",\"match\":{\"runtime\":\"podman\"},\"grant\":[" G("x") "," G(
			"y") "]},"
			     "{\"name\":\"b\",\"match\":{\"name\":\"payments-*\"},\"grant\":[" G("y") "," G(
				     "z") "]},"
					  "{\"name\":\"payments-api\",\"match\":{\"image\":\"localhost/other:*\"},\"grant\":[" G(
						  "w") "]}]}";
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

/* ---- posture over recorded inspect bodies (tests/fixtures, docker 20.10 and
 * podman 4.3 compat API, each container started with --user 1000) ---- */

static void load_meta(const char *fixture)
{
	char path[512], *buf = malloc(1 << 20);
	const char *root = getenv("KH_ROOT");
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(buf);
	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", root ? root : ".", fixture);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "open %s", path);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	container_meta_clear(&M);
	ck_assert_msg(engine_parse_container(buf, n, &M) == 0, "parse %s", fixture);
	free(buf);
	ID.meta = &M;
	ID.meta_err = NULL;
}

struct posture_case {
	const char *fixture, *require;
	bool granted;
	const char *why[4]; /* substrings the refusal must name */
};

#define PR "\"privileged\":false,\"root\":false"
static const struct posture_case posture[] = {
	{ "inspect_docker_user1000.json", PR, true, { NULL } },
	{ "inspect_podman_user1000.json", PR, true, { NULL } },
	{ "inspect_docker_labels.json", PR, true, { NULL } },
	{ "inspect_docker_capall.json", PR, false, { "require privileged=false: CapAdd ALL" } },
	{ "inspect_podman_capall.json",
	  PR,
	  false,
	  { "require privileged=false: CapAdd BPF DAC_READ_SEARCH SYS_ADMIN SYS_MODULE "
	    "SYS_PTRACE SYS_RAWIO" } },
	{ "inspect_docker_capsys.json",
	  PR,
	  false,
	  { "require privileged=false: CapAdd SYS_ADMIN" } },
	{ "inspect_podman_capsys.json",
	  PR,
	  false,
	  { "require privileged=false: CapAdd SYS_ADMIN" } },
	{ "inspect_docker_pidhost.json",
	  PR,
	  false,
	  { "require privileged=false: host pid namespace" } },
	{ "inspect_podman_pidhost.json",
	  PR,
	  false,
	  { "require privileged=false: host pid namespace" } },
	{ "inspect_docker_nshost.json",
	  PR,
	  false,
	  { "host ipc namespace", "host network namespace", "host user namespace" } },
	{ "inspect_podman_nshost.json", PR, false, { "host network namespace" } },
	{ "inspect_docker_seccomp.json",
	  PR,
	  false,
	  { "seccomp unconfined", "apparmor unconfined" } },
	{ "inspect_podman_seccomp.json",
	  PR,
	  false,
	  { "seccomp unconfined", "apparmor unconfined" } },
	{ "inspect_podman_unmask.json", PR, false, { "seccomp unconfined" } },
	{ "inspect_docker_syspaths.json",
	  PR,
	  false,
	  { "seccomp unconfined", "masked paths unconfined" } },
	{ "inspect_docker_bindroot.json",
	  PR,
	  false,
	  { "bind mount of /,", "bind mount of /proc", "bind mount of /run" } },
	{ "inspect_podman_bindroot.json",
	  PR,
	  false,
	  { "bind mount of /,", "bind mount of /proc", "bind mount of /run" } },
	{ "inspect_podman_sock.json",
	  PR,
	  false,
	  { "bind mount of /tmp/posture-lab/d/docker.sock", "bind mount of /sys" } },
	/* finer keys */
	{ "inspect_docker_capsys.json",
	  "\"capabilities\":[\"NET_BIND_SERVICE\"]",
	  false,
	  { "require capabilities: CapAdd SYS_ADMIN not allowed" } },
	{ "inspect_docker_capsys.json",
	  "\"capabilities\":[\"cap_net_bind_service\",\"SYS_ADMIN\"]",
	  true,
	  { NULL } },
	{ "inspect_docker_capsys.json",
	  "\"capabilities\":[]",
	  false,
	  { "CapAdd NET_BIND_SERVICE SYS_ADMIN not allowed" } },
	{ "inspect_podman_capsys.json", "\"capabilities\":[\"Sys_Admin\"]", true, { NULL } },
	{ "inspect_docker_capall.json", "\"capabilities\":[\"ALL\"]", true, { NULL } },
	{ "inspect_docker_capall.json",
	  "\"capabilities\":[\"SYS_ADMIN\"]",
	  false,
	  { "CapAdd ALL not allowed" } },
	{ "inspect_podman_capall.json",
	  "\"capabilities\":[\"NET_ADMIN\"]",
	  false,
	  { "CapAdd AUDIT_CONTROL", " SYS_ADMIN ", "not allowed" } },
	{ "inspect_docker_pidhost.json",
	  "\"host_namespaces\":false",
	  false,
	  { "require host_namespaces=false: host pid namespace" } },
	{ "inspect_docker_seccomp.json", "\"host_namespaces\":false", true, { NULL } },
	{ "inspect_docker_seccomp.json",
	  "\"unconfined\":false",
	  false,
	  { "require unconfined=false: seccomp unconfined, apparmor unconfined" } },
	{ "inspect_docker_syspaths.json",
	  "\"unconfined\":false",
	  false,
	  { "masked paths unconfined" } },
	{ "inspect_podman_sock.json",
	  "\"host_mounts\":false",
	  false,
	  { "require host_mounts=false: bind mount of /sys", "docker.sock" } },
	{ "inspect_docker_bindroot.json",
	  "\"unconfined\":false,\"devices\":false",
	  true,
	  { NULL } },
	{ "inspect_docker_syspaths.json",
	  "\"devices\":false",
	  false,
	  { "require devices=false: 1 device(s) added" } },
	{ "inspect_docker_user1000.json",
	  PR ",\"host_namespaces\":false,\"unconfined\":false,\"host_mounts\":false,"
	     "\"devices\":false,\"capabilities\":[]",
	  true,
	  { NULL } },
	{ "inspect_podman_user1000.json",
	  PR ",\"host_namespaces\":false,\"unconfined\":false,\"host_mounts\":false,"
	     "\"devices\":false,\"capabilities\":[]",
	  true,
	  { NULL } },
	{ "inspect_podman_privileged.json",
	  PR,
	  false,
	  { "require privileged=false: container is privileged" } },
	{ "inspect_podman_privileged.json",
	  "\"root\":false",
	  false,
	  { "require root=false: container runs as root" } },
	/* the same bodies under "privileged": true ask nothing */
	{ "inspect_docker_capall.json", "\"privileged\":true", true, { NULL } },
	{ "inspect_podman_bindroot.json", "\"root\":false", true, { NULL } },
};

START_TEST(posture_fixtures)
{
	const struct posture_case *c = &posture[_i];

	id_podman(true);
	load_meta(c->fixture);
	ck_assert_msg(grants_req(c->require) == c->granted, "%s {%s}: %s", c->fixture, c->require,
		      EV->rules[0].why);
	for (size_t k = 0; k < 4 && c->why[k]; k++)
		ck_assert_msg(strstr(EV->rules[0].why, c->why[k]) != NULL, "%s: '%s' lacks '%s'",
			      c->fixture, EV->rules[0].why, c->why[k]);
}
END_TEST

/* podman exec -u 0 into a --user 1000 container: Config.User says 1000, the
 * kernel says the caller is uid 0. */
START_TEST(root_false_refuses_peer_uid0)
{
	id_podman(true);
	load_meta("inspect_podman_user1000.json");
	ck_assert(grants_req("\"root\":false"));
	PE.uid = 0;
	ck_assert(!grants_req("\"root\":false"));
	ck_assert_ptr_nonnull(strstr(EV->rules[0].why, "require root=false: caller runs as uid 0"));
	ck_assert(grants_req("\"privileged\":false"));
	ck_assert(grants_req("\"root\":true"));
}
END_TEST

/* An independent UTF-8 check (jansson's): json_string() refuses invalid. */
static bool valid_utf8(const char *s)
{
	json_t *j = json_string(s);
	bool ok = j != NULL;

	json_decref(j);
	return ok;
}

/* Section 7: a label value of multibyte characters cut inside a character
 * made the reason invalid UTF-8 and the audit line lost "reason". */
START_TEST(reason_multibyte_stays_utf8)
{
	char why[PROTO_MAX_REASON + 1], val[256], *line;
	struct timespec ts = { 0, 0 };
	struct audit_event ev = { &ID, NULL, "s", 0, AUDIT_DENY, why };

	for (size_t shift = 0; shift < 4; shift++) {
		size_t o = 0;
		for (size_t i = 0; i < shift; i++)
			val[o++] = 'x';
		while (o + 4 < 200) { /* "é€😀" = 2 + 3 + 4 bytes */
			memcpy(val + o, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
			o += 9;
		}
		val[o] = '\0';
		id_podman(true);
		json_object_set_new(M.labels, "team", json_string(val));
		ck_assert(!grants("\"labels\":{\"team\":\"payments\"}"));
		ck_assert_msg(valid_utf8(EV->rules[0].why), "shift %zu: why not UTF-8", shift);
		policy_deny_reason(P, EV, &ID, "s", why, sizeof(why));
		ck_assert_msg(valid_utf8(why), "shift %zu: reason not UTF-8", shift);
		line = audit_format(&ev, &ts);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(strstr(line, "\"reason\":\"no rule grants") != NULL,
			      "shift %zu: audit line lost its reason: %s", shift, line);
		free(line);
		/* the container name too (policy_describe) */
		memset(M.name, 0, sizeof(M.name));
		for (size_t i = 0; i < shift; i++)
			M.name[i] = 'n';
		for (size_t i = shift; i + 3 < sizeof(M.name); i += 3)
			memcpy(M.name + i, "\xe2\x82\xac", 3);
		policy_deny_reason(P, EV, &ID, "s", why, sizeof(why));
		ck_assert_msg(valid_utf8(why), "shift %zu: reason with name not UTF-8", shift);
		for (size_t cut = 0; cut <= 64; cut++) {
			policy_deny_reason(P, EV, &ID, "s", why, cut + 1);
			ck_assert_msg(valid_utf8(why), "buffer %zu: not UTF-8", cut + 1);
		}
	}
}
END_TEST

/* A bind mount of the agent's own engine socket, store or admin directory
 * (policy_protect_paths), of a directory holding one, or of one below. */
START_TEST(posture_agent_paths)
{
	static const struct {
		const char *src;
		const char *why;
	} binds[] = {
		{ "/srv/ks/store.khs", "bind mount of /srv/ks/store.khs" },
		{ "/srv/ks", "bind mount of /srv/ks (exposes /srv/ks/store.khs)" },
		{ "/srv", "bind mount of /srv (exposes /srv/" },
		{ "/srv/eng", "(exposes /srv/eng/e.sock)" },
		{ "/srv/eng/e.sock", "bind mount of /srv/eng/e.sock" },
		{ "/srv/key", "bind mount of /srv/key" },
		{ "/run/adm", "bind mount of /run/adm (exposes /run/adm/admin.sock)" },
		{ "/var/lib", "bind mount of /var/lib (exposes /var/lib/keyhole)" },
		{ "/etc/keyhole/x", "bind mount of /etc/keyhole/x (exposes /etc/keyhole)" },
		{ "/run/keyhole-admin", "bind mount of /run/keyhole-admin" },
		{ "/home/u/.local/share/podman.sock",
		  "bind mount of /home/u/.local/share/podman.sock" },
		{ "/srv/other", NULL },
		{ "/srv/ksx", NULL },
		{ "/srv/eng/e.sockx", NULL },
		{ "/srv/ks/run", NULL }, /* next to the store: the agent socket dir of a lab */
		{ "/data", NULL },
		{ "/run/keyhole", NULL }, /* the agent socket dir is meant to be */
	};

	id_podman(true);
	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		json_decref(M.cap_add);
		json_decref(M.binds);
		M.cap_add = json_array();
		M.binds = json_pack("[s]", binds[i].src);
		ck_assert_int_eq(parse("{\"version\":1,\"rules\":[{\"name\":\"r\",\"require\":"
				       "{\"host_mounts\":false},\"grant\":[" G("s") "]}]}"),
				 0);
		ck_assert_int_eq(policy_protect_paths(P, "unix:///srv/eng//e.sock",
						      "/srv/ks/store.khs", "/srv/key",
						      "/run/adm/admin.sock"),
				 0);
		ck_assert_uint_eq(P->n_agent_paths, 4);
		policy_eval_free(EV);
		EV = NULL;
		ck_assert_int_eq(policy_eval(P, &ID, &EV), 0);
		ck_assert_msg(EV->rules[0].matched == (binds[i].why == NULL), "%s: %s",
			      binds[i].src, EV->rules[0].why);
		if (binds[i].why)
			ck_assert_msg(strstr(EV->rules[0].why, binds[i].why) != NULL, "%s: '%s'",
				      binds[i].src, EV->rules[0].why);
	}
	/* etcd stores are not paths; relative paths and "/" are refused */
	ck_assert_int_eq(parse(RULE("", G("a"))), 0);
	ck_assert_int_eq(policy_protect_paths(P, NULL, "etcd://10.0.0.1:2379/kh", NULL, NULL), 0);
	ck_assert_uint_eq(P->n_agent_paths, 0);
	ck_assert_int_eq(policy_protect_paths(P, "unix://run/x.sock", NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(policy_protect_paths(P, NULL, "store.khs", NULL, NULL), -EINVAL);
	ck_assert_int_eq(policy_protect_paths(P, NULL, NULL, "//", NULL), -EINVAL);
}
END_TEST

/* The longest valid prefix, at every cut, over 1- to 4-byte characters,
 * checked against jansson's own validator. */
START_TEST(utf8_prefix_every_cut)
{
	static const char *const text[] = {
		"ascii only",
		"a\xc3\xa9"
		"b\xe2\x82\xac"
		"c\xf0\x9f\x98\x80"
		"d",
		"\xc3\xa9\xc3\xa9\xc3\xa9",
		"\xe2\x82\xac\xe2\x82\xac",
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e-\xd0\xbf\xd1\x80\xd0\xb8",
	};
	/* invalid input: the prefix stops before the first bad byte */
	static const struct {
		const char *s;
		size_t want;
	} invalid[] = {
		{ "ab\x80"
		  "cd",
		  2 },
		{ "a\xc3"
		  "b",
		  1 },
		{ "a\xc0\xaf", 1 } /* overlong '/' */,
		{ "a\xed\xa0\x80", 1 } /* surrogate */,
		{ "a\xf4\x90\x80\x80", 1 } /* > U+10FFFF */,
		{ "a\xff", 1 },
		{ "\xe2\x82", 0 },
	};
	char buf[64];

	for (size_t t = 0; t < sizeof(text) / sizeof(text[0]); t++) {
		size_t n = strlen(text[t]);
		ck_assert_uint_eq(policy_utf8_prefix(text[t], n + 10), n);
		for (size_t cut = 0; cut <= n; cut++) {
			size_t k = policy_utf8_prefix(text[t], cut);
			ck_assert_msg(k <= cut && cut - k <= 3, "text %zu cut %zu -> %zu", t, cut,
				      k);
			memcpy(buf, text[t], k);
			buf[k] = '\0';
			ck_assert_msg(valid_utf8(buf), "text %zu cut %zu -> %zu: invalid", t, cut,
				      k);
			/* longest: one more character would not fit, or k == cut */
			ck_assert_msg(k == cut || (text[t][k] & 0xc0) == 0xc0, "text %zu cut %zu",
				      t, cut);
			if (k < cut) /* the cut was inside a character: cut was not a boundary */
				ck_assert((text[t][cut] & 0xc0) == 0x80);
		}
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ck_assert_msg(policy_utf8_prefix(invalid[i].s, 64) == invalid[i].want,
			      "invalid %zu: %zu", i, policy_utf8_prefix(invalid[i].s, 64));
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
	tcase_add_loop_test(m, posture_fixtures, 0, (int)(sizeof(posture) / sizeof(posture[0])));
	tcase_add_test(m, root_false_refuses_peer_uid0);
	tcase_add_test(m, reason_multibyte_stays_utf8);
	tcase_add_test(m, posture_agent_paths);
	tcase_add_test(m, utf8_prefix_every_cut);
	suite_add_tcase(s, m);
	return s;
}

CHECK_MAIN(suite)
