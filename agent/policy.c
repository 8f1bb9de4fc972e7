/* SPDX-License-Identifier: MIT */
/* Policy parse and evaluation (docs/policy.md). Pure: jansson, fnmatch and
 * libsodium's hash, no syscalls. Every key is checked (unknown keys are load
 * errors, so a typo cannot silently widen access) and every size is capped.
 * Secret <-> (file, mode) is one-to-one across the whole policy, so the
 * union of matching rules can never hand two secrets to one file. */
#include "policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto.h"
#include "template.h"
#include "text.h"

/* "%.*s", CUT(s, n): at most n bytes of s, never a partial character. */
#define CUT(s, n) (int)policy_utf8_prefix((s), (n)), (s)

size_t policy_utf8_prefix(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < max && p[i]) {
		unsigned c = p[i];
		size_t n = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		uint32_t cp = n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
		static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

		if (n == 0 || n > max - i)
			break;
		for (size_t k = 1; k < n; k++) { /* stops at the NUL: it is no continuation */
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (n > 1 && (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
			break;
		i += n;
	}
	return i;
}

/* After a vsnprintf that may have cut inside a character. */
static void utf8_trim(char *buf, size_t len)
{
	if (len)
		buf[policy_utf8_prefix(buf, len - 1)] = '\0';
}

struct pctx {
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (c->errlen)
		vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	utf8_trim(c->err, c->errlen);
	return -EINVAL;
}

/* Only keys in allowed (NULL-terminated) may appear in o. */
static int check_keys(struct pctx *c, const char *where, json_t *o, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		size_t i;
		for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
			;
		if (!allowed[i])
			return perr(c, "%s: unknown key '%.*s'", where, CUT(k, 64));
	}
	return 0;
}

static int get_str(struct pctx *c, const char *where, json_t *o, const char *key, size_t max,
		   const char **ret)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return perr(c, "%s.%s: must be a string", where, key);
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s) || !*s || strlen(s) > max)
		return perr(c, "%s.%s: must be 1..%zu characters without NUL", where, key, max);
	*ret = s;
	return 0;
}

static int get_id(struct pctx *c, const char *where, json_t *o, const char *key, bool *has,
		  uint32_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= (json_int_t)UINT32_MAX)
		return perr(c, "%s.%s: must be an integer 0..4294967294", where, key);
	*has = true;
	*ret = (uint32_t)json_integer_value(v);
	return 0;
}

static int parse_labels(struct pctx *c, const char *where, json_t *l, struct policy_rule *r)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	if (!json_is_object(l))
		return perr(c, "%s.labels: must be an object", where);
	if (json_object_size(l) > POLICY_MAX_LABELS)
		return perr(c, "%s.labels: more than %u labels", where, POLICY_MAX_LABELS);
	r->n_labels = json_object_size(l);
	r->label_keys = calloc(r->n_labels + 1, sizeof(char *));
	r->label_vals = calloc(r->n_labels + 1, sizeof(char *));
	if (!r->label_keys || !r->label_vals)
		return -ENOMEM;
	json_object_foreach(l, k, v)
	{
		if (!json_is_string(v) || strlen(k) > POLICY_MAX_STR || !*k ||
		    strlen(json_string_value(v)) > POLICY_MAX_STR ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return perr(c, "%s.labels.%.*s: must be a string of at most %u characters",
				    where, CUT(k, 64), POLICY_MAX_STR);
		r->label_keys[i] = k;
		r->label_vals[i++] = json_string_value(v);
	}
	return 0;
}

/* ---- Kubernetes: match.k8s and require.k8s (docs/policy.md) ---- */

#define POLICY_MAX_K8S_LIST 64u /* capabilities / host_paths allowed per rule */

struct policy_k8s {
	/* match.k8s: NULL = no constraint */
	const char *ns, *service_account, *pod_name_glob, *container_name, *image_glob;
	const char **label_keys, **label_vals;
	size_t n_labels;
	/* require.k8s: true = must hold */
	bool req_unprivileged, req_no_escalation, req_nonroot;
	bool req_no_host_pid, req_no_host_network, req_no_host_ipc;
	const json_t *caps_allowed, *host_paths_allowed; /* NULL = any; points into the doc */
};

static struct policy_k8s *rule_k8s(struct policy_rule *r)
{
	if (!r->k8s)
		r->k8s = calloc(1, sizeof(*r->k8s));
	return r->k8s;
}

static void k8s_free(struct policy_k8s *k)
{
	if (!k)
		return;
	free(k->label_keys);
	free(k->label_vals);
	free(k);
}

static int parse_k8s_match(struct pctx *c, const char *where, json_t *m, struct policy_rule *r)
{
	static const char *const keys[] = { "namespace", "service_account", "pod_name",
					    "labels",	 "container_name",  "image",
					    NULL };
	struct policy_rule lab = { 0 };
	struct policy_k8s *k;
	char w[80];
	int e;

	snprintf(w, sizeof(w), "%s.k8s", where);
	if (!json_is_object(m))
		return perr(c, "%s: must be an object", w);
	if (!(k = rule_k8s(r)))
		return -ENOMEM;
	if ((e = check_keys(c, w, m, keys)) < 0 ||
	    (e = get_str(c, w, m, "namespace", 63, &k->ns)) < 0 ||
	    (e = get_str(c, w, m, "service_account", 253, &k->service_account)) < 0 ||
	    (e = get_str(c, w, m, "pod_name", POLICY_MAX_STR, &k->pod_name_glob)) < 0 ||
	    (e = get_str(c, w, m, "container_name", 63, &k->container_name)) < 0 ||
	    (e = get_str(c, w, m, "image", POLICY_MAX_STR, &k->image_glob)) < 0)
		return e;
	if (!json_object_get(m, "labels"))
		return 0;
	e = parse_labels(c, w, json_object_get(m, "labels"), &lab);
	k->label_keys = lab.label_keys; /* freed with the rule, even on error */
	k->label_vals = lab.label_vals;
	k->n_labels = e < 0 ? 0 : lab.n_labels;
	return e;
}

