/* SPDX-License-Identifier: MIT */
/* Engine client: GET /containers/<id>/json over the engine's unix socket
 * with libcurl (short timeouts, capped body), parsed by engine_json.c, and
 * a small per-id cache. The engine is trusted to tell the truth about its
 * containers; the container-controlled fields in its reply are not. */
#include "bodybuf.h"
#include "clock.h"
#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "cleanup.h"
#include "text.h"

#define ENGINE_CACHE_MAX 1024u
#define ENGINE_CACHE_TTL_S 30 /* names can change (docker rename) */
#define ENGINE_TIMEOUT_MS 2000L
#define ENGINE_CONNECT_TIMEOUT_MS 1000L

struct cache_entry {
	struct container_meta meta;
	time_t fetched; /* CLOCK_MONOTONIC seconds */
};

struct engine {
	char url[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	const char *sock; /* points into url */
	CURL *curl;
	struct cache_entry *cache;
	size_t ncache;
};

int engine_new(const char *url, struct engine **ret)
{
	struct engine *e;
	size_t n = strlen(url);

	if (strncmp(url, "unix://", 7) != 0 || url[7] != '/' ||
	    n - 7 >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	memcpy(e->url, url, n + 1);
	e->sock = e->url + 7;
	e->curl = curl_easy_init();
	if (!e->curl) {
		free(e);
		curl_global_cleanup();
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->ncache; i++)
		container_meta_clear(&e->cache[i].meta);
	free(e->cache);
	curl_easy_cleanup(e->curl);
	free(e);
	curl_global_cleanup();
}

const char *engine_url(const struct engine *e)
{
	return e->url;
}

static int curl_errno(CURLcode c, const struct bodybuf *b)
{
	if (c == CURLE_OK)
		return 0;
	if (c == CURLE_COULDNT_CONNECT)
		return -ECONNREFUSED; /* also: socket file missing */
	if (c == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	if (c == CURLE_WRITE_ERROR || c == CURLE_FILESIZE_EXCEEDED)
		return b->over || c == CURLE_FILESIZE_EXCEEDED ? -EBADMSG : -ENOMEM;
	if (c == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	if (c == CURLE_WEIRD_SERVER_REPLY)
		return -EBADMSG;
	return -EHOSTUNREACH;
}

/* One GET; fills *ret_code and the body (caller frees it: bodybuf_free). */
static int http_get(struct engine *e, const char *path, struct bodybuf *b, long *ret_code)
{
	char url[128];
	CURL *c = e->curl;
	CURLcode cc;

	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_reset(c);
	if (curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, e->sock) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ENGINE_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ENGINE_CONNECT_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ENGINE_MAX_BODY) !=
		    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bodybuf_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, b) != CURLE_OK)
		return -ENOMEM;
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		return curl_errno(cc, b);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_code) != CURLE_OK)
		return -EHOSTUNREACH;
	return 0;
}

int engine_fetch(struct engine *e, const char *id, struct container_meta *ret)
{
	char path[96];
	struct bodybuf b = { .max = ENGINE_MAX_BODY };
	long code = 0;
	int r;

	if (!text_is_id64(id))
		return -EINVAL;
	snprintf(path, sizeof(path), "/containers/%s/json", id);
	r = http_get(e, path, &b, &code);
	if (r == 0 && code == 404)
		r = -ENOENT;
	else if (r == 0 && code != 200)
		r = -EBADMSG;
	else if (r == 0)
		r = engine_parse_container(b.p ? b.p : "", b.len, ret);
	bodybuf_free(&b);
	if (r == 0 && strcmp(ret->id, id) != 0) {
		container_meta_clear(ret);
		r = -EBADMSG; /* the engine answered about another container */
	}
	return r;
}

static struct cache_entry *cache_find(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->ncache; i++)
		if (strcmp(e->cache[i].meta.id, id) == 0)
			return &e->cache[i];
	return NULL;
}

static void cache_drop(struct engine *e, struct cache_entry *ce)
{
	container_meta_clear(&ce->meta);
	*ce = e->cache[--e->ncache];
}

void engine_cache_put(struct engine *e, const struct container_meta *m)
{
	struct cache_entry *ce;

	if (!m->running || m->pid <= 0)
		return;
	if ((ce = cache_find(e, m->id)))
		cache_drop(e, ce);
	if (!e->cache) {
		e->cache = calloc(ENGINE_CACHE_MAX, sizeof(*e->cache));
		if (!e->cache)
			return; /* no cache: every lookup asks the engine */
	}
	if (e->ncache == ENGINE_CACHE_MAX)
		cache_drop(e, &e->cache[0]);
	ce = &e->cache[e->ncache++];
	container_meta_copy(&ce->meta, m);
	ce->fetched = (time_t)(clock_ms() / 1000u);
}

/* A cached entry is stale once its TTL ran out or its init process is gone
 * (the container stopped; a restart gets a new pid and may differ). */
static bool cache_fresh(const struct cache_entry *ce)
{
	if ((time_t)(clock_ms() / 1000u) - ce->fetched >= ENGINE_CACHE_TTL_S)
		return false;
	return ce->meta.pid > 0 && (kill(ce->meta.pid, 0) == 0 || errno == EPERM);
}

int engine_cached(struct engine *e, const char *id, struct container_meta *ret)
{
	struct cache_entry *ce = cache_find(e, id);

	if (ce && cache_fresh(ce)) {
		container_meta_copy(ret, &ce->meta);
		return 0;
	}
	if (ce)
		cache_drop(e, ce);
	return -ENOENT;
}

int engine_inspect(struct engine *e, const char *id, struct container_meta *ret)
{
	struct container_meta m;
	int r;

	if (!text_is_id64(id))
		return -EINVAL;
	if (engine_cached(e, id, ret) == 0)
		return 0;
	r = engine_fetch(e, id, &m);
	if (r < 0)
		return r;
	engine_cache_put(e, &m);
	*ret = m;
	return 0;
}

void engine_forget(struct engine *e, const char *id)
{
	struct cache_entry *ce = cache_find(e, id);

	if (ce)
		cache_drop(e, ce);
}
