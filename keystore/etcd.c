/* SPDX-License-Identifier: MIT */
/* etcd v3 JSON gateway client: store URL parsing, unary calls with endpoint
 * failover (libcurl, OpenSSL TLS with client certificates), and parsers for
 * the gateway's replies. Everything etcd sends is untrusted: replies are
 * capped before buffering and every field is type-checked. */
#include "etcd.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bodybuf.h"
#include "cleanup.h"

struct etcd {
	char *eps[ETCD_MAX_ENDPOINTS];
	size_t n;
	size_t cur; /* endpoint that answered last */
	char *cacert, *cert, *key;
	CURL *h;
};

/* ---------------------------------------------------------------- URL */

bool etcd_host_is_loopback(const char *host, size_t len)
{
	if (len == 9 && memcmp(host, "localhost", 9) == 0)
		return true;
	if (len == 5 && memcmp(host, "[::1]", 5) == 0)
		return true;
	if (len < 4 || memcmp(host, "127.", 4) != 0)
		return false;
	for (size_t i = 4; i < len; i++)
		if (!isdigit((unsigned char)host[i]) && host[i] != '.')
			return false;
	return true;
}

static bool host_ok(const char *h, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	if (h[0] == '[') {
		if (len < 3 || h[len - 1] != ']')
			return false;
		for (size_t i = 1; i < len - 1; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
				return false;
		return true;
	}
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return false;
	return true;
}

/* "HOST:PORT" of length len -> "scheme://HOST:PORT" */
static int endpoint_parse(const char *s, size_t len, bool plain, bool insecure_ok, char **ret)
{
	const char *colon = NULL;
	unsigned long port = 0;

	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (!colon || colon == s || (size_t)(s + len - colon) < 2 || (size_t)(s + len - colon) > 6)
		return -EINVAL;
	for (const char *p = colon + 1; p < s + len; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port == 0 || port > 65535 || !host_ok(s, (size_t)(colon - s)))
		return -EINVAL;
	if (plain && !insecure_ok && !etcd_host_is_loopback(s, (size_t)(colon - s)))
		return -ENOPROTOOPT;
	if (asprintf(ret, "%s://%.*s", plain ? "http" : "https", (int)len, s) < 0) {
		*ret = NULL; /* indeterminate after a failed asprintf; freed later */
		return -ENOMEM;
	}
	return 0;
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > ETCD_MAX_NAME || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && !strchr("._-", n[i]))
			return false;
	return true;
}

