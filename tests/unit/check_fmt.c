/* SPDX-License-Identifier: MIT */
/* Unit tests for common/fmt.c, the shim's stdio-free snprintf: every
 * conversion it knows gives what libc's snprintf gives, truncation always
 * NUL-terminates and returns the full length, and unknown conversions are
 * copied, never interpreted. */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "fmt.h"

#define SAME(...)                                                                                  \
	do {                                                                                       \
		char a[256], b[256];                                                               \
		size_t n = fmt_snprintf(a, sizeof a, __VA_ARGS__);                                 \
		int m = snprintf(b, sizeof b, __VA_ARGS__);                                        \
		ck_assert_str_eq(a, b);                                                            \
		ck_assert_uint_eq(n, (size_t)m);                                                   \
	} while (0)

START_TEST(like_libc)
{
	SAME("plain");
	SAME("%s: %s", "keyhole-shim", "agent unreachable at /run/keyhole/agent.sock");
	SAME("%d %i %d %d", 0, -7, INT32_MAX, INT32_MIN);
	SAME("%u %u %x %x", 0u, UINT32_MAX, 255u, 0xdeadbeefu);
	SAME("%ld %lu %lld %llu", -5L, 123456789UL, (long long)INT64_MIN,
	     (unsigned long long)UINT64_MAX);
	SAME("%zu secret(s) missing; not starting %s", (size_t)3, "/app");
	SAME("%c%c%%", 'o', 'k');
	SAME("[%.3s] [%.*s]", "abcdef", 2, "xyz");
	SAME("..v%lu", 42UL);
}
END_TEST

START_TEST(truncates)
{
	char b[8];
	memset(b, 'X', sizeof b);
	ck_assert_uint_eq(fmt_snprintf(b, sizeof b, "%s-%u", "abcdef", 12345u), 12);
	ck_assert_str_eq(b, "abcdef-");
	ck_assert_uint_eq(fmt_snprintf(b, 1, "abc"), 3);
	ck_assert_str_eq(b, "");
	ck_assert_uint_eq(fmt_snprintf(NULL, 0, "abc%d", 12), 5);
}
END_TEST

/* Through a va_list, so the compiler's format check does not see it. */
static size_t via_va(char *b, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	size_t n = fmt_vsnprintf(b, cap, f, ap);
	va_end(ap);
	return n;
}

START_TEST(unknown_copied)
{
	char b[64];
	const char *f = "%q %";
	ck_assert_uint_eq(via_va(b, sizeof b, f, 0), 4);
	ck_assert_str_eq(b, "%q %");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("fmt");
	tcase_add_test(tc, like_libc);
	tcase_add_test(tc, truncates);
	tcase_add_test(tc, unknown_copied);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
