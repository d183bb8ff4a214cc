// SPDX-License-Identifier: GPL-2.0
/*
 * hvxd unit "pm": section [pm] of hvxd.conf, methods pm.status, pm.table,
 * pm.ssdt, pm.negotiate.
 *
 * VMs attach through socket_dir: the VMM starts QEMU with the guest
 * agent's virtio-serial port on NAME.agent and a QMP monitor on NAME.qmp
 * there (both QEMU-side servers); hvxd sees the files appear (inotify),
 * connects to both, and negotiates when QMP reports the end of an
 * incoming migration, or when asked to. Every socket and timer is on the
 * daemon's loop.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hvx_ctl.h"
#include "hvx_json.h"
#include "hvxd.h"
#include "pm_engine.h"
#include "pm_proto.h"
#include "pm_qmp.h"
#include "pm_table.h"

#define UNIT "pm"
#define RETRY_MIN_USEC 50000ULL
#define RETRY_MAX_USEC 2000000ULL
#define AGENT_IN_MAX (PM_MSG_MAX * 4)

struct unit_conf {
	bool enabled;
	char socket_dir[96];
	bool auto_negotiate;
	uint64_t freeze_timeout, ack_timeout, enable_timeout;
	uint64_t nofile;
	struct pm_table_conf table;
};

#define O(f) .offset = offsetof(struct unit_conf, f)
#define S(f) O(f), .size = sizeof(((struct unit_conf *)0)->f)
#define MS(ms) ((ms) * 1000ULL)

static const struct hvx_conf_key keys[] = {
	{ "enabled", HVX_CONF_BOOL, O(enabled), .def = "yes" },
	{ "socket_dir", HVX_CONF_STR, S(socket_dir), .def = "/run/hvx/pm" },
	{ "auto_negotiate", HVX_CONF_BOOL, O(auto_negotiate), .def = "yes" },
	{ "freeze_timeout", HVX_CONF_DURATION, O(freeze_timeout), .def = "5s",
	  .min = MS(1), .max = MS(600000) },
	{ "ack_timeout", HVX_CONF_DURATION, O(ack_timeout), .def = "5s",
	  .min = MS(1), .max = MS(600000) },
	{ "enable_timeout", HVX_CONF_DURATION, O(enable_timeout), .def = "5s",
	  .min = MS(1), .max = MS(600000) },
	{ "max_open_files", HVX_CONF_UINT, O(nofile), .def = "65536",
	  .min = 1024, .max = 1048576 },
	PM_TABLE_CONF_KEYS(struct unit_conf, table),
	{ NULL }
};

struct hvm;

struct pm_unit {
	struct hvxd *d;
	struct unit_conf conf;
	struct pm_engine *engine;
	struct pm_table table;
	sd_event_source *watch;
	/*
	 * Agent channels live on their own epoll set, drained in batches from
	 * one loop source: sd-event re-polls every ready fd before each single
	 * dispatch, which costs O(ready) per message with a thousand VMs
	 * negotiating at once.
	 */
	int epfd;
	sd_event_source *ep_src;
	struct hvm *vms;
	uint64_t migrations;
};

enum agent_state { AGENT_DOWN, AGENT_CONNECTING, AGENT_UP };

struct hvm {
	struct hvm *next;
	struct pm_unit *u;
	char name[64];
	struct pm_vm *vm;
	/* agent */
	bool has_agent;
	int fd;
	uint32_t events;		/* registered on u->epfd, 0: none */
	enum agent_state astate;
	sd_event_source *retry;
	uint64_t retry_usec;
	unsigned char in[AGENT_IN_MAX];
	size_t in_len;
	unsigned char *out;
	size_t out_len, out_cap;
	char agent_err[128];
	/* qmp */
	struct pm_qmp *qmp;
	uint64_t completed_realtime_usec;	/* last MIGRATION completed */
	uint64_t migrated_realtime_usec;	/* ... of an incoming one */
	uint64_t since_migration_usec;		/* ... to states enabled */
	/* the guest's last report: what it applied */
	struct json_object *guest;
	struct hvxd_call *waiter;	/* pm.negotiate waiting for the end */
	struct hvxd_call *reporter;	/* pm.report waiting for a REPORT */
	bool negotiate_on_connect;	/* an incoming migration ended */
	sd_event_source *report_timer;
};

