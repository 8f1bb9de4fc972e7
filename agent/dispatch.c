/* SPDX-License-Identifier: MIT */
/* The agent socket: attest on accept (before a byte is read), look the
 * container up in the engine and confirm the peer shares its pid namespace,
 * rate-limit per identity, then read one capped REQUEST and answer it with
 * SECRET/DENIED per name and END. Every decision is audited before the
 * frame that carries it is queued. Nothing the peer sends names who it is. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "agent.h"
#include "log.h"

/* Refuse without keeping any state: used at the connection cap. */
static void refuse_now(int fd, uint16_t code, const char *reason)
{
	uint8_t buf[PROTO_HDR + 8 + PROTO_MAX_REASON];
	ssize_t n = proto_encode_error(buf, sizeof(buf), code, reason);

	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		log_debug("refusal not delivered");
	close(fd);
}

static void rate_key(const struct peer *p, char *buf, size_t len)
{
	if (p->cg.runtime == RT_HOST)
		snprintf(buf, len, "host:uid:%u", (unsigned)p->uid);
	else
		snprintf(buf, len, "%s:%s", runtime_name(p->cg.runtime), p->cg.id);
}

/* Kubelet metadata for a pod's container. 0 (k8s or meta_err set), or
 * -EPERM (meta_err set) when the pod uid in its cgroup is not the pod's, or
 * -EAGAIN (meta_err set) when the kubelet does not list the container yet:
 * a container's first call usually comes before the kubelet's status has
 * caught up, so the caller is told to retry (BUSY), not denied. */
static int identify_k8s(struct agent *a, struct conn *c)
{
	const struct cg_identity *cg = &c->peer.cg;
	struct k8s_meta m;
	int r = kubelet_lookup(a->kube, cg->pod_uid, cg->id, &m);

	if (r == -EPERM) {
		snprintf(c->meta_err, sizeof(c->meta_err), "pod uid %.40s in the cgroup is not the "
			 "uid of the pod the kubelet lists container %.12s in", cg->pod_uid, cg->id);
		return -EPERM;
	}
	if (r == -ENOENT || r == -EAGAIN) {
		snprintf(c->meta_err, sizeof(c->meta_err), "the kubelet does not list container "
			 "%.12s (yet): retry", cg->id);
		return -EAGAIN;
	}
	if (r < 0)
		snprintf(c->meta_err, sizeof(c->meta_err), "kubelet %s: %s",
			 r == -EBADMSG ? "reply malformed" : r == -EACCES ? "refused our credentials"
			 : "unreachable", strerror(-r));
	if (r == 0 && !(c->k8s = malloc(sizeof(*c->k8s)))) {
		k8s_meta_clear(&m);
		snprintf(c->meta_err, sizeof(c->meta_err), "out of memory");
	} else if (r == 0) {
		*c->k8s = m;
	}
	return 0;
}

/* Engine metadata for a container peer. 0 (meta or meta_err set), or
 * -EPERM when the peer is not in the container's pid namespace. A pod's
 * container goes to the kubelet when there is one. */
int dispatch_identify(struct agent *a, struct conn *c)
{
	if (a->kube && c->peer.cg.pod_uid[0])
		return identify_k8s(a, c);
	if (!a->eng)
		return 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		int r = engine_inspect(a->eng, c->peer.cg.id, &c->meta);
		if (r == -ENOENT) {
			a->engine_ok = true;
			snprintf(c->meta_err, sizeof(c->meta_err), "container unknown to the engine");
			return 0;
		}
		if (r < 0) {
			a->engine_ok = r == -EBADMSG;
			snprintf(c->meta_err, sizeof(c->meta_err), "engine %s: %s",
				 r == -EBADMSG ? "reply malformed" : "unreachable", strerror(-r));
			return 0;
		}
		a->engine_ok = true;
		if (peer_same_pidns(c->peer.pid, c->meta.pid) == 1) {
			c->has_meta = true;
			return 0;
		}
		container_meta_clear(&c->meta);
		memset(&c->meta, 0, sizeof(c->meta));
		engine_forget(a->eng, c->peer.cg.id);
	}
	return -EPERM;
}

