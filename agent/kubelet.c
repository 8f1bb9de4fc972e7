/* SPDX-License-Identifier: MIT */
/* Kubelet client: GET <url>/pods with libcurl over TLS (the kubelet's CA,
 * a client certificate or a service-account bearer token), a timeout
 * (--kubelet-timeout), a capped body, parsed by kubelet_json.c. No state
 * beyond the options and one curl handle: the pod cache is the loop's
 * (kubelet_cache.c). Blocking: keyholed runs it on a lookup thread. The
 * kubelet is trusted about which pod holds which container. */
#include "bodybuf.h"
#include "kubelet.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

#define KUBELET_CONNECT_TIMEOUT_MS 1000L
#define KUBELET_MAX_TOKEN 16384u
#define KUBELET_MAX_URL 400u

struct kubelet {
	char url[KUBELET_MAX_URL + 8]; /* base URL + "/pods" */
	char *cacert, *cert, *key, *token_file;
	bool insecure;
	long timeout_ms;
	CURL *curl; /* one thread's: see kubelet_fetch */
};

__attribute__((format(printf, 3, 4))) static int kerr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (len)
		vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool url_ok(const char *u, bool insecure)
{
	size_t n = strlen(u);

	if (n > KUBELET_MAX_URL ||
	    !(strncmp(u, "https://", 8) == 0 || (insecure && strncmp(u, "http://", 7) == 0)))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f || u[i] == '?' || u[i] == '#')
			return false;
	u = strstr(u, "://") + 3;
	return *u && *u != '/'; /* a host */
}

static int check_file(const char *opt, const char *path, char *err, size_t len)
{
	if (path && access(path, R_OK) < 0)
		return kerr(err, len, "%s %s: %s", opt, path, strerror(errno));
	return 0;
}

static int check_opts(const struct kubelet_opts *o, char *err, size_t len)
{
	int r;

	if (!o->url || !url_ok(o->url, o->insecure))
		return kerr(err, len,
			    "--kubelet '%.64s': want https://HOST:10250 (http://HOST:10255, "
			    "the read-only port, only with --kubelet-insecure)",
			    o->url ? o->url : "");
	if (o->timeout_ms > KUBELET_MAX_TIMEOUT_S * 1000u)
		return kerr(err, len, "--kubelet-timeout: at most %u s", KUBELET_MAX_TIMEOUT_S);
	if (!o->cert != !o->key)
		return kerr(err, len, "--kubelet-cert and --kubelet-key go together");
	if (strncmp(o->url, "http://", 7) == 0 && (o->cert || o->token_file || o->cacert))
		return kerr(err, len,
			    "--kubelet %s is plain HTTP: credentials and a CA make no "
			    "sense there (use https://HOST:10250)",
			    o->url);
	if ((r = check_file("--kubelet-cacert", o->cacert, err, len)) < 0 ||
	    (r = check_file("--kubelet-cert", o->cert, err, len)) < 0 ||
	    (r = check_file("--kubelet-key", o->key, err, len)) < 0 ||
	    (r = check_file("--kubelet-token-file", o->token_file, err, len)) < 0)
		return r;
	return 0;
}

