/* SPDX-License-Identifier: MIT */
/* Writes the seed corpus of fuzz_shim_batch from the real encoders (not
 * built by the Makefile; see docs/fuzzing.md):
 *   cc -D_GNU_SOURCE -Icommon -o /tmp/gen tests/fuzz/gen_shim_batch_seeds.c \
 *      common/proto.c && /tmp/gen tests/fuzz/corpus/fuzz_shim_batch
 * Each seed is one option byte (bit 0: ask for named secrets) and then the
 * agent's byte stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static uint8_t buf[1 << 16];
static size_t len;

static void add(ssize_t n)
{
	if (n <= 0) {
		fprintf(stderr, "encode failed\n");
		exit(1);
	}
	len += (size_t)n;
}

#define ROOM (sizeof buf - len)
#define SECRET(name, file, mode, val)                                                              \
	add(proto_encode_secret(buf + len, ROOM, name, 1, file, mode, (const uint8_t *)(val),      \
				strlen(val)))
#define END(n) add(proto_encode_end(buf + len, ROOM, n))

static void put(const char *dir, const char *name, uint8_t opts)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(&opts, 1, 1, f) != 1 || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	len = 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *d = argv[1];
	SECRET("db/password", "db_password", 0440, "hunter2");
	SECRET("api", "api_key", 0, "k3y");
	END(2);
	put(d, "two_secrets", 0);
	SECRET("db/password", "db_password", 0440, "hunter2");
	SECRET("other", "other", 0400, "nope");
	add(proto_encode_denied(buf + len, ROOM, "api", "no rule grants api"));
	END(3);
	put(d, "named_with_denied", 1);
	SECRET("a", "f", 0400, "v1");
	END(1);
	SECRET("a", "f", 0400, "v2");
	add(proto_encode_revoked(buf + len, ROOM, "b", "g"));
	END(2);
	add(proto_encode_denied(buf + len, ROOM, "a", "withdrawn"));
	END(1);
	put(d, "push_sequence", 0);
	SECRET("a", "same", 0400, "v");
	SECRET("b", "same", 0400, "w");
	END(2);
	put(d, "duplicate_file", 0);
	SECRET("a", "f", 0400, "v");
	END(7);
	put(d, "end_mismatch", 0);
	add(proto_encode_error(buf + len, ROOM, PROTO_E_BUSY, "rate limited"));
	put(d, "error_busy", 0);
	SECRET("a", "f", 0400, "v");
	len -= 3; /* cut inside the value */
	put(d, "truncated", 0);
	/* protocol 2: env_file, env only (no file), a NUL in an env value */
	{
		struct proto_secret m = { .version = 1,
					  .mode = 0400,
					  .value = (const uint8_t *)"pw",
					  .value_len = 2,
					  .delivery = PROTO_D_FILE | PROTO_D_ENV_FILE };
		strcpy(m.name, "db/password");
		strcpy(m.file, "db_password");
		strcpy(m.env_file, "POSTGRES_PASSWORD_FILE");
		add(proto_encode_secret2(buf + len, ROOM, &m));
		m.delivery = PROTO_D_ENV;
		m.file[0] = m.env_file[0] = '\0';
		strcpy(m.name, "api");
		strcpy(m.env, "API_KEY");
		add(proto_encode_secret2(buf + len, ROOM, &m));
		END(2);
		put(d, "secret2_env", 0);
		strcpy(m.name, "nul");
		m.value = (const uint8_t *)"a\0b";
		m.value_len = 3;
		add(proto_encode_secret2(buf + len, ROOM, &m));
		strcpy(m.name, "api2"); /* API_KEY again: a protocol violation */
		m.value = (const uint8_t *)"k";
		m.value_len = 1;
		add(proto_encode_secret2(buf + len, ROOM, &m));
		END(2);
		put(d, "secret2_env_nul_and_clash", 0);
	}
	static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0x81 };
	memcpy(buf, huge, sizeof huge);
	len = sizeof huge;
	put(d, "length_over_cap", 0);
	return 0;
}
