/* SPDX-License-Identifier: MIT */
/* Parse GET /containers/<id>/json (Docker 20.10 and podman 4.x compat API).
 * Pure, no syscalls: the body is untrusted (names, labels, user, mounts and
 * security options come from whoever created the container), so every field
 * is type-checked, length- and count-capped and NUL-free, and anything odd
 * is -EBADMSG. Posture fields are what docs/policy.md says each engine
 * really reports (recorded in tests/fixtures/inspect_*.json). */
#include "engine.h"
#include "jsonfield.h"
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_MAX_LABELS 256u
#define ENGINE_MAX_LABEL_LEN 4096u
#define ENGINE_MAX_MODE_LEN 512u /* PidMode "container:<64 hex>" and the like */

/* Labels: missing or null -> {}; otherwise an object of capped strings. */
static int parse_labels(json_t *v, json_t **ret)
{
	const char *k;
	json_t *val;

	if (!v || json_is_null(v)) {
		*ret = json_object();
		return *ret ? 0 : -ENOMEM;
	}
	if (!json_is_object(v) || json_object_size(v) > ENGINE_MAX_LABELS)
		return -EBADMSG;
	json_object_foreach(v, k, val)
	{
		if (strlen(k) >= ENGINE_MAX_LABEL_LEN || !jf_str_capped(val, ENGINE_MAX_LABEL_LEN))
			return -EBADMSG;
	}
	*ret = json_deep_copy(v);
	return *ret ? 0 : -ENOMEM;
}

/* Root unless the user names a non-zero numeric uid or a non-root name:
 * "", "root", "root:*", and any all-digit uid equal to 0 ("0", "00:x").
 * A named user that maps to uid 0 in the image cannot be seen from here. */
static bool user_is_root(const char *u)
{
	size_t n = strcspn(u, ":");
	size_t i;

	if (n == 0)
		return true;
	if (n == 4 && memcmp(u, "root", 4) == 0)
		return true;
	for (i = 0; i < n; i++)
		if (u[i] != '0')
			break;
	return i == n; /* all zeros */
}

static int parse_state(const json_t *root, struct container_meta *m)
{
	const json_t *state = json_object_get(root, "State");
	const json_t *hc = json_object_get(root, "HostConfig");
	const json_t *pid, *running, *priv;

	if (!json_is_object(state) || !json_is_object(hc))
		return -EBADMSG;
	pid = json_object_get(state, "Pid");
	running = json_object_get(state, "Running");
	priv = json_object_get(hc, "Privileged");
	if (!json_is_integer(pid) || json_integer_value(pid) < 0 ||
	    json_integer_value(pid) > 0x3fffffff || !json_is_boolean(running) ||
	    !json_is_boolean(priv))
		return -EBADMSG;
	m->pid = (pid_t)json_integer_value(pid);
	m->running = json_is_true(running);
	m->privileged = json_is_true(priv);
	return 0;
}

/* ---- posture ---- */

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* ASCII case-insensitive equality, locale-free. */
static bool eq_nocase(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n && b[i]; i++)
		if (upper(a[i]) != upper(b[i]))
			return false;
	return i == n && b[i] == '\0';
}

/* A missing or null array is NULL (0); otherwise an array of at most max. */
static int get_array(const json_t *o, const char *key, size_t max, const json_t **ret)
{
	const json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > max)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* "cap_sys_admin", "CAP_SYS_ADMIN", "sys_admin" -> "SYS_ADMIN". */
