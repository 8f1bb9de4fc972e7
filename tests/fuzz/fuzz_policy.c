/* SPDX-License-Identifier: MIT */
/* Fuzz policy_parse (agent/policy.c) and then evaluate what parsed against
 * a few made-up identities (host root, a docker container with labels, a
 * container whose metadata could not be had), so hostile globs, labels and
 * selectors meet the matcher too. The policy is admin-written, but a parser
 * or matcher crash takes every container's secrets down with the agent.
 * Properties: a failure names a reason; a success holds only valid secret
 * and file names, modes within 07777, and counts within the caps; every
 * reason, however cut, is valid UTF-8 (the audit line is JSON). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"
#include "proto.h"

static void check_policy(const struct policy *p)
{
	size_t total = 0;
	FUZZ_CHECK(p->n_rules <= POLICY_MAX_RULES);
	FUZZ_CHECK(strnlen(p->digest, sizeof p->digest) == 64);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		FUZZ_CHECK(r->n_grants <= POLICY_MAX_GRANTS && r->n_labels <= POLICY_MAX_LABELS);
		total += r->n_grants;
		for (size_t g = 0; g < r->n_grants; g++) {
			FUZZ_CHECK(proto_secret_name_valid(r->grants[g].secret));
			FUZZ_CHECK(proto_file_name_valid(r->grants[g].file));
			FUZZ_CHECK(r->grants[g].mode <= 07777);
		}
	}
	FUZZ_CHECK(total <= POLICY_MAX_TOTAL_GRANTS);
}

static void eval_one(const struct policy *p, const struct policy_identity *id)
{
	struct policy_eval *e = NULL;
	char why[64], who[32]; /* small on purpose: truncation must be safe */
	if (policy_eval(p, id, &e) < 0)
		return;
	FUZZ_CHECK(e && e->n_rules == p->n_rules);
	for (size_t i = 0; i < e->n_grants; i++) {
		const char *s = e->grants[i].grant->secret;
		FUZZ_CHECK(policy_eval_find(e, s) != NULL);
		FUZZ_CHECK(policy_mentions(p, s));
	}
	policy_deny_reason(p, e, id, "db/password", why, sizeof why);
	FUZZ_CHECK(strnlen(why, sizeof why) < sizeof why);
	json_t *js = json_string(why); /* jansson refuses invalid UTF-8 */
	FUZZ_CHECK(js);
	json_decref(js);
	for (size_t i = 0; i < e->n_rules; i++) {
		js = json_string(e->rules[i].why);
		FUZZ_CHECK(js);
		json_decref(js);
	}
	policy_describe(id, who, sizeof who);
	FUZZ_CHECK(strnlen(who, sizeof who) < sizeof who);
	policy_eval_free(e);
}

/* A pod's container, as kubelet_find would describe it (match.k8s and
 * require.k8s), and the same caller with no kubelet answer. */
static void eval_k8s(const struct policy *p, struct peer *ctr)
{
	struct k8s_meta k = { .privileged = false,
			      .allow_privilege_escalation = true,
			      .root = false,
			      .has_run_as_user = true,
			      .run_as_user = 1000,
			      .host_network = true };
	struct policy_identity id = { ctr, NULL, NULL, &k };

	ctr->cg.runtime = RT_CONTAINERD;
	strcpy(ctr->cg.pod_uid, "6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c");
	strcpy(k.namespace, "payments");
	strcpy(k.pod_name, "api-7d9f8c6b5-x2x4z");
	strcpy(k.service_account, "api");
	strcpy(k.container_name, "api");
	strcpy(k.image, "registry.example.com/payments/api:1.4.2");
	k.labels = json_pack("{s:s}", "app", "api");
	k.caps_add = json_pack("[s]", "NET_BIND_SERVICE");
	k.host_paths = json_pack("[s]", "/run/keyhole");
	FUZZ_CHECK(k.labels && k.caps_add && k.host_paths);
	eval_one(p, &id);
	id = (struct policy_identity){ ctr, NULL, "kubelet unreachable: test", NULL };
	eval_one(p, &id);
	k8s_meta_clear(&k);
}

static void eval_all(const struct policy *p)
{
	struct peer host = { .pid = 42, .uid = 0, .gid = 0, .pidfd = -1 };
	struct peer ctr = { .pid = 4242, .uid = 1000, .gid = 1000, .pidfd = -1 };
	struct container_meta meta;
	struct policy_identity id = { &host, NULL, NULL, NULL };

	eval_one(p, &id);
	ctr.cg.runtime = RT_DOCKER;
	memset(ctr.cg.id, 'a', CG_ID_LEN);
	strcpy(ctr.cg.path, "/system.slice/docker-aaaa.scope");
	memset(&meta, 0, sizeof meta);
	memcpy(meta.id, ctr.cg.id, CG_ID_LEN);
	strcpy(meta.name, "payments-1");
	strcpy(meta.image, "localhost/payments:1");
	strcpy(meta.image_id, "sha256:0000");
	strcpy(meta.user, "1000");
	meta.pid = 4242;
	meta.running = true;
	meta.labels = json_pack("{s:s, s:s}", "team", "payments", "keyhole.role", "api");
	FUZZ_CHECK(meta.labels);
	id = (struct policy_identity){ &ctr, &meta, NULL, NULL };
	eval_one(p, &id);
	/* the same container, privileged in effect, entered as uid 0 */
	meta.cap_add = json_pack("[s, s]", "NET_BIND_SERVICE", "SYS_ADMIN");
	meta.binds = json_pack("[s, s]", "/", "/srv/\xc3\xa9\xc3\xa9");
	FUZZ_CHECK(meta.cap_add && meta.binds);
	meta.host_pid = meta.host_net = meta.seccomp_unconfined = meta.paths_unmasked = true;
	meta.n_devices = 1;
	ctr.uid = 0;
	eval_one(p, &id);
	id = (struct policy_identity){ &ctr, NULL, "engine unreachable: test", NULL };
	eval_one(p, &id);
	json_decref(meta.labels);
	json_decref(meta.cap_add);
	json_decref(meta.binds);
	eval_k8s(p, &ctr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = calloc(1, size ? size : 1);
	char err[128];
	struct policy *p = NULL;
	FUZZ_CHECK(buf);
	if (size)
		memcpy(buf, data, size);
	err[0] = '\0';
	int r = policy_parse(buf, size, &p, err, sizeof err);
	if (r == 0) {
		FUZZ_CHECK(p);
		check_policy(p);
		eval_all(p);
		policy_free(p);
	} else {
		FUZZ_CHECK(r < 0);
		FUZZ_CHECK(strnlen(err, sizeof err) < sizeof err && err[0] != '\0');
	}
	free(buf);
	return 0;
}
