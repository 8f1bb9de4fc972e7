/* SPDX-License-Identifier: MIT */
/* The agent socket: attest on accept (before a byte is read), rate-limit
 * per identity, identify a container caller, then read one capped REQUEST
 * and answer it with SECRET/DENIED per name and END (release.c). Nothing
 * the peer sends names who it is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "dispatch.h"
#include "identify.h"
#include "log.h"
#include "watch.h"

/* Refuse without keeping any state: used at the connection cap. */
static void refuse_now(int fd, uint16_t code, const char *reason)
{
	uint8_t buf[PROTO_HDR + 8 + PROTO_MAX_REASON];
	ssize_t n = proto_encode_error(buf, sizeof(buf), code, reason);

	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		log_debug("refusal not delivered");
	close(fd);
}

static void refuse(struct agent *a, struct conn *c, uint16_t code, const char *why)
{
	conn_audit(a->audit, c, NULL, NULL, 0, AUDIT_REFUSE, why);
	conn_send_error(&a->cs, c, code, why);
}

static bool host_root(const struct peer *p)
{
	return p->cg.runtime == RT_HOST && p->uid == 0;
}

/* Per-identity caps and the share of the global budget kept for root:
 * 0, or the connection was refused. */
static int admit(struct agent *a, struct conn *c, const char *key)
{
	unsigned reserve = a->o.max_conns / 16 ? a->o.max_conns / 16 : 1;
	bool root = host_root(&c->peer);
	char why[160];
	int r;

	if (!root && a->cs.n + reserve > a->o.max_conns) {
		refuse(a, c, PROTO_E_BUSY, "too many connections (the rest is kept for root)");
		return -EBUSY;
	}
	if (!rl_take(a->rl, key, clock_ms())) {
		refuse(a, c, PROTO_E_BUSY, "rate limited: too many connections from this identity");
		return -EBUSY;
	}
	r = rl_conn_get(a->rl, key, clock_ms(), root ? 0 : a->o.max_conns_ident, &c->ident);
	if (r < 0) {
		snprintf(why, sizeof(why), "too many connections from this identity (at most %u)",
			 a->o.max_conns_ident);
		refuse(a, c, PROTO_E_BUSY, r == -EBUSY ? why : "too many identities connected");
		return r;
	}
	return 0;
}

/* identify refused: BUSY when the kubelet does not list the container yet
 * (the shim retries), else DENIED. */
static uint16_t unidentified_code(int r)
{
	return r == -EAGAIN ? PROTO_E_BUSY : PROTO_E_DENIED;
}

void dispatch_accept(struct agent *a, int fd)
{
	struct conn *c;
	char key[96], why[200];
	int r;

	if (a->cs.n >= a->o.max_conns) {
		refuse_now(fd, PROTO_E_BUSY, "too many connections");
		return;
	}
	c = conn_new(&a->cs, fd, CONN_AGENT);
	if (!c) {
		close(fd);
		return;
	}
	r = peer_attest(fd, &c->peer);
	if (r < 0) {
		c->peer.pidfd = -1;
		snprintf(why, sizeof(why), "attestation failed: %s", strerror(-r));
		conn_audit(a->audit, NULL, NULL, NULL, 0, AUDIT_REFUSE, why);
		conn_send_error(&a->cs, c, PROTO_E_DENIED, why);
		return;
	}
	peer_identity_key(&c->peer, key, sizeof(key));
	if (admit(a, c, key) < 0)
		return;
	if (c->peer.cg.runtime == RT_HOST)
		return;
	r = identify_begin(&a->idf, c);
	if (r < 0) {
		refuse(a, c, unidentified_code(r), c->meta_err);
	} else if (r == 1) {
		conn_pause(&a->cs, c); /* the request is read once the engine or kubelet answered */
		if (identify_waits_on_kubelet(&a->idf, c))
			conn_pending_remove(&a->cs, c); /* bounded by --kubelet-timeout instead */
	}
}

void dispatch_identified(struct agent *a)
{
	identify_collect(&a->idf);
	for (struct conn *c = a->cs.head, *next; c; c = next) {
		next = c->next;
		if (!c->identifying)
			continue;
		int r = identify_resume(&a->idf, c);
		if (r < 0)
			refuse(a, c, unidentified_code(r), c->meta_err);
		else if (r == 0)
			conn_resume(&a->cs, c);
	}
	watch_identified(a);
}

void dispatch_expire(struct agent *a, uint64_t now)
{
	while (a->cs.phead && a->cs.phead->deadline_ms <= now) {
		struct conn *c = a->cs.phead;
		conn_pending_remove(&a->cs, c);
		if (c->identifying) { /* fail closed: the engine did not answer in time */
			c->identifying = false;
			refuse(a, c, PROTO_E_DENIED,
			       "container metadata: the engine did not answer in time");
		} else {
			conn_send_error(&a->cs, c, PROTO_E_BADMSG, "request not received in time");
		}
	}
}

/* One name from rq (or every grant for an ask-all request), skipping
 * repeats; NULL when i is a repeat. */
static const char *nth_name(const struct proto_request *rq, const struct policy_eval *ev, size_t i)
{
	if (!rq->n_names)
		return ev->grants[i].grant->secret;
	for (size_t j = 0; j < i; j++)
		if (strcmp(rq->names[j], rq->names[i]) == 0)
			return NULL;
	return rq->names[i];
}

