// SPDX-License-Identifier: GPL-2.0
/* lib/hvx_ctl: control-socket framing and message shapes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "hvx_check.h"

#include "hvx_ctl.h"
#include "hvx_json.h"

static void frame(struct hvx_ctl_buf *b, const void *payload, uint32_t len,
		  uint32_t claimed)
{
	unsigned char hdr[4] = { claimed >> 24, claimed >> 16, claimed >> 8, claimed };

	ck_assert_int_eq(hvx_ctl_buf_append(b, hdr, 4), 0);
	ck_assert_int_eq(hvx_ctl_buf_append(b, payload, len), 0);
}

START_TEST(roundtrip_bytewise)
{
	struct hvx_ctl_buf enc = { 0 }, dec = { 0 };
	struct json_object *p = json_object_new_object(), *req, *got = NULL, *params;
	const char *method;
	char err[128];

	hvx_json_add_u64(p, "id", 7);
	req = hvx_ctl_request("core.status", p);
	ck_assert_int_eq(hvx_ctl_encode(&enc, req), 0);
	ck_assert_int_eq(hvx_ctl_encode(&enc, req), 0);
	/* Byte by byte: a frame comes out only when complete. */
	for (size_t i = 0; i < enc.len; i++) {
		int ret;

		hvx_ctl_buf_append(&dec, enc.data + i, 1);
		ret = hvx_ctl_decode(&dec, HVX_CTL_FRAME_MAX, &got);
		ck_assert_int_ge(ret, 0);
		if (ret) {
			ck_assert(i == enc.len / 2 - 1 || i == enc.len - 1);
			ck_assert_int_eq(hvx_ctl_parse_request(got, &method, &params,
							       err, sizeof(err)), 0);
			ck_assert_str_eq(method, "core.status");
			ck_assert_uint_eq(hvx_json_u64(params, "id"), 7);
			json_object_put(got);
		}
	}
	ck_assert_uint_eq(dec.len, 0);
	hvx_ctl_buf_free(&enc);
	hvx_ctl_buf_free(&dec);
	json_object_put(req);
	json_object_put(p);
}
END_TEST

START_TEST(truncated)
{
	struct hvx_ctl_buf b = { 0 };
	struct json_object *o = NULL;

	frame(&b, "{\"method\":", 10, 20);
	ck_assert_int_eq(hvx_ctl_decode(&b, HVX_CTL_FRAME_MAX, &o), 0);
	ck_assert_ptr_null(o);
	hvx_ctl_buf_free(&b);
	hvx_ctl_buf_append(&b, "\0\0", 2);	/* half a header */
	ck_assert_int_eq(hvx_ctl_decode(&b, HVX_CTL_FRAME_MAX, &o), 0);
	hvx_ctl_buf_free(&b);
}
END_TEST

START_TEST(oversized)
{
	struct hvx_ctl_buf b = { 0 };
	struct json_object *o = NULL;

	/* Rejected from the header alone, before the payload arrives. */
	frame(&b, "", 0, 1025);
	ck_assert_int_eq(hvx_ctl_decode(&b, 1024, &o), -EMSGSIZE);
	hvx_ctl_buf_free(&b);
	frame(&b, "", 0, 0xffffffff);
	ck_assert_int_eq(hvx_ctl_decode(&b, HVX_CTL_FRAME_MAX, &o), -EMSGSIZE);
	hvx_ctl_buf_free(&b);
}
END_TEST

static const char *const garbage[] = {
	"not json",
	"[1,2,3]",			/* not an object */
	"\"str\"",
	"{\"a\":1} trailing",
	"{\"a\":1}{\"b\":2}",		/* two objects in one frame */
	"{\"a\":",			/* complete frame, incomplete JSON */
	"{\"a\":1\x00}",
	"\xff\xfe{}",
};

START_TEST(garbage_frames)
{
	struct hvx_ctl_buf b = { 0 };
	struct json_object *o = NULL;
	size_t len = _i == 6 ? 9 : strlen(garbage[_i]);

	frame(&b, garbage[_i], len, len);
	ck_assert_int_eq(hvx_ctl_decode(&b, HVX_CTL_FRAME_MAX, &o), -EBADMSG);
	ck_assert_ptr_null(o);
	hvx_ctl_buf_free(&b);
}
END_TEST

