/* SPDX-License-Identifier: MIT */
/* See ratelimit.h. Open addressing with a short probe; the least recently
 * used entry that holds no connection is recycled when the probe finds no
 * free slot (a recycled identity starts with a full bucket, which bounds
 * memory at the price of some leniency under a many-identity flood). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RL_MIN_SLOTS 4096u
#define RL_PROBE 32u

struct rl_ident {
	char key[80];
	double tokens;
	uint64_t last_ms;
	unsigned conns, watchers;
};

struct rl_table {
	unsigned rate, burst;
	size_t n;
	struct rl_ident b[];
};

struct rl_table *rl_new(unsigned rate, unsigned burst, unsigned slots)
{
	size_t n = RL_MIN_SLOTS;
	struct rl_table *t;

	while (n < 2u * (size_t)slots && n < (1u << 24))
		n *= 2;
	t = calloc(1, sizeof(*t) + n * sizeof(t->b[0]));
	if (t) {
		t->rate = rate;
		t->burst = burst ? burst : 1;
		t->n = n;
	}
	return t;
}

void rl_free(struct rl_table *t)
{
	free(t);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The entry for key, made (or recycled) when absent; NULL when every
 * probed slot holds connections. */
static struct rl_ident *find(struct rl_table *t, const char *key, uint64_t now)
{
	uint32_t h = hash(key);
	struct rl_ident *lru = NULL;

	for (unsigned i = 0; i < RL_PROBE; i++) {
		struct rl_ident *b = &t->b[(h + i) & (t->n - 1)];
		if (strcmp(b->key, key) == 0)
			return b;
		if (b->conns)
			continue;
		if (!b->key[0] || !lru || b->last_ms < lru->last_ms)
			lru = b;
		if (!b->key[0])
			break;
	}
	if (!lru)
		return NULL;
	memset(lru, 0, sizeof(*lru));
	snprintf(lru->key, sizeof(lru->key), "%s", key);
	lru->tokens = t->burst;
	lru->last_ms = now;
	return lru;
}

bool rl_take(struct rl_table *t, const char *key, uint64_t now_ms)
{
	struct rl_ident *b;

	if (!t || t->rate == 0)
		return true;
	if (!(b = find(t, key, now_ms)))
		return false;
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * t->rate / 1000.0;
		if (b->tokens > t->burst)
			b->tokens = t->burst;
		b->last_ms = now_ms;
	}
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

int rl_conn_get(struct rl_table *t, const char *key, uint64_t now_ms, unsigned max,
		struct rl_ident **ret)
{
	struct rl_ident *b = find(t, key, now_ms);

	if (!b)
		return -ENOSPC;
	if (max && b->conns >= max)
		return -EBUSY;
	b->conns++;
	b->last_ms = b->last_ms > now_ms ? b->last_ms : now_ms;
	*ret = b;
	return 0;
}

void rl_conn_put(struct rl_ident *id)
{
	if (id && id->conns)
		id->conns--;
}

int rl_watch_get(struct rl_ident *id, unsigned max)
{
	if (max && id->watchers >= max)
		return -EBUSY;
	id->watchers++;
	return 0;
}

void rl_watch_put(struct rl_ident *id)
{
	if (id && id->watchers)
		id->watchers--;
}

unsigned rl_conns(const struct rl_ident *id)
{
	return id ? id->conns : 0;
}
