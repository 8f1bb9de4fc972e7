/* SPDX-License-Identifier: MIT */
/* The release policy (docs/policy.md): JSON rules, default deny. Pure: no
 * syscalls, so the parser is fuzzed and evaluation is unit-tested on made-up
 * identities. The identity is what the agent attested (struct peer) plus,
 * for a container, the engine's metadata; nothing the caller says counts. */
#ifndef KH_POLICY_H
#define KH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "kubelet.h"
#include "peer.h"

#define POLICY_MAX_BYTES (1u << 20) /* policy file */
#define POLICY_MAX_RULES 1024u
#define POLICY_MAX_GRANTS 256u /* per rule */
#define POLICY_MAX_TOTAL_GRANTS 8192u
#define POLICY_MAX_LABELS 64u /* per rule */
#define POLICY_MAX_STR 255u   /* globs, label keys and values */
#define POLICY_MAX_RULE_NAME 128u
#define POLICY_WHY_MAX 400u
#define POLICY_MAX_AGENT_PATHS 4u /* policy_protect_paths */

struct tmpl;

struct policy_grant {
	const char *secret;
	char file[256];
	uint16_t mode;
	/* A template grant (docs/templates.md): template is the file name next
	 * to the policy, secret the synthetic "template/<file>" (tmpl_name owns
	 * it), tmpl the parsed text (tmpl_policy_load; NULL before). */
	const char *template;
	uint8_t escape; /* enum tmpl_escape */
	char *tmpl_name;
	struct tmpl *tmpl;
	/* Delivery (docs/policy.md "Delivery: env_file and env"): PROTO_D_*
	 * bits; env/env_file point into the policy document, NULL when unset.
	 * Without PROTO_D_FILE (an "env" grant with no "file") no file is
	 * written; `file` then only keys the grant. */
	uint8_t delivery;
	const char *env, *env_file;
};

struct policy_k8s; /* match.k8s + require.k8s (policy.c) */

struct policy_rule {
	const char *name;
	/* match: a NULL string / has_* false = no constraint */
	bool has_runtime;
	enum kh_runtime runtime;
	const char *container_id, *name_glob, *image_glob, *image_id, *cgroup_glob;
	const char **label_keys, **label_vals;
	size_t n_labels;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	/* require: true = must hold (the JSON says "privileged": false etc.) */
	bool req_unprivileged, req_nonroot;
	bool req_no_host_ns;	 /* "host_namespaces": false */
	bool req_confined;	 /* "unconfined": false */
	bool req_no_host_mounts; /* "host_mounts": false */
	bool req_no_devices;	 /* "devices": false */
	bool has_caps;		 /* "capabilities": [...] given */
	uint64_t caps_allowed;	 /* bit = index in policy_cap_names */
	struct policy_grant *grants;
	size_t n_grants;
	struct policy_k8s *k8s; /* NULL: no Kubernetes selector or requirement */
};

struct policy {
	void *doc; /* json_t: strings above point into it */
	struct policy_rule *rules;
	size_t n_rules;
	char digest[65]; /* sha256 hex of the file bytes */
	/* The agent's own engine socket, store, key file and admin socket: a
	 * bind mount exposing them fails "host_mounts" (policy_protect_paths). */
	char *agent_paths[POLICY_MAX_AGENT_PATHS];
	size_t n_agent_paths;
};

/* Who asks. meta is NULL when not in a container or when no metadata could
 * be had; meta_err then says why (e.g. "engine unreachable: ..."), or NULL.
 * k8s is the kubelet's word on a pod's container, or NULL. */
struct policy_identity {
	const struct peer *peer;
	const struct container_meta *meta;
	const char *meta_err;
	const struct k8s_meta *k8s;
};

struct policy_rule_result {
	const struct policy_rule *rule;
	bool matched;
	char why[POLICY_WHY_MAX]; /* first failing selector, or "matched" */
};

struct policy_grant_ref {
	const struct policy_grant *grant;
	const struct policy_rule *rule; /* first matching rule granting it */
};

struct policy_eval {
	struct policy_rule_result *rules; /* one per rule, in order */
	size_t n_rules;
	struct policy_grant_ref *grants; /* union, deduplicated by secret */
	size_t n_grants;
};

/* A key of g's delivery (file or not, env, env_file): equal keys, same
 * delivery (FNV-1a; a watcher whose grant changes delivery on a reload is
 * sent REVOKED and the secret again). */
uint32_t policy_grant_delivery_key(const struct policy_grant *g);

/* Parse and validate. 0, or -EINVAL with a one-line reason in err
 * (e.g. "rules[2].match: unknown key 'imgae'"). */
int policy_parse(const char *json, size_t len, struct policy **ret, char *err, size_t errlen);
void policy_free(struct policy *p);

/* Evaluate every rule for an identity. 0 or -ENOMEM. */
int policy_eval(const struct policy *p, const struct policy_identity *id, struct policy_eval **ret);
void policy_eval_free(struct policy_eval *e);
/* The grant of secret in e, or NULL. */
const struct policy_grant_ref *policy_eval_find(const struct policy_eval *e, const char *secret);
/* Why secret is not released: "no rule grants 'x' to WHO (rule r: why; ...)". */
void policy_deny_reason(const struct policy *p, const struct policy_eval *e,
			const struct policy_identity *id, const char *secret, char *buf,
			size_t len);
/* "host process pid 12 uid 0" / "podman container payments-1" */
void policy_describe(const struct policy_identity *id, char *buf, size_t len);
/* Does any rule grant secret (to anyone)? */
bool policy_mentions(const struct policy *p, const char *secret);

/* Tell p the agent's own files, so that "privileged": false and
 * "host_mounts": false also refuse a bind mount of them, of a directory
 * holding them, or of a path below them: the socket of engine_url
 * ("unix:///run/docker.sock"), the store (skipped when it is a URL such as
 * etcd://), the key file and the admin socket. Any may be NULL. Files, not
 * their directories: the agent socket directory, meant to be mounted, may
 * sit next to them. Call after policy_parse, before evaluating. 0, -EINVAL
 * (a path is not absolute -- resolve relative ones first --, is "/" or is
 * too long) or -ENOMEM. Pure. */
int policy_protect_paths(struct policy *p, const char *engine_url, const char *store,
			 const char *key_file, const char *admin_socket);

/* The length of the longest prefix of s, at most max bytes, that is valid
 * UTF-8 (no partial, overlong or surrogate sequence). Every truncation of a
 * name or reason uses it, so a cut never makes a reason that JSON (the
 * audit line, explain) refuses. */
size_t policy_utf8_prefix(const char *s, size_t max);
/* Append to buf (len bytes) at *off; a cut never falls inside a character,
 * so a denial or audit reason stays valid UTF-8. */
__attribute__((format(printf, 4, 5))) void policy_appendf(char *buf, size_t len, size_t *off,
							  const char *fmt, ...);

#endif
