/* SPDX-License-Identifier: MIT */
/* Fuzz engine_parse_container, the parser of the engine's
 * GET /containers/<id>/json reply. Its content is partly chosen by whoever
 * started the container (labels, name, user, image), so it is untrusted.
 * Properties: every string field is NUL-terminated inside its array, labels
 * is always an object of strings, root agrees with user, added capabilities
 * are normalized names and bind sources cleaned absolute paths within their
 * caps, and copy/clear leak nothing (LeakSanitizer in the libFuzzer build). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz.h"

static void check_posture(const struct container_meta *m)
{
	char clean[ENGINE_MAX_PATH];
	size_t i;
	json_t *v;

	FUZZ_CHECK(json_is_array(m->cap_add) && json_array_size(m->cap_add) <= ENGINE_MAX_CAPS);
	json_array_foreach(m->cap_add, i, v)
	{
		const char *s = json_string_value(v);
		FUZZ_CHECK(s && *s && strlen(s) < ENGINE_MAX_CAP_NAME);
		FUZZ_CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(s));
	}
	FUZZ_CHECK(json_is_array(m->binds) && json_array_size(m->binds) <= 2 * ENGINE_MAX_MOUNTS);
	json_array_foreach(m->binds, i, v)
	{
		const char *s = json_string_value(v);
		FUZZ_CHECK(s && s[0] == '/' && strlen(s) < ENGINE_MAX_PATH);
		FUZZ_CHECK(engine_clean_path(s, clean, sizeof clean) == 0 && !strcmp(clean, s));
	}
	FUZZ_CHECK(m->n_devices <= ENGINE_MAX_DEVICES);
}

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
	json_object_foreach(m->labels, k, v) FUZZ_CHECK(k && json_is_string(v));
	if (m->user[0] == '\0' || !strcmp(m->user, "0") || !strcmp(m->user, "root"))
		FUZZ_CHECK(m->root);
	check_posture(m);
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
		FUZZ_CHECK(c.cap_add == m.cap_add && c.binds == m.binds &&
			   c.host_pid == m.host_pid);
		container_meta_clear(&c);
		container_meta_clear(&m);
	}
	free(body);
	return 0;
}
