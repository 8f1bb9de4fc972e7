/* SPDX-License-Identifier: MIT */
/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or
 * an abstract name written "@name"). keyholed sends READY=1 once both
 * sockets are bound, so a Type=notify unit orders containers after it. */
#ifndef KH_NOTIFY_H
#define KH_NOTIFY_H

/* Send state (e.g. "READY=1\nSTATUS=...") to socket_path. 0, or -errno
 * (-EINVAL for a path that is not absolute or abstract, or too long). */
int notify_send(const char *socket_path, const char *state);

#endif