/* "privileged": false etc.: must hold. true: no requirement. */
static int get_req(struct pctx *c, const char *where, json_t *q, const char *key, bool *ret)
{
	json_t *v = json_object_get(q, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return perr(c, "%s.%s: must be true or false", where, key);
	*ret = json_is_false(v);
	return 0;
}

/* An array of allowed capability names or absolute hostPath paths. */
static int get_allowed(struct pctx *c, const char *where, json_t *q, const char *key, bool caps,
		       const json_t **ret)
{
	json_t *a = json_object_get(q, key), *v;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > POLICY_MAX_K8S_LIST)
		return perr(c, "%s.%s: must be an array of at most %u strings", where, key,
			    POLICY_MAX_K8S_LIST);
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = s ? strlen(s) : 0;

		if (!s || n != json_string_length(v) || n == 0 || n > POLICY_MAX_STR ||
		    (caps &&
		     (n > 36 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789_") != n)) ||
		    (!caps && s[0] != '/'))
			return perr(c, "%s.%s[%zu]: must be %s", where, key, i,
				    caps ? "a capability name like \"NET_BIND_SERVICE\""
					 : "an absolute path");
	}
	*ret = a;
	return 0;
}

static int parse_k8s_require(struct pctx *c, const char *where, json_t *q, struct policy_rule *r)
{
	static const char *const keys[] = { "privileged",
					    "allow_privilege_escalation",
					    "root",
					    "host_pid",
					    "host_network",
					    "host_ipc",
					    "capabilities",
					    "host_paths",
					    NULL };
	struct policy_k8s *k;
	char w[80];
	int e;

	snprintf(w, sizeof(w), "%s.require.k8s", where);
	if (!json_is_object(q))
		return perr(c, "%s: must be an object", w);
	if (!(k = rule_k8s(r)))
		return -ENOMEM;
	if ((e = check_keys(c, w, q, keys)) < 0 ||
	    (e = get_req(c, w, q, "privileged", &k->req_unprivileged)) < 0 ||
	    (e = get_req(c, w, q, "allow_privilege_escalation", &k->req_no_escalation)) < 0 ||
	    (e = get_req(c, w, q, "root", &k->req_nonroot)) < 0 ||
	    (e = get_req(c, w, q, "host_pid", &k->req_no_host_pid)) < 0 ||
	    (e = get_req(c, w, q, "host_network", &k->req_no_host_network)) < 0 ||
	    (e = get_req(c, w, q, "host_ipc", &k->req_no_host_ipc)) < 0 ||
	    (e = get_allowed(c, w, q, "capabilities", true, &k->caps_allowed)) < 0 ||
	    (e = get_allowed(c, w, q, "host_paths", false, &k->host_paths_allowed)) < 0)
		return e;
	return 0;
}

static int parse_match(struct pctx *c, const char *where, json_t *m, struct policy_rule *r)
{
	static const char *const keys[] = { "runtime",	"container_id", "name",	  "image",
					    "image_id", "labels",	"cgroup", "uid",
					    "gid",	"k8s",		NULL };
	const char *rt = NULL;
	char w[64];
	int e;

	snprintf(w, sizeof(w), "%s.match", where);
	if (!json_is_object(m))
		return perr(c, "%s: must be an object", w);
	if ((e = check_keys(c, w, m, keys)) < 0 || (e = get_str(c, w, m, "runtime", 32, &rt)) < 0 ||
	    (e = get_str(c, w, m, "container_id", 64, &r->container_id)) < 0 ||
	    (e = get_str(c, w, m, "name", POLICY_MAX_STR, &r->name_glob)) < 0 ||
	    (e = get_str(c, w, m, "image", POLICY_MAX_STR, &r->image_glob)) < 0 ||
	    (e = get_str(c, w, m, "image_id", POLICY_MAX_STR, &r->image_id)) < 0 ||
	    (e = get_str(c, w, m, "cgroup", POLICY_MAX_STR, &r->cgroup_glob)) < 0 ||
	    (e = get_id(c, w, m, "uid", &r->has_uid, &r->uid)) < 0 ||
	    (e = get_id(c, w, m, "gid", &r->has_gid, &r->gid)) < 0)
		return e;
	if (rt) {
		if (runtime_from_name(rt, &r->runtime) < 0)
			return perr(c,
				    "%s.runtime: unknown runtime '%s' (host, docker, podman, "
				    "containerd, crio)",
				    w, rt);
		r->has_runtime = true;
	}
	if (r->container_id && !text_is_id64(r->container_id))
		return perr(c, "%s.container_id: must be the full 64-hex-digit id", w);
	if (json_object_get(m, "k8s") &&
	    (e = parse_k8s_match(c, w, json_object_get(m, "k8s"), r)) < 0)
		return e;
	if (json_object_get(m, "labels"))
		return parse_labels(c, w, json_object_get(m, "labels"), r);
	return 0;
}

/* Linux capability names, by number (capability.h); bit 63 is "ALL". */
static const char *const cap_names[] = {
	"CHOWN",
	"DAC_OVERRIDE",
	"DAC_READ_SEARCH",
	"FOWNER",
	"FSETID",
	"KILL",
	"SETGID",
	"SETUID",
	"SETPCAP",
	"LINUX_IMMUTABLE",
	"NET_BIND_SERVICE",
	"NET_BROADCAST",
	"NET_ADMIN",
	"NET_RAW",
	"IPC_LOCK",
	"IPC_OWNER",
	"SYS_MODULE",
	"SYS_RAWIO",
	"SYS_CHROOT",
	"SYS_PTRACE",
	"SYS_PACCT",
	"SYS_ADMIN",
	"SYS_BOOT",
	"SYS_NICE",
	"SYS_RESOURCE",
	"SYS_TIME",
	"SYS_TTY_CONFIG",
	"MKNOD",
	"LEASE",
	"AUDIT_WRITE",
	"AUDIT_CONTROL",
	"SETFCAP",
	"MAC_OVERRIDE",
	"MAC_ADMIN",
	"SYSLOG",
	"WAKE_ALARM",
	"BLOCK_SUSPEND",
	"AUDIT_READ",
	"PERFMON",
	"BPF",
	"CHECKPOINT_RESTORE",
};
#define CAP_ALL_BIT 63
#define CAP_N (sizeof(cap_names) / sizeof(cap_names[0]))

/* "cap_sys_admin" / "SYS_ADMIN" / "all" -> its bit, or -1. The engine side
 * arrives normalized (engine_json.c); the policy side may be spelled either way. */
static int cap_bit(const char *s)
{
	char u[40];
	size_t n;

	if ((s[0] | 0x20) == 'c' && (s[1] | 0x20) == 'a' && (s[2] | 0x20) == 'p' && s[3] == '_')
		s += 4;
	n = strlen(s);
	if (n == 0 || n >= sizeof(u))
		return -1;
	for (size_t i = 0; i <= n; i++)
		u[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
	if (strcmp(u, "ALL") == 0)
		return CAP_ALL_BIT;
	for (size_t i = 0; i < CAP_N; i++)
		if (strcmp(u, cap_names[i]) == 0)
			return (int)i;
	return -1;
}

static int parse_caps(struct pctx *c, const char *where, json_t *a, struct policy_rule *r)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > 64)
		return perr(c, "%s.require.capabilities: must be an array of at most 64 names",
			    where);
	json_array_foreach(a, i, v)
	{
		int b = json_is_string(v) ? cap_bit(json_string_value(v)) : -1;
		if (b < 0)
			return perr(c,
				    "%s.require.capabilities[%zu]: not a capability name (like "
				    "\"NET_BIND_SERVICE\" or \"ALL\")",
				    where, i);
		r->caps_allowed |= (uint64_t)1 << b;
	}
	r->has_caps = true;
	return 0;
}

