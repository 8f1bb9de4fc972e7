/* SPDX-License-Identifier: MIT */
/* Credential and posture scanner (docs/scan.md): pure functions over
 * in-memory buffers (Dockerfile, compose YAML, .env, inspect JSON), no I/O,
 * so it can be fuzzed. The input is untrusted text. Values of findings are
 * kept only in sodium_malloc memory and wiped by scan_result_free(); every
 * output path shows scan_mask()ed values only. */
#ifndef KH_SCAN_H
#define KH_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define SCAN_MAX_INPUT (4u << 20)  /* bytes of one input file */
#define SCAN_MAX_FINDINGS 4096u    /* per result */
#define SCAN_MAX_VALUE (64u << 10) /* longest value considered */
#define SCAN_ENTROPY_MIN 4.0       /* bits per char, see docs/scan.md */
#define SCAN_ENTROPY_MINLEN 20u

enum scan_type { SCAN_T_AUTO, SCAN_T_DOCKERFILE, SCAN_T_COMPOSE, SCAN_T_ENV, SCAN_T_INSPECT };

/* Rule ids, stable (SARIF ruleId). Order = strength when several apply. */
enum scan_rule {
	SCAN_R_PRIVATE_KEY,   /* KH101 PEM private key block */
	SCAN_R_TOKEN,         /* KH102 known token format */
	SCAN_R_URL_CRED,      /* KH103 URL with user:password */
	SCAN_R_NAME,          /* KH104 credential-looking name with a literal value */
	SCAN_R_ENTROPY,       /* KH105 high-entropy literal */
	SCAN_R_ROOT_USER,     /* KH201 final stage runs as root */
	SCAN_R_EXPOSE,        /* KH202 EXPOSE beyond the first port */
	SCAN_R_ADD_URL,       /* KH203 ADD from a URL without --checksum */
	SCAN_R_PRIVILEGED,    /* KH204 privileged container */
	SCAN_R_HOST_NS,       /* KH205 host network/pid/ipc namespace */
	SCAN_R_COUNT
};

/* Where a credential sits, for import rewriting (migrate.c). */
enum scan_src {
	SCAN_SRC_NONE,    /* posture, or not removable (RUN, LABEL, inspect) */
	SCAN_SRC_ENV,     /* Dockerfile ENV */
	SCAN_SRC_ARG,     /* Dockerfile ARG default */
	SCAN_SRC_DOTENV,  /* .env line */
	SCAN_SRC_COMPOSE, /* compose environment entry */
};

struct scan_finding {
	char *file;        /* as given to the scanner */
	unsigned line;     /* 1-based; where the instruction/entry starts */
	unsigned end_line; /* last line of the entry (multi-line values) */
	enum scan_rule rule;
	enum scan_src src;
	char *name;        /* variable name (malloc), NULL for posture */
	char *service;     /* compose service, else NULL */
	char *reason;      /* human text, never contains the value */
	char *masked;      /* scan_mask() of the value, NULL for posture */
	char *value;       /* sodium_malloc'd, NUL-terminated; NULL for posture */
	size_t value_len;
};

/* A compose env_file reference the caller should read and scan as .env. */
struct scan_ref {
	char *path;    /* as written, relative to the compose file */
	char *service;
	unsigned line;
};

struct scan_result {
	struct scan_finding *f;
	size_t n, cap;
	struct scan_ref *refs;
	size_t n_refs;
	/* Dockerfile final stage / compose services, for migrate.c */
	unsigned entrypoint_line;  /* final-stage ENTRYPOINT, 0 = none */
	unsigned cmd_line;         /* final-stage CMD, 0 = none */
	unsigned final_from_line;  /* 0 = not a Dockerfile */
	char *image;               /* compose: first service image, else NULL */
	struct scan_service {      /* compose services, in file order */
		char *name, *image;  /* image NULL when the service only builds */
	} *services;
	size_t n_services;
};

void scan_result_init(struct scan_result *r);
void scan_result_free(struct scan_result *r);

