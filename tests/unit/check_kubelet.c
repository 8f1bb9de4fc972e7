/* SPDX-License-Identifier: MIT */
/* kubelet_parse_pods + kubelet_find on recorded /pods bodies
 * (tests/fixtures/k8s/pods.json: a Deployment pod with an init container
 * and a sidecar, a privileged host-network CRI-O pod, a pending pod, a
 * docker-shim kube-proxy), and hostile variants of them: wrong types, NUL
 * bytes, caps, duplicate claims, a pod uid that does not match. Also the
 * client's option checks, an unreachable and a hung kubelet (loopback
 * only), and the pod cache's refresh and backoff rules (kubelet_cache.c). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "kubelet.h"

#define ID_API "68599b052dffe302eba8dffeca05019d6923c463cfd10156c696e315cf1a39f0"
#define ID_METRICS "7acb6fd990e415cbaa3bc90bb750b3391475243055be425fc7e5bb0db042d72f"
#define ID_MIGRATE "028956cd5fb3b7f75365332020ce5afb97553334a2833cca14940fa66529e6f5"
#define ID_WEB "4fbb1172bf635e0357dcb90ddcd1967308e01e1febfb7e2587993795720be862"
#define ID_KUBEPROXY "6c622347085863538f23f71b43b30398886915f816cf6c27ad031e9da9d1897b"
#define ID_UNKNOWN "0000000000000000000000000000000000000000000000000000000000000abc"
#define UID_API "6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c"
#define UID_WEB "0d4f7e2a-93b1-4a8e-b6c5-2f1e0a9d8c7b"
#define UID_KP "c3d2e1f0-a9b8-47c6-85d4-e3f2a1b0c9d8"

static char *slurp(const char *file, size_t *len)
{
	char path[512];
	const char *dir = getenv("KH_ROOT");
	FILE *f;
	char *buf = malloc(1 << 20);

	snprintf(path, sizeof(path), "%s/tests/fixtures/k8s/%s", dir ? dir : ".", file);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL && buf != NULL, "open %s", path);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

/* The fixture as a json_t to mutate. */
static json_t *fixture_doc(void)
{
	size_t len;
	char *s = slurp("pods.json", &len);
	json_t *doc = json_loadb(s, len, 0, NULL);

	free(s);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

/* Serialise doc, parse it as a body, find (uid, id); returns kubelet_find's
 * result (or the parse error). */
static int find_in(json_t *doc, const char *uid, const char *id, struct k8s_meta *m)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	json_t *items = NULL;
	int r;

	ck_assert_ptr_nonnull(s);
	r = kubelet_parse_pods(s, strlen(s), &items);
	free(s);
	if (r < 0)
		return r;
	r = kubelet_find(items, uid, id, m);
	json_decref(items);
	return r;
}

static json_t *pod(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "items"), i);
}

/* items[i].a.b... (object path) */
static json_t *at(json_t *o, const char *p1, const char *p2, const char *p3)
{
	o = json_object_get(o, p1);
	if (p2)
		o = json_object_get(o, p2);
	if (p3)
		o = json_object_get(o, p3);
	ck_assert_ptr_nonnull(o);
	return o;
}

static json_t *api_ctr(json_t *doc)
{
	return json_array_get(at(pod(doc, 0), "spec", "containers", NULL), 0);
}

static bool arr_has(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
	return false;
}

START_TEST(test_fixture_api)
{
	json_t *doc = fixture_doc();
	struct k8s_meta m;

	ck_assert_int_eq(find_in(doc, UID_API, ID_API, &m), 0);
	ck_assert_str_eq(m.namespace, "payments");
	ck_assert_str_eq(m.pod_name, "api-7d9f8c6b5-x2x4z");
	ck_assert_str_eq(m.pod_uid, UID_API);
	ck_assert_str_eq(m.service_account, "api");
	ck_assert_str_eq(m.container_name, "api");
	ck_assert_str_eq(m.container_id, ID_API);
	ck_assert_int_eq(m.runtime, RT_CONTAINERD);
	ck_assert_str_eq(m.image, "registry.example.com/payments/api:1.4.2");
	ck_assert(strncmp(m.image_id, "registry.example.com/payments/api@sha256:", 41) == 0);
	ck_assert_str_eq(json_string_value(json_object_get(m.labels, "team")), "payments");
	ck_assert(!m.init_container && !m.privileged && !m.allow_privilege_escalation);
	ck_assert(m.has_run_as_user && m.run_as_user == 1000 && !m.root && m.run_as_non_root);
	ck_assert(!m.host_pid && !m.host_network && !m.host_ipc);
	ck_assert_uint_eq(json_array_size(m.caps_add), 0);
	ck_assert_uint_eq(json_array_size(m.host_paths), 1);
	ck_assert(arr_has(m.host_paths, "/run/keyhole"));
	k8s_meta_clear(&m);
	json_decref(doc);
}
END_TEST

