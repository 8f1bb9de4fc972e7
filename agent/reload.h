/* SPDX-License-Identifier: MIT */
/* Loading the policy file into struct agent (at start, on SIGHUP, on the
 * admin "reload"): the old policy stays on any error. A changed policy
 * marks the watchers for a resync, which the loop runs after the batch. */
#ifndef KH_RELOAD_H
#define KH_RELOAD_H

#include <stddef.h>

#include "agent.h"

/* Read and check the policy file without installing it (reload --dry-run):
 * 0 and *ret (caller frees), or -errno with err filled. */
int reload_parse(const struct agent *a, struct policy **ret, char *err, size_t errlen);
/* 0 (loaded or unchanged), or -errno with err filled. */
int reload_policy(struct agent *a, char *err, size_t errlen);

#endif
