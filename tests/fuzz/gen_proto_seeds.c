/* SPDX-License-Identifier: MIT */
/* Writes the seed corpus of fuzz_proto from the real encoders (not built by
 * the Makefile; see docs/fuzzing.md):
 *   cc -D_GNU_SOURCE -Icommon -o /tmp/gen tests/fuzz/gen_proto_seeds.c \
 *      common/proto.c && /tmp/gen tests/fuzz/corpus/fuzz_proto */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const char *dir;

static void put(const char *name, const void *b, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void put_frame(const char *name, const uint8_t *b, ssize_t n)
{
	if (n <= 0) {
		fprintf(stderr, "%s: encode failed %zd\n", name, n);
		exit(1);
	}
	put(name, b, (size_t)n);
}

int main(int argc, char **argv)
{
	static uint8_t b[PROTO_MAX_PAYLOAD + 8], s[8192];
	const char *one[] = { "db/password" };
	const char *many[] = { "db/password", "api-key", "tls/server.key", "a", "x_y.z-1" };
	const char *max[PROTO_MAX_NAMES];
	char longname[PROTO_MAX_NAME + 1];
	ssize_t n, m;

	if (argc != 2)
		return 2;
	dir = argv[1];
	memset(longname, 'n', PROTO_MAX_NAME);
	longname[PROTO_MAX_NAME] = '\0';
	for (size_t i = 0; i < PROTO_MAX_NAMES; i++)
		max[i] = longname;

	put_frame("request_all", b, proto_encode_request(b, sizeof b, 0, NULL, 0));
	put_frame("request_one", b, proto_encode_request(b, sizeof b, 0, one, 1));
	put_frame("request_watch_many", b,
		  proto_encode_request(b, sizeof b, PROTO_F_WATCH, many, 5));
	put_frame("request_max", b, proto_encode_request(b, sizeof b, 0, max, PROTO_MAX_NAMES));
	const char *bad[] = { "../etc/shadow", "a/../../b", "/abs", "a//b" };
	put_frame("request_traversal", b, proto_encode_request(b, sizeof b, 0, bad, 4));
	put_frame("admin", b,
		  proto_encode_admin(b, sizeof b, PROTO_ADMIN, "{\"op\":\"status\"}", 15));
	put_frame("admin_reply", b,
		  proto_encode_admin(b, sizeof b, PROTO_ADMIN_REPLY, "{\"ok\":true}", 11));
	put_frame("secret", b,
		  proto_encode_secret(b, sizeof b, "db/password", 3, "db_password", 0400,
				      (const uint8_t *)"hunter2", 7));
	put_frame("secret_empty", b, proto_encode_secret(b, sizeof b, "a", 1, "a", 0, NULL, 0));
	put_frame("secret_badfile", b,
		  proto_encode_secret(b, sizeof b, "x", 1, "../x", 0644, (const uint8_t *)"v", 1));
	put_frame("request_v1", b, proto_encode_request_v(b, sizeof b, 1, 0, one, 1));
	{
		struct proto_secret x = { .version = 4,
					  .mode = 0400,
					  .value = (const uint8_t *)"pw",
					  .value_len = 2,
					  .delivery = PROTO_D_FILE | PROTO_D_ENV_FILE };
		strcpy(x.name, "pay/db");
		strcpy(x.file, "db_password");
		strcpy(x.env_file, "POSTGRES_PASSWORD_FILE");
		put_frame("secret2_env_file", b, proto_encode_secret2(b, sizeof b, &x));
		x.delivery = PROTO_D_ENV;
		x.file[0] = x.env_file[0] = '\0';
		strcpy(x.env, "DATABASE_PASSWORD");
		put_frame("secret2_env", b, proto_encode_secret2(b, sizeof b, &x));
		x.delivery = PROTO_D_ALL;
		strcpy(x.file, "db");
		strcpy(x.env_file, "DB_FILE");
		put_frame("secret2_all", b, proto_encode_secret2(b, sizeof b, &x));
	}
	put_frame("denied", b,
		  proto_encode_denied(b, sizeof b, "db/password",
				      "policy: no rule for this container"));
	put_frame("revoked", b, proto_encode_revoked(b, sizeof b, "api-key", "api_key"));
	put_frame("end", b, proto_encode_end(b, sizeof b, 2));
	put_frame("error", b, proto_encode_error(b, sizeof b, PROTO_E_BUSY, "rate limited"));
	put_frame("error_empty", b, proto_encode_error(b, sizeof b, PROTO_E_DENIED, ""));

	/* A whole batch as the shim reads it: SECRET, DENIED, END. */
	n = proto_encode_secret(s, sizeof s, "db/password", 7, "db", 0440,
				(const uint8_t *)"s3cr3t\n", 7);
	m = proto_encode_denied(s + n, sizeof s - (size_t)n, "api-key", "denied");
	n += m;
	n += proto_encode_end(s + n, sizeof s - (size_t)n, 2);
	put_frame("batch", s, n);
	/* Same batch cut short and with a trailing byte inside a frame. */
	put("batch_truncated", s, (size_t)n - 3);
	/* Edge cases by hand. */
	put("empty", "", 0);
	put("zero_len", "\0\0\0\0", 4);
	put("oversize_len", "\xff\xff\xff\xff\x01", 5);
	put("len_over_request_cap", "\x00\x00\x80\x00\x01", 5);
	put("unknown_type", "\0\0\0\1\x7f", 5);
	put("end_trailing", "\0\0\0\6\x84\0\0\0\1\0", 10);
	put("str_nul", "\0\0\0\x0a\x82\0\2a\0\0\0\0\0\0", 14);
	put("request_bad_flags", "\0\0\0\6\1\0\1\x80\0\0", 10);
	put("request_n_over", "\0\0\0\6\1\0\1\0\xff\xff", 10);
	put("secret_bad_mode", "\0\0\0\x15\x81\0\1a\0\0\0\0\0\0\0\1\0\1b\xff\xff\0\0\0\0", 25);
	put("blob_over", "\0\0\0\x05\x10\xff\xff\xff\xff", 9);
	return 0;
}
