/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvxctl <-> hvxd control protocol, over an AF_UNIX stream socket.
 *
 * Frame: a 4-byte big-endian length, then that many bytes of one JSON
 * object (UTF-8, no trailing data). A connection carries requests and their
 * replies in order:
 *
 *   request  {"method": "core.status", "params": {...}}   params optional
 *   reply    {"result": {...}}
 *   error    {"error": {"errno": 1, "name": "EPERM", "message": "..."}}
 */
#ifndef HVX_CTL_H
#define HVX_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define HVX_CTL_PATH		"/run/hvx/hvxd.sock"
#define HVX_CTL_HDR		4
/* Largest frame either side accepts; bigger ones are a protocol error. */
#define HVX_CTL_FRAME_MAX	(4u << 20)
#define HVX_CTL_METHOD_MAX	64

struct hvx_ctl_buf {
	unsigned char *data;
	size_t len, cap;
};

int hvx_ctl_buf_append(struct hvx_ctl_buf *b, const void *p, size_t n);
void hvx_ctl_buf_consume(struct hvx_ctl_buf *b, size_t n);
void hvx_ctl_buf_free(struct hvx_ctl_buf *b);

/* Append one frame carrying @msg. 0, -ENOMEM or -EMSGSIZE. */
int hvx_ctl_encode(struct hvx_ctl_buf *out, struct json_object *msg);
/*
 * Take the next frame out of @in: 1 with *@msg set (a JSON object),
 * 0 when more bytes are needed, -EMSGSIZE for a frame over @max bytes,
 * -EBADMSG when the payload is not exactly one JSON object. After an
 * error the stream cannot be resynchronised: close it.
 */
int hvx_ctl_decode(struct hvx_ctl_buf *in, size_t max, struct json_object **msg);

/* Request/reply shapes. */
struct json_object *hvx_ctl_request(const char *method, struct json_object *params);
/* 0, or -EINVAL with the reason in @err. *@params may be NULL. */
int hvx_ctl_parse_request(struct json_object *req, const char **method,
			  struct json_object **params, char *err, size_t errlen);
struct json_object *hvx_ctl_reply(struct json_object *result);
struct json_object *hvx_ctl_error(int err, const char *message);
/*
 * 0 with *@result borrowed from @reply (may be NULL), the daemon's -errno
 * with its message in @err, or -EBADMSG for a malformed reply.
 */
int hvx_ctl_parse_reply(struct json_object *reply, struct json_object **result,
			char *err, size_t errlen);

/*
 * Client: connect to @path, send one request, wait up to @timeout_ms for
 * its reply. Returns 0 with *@result owned by the caller, or -errno with a
 * message in @err: the daemon's, or what failed while reaching it (the
 * caller adds strerror).
 */
int hvx_ctl_call(const char *path, const char *method, struct json_object *params,
		 int timeout_ms, struct json_object **result, char *err,
		 size_t errlen);

/* "EPERM" for 1...; NULL when unknown. */
const char *hvx_errno_name(int err);

#endif /* HVX_CTL_H */
