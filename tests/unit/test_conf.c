// SPDX-License-Identifier: GPL-2.0
/* lib/hvx_conf: schema-checked INI parsing with FILE:LINE errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hvx_check.h"

#include "hvx_conf.h"

struct a { bool on; uint64_t n; uint64_t t; char s[8]; unsigned int e; int c; };
struct b { uint64_t m; };

static const char *const colours[] = { "red", "green", NULL };

static int parse_even(const char *v, void *dst, char *err, size_t len)
{
	int n = atoi(v);

	if (n % 2) {
		snprintf(err, len, "%d is odd", n);
		return -EINVAL;
	}
	*(int *)dst = n;
	return 0;
}

static const struct hvx_conf_key a_keys[] = {
	{ "on", HVX_CONF_BOOL, offsetof(struct a, on), .def = "yes" },
	{ "n", HVX_CONF_UINT, offsetof(struct a, n), .def = "5", .min = 1, .max = 10 },
	{ "t", HVX_CONF_DURATION, offsetof(struct a, t), .def = "2s", .min = 1000,
	  .max = 3600000000ULL },
	{ "s", HVX_CONF_STR, offsetof(struct a, s), .size = 8, .def = "abc" },
	{ "e", HVX_CONF_ENUM, offsetof(struct a, e), .def = "green", .choices = colours },
	{ "c", HVX_CONF_CUSTOM, offsetof(struct a, c), .size = sizeof(int),
	  .parse = parse_even },
	{ NULL }
};

static const struct hvx_conf_key b_keys[] = {
	{ "m", HVX_CONF_UINT, offsetof(struct b, m), .def = "7", .max = 100 },
	{ NULL }
};

static struct a A;
static struct b B;
static const struct hvx_conf_section secs[] = {
	{ "a", a_keys, &A, sizeof(A) },
	{ "b", b_keys, &B, sizeof(B) },
};
static char path[] = "/tmp/hvx-conf-XXXXXX";
static char err[HVX_CONF_ERR_MAX];

static int load(const char *text)
{
	int fd = mkstemp(path);
	int ret;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = '\0';
	ret = hvx_conf_load(path, secs, 2, err, sizeof(err));
	unlink(path);
	strcpy(path, "/tmp/hvx-conf-XXXXXX");
	return ret;
}

/* err must read "<path>:LINE: <msg...>" */
static void expect_err(int line, const char *msg)
{
	char want[64];
	const char *colon = strchr(err, ':');

	ck_assert_msg(colon, "no FILE: in \"%s\"", err);
	snprintf(want, sizeof(want), ":%d: ", line);
	ck_assert_msg(!strncmp(colon, want, strlen(want)), "want %s in \"%s\"", want, err);
	ck_assert_msg(strstr(err, msg), "want \"%s\" in \"%s\"", msg, err);
}

START_TEST(defaults)
{
	ck_assert_int_eq(hvx_conf_defaults(secs, 2, err, sizeof(err)), 0);
	ck_assert(A.on);
	ck_assert_uint_eq(A.n, 5);
	ck_assert_uint_eq(A.t, 2000000);
	ck_assert_str_eq(A.s, "abc");
	ck_assert_uint_eq(A.e, 1);
	ck_assert_uint_eq(B.m, 7);
}
END_TEST

START_TEST(full_file)
{
	ck_assert_int_eq(load("# comment\n[a]\non = off\nn = 10\nt = 250ms\n"
			      "s = 1234567\ne = red\nc = 4\n\n[b]\nm = 0x10\n"), 0);
	ck_assert(!A.on);
	ck_assert_uint_eq(A.n, 10);
	ck_assert_uint_eq(A.t, 250000);
	ck_assert_str_eq(A.s, "1234567");
	ck_assert_uint_eq(A.e, 0);
	ck_assert_int_eq(A.c, 4);
	ck_assert_uint_eq(B.m, 16);
}
END_TEST