/* "key": false sets *ret (a requirement); true asks nothing. */
static int get_require(struct pctx *c, const char *where, json_t *q, const char *key, bool *ret)
{
	json_t *v = json_object_get(q, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return perr(c, "%s.require.%s: must be true or false", where, key);
	*ret = json_is_false(v);
	return 0;
}

static int parse_require(struct pctx *c, const char *where, json_t *q, struct policy_rule *r)
{
	static const char *const keys[] = { "privileged",   "root",	   "host_namespaces",
					    "unconfined",   "host_mounts", "devices",
					    "capabilities", "k8s",	   NULL };
	int e;

	if (!json_is_object(q))
		return perr(c, "%s.require: must be an object", where);
	if ((e = check_keys(c, where, q, keys)) < 0 ||
	    (e = get_require(c, where, q, "privileged", &r->req_unprivileged)) < 0 ||
	    (e = get_require(c, where, q, "root", &r->req_nonroot)) < 0 ||
	    (e = get_require(c, where, q, "host_namespaces", &r->req_no_host_ns)) < 0 ||
	    (e = get_require(c, where, q, "unconfined", &r->req_confined)) < 0 ||
	    (e = get_require(c, where, q, "host_mounts", &r->req_no_host_mounts)) < 0 ||
	    (e = get_require(c, where, q, "devices", &r->req_no_devices)) < 0)
		return e;
	if (json_object_get(q, "capabilities") &&
	    (e = parse_caps(c, where, json_object_get(q, "capabilities"), r)) < 0)
		return e;
	if (json_object_get(q, "k8s"))
		return parse_k8s_require(c, where, json_object_get(q, "k8s"), r);
	return 0;
}

static int parse_mode(const char *s, uint16_t *ret)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n < 3 || n > 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(s[i] - '0');
	}
	if (v > 0777 || !(v & 0400))
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* "template" and "escape" (docs/templates.md): the synthetic secret name is
 * "template/<file>", the file defaults to the template's name without
 * ".tmpl". The template is read and checked later (tmpl_policy_load). */
static int parse_template_grant(struct pctx *c, const char *where, json_t *g,
				struct policy_grant *pg, const char *file)
{
	const char *esc = NULL;
	enum tmpl_escape e;
	size_t n;
	int r;

	if (!json_object_get(g, "template") && !json_object_get(g, "escape"))
		return 0;
	if ((r = get_str(c, where, g, "template", PROTO_MAX_NAME, &pg->template)) < 0 ||
	    (r = get_str(c, where, g, "escape", 8, &esc)) < 0)
		return r;
	if (!pg->template)
		return perr(c, "%s.escape: only a template grant has one", where);
	if (pg->secret)
		return perr(c, "%s: a template grant names no \"secret\" (the template says which)",
			    where);
	if (!proto_file_name_valid(pg->template))
		return perr(c,
			    "%s.template: '%s' must be a file name next to the policy (no '/', "
			    "no leading '.')",
			    where, pg->template);
	if (!esc || tmpl_escape_from_name(esc, &e) < 0)
		return perr(c, "%s.escape: must be \"none\", \"shell\", \"json\" or \"url\"",
			    where);
	pg->escape = (uint8_t)e;
	n = file ? strlen(file) : strlen(pg->template);
	if (!file && n > 5 && strcmp(pg->template + n - 5, ".tmpl") == 0)
		n -= 5;
	if (n > PROTO_MAX_NAME - 9) /* room for "template/" */
		return perr(c, "%s.file: at most %u characters for a template", where,
			    PROTO_MAX_NAME - 9);
	memcpy(pg->file, file ? file : pg->template, n);
	pg->file[n] = '\0';
	if (!(pg->tmpl_name = malloc(PROTO_MAX_NAME + 1)))
		return -ENOMEM;
	memcpy(pg->tmpl_name, "template/", 9);
	memcpy(pg->tmpl_name + 9, pg->file, n + 1);
	if (!proto_secret_name_valid(pg->tmpl_name))
		return perr(c, "%s.file: '%s': a template's file uses only [A-Za-z0-9._-]", where,
			    pg->file);
	pg->secret = pg->tmpl_name;
	return 0;
}

static int get_env_name(struct pctx *c, const char *where, json_t *g, const char *key,
			const char **ret)
{
	char why[160];
	int e = get_str(c, where, g, key, PROTO_MAX_ENV_NAME, ret);

	if (e < 0 || !*ret)
		return e;
	if (proto_env_name_problem(*ret, why, sizeof(why)))
		return perr(c, "%s.%s: variable name '%.*s' %s", where, key, CUT(*ret, 64), why);
	return 0;
}

/* "env_file" and "env": which of file / value-in-env / path-in-env. An
 * "env" grant writes a file only when it names one. */
static int parse_delivery(struct pctx *c, const char *where, json_t *g, struct policy_grant *pg,
			  bool file_given)
{
	int e;

	if ((e = get_env_name(c, where, g, "env", &pg->env)) < 0 ||
	    (e = get_env_name(c, where, g, "env_file", &pg->env_file)) < 0)
		return e;
	pg->delivery = pg->env && !file_given ? 0 : PROTO_D_FILE;
	if (pg->env)
		pg->delivery |= PROTO_D_ENV;
	if (pg->env_file && !(pg->delivery & PROTO_D_FILE))
		return perr(c,
			    "%s.env_file: needs a file; add \"file\" to a grant that has \"env\"",
			    where);
	if (pg->env_file)
		pg->delivery |= PROTO_D_ENV_FILE;
	if (pg->env && pg->env_file && strcmp(pg->env, pg->env_file) == 0)
		return perr(c, "%s: \"env\" and \"env_file\" both set '%s'", where, pg->env);
	return 0;
}