int etcd_url_parse(const char *url, bool insecure_ok, struct etcd_url *ret)
{
	struct etcd_url u = { 0 };
	const char *p, *slash;
	int r = 0;

	if (!url || strlen(url) > 4096)
		return -EINVAL;
	if (strncmp(url, "etcd://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "etcd+http://", 12) == 0)
		p = url + 12, u.plain = true;
	else
		return -EPROTONOSUPPORT;
	slash = strchr(p, '/');
	if (!slash || !name_ok(slash + 1))
		return -EINVAL;
	while (r == 0 && p < slash) {
		const char *c = memchr(p, ',', (size_t)(slash - p));
		const char *end = c ? c : slash;

		if (u.n == ETCD_MAX_ENDPOINTS)
			r = -E2BIG;
		else
			r = endpoint_parse(p, (size_t)(end - p), u.plain, insecure_ok,
					   &u.endpoints[u.n++]);
		if (r == 0 && u.endpoints[u.n - 1] == NULL)
			r = -EINVAL;
		p = c ? c + 1 : slash;
		if (r == 0 && c && p == slash)
			r = -EINVAL; /* trailing comma */
	}
	if (r == 0 && u.n == 0)
		r = -EINVAL;
	if (r < 0) {
		etcd_url_clear(&u);
		return r;
	}
	memcpy(u.name, slash + 1, strlen(slash + 1) + 1);
	*ret = u;
	return 0;
}

void etcd_url_clear(struct etcd_url *u)
{
	for (size_t i = 0; i < ETCD_MAX_ENDPOINTS; i++) {
		free(u->endpoints[i]);
		u->endpoints[i] = NULL;
	}
	u->n = 0;
}

/* ---------------------------------------------------------- pure parts */

char *etcd_b64(const void *buf, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);

	if (s)
		sodium_bin2base64(s, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int etcd_unb64(const char *s, size_t cap, char **ret, size_t *ret_len)
{
	size_t slen = strlen(s), n = 0;
	char *buf;

	if (slen / 4 * 3 > cap + 3)
		return -EFBIG;
	buf = malloc(slen / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)buf, slen / 4 * 3 + 3, s, slen, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n > cap) {
		free(buf);
		return n > cap ? -EFBIG : -EBADMSG;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

int etcd_int64(json_t *o, const char *field, int64_t *ret)
{
	json_t *v = json_object_get(o, field);
	const char *s;
	char *end;
	long long x;

	if (!v) {
		*ret = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		*ret = (int64_t)json_integer_value(v);
		return *ret < 0 ? -EBADMSG : 0;
	}
	s = json_string_value(v);
	if (!s || !*s || strlen(s) > 19)
		return -EBADMSG;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EBADMSG;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return -EBADMSG;
	*ret = x;
	return 0;
}

int etcd_error_errno(json_t *reply)
{
	int64_t code = 0;
	const char *msg = json_string_value(json_object_get(reply, "error"));

	if (!msg)
		msg = json_string_value(json_object_get(reply, "message"));
	if (etcd_int64(reply, "code", &code) < 0)
		return -EIO;
	if (msg && strstr(msg, "compacted"))
		return -ERANGE;
	switch (code) {
	case 3: return -EINVAL; /* INVALID_ARGUMENT */
	case 7:
	case 16: return -EACCES; /* PERMISSION_DENIED, UNAUTHENTICATED */
	case 11: return -ERANGE; /* OUT_OF_RANGE: compacted / future rev */
	case 4:
	case 14: return -EAGAIN; /* DEADLINE_EXCEEDED, UNAVAILABLE */
	default: return -EIO;
	}
}

char *etcd_name_to_seg(const char *name)
{
	size_t n = strlen(name), slashes = 0;
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		slashes += name[i] == '/';
	out = malloc(n + 2 * slashes + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '/') {
			memcpy(p, "%2F", 3);
			p += 3;
		} else {
			*p++ = name[i];
		}
	}
	*p = '\0';
	return out;
}

char *etcd_seg_to_name(const char *seg)
{
	char *out = malloc(strlen(seg) + 1), *p = out;

	if (!out)
		return NULL;
	while (*seg) {
		if (strncmp(seg, "%2F", 3) == 0) {
			*p++ = '/';
			seg += 3;
		} else {
			*p++ = *seg++;
		}
	}
	*p = '\0';
	return out;
}

void etcd_kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	if (kv->value)
		sodium_memzero(kv->value, kv->value_len);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

int etcd_kv_parse(json_t *kv, size_t value_cap, struct etcd_kv *ret)
{
	struct etcd_kv r = { 0 };
	const char *k = json_string_value(json_object_get(kv, "key"));
	json_t *jv = json_object_get(kv, "value");
	int e;

	if (!json_is_object(kv) || !k || (jv && !json_is_string(jv)))
		return -EBADMSG;
	e = etcd_unb64(k, 4096, &r.key, &r.key_len);
	if (e == 0)
		e = etcd_unb64(jv ? json_string_value(jv) : "", value_cap, &r.value, &r.value_len);
	if (e == 0)
		e = etcd_int64(kv, "mod_revision", &r.mod_revision);
	if (e == 0 && (r.mod_revision <= 0 || strlen(r.key) != r.key_len))
		e = -EBADMSG;
	if (e < 0) {
		etcd_kv_clear(&r);
		return e == -EFBIG ? -EBADMSG : e;
	}
	*ret = r;
	return 0;
}

int etcd_watch_parse(json_t *msg, struct etcd_watch_msg *ret)
{
	struct etcd_watch_msg m = { 0 };
	json_t *res = json_object_get(msg, "result");
	json_t *evs, *ev;
	size_t i;
	int r;

	if (!json_is_object(res))
		return json_object_get(msg, "error") ? etcd_error_errno(msg) : -EBADMSG;
	r = etcd_int64(json_object_get(res, "header"), "revision", &m.header_rev);
	if (r == 0)
		r = etcd_int64(res, "compact_revision", &m.compact_revision);
	if (r < 0)
		return r;
	m.created = json_is_true(json_object_get(res, "created"));
	m.canceled = json_is_true(json_object_get(res, "canceled"));
	evs = json_object_get(res, "events");
	if (evs && !json_is_array(evs))
		return -EBADMSG;
	json_array_foreach(evs, i, ev)
	{
		int64_t rev = 0;

		if (etcd_int64(json_object_get(ev, "kv"), "mod_revision", &rev) < 0)
			return -EBADMSG;
		if (rev > m.last_event_rev)
			m.last_event_rev = rev;
		m.n_events++;
	}
	*ret = m;
	return 0;
}

/* ------------------------------------------------------------- client */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d = s && *s ? strdup(s) : NULL;

	if (s && *s && !d)
		*fail = true;
	return d;
}

int etcd_new(const struct etcd_url *u, const struct etcd_tls *tls, struct etcd **ret)
{
	struct etcd *e = calloc(1, sizeof(*e));
	bool fail = false;

	if (!e)
		return -ENOMEM;
	(void)pthread_once(&curl_once, curl_init_once);
	for (size_t i = 0; i < u->n; i++)
		e->eps[e->n++] = dup_or_null(u->endpoints[i], &fail);
	if (tls) {
		e->cacert = dup_or_null(tls->cacert, &fail);
		e->cert = dup_or_null(tls->cert, &fail);
		e->key = dup_or_null(tls->key, &fail);
	}
	e->h = curl_easy_init();
	if (fail || !e->h) {
		etcd_free(e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

void etcd_free(struct etcd *e)
{
	if (!e)
		return;
	if (e->h)
		curl_easy_cleanup(e->h);
	for (size_t i = 0; i < e->n; i++)
		free(e->eps[i]);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e);
}

size_t etcd_n_endpoints(const struct etcd *e)
{
	return e->n;
}

const char *etcd_endpoint(const struct etcd *e, size_t i)
{
	return i < e->n ? e->eps[i] : NULL;
}

size_t etcd_current(const struct etcd *e)
{
	return e->cur;
}

static void set_common(struct etcd *e, CURL *h)
{
	/* NOSIGNAL stays off for unary calls: libcurl then ignores SIGPIPE
	 * around the transfer, so a member dying mid-write cannot kill the CLI
	 * (OpenSSL writes with plain send()). The resolver is threaded, so no
	 * SIGALRM is involved either way. */
	(void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	(void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* HTTP/1.1: over h2 a member refusing our client certificate (a TLS 1.3
	 * alert after the handshake) surfaced as a bare HTTP/2 reset, not told
	 * apart from a dead member; the gateway needs nothing from h2. */
	(void)curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	(void)curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	(void)curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	(void)curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	(void)curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (e->cacert)
		(void)curl_easy_setopt(h, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		(void)curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		(void)curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
}

void *etcd_curl_for(struct etcd *e, size_t i)
{
	CURL *h = curl_easy_init();

	if (h) {
		set_common(e, h);
		/* The watcher thread must not touch process-wide signal
		 * dispositions; its caller (keyholed) ignores SIGPIPE. */
		(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	}
	(void)i;
	return h;
}

/* TLS failures (certificate refused or unverifiable) are reported as such;
 * everything else that is not local means "this member did not answer". */
static bool is_tls_error(CURLcode c)
{
	return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_PEER_FAILED_VERIFICATION ||
	       c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CACERT_BADFILE ||
	       c == CURLE_SSL_CLIENTCERT;
}

/* One request to endpoint i. 0 + *ret on a 2xx JSON reply. */
static int call_one(struct etcd *e, size_t i, const char *path, const char *body, json_t **ret)
{
	cleanup_free char *url = NULL;
	struct bodybuf b = { .max = ETCD_MAX_REPLY };
	char err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	curl_off_t connected = 0;
	CURLcode c;
	json_t *j;
	int r;

	if (!hdr || asprintf(&url, "%s%s", e->eps[i], path) < 0) {
		url = NULL; /* indeterminate after a failed asprintf */
		curl_slist_free_all(hdr);
		return -ENOMEM;
	}
	curl_easy_reset(e->h);
	set_common(e, e->h);
	(void)curl_easy_setopt(e->h, CURLOPT_URL, url);
	(void)curl_easy_setopt(e->h, CURLOPT_HTTPHEADER, hdr);
	(void)curl_easy_setopt(e->h, CURLOPT_POSTFIELDS, body);
	(void)curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, 10000L);
	(void)curl_easy_setopt(e->h, CURLOPT_WRITEFUNCTION, bodybuf_write);
	(void)curl_easy_setopt(e->h, CURLOPT_WRITEDATA, &b);
	(void)curl_easy_setopt(e->h, CURLOPT_ERRORBUFFER, err);
	c = curl_easy_perform(e->h);
	curl_slist_free_all(hdr);
	(void)curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &code);
	(void)curl_easy_getinfo(e->h, CURLINFO_CONNECT_TIME_T, &connected);
	if (c != CURLE_OK) {
		bodybuf_free(&b);
		if (b.over)
			return -EBADMSG;
		if (c == CURLE_OUT_OF_MEMORY)
			return -ENOMEM;
		/* TLS 1.3 delivers "certificate required" after the handshake,
		 * as an alert or a reset: connected over https, dropped before
		 * any HTTP status means the member refused us. */
		if (is_tls_error(c) || strstr(err, "SSL") ||
		    (connected > 0 && code == 0 && strncmp(e->eps[i], "https:", 6) == 0))
			return -ECONNREFUSED;
		return -EHOSTUNREACH;
	}
	j = b.p ? json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	bodybuf_free(&b);
	if (!json_is_object(j)) {
		json_decref(j);
		return code >= 500 ? -EAGAIN : -EBADMSG;
	}
	if (code < 200 || code > 299) {
		r = etcd_error_errno(j);
		json_decref(j);
		return r;
	}
	*ret = j;
	return 0;
}

int etcd_call(struct etcd *e, const char *path, json_t *req, json_t **ret)
{
	cleanup_free char *body = json_dumps(req, JSON_COMPACT);
	int r = -EHOSTUNREACH, refused = 0;

	if (!body)
		return -ENOMEM;
	for (size_t k = 0; k < e->n; k++) {
		size_t i = (e->cur + k) % e->n;

		r = call_one(e, i, path, body, ret);
		if (r == -ECONNREFUSED)
			refused = r;
		if (r != -EHOSTUNREACH && r != -EAGAIN && r != -ECONNREFUSED) {
			e->cur = i;
			return r;
		}
	}
	return refused ? refused : -EHOSTUNREACH;
}
