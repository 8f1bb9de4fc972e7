/* SPDX-License-Identifier: MIT */
/* Parse GET /containers/<id>/json (Docker 20.10 and podman 4.x compat API).
 * Pure, no syscalls: the body is untrusted (names, labels and user come
 * from whoever created the container), so every field is type-checked,
 * length-capped and NUL-free, and anything odd is -EBADMSG. */
#include "engine.h"
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_MAX_LABELS 256u
#define ENGINE_MAX_LABEL_LEN 4096u

/* A JSON string without NUL that fits cap-1 bytes; NULL otherwise. */
static const char *json_str_capped(const json_t *v, size_t cap)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= cap || strlen(s) != n)
		return NULL;
	return s;
}

static int copy_str(char *dst, size_t cap, const json_t *v)
{
	const char *s = json_str_capped(v, cap);

	if (!s)
		return -EBADMSG;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

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
	json_object_foreach(v, k, val) {
		if (strlen(k) >= ENGINE_MAX_LABEL_LEN || !json_str_capped(val, ENGINE_MAX_LABEL_LEN))
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

static int parse_root(const json_t *root, struct container_meta *m)
{
	const json_t *cfg = json_object_get(root, "Config");
	const json_t *user;
	const char *name;
	int r;

	if (!json_is_object(root) || !json_is_object(cfg))
		return -EBADMSG;
	if (copy_str(m->id, sizeof(m->id), json_object_get(root, "Id")) < 0 || !text_is_id64(m->id))
		return -EBADMSG;
	name = json_str_capped(json_object_get(root, "Name"), sizeof(m->name) + 1);
	if (!name)
		return -EBADMSG;
	if (name[0] == '/')
		name++;
	if (name[0] == '\0' || strlen(name) >= sizeof(m->name))
		return -EBADMSG;
	memcpy(m->name, name, strlen(name) + 1);
	if (copy_str(m->image, sizeof(m->image), json_object_get(cfg, "Image")) < 0 ||
	    copy_str(m->image_id, sizeof(m->image_id), json_object_get(root, "Image")) < 0)
		return -EBADMSG;
	/* Missing User means the image default, which we cannot see: root. */
	user = json_object_get(cfg, "User");
	if (user && copy_str(m->user, sizeof(m->user), user) < 0)
		return -EBADMSG;
	m->root = user_is_root(m->user);
	r = parse_state(root, m);
	if (r < 0)
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
		json_decref(m.labels);
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
	memset(m, 0, sizeof(*m));
}

void container_meta_copy(struct container_meta *dst, const struct container_meta *src)
{
	*dst = *src;
	dst->labels = json_incref(src->labels);
}
