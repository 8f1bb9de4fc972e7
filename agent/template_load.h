/* SPDX-License-Identifier: MIT */
/* Template grants meet the filesystem and the store (docs/templates.md):
 * reading each grant's template from the policy's directory (openat,
 * O_NOFOLLOW, a plain file name: nothing outside it), checking that it uses
 * only secrets its own rule grants, and the version of the rendered file.
 * Called by the agent's policy load, `keyhole policy check` and explain;
 * rendering itself is template.c's (pure). */
#ifndef KH_TEMPLATE_LOAD_H
#define KH_TEMPLATE_LOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "keystore.h"
#include "policy.h"
#include "template.h"

/* Read and parse the template of every template grant of p, from the
 * directory holding policy_path. 0, or -errno with a one-line reason in err:
 * "rules[0].grant[1]: db.tmpl:3:17: unknown function 'secrt' (...)". */
int tmpl_policy_load(struct policy *p, const char *policy_path, char *err, size_t errlen);
/* The same with the directory already open (dirfd). */
int tmpl_policy_load_at(struct policy *p, int dirfd, char *err, size_t errlen);

/* The version the rendered file of t has in the store listed by inf[0..n)
 * (tmpl_version), or 0 when a secret it uses is not there. */
uint64_t tmpl_store_version(const struct tmpl *t, const struct ks_info *inf, size_t n);

/* "template", "escape" and "uses" of a template grant, for explain; NULL
 * for a plain grant or on ENOMEM. */
json_t *tmpl_grant_json(const struct policy_grant *g);

#endif