static char *xdup(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

int kubelet_new(const struct kubelet_opts *o, struct kubelet **ret, char *err, size_t errlen)
{
	struct kubelet *k;
	bool oom = false;
	size_t n;
	int r = check_opts(o, err, errlen);

	if (r < 0)
		return r;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	k = calloc(1, sizeof(*k));
	if (!k) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	n = strlen(o->url) - (o->url[strlen(o->url) - 1] == '/'); /* <= KUBELET_MAX_URL */
	memcpy(k->url, o->url, n);
	memcpy(k->url + n, "/pods", sizeof("/pods"));
	k->cacert = xdup(o->cacert, &oom);
	k->cert = xdup(o->cert, &oom);
	k->key = xdup(o->key, &oom);
	k->token_file = xdup(o->token_file, &oom);
	k->insecure = o->insecure;
	k->timeout_ms = o->timeout_ms ? (long)o->timeout_ms : (long)KUBELET_TIMEOUT_MS;
	k->curl = curl_easy_init();
	if (oom || !k->curl) {
		kubelet_free(k);
		return -ENOMEM;
	}
	*ret = k;
	return 0;
}

void kubelet_free(struct kubelet *k)
{
	if (!k)
		return;
	free(k->cacert);
	free(k->cert);
	free(k->key);
	free(k->token_file);
	if (k->curl)
		curl_easy_cleanup(k->curl);
	free(k);
	curl_global_cleanup();
}

const char *kubelet_url(const struct kubelet *k)
{
	return k->url;
}

/* The token file (a projected service-account token is rotated: read it
 * on every fetch) into sodium_malloc memory, trailing newline dropped. */
static int read_token(const char *path, char **ret)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *t;
	ssize_t n;

	if (fd < 0)
		return -errno;
	t = sodium_malloc(KUBELET_MAX_TOKEN + 1);
	if (!t)
		return -ENOMEM;
	n = read(fd, t, KUBELET_MAX_TOKEN + 1);
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	if (n <= 0 || (size_t)n > KUBELET_MAX_TOKEN) {
		sodium_free(t);
		return n < 0 ? -errno : -EBADMSG;
	}
	t[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f) {
			sodium_free(t);
			return -EBADMSG; /* not a bearer token */
		}
	*ret = t;
	return 0;
}

static int curl_errno(CURLcode c, const struct bodybuf *b)
{
	if (c == CURLE_OK)
		return 0;
	if (c == CURLE_COULDNT_CONNECT)
		return -ECONNREFUSED;
	if (c == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	if (c == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	if (c == CURLE_WRITE_ERROR || c == CURLE_FILESIZE_EXCEEDED)
		return b->over || c == CURLE_FILESIZE_EXCEEDED ? -EBADMSG : -ENOMEM;
	/* TLS: the kubelet's certificate, or ours, was not accepted */
	if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
	    c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SSL_CLIENTCERT)
		return -EPROTO;
	return -EHOSTUNREACH;
}

static int set_tls(struct kubelet *k, const char *token)
{
	CURL *c = k->curl;

	if ((k->cacert && curl_easy_setopt(c, CURLOPT_CAINFO, k->cacert) != CURLE_OK) ||
	    (k->cert && (curl_easy_setopt(c, CURLOPT_SSLCERT, k->cert) != CURLE_OK ||
			 curl_easy_setopt(c, CURLOPT_SSLKEY, k->key) != CURLE_OK)) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK)
		return -ENOMEM;
	if (token && (curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) != CURLE_OK ||
		      curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, token) != CURLE_OK))
		return -ENOMEM;
	return 0;
}

/* One GET /pods; the body in b (caller frees), the status in *ret_code. */
static int http_get(struct kubelet *k, const char *token, struct bodybuf *b, long *ret_code)
{
	CURL *c = k->curl;
	CURLcode cc;

	curl_easy_reset(c);
	if (curl_easy_setopt(c, CURLOPT_URL, k->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, k->insecure ? "http,https" : "https") !=
		    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK || /* never an env proxy */
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, k->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			     k->timeout_ms < KUBELET_CONNECT_TIMEOUT_MS
				     ? k->timeout_ms
				     : KUBELET_CONNECT_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)KUBELET_MAX_BODY) !=
		    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bodybuf_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, b) != CURLE_OK || set_tls(k, token) < 0)
		return -ENOMEM;
	cc = curl_easy_perform(c);
	/* curl keeps its copy of the token until reset: drop it now */
	(void)curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, NULL);
	if (cc != CURLE_OK)
		return curl_errno(cc, b);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_code) != CURLE_OK)
		return -EHOSTUNREACH;
	return 0;
}

int kubelet_fetch(struct kubelet *k, json_t **ret_items)
{
	struct bodybuf b = { .max = KUBELET_MAX_BODY };
	char *token = NULL;
	long code = 0;
	int r;

	if (k->token_file && (r = read_token(k->token_file, &token)) < 0)
		return r == -EBADMSG ? -EACCES : r;
	r = http_get(k, token, &b, &code);
	if (token)
		sodium_free(token);
	if (r == 0 && (code == 401 || code == 403))
		r = -EACCES;
	else if (r == 0 && code != 200)
		r = -EBADMSG;
	else if (r == 0)
		r = kubelet_parse_pods(b.p ? b.p : "", b.len, ret_items);
	bodybuf_free(&b);
	return r;
}
