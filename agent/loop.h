/* SPDX-License-Identifier: MIT */
/* The event loop: accepts, routes readable connections by kind (agent or
 * admin), signals, store changes, deadlines. */
#ifndef KH_LOOP_H
#define KH_LOOP_H

#include "agent.h"

int loop_init(struct agent *a);
/* Runs until SIGTERM/SIGINT; then drains queued replies (at most 2 s). */
void loop_run(struct agent *a);

#endif