void dispatch_accept(struct agent *a, int fd)
{
	struct conn *c;
	char key[96], why[200];
	int r;

	if (a->n_conns >= a->o.max_conns) {
		refuse_now(fd, PROTO_E_BUSY, "too many connections");
		return;
	}
	c = conn_new(a, fd, CONN_AGENT);
	if (!c) {
		close(fd);
		return;
	}
	r = peer_attest(fd, &c->peer);
	if (r < 0) {
		c->peer.pidfd = -1;
		snprintf(why, sizeof(why), "attestation failed: %s", strerror(-r));
		agent_audit(a, NULL, NULL, NULL, 0, AUDIT_REFUSE, why);
		conn_send_error(a, c, PROTO_E_DENIED, why);
		return;
	}
	rate_key(&c->peer, key, sizeof(key));
	if (!rl_take(a->rl, key, clock_ms())) {
		agent_audit(a, c, NULL, NULL, 0, AUDIT_REFUSE, "rate limited");
		conn_send_error(a, c, PROTO_E_BUSY, "rate limited: too many connections from this "
				"identity");
		return;
	}
	if (c->peer.cg.runtime != RT_HOST && (a->eng || a->kube) &&
	    (r = dispatch_identify(a, c)) < 0) {
		if (r == -EAGAIN) { /* pod metadata not there yet: the shim retries BUSY */
			agent_audit(a, c, NULL, NULL, 0, AUDIT_REFUSE, c->meta_err);
			conn_send_error(a, c, PROTO_E_BUSY, c->meta_err);
			return;
		}
		if (c->meta_err[0])
			snprintf(why, sizeof(why), "%s", c->meta_err);
		else
			snprintf(why, sizeof(why), "peer is not in the pid namespace of container "
				 "%.12s", c->peer.cg.id);
		agent_audit(a, c, NULL, NULL, 0, AUDIT_REFUSE, why);
		conn_send_error(a, c, PROTO_E_DENIED, why);
	}
}

/* Opened secrets, kept (in sodium_malloc memory, as ks_get returns them)
 * until the store changes: unsealing (X25519) per fetch was a fifth of the
 * cost of a fresh-connection fetch. Flushed on every store reload that
 * changed something; small values only, bounded count. */
#define CACHE_N 256u
#define CACHE_MAX_VALUE (64u << 10)
static struct {
	char name[PROTO_MAX_NAME + 1];
	struct ks_secret *s;
} cache[CACHE_N];
static size_t cache_n;

void dispatch_cache_flush(void)
{
	for (size_t i = 0; i < cache_n; i++)
		ks_secret_free(cache[i].s);
	cache_n = 0;
}

/* Like ks_get(current) but cached; *ret_owned tells whether to free. */
static int get_secret(struct agent *a, const char *name, struct ks_secret **ret, bool *ret_owned)
{
	int r;

	for (size_t i = 0; i < cache_n; i++)
		if (strcmp(cache[i].name, name) == 0) {
			*ret = cache[i].s;
			*ret_owned = false;
			return 0;
		}
	r = ks_get(a->ks, name, 0, ret);
	if (r < 0)
		return r;
	*ret_owned = true;
	if (cache_n < CACHE_N && (*ret)->len <= CACHE_MAX_VALUE) {
		snprintf(cache[cache_n].name, sizeof(cache[cache_n].name), "%s", name);
		cache[cache_n++].s = *ret;
		*ret_owned = false;
	}
	return 0;
}

static int queue_denied(struct conn *c, const char *name, const char *reason)
{
	size_t need = PROTO_HDR + 5 + PROTO_MAX_NAME + PROTO_MAX_REASON;
	char why[PROTO_MAX_REASON + 1], nm[PROTO_MAX_NAME + 1];
	uint8_t *p;
	ssize_t n;
	int r = conn_reserve(c, need, &p);

	if (r < 0)
		return r;
	snprintf(why, sizeof(why), "%s", reason);
	snprintf(nm, sizeof(nm), "%s", name);
	n = proto_encode_denied(p, need, nm, why);
	if (n < 0)
		return (int)n;
	conn_commit(c, (size_t)n);
	return 1;
}

static int queue_secret(struct agent *a, struct conn *c, const struct policy_grant_ref *g,
			enum audit_decision ok, struct held *h)
{
	struct ks_secret *s = NULL;
	uint8_t *p;
	size_t need;
	ssize_t n;
	bool owned = false;
	int r = get_secret(a, g->grant->secret, &s, &owned);

