// SPDX-License-Identifier: GPL-2.0
/*
 * QMP watcher (see pm_qmp.h). QMP is a stream of JSON objects, one per
 * line ("\r\n"-terminated); the handshake is greeting -> qmp_capabilities
 * -> migrate-set-capabilities events=on, each answered by a "return" with
 * the id we sent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "pm_qmp.h"

/* QEMU's replies here are small; a longer line is not a QEMU we know. */
#define QMP_LINE_MAX (1u << 20)
#define RETRY_MIN_USEC 50000ULL
#define RETRY_MAX_USEC 1000000ULL

struct pm_qmp {
	sd_event *ev;
	char path[108];
	const struct pm_qmp_ops *ops;
	void *userdata;
	enum pm_qmp_state state;
	int fd;
	sd_event_source *io, *retry;
	uint64_t retry_usec;
	char *in;
	size_t in_len;
	bool greeted, caps_done;
	/* Incoming migration: QEMU emits RESUME before MIGRATION completed. */
	bool migrating, completed, resumed;
	char migration[32];
	char error[160];
};

const char *pm_qmp_state_name(enum pm_qmp_state s)
{
	switch (s) {
	case PM_QMP_HANDSHAKE:
		return "handshake";
	case PM_QMP_READY:
		return "ready";
	default:
		return "connecting";
	}
}

enum pm_qmp_state pm_qmp_state(const struct pm_qmp *q) { return q->state; }
const char *pm_qmp_path(const struct pm_qmp *q) { return q->path; }
const char *pm_qmp_error(const struct pm_qmp *q) { return q->error; }
const char *pm_qmp_migration(const struct pm_qmp *q) { return q->migration; }

static void set_state(struct pm_qmp *q, enum pm_qmp_state s)
{
	if (q->state == s)
		return;
	q->state = s;
	if (q->ops->state)
		q->ops->state(q, s, q->error, q->userdata);
}

static int start_connect(struct pm_qmp *q);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	start_connect(userdata);
	return 0;
}

