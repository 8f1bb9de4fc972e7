/* SPDX-License-Identifier: MIT */
/* The audit log: one JSON line per secret decision (docs/agent.md).
 * Names, versions, who and why; never a value. audit_write() issues one
 * write(2) per line, so the line is in the file before the reply is sent. */
#ifndef KH_AUDIT_H
#define KH_AUDIT_H

#include <stdint.h>
#include <time.h>

#include "policy.h"

enum audit_decision {
	AUDIT_RELEASE, /* secret sent on request */
	AUDIT_DENY,    /* secret refused (reason says why) */
	AUDIT_REVOKE,  /* REVOKED pushed to a watcher */
	AUDIT_PUSH,    /* new version pushed to a watcher */
	AUDIT_REFUSE,  /* connection refused before any secret (attestation, caps) */
	AUDIT_STORE,   /* store became unreachable/unreadable, or recovered */
	/* Changes made with the keyhole CLI (reason: "by uid N"): */
	AUDIT_PUT,     /* new secret, version 1 */
	AUDIT_ROTATE,  /* new version */
	AUDIT_RM,      /* secret and its versions deleted */
	AUDIT_RELOAD,  /* policy reloaded (reason names the digest) */
};

struct audit_event {
	const struct policy_identity *id; /* may be NULL (attestation failed) */
	const char *rule;                 /* or NULL */
	const char *secret;               /* or NULL */
	uint64_t version;                 /* 0 = none */
	enum audit_decision decision;
	const char *reason;               /* or NULL */
};

struct audit;

/* path "-" = stdout; else opened O_APPEND|O_CLOEXEC, created 0600. */
int audit_open(const char *path, struct audit **ret);
void audit_close(struct audit *a);
/* 0 or -errno. */
int audit_write(struct audit *a, const struct audit_event *ev);
/* The line (malloc'd, '\n'-terminated) for ev at time ts; NULL on ENOMEM. */
char *audit_format(const struct audit_event *ev, const struct timespec *ts);
const char *audit_decision_name(enum audit_decision d);

#endif
