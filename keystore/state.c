/* SPDX-License-Identifier: MIT */
/* Rollback protection: the high-water mark of every record's version that
 * a reader has accepted, per store id, kept in a local state file
 * (keyholed: /var/lib/keyhole/agent.state, 0600) and replaced atomically.
 * Also remembers that a store was seen signed (format 2), so a copy
 * rewritten to look like an unsigned format-1 store is refused.
 *   {"format": "keyhole-state", "stores": {ID: {"signed": true,
 *    "marks": {NAME: VERSION, ...}}}} */
#include "ks_internal.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"

#define STATE_MAX_FILE (256u << 20)

int ks_state_load(const char *path, json_t **ret)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	json_t *root;
	int r = ks_read_file(path, STATE_MAX_FILE, &buf, &len);

	if (r == -ENOENT) {
		root = json_pack("{s:s, s:{}}", "format", "keyhole-state", "stores");
		if (!root)
			return -ENOMEM;
		*ret = root;
		return 0;
	}
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "format")) ||
	    strcmp(json_string_value(json_object_get(root, "format")), "keyhole-state") != 0 ||
	    !json_is_object(json_object_get(root, "stores"))) {
		json_decref(root);
		return -EBADMSG;
	}
	*ret = root;
	return 0;
}

static json_t *store_obj(json_t *st, const char *store_id, bool create)
{
	json_t *stores = json_object_get(st, "stores");
	json_t *s = json_object_get(stores, store_id);

	if (json_is_object(s) && json_is_object(json_object_get(s, "marks")))
		return s;
	if (!create)
		return NULL;
	s = json_pack("{s:b, s:{}}", "signed", 0, "marks");
	if (!s || json_object_set_new(stores, store_id, s) < 0)
		return NULL;
	return s;
}

uint64_t ks_state_mark(json_t *st, const char *store_id, const char *name)
{
	json_t *m = json_object_get(json_object_get(store_obj(st, store_id, false), "marks"), name);
	json_int_t v = json_integer_value(m);

	return v > 0 ? (uint64_t)v : 0;
}

bool ks_state_signed(json_t *st, const char *store_id)
{
	return json_is_true(json_object_get(store_obj(st, store_id, false), "signed"));
}

/* Raise name's mark to version; true if the state changed. */
bool ks_state_raise(json_t *st, const char *store_id, const char *name, uint64_t version)
{
	json_t *s;

	if (version <= ks_state_mark(st, store_id, name) || version > INT64_MAX)
		return false;
	s = store_obj(st, store_id, true);
	return s && json_object_set_new(json_object_get(s, "marks"), name,
					json_integer((json_int_t)version)) == 0;
}

bool ks_state_set_signed(json_t *st, const char *store_id)
{
	json_t *s;

	if (ks_state_signed(st, store_id))
		return false;
	s = store_obj(st, store_id, true);
	return s && json_object_set_new(s, "signed", json_true()) == 0;
}

int ks_state_save(const char *path, json_t *st)
{
	cleanup_free char *copy = strdup(path);
	size_t len = 0;
	char *s;
	int r;

	if (!copy)
		return -ENOMEM;
	/* the default directory may not exist yet on a fresh host */
	if (mkdir(dirname(copy), 0700) < 0 && errno != EEXIST)
		return -errno;
	s = ks_file_dump(st, &len);
	if (!s)
		return -ENOMEM;
	r = ks_atomic_write(path, s, len, 0600);
	free(s);
	return r;
}
