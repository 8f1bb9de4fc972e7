/* SPDX-License-Identifier: MIT */
/* Parse the kubelet's GET /pods reply (a v1 PodList) and pick out one
 * container. Pure, no syscalls: pod names, labels, images and security
 * contexts come from whoever created the pod, so every field used is
 * type-checked, NUL-free and capped, counts are capped before anything is
 * walked, and an odd value in the chosen pod is -EBADMSG, never a guess. */
#include "kubelet.h"
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "jsonfield.h"

/* o.key: absent or null -> *ret NULL; an object; anything else -EBADMSG. */
static int get_obj(const json_t *o, const char *key, const json_t **ret)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* o.key: absent or null -> *ret NULL; an array of at most max; else -EBADMSG. */
static int get_array(const json_t *o, const char *key, size_t max, const json_t **ret)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > max)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* Optional boolean: *has says whether it was given. */
static int get_opt_bool(const json_t *o, const char *key, bool *has, bool *ret)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return -EBADMSG;
	*has = true;
	*ret = json_is_true(v);
	return 0;
}

/* Optional uid (runAsUser): 0..2^31-1 as the API validates it. */
static int get_opt_uid(const json_t *o, const char *key, bool *has, int64_t *ret)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0x7fffffff)
		return -EBADMSG;
	*has = true;
	*ret = (int64_t)json_integer_value(v);
	return 0;
}

/* "<scheme>://<64 lowercase hex>" -> runtime; the id must be container_id. */
static bool container_id_is(const char *s, const char *container_id, enum kh_runtime *rt)
{
	static const struct {
		const char *scheme;
		enum kh_runtime rt;
	} schemes[] = { { "containerd://", RT_CONTAINERD },
			{ "cri-o://", RT_CRIO },
			{ "docker://", RT_DOCKER } };

	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++) {
		size_t n = strlen(schemes[i].scheme);

		if (strncmp(s, schemes[i].scheme, n) == 0 && text_is_id64(s + n) &&
		    strcmp(s + n, container_id) == 0) {
			*rt = schemes[i].rt;
			return true;
		}
	}
	return false;
}

struct hit {
	const json_t *pod, *status;
	bool init;
	enum kh_runtime rt;
	unsigned n; /* how many statuses named the id */
};

/* Walk one status list of one pod. A list or entry of the wrong shape is
 * skipped: it cannot vouch for our container, and a lookup that finds
 * nothing is refused anyway. */
static void scan_statuses(const json_t *pod, const json_t *status, const char *key, bool init,
			  const char *container_id, struct hit *h)
{
	const json_t *list = NULL, *st;
	size_t i;

	if (get_array(status, key, K8S_MAX_CONTAINERS, &list) < 0 || !list)
		return;
	json_array_foreach(list, i, st)
	{
		const char *cid = jf_str_capped(json_object_get(st, "containerID"), 128);
		enum kh_runtime rt;

		if (!json_is_object(st) || !cid || !container_id_is(cid, container_id, &rt))
			continue;
		h->pod = pod;
		h->status = st;
		h->init = init;
		h->rt = rt;
		h->n++;
	}
}

