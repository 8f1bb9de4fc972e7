/* SPDX-License-Identifier: MIT */
/* Unit tests for the wire codec (common/proto.c): round trip of every
 * message, every truncation and any trailing byte rejected, caps on every
 * length, NULs inside strings, framing, and the two name validators. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "proto.h"

static uint8_t buf[PROTO_HDR + PROTO_MAX_PAYLOAD + 16];

/* Encoded sample of each type; returns frame length. */
static ssize_t sample(int i, uint8_t *b, size_t cap)
{
	static const char *const names[] = { "db/password", "api" };
	static const uint8_t val[] = { 's', 0, 'c', 'r', 0xff };
	switch (i) {
	case 0: return proto_encode_request(b, cap, PROTO_F_WATCH, names, 2);
	case 1: return proto_encode_secret(b, cap, "db/password", 7, "pw", 0440, val, sizeof val);
	case 2: return proto_encode_denied(b, cap, "db/password", "no rule matches");
	case 3: return proto_encode_revoked(b, cap, "api", "api_key");
	case 4: return proto_encode_end(b, cap, 3);
	case 5: return proto_encode_error(b, cap, PROTO_E_DENIED, "who are you");
	case 6: return proto_encode_admin(b, cap, PROTO_ADMIN, "{\"op\":\"ls\"}", 11);
	default: return proto_encode_admin(b, cap, PROTO_ADMIN_REPLY, "[]", 2);
	}
}
#define N_SAMPLES 8

static void check_fields(int i, const struct proto_msg *m, const uint8_t *pl)
{
	switch (i) {
	case 0:
		ck_assert_int_eq(m->type, PROTO_REQUEST);
		ck_assert_uint_eq(m->u.request.version, PROTO_VERSION);
		ck_assert_uint_eq(m->u.request.flags, PROTO_F_WATCH);
		ck_assert_uint_eq(m->u.request.n_names, 2);
		ck_assert_str_eq(m->u.request.names[0], "db/password");
		ck_assert_str_eq(m->u.request.names[1], "api");
		break;
	case 1:
		ck_assert_int_eq(m->type, PROTO_SECRET);
		ck_assert_str_eq(m->u.secret.name, "db/password");
		ck_assert_uint_eq(m->u.secret.version, 7);
		ck_assert_str_eq(m->u.secret.file, "pw");
		ck_assert_uint_eq(m->u.secret.mode, 0440);
		ck_assert_uint_eq(m->u.secret.value_len, 5);
		ck_assert(m->u.secret.value > pl);
		ck_assert_mem_eq(m->u.secret.value, "s\0cr\xff", 5);
		break;
	case 2:
		ck_assert_int_eq(m->type, PROTO_DENIED);
		ck_assert_str_eq(m->u.denied.name, "db/password");
		ck_assert_str_eq(m->u.denied.reason, "no rule matches");
		break;
	case 3:
		ck_assert_int_eq(m->type, PROTO_REVOKED);
		ck_assert_str_eq(m->u.revoked.name, "api");
		ck_assert_str_eq(m->u.revoked.file, "api_key");
		break;
	case 4:
		ck_assert_int_eq(m->type, PROTO_END);
		ck_assert_uint_eq(m->u.end.count, 3);
		break;
	case 5:
		ck_assert_int_eq(m->type, PROTO_ERROR);
		ck_assert_uint_eq(m->u.error.code, PROTO_E_DENIED);
		ck_assert_str_eq(m->u.error.reason, "who are you");
		break;
	case 6:
		ck_assert_int_eq(m->type, PROTO_ADMIN);
		ck_assert_uint_eq(m->u.admin.len, 11);
		ck_assert_mem_eq(m->u.admin.json, "{\"op\":\"ls\"}", 11);
		break;
	default:
		ck_assert_int_eq(m->type, PROTO_ADMIN_REPLY);
		ck_assert_uint_eq(m->u.admin.len, 2);
		break;
	}
}