START_TEST(test_fixture_sidecar_and_init)
{
	json_t *doc = fixture_doc();
	struct k8s_meta m;

	/* no securityContext: escalation allowed (the default), non-root only
	 * because the pod says runAsNonRoot (which the kubelet enforces) */
	ck_assert_int_eq(find_in(doc, UID_API, ID_METRICS, &m), 0);
	ck_assert_str_eq(m.container_name, "metrics");
	ck_assert_str_eq(m.image, "registry.example.com/tools/metrics-exporter:0.9");
	ck_assert(m.allow_privilege_escalation && !m.has_run_as_user && !m.root);
	k8s_meta_clear(&m);
	ck_assert_int_eq(find_in(doc, UID_API, ID_MIGRATE, &m), 0);
	ck_assert(m.init_container);
	ck_assert_str_eq(m.container_name, "migrate");
	ck_assert_str_eq(m.image, "registry.example.com/payments/migrate:1.4.2");
	ck_assert(!m.allow_privilege_escalation);
	k8s_meta_clear(&m);
	json_decref(doc);
}
END_TEST

START_TEST(test_fixture_privileged_crio)
{
	json_t *doc = fixture_doc();
	struct k8s_meta m;

	ck_assert_int_eq(find_in(doc, UID_WEB, ID_WEB, &m), 0);
	ck_assert_int_eq(m.runtime, RT_CRIO);
	ck_assert_str_eq(m.namespace, "shop");
	ck_assert_str_eq(m.service_account, "default");
	ck_assert(m.privileged && m.allow_privilege_escalation && m.root);
	ck_assert(m.has_run_as_user && m.run_as_user == 0);
	ck_assert(m.host_network && m.host_ipc && !m.host_pid);
	ck_assert(arr_has(m.caps_add, "NET_ADMIN") && arr_has(m.caps_add, "SYS_TIME"));
	ck_assert_uint_eq(json_array_size(m.host_paths), 2);
	ck_assert(arr_has(m.host_paths, "/var/log/web"));
	k8s_meta_clear(&m);
	ck_assert_int_eq(find_in(doc, UID_KP, ID_KUBEPROXY, &m), 0);
	ck_assert_int_eq(m.runtime, RT_DOCKER);
	ck_assert(m.root); /* nothing says otherwise */
	k8s_meta_clear(&m);
	json_decref(doc);
}
END_TEST

START_TEST(test_not_found_and_mismatch)
{
	json_t *doc = fixture_doc();
	struct k8s_meta m;

	ck_assert_int_eq(find_in(doc, UID_API, ID_UNKNOWN, &m), -ENOENT);
	/* the container is in pod api; a cgroup naming pod web is refused */
	ck_assert_int_eq(find_in(doc, UID_WEB, ID_API, &m), -EPERM);
	ck_assert_int_eq(find_in(doc, "", ID_API, &m), -EPERM);
	ck_assert_int_eq(find_in(doc, UID_API, "68599b05", &m), -EINVAL);
	ck_assert_int_eq(find_in(doc, UID_API, "x", &m), -EINVAL);
	json_decref(doc);
}
END_TEST

START_TEST(test_empty_list)
{
	size_t len;
	char *s = slurp("pods_empty.json", &len);
	json_t *items = NULL;
	struct k8s_meta m;

	ck_assert_int_eq(kubelet_parse_pods(s, len, &items), 0);
	ck_assert_int_eq(kubelet_find(items, UID_API, ID_API, &m), -ENOENT);
	json_decref(items);
	free(s);
}
END_TEST