static int norm_cap(const json_t *v, char *out)
{
	const char *s = jf_str_capped(v, ENGINE_MAX_CAP_NAME + 4);
	size_t n;

	if (!s)
		return -EBADMSG;
	if (strlen(s) >= 4 && eq_nocase(s, 4, "CAP_"))
		s += 4;
	n = strlen(s);
	if (n == 0 || n >= ENGINE_MAX_CAP_NAME)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		char c = upper(s[i]);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return -EBADMSG;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

static int parse_caps(const json_t *hc, struct container_meta *m)
{
	const json_t *a;
	char name[ENGINE_MAX_CAP_NAME];
	size_t i;
	json_t *v;
	int r;

	if ((r = get_array(hc, "CapAdd", ENGINE_MAX_CAPS, &a)) < 0)
		return r;
	json_array_foreach(a, i, v)
	{
		if ((r = norm_cap(v, name)) < 0)
			return r;
		if (json_array_append_new(m->cap_add, json_string(name)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* HostConfig.<key> == "host"; missing or null = the engine's private default. */
static int parse_ns(const json_t *hc, const char *key, bool *ret)
{
	const json_t *v = json_object_get(hc, key);
	const char *s;

	if (!v || json_is_null(v))
		return 0;
	if (!(s = jf_str_capped(v, ENGINE_MAX_MODE_LEN)))
		return -EBADMSG;
	*ret = strcmp(s, "host") == 0;
	return 0;
}

/* "seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined", ... in
 * any case. Docker stores a custom seccomp profile inline here, so entries
 * are not length-capped below the body cap; nothing of them is kept. */
static int parse_secopts(const json_t *root, const json_t *hc, struct container_meta *m)
{
	const json_t *a, *aa = json_object_get(root, "AppArmorProfile");
	size_t i, k;
	json_t *v;
	int r;

	if ((r = get_array(hc, "SecurityOpt", ENGINE_MAX_SECOPTS, &a)) < 0)
		return r;
	json_array_foreach(a, i, v)
	{
		const char *s = jf_str_capped(v, ENGINE_MAX_BODY);
		if (!s)
			return -EBADMSG;
		k = strcspn(s, "=:");
		if (!s[k] || !eq_nocase(s + k + 1, strlen(s + k + 1), "unconfined"))
			continue;
		if (eq_nocase(s, k, "seccomp"))
			m->seccomp_unconfined = true;
		else if (eq_nocase(s, k, "apparmor"))
			m->apparmor_unconfined = true;
	}
	if (aa && !json_is_null(aa)) {
		const char *s = jf_str_capped(aa, ENGINE_MAX_MODE_LEN);
		if (!s)
			return -EBADMSG;
		if (eq_nocase(s, strlen(s), "unconfined"))
			m->apparmor_unconfined = true;
	}
	return 0;
}

/* Docker lists its masked /proc paths; an empty list is
 * --security-opt systempaths=unconfined. podman's compat API reports null. */
static int parse_masked(const json_t *hc, struct container_meta *m)
{
	const json_t *a;
	int r;

	if ((r = get_array(hc, "MaskedPaths", ENGINE_MAX_MOUNTS, &a)) < 0)
		return r;
	m->paths_unmasked = a && json_array_size(a) == 0;
	if ((r = get_array(hc, "Devices", ENGINE_MAX_DEVICES, &a)) < 0)
		return r;
	m->n_devices = a ? (unsigned)json_array_size(a) : 0;
	return 0;
}

int engine_clean_path(const char *in, char *out, size_t cap)
{
	size_t o = 1;
	const char *p = in;

	if (!in || in[0] != '/' || cap < 2)
		return -EINVAL;
	out[0] = '/';
	while (*p) {
		const char *seg;
		size_t n;
		while (*p == '/')
			p++;
		seg = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (o > 1)
			out[o++] = '/'; /* o < cap - 1: checked below on the last segment */
		if (o + n >= cap)
			return -EINVAL;
		memcpy(out + o, seg, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* Append the cleaned absolute path src[0..n) to m->binds, once. */
static int add_bind(struct container_meta *m, const char *src, size_t n)
{
	char raw[ENGINE_MAX_PATH], clean[ENGINE_MAX_PATH];
	size_t i;
	json_t *v;

	if (n == 0 || n >= sizeof(raw) || src[0] != '/')
		return -EBADMSG;
	memcpy(raw, src, n);
	raw[n] = '\0';
	if (engine_clean_path(raw, clean, sizeof(clean)) < 0)
		return -EBADMSG;
	json_array_foreach(m->binds, i, v) if (strcmp(json_string_value(v), clean) == 0) return 0;
	return json_array_append_new(m->binds, json_string(clean)) < 0 ? -ENOMEM : 0;
}

/* Mounts[] {Type, Source} and HostConfig.Binds "SRC:DST[:OPTS]" (a SRC not
 * starting with '/' is a named volume). Both, because either engine may
 * list a bind in only one of them. */
static int parse_binds(const json_t *root, const json_t *hc, struct container_meta *m)
{
	const json_t *a;
	size_t i;
	json_t *v;
	int r;

	if ((r = get_array(hc, "Binds", ENGINE_MAX_MOUNTS, &a)) < 0)
		return r;
	json_array_foreach(a, i, v)
	{
		const char *s = jf_str_capped(v, 3 * ENGINE_MAX_PATH);
		if (!s)
			return -EBADMSG;
		if (s[0] == '/' && (r = add_bind(m, s, strcspn(s, ":"))) < 0)
			return r;
	}
	if ((r = get_array(root, "Mounts", ENGINE_MAX_MOUNTS, &a)) < 0)
		return r;
	json_array_foreach(a, i, v)
	{
		const char *type = jf_str_capped(json_object_get(v, "Type"), ENGINE_MAX_MODE_LEN);
		const char *src;
		if (!json_is_object(v) || !type)
			return -EBADMSG;
		if (strcmp(type, "bind") != 0)
			continue;
		if (!(src = jf_str_capped(json_object_get(v, "Source"), ENGINE_MAX_PATH)))
			return -EBADMSG;
		if ((r = add_bind(m, src, strlen(src))) < 0)
			return r;
	}
	return 0;
}

static int parse_posture(const json_t *root, struct container_meta *m)
{
	const json_t *hc = json_object_get(root, "HostConfig");
	int r;

	m->cap_add = json_array();
	m->binds = json_array();
	if (!m->cap_add || !m->binds)
		return -ENOMEM;
	if ((r = parse_caps(hc, m)) < 0 || (r = parse_ns(hc, "PidMode", &m->host_pid)) < 0 ||
	    (r = parse_ns(hc, "IpcMode", &m->host_ipc)) < 0 ||
	    (r = parse_ns(hc, "NetworkMode", &m->host_net)) < 0 ||
	    (r = parse_ns(hc, "UsernsMode", &m->host_userns)) < 0 ||
	    (r = parse_secopts(root, hc, m)) < 0 || (r = parse_masked(hc, m)) < 0)
		return r;
	return parse_binds(root, hc, m);
}

static int parse_root(const json_t *root, struct container_meta *m)
{
	const json_t *cfg = json_object_get(root, "Config");
	const json_t *user;
	const char *name;
	int r;

	if (!json_is_object(root) || !json_is_object(cfg))
		return -EBADMSG;
	if (jf_copy_str(m->id, sizeof(m->id), json_object_get(root, "Id")) < 0 ||
	    !text_is_id64(m->id))
		return -EBADMSG;
	name = jf_str_capped(json_object_get(root, "Name"), sizeof(m->name) + 1);
	if (!name)
		return -EBADMSG;
	if (name[0] == '/')
		name++;
	if (name[0] == '\0' || strlen(name) >= sizeof(m->name))
		return -EBADMSG;
	memcpy(m->name, name, strlen(name) + 1);
	if (jf_copy_str(m->image, sizeof(m->image), json_object_get(cfg, "Image")) < 0 ||
	    jf_copy_str(m->image_id, sizeof(m->image_id), json_object_get(root, "Image")) < 0)
		return -EBADMSG;
	/* Missing User means the image default, which we cannot see: root. */
	user = json_object_get(cfg, "User");
	if (user && jf_copy_str(m->user, sizeof(m->user), user) < 0)
		return -EBADMSG;
	m->root = user_is_root(m->user);
	r = parse_state(root, m);
	if (r < 0 || (r = parse_posture(root, m)) < 0)
		return r;
	return parse_labels(json_object_get(cfg, "Labels"), &m->labels);
}

int engine_parse_container(const char *body, size_t len, struct container_meta *ret)
{
	struct container_meta m;
	json_error_t err;
	json_t *root;
	int r;

	if (len > ENGINE_MAX_BODY)
		return -EBADMSG;
	memset(&m, 0, sizeof(m));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return -EBADMSG;
	r = parse_root(root, &m);
	json_decref(root);
	if (r < 0) {
		container_meta_clear(&m);
		return r;
	}
	*ret = m;
	return 0;
}

void container_meta_clear(struct container_meta *m)
{
	if (!m)
		return;
	json_decref(m->labels);
	json_decref(m->cap_add);
	json_decref(m->binds);
	memset(m, 0, sizeof(*m));
}

void container_meta_copy(struct container_meta *dst, const struct container_meta *src)
{
	*dst = *src;
	dst->labels = json_incref(src->labels);
	dst->cap_add = json_incref(src->cap_add);
	dst->binds = json_incref(src->binds);
}
