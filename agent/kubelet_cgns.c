/* SPDX-License-Identifier: MIT */
/* The agent must read /proc/PID/cgroup in the initial cgroup namespace:
 * the kernel prints each path relative to the *reader's* cgroup namespace
 * root, so from a pod's private namespace every caller looks like "/" (a
 * host process) or "/../.." (malformed). keyholed in a DaemonSet pod has
 * hostPID, so /proc/1 is the node's init: join its cgroup namespace, and
 * refuse to start when that is not possible. */
#include "kubelet.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* The kernel's fixed inode number of the initial cgroup namespace
 * (PROC_CGROUP_INIT_INO in include/linux/proc_ns.h, since Linux 4.6). */
#define CGNS_INIT_INO 0xEFFFFFFBu

static int cgns_ino(const char *path, ino_t *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ret = st.st_ino;
	return 0;
}

int kubelet_host_cgroupns(bool *ret_joined, char *err, size_t errlen)
{
	cleanup_close int fd = -1;
	ino_t ino = 0;
	int r;

	*ret_joined = false;
	if ((r = cgns_ino("/proc/self/ns/cgroup", &ino)) < 0) {
		if (r == -ENOENT) /* a kernel without cgroup namespaces: paths are the host's */
			return 0;
		snprintf(err, errlen, "cannot read /proc/self/ns/cgroup: %s", strerror(-r));
		return r;
	}
	if (ino == CGNS_INIT_INO)
		return 0;
	fd = open("/proc/1/ns/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWCGROUP) < 0) {
		r = -errno;
		snprintf(err, errlen,
			 "keyholed runs in a private cgroup namespace, where "
			 "/proc/PID/cgroup paths are not the host's, and cannot join the host's "
			 "(/proc/1/ns/cgroup: %s): run it with hostPID and CAP_SYS_ADMIN "
			 "(docs/kubernetes.md), or in the host cgroup namespace",
			 strerror(-r));
		return r;
	}
	if ((r = cgns_ino("/proc/self/ns/cgroup", &ino)) < 0 || ino != CGNS_INIT_INO) {
		snprintf(err, errlen,
			 "joined the cgroup namespace of pid 1, but it is not the "
			 "host's either: keyholed needs hostPID (docs/kubernetes.md)");
		return r < 0 ? r : -EXDEV;
	}
	*ret_joined = true;
	return 0;
}