/* A mutation of pod 0 (api) and the result of looking up ID_API. */
enum mut {
	M_LABEL_INT,
	M_LABELS_TOO_MANY,
	M_NS_NUL,
	M_NS_MISSING,
	M_PRIV_STRING,
	M_UID_NEG,
	M_UID_BIG,
	M_CAP_SPACE,
	M_HOSTPATH_REL,
	M_SPEC_GONE,
	M_DUP_CLAIM,
	M_OTHER_POD_BAD,
	M_STATUSES_NOT_ARRAY,
	M_SCHEME_OTHER,
	M_ID_SUFFIX,
	M_SA_INT,
	M_VOLUMES_OBJ,
	M_COUNT
};

static const struct {
	const char *name;
	int want;
} muts[M_COUNT] = {
	[M_LABEL_INT] = { "label value is a number", -EBADMSG },
	[M_LABELS_TOO_MANY] = { "257 labels", -EBADMSG },
	[M_NS_NUL] = { "NUL in namespace", -EBADMSG },
	[M_NS_MISSING] = { "no namespace", -EBADMSG },
	[M_PRIV_STRING] = { "privileged is a string", -EBADMSG },
	[M_UID_NEG] = { "runAsUser -1", -EBADMSG },
	[M_UID_BIG] = { "runAsUser 2^31", -EBADMSG },
	[M_CAP_SPACE] = { "capability with a space", -EBADMSG },
	[M_HOSTPATH_REL] = { "relative hostPath", -EBADMSG },
	[M_SPEC_GONE] = { "status without its container spec", -EBADMSG },
	[M_DUP_CLAIM] = { "two pods claim one container id", -EBADMSG },
	[M_OTHER_POD_BAD] = { "another pod malformed: still found", 0 },
	[M_STATUSES_NOT_ARRAY] = { "containerStatuses not an array", -ENOENT },
	[M_SCHEME_OTHER] = { "unknown containerID scheme", -ENOENT },
	[M_ID_SUFFIX] = { "containerID with a suffix", -ENOENT },
	[M_SA_INT] = { "serviceAccountName a number", -EBADMSG },
	[M_VOLUMES_OBJ] = { "volumes an object", -EBADMSG },
};

static void mutate(json_t *doc, enum mut k)
{
	json_t *p = pod(doc, 0), *sts = at(p, "status", "containerStatuses", NULL), *l;

	switch (k) {
	case M_LABEL_INT:
		json_object_set_new(at(p, "metadata", "labels", NULL), "n", json_integer(1));
		break;
	case M_LABELS_TOO_MANY:
		l = at(p, "metadata", "labels", NULL);
		for (int i = 0; i < (int)K8S_MAX_LABELS; i++) {
			char key[16];
			snprintf(key, sizeof(key), "k%d", i);
			json_object_set_new(l, key, json_string("v"));
		}
		break;
	case M_NS_NUL:
		json_object_set_new(at(p, "metadata", NULL, NULL), "namespace",
				    json_stringn("pay\0ments", 9));
		break;
	case M_NS_MISSING: json_object_del(at(p, "metadata", NULL, NULL), "namespace"); break;
	case M_PRIV_STRING:
		json_object_set_new(at(api_ctr(doc), "securityContext", NULL, NULL), "privileged",
				    json_string("false"));
		break;
	case M_UID_NEG:
		json_object_set_new(at(api_ctr(doc), "securityContext", NULL, NULL), "runAsUser",
				    json_integer(-1));
		break;
	case M_UID_BIG:
		json_object_set_new(at(api_ctr(doc), "securityContext", NULL, NULL), "runAsUser",
				    json_integer(1LL << 31));
		break;
	case M_CAP_SPACE:
		json_object_set_new(at(api_ctr(doc), "securityContext", "capabilities", NULL),
				    "add", json_pack("[s]", "NET ADMIN"));
		break;
	case M_HOSTPATH_REL:
		json_object_set_new(at(json_array_get(at(p, "spec", "volumes", NULL), 0),
				       "hostPath", NULL, NULL),
				    "path", json_string("run/keyhole"));
		break;
	case M_SPEC_GONE: json_array_remove(at(p, "spec", "containers", NULL), 0); break;
	case M_DUP_CLAIM:
		json_array_append(at(pod(doc, 1), "status", "containerStatuses", NULL),
				  json_array_get(sts, 0));
		break;
	case M_OTHER_POD_BAD: json_object_set_new(pod(doc, 1), "metadata", json_string("x")); break;
	case M_STATUSES_NOT_ARRAY:
		json_object_set_new(at(p, "status", NULL, NULL), "containerStatuses",
				    json_object());
		break;
	case M_SCHEME_OTHER:
		json_object_set_new(json_array_get(sts, 0), "containerID",
				    json_string("rkt://" ID_API));
		break;
	case M_ID_SUFFIX:
		json_object_set_new(json_array_get(sts, 0), "containerID",
				    json_string("containerd://" ID_API "0"));
		break;
	case M_SA_INT:
		json_object_set_new(at(p, "spec", NULL, NULL), "serviceAccountName",
				    json_integer(7));
		break;
	case M_VOLUMES_OBJ:
		json_object_set_new(at(p, "spec", NULL, NULL), "volumes", json_object());
		break;
	case M_COUNT: break;
	}
}

