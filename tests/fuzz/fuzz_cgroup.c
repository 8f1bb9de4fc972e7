/* SPDX-License-Identifier: MIT */
/* Fuzz cgroup_parse, the parser of /proc/PID/cgroup (bytes the kernel wrote
 * about a possibly hostile process whose cgroup names it may choose, e.g. in
 * a delegated subtree). The buffer is exact-size and not NUL-terminated.
 * Properties: a success names a known runtime with a 64-hex id (empty only
 * for the host), a bounded path, a pod uid only for kubepods layouts and
 * without '_', and parsing is deterministic. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "fuzz.h"

static void check_identity(const struct cg_identity *c)
{
	size_t idl = strnlen(c->id, sizeof c->id);
	FUZZ_CHECK(idl < sizeof c->id);
	FUZZ_CHECK(strnlen(c->path, sizeof c->path) < sizeof c->path);
	switch (c->runtime) {
	case RT_HOST: FUZZ_CHECK(idl == 0); break;
	case RT_DOCKER:
	case RT_PODMAN:
	case RT_CONTAINERD:
	case RT_CRIO:
		FUZZ_CHECK(idl == CG_ID_LEN);
		for (size_t i = 0; i < idl; i++)
			FUZZ_CHECK((c->id[i] >= '0' && c->id[i] <= '9') ||
				   (c->id[i] >= 'a' && c->id[i] <= 'f'));
		break;
	default: FUZZ_CHECK(!"unknown runtime");
	}
	/* a pod uid only for the kubepods layouts, in the API's spelling */
	size_t pl = strnlen(c->pod_uid, sizeof c->pod_uid);
	FUZZ_CHECK(pl < sizeof c->pod_uid);
	if (pl)
		FUZZ_CHECK((c->runtime == RT_CONTAINERD || c->runtime == RT_CRIO) &&
			   strspn(c->pod_uid, "0123456789abcdef-") == pl);
	enum kh_runtime back;
	FUZZ_CHECK(runtime_from_name(runtime_name(c->runtime), &back) == 0);
	FUZZ_CHECK(back == c->runtime);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = calloc(1, size ? size : 1);
	struct cg_identity a, b;
	FUZZ_CHECK(buf);
	if (size)
		memcpy(buf, data, size);
	int r = cgroup_parse(buf, size, &a);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -E2BIG);
	if (size > CG_MAX_FILE)
		FUZZ_CHECK(r == -E2BIG);
	if (r == 0) {
		check_identity(&a);
		FUZZ_CHECK(cgroup_parse(buf, size, &b) == 0);
		FUZZ_CHECK(a.runtime == b.runtime && !strcmp(a.id, b.id) &&
			   !strcmp(a.path, b.path) && !strcmp(a.pod_uid, b.pod_uid));
	}
	free(buf);
	return 0;
}