static const char *agent_state_name(enum agent_state s)
{
	return s == AGENT_UP ? "connected" : s == AGENT_CONNECTING ? "connecting" : "down";
}

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Socket paths under socket_dir; NULL-safe suffix check. */
static int vm_path(const struct pm_unit *u, const char *name, const char *suffix,
		   char *buf, size_t len)
{
	struct sockaddr_un sa;
	int n = snprintf(buf, len, "%s/%s.%s", u->conf.socket_dir, name, suffix);

	return n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sa.sun_path) ?
	       -ENAMETOOLONG : 0;
}

/* ---- the agent connection ---- */

static void agent_connect(struct hvm *h);

static void agent_close(struct hvm *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void agent_close(struct hvm *h, const char *fmt, ...)
{
	uint64_t t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->agent_err, sizeof(h->agent_err), fmt, ap);
	va_end(ap);
	/* Closing the fd takes it out of the epoll set. */
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->events = 0;
	h->in_len = h->out_len = 0;
	h->astate = AGENT_DOWN;
	if (h->vm)
		pm_vm_disconnected(h->vm, h->agent_err);
	if (h->reporter) {
		struct hvxd_call *call = h->reporter;

		h->reporter = NULL;
		hvxd_call_fail(call, ENOTCONN, "%s: %s", h->name, h->agent_err);
	}
	if (!h->has_agent)
		return;
	/* QEMU restarts, or the chardev is not listening yet: try again. */
	sd_event_now(hvxd_event(h->u->d), CLOCK_MONOTONIC, &t);
	h->retry_usec = h->retry_usec ? h->retry_usec * 2 : RETRY_MIN_USEC;
	if (h->retry_usec > RETRY_MAX_USEC)
		h->retry_usec = RETRY_MAX_USEC;
	sd_event_source_set_time(h->retry, t + h->retry_usec);
	sd_event_source_set_enabled(h->retry, SD_EVENT_ONESHOT);
}

static void agent_update(struct hvm *h)
{
	uint32_t ev = EPOLLIN | (h->out_len ? EPOLLOUT : 0);
	struct epoll_event e = { .events = ev, .data.ptr = h };

	if (h->fd < 0 || h->astate != AGENT_UP || ev == h->events)
		return;
	if (epoll_ctl(h->u->epfd, EPOLL_CTL_MOD, h->fd, &e) == 0)
		h->events = ev;
}

static int agent_flush(struct hvm *h)
{
	while (h->out_len) {
		ssize_t n = send(h->fd, h->out, h->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		memmove(h->out, h->out + n, h->out_len - n);
		h->out_len -= n;
	}
	return 0;
}

static int agent_queue(struct hvm *h, const void *p, size_t n)
{
	if (h->astate != AGENT_UP)
		return -ENOTCONN;
	if (h->out_len + n > h->out_cap) {
		size_t cap = (h->out_len + n) * 2;
		unsigned char *nb = realloc(h->out, cap);

		if (!nb)
			return -ENOMEM;
		h->out = nb;
		h->out_cap = cap;
	}
	memcpy(h->out + h->out_len, p, n);
	h->out_len += n;
	/* Most frames go out at once; only a full socket waits for EPOLLOUT. */
	if (agent_flush(h) < 0) {
		h->out_len = 0;
		return -EPIPE;
	}
	agent_update(h);
	return 0;
}

static void reply_report(struct hvm *h);

static void on_guest_msg(struct hvm *h, const struct pm_msg *m)
{
	static const struct { enum pm_msg_type t; enum pm_reply r; } map[] = {
		{ PM_MSG_FROZEN, PM_REPLY_FROZEN },
		{ PM_MSG_ACK, PM_REPLY_ACK },
		{ PM_MSG_NAK, PM_REPLY_NAK },
		{ PM_MSG_ENABLED, PM_REPLY_ENABLED },
		{ PM_MSG_ERROR, PM_REPLY_ERROR },
	};
	int ret;

	hvxd_log_vm(LOG_DEBUG, UNIT, 0, h->name, "agent: %s seq %u",
		    pm_msg_type_name(m->type), m->seq);
	if (m->type == PM_MSG_HELLO) {
		if (m->min_version > PM_PROTO_VERSION || m->max_version < PM_PROTO_VERSION)
			hvxd_log_vm(LOG_WARNING, UNIT, 0, h->name,
				    "agent speaks versions %u..%u, hvxd %u",
				    m->min_version, m->max_version, PM_PROTO_VERSION);
		return;
	}
	if (m->type == PM_MSG_ENABLED || m->type == PM_MSG_REPORT) {
		struct json_object *g = pm_msg_report_json(m);

		if (g) {
			json_object_put(h->guest);
			h->guest = g;
		}
		if (m->type == PM_MSG_REPORT) {
			reply_report(h);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].t != m->type)
			continue;
		ret = pm_vm_recv(h->vm, map[i].r, m->seq, pm_msg_accepted(m),
				 pm_msg_reason(m));
		if (ret == -ESTALE)
			hvxd_log_vm(LOG_DEBUG, UNIT, 0, h->name,
				    "dropped %s with stale seq %u",
				    pm_msg_type_name(m->type), m->seq);
		return;
	}
	hvxd_log_vm(LOG_WARNING, UNIT, 0, h->name, "unexpected %s from the agent",
		    pm_msg_type_name(m->type));
}