/* Release every asked name into c's queue; *ret_held gets what c holds. */
static int release_all(struct agent *a, struct conn *c, const struct proto_request *rq,
		       const struct policy_eval *ev, struct held *held, size_t *ret_nh)
{
	size_t n = rq->n_names ? rq->n_names : ev->n_grants, nh = 0;
	uint32_t count = 0;
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *name = nth_name(rq, ev, i);
		if (!name)
			continue;
		r = release_secret(&a->rel, a->pol, c, ev, name, AUDIT_RELEASE, &held[nh]);
		if (r > 0)
			count += (uint32_t)r;
		if (held[nh].name[0])
			nh++;
	}
	*ret_nh = nh;
	return r < 0 ? r : release_end(&a->rel, c, count);
}

/* Append s to the NUL-terminated buf (size cap), cut on a character. */
static void append(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf), k;

	if (n + 1 >= cap)
		return;
	k = policy_utf8_prefix(s, cap - n - 1);
	memcpy(buf + n, s, k);
	buf[n + k] = '\0';
}

/* One deny line naming each rule's verdict, for a caller that asked for
 * everything it is granted and is granted nothing (the shim then exits 101
 * "no secret granted"). */
static void audit_nothing_granted(struct agent *a, struct conn *c, const struct policy_eval *ev)
{
	char why[PROTO_MAX_REASON + 1] = "nothing granted";

	for (size_t i = 0; i < ev->n_rules; i++) {
		append(why, sizeof(why), i ? "; rule " : " (rule ");
		append(why, sizeof(why), ev->rules[i].rule->name);
		append(why, sizeof(why), ": ");
		append(why, sizeof(why), ev->rules[i].why);
	}
	append(why, sizeof(why), ev->n_rules ? ")" : " (the policy has no rules)");
	a->rel.denied++;
	conn_audit(a->audit, c, NULL, NULL, 0, AUDIT_DENY, why);
}

static void process_request(struct agent *a, struct conn *c, const struct proto_request *rq)
{
	struct policy_identity id;
	struct policy_eval *ev = NULL;
	cleanup_free struct held *held = NULL;
	size_t nh = 0;
	int r;

	a->requests++;
	c->proto = rq->version;
	if (peer_check_alive(&c->peer) < 0) {
		conn_audit(a->audit, c, NULL, NULL, 0, AUDIT_REFUSE,
			   "caller exited before it was served (pid reuse defence)");
		conn_send_error(&a->cs, c, PROTO_E_DENIED, "caller identity no longer valid");
		return;
	}
	conn_identity(c, &id);
	if (policy_eval(a->pol, &id, &ev) < 0) {
		conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	if ((rq->flags & PROTO_F_WATCH) && (r = watch_admit(a, c, ev)) < 0) {
		policy_eval_free(ev);
		refuse(a, c, r == -EPERM ? PROTO_E_DENIED : PROTO_E_BUSY,
		       r == -EPERM ? "WATCH refused: nothing is granted to this caller"
				   : "too many watchers from this identity");
		return;
	}
	if (!rq->n_names && !ev->n_grants) /* an ask-all that matches nothing leaves a trace */
		audit_nothing_granted(a, c, ev);
	held = calloc((rq->n_names ? rq->n_names : ev->n_grants) + 1, sizeof(*held));
	r = held ? release_all(a, c, rq, ev, held, &nh) : -ENOMEM;
	policy_eval_free(ev);
	if (r == -EBUSY) {
		conn_send_error(&a->cs, c, PROTO_E_BUSY, "busy: too much output queued, retry");
		return;
	}
	if (r < 0) {
		conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "reply too large or out of memory");
		return;
	}
	if (rq->flags & PROTO_F_WATCH)
		r = watch_start(a, c, rq, held, nh);
	else
		c->closing = true;
	if (r < 0)
		conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "out of memory");
	else
		conn_flush(&a->cs, c);
}

/* After the request: a watcher only ever closes; bytes are a violation. */
static void watcher_readable(struct agent *a, struct conn *c)
{
	uint8_t b[64];
	ssize_t n = read(c->fd, b, sizeof(b));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		conn_send_error(&a->cs, c, PROTO_E_BADMSG, "unexpected data after the request");
	else
		conn_close(&a->cs, c);
}

/* A frame-reader failure: answer (or just close) and audit what matters. */
static void read_failed(struct agent *a, struct conn *c, int r)
{
	if (r == -EMSGSIZE)
		conn_send_error(&a->cs, c, PROTO_E_TOOBIG, "frame over the size cap");
	else if (r == -EBADMSG)
		conn_send_error(&a->cs, c, PROTO_E_BADMSG, "bytes after the request frame");
	else if (r == -EPIPE)
		conn_audit(a->audit, c, NULL, NULL, 0, AUDIT_REFUSE, "truncated request");
	if (r == -EPIPE || r == -ECONNRESET || r == -ENOMEM)
		conn_close(&a->cs, c);
}

void dispatch_readable(struct agent *a, struct conn *c)
{
	uint32_t len = 0;
	char why[96];
	int r;

	if (c->identifying) { /* paused: only a hang-up or an error gets here */
		conn_close(&a->cs, c);
		return;
	}
	if (!c->pending) {
		watcher_readable(a, c);
		return;
	}
	r = conn_read_frame(c, PROTO_MAX_REQUEST, &len);
	if (r <= 0) {
		if (r < 0)
			read_failed(a, c, r);
		return;
	}
	conn_pending_remove(&a->cs, c);
	r = proto_decode_request(c->rbuf + PROTO_HDR, len, &a->req);
	snprintf(why, sizeof(why), "malformed or unexpected message (type 0x%02x)",
		 c->rbuf[PROTO_HDR]);
	conn_wipe_request(c);
	if (r == -EPROTONOSUPPORT) {
		conn_send_error(&a->cs, c, PROTO_E_VERSION,
				"unsupported protocol version (want 1 or 2)");
		return;
	}
	if (r < 0) {
		refuse(a, c, PROTO_E_BADMSG, why);
		return;
	}
	process_request(a, c, &a->req);
}
