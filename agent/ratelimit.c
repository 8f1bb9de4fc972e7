/* SPDX-License-Identifier: MIT */
/* Per-identity token buckets for new connections (docs/agent.md): key is
 * "<runtime>:<container id>" for a container and "host:uid:<N>" for a host
 * process, so one flooding container cannot starve the others. Fixed-size
 * open-addressing table; when it is full the least recently used bucket is
 * recycled (a recycled identity starts with a full bucket, which bounds
 * memory at the price of some leniency under a many-identity flood). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define RL_SLOTS 4096u
#define RL_PROBE 16u

struct rl_bucket {
	char key[80];
	double tokens;
	uint64_t last_ms;
};

struct rl_table {
	unsigned rate, burst;
	struct rl_bucket b[RL_SLOTS];
};

struct rl_table *rl_new(unsigned rate, unsigned burst)
{
	struct rl_table *t = calloc(1, sizeof(*t));

	if (t) {
		t->rate = rate;
		t->burst = burst ? burst : 1;
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

static struct rl_bucket *find(struct rl_table *t, const char *key, uint64_t now)
{
	uint32_t h = hash(key);
	struct rl_bucket *lru = NULL;

	for (unsigned i = 0; i < RL_PROBE; i++) {
		struct rl_bucket *b = &t->b[(h + i) % RL_SLOTS];
		if (strcmp(b->key, key) == 0)
			return b;
		if (!b->key[0] || !lru || b->last_ms < lru->last_ms)
			lru = b;
		if (!b->key[0])
			break;
	}
	snprintf(lru->key, sizeof(lru->key), "%s", key);
	lru->tokens = t->burst;
	lru->last_ms = now;
	return lru;
}

bool rl_take(struct rl_table *t, const char *key, uint64_t now_ms)
{
	struct rl_bucket *b;

	if (!t || t->rate == 0)
		return true;
	b = find(t, key, now_ms);
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
