/* SPDX-License-Identifier: MIT */
/* Pod metadata from the node's kubelet: GET /pods over HTTPS (libcurl +
 * OpenSSL, CA file, client certificate or service-account token). The
 * PodList is untrusted (pod names, labels, images and security contexts are
 * written by whoever may create pods): kubelet_json.c parses it, pure,
 * capped and fuzzed. The kubelet is trusted to tell which pod holds which
 * container; the pod uid in the caller's cgroup must agree with it. */
#ifndef KH_KUBELET_H
#define KH_KUBELET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

#define KUBELET_MAX_BODY (16u << 20) /* cap on one /pods reply */
#define K8S_MAX_PODS 1024u	     /* items in a PodList */
#define K8S_MAX_CONTAINERS 64u	     /* per container or status list of one pod */
#define K8S_MAX_VOLUMES 256u	     /* per pod */
#define K8S_MAX_LABELS 256u	     /* per pod */
#define K8S_MAX_LABEL_LEN 512u	     /* keys and values */
#define K8S_MAX_CAPS 64u	     /* securityContext.capabilities.add */
#define K8S_MAX_CAP_LEN 32u
#define K8S_MAX_PATH 4096u	 /* a hostPath volume's path */
#define KUBELET_TIMEOUT_MS 3000u /* default --kubelet-timeout */
#define KUBELET_MAX_TIMEOUT_S 300u

/* What the kubelet says about one container of one pod, plus the pod's
 * posture. Posture fields are the *effective* ones (container-level
 * securityContext over pod-level, Kubernetes defaults applied). */
struct k8s_meta {
	char pod_uid[CG_POD_UID_LEN + 1]; /* metadata.uid */
	char namespace[64];		  /* metadata.namespace */
	char pod_name[254];		  /* metadata.name */
	char service_account[254];	  /* spec.serviceAccountName ("" when absent) */
	char container_name[64];	  /* containerStatuses[].name */
	char container_id[CG_ID_LEN + 1]; /* the 64 hex after "<runtime>://" */
	enum kh_runtime runtime;	  /* from the containerID scheme */
	char image[512];		  /* spec.containers[].image */
	char image_id[512];		  /* containerStatuses[].imageID */
	bool init_container;		  /* found in initContainerStatuses */
	json_t *labels;			  /* object string->string; owned, never NULL */
	/* posture */
	bool privileged;		 /* securityContext.privileged */
	bool allow_privilege_escalation; /* unset counts as true, as Kubernetes does */
	bool has_run_as_user;
	int64_t run_as_user;  /* container, else pod securityContext */
	bool run_as_non_root; /* container, else pod securityContext */
	bool root;	      /* not proven non-root (see docs/kubernetes.md) */
	bool host_pid, host_network, host_ipc;
	json_t *caps_add;   /* array of upper-case names without CAP_; owned */
	json_t *host_paths; /* array of spec.volumes[].hostPath.path; owned */
};

/* Parse a /pods body (a PodList). Checks the envelope and caps the counts;
 * the pods themselves are checked when one is looked up, so one odd pod
 * cannot hide the others. 0 and *ret_items (a new reference to the items
 * array), or -EBADMSG. Pure: no syscalls. */
int kubelet_parse_pods(const char *body, size_t len, json_t **ret_items);

/* Find the container whose containerID is "<scheme>://<container_id>"
 * (containerd, cri-o, docker) in containerStatuses or initContainerStatuses
 * and fill *ret from its pod. 0, or
 *   -ENOENT  no pod lists that container
 *   -EPERM   it is listed by a pod whose metadata.uid is not pod_uid
 *   -EBADMSG that pod is malformed or over a cap, or two pods list the id.
 * On success the caller owns ret's json (k8s_meta_clear). Pure. */
int kubelet_find(const json_t *items, const char *pod_uid, const char *container_id,
		 struct k8s_meta *ret);

void k8s_meta_clear(struct k8s_meta *m);
/* Clear and free a heap k8s_meta; NULL is fine. */
void k8s_meta_free(struct k8s_meta *m);
/* Deep copy (json ref-copied). */
void k8s_meta_copy(struct k8s_meta *dst, const struct k8s_meta *src);
/* The identity as a JSON object for explain (new reference, or NULL). */
json_t *k8s_meta_json(const struct k8s_meta *m);