START_TEST(test_hostile)
{
	json_t *doc = fixture_doc();
	struct k8s_meta m;
	int r;

	mutate(doc, (enum mut)_i);
	memset(&m, 0x5a, sizeof(m));
	r = find_in(doc, UID_API, ID_API, &m);
	ck_assert_msg(r == muts[_i].want, "%s: %d, want %d", muts[_i].name, r, muts[_i].want);
	if (r == 0)
		k8s_meta_clear(&m);
	else
		ck_assert_int_eq(((unsigned char *)&m)[0], 0x5a); /* untouched */
	json_decref(doc);
}
END_TEST

START_TEST(test_posture_rules)
{
	json_t *doc = fixture_doc(), *sc = at(api_ctr(doc), "securityContext", NULL, NULL);
	struct k8s_meta m;

	/* CAP_SYS_ADMIN implies escalation whatever the flag says */
	json_object_set_new(at(sc, "capabilities", NULL, NULL), "add",
			    json_pack("[s]", "cap_sys_admin"));
	ck_assert_int_eq(find_in(doc, UID_API, ID_API, &m), 0);
	ck_assert(m.allow_privilege_escalation && arr_has(m.caps_add, "SYS_ADMIN"));
	k8s_meta_clear(&m);
	/* runAsUser 0 wins over runAsNonRoot: root */
	json_object_set_new(sc, "runAsUser", json_integer(0));
	ck_assert_int_eq(find_in(doc, UID_API, ID_API, &m), 0);
	ck_assert(m.root);
	k8s_meta_clear(&m);
	/* no user anywhere and runAsNonRoot false: root (image USER unseen) */
	json_object_del(sc, "runAsUser");
	json_object_set_new(at(pod(doc, 0), "spec", "securityContext", NULL), "runAsNonRoot",
			    json_false());
	ck_assert_int_eq(find_in(doc, UID_API, ID_API, &m), 0);
	ck_assert(m.root && !m.has_run_as_user);
	k8s_meta_clear(&m);
	json_decref(doc);
}
END_TEST

START_TEST(test_envelope)
{
	static const char *bad[] = {
		"",
		"[]",
		"{\"kind\":\"Pod\",\"items\":[]}",
		"{\"items\":{}}",
		"{\"kind\":1,\"items\":[]}",
		"{\"items\":[],\"items\":[]}",
		"{\"items\":[]",
		"nul\0l",
	};
	static char big[16];
	json_t *items = NULL, *doc;
	char *s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(kubelet_parse_pods(bad[i], strlen(bad[i]) + (i == 7 ? 2 : 0),
						 &items) == -EBADMSG,
			      "bad[%zu]", i);
	ck_assert_int_eq(kubelet_parse_pods(big, KUBELET_MAX_BODY + 1, &items), -EBADMSG);
	ck_assert_int_eq(kubelet_parse_pods("{\"items\":[]}", 12, &items), 0);
	json_decref(items);
	doc = json_pack("{s:[]}", "items");
	for (unsigned i = 0; i <= K8S_MAX_PODS; i++)
		json_array_append_new(json_object_get(doc, "items"), json_object());
	s = json_dumps(doc, JSON_COMPACT);
	ck_assert_int_eq(kubelet_parse_pods(s, strlen(s), &items), -EBADMSG);
	free(s);
	json_decref(doc);
}
END_TEST

