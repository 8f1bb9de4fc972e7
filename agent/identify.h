/* SPDX-License-Identifier: MIT */
/* Who a container caller is, beyond the kernel's word: the engine's
 * metadata for the container id its cgroup names, accepted only when the
 * caller shares the pid namespace of the container's init. Sets c->meta or
 * c->meta_err. Calls engine, peer and conn; nothing above it. */
#ifndef KH_IDENTIFY_H
#define KH_IDENTIFY_H

#include <stdbool.h>

#include "conn.h"
#include "engine.h"

/* 0 (c->meta or c->meta_err set; *ret_engine_ok says whether the engine
 * answered), or -EPERM when the peer is not in the container's pid
 * namespace. */
int identify_container(struct engine *eng, struct conn *c, bool *ret_engine_ok);

#endif
