/* SPDX-License-Identifier: MIT */
/* The audit log: one JSON line per secret decision (docs/agent.md).
 * Names, versions, who and why; never a value. audit_write() issues one
 * write(2) per line, so the line is in the file before the reply is sent;
 * watcher pushes batch theirs (audit_hold/audit_release). */
#ifndef KH_AUDIT_H
#define KH_AUDIT_H

#include <stdbool.h>
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
	AUDIT_SUMMARY, /* refusals/denials not written one by one (see below) */
	/* Changes made with the keyhole CLI (reason: "by uid N"): */
	AUDIT_PUT,    /* new secret, version 1 */
	AUDIT_ROTATE, /* new version */
	AUDIT_RM,     /* secret and its versions deleted */
	AUDIT_RELOAD, /* policy reloaded (reason names the digest) */
};

struct audit_event {
	const struct policy_identity *id; /* may be NULL (attestation failed) */
	const char *rule;		  /* or NULL */
	const char *secret;		  /* or NULL */
	uint64_t version;		  /* 0 = none */
	enum audit_decision decision;
	const char *reason; /* or NULL */
};

struct audit;

/* path "-" = stdout; else opened O_APPEND|O_CLOEXEC, created 0600. */
int audit_open(const char *path, struct audit **ret);
void audit_close(struct audit *a);
/* 0 or -errno. Refusals and denials are aggregated per identity (host
 * uid, or container) and AUDIT_WINDOW_MS window: the first refusal and the
 * first AUDIT_DENY_BUDGET denials of a window are written, the rest only
 * counted (0 returned) and written as one AUDIT_SUMMARY line by
 * audit_flush once the window is over. Releases, pushes, revocations and
 * store events are always written. */
#define AUDIT_WINDOW_MS 10000u
#define AUDIT_DENY_BUDGET 32u
int audit_write(struct audit *a, const struct audit_event *ev);
/* Batching (watcher pushes: one write(2) for a whole resync, not one per
 * line). Between audit_hold and audit_release, lines are collected in
 * memory and audit_write returns 0; audit_release writes them at once and
 * returns 0 or the -errno of a failed write. The caller sends nothing the
 * held lines vouch for before audit_release succeeded. Past AUDIT_HOLD_MAX
 * bytes the lines so far are written early (still before any frame). */
#define AUDIT_HOLD_MAX (4u << 20)
#define AUDIT_HOLD_KEEP (256u << 10) /* a larger buffer is freed after release */
void audit_hold(struct audit *a);
int audit_release(struct audit *a);
/* The same at a given monotonic time (tests). */
int audit_write_at(struct audit *a, const struct audit_event *ev, uint64_t mono_ms);
/* Write the summary lines of windows that ended by mono_ms; true while
 * counts are still pending (call again within a second). */
bool audit_flush(struct audit *a, uint64_t mono_ms);
/* Reopen the file by its path (logrotate moved it): 0 or -errno, the old
 * file kept on error. A no-op for "-". */
int audit_reopen(struct audit *a);
/* Free bytes and free share (percent) of the filesystem under the log. */
int audit_space(struct audit *a, uint64_t *ret_free, unsigned *ret_pct);
/* The line (malloc'd, '\n'-terminated) for ev at time ts; NULL on ENOMEM. */
char *audit_format(const struct audit_event *ev, const struct timespec *ts);
const char *audit_decision_name(enum audit_decision d);

#endif