static int parse_grant(struct pctx *c, const char *where, json_t *g, struct policy_grant *pg)
{
	static const char *const keys[] = { "secret", "file", "mode",	  "template",
					    "escape", "env",  "env_file", NULL };
	const char *file = NULL, *mode = NULL;
	int e;

	if (!json_is_object(g))
		return perr(c, "%s: must be an object", where);
	if ((e = check_keys(c, where, g, keys)) < 0 ||
	    (e = get_str(c, where, g, "secret", PROTO_MAX_NAME, &pg->secret)) < 0 ||
	    (e = get_str(c, where, g, "file", PROTO_MAX_NAME, &file)) < 0 ||
	    (e = get_str(c, where, g, "mode", 4, &mode)) < 0 ||
	    (e = parse_template_grant(c, where, g, pg, file)) < 0)
		return e;
	if (!pg->secret)
		return perr(c, "%s: missing \"secret\" (or \"template\")", where);
	if (!proto_secret_name_valid(pg->secret))
		return perr(c, "%s.secret: invalid secret name '%s'", where, pg->secret);
	if (file && !pg->template)
		snprintf(pg->file, sizeof(pg->file), "%s", file);
	else if (!pg->template)
		for (size_t i = 0; i <= strlen(pg->secret); i++)
			pg->file[i] = pg->secret[i] == '/' ? '_' : pg->secret[i];
	if (!proto_file_name_valid(pg->file))
		return perr(c, "%s.file: invalid file name '%s' (no '/', no leading '.')", where,
			    pg->file);
	pg->mode = 0400;
	if (mode && parse_mode(mode, &pg->mode) < 0)
		return perr(c,
			    "%s.mode: must be an octal string like \"0400\" (owner-readable, "
			    "at most 0777)",
			    where);
	return parse_delivery(c, where, g, pg, file != NULL);
}

static int parse_grants(struct pctx *c, const char *where, json_t *a, struct policy_rule *r)
{
	char w[96];
	int e;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return perr(c, "%s.grant: must be a non-empty array", where);
	if (json_array_size(a) > POLICY_MAX_GRANTS)
		return perr(c, "%s.grant: more than %u grants", where, POLICY_MAX_GRANTS);
	/* +1: grant_free() of a grant that failed half-way */
	r->grants = calloc(json_array_size(a) + 1, sizeof(*r->grants));
	if (!r->grants)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(w, sizeof(w), "%s.grant[%zu]", where, i);
		if ((e = parse_grant(c, w, json_array_get(a, i), &r->grants[i])) < 0)
			return e;
		r->n_grants++;
	}
	return 0;
}

static bool rule_name_valid(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static int parse_rule(struct pctx *c, size_t idx, json_t *o, struct policy_rule *r)
{
	static const char *const keys[] = { "name", "match", "require", "grant", NULL };
	char w[32];
	int e;

	snprintf(w, sizeof(w), "rules[%zu]", idx);
	if (!json_is_object(o))
		return perr(c, "%s: must be an object", w);
	if ((e = check_keys(c, w, o, keys)) < 0 ||
	    (e = get_str(c, w, o, "name", POLICY_MAX_RULE_NAME, &r->name)) < 0)
		return e;
	if (!r->name)
		return perr(c, "%s: missing \"name\"", w);
	if (!rule_name_valid(r->name))
		return perr(c, "%s.name: use only [A-Za-z0-9._-]", w);
	if (json_object_get(o, "match") &&
	    (e = parse_match(c, w, json_object_get(o, "match"), r)) < 0)
		return e;
	if (json_object_get(o, "require") &&
	    (e = parse_require(c, w, json_object_get(o, "require"), r)) < 0)
		return e;
	return parse_grants(c, w, json_object_get(o, "grant"), r);
}

/* Rule names unique; secret <-> (file, mode) consistent across the policy. */
static int check_conflicts(struct pctx *c, const struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *a = &p->rules[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->name, p->rules[j].name) == 0)
				return perr(c, "rules[%zu]: duplicate rule name '%s'", i, a->name);
		for (size_t g = 0; g < a->n_grants; g++) {
			const struct policy_grant *x = &a->grants[g];
			for (size_t j = 0; j <= i; j++) {
				const struct policy_rule *b = &p->rules[j];
				size_t end = j == i ? g : b->n_grants;
				for (size_t h = 0; h < end; h++) {
					const struct policy_grant *y = &b->grants[h];
					bool sf = strcmp(x->file, y->file) == 0;
					bool ss = strcmp(x->secret, y->secret) == 0;
					if (j == i && (sf || ss))
						return perr(
							c, "rules[%zu] '%s': %s '%s' granted twice",
							i, a->name, sf ? "file" : "secret",
							sf ? x->file : x->secret);
					if (sf != ss || (ss && x->mode != y->mode))
						return perr(
							c,
							"rules[%zu] '%s': grant of '%s' as file "
							"'%s' conflicts with rule '%s' ('%s' as "
							"'%s'); one file name per secret, one mode",
							i, a->name, x->secret, x->file, b->name,
							y->secret, y->file);
				}
			}
		}
	}
	return 0;
}

static uint32_t fnv(uint32_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return (h ^ 0xffu) * 16777619u; /* a separator: "AB","" differs from "A","B" */
}

uint32_t policy_grant_delivery_key(const struct policy_grant *g)
{
	uint32_t h = (2166136261u ^ g->delivery) * 16777619u;
	return fnv(fnv(h, g->env), g->env_file);
}

