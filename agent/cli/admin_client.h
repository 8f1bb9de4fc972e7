/* SPDX-License-Identifier: MIT */
/* One admin round trip for the CLI verbs: send a JSON request as a
 * PROTO_ADMIN frame to the agent's admin socket, return the parsed
 * PROTO_ADMIN_REPLY. Caps the reply at PROTO_MAX_ADMIN. */
#ifndef KH_CLI_ADMIN_CLIENT_H
#define KH_CLI_ADMIN_CLIENT_H

#include <jansson.h>

/* 0 and *ret (caller json_decref), or -errno (-ECONNREFUSED, -ENOENT,
 * -EBADMSG for a bad reply, -EPROTO for an ERROR frame). */
int admin_call(const char *socket_path, json_t *request, json_t **ret);
/* admin_call + print "keyhole: VERB: ..." on failure. Returns 0 or CLI_EAGENT. */
int admin_call_cli(const char *verb, const char *socket_path, json_t *request, json_t **ret);

#endif
