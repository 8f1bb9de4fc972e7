// SPDX-License-Identifier: MIT
/* Fuzz engine_parse_container, the parser of the engine's
 * GET /containers/<id>/json reply. Its content is partly chosen by whoever
 * started the container (labels, name, user, image), so it is untrusted.
 * Properties: every string field is NUL-terminated inside its array, labels
 * is always an object of strings, root agrees with user, and copy/clear
 * leak nothing (LeakSanitizer in the libFuzzer build). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz.h"

static void check_meta(const struct container_meta *m)
{
	const char *k;
	json_t *v;

	FUZZ_CHECK(strnlen(m->id, sizeof m->id) < sizeof m->id);
	FUZZ_CHECK(strnlen(m->name, sizeof m->name) < sizeof m->name);
	FUZZ_CHECK(strnlen(m->image, sizeof m->image) < sizeof m->image);
	FUZZ_CHECK(strnlen(m->image_id, sizeof m->image_id) < sizeof m->image_id);
	FUZZ_CHECK(strnlen(m->user, sizeof m->user) < sizeof m->user);
	FUZZ_CHECK(m->labels && json_is_object(m->labels));
	json_object_foreach(m->labels, k, v)
		FUZZ_CHECK(k && json_is_string(v));
	if (m->user[0] == '\0' || !strcmp(m->user, "0") || !strcmp(m->user, "root"))
		FUZZ_CHECK(m->root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = calloc(1, size ? size : 1);
	struct container_meta m, c;
	FUZZ_CHECK(body);
	if (size)
		memcpy(body, data, size);
	memset(&m, 0, sizeof m);
	int r = engine_parse_container(body, size, &m);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
	if (r == 0) {
		check_meta(&m);
		memset(&c, 0, sizeof c);
		container_meta_copy(&c, &m);
		FUZZ_CHECK(!strcmp(c.id, m.id) && c.pid == m.pid && c.root == m.root);
		container_meta_clear(&c);
		container_meta_clear(&m);
	}
	free(body);
	return 0;
}