static void agent_io(struct hvm *h, uint32_t revents)
{
	int fd = h->fd;
	ssize_t n;

	if (h->astate == AGENT_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			agent_close(h, "connect: %s", strerror(err));
			return;
		}
		unsigned char hello[PM_MSG_MAX];
		ssize_t len;

		h->astate = AGENT_UP;
		h->retry_usec = 0;
		h->agent_err[0] = '\0';
		hvxd_log_vm(LOG_INFO, UNIT, 0, h->name, "agent channel connected");
		len = pm_msg_encode_hello(hello, sizeof(hello), 0);
		if (len < 0 || agent_queue(h, hello, len) < 0) {
			agent_close(h, "cannot queue HELLO");
			return;
		}
		if (h->negotiate_on_connect) {
			h->negotiate_on_connect = false;
			hvxd_log_vm(LOG_INFO, UNIT, 0, h->name,
				    "resumed after an incoming migration: negotiating");
			pm_vm_negotiate(h->vm, PM_TRIGGER_MIGRATION);
		}
		return;
	}
	if (revents & EPOLLOUT && agent_flush(h) < 0) {
		agent_close(h, "send: %m");
		return;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = recv(fd, h->in + h->in_len, sizeof(h->in) - h->in_len, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			agent_close(h, "recv: %m");
			return;
		}
		if (!n) {
			agent_close(h, "QEMU closed the agent channel");
			return;
		}
		if (n > 0)
			h->in_len += n;
		for (;;) {
			struct pm_msg m;
			size_t used;
			int ret = pm_msg_decode(h->in, h->in_len, &m, &used);

			if (!ret)
				break;
			if (ret < 0) {
				/* A broken frame cannot be resynchronised. */
				agent_close(h, "bad frame from the agent: %s", strerror(-ret));
				return;
			}
			memmove(h->in, h->in + used, h->in_len - used);
			h->in_len -= used;
			on_guest_msg(h, &m);
			pm_msg_release(&m);
			if (h->astate != AGENT_UP)
				return;
		}
	}
	agent_update(h);
	return;
}

static void agent_connect(struct hvm *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLOUT };
	int ret;

	if (vm_path(h->u, h->name, "agent", sa.sun_path, sizeof(sa.sun_path)))
		return;
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		agent_close(h, "socket: %m");
		return;
	}
	ret = connect(h->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret < 0 && errno != EINPROGRESS && errno != EAGAIN) {
		agent_close(h, "connect %s: %m", sa.sun_path);
		return;
	}
	h->astate = AGENT_CONNECTING;
	ev.data.ptr = h;
	if (epoll_ctl(h->u->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0) {
		agent_close(h, "epoll_ctl: %m");
		return;
	}
	h->events = ev.events;
}

/* Hvms are freed only from other sources: the pointers stay valid here. */
static int on_agents(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct pm_unit *u = userdata;
	struct epoll_event evs[128];
	int n = epoll_wait(u->epfd, evs, 128, 0);

	for (int i = 0; i < n; i++) {
		struct hvm *h = evs[i].data.ptr;

		/* An earlier event of this batch may have closed it. */
		if (h->fd >= 0 && h->events)
			agent_io(h, evs[i].events);
	}
	return 0;
}

static int agent_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hvm *h = userdata;

	if (h->has_agent && h->astate == AGENT_DOWN)
		agent_connect(h);
	return 0;
}

/* pm.report: the guest's answer to STATUS, or why there is none. */
static void reply_report(struct hvm *h)
{
	struct hvxd_call *call = h->reporter;

	if (!call)
		return;
	h->reporter = NULL;
	sd_event_source_set_enabled(h->report_timer, SD_EVENT_OFF);
	if (!h->guest) {
		hvxd_call_fail(call, EPROTO, "%s: the agent sent no report", h->name);
		return;
	}
	hvxd_call_reply(call, json_object_get(h->guest));
}

