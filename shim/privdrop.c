// SPDX-License-Identifier: MIT
/* Dropping to the app's numeric uid/gid before exec (ntpd ntp.c,
 * s6-applyuidgid, bubblewrap): supplementary groups first, then gid, then
 * uid, then NO_NEW_PRIVS so a setuid binary in the image cannot climb back.
 * Verified afterwards: a partial drop is treated as failure. */
#include "shim.h"

#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

int privdrop(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EINVAL;
	if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	if (getgroups(0, NULL) != 0)
		return -EPERM;
	/* Regaining root must be impossible now (unless we were asked for 0). */
	if (uid != 0 && setresuid(0, 0, 0) == 0)
		return -EPERM;
	return 0;
}
