// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hvx_ctl.h"
#include "hvx_json.h"

const char *hvx_errno_name(int err)
{
	return strerrorname_np(err < 0 ? -err : err);
}

int hvx_ctl_buf_append(struct hvx_ctl_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void hvx_ctl_buf_consume(struct hvx_ctl_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void hvx_ctl_buf_free(struct hvx_ctl_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int hvx_ctl_encode(struct hvx_ctl_buf *out, struct json_object *msg)
{
	const char *s = hvx_json_str(msg, HVX_JSON_COMPACT);
	unsigned char hdr[HVX_CTL_HDR];
	size_t n;
	int ret;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n > HVX_CTL_FRAME_MAX)
		return -EMSGSIZE;
	hdr[0] = n >> 24;
	hdr[1] = n >> 16;
	hdr[2] = n >> 8;
	hdr[3] = n;
	ret = hvx_ctl_buf_append(out, hdr, sizeof(hdr));
	if (!ret)
		ret = hvx_ctl_buf_append(out, s, n);
	return ret;
}

int hvx_ctl_decode(struct hvx_ctl_buf *in, size_t max, struct json_object **msg)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t n;

	if (in->len < HVX_CTL_HDR)
		return 0;
	n = (size_t)in->data[0] << 24 | (size_t)in->data[1] << 16 |
	    (size_t)in->data[2] << 8 | in->data[3];
	if (n > max)
		return -EMSGSIZE;
	if (in->len - HVX_CTL_HDR < n)
		return 0;
	if (!n)
		return -EBADMSG;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, (const char *)in->data + HVX_CTL_HDR, n);
	/* One complete object and nothing after it. */
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	hvx_ctl_buf_consume(in, HVX_CTL_HDR + n);
	*msg = o;
	return 1;
}

struct json_object *hvx_ctl_request(const char *method, struct json_object *params)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		goto err;
	if (hvx_json_add_str(o, "method", method))
		goto err;
	if (params && hvx_json_add(o, "params", json_object_get(params))) {
		json_object_put(o);
		return NULL;
	}
	return o;
err:
	json_object_put(o);
	return NULL;
}

int hvx_ctl_parse_request(struct json_object *req, const char **method,
			  struct json_object **params, char *err, size_t errlen)
{
	struct json_object *p = NULL;
	int ret;

	json_object_object_foreach(req, key, val) {
		(void)val;
		if (strcmp(key, "method") && strcmp(key, "params")) {
			snprintf(err, errlen, "unknown request member \"%s\"", key);
			return -EINVAL;
		}
	}
	ret = hvx_json_get_str(req, "method", method);
	if (ret) {
		snprintf(err, errlen, "request has no \"method\" string");
		return -EINVAL;
	}
	if (!**method || strlen(*method) >= HVX_CTL_METHOD_MAX) {
		snprintf(err, errlen, "method name empty or longer than %d",
			 HVX_CTL_METHOD_MAX - 1);
		return -EINVAL;
	}
	if (json_object_object_get_ex(req, "params", &p) &&
	    !json_object_is_type(p, json_type_object)) {
		snprintf(err, errlen, "\"params\" must be an object");
		return -EINVAL;
	}
	*params = p;
	return 0;
}

struct json_object *hvx_ctl_reply(struct json_object *result)
{
	struct json_object *o = json_object_new_object();

	if (o && hvx_json_add(o, "result",
			      result ? result : json_object_new_object())) {
		json_object_put(o);
		return NULL;
	}
	if (!o)
		json_object_put(result);
	return o;
}

struct json_object *hvx_ctl_error(int err, const char *message)
{
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();
	const char *name = hvx_errno_name(err);

	if (err < 0)
		err = -err;
	if (!o || !e || hvx_json_add_i64(e, "errno", err) ||
	    hvx_json_add_str(e, "name", name ? name : "") ||
	    hvx_json_add_str(e, "message", message ? message : strerror(err)))
		goto err;
	if (hvx_json_add(o, "error", e)) {
		json_object_put(o);
		return NULL;
	}
	return o;
err:
	json_object_put(e);
	json_object_put(o);
	return NULL;
}

int hvx_ctl_parse_reply(struct json_object *reply, struct json_object **result,
			char *err, size_t errlen)
{
	struct json_object *e;
	const char *m;
	uint64_t code;

	if (json_object_object_get_ex(reply, "result", result))
		return 0;
	if (!json_object_object_get_ex(reply, "error", &e) ||
	    hvx_json_get_u64(e, "errno", &code) || !code || code > 4095 ||
	    hvx_json_get_str(e, "message", &m)) {
		snprintf(err, errlen, "malformed reply from the daemon");
		return -EBADMSG;
	}
	snprintf(err, errlen, "%s", m);
	return -(int)code;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - now_ms();
	int ret;

	if (left < 0)
		left = 0;
	ret = poll(&p, 1, (int)left);
	if (ret < 0)
		return -errno;
	return ret ? 0 : -ETIMEDOUT;
}

int hvx_ctl_call(const char *path, const char *method, struct json_object *params,
		 int timeout_ms, struct json_object **result, char *err,
		 size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hvx_ctl_buf out = { 0 }, in = { 0 };
	struct json_object *req, *reply = NULL, *res;
	int64_t deadline = now_ms() + timeout_ms;
	size_t sent = 0;
	int fd = -1, ret;

	*result = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	req = hvx_ctl_request(method, params);
	if (!req || hvx_ctl_encode(&out, req)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "building the request");
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot reach hvxd at %s", path);
		goto out;
	}
	while (sent < out.len) {
		ssize_t n = send(fd, out.data + sent, out.len - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			ret = wait_fd(fd, POLLOUT, deadline);
		else if (n < 0)
			ret = -errno;
		else
			sent += n, ret = 0;
		if (ret)
			goto io_err;
	}
	for (;;) {
		unsigned char buf[16384];
		ssize_t n;

		ret = hvx_ctl_decode(&in, HVX_CTL_FRAME_MAX, &reply);
		if (ret < 0)
			goto io_err;
		if (ret)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EAGAIN) {
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret)
				goto io_err;
			continue;
		}
		if (n <= 0) {
			ret = n ? -errno : -ECONNRESET;
			goto io_err;
		}
		ret = hvx_ctl_buf_append(&in, buf, n);
		if (ret)
			goto io_err;
	}
	ret = hvx_ctl_parse_reply(reply, &res, err, errlen);
	if (!ret)
		*result = json_object_get(res);
	goto out;
io_err:
	snprintf(err, errlen, "talking to hvxd at %s", path);
out:
	if (fd >= 0)
		close(fd);
	json_object_put(reply);
	json_object_put(req);
	hvx_ctl_buf_free(&in);
	hvx_ctl_buf_free(&out);
	return ret;
}
