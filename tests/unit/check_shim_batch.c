/* SPDX-License-Identifier: MIT */
/* Unit tests for shim/batch.c, the shim's pure reply handling: a batch is
 * applied as a whole frame stream up to END, partial input consumes only
 * whole frames, every hostile reply the shim must refuse is -EBADMSG, the
 * agent's ERROR is -EPROTO, DENIED/REVOKED remove and are recorded,
 * unrequested secrets are dropped, --secret NAME=FILE applies, and two
 * batches back to back are read one at a time. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "shim.h"

static uint8_t buf[1 << 16];
static size_t len;

static void add(ssize_t n)
{
	ck_assert_int_gt(n, 0);
	len += (size_t)n;
}

#define ROOM (sizeof buf - len)
static void secret(const char *name, const char *file, uint16_t mode, const char *val)
{
	add(proto_encode_secret(buf + len, ROOM, name, 1, file, mode, (const uint8_t *)val,
				strlen(val)));
}
static void end(uint32_t n)
{
	add(proto_encode_end(buf + len, ROOM, n));
}

/* Feed buf[0..len) once into a fresh batch; returns batch_feed's result. */
static int feed(const struct shim_opts *o, struct shim_set *set, struct batch *b, size_t *used)
{
	memset(b, 0, sizeof *b);
	return batch_feed(buf, len, o, set, b, used);
}

static struct shim_opts all;

START_TEST(whole_batch)
{
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t used;
	len = 0;
	secret("db/password", "db_password", 0440, "hunter2");
	secret("api", "api_key", 0, "k3y");
	secret("wide", "wide", 07777, "w");
	end(3);
	ck_assert_int_eq(feed(&all, &set, &b, &used), 1);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(set.n, 3);
	struct shim_secret *s = set_find(&set, "db/password");
	ck_assert_str_eq(s->file, "db_password");
	ck_assert_uint_eq(s->mode, 0440);
	ck_assert_mem_eq(s->value, "hunter2", 7);
	ck_assert_uint_eq(set_find(&set, "api")->mode, 0400);  /* 0 -> 0400 */
	ck_assert_uint_eq(set_find(&set, "wide")->mode, 0777); /* masked */
	batch_free(&b);
	set_free(&set);
}
END_TEST

START_TEST(partial_input_consumes_whole_frames)
{
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t used, first;
	len = 0;
	secret("a", "f", 0400, "v");
	first = len;
	secret("b", "g", 0400, "w");
	end(2);
	size_t full = len;
	len = first + 5; /* the second frame cut short */
	ck_assert_int_eq(feed(&all, &set, &b, &used), 0);
	ck_assert_uint_eq(used, first);
	ck_assert_uint_eq(set.n, 1);
	/* the rest arrives: the same batch continues from where it stopped */
	ck_assert_int_eq(batch_feed(buf + used, full - used, &all, &set, &b, &used), 1);
	ck_assert_uint_eq(set.n, 2);
	batch_free(&b);
	set_free(&set);
}
END_TEST

START_TEST(two_batches_one_at_a_time)
{
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t used;
	len = 0;
	secret("a", "f", 0400, "v1");
	end(1);
	size_t first = len;
	secret("a", "f", 0400, "v2");
	end(1);
	ck_assert_int_eq(feed(&all, &set, &b, &used), 1);
	ck_assert_uint_eq(used, first);
	ck_assert_mem_eq(set_find(&set, "a")->value, "v1", 2);
	/* END reset the count: the next batch's END 1 is right */
	ck_assert_int_eq(batch_feed(buf + used, len - used, &all, &set, &b, &used), 1);
	ck_assert_mem_eq(set_find(&set, "a")->value, "v2", 2);
	batch_free(&b);
	set_free(&set);
}
END_TEST

START_TEST(named_only_and_file_override)
{
	struct shim_opts o;
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t used;
	memset(&o, 0, sizeof o);
	o.want[0] = (struct shim_want){ "db/password", "pw", false };
	o.n_want = 1;
	len = 0;
	secret("db/password", "db_password", 0400, "x");
	secret("other", "other", 0400, "nope");
	end(2);
	ck_assert_int_eq(feed(&o, &set, &b, &used), 1);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_str_eq(set.s[0].file, "pw");
	ck_assert_ptr_null(set_find(&set, "other"));
	const char *missing[4];
	ck_assert_uint_eq(batch_missing(&o, &set, missing, 4), 0);
	set_del(&set, "db/password");
	ck_assert_uint_eq(batch_missing(&o, &set, missing, 4), 1);
	ck_assert_str_eq(missing[0], "db/password");
	batch_free(&b);
	set_free(&set);
}
END_TEST

