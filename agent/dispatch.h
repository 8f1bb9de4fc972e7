/* SPDX-License-Identifier: MIT */
/* The agent socket (ssh-agent's process_message): attest on accept, read
 * one REQUEST, answer it; WATCH requests become watchers. */
#ifndef KH_DISPATCH_H
#define KH_DISPATCH_H

#include "agent.h"

void dispatch_accept(struct agent *a, int fd);
void dispatch_readable(struct agent *a, struct conn *c);

#endif
