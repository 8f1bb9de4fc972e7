/* SPDX-License-Identifier: MIT */
/* Admin socket protocol (docs/agent.md): one PROTO_ADMIN frame carrying a
 * JSON request {"cmd": "status" | "reload" | "explain", ...}, answered by
 * one PROTO_ADMIN_REPLY frame {"ok": true, ...} or {"ok": false, "error":
 * "..."}; then the agent closes. Only root (uid 0 per SO_PEERCRED) may use
 * it, on top of the socket's 0600 mode. */
#ifndef KH_ADMIN_H
#define KH_ADMIN_H

#include "agent.h"

#define ADMIN_CMD_STATUS "status"
#define ADMIN_CMD_RELOAD "reload"
#define ADMIN_CMD_EXPLAIN "explain" /* + "pid": N or "container": "ID" */

void admin_accept(struct agent *a, int fd);
void admin_readable(struct agent *a, struct conn *c);

#endif
