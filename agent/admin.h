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
/* + "secret": NAME -> "rules": [rule...], "watchers": [{pid, container, id}] */
#define ADMIN_CMD_HOLDERS "holders"
/* -> "policy_digest" (of the file as it is now), "changes": [{pid, container,
 * id, "gain": [secret...], "lose": [secret...]}] for every watcher whose
 * grants the policy file on disk would change; nothing is swapped in. */
#define ADMIN_CMD_RELOAD_PLAN "reload-plan"

void admin_accept(struct agent *a, int fd);
void admin_readable(struct agent *a, struct conn *c);

#endif
