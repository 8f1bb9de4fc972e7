/* SPDX-License-Identifier: MIT */
/* The one monotonic clock: milliseconds since an arbitrary start, for
 * deadlines, timeouts and cache ages (never wall time). libc only. */
#ifndef KH_CLOCK_H
#define KH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
