/* SPDX-License-Identifier: MIT */
/* Credential heuristics over one NAME=VALUE pair or free text (known token
 * formats, PEM keys, URL user:password, name patterns, entropy), and the
 * keyhole-shim privilege-drop check used by the root-user rule. Pure; part
 * of the core the drivers call. Reasons never contain the value. */
#ifndef KH_SCAN_DETECT_H
#define KH_SCAN_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "scan_core.h"

/* Classification of one NAME=VALUE pair. Returns true and sets *ret_rule
 * and a reason (never containing the value) when it looks like a
 * credential. name may be NULL (bare value). */
bool scan_classify(const char *name, const char *val, size_t len, enum scan_rule *ret_rule,
		   char *reason, size_t reason_sz);
bool scan_is_placeholder(const char *val, size_t len);
bool scan_name_is_credential(const char *name);

/* Classify name/value and add a finding to r if it is a credential. */
int scan_check_pair(struct scan_result *r, const char *file, unsigned line, unsigned end_line,
		    enum scan_src src, const char *name, const char *service, const char *val,
		    size_t len);
/* Look only for token formats / PEM / URL credentials in free text (RUN). */
int scan_check_text(struct scan_result *r, const char *file, unsigned line, const char *name,
		    const char *text, size_t len);

/* Is argv (an ENTRYPOINT, or CMD without one) keyhole-shim dropping to a
 * non-root numeric --user before it runs the app? */
bool scan_shim_drops_root(const char *const *argv, size_t argc);

#endif
