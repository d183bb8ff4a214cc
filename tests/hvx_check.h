/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One way to run a check suite: TAP on stdout, which tests/tap-run counts,
 * and an exit status that says whether anything failed.
 */
#ifndef HVX_TESTS_CHECK_H
#define HVX_TESTS_CHECK_H

#include <check.h>

static inline int hvx_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif
