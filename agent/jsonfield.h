/* SPDX-License-Identifier: MIT */
/* Typed, capped reads of JSON fields from untrusted documents (engine
 * inspect, kubelet pods): one owner for both parsers. Pure. */
#ifndef KH_JSONFIELD_H
#define KH_JSONFIELD_H

#include <jansson.h>
#include <stddef.h>

/* A JSON string without NUL that fits cap-1 bytes; NULL otherwise. */
const char *jf_str_capped(const json_t *v, size_t cap);
/* Copy such a string into dst (size cap): 0, or -EBADMSG. */
int jf_copy_str(char *dst, size_t cap, const json_t *v);

#endif