/* Guess the type from the file name, then from the content. */
enum scan_type scan_detect_type(const char *path, const char *buf, size_t len);
const char *scan_type_name(enum scan_type t);

/* Scan buf (need not be NUL-terminated) and append findings to r.
 * Returns 0, -EINVAL/-EBADMSG for unparseable input (YAML/JSON syntax),
 * -E2BIG past the caps, -ENOMEM. Findings added before an error stay. */
int scan_buffer(struct scan_result *r, const char *path, enum scan_type t, const char *buf,
		size_t len);

/* Classification of one NAME=VALUE pair. Returns true and sets *ret_rule
 * and a reason (never containing the value) when it looks like a
 * credential. name may be NULL (bare value). */
bool scan_classify(const char *name, const char *val, size_t len, enum scan_rule *ret_rule,
		   char *reason, size_t reason_sz);
bool scan_is_placeholder(const char *val, size_t len);
bool scan_name_is_credential(const char *name);
double scan_entropy(const char *val, size_t len);
/* "gh…(40)"; short values fully masked "…(6)". malloc'd, NULL on ENOMEM. */
char *scan_mask(const char *val, size_t len);

const char *scan_rule_id(enum scan_rule r);   /* "KH101" */
const char *scan_rule_name(enum scan_rule r); /* "private-key" */
const char *scan_rule_help(enum scan_rule r);
bool scan_rule_is_posture(enum scan_rule r);
const char *scan_rule_level(enum scan_rule r); /* SARIF: "error"/"warning"/"note" */

/* Reports (malloc'd text, NULL on ENOMEM). */
char *scan_report_table(const struct scan_result *r);
char *scan_report_json(const struct scan_result *r);
char *scan_report_sarif(const struct scan_result *r, const char *tool_version);

/* Internal (scan_*.c): append a finding. value may be NULL (posture). */
int scan_add(struct scan_result *r, const char *file, unsigned line, unsigned end_line,
	     enum scan_rule rule, enum scan_src src, const char *name, const char *service,
	     const char *reason, const char *value, size_t value_len);
/* Classify name/value and add a finding if it is a credential. */
int scan_check_pair(struct scan_result *r, const char *file, unsigned line, unsigned end_line,
		    enum scan_src src, const char *name, const char *service, const char *val,
		    size_t len);
/* Look only for token formats / PEM / URL credentials in free text (RUN). */
int scan_check_text(struct scan_result *r, const char *file, unsigned line, const char *name,
		    const char *text, size_t len);
/* Dockerfile logical instructions (continuations joined, comment lines
 * inside continuations dropped), shared with migrate.c. text is malloc'd,
 * may hold secrets: release with scan_df_instr_clear() (wipes). */
struct scan_df_iter {
	const char *buf;
	size_t len, pos;
	unsigned lineno;
	char esc; /* `# escape=` directive, default backslash */
};
struct scan_df_instr {
	char kw[16];           /* upper-cased keyword */
	char *text;            /* arguments after the keyword */
	size_t text_len;
	unsigned line, end_line;
	size_t off, end_off;   /* byte range of the physical lines in buf */
};
void scan_df_iter_init(struct scan_df_iter *it, const char *buf, size_t len);
/* 1 = got one, 0 = end, -ENOMEM. */
int scan_df_next(struct scan_df_iter *it, struct scan_df_instr *ret);
void scan_df_instr_clear(struct scan_df_instr *in);
/* Next shell-like word of text from *pos, quotes and escapes decoded into
 * out (room for len+1). false at the end. */
bool scan_df_word(const char *text, size_t len, size_t *pos, char esc, char *out,
		  size_t *ret_len);

int scan_dockerfile(struct scan_result *r, const char *file, const char *buf, size_t len);
int scan_compose(struct scan_result *r, const char *file, const char *buf, size_t len);
int scan_dotenv(struct scan_result *r, const char *file, const char *buf, size_t len);
int scan_inspect(struct scan_result *r, const char *file, const char *buf, size_t len);

#endif