static bool same_opt(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Does grant y set variable v (as env or env_file)? */
static bool sets_var(const struct policy_grant *y, const char *v)
{
	return v && ((y->env && !strcmp(y->env, v)) || (y->env_file && !strcmp(y->env_file, v)));
}

/* One variable, one grant: within a rule (the brief's "set twice") and
 * across rules (a caller matching both would get two values for it); and
 * a grant (keyed by its file, one-to-one with its secret) delivers the same
 * way in every rule. */
static int check_env_pair(struct pctx *c, size_t i, const struct policy_rule *a,
			  const struct policy_grant *x, const struct policy_rule *b,
			  const struct policy_grant *y)
{
	bool same = strcmp(x->file, y->file) == 0;
	const char *v = sets_var(y, x->env)	   ? x->env
			: sets_var(y, x->env_file) ? x->env_file
						   : NULL;

	if (same && a != b &&
	    (x->delivery != y->delivery || !same_opt(x->env, y->env) ||
	     !same_opt(x->env_file, y->env_file)))
		return perr(c,
			    "rules[%zu] '%s': grant of file '%s' delivers differently in rule "
			    "'%s' (env / env_file / file); one delivery per secret",
			    i, a->name, x->file, b->name);
	if (v && !same)
		return perr(c, "rules[%zu] '%s': variable '%s' set by two grants ('%s'%s%s')", i,
			    a->name, v, x->file, a == b ? " and '" : " and rule '",
			    a == b ? y->file : b->name);
	return 0;
}

static int check_env_conflicts(struct pctx *c, const struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *a = &p->rules[i];
		for (size_t g = 0; g < a->n_grants; g++)
			for (size_t j = 0; j <= i; j++) {
				const struct policy_rule *b = &p->rules[j];
				size_t end = j == i ? g : b->n_grants;
				for (size_t h = 0; h < end; h++) {
					int e = check_env_pair(c, i, a, &a->grants[g], b,
							       &b->grants[h]);
					if (e < 0)
						return e;
				}
			}
	}
	return 0;
}

static int parse_doc(struct pctx *c, json_t *doc, struct policy *p)
{
	static const char *const keys[] = { "version", "rules", NULL };
	json_t *rules = json_object_get(doc, "rules"), *v = json_object_get(doc, "version");
	size_t total = 0;
	int e;

	if (!json_is_object(doc))
		return perr(c, "policy: top level must be an object");
	if ((e = check_keys(c, "policy", doc, keys)) < 0)
		return e;
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return perr(c, "policy: \"version\" must be 1");
	if (!json_is_array(rules))
		return perr(c, "policy: \"rules\" must be an array");
	if (json_array_size(rules) > POLICY_MAX_RULES)
		return perr(c, "policy: more than %u rules", POLICY_MAX_RULES);
	p->rules = calloc(json_array_size(rules) + 1, sizeof(*p->rules));
	if (!p->rules)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(rules); i++) {
		e = parse_rule(c, i, json_array_get(rules, i), &p->rules[i]);
		p->n_rules++;
		if (e < 0)
			return e;
		total += p->rules[i].n_grants;
		if (total > POLICY_MAX_TOTAL_GRANTS)
			return perr(c, "policy: more than %u grants in all",
				    POLICY_MAX_TOTAL_GRANTS);
	}
	if ((e = check_conflicts(c, p)) < 0)
		return e;
	return check_env_conflicts(c, p);
}

int policy_parse(const char *json, size_t len, struct policy **ret, char *err, size_t errlen)
{
	struct pctx c = { err, errlen };
	struct policy *p;
	json_error_t je;
	uint8_t h[crypto_hash_sha256_BYTES];
	int e;

	if (errlen)
		err[0] = '\0';
	if (len > POLICY_MAX_BYTES)
		return perr(&c, "policy: larger than %u bytes", POLICY_MAX_BYTES);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!p->doc) {
		policy_free(p);
		return perr(&c, "policy: line %d column %d: %s", je.line, je.column, je.text);
	}
	e = parse_doc(&c, p->doc, p);
	if (e < 0) {
		if (e == -ENOMEM)
			perr(&c, "policy: out of memory");
		policy_free(p);
		return -EINVAL;
	}
	crypto_hash_sha256(h, (const unsigned char *)json, len);
	sodium_bin2hex(p->digest, sizeof(p->digest), h, sizeof(h));
	*ret = p;
	return 0;
}

/* A grant's own allocations (a template grant's name and parsed text). */
static void grant_free(struct policy_grant *g)
{
	free(g->tmpl_name);
	tmpl_free(g->tmpl);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].label_keys);
		free(p->rules[i].label_vals);
		for (size_t g = 0; p->rules[i].grants && g < p->rules[i].n_grants + 1; g++)
			grant_free(&p->rules[i].grants[g]);
		free(p->rules[i].grants);
		k8s_free(p->rules[i].k8s);
	}
	for (size_t i = 0; i < p->n_agent_paths; i++)
		free(p->agent_paths[i]);
	free(p->rules);
	json_decref(p->doc);
	free(p);
}

/* ---- evaluation ---- */

__attribute__((format(printf, 3, 4))) static bool fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	utf8_trim(why, len);
	return false;
}

static bool rule_needs_meta(const struct policy_rule *r)
{
	return r->name_glob || r->image_glob || r->image_id || r->n_labels || r->req_unprivileged ||
	       r->req_nonroot || r->req_no_host_ns || r->req_confined || r->req_no_host_mounts ||
	       r->req_no_devices || r->has_caps;
}

/* Selectors the kernel vouches for: runtime, container id, uid, gid, cgroup. */
static bool match_kernel(const struct policy_rule *r, const struct peer *pe, char *why, size_t len)
{
	if (r->has_runtime && r->runtime != pe->cg.runtime)
		return fail(why, len, "runtime '%s' is not '%s'", runtime_name(pe->cg.runtime),
			    runtime_name(r->runtime));
	if (r->container_id && strcmp(r->container_id, pe->cg.id) != 0)
		return fail(why, len, "container_id '%.*s' is not '%.12s'",
			    CUT(pe->cg.id[0] ? pe->cg.id : "(none)", 12), r->container_id);
	if (r->has_uid && r->uid != pe->uid)
		return fail(why, len, "uid %u is not %u", (unsigned)pe->uid, (unsigned)r->uid);
	if (r->has_gid && r->gid != pe->gid)
		return fail(why, len, "gid %u is not %u", (unsigned)pe->gid, (unsigned)r->gid);
	if (r->cgroup_glob && fnmatch(r->cgroup_glob, pe->cg.path, 0) != 0)
		return fail(why, len, "cgroup '%.*s' does not match '%.*s'", CUT(pe->cg.path, 120),
			    CUT(r->cgroup_glob, 120));
	return true;
}