	if (r == -ENOENT) {
		agent_audit(a, c, g->rule->name, g->grant->secret, 0, AUDIT_DENY, "not in store");
		return queue_denied(c, g->grant->secret, "not in store");
	}
	if (r < 0) {
		char why[128];
		snprintf(why, sizeof(why), "store error: %s", ks_strerror(r));
		agent_audit(a, c, g->rule->name, g->grant->secret, 0, AUDIT_DENY, why);
		return queue_denied(c, g->grant->secret, why);
	}
	need = proto_secret_frame_size(strlen(g->grant->secret), strlen(g->grant->file), s->len);
	r = conn_reserve(c, need, &p);
	if (r == 0 && agent_audit(a, c, g->rule->name, g->grant->secret, s->version, ok, NULL) < 0)
		r = -EIO;
	if (r == 0) {
		n = proto_encode_secret(p, need, g->grant->secret, s->version, g->grant->file,
					g->grant->mode, s->data, s->len);
		r = n < 0 ? (int)n : 0;
		if (n > 0)
			conn_commit(c, (size_t)n);
		h->version = s->version;
	}
	if (owned)
		ks_secret_free(s);
	if (r == -EIO)
		return queue_denied(c, g->grant->secret, "audit log unavailable");
	return r < 0 ? r : 1;
}

int dispatch_secret(struct agent *a, struct conn *c, const struct policy_eval *ev,
		    const char *name, enum audit_decision ok, struct held *ret_held)
{
	const struct policy_grant_ref *g;
	struct policy_identity id;
	char why[PROTO_MAX_REASON + 1];

	memset(ret_held, 0, sizeof(*ret_held));
	if (!proto_secret_name_valid(name)) {
		agent_audit(a, c, NULL, NULL, 0, AUDIT_DENY, "invalid secret name");
		return queue_denied(c, name, "invalid secret name");
	}
	g = policy_eval_find(ev, name);
	if (!g) {
		conn_identity(c, &id);
		policy_deny_reason(a->pol, ev, &id, name, why, sizeof(why));
		agent_audit(a, c, NULL, name, 0, AUDIT_DENY, why);
		a->denied++;
		return queue_denied(c, name, why);
	}
	snprintf(ret_held->name, sizeof(ret_held->name), "%s", g->grant->secret);
	snprintf(ret_held->file, sizeof(ret_held->file), "%s", g->grant->file);
	a->released++;
	return queue_secret(a, c, g, ok, ret_held);
}

static int queue_end(struct conn *c, uint32_t count)
{
	uint8_t *p;
	ssize_t n;
	int r = conn_reserve(c, PROTO_HDR + 5, &p);

	if (r < 0)
		return r;
	n = proto_encode_end(p, PROTO_HDR + 5, count);
	if (n < 0)
		return (int)n;
	conn_commit(c, (size_t)n);
	return 0;
}

