/* SPDX-License-Identifier: MIT */
/* keyholed's state, owned by main and handed down: options, the store,
 * the policy, the audit log, the engine client, the rate limiter, the
 * connections and the release cache. Only the event loop and the modules
 * it routes to (dispatch, admin, watch, reload) see struct agent; the
 * modules below them take the parts they need. The event loop is one
 * thread; helpers run beside it, each behind an fd the loop polls: the
 * engine and the kubelet lookup threads (lookup.c, results through one
 * eventfd) and, for an etcd store, keystore/'s watch thread (ks_watch_fd).
 * docs/agent.md has the picture. */
#ifndef KH_AGENT_H
#define KH_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct watch_round;

#include "audit.h"
#include "conn.h"
#include "engine.h"
#include "identify.h"
#include "keystore.h"
#include "kubelet.h"
#include "policy.h"
#include "proto.h"
#include "ratelimit.h"
#include "release.h"

#define AGENT_DEFAULT_MAX_CONNS 4096u
#define AGENT_DEFAULT_RATE 100u /* new connections/s per identity */
#define AGENT_DEFAULT_BURST 200u
#define AGENT_DEFAULT_WRITE_TIMEOUT_S 10u   /* a reply must drain this fast */
#define AGENT_DEFAULT_MAX_OUTPUT_MB 32u	    /* output queued for all clients */
#define AGENT_AUDIT_LOW_BYTES (64ull << 20) /* warn below this free, or 5 % */
#define AGENT_SPACE_CHECK_MS 30000u

struct agent_opts {
	const char *store, *key_file, *policy, *socket, *admin_socket, *audit, *engine;
	const char *writers, *state; /* trust file, rollback state (keystore.h) */
	int passphrase_fd;
	unsigned max_conns, rate, burst;
	unsigned max_conns_ident, max_watch_ident; /* per identity; 0 = default */
	unsigned write_timeout_s, max_output_mb;
	bool debug;
	struct kubelet_opts kube; /* --kubelet*: kube.url NULL = none */
};

struct agent {
	struct agent_opts o;
	struct {
		char *store, *key_file, *admin_socket; /* absolute (realpath), or NULL */
	} paths;
	int lfd, afd, sigfd, ksfd;
	struct ks_store *ks;
	struct policy *pol;
	struct audit *audit;
	struct engine *eng;	  /* the lookup thread's client (through idf) */
	struct engine *eng_admin; /* explain's own client, on the loop thread */
	struct identify idf;
	struct kubelet *kube;	    /* the kubelet lookup thread's client (through idf) */
	struct kubelet *kube_admin; /* explain's own client, on the loop thread */
	struct rl_table *rl;
	struct conn_set cs;
	struct release rel;
	struct proto_request req; /* the one decoded request (16 KiB): one thread */
	time_t started;
	uint64_t requests;
	int store_err; /* last store reload failed with this -errno (0 = fresh) */
	time_t store_err_since;
	const char *resync;	   /* set: watchers are resynced after this batch (why) */
	struct watch_round *watch; /* watch.c: a resync waiting for identities */
	bool audit_pending;	   /* aggregated audit counts wait for their summary */
	bool audit_low;		   /* little free space under the audit log */
	uint64_t audit_free;	   /* bytes free there at the last check */
	uint64_t next_space_ms;
	bool stop;
};

#endif
