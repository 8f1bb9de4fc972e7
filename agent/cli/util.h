/* SPDX-License-Identifier: MIT */
/* Helpers shared by the `keyhole` verbs: opening the store with the global
 * options, reading secret values from stdin into sodium_malloc memory with a
 * cap, small argument parsers, printing JSON. Verbs stay small. */
#ifndef KH_CLI_UTIL_H
#define KH_CLI_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "audit.h"
#include "cli/cli.h"
#include "keystore.h"

/* How much of the private key a verb needs. */
enum cli_key {
	CLI_KEY_NONE,	  /* list, history, pubkey: public data only */
	CLI_KEY_IF_AVAIL, /* writers: load it when present to check the
			     recorded public key, else seal with the public key */
	CLI_KEY_REQUIRED, /* get, verify */
};

/* The exit code (enum cli_exit) for a keystore/system -errno. */
int cli_exit_code(int err);

/* Open ctx->store; on error prints via cli_fail and returns an exit code
 * (> 0), else 0 and *ret. Writers (CLI_KEY_IF_AVAIL) sign with the writer
 * key and, without the private key, check the store's pinned public key;
 * readers check signatures against the trust file (cli_trust_file). */
int cli_open_store(struct cli_ctx *ctx, enum cli_key need, struct ks_store **ret);
/* The same, reporting records older than the high-water marks of
 * state_file (read only; keyhole verify --state). */
int cli_open_store_state(struct cli_ctx *ctx, enum cli_key need, const char *state_file,
			 struct ks_store **ret);
/* --writer-key / KEYHOLE_WRITER_KEY, else writer.key next to the key file. */
const char *cli_writer_key(const struct cli_ctx *ctx);
/* --writers / KEYHOLE_WRITERS, else /etc/keyhole/writers. */
const char *cli_trust_file(void);
/* "AEAD" for a record that does not authenticate (-EBADMSG), else NULL:
 * ks_strerror's text already names the signature and rollback checks. */
const char *cli_failed_check(int err);

/* 0 if name is a valid secret name, else prints which rule it breaks and
 * returns CLI_EUSAGE. */
int cli_check_name(const char *verb, const char *name);
/* put/rotate without --allow-empty got an empty value: say so; CLI_EUSAGE. */
int cli_empty_refused(const char *verb, const char *name);
/* Print why reading a value failed (the size limit for -EFBIG); exit code. */
int cli_value_fail(int err, const char *verb, const char *name);

/* Read all of fd (binary-safe) into sodium_malloc memory; -EFBIG past cap.
 * Free with cli_secret_free(). Never echoed anywhere. */
int cli_read_secret_fd(int fd, size_t cap, uint8_t **ret, size_t *ret_len);
void cli_secret_free(uint8_t *p, size_t len);
/* Read a small non-secret file (e.g. a public key / sealed record). */
int cli_read_small_file(const char *path, size_t cap, char **ret, size_t *ret_len);

/* Strict decimal parse into [min, max]; false on junk. */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* main sets the running verb's usage text, which cli_usage_error prints. */
void cli_usage_set(const char *verb, const char *usage);
/* Print "keyhole: VERB: message" and VERB's usage to stderr; CLI_EUSAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Options of a listing verb: only --json. Sets *json; on success optind
 * indexes the first operand. Returns 0 or a usage error (CLI_EUSAGE). */
int cli_parse_json_flag(const char *verb, int argc, char **argv, bool *json);
/* True if argv holds -h/--help (before any "--"). */
bool cli_wants_help(int argc, char **argv);

/* json_dumps to stdout with a newline; steals o. Returns an exit code. */
int cli_print_json(json_t *o);
/* The value of key in keyholed.conf (ctx->config) copied into buf, or NULL
 * (no file, a parse error, no such key). */
const char *cli_config_get(const struct cli_ctx *ctx, const char *key, char *buf, size_t n);
/* The audit log keyholed writes: --audit-log / KEYHOLE_AUDIT_LOG, else
 * `audit-log` in keyholed.conf, else the unit's default when it exists. */
const char *cli_audit_path(const struct cli_ctx *ctx, char *buf, size_t n);
/* Append one line to the agent's audit log (who: this uid; what: d on
 * secret, version; never a value). A log that cannot be written is a
 * warning, not a failure: the change is already made. */
void cli_audit(const struct cli_ctx *ctx, enum audit_decision d, const char *secret,
	       uint64_t version, const char *detail);
/* "" for 1, "s" otherwise: "%zu rule%s". */
const char *cli_plural(unsigned long long n);
/* "2026-01-02T03:04:05Z" */
void cli_fmt_time(time_t t, char buf[32]);

#endif