static void handle_request(struct agent *a, struct conn *c, const struct proto_request *rq)
{
	struct policy_identity id;
	struct policy_eval *ev = NULL;
	struct held *held;
	size_t n = rq->n_names, nh = 0;
	uint32_t count = 0;
	int r = 0;

	a->requests++;
	if (peer_check_alive(&c->peer) < 0) {
		agent_audit(a, c, NULL, NULL, 0, AUDIT_REFUSE,
			    "caller exited before it was served (pid reuse defence)");
		conn_send_error(a, c, PROTO_E_DENIED, "caller identity no longer valid");
		return;
	}
	conn_identity(c, &id);
	if (policy_eval(a->pol, &id, &ev) < 0) {
		conn_send_error(a, c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	if (n == 0)
		n = ev->n_grants;
	held = calloc(n + 1, sizeof(*held));
	for (size_t i = 0; held && i < n && r >= 0; i++) {
		const char *name = rq->n_names ? rq->names[i] : ev->grants[i].grant->secret;
		bool dup = false;
		for (size_t j = 0; j < i && rq->n_names; j++)
			dup = dup || strcmp(rq->names[j], name) == 0;
		if (dup)
			continue;
		r = dispatch_secret(a, c, ev, name, AUDIT_RELEASE, &held[nh]);
		if (r > 0)
			count += (uint32_t)r;
		if (held[nh].name[0])
			nh++;
	}
	policy_eval_free(ev);
	if (!held || r < 0 || queue_end(c, count) < 0) {
		free(held);
		conn_send_error(a, c, PROTO_E_INTERNAL, "reply too large or out of memory");
		return;
	}
	if (rq->flags & PROTO_F_WATCH)
		r = watch_start(a, c, rq, held, nh);
	else
		c->closing = true;
	free(held);
	if (r < 0)
		conn_send_error(a, c, PROTO_E_INTERNAL, "out of memory");
	else
		conn_flush(a, c);
}

static void wipe_rbuf(struct conn *c)
{
	if (c->rbuf) /* only the bytes read: never touch (make resident) the rest */
		sodium_memzero(c->rbuf, c->rlen);
	free(c->rbuf);
	c->rbuf = NULL;
	c->rlen = c->rcap = 0;
}

/* After the request: a watcher only ever closes; bytes are a violation. */
static void watcher_readable(struct agent *a, struct conn *c)
{
	uint8_t b[64];
	ssize_t n = read(c->fd, b, sizeof(b));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		conn_send_error(a, c, PROTO_E_BADMSG, "unexpected data after the request");
	else
		conn_close(a, c);
}

/* Requests are small (a few names): start with RBUF_START bytes and grow
 * towards the cap only as bytes arrive, so 1000 idle watchers do not each
 * keep a 16 KiB buffer's pages resident. */
#define RBUF_START 512u

static int rbuf_grow(struct conn *c, size_t full)
{
	size_t cap = c->rcap ? c->rcap * 4 : RBUF_START;
	uint8_t *n;

	if (cap > full)
		cap = full;
	if (!(n = malloc(cap)))
		return -ENOMEM;
	if (c->rbuf) {
		memcpy(n, c->rbuf, c->rlen);
		sodium_memzero(c->rbuf, c->rlen);
		free(c->rbuf);
	}
	c->rbuf = n;
	c->rcap = cap;
	return 0;
}

/* Read, capped before decoding. Returns 1 when a whole frame is buffered,
 * 0 to wait, -1 when the connection was answered/closed. */
static int read_frame(struct agent *a, struct conn *c, uint32_t max, uint32_t *ret_len)
{
	const size_t full = PROTO_HDR + max;
	bool eof = false;
	int r;

	for (;;) {
		if (c->rlen == c->rcap) {
			if (c->rcap >= full)
				break;
			if (rbuf_grow(c, full) < 0) {
				conn_close(a, c);
				return -1;
			}
		}
		ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			eof = true;
			break;
		}
		c->rlen += (size_t)n;
		/* a whole frame (or an oversize prefix) decides: no EAGAIN read */
		if (proto_frame_check(c->rbuf, c->rlen, max, ret_len) != -EAGAIN)
			break;
	}
	r = proto_frame_check(c->rbuf, c->rlen, max, ret_len);
	if (r == -EMSGSIZE) {
		conn_send_error(a, c, PROTO_E_TOOBIG, "frame over the size cap");
		return -1;
	}
	if (r == 0 && c->rlen != PROTO_HDR + *ret_len) {
		conn_send_error(a, c, PROTO_E_BADMSG, "bytes after the request frame");
		return -1;
	}
	if (r == 0)
		return 1;
	if (eof) {
		if (c->rlen)
			agent_audit(a, c, NULL, NULL, 0, AUDIT_REFUSE, "truncated request");
		conn_close(a, c);
		return -1;
	}
	return 0;
}

void dispatch_readable(struct agent *a, struct conn *c)
{
	static struct proto_msg m; /* one thread; 16 KiB is too much for the stack */
	uint32_t len = 0;
	char why[96];

	if (c->kind == CONN_ADMIN) {
		admin_readable(a, c);
		return;
	}
	if (!c->pending) {
		watcher_readable(a, c);
		return;
	}
	if (read_frame(a, c, PROTO_MAX_REQUEST, &len) <= 0)
		return;
	conn_pending_remove(a, c);
	if (c->rbuf[PROTO_HDR] == PROTO_REQUEST && len >= 3 &&
	    ((c->rbuf[PROTO_HDR + 1] << 8) | c->rbuf[PROTO_HDR + 2]) != PROTO_VERSION) {
		wipe_rbuf(c);
		conn_send_error(a, c, PROTO_E_VERSION, "unsupported protocol version (want 1)");
		return;
	}
	if (proto_decode(c->rbuf + PROTO_HDR, len, &m) < 0 || m.type != PROTO_REQUEST) {
		snprintf(why, sizeof(why), "malformed or unexpected message (type 0x%02x)",
			 c->rbuf[PROTO_HDR]);
		wipe_rbuf(c);
		agent_audit(a, c, NULL, NULL, 0, AUDIT_REFUSE, why);
		conn_send_error(a, c, PROTO_E_BADMSG, why);
		return;
	}
	wipe_rbuf(c);
	handle_request(a, c, &m.u.request);
}
