/* SPDX-License-Identifier: MIT */
/* See identify.h. A cached engine entry whose init is no longer in the
 * caller's pid namespace (container restarted, id reused) is dropped and
 * looked up once more before the caller is refused. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identify.h"

int identify_container(struct engine *eng, struct conn *c, bool *ret_engine_ok)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int r = engine_inspect(eng, c->peer.cg.id, &c->meta);
		if (r == -ENOENT) {
			*ret_engine_ok = true;
			snprintf(c->meta_err, sizeof(c->meta_err), "container unknown to the engine");
			return 0;
		}
		if (r < 0) {
			*ret_engine_ok = r == -EBADMSG;
			snprintf(c->meta_err, sizeof(c->meta_err), "engine %s: %s",
				 r == -EBADMSG ? "reply malformed" : "unreachable", strerror(-r));
			return 0;
		}
		*ret_engine_ok = true;
		if (peer_same_pidns(c->peer.pid, c->meta.pid) == 1) {
			c->has_meta = true;
			return 0;
		}
		container_meta_clear(&c->meta);
		memset(&c->meta, 0, sizeof(c->meta));
		engine_forget(eng, c->peer.cg.id);
	}
	return -EPERM;
}