static bool match_meta(const struct policy_rule *r, const struct container_meta *m, char *why,
		       size_t len)
{
	if (r->name_glob && fnmatch(r->name_glob, m->name, 0) != 0)
		return fail(why, len, "name '%.*s' does not match '%.*s'", CUT(m->name, 120),
			    CUT(r->name_glob, 120));
	if (r->image_glob && fnmatch(r->image_glob, m->image, 0) != 0)
		return fail(why, len, "image '%.*s' does not match '%.*s'", CUT(m->image, 120),
			    CUT(r->image_glob, 120));
	if (r->image_id && strcmp(r->image_id, m->image_id) != 0)
		return fail(why, len, "image_id '%.*s' is not '%.*s'", CUT(m->image_id, 80),
			    CUT(r->image_id, 80));
	for (size_t i = 0; i < r->n_labels; i++) {
		json_t *v = m->labels ? json_object_get(m->labels, r->label_keys[i]) : NULL;
		if (!json_is_string(v) || strcmp(json_string_value(v), r->label_vals[i]) != 0)
			return fail(why, len, "label '%.*s' is %s%.*s%s, not '%.*s'",
				    CUT(r->label_keys[i], 60), json_is_string(v) ? "'" : "",
				    CUT(json_is_string(v) ? json_string_value(v) : "absent", 60),
				    json_is_string(v) ? "'" : "", CUT(r->label_vals[i], 60));
	}
	return true;
}

void policy_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
	if (*off >= len) /* cut: never inside a character */
		utf8_trim(buf, len);
}

/* ---- require: the container's posture (docs/policy.md) ---- */

/* What "privileged": false refuses among added capabilities. */
#define CAPS_DANGEROUS                                                                             \
	((uint64_t)1 << CAP_ALL_BIT | (uint64_t)1 << 21 /* SYS_ADMIN */ |                          \
	 (uint64_t)1 << 19 /* SYS_PTRACE */ | (uint64_t)1 << 16 /* SYS_MODULE */ |                 \
	 (uint64_t)1 << 2 /* DAC_READ_SEARCH */ | (uint64_t)1 << 17 /* SYS_RAWIO */ |              \
	 (uint64_t)1 << 39 /* BPF */)

/* Engine sockets and keyhole's own directories. A bind mount refuses when
 * its source is one of these, lies below one, or holds one (a parent,
 * "/" included). Podman and Docker both reject symlinks only lexically, so
 * this is lexical too (docs/threat-model.md). */
static const char *const protected_paths[] = {
	"/proc",
	"/sys",
	"/run/docker.sock",
	"/var/run/docker.sock",
	"/run/podman/podman.sock",
	"/var/run/podman/podman.sock",
	"/run/containerd/containerd.sock",
	"/run/crio/crio.sock",
	"/var/lib/keyhole",
	"/etc/keyhole",
	"/run/keyhole-admin",
	NULL,
};
/* Engine sockets wherever they are (rootless podman, a lab's --engine). */
static const char *const socket_names[] = { "docker.sock", "podman.sock", "containerd.sock",
					    "crio.sock", NULL };

/* Causes, joined by ", " into a fixed buffer, cut on characters. */
struct causes {
	char buf[POLICY_WHY_MAX];
	size_t off;
};

__attribute__((format(printf, 2, 3))) static void cause(struct causes *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->off + 3 >= sizeof(c->buf))
		return;
	if (c->off)
		c->off += (size_t)snprintf(c->buf + c->off, sizeof(c->buf) - c->off, ", ");
	va_start(ap, fmt);
	n = vsnprintf(c->buf + c->off, sizeof(c->buf) - c->off, fmt, ap);
	va_end(ap);
	c->off = n < 0 ? c->off : c->off + (size_t)n;
	if (c->off >= sizeof(c->buf)) {
		utf8_trim(c->buf, sizeof(c->buf));
		c->off = sizeof(c->buf);
	}
}

/* "CapAdd A B" for the added capabilities whose bit is in refuse (an
 * unknown name is always refused). */
static void cap_causes(const struct container_meta *m, uint64_t refuse, bool allowlist,
		       struct causes *c)
{
	char list[POLICY_WHY_MAX];
	size_t off = 0, i;
	json_t *v;

	list[0] = '\0';
	json_array_foreach(m->cap_add, i, v)
	{
		const char *name = json_string_value(v);
		int b = name ? cap_bit(name) : -1;
		if (!name || (b >= 0 && !(refuse >> b & 1)))
			continue;
		policy_appendf(list, sizeof(list), &off, "%s%.*s", off ? " " : "", CUT(name, 32));
	}
	if (off)
		cause(c, "CapAdd %s%s", list, allowlist ? " not allowed" : "");
}

static void ns_causes(const struct container_meta *m, struct causes *c)
{
	if (m->host_pid)
		cause(c, "host pid namespace");
	if (m->host_ipc)
		cause(c, "host ipc namespace");
	if (m->host_net)
		cause(c, "host network namespace");
	if (m->host_userns)
		cause(c, "host user namespace");
}

static void confinement_causes(const struct container_meta *m, struct causes *c)
{
	if (m->seccomp_unconfined)
		cause(c, "seccomp unconfined");
	if (m->apparmor_unconfined)
		cause(c, "apparmor unconfined");
	if (m->paths_unmasked)
		cause(c, "masked paths unconfined (systempaths=unconfined)");
}

/* src exposes path: equal, below it, or a directory above it. */
static bool path_exposes(const char *src, const char *path)
{
	size_t s = strlen(src), n = strlen(path);

	if (strcmp(src, "/") == 0)
		return true;
	if (s <= n)
		return memcmp(src, path, s) == 0 && (path[s] == '\0' || path[s] == '/');
	return memcmp(src, path, n) == 0 && src[n] == '/';
}

static const char *exposed(const struct policy *p, const char *src)
{
	const char *base = strrchr(src, '/') + 1;

	for (size_t i = 0; socket_names[i]; i++)
		if (strcmp(base, socket_names[i]) == 0)
			return "an engine socket";
	for (size_t i = 0; protected_paths[i]; i++)
		if (path_exposes(src, protected_paths[i]))
			return protected_paths[i];
	for (size_t i = 0; i < p->n_agent_paths; i++)
		if (path_exposes(src, p->agent_paths[i]))
			return p->agent_paths[i];
	return NULL;
}

