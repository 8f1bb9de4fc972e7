/* SPDX-License-Identifier: MIT */
/* keyholed's shared state: the daemon, its connections, and the calls
 * between loop.c (epoll), conn.c (buffers), dispatch.c (requests),
 * watch.c (pushes), admin.c (admin socket) and ratelimit.c. Everything runs
 * on one thread; nothing here is locked. docs/agent.md has the picture. */
#ifndef KH_AGENT_H
#define KH_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "audit.h"
#include "engine.h"
#include "keystore.h"
#include "kubelet.h"
#include "peer.h"
#include "policy.h"
#include "proto.h"

#define AGENT_READ_TIMEOUT_MS 5000u   /* a request must arrive this fast */
#define AGENT_MAX_WBUF (8u << 20)     /* pending output per connection */
#define AGENT_DEFAULT_MAX_CONNS 4096u
#define AGENT_DEFAULT_RATE 100u       /* new connections/s per identity */
#define AGENT_DEFAULT_BURST 200u

struct agent_opts {
	const char *store, *key_file, *policy, *socket, *admin_socket, *audit, *engine;
	int passphrase_fd;
	unsigned max_conns, rate, burst;
	bool debug;
	struct kubelet_opts kube; /* --kubelet*: kube.url NULL = none */
};

enum conn_kind { CONN_AGENT, CONN_ADMIN };

/* A secret a watcher holds (what it was last sent). */
struct held {
	char name[PROTO_MAX_NAME + 1];
	char file[PROTO_MAX_NAME + 1];
	uint64_t version; /* 0 = granted but not (yet) in the store */
};

struct conn {
	struct conn *prev, *next;         /* all connections */
	struct conn *pprev, *pnext;       /* pending (deadline) FIFO */
	int fd;
	enum conn_kind kind;
	bool pending, watching, closing, dead;
	bool out_armed; /* EPOLLOUT currently requested */
	uint64_t deadline_ms;
	struct peer peer;
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
};

struct rl_table;

struct agent {
	struct agent_opts o;
	int epfd, lfd, afd, sigfd, ksfd;
	struct ks_store *ks;
	struct policy *pol;
	struct audit *audit;
	struct engine *eng;
	struct kubelet *kube;
	struct rl_table *rl;
	struct conn *conns;
	struct conn *phead, *ptail;
	struct conn *graveyard; /* closed, freed after the epoll batch */
	unsigned n_conns, n_watchers;
	time_t started;
	uint64_t requests, released, denied;
	bool engine_ok; /* last engine call reached it */
	int store_err;  /* last store reload failed with this -errno (0 = fresh) */
	time_t store_err_since;
	bool stop;
};

int agent_audit(struct agent *a, const struct conn *c, const char *rule, const char *secret,
		 uint64_t version, enum audit_decision d, const char *reason);
void conn_identity(const struct conn *c, struct policy_identity *ret);
/* Reload the policy file; 0, or -errno with err filled (old policy kept). */
int agent_reload_policy(struct agent *a, char *err, size_t errlen);

/* loop.c */
int loop_init(struct agent *a);
void loop_run(struct agent *a);

/* listen.c */
int listen_unix(const char *path, unsigned mode, int backlog);

/* conn.c */
struct conn *conn_new(struct agent *a, int fd, enum conn_kind kind);
void conn_close(struct agent *a, struct conn *c);
/* Queue a frame built by enc into the sodium buffer; -errno on failure. */
int conn_reserve(struct conn *c, size_t need, uint8_t **ret);
void conn_commit(struct conn *c, size_t n);
int conn_flush(struct agent *a, struct conn *c);
int conn_send_error(struct agent *a, struct conn *c, uint16_t code, const char *reason);
void conn_pending_remove(struct agent *a, struct conn *c);

/* dispatch.c */
void dispatch_accept(struct agent *a, int fd);
void dispatch_readable(struct agent *a, struct conn *c);
/* Engine or kubelet metadata for a container peer (sets c->meta, c->k8s or
 * c->meta_err); 0, or -EPERM when the peer is not in the container's pid
 * namespace or its cgroup's pod uid is not the pod's, or -EAGAIN when the
 * kubelet does not list the pod's container yet (c->meta_err says). */
int dispatch_identify(struct agent *a, struct conn *c);
/* Drop the opened-secret cache (after a store change). */
void dispatch_cache_flush(void);
/* Append one secret (SECRET or DENIED) to c's batch; returns 1 if a frame
 * was queued, 0 if nothing, -errno. */
int dispatch_secret(struct agent *a, struct conn *c, const struct policy_eval *ev,
		    const char *name, enum audit_decision ok, struct held *ret_held);

/* watch.c */
int watch_start(struct agent *a, struct conn *c, const struct proto_request *rq,
		const struct held *held, size_t n_held);
void watch_resync_all(struct agent *a, const char *why);

/* admin.c */
void admin_accept(struct agent *a, int fd);
void admin_readable(struct agent *a, struct conn *c);

/* ratelimit.c: token bucket per identity key; true = allowed. */
struct rl_table *rl_new(unsigned rate, unsigned burst);
void rl_free(struct rl_table *t);
bool rl_take(struct rl_table *t, const char *key, uint64_t now_ms);

#endif
