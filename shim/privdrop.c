/* SPDX-License-Identifier: MIT */
/* Dropping to the app's numeric uid/gid before exec (ntpd ntp.c,
 * s6-applyuidgid, bubblewrap): supplementary groups first, then gid, then
 * uid, then NO_NEW_PRIVS so a setuid binary in the image cannot climb back.
 * Verified afterwards: a partial drop is treated as failure. The id calls
 * are raw syscalls: the shim is single-threaded, so libc's broadcast to
 * other threads (musl's __synccall) has nothing to do and is not linked.
 * A shim that is not root can only already be the app's user (the flow
 * `docker run --user` forces): then the drop is a no-op. */
#include "shim.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool already(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return false;
	return ru == uid && eu == uid && su == uid && rg == gid && eg == gid && sg == gid;
}

int privdrop_check(uid_t uid, gid_t gid)
{
	if (geteuid() == 0)
		return 0;
	return already(uid, gid) ? 0 : -EPERM;
}

static int set_ids(uid_t uid, gid_t gid)
{
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return -errno;
	if (syscall(SYS_setresgid, gid, gid, gid) < 0)
		return -errno;
	if (syscall(SYS_setresuid, uid, uid, uid) < 0)
		return -errno;
	return 0;
}

int privdrop(uid_t uid, gid_t gid)
{
	int r;
	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EINVAL;
	bool self = geteuid() != 0 && already(uid, gid);
	if (!self && (r = set_ids(uid, gid)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (!already(uid, gid))
		return -EPERM;
	if (!self && getgroups(0, NULL) != 0)
		return -EPERM;
	/* Regaining root must be impossible now (unless we were asked for 0). */
	if (uid != 0 && syscall(SYS_setresuid, 0, 0, 0) == 0)
		return -EPERM;
	return 0;
}