/* ---- the client (kubelet.c) ---- */

struct kubelet_opts {
	const char *url;	/* https://HOST:10250, or http://HOST:10255 with insecure */
	const char *cacert;	/* PEM CA bundle for the kubelet's serving certificate */
	const char *cert, *key; /* client certificate and key (PEM) */
	const char *token_file; /* bearer token, re-read on every fetch (rotation) */
	bool insecure;		/* allow the plain-HTTP read-only port */
	unsigned timeout_ms;	/* one GET /pods, all of it; 0 = KUBELET_TIMEOUT_MS */
};

struct kubelet;

/* Checks the options (one-line reason in err): -EINVAL. The files are read
 * on every fetch, so a rotated certificate or token is picked up. */
int kubelet_new(const struct kubelet_opts *o, struct kubelet **ret, char *err, size_t errlen);
void kubelet_free(struct kubelet *k);
const char *kubelet_url(const struct kubelet *k);

/* One GET /pods, parsed (kubelet_parse_pods). Blocking, bounded by the
 * timeout: keyholed calls it on its kubelet lookup thread (lookup.c), and
 * for explain on a second client. Not thread-safe: one thread per client.
 * 0 and *ret_items (a new reference), or
 *   -EACCES  the kubelet refused our credentials (401/403)
 *   -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH / -EPROTO (TLS)  unreachable
 *   -EBADMSG bad reply. */
int kubelet_fetch(struct kubelet *k, json_t **ret_items);

/* ---- the pod cache (kubelet_cache.c): one owner, keyholed's loop ---- */

#define KUBELET_TTL_MS 30000u	      /* labels can change */
#define KUBELET_MIN_INTERVAL_MS 1000u /* between two refreshes */
#define KUBELET_BACKOFF_MIN_MS 1000u  /* after a failed refresh, doubling */
#define KUBELET_BACKOFF_MAX_MS 30000u

/* The last pod list and how the last refresh went. Zero-initialised is
 * empty. Pure: the caller passes the time (clock_ms). */
struct kubelet_cache {
	json_t *items;	     /* the last list read, or NULL */
	uint64_t fetched_ms; /* when items was read */
	uint64_t tried_ms;   /* when the last refresh ended (0 = never) */
	uint64_t backoff_ms; /* after a failure: no refresh before tried_ms + backoff_ms */
	int last_err;	     /* of the last refresh; 0 = it worked */
};

/* What the cache says about container_id of pod pod_uid at now:
 *   0 and *ret (caller clears), -EPERM, -EBADMSG: kubelet_find's answer
 *     from a list younger than KUBELET_TTL_MS;
 *   -ENOENT  not listed, and the list was refreshed less than
 *            KUBELET_MIN_INTERVAL_MS ago (not yet listed: retry shortly);
 *   the last refresh's error, within its backoff (fail closed at once);
 *   -EINPROGRESS  a refresh is due: fetch, kubelet_cache_put, ask again;
 *   -EINVAL  not a pod uid and a container id. */
int kubelet_cache_find(const struct kubelet_cache *kc, const char *pod_uid,
		       const char *container_id, uint64_t now, struct k8s_meta *ret);
/* A refresh ended at now after took_ms: rc 0 takes items (the reference);
 * an error is remembered, and no refresh is due again before a backoff of
 * 1 s doubling to 30 s, and never before as long again as the failed one
 * took (a hung kubelet is asked at most half the time). */
void kubelet_cache_put(struct kubelet_cache *kc, int rc, json_t *items, uint64_t took_ms,
		       uint64_t now);
/* The last refresh worked (for status). */
bool kubelet_cache_ok(const struct kubelet_cache *kc);
void kubelet_cache_clear(struct kubelet_cache *kc);

/* ---- cgroup namespace (kubelet_cgns.c) ---- */

/* Make sure /proc/PID/cgroup reads show host paths: 0 when this process is
 * in the initial cgroup namespace, or after joining pid 1's (with hostPID,
 * the node's init; *ret_joined says so). Otherwise -errno and a one-line
 * reason in err. Call before starting threads. */
int kubelet_host_cgroupns(bool *ret_joined, char *err, size_t errlen);

#endif