static void mount_causes(const struct policy *p, const struct container_meta *m, struct causes *c)
{
	size_t i;
	json_t *v;

	json_array_foreach(m->binds, i, v)
	{
		const char *src = json_string_value(v), *what;
		if (!src || src[0] != '/' || !(what = exposed(p, src)))
			continue;
		if (strcmp(src, "/") == 0 || strcmp(src, what) == 0 || what[0] != '/')
			cause(c, "bind mount of %.*s", CUT(src, 120));
		else
			cause(c, "bind mount of %.*s (exposes %s)", CUT(src, 120), what);
	}
}

/* Every cause "privileged": false refuses (docs/policy.md). */
static void privileged_causes(const struct policy *p, const struct container_meta *m,
			      struct causes *c)
{
	if (m->privileged)
		cause(c, "container is privileged");
	cap_causes(m, CAPS_DANGEROUS, false, c);
	ns_causes(m, c);
	confinement_causes(m, c);
	mount_causes(p, m, c);
}

static bool refuse_if(struct causes *c, const char *key, char *why, size_t len)
{
	if (!c->off)
		return true;
	return fail(why, len, "require %s: %s", key, c->buf);
}

static bool match_posture(const struct policy *p, const struct policy_rule *r,
			  const struct policy_identity *id, char *why, size_t len)
{
	const struct container_meta *m = id->meta;
	struct causes c = { .off = 0 };

	if (r->req_unprivileged)
		privileged_causes(p, m, &c);
	if (!refuse_if(&c, "privileged=false", why, len))
		return false;
	if (r->req_no_host_ns)
		ns_causes(m, &c);
	if (!refuse_if(&c, "host_namespaces=false", why, len))
		return false;
	if (r->req_confined)
		confinement_causes(m, &c);
	if (!refuse_if(&c, "unconfined=false", why, len))
		return false;
	if (r->req_no_host_mounts)
		mount_causes(p, m, &c);
	if (!refuse_if(&c, "host_mounts=false", why, len))
		return false;
	if (r->req_no_devices && m->n_devices)
		cause(&c, "%u device(s) added (--device)", m->n_devices);
	if (!refuse_if(&c, "devices=false", why, len))
		return false;
	if (r->has_caps)
		cap_causes(m, ~r->caps_allowed, true, &c);
	if (!refuse_if(&c, "capabilities", why, len))
		return false;
	if (r->req_nonroot && m->root)
		return fail(why, len,
			    "require root=false: container runs as root (Config.User "
			    "'%.*s')",
			    CUT(m->user, 40));
	/* exec -u 0 into a --user 1000 container: the kernel's word wins */
	if (r->req_nonroot && id->peer->uid == 0)
		return fail(why, len,
			    "require root=false: caller runs as uid 0 (Config.User "
			    "'%.*s')",
			    CUT(m->user, 40));
	return true;
}

int policy_protect_paths(struct policy *p, const char *engine_url, const char *store,
			 const char *key_file, const char *admin_socket)
{
	const char *in[4] = { engine_url, store, key_file, admin_socket };
	char clean[ENGINE_MAX_PATH];

	for (size_t i = 0; i < 4; i++) {
		const char *s = in[i];
		if (!s || (i != 0 && strstr(s, "://")))
			continue; /* unset, or a store URL such as etcd:// */
		if (i == 0 && strncmp(s, "unix://", 7) == 0)
			s += 7;
		if (engine_clean_path(s, clean, sizeof(clean)) < 0 || strcmp(clean, "/") == 0)
			return -EINVAL;
		if (p->n_agent_paths >= POLICY_MAX_AGENT_PATHS)
			return -EINVAL;
		if (!(p->agent_paths[p->n_agent_paths] = strdup(clean)))
			return -ENOMEM;
		p->n_agent_paths++;
	}
	return 0;
}

/* ---- Kubernetes evaluation: the kubelet's word on the pod ---- */

static bool match_k8s_selectors(const struct policy_k8s *k, const struct k8s_meta *m, char *why,
				size_t len)
{
	if (k->ns && strcmp(k->ns, m->namespace) != 0)
		return fail(why, len, "namespace '%.63s' is not '%.63s'", m->namespace, k->ns);
	if (k->service_account && strcmp(k->service_account, m->service_account) != 0)
		return fail(why, len, "service_account '%.100s' is not '%.100s'",
			    m->service_account, k->service_account);
	if (k->pod_name_glob && fnmatch(k->pod_name_glob, m->pod_name, 0) != 0)
		return fail(why, len, "pod_name '%.120s' does not match '%.120s'", m->pod_name,
			    k->pod_name_glob);
	if (k->container_name && strcmp(k->container_name, m->container_name) != 0)
		return fail(why, len, "container_name '%.63s' is not '%.63s'", m->container_name,
			    k->container_name);
	if (k->image_glob && fnmatch(k->image_glob, m->image, 0) != 0)
		return fail(why, len, "image '%.120s' does not match '%.120s'", m->image,
			    k->image_glob);
	for (size_t i = 0; i < k->n_labels; i++) {
		json_t *v = json_object_get(m->labels, k->label_keys[i]);
		if (!json_is_string(v) || strcmp(json_string_value(v), k->label_vals[i]) != 0)
			return fail(why, len, "pod label '%.60s' is %s%.60s%s, not '%.60s'",
				    k->label_keys[i], json_is_string(v) ? "'" : "",
				    json_is_string(v) ? json_string_value(v) : "absent",
				    json_is_string(v) ? "'" : "", k->label_vals[i]);
	}
	return true;
}

/* s (as the pod spec wrote it, already upper-cased without CAP_) in list? */
static bool allowed(const json_t *list, const char *s, bool caps)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		const char *a = json_string_value(v);
		if (caps && strncasecmp(a, "CAP_", 4) == 0)
			a += 4;
		if (caps ? strcasecmp(a, s) == 0 : strcmp(a, s) == 0)
			return true;
	}
	return false;
}

/* The first entry of have not in allow, or NULL. */
static const char *first_not_allowed(const json_t *allow, const json_t *have, bool caps)
{
	const json_t *v;
	size_t i;

	json_array_foreach(have, i, v) if (!allowed(allow, json_string_value(v),
						    caps)) return json_string_value(v);
	return NULL;
}