START_TEST(durations)
{
	uint64_t u;

	ck_assert_int_eq(hvx_conf_parse_duration("3", &u), 0);
	ck_assert_uint_eq(u, 3000000);
	ck_assert_int_eq(hvx_conf_parse_duration("5min", &u), 0);
	ck_assert_uint_eq(u, 300000000);
	ck_assert_int_eq(hvx_conf_parse_duration("1h", &u), 0);
	ck_assert_uint_eq(u, 3600000000ULL);
	ck_assert_int_eq(hvx_conf_parse_duration("7us", &u), 0);
	ck_assert_uint_eq(u, 7);
	ck_assert_int_eq(hvx_conf_parse_duration("", &u), -EINVAL);
	ck_assert_int_eq(hvx_conf_parse_duration("-1s", &u), -EINVAL);
	ck_assert_int_eq(hvx_conf_parse_duration("1 s", &u), -EINVAL);
	ck_assert_int_eq(hvx_conf_parse_duration("1d", &u), -EINVAL);
	ck_assert_int_eq(hvx_conf_parse_duration("99999999999999999h", &u), -EINVAL);
}
END_TEST

/* Each bad file: the error names the line and the problem, and the
 * previous values survive. */
static const struct { const char *text; int line; const char *msg; } bad[] = {
	{ "[a]\nn = 3\nbogus = 1\n", 3, "unknown key \"bogus\" in section [a]" },
	{ "[a]\n[zz]\nx = 1\n", 3, "unknown section [zz]" },
	{ "x = 1\n", 1, "outside any [section]" },
	{ "[a]\nn = 11\n", 2, "from 1 to 10" },
	{ "[a]\nn = 0\n", 2, "from 1 to 10" },
	{ "[a]\nn = -3\n", 2, "from 1 to 10" },
	{ "[a]\nn = 3x\n", 2, "got \"3x\"" },
	{ "[b]\nm = 99999999999999999999999\n", 2, "from 0 to 100" },
	{ "[a]\non = maybe\n", 2, "expected yes or no" },
	{ "[a]\nt = 1d\n", 2, "expected a duration" },
	{ "[a]\nt = 2h\n", 2, "expected a duration" },
	{ "[a]\ns = 12345678\n", 2, "longer than 7" },
	{ "[a]\ne = blue\n", 2, "\"blue\" is not one of red green" },
	{ "[a]\nc = 3\n", 2, "c: 3 is odd" },
	{ "[a]\nn = 2\nn = 3\n", 3, "set twice" },
	{ "[a\nn = 2\n", 1, "syntax error" },
	{ "[a]\njust words\n", 2, "syntax error" },
	{ "[a]\nn = 2\n[a]\nn = 4\n", 4, "set twice" },
};

START_TEST(bad_files)
{
	ck_assert_int_eq(load("[a]\nn = 9\n"), 0);
	ck_assert_int_eq(load(bad[_i].text), -EINVAL);
	expect_err(bad[_i].line, bad[_i].msg);
	ck_assert_uint_eq(A.n, 9);
}
END_TEST

START_TEST(missing_file)
{
	ck_assert_int_eq(hvx_conf_load("/nonexistent/hvxd.conf", secs, 2, err,
				       sizeof(err)), -ENOENT);
	ck_assert(strstr(err, "/nonexistent/hvxd.conf"));
}
END_TEST

START_TEST(bad_default)
{
	static const struct hvx_conf_key k[] = {
		{ "n", HVX_CONF_UINT, 0, .def = "50", .max = 10 },
		{ NULL }
	};
	uint64_t v;
	const struct hvx_conf_section s = { "x", k, &v, sizeof(v) };

	ck_assert_int_eq(hvx_conf_defaults(&s, 1, err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "[x] n"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, full_file);
	tcase_add_test(tc, durations);
	tcase_add_loop_test(tc, bad_files, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, bad_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hvx_check_run(suite());
}