START_TEST(test_copy_and_json)
{
	json_t *doc = fixture_doc(), *j;
	struct k8s_meta m, c;

	ck_assert_int_eq(find_in(doc, UID_WEB, ID_WEB, &m), 0);
	k8s_meta_copy(&c, &m);
	k8s_meta_clear(&m);
	ck_assert_str_eq(c.namespace, "shop");
	ck_assert(arr_has(c.caps_add, "NET_ADMIN"));
	j = k8s_meta_json(&c);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "namespace")), "shop");
	ck_assert_str_eq(json_string_value(json_object_get(j, "container")), "web");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "run_as_user")), 0);
	ck_assert(json_is_true(json_object_get(j, "privileged")));
	json_decref(j);
	k8s_meta_clear(&c);
	json_decref(doc);
}
END_TEST

/* kubelet_new: every bad combination is -EINVAL with a one-line reason. */
START_TEST(test_client_options)
{
	static const struct {
		struct kubelet_opts o;
		const char *err;
	} bad[] = {
		{ { .url = "http://127.0.0.1:10255" }, "only with --kubelet-insecure" },
		{ { .url = "ftp://x" }, "want https://HOST:10250" },
		{ { .url = "https://" }, "want https://HOST:10250" },
		{ { .url = "https:///pods" }, "want https://HOST:10250" },
		{ { .url = "https://a b" }, "want https://HOST:10250" },
		{ { .url = "https://h/?x" }, "want https://HOST:10250" },
		{ { .url = NULL }, "want https://HOST:10250" },
		{ { .url = "https://h", .cert = "/etc/hostname" }, "go together" },
		{ { .url = "http://h", .insecure = true, .token_file = "/etc/hostname" },
		  "plain HTTP" },
		{ { .url = "https://h", .cacert = "/nonexistent/ca.pem" },
		  "--kubelet-cacert /nonexistent/ca.pem: No such file" },
		{ { .url = "https://h", .timeout_ms = 301000 },
		  "--kubelet-timeout: at most 300 s" },
	};
	struct kubelet *k = NULL;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(kubelet_new(&bad[i].o, &k, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, bad[i].err) != NULL, "[%zu] '%s' lacks '%s'", i, err,
			      bad[i].err);
	}
	ck_assert_int_eq(kubelet_new(&(struct kubelet_opts){ .url = "https://127.0.0.1:10250/" },
				     &k, err, sizeof(err)),
			 0);
	ck_assert_str_eq(kubelet_url(k), "https://127.0.0.1:10250/pods");
	kubelet_free(k);
	ck_assert_int_eq(
		kubelet_new(&(struct kubelet_opts){ .url = "http://h:10255", .insecure = true }, &k,
			    err, sizeof(err)),
		0);
	kubelet_free(k);
}
END_TEST

/* Nothing listens on the port: refused (each fetch dials: remembering
 * failures is the cache's job, tested below). */
START_TEST(test_client_unreachable)
{
	struct kubelet *k = NULL;
	json_t *items = NULL;
	char err[128];

	ck_assert_int_eq(kubelet_new(&(struct kubelet_opts){ .url = "https://127.0.0.1:1" }, &k,
				     err, sizeof(err)),
			 0);
	ck_assert_int_eq(kubelet_fetch(k, &items), -ECONNREFUSED);
	ck_assert_ptr_null(items);
	kubelet_free(k);
}
END_TEST

/* A kubelet that accepts and never answers (a listener nobody accepts
 * from: the connection sits in the backlog, the TLS handshake never
 * comes): the fetch ends with -ETIMEDOUT after --kubelet-timeout (1 s
 * here), having dialled once. */
START_TEST(test_client_hung)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n = 0, fd;
	struct kubelet *k = NULL;
	json_t *items = NULL;
	char url[64], err[128];

	ck_assert(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		  listen(lfd, 8) == 0 && getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	ck_assert_int_eq(kubelet_new(&(struct kubelet_opts){ .url = url, .timeout_ms = 1000 }, &k,
				     err, sizeof(err)),
			 0);
	ck_assert_int_eq(kubelet_fetch(k, &items), -ETIMEDOUT);
	kubelet_free(k);
	ck_assert(fcntl(lfd, F_SETFL, O_NONBLOCK) == 0);
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0 || errno == EINTR)
		if (fd >= 0) {
			n++;
			close(fd);
		}
	close(lfd);
	ck_assert_int_eq(n, 1);
}
END_TEST

/* The fixture's items, as kubelet_fetch would hand them over. */
static json_t *fixture_items(void)
{
	size_t len;
	char *s = slurp("pods.json", &len);
	json_t *items = NULL;

	ck_assert_int_eq(kubelet_parse_pods(s, len, &items), 0);
	free(s);
	return items;
}

