/* SPDX-License-Identifier: MIT */
/* The one main() of every Check suite: CHECK_MAIN(fn) runs the Suite that
 * fn() builds and exits non-zero when any test failed. A suite that needs
 * set-up before running (umask, env) does it inside fn(). */
#ifndef KH_CHECK_MAIN_H
#define KH_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline int check_main_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Root-only test cases: added to s when running as root; otherwise each of
 * their n tests is reported skipped ("SKIP: N checks (suite/tcase): needs
 * root", which tests/run.sh counts), never passed. */
static inline void check_add_root_tcase(Suite *s, TCase *tc, const char *name, int n)
{
	if (geteuid() == 0) {
		suite_add_tcase(s, tc);
		return;
	}
	printf("SKIP: %d checks (%s): needs root\n", n, name);
}

#define CHECK_MAIN(fn)                                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		return check_main_run(fn());                                                       \
	}

#endif
