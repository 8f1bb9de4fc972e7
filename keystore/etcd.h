/* SPDX-License-Identifier: MIT */
/* Minimal client for etcd v3's JSON gateway (/v3/kv/range, /v3/kv/txn,
 * /v3/watch) over libcurl, used by the etcd keystore backend. Replies are
 * untrusted: every field is type-checked and size-capped. The pure parts
 * (store URL, reply fields, base64) do no I/O so unit tests drive them.
 * All functions return 0 or a negative errno and never log. */
#ifndef KH_KS_ETCD_H
#define KH_KS_ETCD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS 16u
#define ETCD_MAX_NAME 64u	   /* store name in the URL path */
#define ETCD_MAX_REPLY (64u << 20) /* one unary reply */
#define ETCD_MAX_WATCH_MSG (16u << 20)

/* A parsed store URL:
 *   etcd://HOST:PORT[,HOST:PORT...]/NAME       (https)
 *   etcd+http://HOST:PORT[,...]/NAME           (plain http)
 * HOST is an IPv4 address, a DNS name or [IPv6]. Plain http is refused
 * (-ENOPROTOOPT) for a non-loopback host unless insecure_ok. */
struct etcd_url {
	char *endpoints[ETCD_MAX_ENDPOINTS]; /* "https://HOST:PORT" */
	size_t n;
	char name[ETCD_MAX_NAME + 1];
	bool plain;
};
int etcd_url_parse(const char *url, bool insecure_ok, struct etcd_url *ret);
void etcd_url_clear(struct etcd_url *u);
bool etcd_host_is_loopback(const char *host, size_t len);

/* Client certificates; NULL fields are not set (system CA store). */
struct etcd_tls {
	const char *cacert;
	const char *cert;
	const char *key;
};

struct etcd;
/* Copies endpoints and TLS paths. */
int etcd_new(const struct etcd_url *u, const struct etcd_tls *tls, struct etcd **ret);
void etcd_free(struct etcd *e);
/* POST req (JSON) to path on the current endpoint, moving to the next one
 * on transport errors or an unavailable member. *ret = parsed reply object.
 * Errors: -EHOSTUNREACH (no member answered), -ECONNREFUSED (TLS refused,
 * e.g. no client certificate), -ERANGE (revision compacted), -EACCES,
 * -EINVAL, -EBADMSG (malformed reply), -EIO. */
int etcd_call(struct etcd *e, const char *path, json_t *req, json_t **ret);
/* Set up a curl easy handle for endpoint i (TLS options, timeouts,
 * CURLOPT_NOSIGNAL: the process must ignore SIGPIPE); used by the watcher
 * thread for its own streaming handle. Returns a CURL *. */
void *etcd_curl_for(struct etcd *e, size_t i);
size_t etcd_n_endpoints(const struct etcd *e);
const char *etcd_endpoint(const struct etcd *e, size_t i);
size_t etcd_current(const struct etcd *e);

/* ---- pure helpers */
/* Standard base64 (what the gateway uses for bytes fields); malloc'd. */
char *etcd_b64(const void *buf, size_t len);
/* Decode into malloc'd buf (+1 NUL not counted), at most cap bytes. */
int etcd_unb64(const char *s, size_t cap, char **ret, size_t *ret_len);
/* Record name <-> key segment under records/: each '/' is "%2F", so a name
 * is always one segment. Names never hold '%' (proto_secret_name_valid), so
 * this is one-to-one; a key with any other '%' decodes to a name format.c
 * refuses. malloc'd, NULL on ENOMEM. */
char *etcd_name_to_seg(const char *name);
char *etcd_seg_to_name(const char *seg);
/* The gateway writes int64 as a JSON string; absent means 0. */
int etcd_int64(json_t *o, const char *field, int64_t *ret);
/* Error reply {"error"|"message", "code"} -> -errno. */
int etcd_error_errno(json_t *reply);
/* One key-value from a range reply: key and value decoded (value capped). */
struct etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t mod_revision;
};
int etcd_kv_parse(json_t *kv, size_t value_cap, struct etcd_kv *ret);
void etcd_kv_clear(struct etcd_kv *kv);
/* One streamed watch message {"result": {...}} (or {"error": ...}). */
struct etcd_watch_msg {
	int64_t header_rev;
	int64_t compact_revision;
	int64_t last_event_rev; /* 0 without events */
	size_t n_events;
	bool created;
	bool canceled;
};
int etcd_watch_parse(json_t *msg, struct etcd_watch_msg *ret);

#endif