static int report_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hvm *h = userdata;
	struct hvxd_call *call = h->reporter;

	if (call) {
		h->reporter = NULL;
		hvxd_call_fail(call, ETIMEDOUT, "%s: the agent did not answer STATUS",
			       h->name);
	}
	return 0;
}

/* ---- engine transport ---- */

static int engine_send(struct pm_vm *vm, enum pm_send what, uint32_t seq, void *ud)
{
	struct hvm *h = pm_vm_priv(vm);
	unsigned char buf[PM_MSG_MAX];
	ssize_t n;

	switch (what) {
	case PM_SEND_FREEZE:
		n = pm_msg_encode_freeze(buf, sizeof(buf), seq);
		break;
	case PM_SEND_TABLE:
		n = pm_msg_encode_table(buf, sizeof(buf), seq, &h->u->table);
		break;
	case PM_SEND_ENABLE:
		n = pm_msg_encode_enable(buf, sizeof(buf), seq, pm_vm_accepted(vm));
		break;
	default:
		n = pm_msg_encode_abort(buf, sizeof(buf), seq);
		break;
	}
	if (n < 0)
		return n;
	return agent_queue(h, buf, n);
}

static void reply_waiter(struct hvm *h)
{
	struct hvxd_call *call = h->waiter;
	struct json_object *st;

	if (!call)
		return;
	h->waiter = NULL;
	st = pm_vm_status(h->vm);
	if (pm_vm_state(h->vm) == PM_FAILED) {
		json_object_put(st);
		hvxd_call_fail(call, EPROTO, "%s: %s", h->name, pm_vm_reason(h->vm));
		return;
	}
	hvxd_call_reply(call, st);
}

static void engine_changed(struct pm_vm *vm, enum pm_neg_state from, void *ud)
{
	struct hvm *h = pm_vm_priv(vm);
	enum pm_neg_state s = pm_vm_state(vm);
	struct json_object *ev;

	if (s == PM_FAILED)
		hvxd_log_vm(LOG_WARNING, UNIT, 0, h->name, "negotiation %u failed: %s",
			    pm_vm_seq(vm), pm_vm_reason(vm));
	else
		hvxd_log_vm(s == PM_ENABLED ? LOG_INFO : LOG_DEBUG, UNIT, 0, h->name,
			    "negotiation %u: %s -> %s", pm_vm_seq(vm),
			    pm_neg_state_name(from), pm_neg_state_name(s));
	if (s == PM_ENABLED && h->migrated_realtime_usec) {
		h->since_migration_usec = realtime_usec() - h->migrated_realtime_usec;
		h->migrated_realtime_usec = 0;
	}
	ev = json_object_new_object();
	if (ev && !hvx_json_add_str(ev, "vm", h->name) &&
	    !hvx_json_add_str(ev, "state", pm_neg_state_name(s)))
		hvxd_publish(h->u->d, "pm.state", ev);
	json_object_put(ev);
	if (s == PM_ENABLED || s == PM_FAILED)
		reply_waiter(h);
}

static const struct pm_engine_ops engine_ops = {
	.send = engine_send,
	.changed = engine_changed,
};

/* ---- QMP ---- */

static void qmp_migration(struct pm_qmp *q, const char *status, uint64_t t, void *ud)
{
	struct hvm *h = ud;

	hvxd_log_vm(LOG_INFO, UNIT, 0, h->name, "migration %s", status);
	if (!strcmp(status, "completed")) {
		h->completed_realtime_usec = t ?: realtime_usec();
		h->u->migrations++;
	}
}

/*
 * The guest runs on this host now. A channel connected while QEMU still
 * waited for the migration is good: virtio-serial's post-load tells the
 * guest the host side is connected (a PORT_OPEN control message) and the
 * chardev hands over what hvxd queued once the port's virtqueues are
 * loaded, so negotiate on it at once; without a channel yet, as soon as
 * it is up.
 */
static void qmp_resume(struct pm_qmp *q, bool incoming, uint64_t t, void *ud)
{
	struct hvm *h = ud;

	if (!incoming)
		return;
	/* A source also reports completed, but never resumes: time this one. */
	h->migrated_realtime_usec = h->completed_realtime_usec;
	if (!h->u->conf.auto_negotiate)
		return;
	if (pm_vm_busy(h->vm)) {
		hvxd_log_vm(LOG_NOTICE, UNIT, 0, h->name, "a negotiation is already running");
		return;
	}
	if (h->astate != AGENT_UP) {
		h->negotiate_on_connect = true;
		return;
	}
	hvxd_log_vm(LOG_INFO, UNIT, 0, h->name,
		    "resumed after an incoming migration: negotiating");
	pm_vm_negotiate(h->vm, PM_TRIGGER_MIGRATION);
}

