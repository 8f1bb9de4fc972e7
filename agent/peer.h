/* SPDX-License-Identifier: MIT */
/* Who is on the other end of a unix socket, on the kernel's word only:
 * SO_PEERCRED, a pidfd (SO_PEERPIDFD, else pidfd_open + /proc start time
 * read before and after), /proc/PID/cgroup. Nothing the peer sends is
 * consulted. */
#ifndef KH_PEER_H
#define KH_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

struct peer {
	pid_t pid; /* in the agent's pid namespace */
	uid_t uid;
	gid_t gid;
	int pidfd;	    /* owned; -1 when none */
	uint64_t starttime; /* /proc/PID/stat field 22; 0 with SO_PEERPIDFD (not needed) */
	bool via_peerpidfd; /* pidfd came from SO_PEERPIDFD */
	struct cg_identity cg;
};

/* Attest the peer of connected socket fd. Fills *ret only on success:
 *   -ESRCH  peer died or its PID was reused during attestation
 *   -EBADMSG /proc/PID/cgroup malformed or inconsistent
 *   other -errno from the syscalls. */
int peer_attest(int fd, struct peer *ret);
/* 0 if the attested process is still the same live process, -ESRCH if not. */
int peer_check_alive(const struct peer *p);
/* Closes the pidfd. Safe on a zeroed or already released peer (pidfd -1). */
void peer_release(struct peer *p);

/* The identity limits and audit summaries count by: "host:uid:N" for a
 * host process, "<runtime>:<container id>" for a container. */
void peer_identity_key(const struct peer *p, char *buf, size_t len);

/* Read /proc/PID/cgroup (capped) and parse it. */
int peer_read_cgroup(pid_t pid, struct cg_identity *ret);
/* 1 when two processes share a pid namespace, 0 when not, -errno. */
int peer_same_pidns(pid_t a, pid_t b);

/* The namespaces PID shares with this process, as a mask of PEER_NS_*, or
 * -errno. keyholed runs in the host's namespaces (its unit, the DaemonSet's
 * hostPID/hostNetwork), so this is the kernel's word on "host namespace",
 * for engines whose inspect output does not say (podman's compat API has no
 * IpcMode "host"). /proc/1 is not used: reading its ns links needs every
 * capability pid 1 has. The user namespace is left out: without remapping,
 * every container shares it. */
enum { PEER_NS_PID = 1, PEER_NS_IPC = 2, PEER_NS_NET = 4 };
int peer_host_ns(pid_t pid);

#endif
