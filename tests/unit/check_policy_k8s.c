/* SPDX-License-Identifier: MIT */
/* Policy "match": {"k8s": ...} selectors and "require": {"k8s": ...}
 * posture: parse errors, and evaluation on identities built from the
 * recorded /pods fixture (tests/fixtures/k8s/pods.json) through
 * kubelet_find, so the rules are checked against what the parser makes of
 * real field names. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "policy.h"

#define ID_API "68599b052dffe302eba8dffeca05019d6923c463cfd10156c696e315cf1a39f0"
#define ID_METRICS "7acb6fd990e415cbaa3bc90bb750b3391475243055be425fc7e5bb0db042d72f"
#define ID_WEB "4fbb1172bf635e0357dcb90ddcd1967308e01e1febfb7e2587993795720be862"
#define UID_API "6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c"
#define UID_WEB "0d4f7e2a-93b1-4a8e-b6c5-2f1e0a9d8c7b"

static struct policy *P;
static struct policy_eval *EV;
static char err[512];
static struct peer PE;
static struct k8s_meta K;
static struct policy_identity ID;

static int parse(const char *j)
{
	policy_free(P);
	P = NULL;
	return policy_parse(j, strlen(j), &P, err, sizeof(err));
}

/* The identity of container id in pod uid, as the agent would build it. */
static void id_pod(const char *uid, const char *id, enum kh_runtime rt)
{
	char path[512];
	const char *root = getenv("KH_ROOT");
	char *buf = malloc(1 << 20);
	size_t n;
	json_t *items = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/k8s/pods.json", root ? root : ".");
	f = fopen(path, "r");
	ck_assert_msg(f && buf, "open %s", path);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	ck_assert_int_eq(kubelet_parse_pods(buf, n, &items), 0);
	free(buf);
	k8s_meta_clear(&K);
	ck_assert_int_eq(kubelet_find(items, uid, id, &K), 0);
	json_decref(items);
	memset(&PE, 0, sizeof(PE));
	PE.pid = 4242;
	PE.uid = 1000;
	PE.pidfd = -1;
	PE.cg.runtime = rt;
	snprintf(PE.cg.id, sizeof(PE.cg.id), "%s", id);
	snprintf(PE.cg.pod_uid, sizeof(PE.cg.pod_uid), "%s", uid);
	snprintf(PE.cg.path, sizeof(PE.cg.path), "/kubepods/pod%s/%s", uid, id);
	ID = (struct policy_identity){ .peer = &PE, .k8s = &K };
}

static void teardown(void)
{
	policy_eval_free(EV);
	EV = NULL;
	policy_free(P);
	P = NULL;
	k8s_meta_clear(&K);
}

/* A one-rule policy: match.k8s = m, require.k8s = q (either may be ""). */
static bool grants(const char *m, const char *q)
{
	char j[4096];

	snprintf(j, sizeof(j),
		 "{\"version\":1,\"rules\":[{\"name\":\"r\",\"match\":{\"k8s\":{%s}},"
		 "\"require\":{\"k8s\":{%s}},\"grant\":[{\"secret\":\"payments/db\"}]}]}",
		 m, q);
	ck_assert_msg(parse(j) == 0, "parse %s: %s", j, err);
	policy_eval_free(EV);
	EV = NULL;
	ck_assert_int_eq(policy_eval(P, &ID, &EV), 0);
	return policy_eval_find(EV, "payments/db") != NULL;
}

#define WHY() (EV->rules[0].why)

START_TEST(k8s_selectors)
{
	id_pod(UID_API, ID_API, RT_CONTAINERD);
	ck_assert(grants("", ""));
	ck_assert(grants("\"namespace\":\"payments\",\"service_account\":\"api\"", ""));
	ck_assert(!grants("\"namespace\":\"shop\"", ""));
	ck_assert_str_eq(WHY(), "namespace 'payments' is not 'shop'");
	ck_assert(!grants("\"namespace\":\"payments\",\"service_account\":\"default\"", ""));
	ck_assert_str_eq(WHY(), "service_account 'api' is not 'default'");
	ck_assert(grants("\"pod_name\":\"api-*\"", ""));
	ck_assert(!grants("\"pod_name\":\"web-*\"", ""));
	ck_assert(grants("\"container_name\":\"api\"", ""));
	ck_assert(!grants("\"container_name\":\"metrics\"", ""));
	ck_assert(grants("\"image\":\"registry.example.com/payments/*\"", ""));
	ck_assert(!grants("\"image\":\"docker.io/*\"", ""));
	ck_assert(grants("\"labels\":{\"app\":\"api\",\"team\":\"payments\"}", ""));
	ck_assert(!grants("\"labels\":{\"team\":\"shop\"}", ""));
	ck_assert_str_eq(WHY(), "pod label 'team' is 'payments', not 'shop'");
	ck_assert(!grants("\"labels\":{\"tier\":\"db\"}", ""));
	ck_assert_str_eq(WHY(), "pod label 'tier' is absent, not 'db'");
}
END_TEST