static bool match_k8s_posture(const struct policy_k8s *k, const struct k8s_meta *m, char *why,
			      size_t len)
{
	const char *x;

	if (k->req_unprivileged && m->privileged)
		return fail(why, len, "container is privileged (require k8s.privileged: false)");
	if (k->req_no_escalation && m->allow_privilege_escalation)
		return fail(why, len,
			    "container may escalate privileges (allowPrivilegeEscalation "
			    "not false; require k8s.allow_privilege_escalation: false)");
	if (k->req_nonroot && m->root)
		return fail(why, len,
			    "container may run as root (no non-zero runAsUser, no "
			    "runAsNonRoot; require k8s.root: false)");
	if ((k->req_no_host_pid && m->host_pid) || (k->req_no_host_network && m->host_network) ||
	    (k->req_no_host_ipc && m->host_ipc))
		return fail(why, len,
			    "pod shares the host's %s namespace (require k8s.host_%s: "
			    "false)",
			    m->host_pid	      ? "pid"
			    : m->host_network ? "network"
					      : "ipc",
			    m->host_pid	      ? "pid"
			    : m->host_network ? "network"
					      : "ipc");
	if (k->caps_allowed && (x = first_not_allowed(k->caps_allowed, m->caps_add, true)))
		return fail(why, len,
			    "container adds capability %.40s (not in require "
			    "k8s.capabilities)",
			    x);
	if (k->host_paths_allowed &&
	    (x = first_not_allowed(k->host_paths_allowed, m->host_paths, false)))
		return fail(why, len,
			    "pod has hostPath volume '%.120s' (not in require "
			    "k8s.host_paths)",
			    x);
	return true;
}

static bool match_k8s(const struct policy_k8s *k, const struct policy_identity *id, char *why,
		      size_t len)
{
	if (!id->k8s && !id->peer->cg.pod_uid[0])
		return fail(why, len, "needs pod metadata; caller is not in a Kubernetes pod");
	if (!id->k8s)
		return fail(why, len, "needs pod metadata: %s",
			    id->meta_err ? id->meta_err : "no --kubelet configured");
	return match_k8s_selectors(k, id->k8s, why, len) && match_k8s_posture(k, id->k8s, why, len);
}

static bool rule_match(const struct policy *p, const struct policy_rule *r,
		       const struct policy_identity *id, char *why, size_t len)
{
	if (!match_kernel(r, id->peer, why, len))
		return false;
	if (rule_needs_meta(r)) {
		if (id->peer->cg.runtime == RT_HOST)
			return fail(why, len, "needs container metadata; caller is a host process");
		if (!id->meta)
			return fail(why, len, "needs container metadata: %s",
				    id->meta_err ? id->meta_err : "no --engine configured");
		if (!match_meta(r, id->meta, why, len) || !match_posture(p, r, id, why, len))
			return false;
	}
	if (r->k8s && !match_k8s(r->k8s, id, why, len))
		return false;
	snprintf(why, len, "matched");
	return true;
}

const struct policy_grant_ref *policy_eval_find(const struct policy_eval *e, const char *secret)
{
	for (size_t i = 0; i < e->n_grants; i++)
		if (strcmp(e->grants[i].grant->secret, secret) == 0)
			return &e->grants[i];
	return NULL;
}

int policy_eval(const struct policy *p, const struct policy_identity *id, struct policy_eval **ret)
{
	struct policy_eval *e = calloc(1, sizeof(*e));
	size_t total = 0;

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_rules; i++)
		total += p->rules[i].n_grants;
	e->rules = calloc(p->n_rules + 1, sizeof(*e->rules));
	e->grants = calloc(total + 1, sizeof(*e->grants));
	if (!e->rules || !e->grants) {
		policy_eval_free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		struct policy_rule_result *rr = &e->rules[e->n_rules++];
		rr->rule = r;
		rr->matched = rule_match(p, r, id, rr->why, sizeof(rr->why));
		if (!rr->matched)
			continue;
		for (size_t g = 0; g < r->n_grants; g++)
			if (!policy_eval_find(e, r->grants[g].secret))
				e->grants[e->n_grants++] =
					(struct policy_grant_ref){ &r->grants[g], r };
	}
	*ret = e;
	return 0;
}

void policy_eval_free(struct policy_eval *e)
{
	if (!e)
		return;
	free(e->rules);
	free(e->grants);
	free(e);
}

void policy_describe(const struct policy_identity *id, char *buf, size_t len)
{
	const struct peer *pe = id->peer;

	if (pe->cg.runtime == RT_HOST)
		snprintf(buf, len, "host process pid %d uid %u", (int)pe->pid, (unsigned)pe->uid);
	else if (id->k8s)
		snprintf(buf, len, "pod %.63s/%.80s container %.63s", id->k8s->namespace,
			 id->k8s->pod_name, id->k8s->container_name);
	else if (id->meta && id->meta->name[0])
		snprintf(buf, len, "%s container %.*s", runtime_name(pe->cg.runtime),
			 CUT(id->meta->name, 120));
	else
		snprintf(buf, len, "%s container %.*s", runtime_name(pe->cg.runtime),
			 CUT(pe->cg.id, 12));
	utf8_trim(buf, len);
}

bool policy_mentions(const struct policy *p, const char *secret)
{
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t g = 0; g < p->rules[i].n_grants; g++)
			if (strcmp(p->rules[i].grants[g].secret, secret) == 0)
				return true;
	return false;
}

void policy_deny_reason(const struct policy *p, const struct policy_eval *e,
			const struct policy_identity *id, const char *secret, char *buf, size_t len)
{
	char who[160];
	size_t off = 0;
	bool any = false;

	(void)p;
	if (!len)
		return;
	buf[0] = '\0';
	policy_describe(id, who, sizeof(who));
	policy_appendf(buf, len, &off, "no rule grants '%.*s' to %s", CUT(secret, 100), who);
	for (size_t i = 0; i < e->n_rules; i++) {
		const struct policy_rule *r = e->rules[i].rule;
		bool grants = false;
		for (size_t g = 0; g < r->n_grants && !grants; g++)
			grants = strcmp(r->grants[g].secret, secret) == 0;
		if (!grants || e->rules[i].matched)
			continue;
		policy_appendf(buf, len, &off, "%s %s: %s", any ? "; rule" : " (rule", r->name,
			       e->rules[i].why);
		any = true;
	}
	if (any)
		policy_appendf(buf, len, &off, ")");
}
