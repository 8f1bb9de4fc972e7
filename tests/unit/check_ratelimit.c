/* SPDX-License-Identifier: MIT */
/* agent/ratelimit.c: burst, refill at the rate, identities independent,
 * rate 0 = off, a full table recycles the least recently used bucket. */
#include <check.h>
#include <errno.h>
#include <stdio.h>

#include "check_main.h"
#include "ratelimit.h"

START_TEST(burst_then_refill)
{
	struct rl_table *t = rl_new(10, 5, 0); /* 10/s, burst 5 */
	int ok = 0;

	for (int i = 0; i < 20; i++)
		ok += rl_take(t, "host:uid:1", 1000);
	ck_assert_int_eq(ok, 5);
	ck_assert(!rl_take(t, "host:uid:1", 1050)); /* 0.5 token */
	ck_assert(rl_take(t, "host:uid:1", 1100));  /* 1 token after 100 ms */
	ck_assert(!rl_take(t, "host:uid:1", 1100));
	ok = 0;
	for (int i = 0; i < 20; i++) /* a long pause refills to the burst only */
		ok += rl_take(t, "host:uid:1", 100000);
	ck_assert_int_eq(ok, 5);
	rl_free(t);
}
END_TEST

START_TEST(identities_independent)
{
	struct rl_table *t = rl_new(1, 2, 0);

	ck_assert(rl_take(t, "host:uid:65534", 0));
	ck_assert(rl_take(t, "host:uid:65534", 0));
	ck_assert(!rl_take(t, "host:uid:65534", 0));
	ck_assert(rl_take(t, "host:uid:0", 0)); /* the flood did not touch root's */
	ck_assert(rl_take(t, "docker:abc", 0));
	rl_free(t);
}
END_TEST

START_TEST(rate_zero_is_off)
{
	struct rl_table *t = rl_new(0, 1, 0);

	for (int i = 0; i < 1000; i++)
		ck_assert(rl_take(t, "x", 0));
	rl_free(t);
	ck_assert(rl_take(NULL, "x", 0));
}
END_TEST

START_TEST(many_identities_bounded)
{
	struct rl_table *t = rl_new(1, 1, 0);
	char key[32];

	for (int i = 0; i < 20000; i++) { /* more than the table holds */
		snprintf(key, sizeof(key), "host:uid:%d", i);
		ck_assert(rl_take(t, key, (uint64_t)i));
	}
	ck_assert(!rl_take(t, "host:uid:19999", 19999)); /* recent: still tracked */
	rl_free(t);
}
END_TEST

START_TEST(concurrent_counts)
{
	struct rl_table *t = rl_new(0, 1, 4);
	struct rl_ident *a, *b, *c;
	char key[32];

	ck_assert_int_eq(rl_conn_get(t, "host:uid:5", 0, 2, &a), 0);
	ck_assert_int_eq(rl_conn_get(t, "host:uid:5", 0, 2, &b), 0);
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(rl_conn_get(t, "host:uid:5", 0, 2, &c), -EBUSY);
	ck_assert_int_eq(rl_conn_get(t, "host:uid:0", 0, 0, &c), 0); /* 0 = uncapped */
	ck_assert_int_eq(rl_watch_get(a, 1), 0);
	ck_assert_int_eq(rl_watch_get(a, 1), -EBUSY);
	rl_watch_put(a);
	ck_assert_int_eq(rl_watch_get(a, 1), 0);
	/* identities holding connections survive a flood of new identities */
	for (int i = 0; i < 20000; i++) {
		struct rl_ident *x;
		snprintf(key, sizeof(key), "docker:%d", i);
		ck_assert_int_eq(rl_conn_get(t, key, (uint64_t)i, 0, &x), 0);
		rl_conn_put(x);
	}
	ck_assert_uint_eq(rl_conns(a), 2);
	ck_assert_int_eq(rl_conn_get(t, "host:uid:5", 99999, 2, &c), -EBUSY);
	rl_conn_put(a);
	ck_assert_int_eq(rl_conn_get(t, "host:uid:5", 99999, 2, &c), 0);
	rl_free(t);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, burst_then_refill);
	tcase_add_test(tc, identities_independent);
	tcase_add_test(tc, rate_zero_is_off);
	tcase_add_test(tc, many_identities_bounded);
	tcase_add_test(tc, concurrent_counts);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
