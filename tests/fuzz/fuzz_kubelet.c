/* SPDX-License-Identifier: MIT */
/* Fuzz kubelet_parse_pods + kubelet_find, the parser of the kubelet's
 * GET /pods reply. Pod names, labels, images and security contexts are
 * chosen by whoever creates pods, so the body is untrusted. For every
 * containerID in the input the harness looks the container up under its
 * pod's uid and under a wrong one. Properties: only the documented errors;
 * a wrong uid never succeeds; on success every string is NUL-terminated in
 * its array, the json members have the promised shapes, and the posture is
 * consistent (privileged implies escalation, a non-zero runAsUser is not
 * root); copy/clear leak nothing (LeakSanitizer in the libFuzzer build). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kubelet.h"

#define STR_OK(a) FUZZ_CHECK(strnlen((a), sizeof(a)) < sizeof(a))

static void check_meta(const struct k8s_meta *m, const char *uid, const char *id)
{
	const char *k;
	json_t *v;
	size_t i;

	STR_OK(m->pod_uid);
	STR_OK(m->namespace);
	STR_OK(m->pod_name);
	STR_OK(m->service_account);
	STR_OK(m->container_name);
	STR_OK(m->image);
	STR_OK(m->image_id);
	FUZZ_CHECK(strcmp(m->pod_uid, uid) == 0 && strcmp(m->container_id, id) == 0);
	FUZZ_CHECK(m->namespace[0] && m->pod_name[0] && m->container_name[0]);
	FUZZ_CHECK(json_is_object(m->labels));
	json_object_foreach(m->labels, k, v) FUZZ_CHECK(k && json_is_string(v));
	FUZZ_CHECK(json_is_array(m->caps_add) && json_is_array(m->host_paths));
	json_array_foreach(m->caps_add, i, v)
		FUZZ_CHECK(json_is_string(v) &&
			   strspn(json_string_value(v), "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
				   json_string_length(v));
	json_array_foreach(m->host_paths, i, v)
		FUZZ_CHECK(json_is_string(v) && json_string_value(v)[0] == '/');
	if (m->privileged)
		FUZZ_CHECK(m->allow_privilege_escalation);
	if (m->has_run_as_user)
		FUZZ_CHECK(m->root == (m->run_as_user == 0));
}

static void try_find(const json_t *items, const char *uid, const char *id, bool right_uid)
{
	struct k8s_meta m, c;
	int r;

	memset(&m, 0, sizeof m);
	r = kubelet_find(items, uid, id, &m);
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EPERM || r == -EBADMSG || r == -ENOMEM ||
		   r == -EINVAL);
	if (!right_uid)
		FUZZ_CHECK(r != 0);
	if (r != 0)
		return;
	check_meta(&m, uid, id);
	k8s_meta_copy(&c, &m);
	k8s_meta_clear(&m);
	json_t *j = k8s_meta_json(&c);
	json_decref(j);
	k8s_meta_clear(&c);
}

/* Every containerID of one status list, looked up. */
static void try_list(const json_t *items, const json_t *pod, const json_t *list)
{
	const char *uid =
		json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
	const json_t *st;
	char wrong[256];
	size_t i;

	json_array_foreach(list, i, st)
	{
		const char *cid = json_string_value(json_object_get(st, "containerID"));
		const char *sep = cid ? strstr(cid, "://") : NULL;

		if (!sep || strlen(sep + 3) != 64)
			continue;
		if (uid && strlen(uid) < sizeof(wrong) - 1) {
			try_find(items, uid, sep + 3, true);
			snprintf(wrong, sizeof(wrong), "%sx", uid); /* never this pod's uid */
			try_find(items, wrong, sep + 3, false);
		} else {
			try_find(items, "6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c", sep + 3, true);
		}
		if (i > 8)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	json_t *items = NULL, *pod;
	size_t i;

	FUZZ_CHECK(body);
	if (size)
		memcpy(body, data, size);
	int r = kubelet_parse_pods(body, size, &items);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r == 0) {
		FUZZ_CHECK(json_is_array(items) && json_array_size(items) <= K8S_MAX_PODS);
		json_array_foreach(items, i, pod)
		{
			json_t *st = json_object_get(pod, "status");
			try_list(items, pod, json_object_get(st, "containerStatuses"));
			try_list(items, pod, json_object_get(st, "initContainerStatuses"));
			if (i > 16)
				break;
		}
		json_decref(items);
	}
	free(body);
	return 0;
}