START_TEST(round_trip)
{
	struct proto_msg m;
	uint32_t plen;
	ssize_t n = sample(_i, buf, sizeof buf);
	ck_assert_int_gt(n, (ssize_t)PROTO_HDR);
	ck_assert_int_eq(proto_frame_check(buf, (size_t)n, PROTO_MAX_PAYLOAD, &plen), 0);
	ck_assert_uint_eq(plen + PROTO_HDR, (size_t)n);
	ck_assert_int_eq(proto_decode(buf + PROTO_HDR, plen, &m), 0);
	check_fields(_i, &m, buf + PROTO_HDR);
	ck_assert_str_ne(proto_type_name(m.type), "UNKNOWN");
}
END_TEST

START_TEST(every_truncation_rejected)
{
	struct proto_msg m;
	uint32_t plen;
	ssize_t n = sample(_i, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	plen = (uint32_t)n - PROTO_HDR;
	for (uint32_t l = 0; l < plen; l++)
		ck_assert_msg(proto_decode(buf + PROTO_HDR, l, &m) == -EBADMSG,
			      "sample %d accepted at %u of %u bytes", _i, l, plen);
	/* framing: any prefix of the frame is incomplete, never a frame */
	for (size_t l = 0; l < (size_t)n; l++)
		ck_assert_int_eq(proto_frame_check(buf, l, PROTO_MAX_PAYLOAD, &plen), -EAGAIN);
}
END_TEST

START_TEST(trailing_bytes_rejected)
{
	struct proto_msg m;
	ssize_t n = sample(_i, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_int_eq(proto_decode(buf + PROTO_HDR, (size_t)n - PROTO_HDR + 1, &m), -EBADMSG);
}
END_TEST

START_TEST(encoder_cap_too_small)
{
	ssize_t n = sample(_i, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(sample(_i, buf, (size_t)n - 1), -ENOBUFS);
	ck_assert_int_eq(sample(_i, buf, (size_t)n), n);
}
END_TEST

START_TEST(frame_caps)
{
	uint32_t plen = 12345;
	uint8_t h[8] = { 0, 0, 0, 0 };
	ck_assert_int_eq(proto_frame_check(h, 4, PROTO_MAX_PAYLOAD, &plen), -EMSGSIZE);
	uint32_t big = PROTO_MAX_REQUEST + 1;
	h[0] = (uint8_t)(big >> 24), h[1] = (uint8_t)(big >> 16);
	h[2] = (uint8_t)(big >> 8), h[3] = (uint8_t)big;
	ck_assert_int_eq(proto_frame_check(h, 4, PROTO_MAX_REQUEST, &plen), -EMSGSIZE);
	ck_assert_int_eq(proto_frame_check(h, 4, PROTO_MAX_PAYLOAD, &plen), -EAGAIN);
	memset(h, 0xff, 4);
	ck_assert_int_eq(proto_frame_check(h, 4, PROTO_MAX_PAYLOAD, &plen), -EMSGSIZE);
	ck_assert_uint_eq(plen, 12345); /* untouched on failure */
}
END_TEST

START_TEST(over_cap_fields)
{
	static char longname[PROTO_MAX_NAME + 2], longreason[PROTO_MAX_REASON + 2];
	const char *names[PROTO_MAX_NAMES + 1];
	memset(longname, 'a', sizeof longname - 1);
	memset(longreason, 'r', sizeof longreason - 1);
	for (size_t i = 0; i <= PROTO_MAX_NAMES; i++)
		names[i] = "x";
	ck_assert_int_eq(proto_encode_request(buf, sizeof buf, 0, names, PROTO_MAX_NAMES + 1),
			 -EINVAL);
	ck_assert_int_gt(proto_encode_request(buf, sizeof buf, 0, names, PROTO_MAX_NAMES), 0);
	ck_assert_int_eq(proto_encode_request(buf, sizeof buf, 0x80, names, 1), -EINVAL);
	names[0] = longname;
	ck_assert_int_eq(proto_encode_request(buf, sizeof buf, 0, names, 1), -EINVAL);
	ck_assert_int_eq(proto_encode_denied(buf, sizeof buf, "a", longreason), -EINVAL);
	ck_assert_int_eq(proto_encode_secret(buf, sizeof buf, "a", 1, "f", 010000, NULL, 0),
			 -EINVAL);
	ck_assert_int_eq(
		proto_encode_secret(buf, sizeof buf, "a", 1, "f", 0400, buf, PROTO_MAX_VALUE + 1),
		-EINVAL);
	/* a maximal value fits the payload cap and decodes */
	static uint8_t val[PROTO_MAX_VALUE];
	static char maxname[PROTO_MAX_NAME + 1];
	memset(maxname, 'n', PROTO_MAX_NAME);
	ssize_t n =
		proto_encode_secret(buf, sizeof buf, maxname, 1, maxname, 0400, val, sizeof val);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t)n,
			  proto_secret_frame_size(PROTO_MAX_NAME, PROTO_MAX_NAME, sizeof val));
	struct proto_msg *m = malloc(sizeof *m);
	uint32_t plen;
	ck_assert_int_eq(proto_frame_check(buf, (size_t)n, PROTO_MAX_PAYLOAD, &plen), 0);
	ck_assert_int_eq(proto_decode(buf + PROTO_HDR, plen, m), 0);
	free(m);
}
END_TEST

/* Hand-built payloads the encoders refuse to make. */
START_TEST(decoder_rejects_hostile)
{
	struct proto_msg m;
	/* DENIED with a NUL inside the name */
	const uint8_t nul_name[] = { PROTO_DENIED, 0, 3, 'a', 0, 'b', 0, 0 };
	ck_assert_int_eq(proto_decode(nul_name, sizeof nul_name, &m), -EBADMSG);
	/* empty name */
	const uint8_t empty_name[] = { PROTO_DENIED, 0, 0, 0, 0 };
	ck_assert_int_eq(proto_decode(empty_name, sizeof empty_name, &m), -EBADMSG);
	/* string length 256 > PROTO_MAX_NAME (bytes present) */
	static uint8_t long_name[3 + 256 + 2];
	long_name[0] = PROTO_DENIED, long_name[1] = 1, long_name[2] = 0;
	memset(long_name + 3, 'a', 256);
	ck_assert_int_eq(proto_decode(long_name, sizeof long_name, &m), -EBADMSG);
	/* 255 bytes and an empty reason is fine; one more byte is trailing */
	long_name[1] = 0, long_name[2] = 255, long_name[258] = 0, long_name[259] = 0;
	ck_assert_int_eq(proto_decode(long_name, 3 + 255 + 2, &m), 0);
	ck_assert_int_eq(proto_decode(long_name, 3 + 255 + 3, &m), -EBADMSG);
	/* SECRET with mode bits above 07777 */
	const uint8_t badmode[] = { PROTO_SECRET, 0,	1,    'a', 0, 0, 0, 0, 0, 0, 0, 1, 0, 1,
				    'f',	  0x10, 0x00, 0,   0, 0, 0 };
	ck_assert_int_eq(proto_decode(badmode, sizeof badmode, &m), -EBADMSG);
	/* the same with mode 0400 is fine (control) */
	uint8_t okmode[sizeof badmode];
	memcpy(okmode, badmode, sizeof okmode);
	okmode[15] = 0x01, okmode[16] = 0x00;
	ck_assert_int_eq(proto_decode(okmode, sizeof okmode, &m), 0);
	/* blob length over the value cap */
	uint8_t bigblob[sizeof badmode];
	memcpy(bigblob, okmode, sizeof bigblob);
	bigblob[17] = 0x00, bigblob[18] = 0x10, bigblob[19] = 0x00, bigblob[20] = 0x01;
	ck_assert_int_eq(proto_decode(bigblob, sizeof bigblob, &m), -EBADMSG);
	/* REQUEST: unknown flag, too many names */
	const uint8_t badflag[] = { PROTO_REQUEST, 0, 1, 0x02, 0, 0 };
	ck_assert_int_eq(proto_decode(badflag, sizeof badflag, &m), -EBADMSG);
	const uint8_t toomany[] = { PROTO_REQUEST, 0, 1, 0, 0, PROTO_MAX_NAMES + 1 };
	ck_assert_int_eq(proto_decode(toomany, sizeof toomany, &m), -EBADMSG);
	/* unknown types, empty payload */
	const uint8_t unk[] = { 0x42, 0, 0, 0, 0 };
	ck_assert_int_eq(proto_decode(unk, sizeof unk, &m), -EBADMSG);
	ck_assert_int_eq(proto_decode(unk, 0, &m), -EBADMSG);
	ck_assert_str_eq(proto_type_name(0x42), "UNKNOWN");
}
END_TEST

START_TEST(encoders_reject_nul_and_empty)
{
	const char *names[] = { "" };
	ck_assert_int_eq(proto_encode_request(buf, sizeof buf, 0, names, 1), -EINVAL);
	ck_assert_int_eq(proto_encode_secret(buf, sizeof buf, "", 1, "f", 0400, NULL, 0), -EINVAL);
	ck_assert_int_eq(proto_encode_secret(buf, sizeof buf, "a", 1, "", 0400, NULL, 0), -EINVAL);
	ck_assert_int_eq(proto_encode_revoked(buf, sizeof buf, "a", ""), -EINVAL);
	ck_assert_int_eq(proto_encode_denied(buf, sizeof buf, "", "r"), -EINVAL);
	ck_assert_int_eq(proto_encode_admin(buf, sizeof buf, PROTO_SECRET, "{}", 2), -EINVAL);
	/* a C string cannot carry a NUL; the decoder rejects one (above) */
}
END_TEST

START_TEST(file_name_validator)
{
	static char max[PROTO_MAX_NAME + 2];
	const char *good[] = { "a", "db_password", "x.y", "with space", "a..b", "A-1" };
	const char *bad[] = { "", ".", "..", ".hidden", "a/b", "/", "../x", "x/" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(proto_file_name_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!proto_file_name_valid(bad[i]), "%s", bad[i]);
	memset(max, 'f', PROTO_MAX_NAME);
	ck_assert(proto_file_name_valid(max));
	max[PROTO_MAX_NAME] = 'f';
	ck_assert(!proto_file_name_valid(max));
}
END_TEST

START_TEST(secret_name_validator)
{
	static char max[PROTO_MAX_NAME + 2];
	const char *good[] = { "a", "db/password", "team-a/app_1/key.pem", "..a", "a.", "x/.y" };
	const char *bad[] = { "",      "/a",   "a/",  "a//b", ".",   "..",	 "a/../b",
			      "a/./b", "../a", "a b", "a\\b", "a:b", "\xc3\xa9", "a\tb" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(proto_secret_name_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!proto_secret_name_valid(bad[i]), "%s", bad[i]);
	memset(max, 'n', PROTO_MAX_NAME);
	ck_assert(proto_secret_name_valid(max));
	max[PROTO_MAX_NAME] = 'n';
	ck_assert(!proto_secret_name_valid(max));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("codec");
	tcase_add_loop_test(tc, round_trip, 0, N_SAMPLES);
	tcase_add_loop_test(tc, every_truncation_rejected, 0, N_SAMPLES);
	tcase_add_loop_test(tc, trailing_bytes_rejected, 0, N_SAMPLES);
	tcase_add_loop_test(tc, encoder_cap_too_small, 0, N_SAMPLES);
	tcase_add_test(tc, frame_caps);
	tcase_add_test(tc, over_cap_fields);
	tcase_add_test(tc, decoder_rejects_hostile);
	tcase_add_test(tc, encoders_reject_nul_and_empty);
	tcase_add_test(tc, file_name_validator);
	tcase_add_test(tc, secret_name_validator);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
