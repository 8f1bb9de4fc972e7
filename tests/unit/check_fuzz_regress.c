/* SPDX-License-Identifier: MIT */
/* Regression tests for inputs the fuzzers found (tests/fuzz/corpus/fuzz_X/crash-NAME):
 * each crash input, decoded the way the harness did, must now be rejected
 * cleanly. One test per finding; see docs/fuzzing.md. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ks_internal.h"
#include "proto.h"

/* fuzz_keystore, crash-sealed-no-name: a sealed record whose "name" key is
 * missing reached proto_secret_name_valid(NULL) through ks_sealed_decode. */
START_TEST(sealed_record_without_name)
{
	static const char doc[] =
		"{\"format\": \"keyhole-sealed\", \"format_version\": 1, \"namepe\": \"ci/token\","
		" \"record\": {\"created\": 1, \"ct\": \"AAAAAAAAAAAAAAAAAAAAAA==\", \"epk\": \"x\","
		" \"nonce\": \"y\", \"version\": 4}, \"store_id\": \"0123456789abcdef\"}";
	char id[KS_ID_MAX + 1], *name = NULL;
	struct ks_ver v;
	ck_assert_int_eq(ks_sealed_decode(doc, strlen(doc), id, &name, &v), -EBADMSG);
	ck_assert_ptr_null(name);
}
END_TEST

/* The same finding at its root: both validators treat NULL as invalid. */
START_TEST(validators_reject_null)
{
	ck_assert(!proto_secret_name_valid(NULL));
	ck_assert(!proto_file_name_valid(NULL));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("crashes");
	tcase_add_test(tc, sealed_record_without_name);
	tcase_add_test(tc, validators_reject_null);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