static void qmp_state(struct pm_qmp *q, enum pm_qmp_state s, const char *err, void *ud)
{
	struct hvm *h = ud;

	if (s == PM_QMP_READY)
		hvxd_log_vm(LOG_INFO, UNIT, 0, h->name, "QMP ready, migration events on");
	else if (*err)
		hvxd_log_vm(LOG_DEBUG, UNIT, 0, h->name, "QMP %s: %s",
			    pm_qmp_state_name(s), err);
}

static const struct pm_qmp_ops qmp_ops = {
	.migration = qmp_migration,
	.resume = qmp_resume,
	.state = qmp_state,
};

/* ---- VMs ---- */

static struct hvm *hvm_find(struct pm_unit *u, const char *name)
{
	for (struct hvm *h = u->vms; h; h = h->next)
		if (!strcmp(h->name, name))
			return h;
	return NULL;
}

static struct hvm *hvm_get(struct pm_unit *u, const char *name)
{
	struct hvm *h = hvm_find(u, name);
	int ret;

	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->u = u;
	h->fd = -1;
	snprintf(h->name, sizeof(h->name), "%s", name);
	ret = pm_vm_add(u->engine, name, &h->vm);
	if (!ret)
		ret = sd_event_add_time(hvxd_event(u->d), &h->retry, CLOCK_MONOTONIC, 0,
					1000, agent_retry, h);
	if (ret >= 0)
		ret = sd_event_add_time(hvxd_event(u->d), &h->report_timer,
					CLOCK_MONOTONIC, 0, 1000, report_timeout, h);
	if (ret < 0) {
		sd_event_source_disable_unref(h->retry);
		if (h->vm)
			pm_vm_del(h->vm);
		free(h);
		return NULL;
	}
	sd_event_source_set_enabled(h->retry, SD_EVENT_OFF);
	sd_event_source_set_enabled(h->report_timer, SD_EVENT_OFF);
	pm_vm_set_priv(h->vm, h);
	h->next = u->vms;
	u->vms = h;
	return h;
}

static void hvm_free(struct hvm *h)
{
	struct pm_unit *u = h->u;

	for (struct hvm **p = &u->vms; *p; p = &(*p)->next) {
		if (*p == h) {
			*p = h->next;
			break;
		}
	}
	h->has_agent = false;
	pm_vm_del(h->vm);
	h->vm = NULL;
	if (h->waiter)
		hvxd_call_fail(h->waiter, ENODEV, "%s went away", h->name);
	if (h->reporter)
		hvxd_call_fail(h->reporter, ENODEV, "%s went away", h->name);
	sd_event_source_disable_unref(h->report_timer);
	sd_event_source_disable_unref(h->retry);
	if (h->fd >= 0)
		close(h->fd);
	pm_qmp_free(h->qmp);
	json_object_put(h->guest);
	free(h->out);
	free(h);
}

/* A socket file appeared (@added) or went away in socket_dir. */
static void dir_entry(struct pm_unit *u, const char *file, bool added)
{
	const char *dot = strrchr(file, '.');
	char name[64], path[108];
	struct hvm *h;
	bool agent;

	if (!dot || dot == file || (size_t)(dot - file) >= sizeof(name))
		return;
	if (!strcmp(dot, ".agent"))
		agent = true;
	else if (!strcmp(dot, ".qmp"))
		agent = false;
	else
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(dot - file), file);
	h = added ? hvm_get(u, name) : hvm_find(u, name);
	if (!h) {
		if (added)
			hvxd_log(LOG_ERR, UNIT, "cannot track VM %s: out of memory", name);
		return;
	}
	if (agent && added && !h->has_agent) {
		h->has_agent = true;
		hvxd_log_vm(LOG_INFO, UNIT, 0, name, "agent socket appeared");
		agent_connect(h);
	} else if (agent && !added) {
		h->has_agent = false;
		if (h->astate != AGENT_DOWN)
			agent_close(h, "agent socket removed");
		sd_event_source_set_enabled(h->retry, SD_EVENT_OFF);
	} else if (!agent && added && !h->qmp) {
		if (vm_path(u, name, "qmp", path, sizeof(path)) ||
		    pm_qmp_new(&h->qmp, hvxd_event(u->d), path, &qmp_ops, h) < 0)
			hvxd_log_vm(LOG_ERR, UNIT, 0, name, "cannot watch QMP %s", path);
	} else if (!agent && !added) {
		pm_qmp_free(h->qmp);
		h->qmp = NULL;
	}
	if (!h->has_agent && !h->qmp) {
		hvxd_log_vm(LOG_INFO, UNIT, 0, name, "detached");
		hvm_free(h);
	}
}

