/* SPDX-License-Identifier: MIT */
/* Peer attestation on the kernel's word only: SO_PEERCRED for pid/uid/gid,
 * a pidfd pinning that process (SO_PEERPIDFD, else pidfd_open with the
 * /proc start time read before and after), /proc/PID/cgroup, then a check
 * through the pidfd that the same process is still alive, so a PID reused
 * mid-way is refused (-ESRCH). Nothing the peer sends is read here. */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; glibc 2.36 headers lack it */
#endif

#define STAT_MAX 4096u /* /proc/PID/stat is well under 1 KiB */

/* Read a small /proc file whole into buf (NUL-terminated). ENOENT/ESRCH
 * (the process went away) become -ESRCH. Returns length or -errno. */
static ssize_t read_proc(const char *path, char *buf, size_t cap)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t off = 0;

	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	for (;;) {
		ssize_t n = read(fd, buf + off, cap - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ESRCH ? -ESRCH : -errno;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == cap)
			return -E2BIG;
	}
	buf[off] = '\0';
	return (ssize_t)off;
}

/* Field 22 of /proc/PID/stat. comm (field 2) may hold spaces and ')', so
 * fields are counted from the LAST ')'. A zombie or dead task (state Z/X,
 * field 3) is -ESRCH: it has exited, whatever its pid still says. */
static int read_starttime(pid_t pid, uint64_t *ret)
{
	char path[64], buf[STAT_MAX + 1], *p, *end;
	unsigned long long v;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_proc(path, buf, STAT_MAX);
	if (n < 0)
		return (int)n;
	p = memrchr(buf, ')', (size_t)n);
	if (!p)
		return -EBADMSG;
	p++;
	if (p[0] != ' ' || p[1] == '\0')
		return -EBADMSG;
	if (p[1] == 'Z' || p[1] == 'X')
		return -ESRCH;
	/* after ')' come fields 3..: skip 19 separators to reach field 22 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EBADMSG;
	}
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1 || (*end != ' ' && *end != '\n'))
		return -EBADMSG;
	*ret = (uint64_t)v;
	return 0;
}

int peer_read_cgroup(pid_t pid, struct cg_identity *ret)
{
	cleanup_free char *buf = malloc(CG_MAX_FILE + 1);
	char path[64];
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	n = read_proc(path, buf, CG_MAX_FILE + 1);
	if (n < 0)
		return (int)n;
	return cgroup_parse(buf, (size_t)n, ret);
}

/* Alive = signalable (EPERM still proves it exists) and not yet exited
 * (a pidfd polls readable once the process has exited, zombie or not). */
static int pidfd_alive(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int r;

	/* ENOSYS (valgrind, seccomp'd sandboxes): the poll below still decides. */
	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0 && errno != EPERM && errno != ENOSYS)
		return errno == ESRCH ? -ESRCH : -errno;
	do
		r = poll(&pfd, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? 0 : -ESRCH;
}

int peer_check_alive(const struct peer *p)
{
	uint64_t st;
	int r;

	if (p->pidfd >= 0) {
		r = pidfd_alive(p->pidfd);
		if (r < 0)
			return r;
	}
	/* A pidfd from SO_PEERPIDFD pins the very process that connected:
	 * alive now means its PID was never freed, so nothing to compare.
	 * pidfd_open(pid) could have pinned a successor: compare start time
	 * (the only check at all without pidfds). */
	if (p->via_peerpidfd)
		return 0;
	r = read_starttime(p->pid, &st);
	if (r < 0)
		return r; /* -ESRCH when gone; EMFILE etc. are the agent's own */
	return st == p->starttime ? 0 : -ESRCH;
}

/* SO_PEERPIDFD (Linux 6.5+): the same struct pid as SO_PEERCRED's, so no
 * need to map it back to a number. 1 = got it, 0 = kernel lacks it. */
static int peer_pidfd(int fd, int *ret_pidfd)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0) {
		*ret_pidfd = pidfd;
		return 1;
	}
	if (errno == ESRCH)
		return -ESRCH;
	if (errno != ENOPROTOOPT && errno != EINVAL && errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

/* Older kernels: start time first, then pidfd_open(pid) (-1 below 5.3);
 * peer_check_alive() later compares the start time again. */
static int pidfd_by_number(struct peer *p, int *ret_pidfd)
{
	int r = read_starttime(p->pid, &p->starttime);

	if (r < 0)
		return r;
	*ret_pidfd = pidfd_open(p->pid, 0);
	if (*ret_pidfd < 0 && errno != ENOSYS)
		return errno == ESRCH ? -ESRCH : -errno;
	return 0;
}

int peer_attest(int fd, struct peer *ret)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct peer p = { .pidfd = -1 };
	cleanup_close int pidfd = -1;
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	if (uc.pid <= 0) /* peer not visible in our pid namespace */
		return -ESRCH;
	p.pid = uc.pid;
	p.uid = uc.uid;
	p.gid = uc.gid;
	r = peer_pidfd(fd, &pidfd);
	if (r < 0)
		return r;
	p.via_peerpidfd = r == 1;
	if (!p.via_peerpidfd && (r = pidfd_by_number(&p, &pidfd)) < 0)
		return r;
	r = peer_read_cgroup(p.pid, &p.cg);
	if (r < 0)
		return r;
	p.pidfd = pidfd;
	/* The identity was read from /proc/PID: confirm PID still names the
	 * process we pinned, and that it has not exited in between. */
	r = peer_check_alive(&p);
	if (r < 0)
		return r;
	p.pidfd = steal_fd(&pidfd);
	*ret = p;
	return 0;
}

void peer_release(struct peer *p)
{
	if (p && p->pidfd >= 0) {
		close(p->pidfd);
		p->pidfd = -1;
	}
}

static int ns_stat(pid_t pid, const char *ns, struct stat *st)
{
	char path[64];

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (stat(path, st) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return 0;
}

/* 1 when processes a and b (0: this process) share namespace ns ("pid",
 * "ipc"...), 0 when not, -errno. */
static int same_ns(pid_t a, pid_t b, const char *ns)
{
	struct stat sa, sb;
	int r;

	if ((r = ns_stat(a, ns, &sa)) < 0 || (r = ns_stat(b, ns, &sb)) < 0)
		return r;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int peer_same_pidns(pid_t a, pid_t b)
{
	if (a <= 0 || b <= 0)
		return -ESRCH;
	return same_ns(a, b, "pid");
}

int peer_host_ns(pid_t pid)
{
	static const struct {
		const char *ns;
		int bit;
	} kinds[] = { { "pid", PEER_NS_PID }, { "ipc", PEER_NS_IPC }, { "net", PEER_NS_NET } };
	int mask = 0;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int r = pid > 0 ? same_ns(pid, 0, kinds[i].ns) : -ESRCH;
		if (r < 0)
			return r;
		if (r)
			mask |= kinds[i].bit;
	}
	return mask;
}

void peer_identity_key(const struct peer *p, char *buf, size_t len)
{
	if (p->cg.runtime == RT_HOST)
		snprintf(buf, len, "host:uid:%u", (unsigned)p->uid);
	else
		snprintf(buf, len, "%s:%s", runtime_name(p->cg.runtime), p->cg.id);
}
