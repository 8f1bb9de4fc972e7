/* SPDX-License-Identifier: MIT */
/* `keyhole import --from` planning (docs/migrating.md): from a scan of one
 * Dockerfile, compose file or .env file, decide which credentials move into
 * the keystore, and produce the rewritten file (values removed, Dockerfile
 * ENTRYPOINT wrapped by keyhole-shim), the run flags and a policy rule.
 * Pure: no I/O; the rewritten text and the plan never contain a value. */
#ifndef KH_MIGRATE_H
#define KH_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "scan.h"

#define MIG_SHIM_PATH "/keyhole-shim"
#define MIG_AGENT_DIR "/run/keyhole" /* holds only agent.sock */
#define MIG_SECRETS_DIR "/run/secrets"
#define MIG_MAX_RULE_NAME 128 /* docs/policy.md: 1..128 of [A-Za-z0-9._-] */

struct mig_secret {
	char *var;		      /* variable name as found */
	char *secret;		      /* keystore name: <prefix><lowercased var> */
	char *file;		      /* file under /run/secrets: lowercased var */
	const struct scan_finding *f; /* first occurrence; holds the value */
};

struct mig_plan {
	enum scan_type type;
	struct mig_secret *s;
	size_t n;
	char *rewritten; /* the new file text */
	size_t rewritten_len;
	bool changed; /* rewritten differs from the input */
	char *policy; /* JSON rule text */
	char *notes;  /* human notes: left-over findings, caveats */
};

/* "<prefix><lowercased var>", characters outside the secret-name alphabet
 * mapped to '_'. Returns 0 or -EINVAL (result not a valid secret name). */
int mig_secret_name(const char *prefix, const char *var, char *out, size_t outsz);

/* Build the plan for buf (the file that r was scanned from; only findings
 * whose file equals path are used). image may be NULL (compose: taken from
 * the file; else "IMAGE"). Returns 0, -EINVAL (bad prefix/name, type not
 * supported), -EBADMSG (the rewrite would not parse), -ENOMEM. */
int mig_plan_build(const char *path, const char *buf, size_t len, enum scan_type t,
		   const struct scan_result *r, const char *prefix, const char *image,
		   struct mig_plan *ret);
void mig_plan_free(struct mig_plan *p);

/* How the printed policy rule delivers each moved credential
 * (docs/migrating.md "Apps that read environment variables"). */
enum mig_delivery {
	MIG_D_FILE = 0, /* default: the app reads /run/secrets/<file> */
	MIG_D_ENV_FILE, /* also "env_file": "<VAR>_FILE" (the file's path) */
	MIG_D_ENV,	/* "env": "<VAR>" (the value, in the process env; opt-in) */
};

/* Rewrite p->policy for delivery d: each grant of a moved credential gains
 * "env_file": "<VAR>_FILE", or becomes "env": "<VAR>" without a file. A
 * variable the policy would refuse (docs/policy.md: LD_*, PATH, ...) keeps
 * the file form, with a note. 0, -EINVAL (unknown d) or -ENOMEM. Pure. */
int mig_policy_delivery(struct mig_plan *p, enum mig_delivery d);

/* docker run flags for the shim (socket bind mount, tmpfs). Static text. */
const char *mig_run_flags(void);

#endif