START_TEST(denied_and_revoked_remove)
{
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t used;
	len = 0;
	secret("a", "f", 0400, "v");
	secret("b", "g", 0400, "w");
	end(2);
	ck_assert_int_eq(feed(&all, &set, &b, &used), 1);
	batch_free(&b);
	len = 0;
	add(proto_encode_denied(buf, ROOM, "a", "withdrawn"));
	add(proto_encode_revoked(buf + len, ROOM, "b", "g"));
	end(2);
	ck_assert_int_eq(feed(&all, &set, &b, &used), 1);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_uint_eq(b.n_denied, 1);
	ck_assert_str_eq(b.denied[0].reason, "withdrawn");
	ck_assert_uint_eq(b.n_revoked, 1);
	ck_assert_str_eq(b.revoked[0], "b");
	batch_free(&b);
	set_free(&set);
}
END_TEST

START_TEST(agent_error)
{
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t used;
	len = 0;
	add(proto_encode_error(buf, ROOM, PROTO_E_BUSY, "rate limited"));
	ck_assert_int_eq(feed(&all, &set, &b, &used), -EPROTO);
	ck_assert(b.got_error);
	ck_assert_uint_eq(b.error.code, PROTO_E_BUSY);
	ck_assert_str_eq(b.error.reason, "rate limited");
	batch_free(&b);
}
END_TEST

/* Each hostile stream must be refused with -EBADMSG. */
static void hostile(int i)
{
	static const uint8_t zero_len[] = { 0, 0, 0, 0 }, over_cap[] = { 0x7f, 0xff, 0xff, 0xff },
			     unknown[] = { 0, 0, 0, 1, 0x42 };
	len = 0;
	switch (i) {
	case 0:
		secret("a", "../x", 0400, "v");
		end(1);
		break;
	case 1:
		secret("a", ".hidden", 0400, "v");
		end(1);
		break;
	case 2:
		secret("a", "same", 0400, "v");
		secret("b", "same", 0400, "w");
		end(2);
		break;
	case 3:
		secret("a", "f", 0400, "v");
		end(5);
		break;
	case 4:
		secret("a/../b", "f", 0400, "v");
		end(1);
		break;
	case 5:
		memcpy(buf, zero_len, sizeof zero_len);
		len = sizeof zero_len;
		break;
	case 6:
		memcpy(buf, over_cap, sizeof over_cap);
		len = sizeof over_cap;
		break;
	case 7:
		memcpy(buf, unknown, sizeof unknown);
		len = sizeof unknown;
		break;
	case 8: add(proto_encode_request(buf, ROOM, 0, NULL, 0)); break;
	default: /* more messages than a batch may hold (unrequested: no set cap) */
		for (unsigned k = 0; k <= 4 * SHIM_MAX_SECRETS; k++)
			secret("x", "x", 0400, "v");
		break;
	}
}

START_TEST(hostile_replies)
{
	struct shim_set set = { NULL, 0 };
	struct shim_opts one;
	struct batch b;
	size_t used;
	memset(&one, 0, sizeof one);
	one.want[0] = (struct shim_want){ "wanted", NULL, false };
	one.n_want = 1;
	hostile(_i);
	ck_assert_msg(feed(_i == 9 ? &one : &all, &set, &b, &used) == -EBADMSG, "row %d", _i);
	batch_free(&b);
	set_free(&set);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("shim_batch");
	TCase *tc = tcase_create("batch");
	tcase_add_test(tc, whole_batch);
	tcase_add_test(tc, partial_input_consumes_whole_frames);
	tcase_add_test(tc, two_batches_one_at_a_time);
	tcase_add_test(tc, named_only_and_file_override);
	tcase_add_test(tc, denied_and_revoked_remove);
	tcase_add_test(tc, agent_error);
	tcase_add_loop_test(tc, hostile_replies, 0, 10);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
