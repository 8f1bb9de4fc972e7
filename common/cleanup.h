/* SPDX-License-Identifier: MIT */
/* Scope-bound cleanup for heap memory and fds (bubblewrap utils.h, systemd).
 * libc only: the static shim links this. steal_pointer()/steal_fd() hand
 * ownership out of a cleanup-annotated variable. */
#ifndef KH_CLEANUP_H
#define KH_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}

/* For NUL-terminated text that may hold a secret (a passphrase, a value
 * read from a tty): wiped up to its terminator, then freed. */
static inline void cleanup_erase_strp(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_erase_str __attribute__((cleanup(cleanup_erase_strp)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))

static inline void *steal_pointer_(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) steal_pointer_(pp)

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
