/* SPDX-License-Identifier: MIT */
/* /proc/PID/cgroup -> container runtime and id. Pure and syscall-free: it
 * parses bytes the kernel wrote about a possibly hostile process, and is
 * fuzzed. Only whole known layouts match (anchored at the cgroup root), so
 * a delegated subtree named like a container is never taken for one. */
#ifndef KH_CGROUP_H
#define KH_CGROUP_H

#include <stddef.h>

#define CG_MAX_FILE 16384u /* cap on /proc/PID/cgroup bytes we accept */
#define CG_MAX_PATH 1023u
#define CG_ID_LEN 64u
#define CG_POD_UID_LEN 64u /* a kubelet pod uid: a UUID, or a 32-hex static-pod hash */

enum kh_runtime {
	RT_HOST = 0, /* not in a container */
	RT_DOCKER,
	RT_PODMAN,
	RT_CONTAINERD, /* containerd / CRI */
	RT_CRIO,
};

struct cg_identity {
	enum kh_runtime runtime;
	char id[CG_ID_LEN + 1]; /* lowercase hex; "" for RT_HOST */
	/* kubepods layouts: the pod uid from "pod<uid>", '_' (systemd driver)
	 * turned back into '-'; "" for every other layout */
	char pod_uid[CG_POD_UID_LEN + 1];
	char path[CG_MAX_PATH + 1]; /* the cgroup path matched (v2 line when present) */
};

/* Parse the whole file content. Returns 0, or -EBADMSG when malformed or
 * when lines disagree (two runtimes or ids), -E2BIG over CG_MAX_FILE. */
int cgroup_parse(const char *buf, size_t len, struct cg_identity *ret);

const char *runtime_name(enum kh_runtime rt); /* "host", "docker", "podman", "containerd", "crio" */
/* Returns 0 and sets *ret, or -EINVAL for an unknown name. */
int runtime_from_name(const char *s, enum kh_runtime *ret);

#endif