static int parse_labels(json_t *v, json_t **ret)
{
	const char *k;
	json_t *val, *out;

	if (!v || json_is_null(v)) {
		*ret = json_object();
		return *ret ? 0 : -ENOMEM;
	}
	if (!json_is_object(v) || json_object_size(v) > K8S_MAX_LABELS)
		return -EBADMSG;
	json_object_foreach(v, k, val)
	{
		if (strlen(k) >= K8S_MAX_LABEL_LEN || !jf_str_capped(val, K8S_MAX_LABEL_LEN))
			return -EBADMSG;
	}
	out = json_deep_copy(v);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

/* metadata and the pod-level spec fields. */
static int fill_pod(const json_t *pod, struct k8s_meta *m)
{
	const json_t *md = NULL, *spec = NULL, *psc = NULL, *sa;
	bool has;
	int r;

	if ((r = get_obj(pod, "metadata", &md)) < 0 || (r = get_obj(pod, "spec", &spec)) < 0)
		return r;
	if (!md || !spec)
		return -EBADMSG;
	if (jf_copy_str(m->pod_uid, sizeof(m->pod_uid), json_object_get(md, "uid")) < 0 ||
	    jf_copy_str(m->pod_name, sizeof(m->pod_name), json_object_get(md, "name")) < 0 ||
	    jf_copy_str(m->namespace, sizeof(m->namespace), json_object_get(md, "namespace")) < 0 ||
	    !m->pod_name[0] || !m->namespace[0])
		return -EBADMSG;
	sa = json_object_get(spec, "serviceAccountName");
	if (sa && !json_is_null(sa) &&
	    jf_copy_str(m->service_account, sizeof(m->service_account), sa) < 0)
		return -EBADMSG;
	if ((r = get_opt_bool(spec, "hostPID", &has, &m->host_pid)) < 0 ||
	    (r = get_opt_bool(spec, "hostNetwork", &has, &m->host_network)) < 0 ||
	    (r = get_opt_bool(spec, "hostIPC", &has, &m->host_ipc)) < 0 ||
	    (r = get_obj(spec, "securityContext", &psc)) < 0 ||
	    (r = get_opt_uid(psc, "runAsUser", &m->has_run_as_user, &m->run_as_user)) < 0 ||
	    (r = get_opt_bool(psc, "runAsNonRoot", &has, &m->run_as_non_root)) < 0)
		return r;
	return parse_labels(json_object_get(md, "labels"), &m->labels);
}

/* spec.volumes[].hostPath.path, every one of them. */
static int fill_host_paths(const json_t *spec, struct k8s_meta *m)
{
	const json_t *vols = NULL, *v, *hp;
	size_t i;
	int r;

	if ((r = get_array(spec, "volumes", K8S_MAX_VOLUMES, &vols)) < 0)
		return r;
	if (!(m->host_paths = json_array()))
		return -ENOMEM;
	if (!vols)
		return 0;
	json_array_foreach(vols, i, v)
	{
		const char *path;

		if (!json_is_object(v) || get_obj(v, "hostPath", &hp) < 0)
			return -EBADMSG;
		if (!hp)
			continue;
		path = jf_str_capped(json_object_get(hp, "path"), K8S_MAX_PATH);
		if (!path || path[0] != '/')
			return -EBADMSG;
		if (json_array_append_new(m->host_paths, json_string(path)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* "CAP_net_admin" and "NET_ADMIN" are one capability: strip, upper-case. */
static int norm_cap(const json_t *v, char *out)
{
	const char *s = jf_str_capped(v, K8S_MAX_CAP_LEN + 4);
	size_t n;

	if (!s)
		return -EBADMSG;
	if (strncasecmp(s, "CAP_", 4) == 0)
		s += 4;
	n = strlen(s);
	if (n == 0 || n >= K8S_MAX_CAP_LEN)
		return -EBADMSG;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c && !((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return -EBADMSG;
		out[i] = c;
	}
	return 0;
}

static int fill_caps(const json_t *sc, struct k8s_meta *m)
{
	const json_t *caps = NULL, *add = NULL, *v;
	char name[K8S_MAX_CAP_LEN];
	size_t i;
	int r;

	if (!(m->caps_add = json_array()))
		return -ENOMEM;
	if ((r = get_obj(sc, "capabilities", &caps)) < 0 ||
	    (r = get_array(caps, "add", K8S_MAX_CAPS, &add)) < 0 || !add)
		return r;
	json_array_foreach(add, i, v)
	{
		if ((r = norm_cap(v, name)) < 0)
			return r;
		if (json_array_append_new(m->caps_add, json_string(name)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool has_cap(const struct k8s_meta *m, const char *cap)
{
	const json_t *v;
	size_t i;

	json_array_foreach(m->caps_add, i,
			   v) if (strcmp(json_string_value(v), cap) == 0) return true;
	return false;
}

/* The container's own securityContext over the pod's, with Kubernetes'
 * defaults: allowPrivilegeEscalation is true unless set false, and always
 * true when privileged or given CAP_SYS_ADMIN. Root unless a non-zero
 * runAsUser is set, or runAsNonRoot (which the kubelet enforces at start)
 * with no runAsUser; the image's USER cannot be seen from here. */
static int fill_posture(const json_t *csc, struct k8s_meta *m)
{
	bool has_ape = false, ape = true, has_nr = false, nr = false, has = false;
	int64_t uid = 0;
	int r;

	if ((r = get_opt_bool(csc, "privileged", &has, &m->privileged)) < 0 ||
	    (r = get_opt_bool(csc, "allowPrivilegeEscalation", &has_ape, &ape)) < 0 ||
	    (r = get_opt_uid(csc, "runAsUser", &has, &uid)) < 0 ||
	    (r = get_opt_bool(csc, "runAsNonRoot", &has_nr, &nr)) < 0 ||
	    (r = fill_caps(csc, m)) < 0)
		return r;
	if (has) {
		m->has_run_as_user = true;
		m->run_as_user = uid;
	}
	if (has_nr)
		m->run_as_non_root = nr;
	m->allow_privilege_escalation = ape || m->privileged || has_cap(m, "SYS_ADMIN");
	if (m->has_run_as_user)
		m->root = m->run_as_user == 0;
	else
		m->root = !m->run_as_non_root;
	return 0;
}

/* The status's container: its spec entry (by name), image and posture. */
static int fill_container(const json_t *pod, const struct hit *h, struct k8s_meta *m)
{
	const json_t *spec = json_object_get(pod, "spec"), *list = NULL, *c, *csc = NULL;
	const json_t *iid = json_object_get(h->status, "imageID");
	size_t i;
	int r;

	if (jf_copy_str(m->container_name, sizeof(m->container_name),
			json_object_get(h->status, "name")) < 0 ||
	    !m->container_name[0])
		return -EBADMSG;
	if (iid && !json_is_null(iid) && jf_copy_str(m->image_id, sizeof(m->image_id), iid) < 0)
		return -EBADMSG;
	if ((r = get_array(spec, h->init ? "initContainers" : "containers", K8S_MAX_CONTAINERS,
			   &list)) < 0 ||
	    !list)
		return -EBADMSG;
	json_array_foreach(list, i, c)
	{
		const char *name = jf_str_capped(json_object_get(c, "name"), 64);

		if (!name || strcmp(name, m->container_name) != 0)
			continue;
		if (jf_copy_str(m->image, sizeof(m->image), json_object_get(c, "image")) < 0 ||
		    (r = get_obj(c, "securityContext", &csc)) < 0)
			return -EBADMSG;
		if ((r = fill_posture(csc, m)) < 0)
			return r;
		return fill_host_paths(spec, m);
	}
	return -EBADMSG; /* a status without its container */
}

int kubelet_parse_pods(const char *body, size_t len, json_t **ret_items)
{
	json_error_t err;
	json_t *root, *items, *kind;

	if (len > KUBELET_MAX_BODY)
		return -EBADMSG;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return -EBADMSG;
	kind = json_object_get(root, "kind");
	items = json_object_get(root, "items");
	if (!json_is_object(root) || (kind && !jf_str_capped(kind, 64)) ||
	    (kind && strcmp(json_string_value(kind), "PodList") != 0) ||
	    !(json_is_array(items) || json_is_null(items)) ||
	    (json_is_array(items) && json_array_size(items) > K8S_MAX_PODS)) {
		json_decref(root);
		return -EBADMSG;
	}
	/* "items": null is how an empty list may be written */
	items = json_is_null(items) ? json_array() : json_incref(items);
	json_decref(root);
	if (!items)
		return -ENOMEM;
	*ret_items = items;
	return 0;
}

int kubelet_find(const json_t *items, const char *pod_uid, const char *container_id,
		 struct k8s_meta *ret)
{
	struct hit h = { 0 };
	struct k8s_meta m;
	const json_t *pod, *status = NULL;
	size_t i;
	int r;

	if (!json_is_array(items) || !text_is_id64(container_id))
		return -EINVAL;
	json_array_foreach(items, i, pod)
	{
		if (!json_is_object(pod) || get_obj(pod, "status", &status) < 0 || !status)
			continue;
		scan_statuses(pod, status, "containerStatuses", false, container_id, &h);
		scan_statuses(pod, status, "initContainerStatuses", true, container_id, &h);
	}
	if (h.n == 0)
		return -ENOENT;
	if (h.n > 1)
		return -EBADMSG; /* one container id, two claims: believe neither */
	memset(&m, 0, sizeof(m));
	r = fill_pod(h.pod, &m);
	if (r == 0 && strcmp(m.pod_uid, pod_uid) != 0)
		r = -EPERM;
	if (r == 0)
		r = fill_container(h.pod, &h, &m);
	if (r < 0) {
		k8s_meta_clear(&m);
		return r;
	}
	memcpy(m.container_id, container_id, CG_ID_LEN + 1);
	m.runtime = h.rt;
	m.init_container = h.init;
	*ret = m;
	return 0;
}

void k8s_meta_clear(struct k8s_meta *m)
{
	if (!m)
		return;
	json_decref(m->labels);
	json_decref(m->caps_add);
	json_decref(m->host_paths);
	memset(m, 0, sizeof(*m));
}

void k8s_meta_free(struct k8s_meta *m)
{
	k8s_meta_clear(m);
	free(m);
}

void k8s_meta_copy(struct k8s_meta *dst, const struct k8s_meta *src)
{
	*dst = *src;
	dst->labels = json_incref(src->labels);
	dst->caps_add = json_incref(src->caps_add);
	dst->host_paths = json_incref(src->host_paths);
}

json_t *k8s_meta_json(const struct k8s_meta *m)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:O, s:b, s:b, s:b, s:b, s:b, "
			      "s:b, s:b, s:O, s:O}",
			      "namespace", m->namespace, "pod", m->pod_name, "pod_uid", m->pod_uid,
			      "service_account", m->service_account, "container", m->container_name,
			      "image", m->image, "init_container", m->init_container, "labels",
			      m->labels, "privileged", m->privileged, "allow_privilege_escalation",
			      m->allow_privilege_escalation, "root", m->root, "host_pid",
			      m->host_pid, "host_network", m->host_network, "host_ipc", m->host_ipc,
			      "run_as_non_root", m->run_as_non_root, "capabilities_add",
			      m->caps_add, "host_paths", m->host_paths);

	if (o && m->has_run_as_user)
		json_object_set_new(o, "run_as_user", json_integer((json_int_t)m->run_as_user));
	return o;
}
