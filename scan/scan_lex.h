/* SPDX-License-Identifier: MIT */
/* Dockerfile lexer, shared by the Dockerfile driver and the migrator:
 * logical instructions (continuations joined, comment lines inside them
 * dropped) and shell-like words. Knows nothing of findings. */
#ifndef KH_SCAN_LEX_H
#define KH_SCAN_LEX_H

#include <stdbool.h>
#include <stddef.h>

struct scan_df_iter {
	const char *buf;
	size_t len, pos;
	unsigned lineno;
	char esc; /* `# escape=` directive, default backslash */
};

/* One instruction. text is malloc'd and may hold secrets: release it with
 * scan_df_instr_clear() (wipes). */
struct scan_df_instr {
	char kw[16]; /* upper-cased keyword */
	char *text;  /* arguments after the keyword */
	size_t text_len;
	unsigned line, end_line;
	size_t off, end_off; /* byte range of the physical lines in buf */
};

void scan_df_iter_init(struct scan_df_iter *it, const char *buf, size_t len);
/* 1 = got one, 0 = end, -ENOMEM. */
int scan_df_next(struct scan_df_iter *it, struct scan_df_instr *ret);
void scan_df_instr_clear(struct scan_df_instr *in);
/* Next shell-like word of text from *pos, quotes and escapes decoded into
 * out (room for len+1). false at the end. */
bool scan_df_word(const char *text, size_t len, size_t *pos, char esc, char *out, size_t *ret_len);

#endif
