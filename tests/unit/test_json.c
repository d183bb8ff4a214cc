// SPDX-License-Identifier: GPL-2.0
/* lib/hvx_json: the JSON writer and typed getters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hvx_check.h"

#include "hvx_json.h"

static char *written(struct json_object *o, enum hvx_json_style style)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(hvx_json_write(f, o, style), 0);
	fclose(f);
	return buf;
}

START_TEST(compact)
{
	struct json_object *o = json_object_new_object();
	char *s;

	ck_assert_int_eq(hvx_json_add_str(o, "name", "vm/1 \"x\"\n\t\x01"), 0);
	ck_assert_int_eq(hvx_json_add_u64(o, "big", UINT64_MAX), 0);
	ck_assert_int_eq(hvx_json_add_i64(o, "neg", -5), 0);
	ck_assert_int_eq(hvx_json_add_bool(o, "ok", true), 0);
	s = written(o, HVX_JSON_COMPACT);
	ck_assert_str_eq(s, "{\"name\":\"vm/1 \\\"x\\\"\\n\\t\\u0001\","
			 "\"big\":18446744073709551615,\"neg\":-5,\"ok\":true}\n");
	free(s);
	json_object_put(o);
}
END_TEST

START_TEST(pretty)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	char *s;

	json_object_array_add(a, json_object_new_int(1));
	ck_assert_int_eq(hvx_json_add(o, "a", a), 0);
	s = written(o, HVX_JSON_PRETTY);
	ck_assert_str_eq(s, "{\n  \"a\": [\n    1\n  ]\n}\n");
	free(s);
	json_object_put(o);
}
END_TEST

START_TEST(roundtrip_utf8)
{
	struct json_object *o = json_object_new_object(), *p;
	const char *v;
	char *s;

	hvx_json_add_str(o, "k", "h\xc3\xa9llo \xe2\x82\xac");
	s = written(o, HVX_JSON_COMPACT);
	p = json_tokener_parse(s);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(hvx_json_get_str(p, "k", &v), 0);
	ck_assert_str_eq(v, "h\xc3\xa9llo \xe2\x82\xac");
	free(s);
	json_object_put(p);
	json_object_put(o);
}
END_TEST

START_TEST(write_error)
{
	struct json_object *o = json_object_new_object();
	FILE *f = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(f);
	hvx_json_add_str(o, "k", "v");
	ck_assert_int_eq(hvx_json_write(f, o, HVX_JSON_COMPACT), -ENOSPC);
	fclose(f);
	json_object_put(o);
}
END_TEST

START_TEST(getters)
{
	struct json_object *o = json_tokener_parse(
		"{\"s\":\"x\",\"n\":42,\"neg\":-1,\"big\":18446744073709551615,"
		"\"f\":1.5,\"b\":false,\"str_n\":\"42\"}");
	const char *s;
	uint64_t n;
	bool b = true;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(hvx_json_get_str(o, "s", &s), 0);
	ck_assert_str_eq(s, "x");
	ck_assert_int_eq(hvx_json_get_u64(o, "n", &n), 0);
	ck_assert_uint_eq(n, 42);
	ck_assert_int_eq(hvx_json_get_u64(o, "big", &n), 0);
	ck_assert_uint_eq(n, UINT64_MAX);
	ck_assert_int_eq(hvx_json_get_u64(o, "neg", &n), -EINVAL);
	ck_assert_int_eq(hvx_json_get_u64(o, "f", &n), -EINVAL);
	ck_assert_int_eq(hvx_json_get_u64(o, "str_n", &n), -EINVAL);
	ck_assert_int_eq(hvx_json_get_u64(o, "absent", &n), -ENOENT);
	ck_assert_int_eq(hvx_json_get_str(o, "n", &s), -EINVAL);
	ck_assert_int_eq(hvx_json_get_bool(o, "b", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(hvx_json_get_bool(NULL, "b", &b), -ENOENT);
	ck_assert_str_eq(hvx_json_text(o, "absent", "dflt"), "dflt");
	ck_assert_str_eq(hvx_json_text(o, "n", "dflt"), "42");
	ck_assert_uint_eq(hvx_json_u64(o, "s"), 0);
	json_object_put(o);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, compact);
	tcase_add_test(tc, pretty);
	tcase_add_test(tc, roundtrip_utf8);
	tcase_add_test(tc, write_error);
	tcase_add_test(tc, getters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hvx_check_run(suite());
}