START_TEST(k8s_posture)
{
	static const char strict[] = "\"privileged\":false,\"allow_privilege_escalation\":false,"
				     "\"root\":false,\"host_pid\":false,\"host_network\":false,"
				     "\"host_ipc\":false,\"capabilities\":[],"
				     "\"host_paths\":[\"/run/keyhole\"]";

	id_pod(UID_API, ID_API, RT_CONTAINERD);
	ck_assert(grants("", strict));
	ck_assert(!grants("", "\"host_paths\":[]"));
	ck_assert_str_eq(WHY(), "pod has hostPath volume '/run/keyhole' (not in require "
				"k8s.host_paths)");
	/* the sidecar: no securityContext, so escalation is allowed */
	id_pod(UID_API, ID_METRICS, RT_CONTAINERD);
	ck_assert(grants("", "\"root\":false"));
	ck_assert(!grants("", strict));
	ck_assert_ptr_nonnull(strstr(WHY(), "may escalate privileges"));
	/* privileged, root, host network and IPC, two capabilities, two hostPaths */
	id_pod(UID_WEB, ID_WEB, RT_CRIO);
	ck_assert(grants("", "\"privileged\":true,\"root\":true,\"host_network\":true"));
	ck_assert(!grants("", "\"privileged\":false"));
	ck_assert_str_eq(WHY(), "container is privileged (require k8s.privileged: false)");
	ck_assert(!grants("", "\"root\":false"));
	ck_assert(!grants("", "\"host_network\":false"));
	ck_assert_str_eq(WHY(), "pod shares the host's network namespace (require "
				"k8s.host_network: false)");
	ck_assert(!grants("", "\"host_ipc\":false"));
	ck_assert(grants("", "\"host_pid\":false"));
	ck_assert(!grants("", "\"capabilities\":[\"NET_ADMIN\"]"));
	ck_assert_str_eq(WHY(), "container adds capability SYS_TIME (not in require "
				"k8s.capabilities)");
	ck_assert(grants("", "\"capabilities\":[\"net_admin\",\"CAP_SYS_TIME\"]"));
	ck_assert(!grants("", "\"host_paths\":[\"/run/keyhole\"]"));
	ck_assert(grants("", "\"host_paths\":[\"/run/keyhole\",\"/var/log/web\"]"));
}
END_TEST

START_TEST(k8s_fails_closed)
{
	char who[200];

	id_pod(UID_API, ID_API, RT_CONTAINERD);
	policy_describe(&ID, who, sizeof(who));
	ck_assert_str_eq(who, "pod payments/api-7d9f8c6b5-x2x4z container api");
	ID.k8s = NULL;
	ck_assert(!grants("\"namespace\":\"payments\"", ""));
	ck_assert_str_eq(WHY(), "needs pod metadata: no --kubelet configured");
	ID.meta_err = "kubelet unreachable: Connection timed out";
	ck_assert(!grants("", "\"privileged\":false"));
	ck_assert_str_eq(WHY(), "needs pod metadata: kubelet unreachable: Connection timed out");
	/* a pod rule never matches a host process */
	PE.cg.runtime = RT_HOST;
	PE.cg.id[0] = PE.cg.pod_uid[0] = '\0';
	ID.meta_err = NULL;
	ck_assert(!grants("", ""));
	ck_assert_str_eq(WHY(), "needs pod metadata; caller is not in a Kubernetes pod");
	/* a rule without k8s keys is untouched by them */
	ck_assert_int_eq(parse("{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[{\"secret\":"
			       "\"s\"}]}]}"),
			 0);
	ck_assert_ptr_null(P->rules[0].k8s);
}
END_TEST

static const struct {
	const char *json, *err;
} bad[] = {
	{ "\"match\":{\"k8s\":{\"namspace\":\"a\"}}",
	  "rules[0].match.k8s: unknown key 'namspace'" },
	{ "\"match\":{\"k8s\":[]}", "rules[0].match.k8s: must be an object" },
	{ "\"match\":{\"k8s\":{\"namespace\":\"\"}}",
	  "rules[0].match.k8s.namespace: must be 1..63" },
	{ "\"match\":{\"k8s\":{\"labels\":{\"a\":1}}}",
	  "rules[0].match.k8s.labels.a: must be a string" },
	{ "\"require\":{\"k8s\":{\"privileged\":\"no\"}}",
	  "rules[0].require.k8s.privileged: must be true" },
	{ "\"require\":{\"k8s\":{\"hostPID\":false}}",
	  "rules[0].require.k8s: unknown key 'hostPID'" },
	{ "\"require\":{\"k8s\":{\"capabilities\":\"ALL\"}}",
	  "rules[0].require.k8s.capabilities: must be an array" },
	{ "\"require\":{\"k8s\":{\"capabilities\":[\"NET ADMIN\"]}}",
	  "rules[0].require.k8s.capabilities[0]: must be a capability" },
	{ "\"require\":{\"k8s\":{\"host_paths\":[\"run/keyhole\"]}}",
	  "rules[0].require.k8s.host_paths[0]: must be an absolute path" },
};

START_TEST(k8s_parse_errors)
{
	char j[1024];

	snprintf(j, sizeof(j),
		 "{\"version\":1,\"rules\":[{\"name\":\"r\",%s,\"grant\":[{\"secret\":"
		 "\"s\"}]}]}",
		 bad[_i].json);
	ck_assert_int_eq(parse(j), -EINVAL);
	ck_assert_msg(strncmp(err, bad[_i].err, strlen(bad[_i].err)) == 0, "got '%s', want '%s...'",
		      err, bad[_i].err);
}
END_TEST

static Suite *policy_k8s_suite(void)
{
	Suite *s = suite_create("policy_k8s");
	TCase *tc = tcase_create("k8s");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, k8s_selectors);
	tcase_add_test(tc, k8s_posture);
	tcase_add_test(tc, k8s_fails_closed);
	tcase_add_loop_test(tc, k8s_parse_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(policy_k8s_suite)
