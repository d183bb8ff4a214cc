// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: AF_UNIX stream, mode 0600, framing and messages of
 * lib/hvx_ctl.h. Requests on one connection are answered in order, one at
 * a time; the connection stops being read while its call is pending, so a
 * fast client cannot queue unbounded work.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hvx_ctl.h"
#include "hvxd_priv.h"

/* Requests are small; anything larger is a confused or hostile client. */
#define HVXD_REQ_MAX (1u << 20)

struct ctl_conn;

struct hvxd_ctl {
	struct hvxd *d;
	int fd;
	char path[108];
	sd_event_source *src;
	struct ctl_conn *conns;
	unsigned int n_conns, max_conns;
};

struct hvxd_call {
	struct hvxd *d;
	struct ctl_conn *conn;	/* NULL once the client is gone */
	char method[HVX_CTL_METHOD_MAX];
};

struct ctl_conn {
	struct ctl_conn *next;
	struct hvxd_ctl *ctl;
	int fd;
	sd_event_source *src;
	struct ucred peer;
	struct hvx_ctl_buf in, out;
	struct hvxd_call *call;	/* pending */
	bool dispatching;	/* inside conn_process(): no re-entry */
	bool closing;		/* flush out, then close */
	bool eof;
};

static void conn_free(struct ctl_conn *c)
{
	struct hvxd_ctl *ctl = c->ctl;

	for (struct ctl_conn **p = &ctl->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	ctl->n_conns--;
	if (c->call)
		c->call->conn = NULL;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	hvx_ctl_buf_free(&c->in);
	hvx_ctl_buf_free(&c->out);
	free(c);
}

static void conn_update(struct ctl_conn *c)
{
	uint32_t ev = 0;

	if (c->out.len)
		ev |= EPOLLOUT;
	/* Read only when idle; after a fatal error only flush. */
	if (!c->call && !c->closing && !c->eof)
		ev |= EPOLLIN;
	if (!ev && !c->call) {
		conn_free(c);
		return;
	}
	sd_event_source_set_io_events(c->src, ev);
	sd_event_source_set_enabled(c->src, ev ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int conn_flush(struct ctl_conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		hvx_ctl_buf_consume(&c->out, n);
	}
	return 0;
}

static void conn_send(struct ctl_conn *c, struct json_object *msg)
{
	if (!msg || hvx_ctl_encode(&c->out, msg)) {
		hvxd_log(LOG_ERR, "ctl", "cannot encode a reply; closing connection");
		c->closing = true;
	}
	json_object_put(msg);
	if (conn_flush(c) < 0) {
		c->out.len = 0;
		c->closing = true;
	}
}

static void conn_process(struct ctl_conn *c);

static void call_done(struct hvxd_call *call, struct json_object *msg)
{
	struct ctl_conn *c = call->conn;

	free(call);
	if (!c) {
		json_object_put(msg);
		return;
	}
	c->call = NULL;
	conn_send(c, msg);
	/* A deferred answer: go on with the requests queued behind it. */
	if (!c->dispatching)
		conn_process(c);
}

void hvxd_call_reply(struct hvxd_call *call, struct json_object *result)
{
	call_done(call, hvx_ctl_reply(result));
}

static void call_vfail(struct hvxd_call *call, int err, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	hvxd_log(LOG_DEBUG, "ctl", "%s: %s", call->method, msg);
	call_done(call, hvx_ctl_error(err, msg));
}

void hvxd_call_fail(struct hvxd_call *call, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_vfail(call, err, fmt, ap);
	va_end(ap);
}

struct hvxd *hvxd_call_daemon(const struct hvxd_call *call)
{
	return call->d;
}

const struct ucred *hvxd_call_peer(const struct hvxd_call *call)
{
	return call->conn ? &call->conn->peer : NULL;
}

static void dispatch(struct ctl_conn *c, struct json_object *req)
{
	struct hvxd *d = c->ctl->d;
	struct hvxd_call *call;
	const struct hvxd_method *m = NULL;
	struct hvxd_unit_inst *u;
	struct json_object *params;
	const char *method, *dot;
	char why[256];
	int ret;

	call = calloc(1, sizeof(*call));
	if (!call) {
		conn_send(c, hvx_ctl_error(ENOMEM, "out of memory"));
		return;
	}
	call->d = d;
	call->conn = c;
	c->call = call;
	ret = hvx_ctl_parse_request(req, &method, &params, why, sizeof(why));
	if (ret) {
		snprintf(call->method, sizeof(call->method), "?");
		hvxd_call_fail(call, EINVAL, "%s", why);
		return;
	}
	snprintf(call->method, sizeof(call->method), "%s", method);
	dot = strchr(method, '.');
	u = dot ? hvxd_find_unit(d, method, dot - method) : NULL;
	if (u && u->state == HVXD_UNIT_RUNNING)
		for (m = u->unit->methods; m && m->name; m++)
			if (!strcmp(m->name, dot + 1))
				break;
	if (!m || !m->name) {
		if (u && u->state != HVXD_UNIT_RUNNING)
			hvxd_call_fail(call, EHOSTDOWN, "unit %s is %s", u->unit->name,
				  u->state == HVXD_UNIT_FAILED ? "failed" : "disabled");
		else
			hvxd_call_fail(call, EOPNOTSUPP, "unknown method \"%s\"", method);
		return;
	}
	if ((m->flags & HVXD_METHOD_PRIV) && c->peer.uid != 0 &&
	    c->peer.uid != geteuid()) {
		hvxd_call_fail(call, EPERM, "%s changes state and needs root (caller uid %u)",
			  method, c->peer.uid);
		return;
	}
	hvxd_log(LOG_DEBUG, "ctl", "%s from pid %d uid %u", method, c->peer.pid,
		 c->peer.uid);
	ret = m->fn(call, params, u->priv);
	/* The handler may have answered (and the call be gone): only use ret. */
	if (ret < 0 && c->call == call)
		hvxd_call_fail(call, -ret, "%s", strerror(-ret));
}

/* Handle every complete request, one at a time. */
static void conn_process(struct ctl_conn *c)
{
	c->dispatching = true;
	while (!c->call && !c->closing) {
		struct json_object *req;
		int ret = hvx_ctl_decode(&c->in, HVXD_REQ_MAX, &req);

		if (!ret)
			break;
		if (ret < 0) {
			/* A stream with a bad frame cannot be resynchronised. */
			conn_send(c, hvx_ctl_error(-ret, ret == -EMSGSIZE ?
				  "request frame too large" :
				  "malformed request frame (expected a length-prefixed JSON object)"));
			c->closing = true;
			break;
		}
		dispatch(c, req);
		json_object_put(req);
	}
	c->dispatching = false;
	if (c->eof && !c->call && c->in.len && !c->closing)
		c->closing = true;	/* a truncated last frame: drop it */
	conn_update(c);
}

static int conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ctl_conn *c = userdata;

	if (revents & EPOLLOUT && conn_flush(c) < 0) {
		c->out.len = 0;
		c->closing = true;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR) && !c->call && !c->closing) {
		unsigned char buf[16384];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN)
			c->eof = true;
		else if (n == 0)
			c->eof = true;
		else if (n > 0 && hvx_ctl_buf_append(&c->in, buf, n))
			c->closing = true;
	}
	conn_process(c);
	return 0;
}

