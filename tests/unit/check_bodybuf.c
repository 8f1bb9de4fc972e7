/* SPDX-License-Identifier: MIT */
/* common/bodybuf.c: the size-capped reply collector. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "bodybuf.h"

START_TEST(collects_and_terminates)
{
	struct bodybuf b = { .max = 10 };
	char a[] = "hello", c[] = "world";

	ck_assert_uint_eq(bodybuf_write(a, 1, 5, &b), 5);
	ck_assert_uint_eq(bodybuf_write(c, 5, 1, &b), 5);
	ck_assert_str_eq(b.p, "helloworld");
	ck_assert_uint_eq(b.len, 10);
	ck_assert(!b.over);
	ck_assert_uint_le(b.cap, 11); /* never past max + NUL */
	bodybuf_free(&b);
	ck_assert_ptr_null(b.p);
}
END_TEST

START_TEST(over_cap_aborts)
{
	struct bodybuf b = { .max = 4 };
	char a[] = "12345";

	ck_assert_uint_eq(bodybuf_write(a, 1, 5, &b), 0);
	ck_assert(b.over);
	ck_assert_uint_eq(b.len, 0);
	bodybuf_free(&b);
	b = (struct bodybuf){ .max = 4 };
	ck_assert_uint_eq(bodybuf_write(a, 1, 4, &b), 4);
	ck_assert_uint_eq(bodybuf_write(a, 1, 1, &b), 0); /* one byte too many */
	ck_assert(b.over);
	ck_assert_str_eq(b.p, "1234");
	bodybuf_free(&b);
}
END_TEST

START_TEST(size_overflow_refused)
{
	struct bodybuf b = { .max = SIZE_MAX - 1 };
	char a[1] = { 'x' };

	ck_assert_uint_eq(bodybuf_write(a, SIZE_MAX / 2 + 1, 2, &b), 0);
	ck_assert(b.over);
	bodybuf_free(&b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("bodybuf");
	TCase *tc = tcase_create("bodybuf");

	tcase_add_test(tc, collects_and_terminates);
	tcase_add_test(tc, over_cap_aborts);
	tcase_add_test(tc, size_overflow_refused);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