static int on_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct pm_unit *u = userdata;

	if (!ev->len)
		return 0;
	dir_entry(u, ev->name, ev->mask & (IN_CREATE | IN_MOVED_TO));
	return 0;
}

static int scan_dir(struct pm_unit *u)
{
	DIR *dir = opendir(u->conf.socket_dir);
	struct dirent *de;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		dir_entry(u, de->d_name, true);
	closedir(dir);
	return 0;
}

/* Each agent and QMP monitor is one fd: thousands of VMs need more than 1024. */
static void raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) && !getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < want)
		hvxd_log(LOG_NOTICE, UNIT, "RLIMIT_NOFILE is %llu, below max_open_files %llu",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

static void apply_timeouts(struct pm_unit *u)
{
	struct pm_engine_timeouts to = {
		.freeze_usec = u->conf.freeze_timeout,
		.ack_usec = u->conf.ack_timeout,
		.enable_usec = u->conf.enable_timeout,
	};

	pm_engine_set_timeouts(u->engine, &to);
}

static int unit_init(struct hvxd *d, const void *conf, void **priv)
{
	struct pm_unit *u = calloc(1, sizeof(*u));
	char err[256];
	int ret;

	if (!u)
		return -ENOMEM;
	u->d = d;
	u->conf = *(const struct unit_conf *)conf;
	ret = pm_table_load(&u->table, &u->conf.table, err, sizeof(err));
	if (ret) {
		hvxd_log(LOG_ERR, UNIT, "host PM table: %s", err);
		goto err_free;
	}
	raise_nofile(u->conf.nofile);
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epfd < 0) {
		ret = -errno;
		goto err_table;
	}
	ret = sd_event_add_io(hvxd_event(d), &u->ep_src, u->epfd, EPOLLIN, on_agents, u);
	if (ret < 0)
		goto err_epoll;
	ret = pm_engine_new(&u->engine, hvxd_event(d), &engine_ops, u);
	if (ret)
		goto err_epoll;
	apply_timeouts(u);
	if (mkdir(u->conf.socket_dir, 0750) && errno != EEXIST) {
		ret = -errno;
		hvxd_log(LOG_ERR, UNIT, "socket_dir %s: %m", u->conf.socket_dir);
		goto err_engine;
	}
	ret = sd_event_add_inotify(hvxd_event(d), &u->watch, u->conf.socket_dir,
				   IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
				   IN_ONLYDIR, on_dir, u);
	if (ret < 0) {
		hvxd_log(LOG_ERR, UNIT, "watching %s: %s", u->conf.socket_dir,
			 strerror(-ret));
		goto err_engine;
	}
	ret = scan_dir(u);
	if (ret)
		goto err_watch;
	hvxd_log(LOG_INFO, UNIT, "offering %zu PM states; VMs attach in %s",
		 u->table.n, u->conf.socket_dir);
	*priv = u;
	return 0;

err_watch:
	sd_event_source_disable_unref(u->watch);
err_engine:
	while (u->vms)
		hvm_free(u->vms);
	pm_engine_free(u->engine);
err_epoll:
	sd_event_source_disable_unref(u->ep_src);
	close(u->epfd);
err_table:
	pm_table_release(&u->table);
err_free:
	free(u);
	return ret;
}

static void unit_fini(struct hvxd *d, void *priv)
{
	struct pm_unit *u = priv;

	sd_event_source_disable_unref(u->watch);
	/* Rounds in flight are rolled back: ABORT is queued, then flushed. */
	for (struct hvm *h = u->vms; h; h = h->next)
		if (h->vm && pm_vm_busy(h->vm) && h->astate == AGENT_UP) {
			pm_vm_del(h->vm);
			h->vm = NULL;
			agent_flush(h);
		}
	while (u->vms)
		hvm_free(u->vms);
	pm_engine_free(u->engine);
	sd_event_source_disable_unref(u->ep_src);
	close(u->epfd);
	pm_table_release(&u->table);
	free(u);
}