/* The pod cache: what it answers, and when it wants a refresh. */
START_TEST(test_cache_refresh)
{
	struct kubelet_cache kc = { .items = NULL };
	struct k8s_meta m;
	const uint64_t t = 100000;

	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, "xyz", t, &m), -EINVAL);
	ck_assert_int_eq(kubelet_cache_find(&kc, "", ID_API, t, &m), -EINVAL);
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t, &m), -EINPROGRESS);
	ck_assert(!kubelet_cache_ok(&kc));
	kubelet_cache_put(&kc, 0, fixture_items(), 50, t);
	ck_assert(kubelet_cache_ok(&kc));
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t + 10, &m), 0);
	ck_assert_str_eq(m.namespace, "payments");
	k8s_meta_clear(&m);
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_WEB, ID_API, t + 10, &m), -EPERM);
	/* not listed: "retry" within the refresh interval, then a refresh */
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_UNKNOWN, t + 999, &m), -ENOENT);
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_UNKNOWN, t + 1000, &m), -EINPROGRESS);
	/* listed, but the list is older than its TTL: a refresh */
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t + KUBELET_TTL_MS - 1, &m), 0);
	k8s_meta_clear(&m);
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t + KUBELET_TTL_MS, &m),
			 -EINPROGRESS);
	kubelet_cache_clear(&kc);
	ck_assert_ptr_null(kc.items);
}
END_TEST

/* Failures: remembered for a backoff of 1 s doubling to 30 s, never
 * shorter than the failed attempt took; a list still fresh keeps
 * answering for the containers it lists; a success resets it all. */
START_TEST(test_cache_backoff)
{
	struct kubelet_cache kc = { .items = NULL };
	struct k8s_meta m;
	uint64_t t = 100000, want = 1000;

	kubelet_cache_put(&kc, -ECONNREFUSED, NULL, 5, t);
	ck_assert(!kubelet_cache_ok(&kc));
	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t + want - 1, &m),
				 -ECONNREFUSED);
		ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t + want, &m),
				 -EINPROGRESS);
		t += want;
		kubelet_cache_put(&kc, -ECONNREFUSED, NULL, 5, t);
		want = want * 2 > KUBELET_BACKOFF_MAX_MS ? KUBELET_BACKOFF_MAX_MS : want * 2;
	}
	ck_assert_uint_eq(kc.backoff_ms, KUBELET_BACKOFF_MAX_MS);
	kubelet_cache_put(&kc, 0, fixture_items(), 5, t);
	ck_assert_uint_eq(kc.backoff_ms, 0);
	/* a hung kubelet that took 8 s to time out is left alone 8 s */
	t += 5000;
	kubelet_cache_put(&kc, -ETIMEDOUT, NULL, 8000, t);
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_UNKNOWN, t + 7999, &m), -ETIMEDOUT);
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_UNKNOWN, t + 8000, &m), -EINPROGRESS);
	/* ... while the list read 5 s before still answers for what it lists */
	ck_assert_int_eq(kubelet_cache_find(&kc, UID_API, ID_API, t + 100, &m), 0);
	k8s_meta_clear(&m);
	kubelet_cache_put(&kc, -ETIMEDOUT, NULL, 60000, t + 8000);
	ck_assert_uint_eq(kc.backoff_ms, KUBELET_BACKOFF_MAX_MS);
	kubelet_cache_clear(&kc);
}
END_TEST

static Suite *kubelet_suite(void)
{
	Suite *s = suite_create("kubelet");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_fixture_api);
	tcase_add_test(tc, test_fixture_sidecar_and_init);
	tcase_add_test(tc, test_fixture_privileged_crio);
	tcase_add_test(tc, test_not_found_and_mismatch);
	tcase_add_test(tc, test_empty_list);
	tcase_add_loop_test(tc, test_hostile, 0, M_COUNT);
	tcase_add_test(tc, test_posture_rules);
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_copy_and_json);
	suite_add_tcase(s, tc);
	tc = tcase_create("client");
	tcase_add_test(tc, test_client_options);
	tcase_add_test(tc, test_client_unreachable);
	tcase_add_test(tc, test_client_hung);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_add_test(tc, test_cache_refresh);
	tcase_add_test(tc, test_cache_backoff);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(kubelet_suite)
