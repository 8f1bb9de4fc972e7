/* SPDX-License-Identifier: MIT */
/* Listening unix sockets (OpenBSD control.c). */
#ifndef KH_LISTEN_H
#define KH_LISTEN_H

/* Bind path with the given mode (never wider, even briefly) and listen;
 * the fd (CLOEXEC|NONBLOCK), or -errno. */
int listen_unix(const char *path, unsigned mode, int backlog);

#endif