static int unit_reload(struct hvxd *d, void *priv, const void *conf)
{
	struct pm_unit *u = priv;
	const struct unit_conf *nc = conf;
	struct pm_table t;
	char err[256];
	int ret;

	if (strcmp(nc->socket_dir, u->conf.socket_dir))
		hvxd_log(LOG_WARNING, UNIT, "[pm] socket_dir changes at restart only");
	ret = pm_table_load(&t, &nc->table, err, sizeof(err));
	if (ret) {
		hvxd_log(LOG_ERR, UNIT, "host PM table: %s; keeping the old one", err);
		return ret;
	}
	pm_table_release(&u->table);
	u->table = t;
	snprintf(((struct unit_conf *)nc)->socket_dir, sizeof(nc->socket_dir), "%s",
		 u->conf.socket_dir);
	u->conf = *nc;
	apply_timeouts(u);
	return 0;
}

static int unit_status(void *priv, struct json_object *o)
{
	struct pm_unit *u = priv;
	size_t n = 0;

	for (struct hvm *h = u->vms; h; h = h->next)
		n++;
	return hvx_json_add_u64(o, "vms", n) ||
	       hvx_json_add_u64(o, "pm_states", u->table.n) ? -ENOMEM : 0;
}

/* ---- methods ---- */

static struct json_object *hvm_status(struct hvm *h)
{
	struct json_object *o = pm_vm_status(h->vm);