/* Drop the connection and try again later, backing off. */
static void drop(struct pm_qmp *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void drop(struct pm_qmp *q, const char *fmt, ...)
{
	uint64_t t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	q->io = sd_event_source_disable_unref(q->io);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->in_len = 0;
	q->greeted = q->caps_done = false;
	q->migrating = q->completed = q->resumed = false;
	set_state(q, PM_QMP_CONNECTING);
	sd_event_now(q->ev, CLOCK_MONOTONIC, &t);
	q->retry_usec = q->retry_usec ? q->retry_usec * 2 : RETRY_MIN_USEC;
	if (q->retry_usec > RETRY_MAX_USEC)
		q->retry_usec = RETRY_MAX_USEC;
	sd_event_source_set_time(q->retry, t + q->retry_usec);
	sd_event_source_set_enabled(q->retry, SD_EVENT_ONESHOT);
}

/*
 * Commands are a few dozen bytes on a fresh socket: a short write means
 * the peer is wedged, and the connection is dropped rather than queued.
 */
static int send_cmd(struct pm_qmp *q, const char *cmd)
{
	size_t len = strlen(cmd);
	ssize_t n = send(q->fd, cmd, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n != (ssize_t)len) {
		drop(q, "send: %s", n < 0 ? strerror(errno) : "short write");
		return -EIO;
	}
	return 0;
}

static uint64_t event_time(struct json_object *msg)
{
	struct json_object *ts, *s, *us;

	if (!json_object_object_get_ex(msg, "timestamp", &ts) ||
	    !json_object_object_get_ex(ts, "seconds", &s) ||
	    !json_object_object_get_ex(ts, "microseconds", &us))
		return 0;
	return (uint64_t)json_object_get_int64(s) * 1000000 +
	       json_object_get_int64(us);
}

/*
 * On the destination, QEMU starts the guest (RESUME) and only then reports
 * MIGRATION completed; report the incoming migration once both are seen,
 * in either order. A RESUME outside a migration (cont after stop) is plain.
 */
static void on_event(struct pm_qmp *q, const char *name, struct json_object *msg)
{
	struct json_object *data, *st;
	uint64_t t = event_time(msg);

	if (!strcmp(name, "MIGRATION")) {
		const char *status = "";

		if (json_object_object_get_ex(msg, "data", &data) &&
		    json_object_object_get_ex(data, "status", &st))
			status = json_object_get_string(st);
		snprintf(q->migration, sizeof(q->migration), "%s", status);
		if (q->ops->migration)
			q->ops->migration(q, q->migration, t, q->userdata);
		if (!strcmp(status, "completed")) {
			q->migrating = false;
			if (q->resumed) {
				q->resumed = false;
				if (q->ops->resume)
					q->ops->resume(q, true, t, q->userdata);
			} else {
				q->completed = true;
			}
		} else if (!strcmp(status, "failed") || !strcmp(status, "cancelled")) {
			q->migrating = q->resumed = q->completed = false;
		} else {
			q->migrating = true;
		}
	} else if (!strcmp(name, "RESUME")) {
		bool incoming = q->completed;

		if (q->migrating) {
			q->resumed = true;
			return;
		}
		q->completed = false;
		if (q->ops->resume)
			q->ops->resume(q, incoming, t, q->userdata);
	}
}

static int on_msg(struct json_object *msg, void *ctx)
{
	struct pm_qmp *q = ctx;
	struct json_object *v, *id;

	if (!q->greeted) {
		if (!json_object_object_get_ex(msg, "QMP", NULL)) {
			drop(q, "no QMP greeting: is %s a QMP monitor?", q->path);
			return -EPROTO;
		}
		q->greeted = true;
		return send_cmd(q, "{\"execute\":\"qmp_capabilities\",\"id\":\"hvx-cap\"}\r\n");
	}
	if (json_object_object_get_ex(msg, "event", &v)) {
		on_event(q, json_object_get_string(v), msg);
		return 0;
	}
	json_object_object_get_ex(msg, "id", &id);
	if (json_object_object_get_ex(msg, "error", &v)) {
		struct json_object *desc = NULL;

		json_object_object_get_ex(v, "desc", &desc);
		drop(q, "%s failed: %s", id ? json_object_get_string(id) : "command",
		     desc ? json_object_get_string(desc) : "unknown error");
		return -EPROTO;
	}
	if (!json_object_object_get_ex(msg, "return", NULL) || !id)
		return 0;
	if (!strcmp(json_object_get_string(id), "hvx-cap")) {
		return send_cmd(q, "{\"execute\":\"migrate-set-capabilities\",\"id\":\"hvx-events\","
				"\"arguments\":{\"capabilities\":[{\"capability\":\"events\","
				"\"state\":true}]}}\r\n");
	}
	if (!strcmp(json_object_get_string(id), "hvx-events")) {
		q->error[0] = '\0';
		q->retry_usec = 0;
		set_state(q, PM_QMP_READY);
	}
	return 0;
}

/* Exactly one JSON object on the line, nothing after it. */
static struct json_object *parse_one(const char *line)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(line);

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, line, len);
	if (o && (json_tokener_get_parse_end(tok) != len ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int pm_qmp_parse(char *buf, size_t *len,
		 int (*fn)(struct json_object *msg, void *ctx), void *ctx)
{
	size_t off = 0;
	int ret = 0;

	while (off < *len) {
		char *nl = memchr(buf + off, '\n', *len - off);
		struct json_object *msg;
		size_t n;

		if (!nl) {
			if (*len - off > QMP_LINE_MAX)
				return -EMSGSIZE;
			break;
		}
		n = nl - (buf + off);
		*nl = '\0';
		if (n && buf[off + n - 1] == '\r')
			buf[off + n - 1] = '\0';
		msg = NULL;
		if (buf[off]) {
			msg = parse_one(buf + off);
			if (!msg)
				return -EBADMSG;
		}
		off += n + 1;
		if (msg) {
			ret = fn(msg, ctx);
			json_object_put(msg);
			/* @fn gave up on the stream (and may have reset @len). */
			if (ret < 0)
				return ret;
		}
	}
	memmove(buf, buf + off, *len - off);
	*len -= off;
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct pm_qmp *q = userdata;
	char *nb;
	ssize_t n;
	int ret;

	if (q->state == PM_QMP_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			drop(q, "connect %s: %s", q->path, strerror(err));
			return 0;
		}
		set_state(q, PM_QMP_HANDSHAKE);
		sd_event_source_set_io_events(q->io, EPOLLIN);
		return 0;
	}
	nb = realloc(q->in, q->in_len + 65536 + 1);
	if (!nb) {
		drop(q, "out of memory");
		return 0;
	}
	q->in = nb;
	n = recv(fd, q->in + q->in_len, 65536, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		drop(q, "QEMU closed the monitor%s%s", n ? ": " : "", n ? strerror(errno) : "");
		return 0;
	}
	q->in_len += n;
	ret = pm_qmp_parse(q->in, &q->in_len, on_msg, q);
	/* on_msg() drops the connection itself on protocol errors. */
	if (ret == -EBADMSG || ret == -EMSGSIZE)
		drop(q, "malformed QMP stream from %s", q->path);
	return 0;
}

static int start_connect(struct pm_qmp *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	strcpy(sa.sun_path, q->path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		drop(q, "socket: %s", strerror(errno));
		return 0;
	}
	ret = connect(q->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret < 0 && errno != EINPROGRESS && errno != EAGAIN) {
		drop(q, "connect %s: %s", q->path, strerror(errno));
		return 0;
	}
	ret = sd_event_add_io(q->ev, &q->io, q->fd, ret ? EPOLLOUT : EPOLLIN, on_io, q);
	if (ret < 0) {
		drop(q, "sd_event_add_io: %s", strerror(-ret));
		return 0;
	}
	if (!ret)
		set_state(q, PM_QMP_HANDSHAKE);
	return 0;
}

int pm_qmp_new(struct pm_qmp **out, sd_event *ev, const char *path,
	       const struct pm_qmp_ops *ops, void *userdata)
{
	struct sockaddr_un sa;
	struct pm_qmp *q;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ev = sd_event_ref(ev);
	strcpy(q->path, path);
	q->ops = ops;
	q->userdata = userdata;
	q->fd = -1;
	ret = sd_event_add_time(ev, &q->retry, CLOCK_MONOTONIC, 0, 1000, on_retry, q);
	if (ret < 0) {
		sd_event_unref(ev);
		free(q);
		return ret;
	}
	sd_event_source_set_enabled(q->retry, SD_EVENT_OFF);
	start_connect(q);
	*out = q;
	return 0;
}

void pm_qmp_free(struct pm_qmp *q)
{
	if (!q)
		return;
	sd_event_source_disable_unref(q->io);
	sd_event_source_disable_unref(q->retry);
	if (q->fd >= 0)
		close(q->fd);
	free(q->in);
	sd_event_unref(q->ev);
	free(q);
}
