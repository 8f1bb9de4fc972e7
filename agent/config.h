/* SPDX-License-Identifier: MIT */
/* keyholed.conf: one `key value` (or `key = value`) per line, `#` comments,
 * keys are keyholed's long option names. Pure: parses bytes already read,
 * no syscalls; main.c turns each entry into its `--key=value` option, so
 * the file and the flags share one parser and flags given later win. */
#ifndef KH_CONFIG_H
#define KH_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_BYTES (64u * 1024u)
#define CONFIG_MAX_ENTRIES 128u
#define CONFIG_MAX_KEY 32u

struct config_entry {
	char key[CONFIG_MAX_KEY + 1];
	char *value; /* "" for a bare key (a flag without value) */
	unsigned line;
};

struct config {
	struct config_entry *v;
	size_t n;
};

/* 0 and *ret, or -EINVAL with "line N: reason" in err, or -ENOMEM. Keys are
 * [a-z0-9-]; a value may be wrapped in double quotes (kept verbatim
 * inside); a key given twice is an error. */
int config_parse(const char *text, size_t len, struct config **ret, char *err, size_t errlen);
void config_free(struct config *c);

#endif
