/* SPDX-License-Identifier: MIT */
/* common/text.c: the one 64-hex id check and the terminal sanitizer. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "text.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(id64)
{
	char s[80];

	ck_assert(text_is_id64(ID));
	ck_assert(!text_is_id64(""));
	ck_assert(!text_is_id64(ID "0"));    /* 65 */
	snprintf(s, sizeof(s), "%.63s", ID); /* 63 */
	ck_assert(!text_is_id64(s));
	snprintf(s, sizeof(s), "%s", ID);
	s[10] = 'A'; /* upper case is not what engines print */
	ck_assert(!text_is_id64(s));
	s[10] = 'g';
	ck_assert(!text_is_id64(s));
	ck_assert(text_is_hex("", 0));
	ck_assert(text_is_hex("ab", 2));
	ck_assert(!text_is_hex("a/", 2));
}
END_TEST

START_TEST(sanitize)
{
	char s[] = "a\x1b[2Jb\n\x7f\tc\xc3\xa9";
	char buf[6];

	text_sanitize(s);
	ck_assert_str_eq(s, "a?[2Jb???c\xc3\xa9"); /* UTF-8 passes, C0 and DEL do not */
	ck_assert_str_eq(text_safe("x\x01yz-long", buf, sizeof(buf)), "x?yz-");
	ck_assert_str_eq(text_safe("", buf, sizeof(buf)), "");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, id64);
	tcase_add_test(tc, sanitize);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