START_TEST(empty_frame)
{
	struct hvx_ctl_buf b = { 0 };
	struct json_object *o = NULL;

	frame(&b, "", 0, 0);
	ck_assert_int_eq(hvx_ctl_decode(&b, HVX_CTL_FRAME_MAX, &o), -EBADMSG);
	hvx_ctl_buf_free(&b);
}
END_TEST

static const struct { const char *req; const char *why; } bad_req[] = {
	{ "{}", "no \"method\"" },
	{ "{\"method\":5}", "no \"method\"" },
	{ "{\"method\":\"\"}", "empty" },
	{ "{\"method\":\"core.status\",\"params\":[]}", "must be an object" },
	{ "{\"method\":\"core.status\",\"extra\":1}", "unknown request member" },
	{ "{\"method\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  "longer than" },
};

START_TEST(bad_requests)
{
	struct json_object *o = json_tokener_parse(bad_req[_i].req), *params;
	const char *method;
	char err[128];

	ck_assert_int_eq(hvx_ctl_parse_request(o, &method, &params, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, bad_req[_i].why), "%s", err);
	json_object_put(o);
}
END_TEST

START_TEST(replies)
{
	struct json_object *r, *res;
	char err[128];

	r = hvx_ctl_reply(json_object_new_int(3));
	ck_assert_int_eq(hvx_ctl_parse_reply(r, &res, err, sizeof(err)), 0);
	ck_assert_int_eq(json_object_get_int(res), 3);
	json_object_put(r);

	r = hvx_ctl_error(EPERM, "needs root");
	ck_assert_str_eq(hvx_json_str(r, HVX_JSON_COMPACT),
			 "{\"error\":{\"errno\":1,\"name\":\"EPERM\",\"message\":\"needs root\"}}");
	ck_assert_int_eq(hvx_ctl_parse_reply(r, &res, err, sizeof(err)), -EPERM);
	ck_assert_str_eq(err, "needs root");
	json_object_put(r);

	r = json_tokener_parse("{\"error\":{\"errno\":0,\"message\":\"x\"}}");
	ck_assert_int_eq(hvx_ctl_parse_reply(r, &res, err, sizeof(err)), -EBADMSG);
	json_object_put(r);
	r = json_tokener_parse("{\"nothing\":1}");
	ck_assert_int_eq(hvx_ctl_parse_reply(r, &res, err, sizeof(err)), -EBADMSG);
	json_object_put(r);
}
END_TEST

/* hvx_ctl_call against a tiny in-test server on a socketpair path. */
static char sock_path[108];

static void *serve(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	struct hvx_ctl_buf in = { 0 }, out = { 0 };
	struct json_object *req = NULL, *rep;
	unsigned char buf[256];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		hvx_ctl_buf_append(&in, buf, n);
		if (hvx_ctl_decode(&in, HVX_CTL_FRAME_MAX, &req) == 1)
			break;
	}
	rep = hvx_ctl_error(ENOENT, "no such thing");
	hvx_ctl_encode(&out, rep);
	/* Split the reply to exercise the client's reassembly. */
	write(fd, out.data, 3);
	usleep(10000);
	write(fd, out.data + 3, out.len - 3);
	close(fd);
	json_object_put(rep);
	json_object_put(req);
	hvx_ctl_buf_free(&in);
	hvx_ctl_buf_free(&out);
	return NULL;
}

START_TEST(client_call)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object *res;
	pthread_t t;
	char err[256];
	int lfd;

	snprintf(sock_path, sizeof(sock_path), "/tmp/hvx-ctl-test-%d", getpid());
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	pthread_create(&t, NULL, serve, &lfd);
	ck_assert_int_eq(hvx_ctl_call(sock_path, "x.y", NULL, 5000, &res, err,
				      sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "no such thing");
	pthread_join(t, NULL);
	close(lfd);
	unlink(sock_path);
	ck_assert_int_eq(hvx_ctl_call(sock_path, "x.y", NULL, 500, &res, err,
				      sizeof(err)), -ENOENT);
	ck_assert(strstr(err, "cannot reach hvxd"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("ctl");

	tcase_add_test(tc, roundtrip_bytewise);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, oversized);
	tcase_add_loop_test(tc, garbage_frames, 0, sizeof(garbage) / sizeof(garbage[0]));
	tcase_add_test(tc, empty_frame);
	tcase_add_loop_test(tc, bad_requests, 0, sizeof(bad_req) / sizeof(bad_req[0]));
	tcase_add_test(tc, replies);
	tcase_add_test(tc, client_call);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hvx_check_run(suite());
}