static int ctl_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hvxd_ctl *ctl = userdata;
	socklen_t len = sizeof(struct ucred);
	struct ctl_conn *c;
	int cfd, ret;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			hvxd_log(LOG_WARNING, "ctl", "accept: %m");
		return 0;
	}
	if (ctl->n_conns >= ctl->max_conns) {
		hvxd_log(LOG_WARNING, "ctl", "refusing a client: %u connections open",
			 ctl->n_conns);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->ctl = ctl;
	c->fd = cfd;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0) {
		hvxd_log(LOG_WARNING, "ctl", "SO_PEERCRED: %m");
		goto err;
	}
	ret = sd_event_add_io(ctl->d->event, &c->src, cfd, EPOLLIN, conn_io, c);
	if (ret < 0)
		goto err;
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->n_conns++;
	return 0;
err:
	close(cfd);
	free(c);
	return 0;
}

/* A socket file nobody answers on is left over from a crash. */
static int remove_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!ret)
		return -EADDRINUSE;
	if (errno == ENOENT)
		return 0;
	if (errno != ECONNREFUSED)
		return -errno;
	return unlink(path) < 0 ? -errno : 0;
}

int hvxd_ctl_open(struct hvxd *d, const char *path, unsigned int max_clients)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hvxd_ctl *ctl;
	char dir[sizeof(sa.sun_path)], *slash;
	mode_t old;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->d = d;
	ctl->max_conns = max_clients;
	strcpy(ctl->path, path);
	strcpy(sa.sun_path, path);
	/* Without systemd's RuntimeDirectory= the directory may be missing. */
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
			goto err_free;
		}
	}
	ret = remove_stale(path);
	if (ret)
		goto err_free;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	/* Created 0600: only root talks to hvxd. */
	old = umask(0177);
	ret = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(ctl->fd, SOMAXCONN) < 0) {
		ret = -errno;
		goto err_close;
	}
	ret = sd_event_add_io(d->event, &ctl->src, ctl->fd, EPOLLIN, ctl_accept, ctl);
	if (ret < 0)
		goto err_unlink;
	d->ctl = ctl;
	return 0;

err_unlink:
	unlink(path);
err_close:
	close(ctl->fd);
err_free:
	free(ctl);
	return ret;
}

void hvxd_ctl_set_max_clients(struct hvxd *d, unsigned int max_clients)
{
	d->ctl->max_conns = max_clients;
}

void hvxd_ctl_close(struct hvxd *d)
{
	struct hvxd_ctl *ctl = d->ctl;

	if (!ctl)
		return;
	while (ctl->conns)
		conn_free(ctl->conns);
	sd_event_source_disable_unref(ctl->src);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
	d->ctl = NULL;
}