	if (!o)
		return NULL;
	if (hvx_json_add_str(o, "agent", agent_state_name(h->astate)) ||
	    (*h->agent_err && hvx_json_add_str(o, "agent_error", h->agent_err)) ||
	    hvx_json_add_str(o, "qmp", h->qmp ? pm_qmp_state_name(pm_qmp_state(h->qmp)) :
			     "none") ||
	    (h->qmp && *pm_qmp_error(h->qmp) &&
	     hvx_json_add_str(o, "qmp_error", pm_qmp_error(h->qmp))) ||
	    (h->qmp && hvx_json_add_str(o, "migration", pm_qmp_migration(h->qmp))) ||
	    (h->since_migration_usec &&
	     hvx_json_add_u64(o, "migration_to_enabled_usec", h->since_migration_usec)) ||
	    (h->guest && hvx_json_add(o, "guest", json_object_get(h->guest)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int vm_param(struct hvxd_call *call, struct pm_unit *u,
		    struct json_object *params, struct hvm **h)
{
	const char *name;

	if (!params || hvx_json_get_str(params, "vm", &name)) {
		hvxd_call_fail(call, EINVAL, "missing \"vm\" (a VM name)");
		return -EINVAL;
	}
	*h = hvm_find(u, name);
	if (!*h) {
		hvxd_call_fail(call, ENOENT, "no VM \"%s\" in %s (expecting %s.agent there)",
			       name, u->conf.socket_dir, name);
		return -ENOENT;
	}
	return 0;
}

static int m_status(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct pm_unit *u = priv;
	struct pm_engine_stats st;
	struct json_object *o, *vms, *stats;
	struct hvm *h;

	if (params && json_object_object_get_ex(params, "vm", NULL)) {
		if (vm_param(call, u, params, &h))
			return 0;
		o = hvm_status(h);
		if (!o)
			return -ENOMEM;
		hvxd_call_reply(call, o);
		return 0;
	}
	o = json_object_new_object();
	vms = json_object_new_array();
	stats = json_object_new_object();
	pm_engine_stats(u->engine, &st);
	if (!o || !vms || !stats ||
	    hvx_json_add_u64(stats, "started", st.started) ||
	    hvx_json_add_u64(stats, "enabled", st.enabled) ||
	    hvx_json_add_u64(stats, "failed", st.failed) ||
	    hvx_json_add_u64(stats, "timeouts", st.timeouts) ||
	    hvx_json_add_u64(stats, "stale_replies", st.stale) ||
	    hvx_json_add_u64(stats, "in_flight", st.in_flight) ||
	    hvx_json_add_u64(stats, "migrations", u->migrations))
		goto err;
	/* Name order, as the engine keeps it. */
	{
		struct json_object *names = pm_engine_status(u->engine);

		if (!names)
			goto err;
		for (size_t i = 0; i < json_object_array_length(names); i++) {
			const char *n = hvx_json_text(json_object_array_get_idx(names, i),
						      "name", "");
			struct json_object *v = hvm_status(hvm_find(u, n));

			if (!v || json_object_array_add(vms, v)) {
				json_object_put(v);
				json_object_put(names);
				goto err;
			}
		}
		json_object_put(names);
	}
	if (hvx_json_add_str(o, "socket_dir", u->conf.socket_dir) ||
	    hvx_json_add(o, "stats", stats)) {
		stats = NULL;
		goto err;
	}
	stats = NULL;
	if (hvx_json_add(o, "vms", vms)) {
		vms = NULL;
		goto err;
	}
	hvxd_call_reply(call, o);
	return 0;
err:
	json_object_put(stats);
	json_object_put(vms);
	json_object_put(o);
	return -ENOMEM;
}

static int m_table(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct pm_unit *u = priv;
	struct json_object *t = pm_table_to_json(&u->table);

	if (!t)
		return -ENOMEM;
	hvxd_call_reply(call, t);
	return 0;
}

static int m_ssdt(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct pm_unit *u = priv;
	struct json_object *o = json_object_new_object();
	char *asl = pm_table_to_asl(&u->table);

	if (!o || !asl || hvx_json_add_str(o, "asl", asl)) {
		free(asl);
		json_object_put(o);
		return -ENOMEM;
	}
	free(asl);
	hvxd_call_reply(call, o);
	return 0;
}

static int m_negotiate(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct pm_unit *u = priv;
	bool wait = true;
	struct hvm *h;
	int ret;

	if (vm_param(call, u, params, &h))
		return 0;
	hvx_json_get_bool(params, "wait", &wait);
	if (h->astate != AGENT_UP) {
		hvxd_call_fail(call, ENOTCONN, "%s: the agent channel is %s%s%s", h->name,
			       agent_state_name(h->astate), *h->agent_err ? ": " : "",
			       h->agent_err);
		return 0;
	}
	ret = pm_vm_negotiate(h->vm, PM_TRIGGER_MANUAL);
	if (ret == -EBUSY) {
		hvxd_call_fail(call, EBUSY, "%s: a negotiation is in progress (state %s)",
			       h->name, pm_neg_state_name(pm_vm_state(h->vm)));
		return 0;
	}
	if (ret < 0) {
		hvxd_call_fail(call, -ret, "%s: %s", h->name, pm_vm_reason(h->vm));
		return 0;
	}
	if (!wait || !pm_vm_busy(h->vm)) {
		struct json_object *o = hvm_status(h);

		if (!o)
			return -ENOMEM;
		hvxd_call_reply(call, o);
		return 0;
	}
	/* One waiter per VM: a round is in flight, so none can be waiting. */
	h->waiter = call;
	return 0;
}

/* Ask the agent what the guest runs now, over the same channel. */
static int m_report(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct pm_unit *u = priv;
	unsigned char buf[PM_MSG_MAX];
	struct hvm *h;
	uint64_t t;
	ssize_t n;
	int ret;

	if (vm_param(call, u, params, &h))
		return 0;
	if (h->reporter) {
		hvxd_call_fail(call, EBUSY, "%s: a report is already on its way", h->name);
		return 0;
	}
	n = pm_msg_encode_status(buf, sizeof(buf), pm_vm_seq(h->vm));
	ret = n < 0 ? (int)n : agent_queue(h, buf, n);
	if (ret < 0) {
		hvxd_call_fail(call, -ret, "%s: the agent channel is %s%s%s", h->name,
			       agent_state_name(h->astate), *h->agent_err ? ": " : "",
			       h->agent_err);
		return 0;
	}
	/* A fresh answer only: the last report must not stand in for it. */
	json_object_put(h->guest);
	h->guest = NULL;
	h->reporter = call;
	sd_event_now(hvxd_event(u->d), CLOCK_MONOTONIC, &t);
	sd_event_source_set_time(h->report_timer, t + u->conf.ack_timeout);
	sd_event_source_set_enabled(h->report_timer, SD_EVENT_ONESHOT);
	return 0;
}

static const struct hvxd_method methods[] = {
	{ "report", m_report, 0 },
	{ "status", m_status, 0 },
	{ "table", m_table, 0 },
	{ "ssdt", m_ssdt, 0 },
	{ "negotiate", m_negotiate, HVXD_METHOD_PRIV },
	{ NULL }
};

const struct hvxd_unit hvxd_pm_unit = {
	.name = "pm",
	.conf = keys,
	.conf_size = sizeof(struct unit_conf),
	.init = unit_init,
	.reload = unit_reload,
	.fini = unit_fini,
	.status = unit_status,
	.methods = methods,
};
