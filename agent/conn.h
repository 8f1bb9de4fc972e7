/* SPDX-License-Identifier: MIT */
/* keyholed's connections: who is on the other end (attested at accept),
 * what it sent (one capped frame), what is queued for it (a sodium_malloc
 * buffer: frames may carry values) and, for a watcher, what it holds.
 * struct conn_set owns every connection, the pending FIFO (read deadlines
 * in accept order), the graveyard (freed after the epoll batch) and the
 * pool of recycled output buffers. The bottom of the daemon: it calls
 * peer, audit and proto, and nothing above it. One thread only. */
#ifndef KH_CONN_H
#define KH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit.h"
#include "engine.h"
#include "kubelet.h"
#include "peer.h"
#include "policy.h"
#include "proto.h"
#include "ratelimit.h"

#define CONN_READ_TIMEOUT_MS 5000u /* a request must arrive this fast */
#define CONN_MAX_WBUF (8u << 20)   /* pending output per connection */
#define CONN_POOL_BUF 4096u	   /* recycled output buffer size */
#define CONN_POOL_MAX 128u

enum conn_kind { CONN_AGENT, CONN_ADMIN };

/* A secret a watcher holds (what it was last sent). */
struct held {
	char name[PROTO_MAX_NAME + 1];
	char file[PROTO_MAX_NAME + 1];
	uint64_t version;  /* 0 = granted but not (yet) in the store */
	uint32_t delivery; /* policy_grant_delivery_key of the grant it was sent under */
};

struct conn {
	struct conn *prev, *next;   /* all connections */
	struct conn *pprev, *pnext; /* pending (deadline) FIFO */
	int fd;
	enum conn_kind kind;
	bool pending, watching, closing, dead;
	bool identifying; /* paused while the engine is asked about it */
	unsigned char id_tries;
	bool out_armed;	       /* EPOLLOUT currently requested */
	uint64_t deadline_ms;  /* pending: the request must arrive by then */
	uint64_t wdeadline_ms; /* output waiting: it must drain by then (0 = none) */
	struct peer peer;
	struct rl_ident *ident; /* per-identity counts this connection holds */
	struct container_meta meta;
	bool has_meta;
	struct k8s_meta *k8s; /* pod metadata from the kubelet, or NULL (heap: most
			       * connections never have any) */
	char meta_err[160];
	uint8_t *rbuf; /* request bytes; malloc'd until the request is read */
	size_t rlen, rcap;
	uint8_t *wbuf; /* sodium_malloc: frames may carry values */
	size_t wlen, woff, wcap;
	/* watch state */
	bool want_all;
	char (*want)[PROTO_MAX_NAME + 1];
	size_t n_want;
	struct held *held;
	size_t n_held;
	uint16_t proto; /* the REQUEST's protocol version (1 or 2) */
};

struct conn_set {
	int epfd;
	struct conn *head;
	struct conn *phead, *ptail; /* pending FIFO */
	struct conn *graveyard;	    /* closed, freed by conn_bury */
	unsigned n, n_watchers;
	unsigned n_stalled;	      /* connections with a write deadline set */
	size_t out_bytes, out_max;    /* output buffers held by all; cap (0 = none) */
	uint64_t write_timeout_ms;    /* queued output must drain this fast */
	uint8_t *pool[CONN_POOL_MAX]; /* wiped CONN_POOL_BUF sodium buffers */
	size_t pool_n;
};

/* Register fd (EPOLLIN) as a new pending connection with a read deadline;
 * NULL on failure (fd left open for the caller). */
struct conn *conn_new(struct conn_set *cs, int fd, enum conn_kind kind);
/* Close fd, wipe and free the buffers, move c to the graveyard. */
void conn_close(struct conn_set *cs, struct conn *c);
/* Free the graveyard: call when no event of the batch can point at it. */
void conn_bury(struct conn_set *cs);
/* Close every connection and free the pool (shutdown). */
void conn_set_free(struct conn_set *cs);
void conn_pending_remove(struct conn_set *cs, struct conn *c);
/* Stop reading c (it waits for something else; hang-ups still arrive), and
 * start again with a fresh read deadline (conn_resume). */
void conn_pause(struct conn_set *cs, struct conn *c);
void conn_resume(struct conn_set *cs, struct conn *c);

/* The one frame reader. Reads what is available into c->rbuf (growing it
 * towards PROTO_HDR + max) and returns 1 when exactly one whole frame is
 * buffered (*ret_len = payload length), 0 to wait for more, or -EMSGSIZE
 * (prefix over max), -EBADMSG (bytes after the frame), -EPIPE (EOF inside a
 * frame), -ECONNRESET (EOF before any byte, or a read error), -ENOMEM. */
int conn_read_frame(struct conn *c, uint32_t max, uint32_t *ret_len);
/* Wipe and free the request bytes once decoded. */
void conn_wipe_request(struct conn *c);

/* Queuing output. conn_queue copies one encoded frame (no values: DENIED,
 * REVOKED, END, ERROR); frames that carry a value are encoded in place:
 * conn_reserve(need) then conn_commit(n). -ENOBUFS past CONN_MAX_WBUF;
 * -EBUSY when a buffer larger than the pooled size would take the output
 * held by all connections past cs->out_max (the caller answers busy). */
int conn_queue(struct conn_set *cs, struct conn *c, const uint8_t *frame, size_t n);
int conn_reserve(struct conn_set *cs, struct conn *c, size_t need, uint8_t **ret);
void conn_commit(struct conn *c, size_t n);
/* Write what is queued; closes the connection when done and closing, or on
 * a write error. 0, or -EPIPE when the connection was closed. */
int conn_flush(struct conn_set *cs, struct conn *c);
/* Staged output (watcher pushes, watch.c: every frame of a resync is built
 * before any is written, so no watcher is woken while the rest are still
 * being decided). conn_take_output moves what c has queued from offset
 * `from` (its wlen before the frames were queued) into dst (cap bytes; NULL
 * = discard), wiping it: the byte count, -ENOBUFS when it does not fit
 * (nothing taken), -EINVAL when part of it was written already.
 * conn_send writes n bytes to c after anything still queued: directly when
 * nothing is, the rest queued (EPOLLOUT, write deadline). 0, -EPIPE
 * (closed), or conn_queue's error. */
ssize_t conn_take_output(struct conn_set *cs, struct conn *c, size_t from, uint8_t *dst,
			 size_t cap);
int conn_send(struct conn_set *cs, struct conn *c, const uint8_t *p, size_t n);
/* Queue an ERROR frame, mark closing and flush. */
int conn_send_error(struct conn_set *cs, struct conn *c, uint16_t code, const char *reason);

/* Close every connection whose queued output did not drain by its write
 * deadline (a client that never reads cannot pin memory); returns how many
 * were closed. */
unsigned conn_expire_writes(struct conn_set *cs, uint64_t now);

/* The policy's view of the caller. */
void conn_identity(const struct conn *c, struct policy_identity *ret);
/* Audit one decision about c (c may be NULL or unattested); logs a failed
 * write and returns its -errno (a failed audit must deny). */
int conn_audit(struct audit *au, const struct conn *c, const char *rule, const char *secret,
	       uint64_t version, enum audit_decision d, const char *reason);

#endif
