/* SPDX-License-Identifier: MIT */
/* Scanner core, the floor every driver stands on: the result list (findings
 * appended with scan_add), the rule table, caps, masking and entropy. Pure,
 * no I/O, calls nothing above it. A finding's value lives only in
 * sodium_malloc memory, wiped by scan_result_free(); every output path shows
 * scan_mask()ed values only. */
#ifndef KH_SCAN_CORE_H
#define KH_SCAN_CORE_H

#include <stdbool.h>
#include <stddef.h>

#define SCAN_MAX_INPUT (4u << 20)  /* bytes of one input file */
#define SCAN_MAX_FINDINGS 4096u	   /* per result */
#define SCAN_MAX_VALUE (64u << 10) /* longest value considered */
#define SCAN_ENTROPY_MIN 4.0	   /* bits per char, see docs/scan.md */
#define SCAN_ENTROPY_MINLEN 20u

/* Rule ids, stable (SARIF ruleId). Credential rules first, then posture. */
enum scan_rule {
	SCAN_R_PRIVATE_KEY, /* KH101 PEM private key block */
	SCAN_R_TOKEN,	    /* KH102 known token format */
	SCAN_R_URL_CRED,    /* KH103 URL with user:password */
	SCAN_R_NAME,	    /* KH104 credential-looking name with a literal value */
	SCAN_R_ENTROPY,	    /* KH105 high-entropy literal */
	SCAN_R_TEST_TOKEN,  /* KH106 known token format, test/sandbox mode */
	SCAN_R_ROOT_USER,   /* KH201 final stage runs as root */
	SCAN_R_EXPOSE,	    /* KH202 EXPOSE beyond the first port */
	SCAN_R_ADD_URL,	    /* KH203 ADD from a URL without --checksum */
	SCAN_R_PRIVILEGED,  /* KH204 privileged container */
	SCAN_R_HOST_NS,	    /* KH205 host network/pid/ipc namespace */
	SCAN_R_COUNT
};

/* Where a credential sits, for import rewriting (migrate.c). */
enum scan_src {
	SCAN_SRC_NONE,	  /* posture, or not removable (RUN, LABEL, inspect) */
	SCAN_SRC_ENV,	  /* Dockerfile ENV */
	SCAN_SRC_ARG,	  /* Dockerfile ARG default */
	SCAN_SRC_DOTENV,  /* .env line */
	SCAN_SRC_COMPOSE, /* compose environment entry */
};

struct scan_finding {
	char *file;	   /* as given to the scanner */
	unsigned line;	   /* 1-based; where the instruction/entry starts */
	unsigned end_line; /* last line of the entry (multi-line values) */
	enum scan_rule rule;
	enum scan_src src;
	char *name;    /* variable name (malloc), NULL for posture */
	char *service; /* compose service, else NULL */
	char *reason;  /* human text, never contains the value */
	char *masked;  /* scan_mask() of the value, NULL for posture */
	char *value;   /* sodium_malloc'd, NUL-terminated; NULL for posture */
	size_t value_len;
};

/* A compose env_file reference the caller should read and scan as .env. */
struct scan_ref {
	char *path; /* as written, relative to the compose file */
	char *service;
	unsigned line;
};

struct scan_result {
	struct scan_finding *f;
	size_t n, cap;
	struct scan_ref *refs;
	size_t n_refs;
	/* Dockerfile final stage / compose services, for migrate.c */
	unsigned entrypoint_line;   /* final-stage ENTRYPOINT, 0 = none */
	unsigned cmd_line;	    /* final-stage CMD, 0 = none */
	unsigned final_from_line;   /* 0 = not a Dockerfile */
	char *image;		    /* compose: first service image, else NULL */
	struct scan_service {	    /* compose services, in file order */
		char *name, *image; /* image NULL when the service only builds */
	} * services;
	size_t n_services;
};

void scan_result_init(struct scan_result *r);
void scan_result_free(struct scan_result *r);

/* Append a finding (deduplicated per line and name, or per line and rule
 * for posture). value may be NULL (posture); it is copied into sodium
 * memory. Returns 0, -E2BIG past SCAN_MAX_FINDINGS, -ENOMEM. */
int scan_add(struct scan_result *r, const char *file, unsigned line, unsigned end_line,
	     enum scan_rule rule, enum scan_src src, const char *name, const char *service,
	     const char *reason, const char *value, size_t value_len);

const char *scan_rule_id(enum scan_rule r);   /* "KH101" */
const char *scan_rule_name(enum scan_rule r); /* "private-key" */
const char *scan_rule_help(enum scan_rule r);
bool scan_rule_is_posture(enum scan_rule r);
const char *scan_rule_level(enum scan_rule r); /* SARIF: "error"/"warning"/"note" */

/* "gh…(40)"; short values fully masked "…(6)". malloc'd, NULL on ENOMEM. */
char *scan_mask(const char *val, size_t len);
/* Shannon entropy in bits per byte. */
double scan_entropy(const char *val, size_t len);

#endif
