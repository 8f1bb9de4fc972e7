/* SPDX-License-Identifier: MIT */
/* The agent socket (ssh-agent's process_message): attest on accept, read
 * one REQUEST, answer it; WATCH requests become watchers. */
#ifndef KH_DISPATCH_H
#define KH_DISPATCH_H

#include "agent.h"

void dispatch_accept(struct agent *a, int fd);
void dispatch_readable(struct agent *a, struct conn *c);
/* Engine lookups finished: resume (or refuse) the callers waiting on them. */
void dispatch_identified(struct agent *a);
/* Read deadlines (and engine waits) that ran out by now. */
void dispatch_expire(struct agent *a, uint64_t now);

#endif
