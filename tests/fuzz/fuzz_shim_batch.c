/* SPDX-License-Identifier: MIT */
/* Fuzz the shim's reply handling itself (shim/batch.c + set.c): the bytes
 * an agent sends, fed to batch_feed exactly as fetch.c feeds them, batch
 * after batch into one set. Byte 0 picks the command line: bit 0 asks for
 * "db/password" (written as "pw") and optional "api" instead of everything.
 * After every call the properties the shim relies on before it writes a
 * single file must hold: the return is one of the documented ones, only
 * whole frames were consumed, every name and file in the set is valid,
 * files are unique, every env / env_file variable is valid and set once,
 * no env value holds a NUL, nothing unrequested got in, caps hold. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "shim.h"

static void check_set(const struct shim_set *set, const struct shim_opts *o)
{
	FUZZ_CHECK(set->n <= SHIM_MAX_SECRETS);
	FUZZ_CHECK(set_bytes(set) <= (64u << 20));
	for (size_t i = 0; i < set->n; i++) {
		const struct shim_secret *s = &set->s[i];
		bool has_file = s->delivery & PROTO_D_FILE;
		FUZZ_CHECK(proto_secret_name_valid(s->name));
		FUZZ_CHECK(has_file ? proto_file_name_valid(s->file) : s->file[0] == '\0');
		/* a valid file name never leaves the directory */
		FUZZ_CHECK(!strchr(s->file, '/') && s->file[0] != '.');
		/* a variable it sets is one keyhole may set; an env value has no NUL */
		FUZZ_CHECK(!(s->delivery & PROTO_D_ENV) || proto_env_name_valid(s->env));
		FUZZ_CHECK(!(s->delivery & PROTO_D_ENV_FILE) ||
			   (has_file && proto_env_name_valid(s->env_file)));
		FUZZ_CHECK(!(s->delivery & PROTO_D_ENV) || s->value_len == 0 ||
			   !memchr(s->value, '\0', s->value_len));
		FUZZ_CHECK(s->mode != 0 && (s->mode & ~0777u) == 0);
		FUZZ_CHECK(s->value_len <= PROTO_MAX_VALUE);
		FUZZ_CHECK(!s->on_disk && (s->value_len == 0 || s->value != NULL));
		for (size_t j = i + 1; j < set->n; j++) {
			const struct shim_secret *t = &set->s[j];
			FUZZ_CHECK((!has_file || strcmp(s->file, t->file)) &&
				   strcmp(s->name, t->name));
			/* one variable, one entry */
			FUZZ_CHECK(!s->env[0] ||
				   (strcmp(s->env, t->env) && strcmp(s->env, t->env_file)));
			FUZZ_CHECK(!s->env_file[0] || (strcmp(s->env_file, t->env) &&
						       strcmp(s->env_file, t->env_file)));
		}
		if (o->n_want) {
			bool wanted = false;
			for (size_t k = 0; k < o->n_want; k++)
				wanted |= !strcmp(o->want[k].name, s->name);
			FUZZ_CHECK(wanted);
			if (!strcmp(s->name, "db/password"))
				FUZZ_CHECK(!strcmp(s->file, "pw"));
		}
	}
}

static void check_batch(const struct batch *b, int r)
{
	FUZZ_CHECK(b->n_denied <= SHIM_MAX_SECRETS && b->n_revoked <= SHIM_MAX_SECRETS);
	for (size_t i = 0; i < b->n_denied; i++)
		FUZZ_CHECK(proto_secret_name_valid(b->denied[i].name));
	for (size_t i = 0; i < b->n_revoked; i++)
		FUZZ_CHECK(proto_secret_name_valid(b->revoked[i]));
	FUZZ_CHECK(b->got_error == (r == -EPROTO));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shim_opts o;
	struct shim_set set = { NULL, 0 };
	memset(&o, 0, sizeof o);
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		o.want[0] = (struct shim_want){ "db/password", "pw", false };
		o.want[1] = (struct shim_want){ "api", NULL, true };
		o.n_want = 2;
	}
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	for (int batches = 0; batches < 16; batches++) {
		struct batch b;
		size_t used = (size_t)-1;
		memset(&b, 0, sizeof b);
		int r = batch_feed(p, left, &o, &set, &b, &used);
		FUZZ_CHECK(r == 1 || r == 0 || r == -EBADMSG || r == -EPROTO || r == -ENOMEM);
		FUZZ_CHECK(used <= left);
		uint32_t plen;
		if (r == 0) /* stopped for want of bytes: what is left is no whole frame */
			FUZZ_CHECK(proto_frame_check(p + used, left - used, PROTO_MAX_PAYLOAD,
						     &plen) == -EAGAIN);
		check_set(&set, &o);
		check_batch(&b, r);
		batch_free(&b);
		p += used;
		left -= used;
		if (r != 1)
			break;
	}
	set_free(&set);
	return 0;
}
