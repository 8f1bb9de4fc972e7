/* SPDX-License-Identifier: MIT */
/* Small checks and filters on untrusted text, shared by agent, CLI and shim
 * (libc only, syscall-free). One owner each: the 64-hex container id check
 * and the terminal-text sanitizer. */
#ifndef KH_TEXT_H
#define KH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_ID_LEN 64 /* a full container id: 64 lowercase hex digits */

/* p[0..n) is lowercase hex (n may be 0). */
bool text_is_hex(const char *p, size_t n);
/* s is exactly a full 64-lowercase-hex container id. */
bool text_is_id64(const char *s);
/* Replace C0 control bytes and DEL with '?' in place, so a name or reason
 * from an untrusted source cannot drive the terminal. */
void text_sanitize(char *s);
/* Copy src into buf (size sz > 0), sanitized and truncated; returns buf. */
const char *text_safe(const char *src, char *buf, size_t sz);

#endif
