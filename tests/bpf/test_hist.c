// SPDX-License-Identifier: GPL-2.0
/* bpf/hist.c: the libbpf-tools text layout and its JSON twin. */
#include <stdlib.h>
#include <string.h>
#include "hvx_check.h"
#include "hist.h"

static char *print(const uint32_t *slots, int n, const char *unit)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	hist_print_log2(f, slots, n, unit);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

START_TEST(empty_prints_nothing)
{
	uint32_t slots[27] = { 0 };
	char *s = print(slots, 27, "usecs");

	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* Byte for byte what libbpf-tools' print_log2_hist prints. */
START_TEST(text_layout)
{
	uint32_t slots[27] = { [0] = 1, [2] = 4, [3] = 2 };
	char *s = print(slots, 27, "usecs");

	ck_assert_str_eq(s,
		"     usecs               : count    distribution\n"
		"         0 -> 1          : 1        |**********                              |\n"
		"         2 -> 3          : 0        |                                        |\n"
		"         4 -> 7          : 4        |****************************************|\n"
		"         8 -> 15         : 2        |********************                    |\n");
	free(s);
}
END_TEST

/* Past slot 32 the ranges need 20 columns and the bars shrink to 20. */
START_TEST(text_wide)
{
	uint32_t slots[40] = { [33] = 3 };
	char *s = print(slots, 40, "nsecs");
	char *last = strrchr(s, '\n');

	ck_assert_ptr_nonnull(strstr(s,
		"               nsecs                         : count    distribution\n"));
	*last = '\0';
	last = strrchr(s, '\n');
	ck_assert_str_eq(last + 1,
		"          8589934592 -> 17179869183          : 3        |********************|");
	free(s);
}
END_TEST

START_TEST(json_buckets)
{
	uint32_t slots[27] = { [0] = 5, [4] = 1, [26] = 2 };
	struct json_object *o = hist_json_log2(slots, 27, "msecs");

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"unit\":\"msecs\",\"total\":8,\"buckets\":["
		"{\"low\":0,\"high\":1,\"count\":5},"
		"{\"low\":16,\"high\":31,\"count\":1},"
		"{\"low\":67108864,\"high\":134217727,\"count\":2}]}");
	json_object_put(o);
}
END_TEST

START_TEST(json_empty)
{
	uint32_t slots[27] = { 0 };
	struct json_object *o = hist_json_log2(slots, 27, "usecs");

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"unit\":\"usecs\",\"total\":0,\"buckets\":[]}");
	json_object_put(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bpf_hist");
	TCase *tc = tcase_create("hist");

	tcase_add_test(tc, empty_prints_nothing);
	tcase_add_test(tc, text_layout);
	tcase_add_test(tc, text_wide);
	tcase_add_test(tc, json_buckets);
	tcase_add_test(tc, json_empty);
	suite_add_tcase(s, tc);
	return hvx_check_run(s);
}
