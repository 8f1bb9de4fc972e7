/* SPDX-License-Identifier: MIT */
/* The node's pod list as keyholed last read it, and when to read it again:
 * a lookup that misses, or finds the list older than its TTL, wants a
 * refresh, at most one per KUBELET_MIN_INTERVAL_MS; a failed refresh is
 * remembered and answers at once until its backoff runs out, so a dead or
 * hung kubelet costs one timeout per backoff window, not one per caller.
 * One owner (the event loop); pure: the time is passed in, no syscalls. */
#include <errno.h>

#include "kubelet.h"
#include "text.h"

int kubelet_cache_find(const struct kubelet_cache *kc, const char *pod_uid,
		       const char *container_id, uint64_t now, struct k8s_meta *ret)
{
	bool fresh = kc->items && now - kc->fetched_ms < KUBELET_TTL_MS;
	int r;

	if (!pod_uid[0] || !text_is_id64(container_id))
		return -EINVAL;
	r = fresh ? kubelet_find(kc->items, pod_uid, container_id, ret) : -ENOENT;
	if (r != -ENOENT)
		return r;
	if (kc->tried_ms && kc->last_err && now - kc->tried_ms < kc->backoff_ms)
		return kc->last_err;
	/* a success sets fetched_ms = tried_ms, so the list is fresh here */
	if (kc->tried_ms && !kc->last_err && now - kc->tried_ms < KUBELET_MIN_INTERVAL_MS)
		return -ENOENT;
	return -EINPROGRESS;
}

void kubelet_cache_put(struct kubelet_cache *kc, int rc, json_t *items, uint64_t took_ms,
		       uint64_t now)
{
	uint64_t b;

	kc->tried_ms = now; /* intervals count from the end of an attempt */
	if (rc < 0) {
		json_decref(items);
		b = kc->last_err && kc->backoff_ms ? kc->backoff_ms * 2 : KUBELET_BACKOFF_MIN_MS;
		if (b < took_ms)
			b = took_ms;
		kc->backoff_ms = b < KUBELET_BACKOFF_MAX_MS ? b : KUBELET_BACKOFF_MAX_MS;
		kc->last_err = rc;
		return;
	}
	json_decref(kc->items);
	kc->items = items;
	kc->fetched_ms = now;
	kc->last_err = 0;
	kc->backoff_ms = 0;
}

bool kubelet_cache_ok(const struct kubelet_cache *kc)
{
	return kc->tried_ms != 0 && kc->last_err == 0;
}

void kubelet_cache_clear(struct kubelet_cache *kc)
{
	json_decref(kc->items);
	*kc = (struct kubelet_cache){ .items = NULL };
}
