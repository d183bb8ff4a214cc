// SPDX-License-Identifier: GPL-2.0
/*
 * Unit "app": application protection.  A guest agent sends an install (or
 * verify-only) request on its VM's channel; the unit asks the primary for
 * the signing key and version floor, checks signature, expiry, version, VM
 * and payload hash (daemon/app/app_verify.c), and launches what it stored:
 * a sandboxed transient systemd unit, or fork/exec where no systemd runs.
 * Every decision goes to the journal with its reason, and "app.list"
 * shows what was launched and whether it still runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "app_guest.h"
#include "app_launch.h"
#include "app_verify.h"
#include "hvx_json.h"
#include "hvxd.h"

#define APP_GUESTS_MAX		32
#define APP_LAUNCH_TIMEOUT_MS	10000
/* Primary connections kept open between requests: a connect, accept and
 * close per request would cost more than the hash of a 64 KiB payload. */
#define APP_PRIMARY_IDLE	4

struct app_conf {
	bool enabled;
	char primary[128];
	uint64_t primary_timeout_usec;
	char guest_dir[80];	/* sockets are "<guest_dir>/<vm>.sock" */
	char guests[APP_GUESTS_MAX * (APP_VM_MAX + 12)];
	uint64_t vsock_port;	/* guests named "vm@CID" connect here */
	char share_dir[256];	/* payloads of VM v beneath "<share_dir>/<v>" */
	char store_dir[256];
	unsigned int launcher;
	char user[64];
};

static const char *const launcher_names[] = { "auto", "systemd", "exec", NULL };

/*
 * One guest: "NAME" (unix socket <guest_dir>/NAME.sock) or "NAME@CID"
 * (AF_VSOCK: the peer's CID, which the hypervisor sets and the guest cannot
 * choose, names the VM).  Returns 0 and the CID (0: unix) or -EINVAL.
 */
static int guest_entry(char *tok, unsigned int *cid)
{
	char *at = strchr(tok, '@'), *end;
	unsigned long v;

	*cid = 0;
	if (at) {
		*at = '\0';
		errno = 0;
		v = strtoul(at + 1, &end, 10);
		/* 0 and 2 are the hypervisor's, -1U is VMADDR_CID_ANY. */
		if (errno || *end || at[1] == '-' || !at[1] || v == 0 || v == 2 ||
		    v >= 0xffffffffUL)
			return -EINVAL;
		*cid = (unsigned int)v;
	}
	return app_name_valid(tok, APP_VM_MAX) ? 0 : -EINVAL;
}

/* "vm1 vm2@3": names as app manifests spell them, each once. */
static int parse_guests(const char *val, void *dst, char *err, size_t errlen)
{
	char *copy = strdupa(val), *save, *tok;
	char seen[APP_GUESTS_MAX][APP_VM_MAX + 1];
	unsigned int cids[APP_GUESTS_MAX], n = 0, i, cid;

	if (strlen(val) >= sizeof(((struct app_conf *)0)->guests)) {
		snprintf(err, errlen, "too long");
		return -EINVAL;
	}
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *entry = strdupa(tok);

		if (guest_entry(tok, &cid)) {
			snprintf(err, errlen, "\"%.80s\" is not NAME or NAME@CID (CID not 0, 2 or -1)",
				 entry);
			return -EINVAL;
		}
		for (i = 0; i < n; i++) {
			if (!strcmp(seen[i], tok) || (cid && cids[i] == cid)) {
				snprintf(err, errlen, "\"%s\" or its CID listed twice", tok);
				return -EINVAL;
			}
		}
		if (n == APP_GUESTS_MAX) {
			snprintf(err, errlen, "more than %d guests", APP_GUESTS_MAX);
			return -EINVAL;
		}
		cids[n] = cid;
		strcpy(seen[n++], tok);
	}
	strcpy(dst, val);
	return 0;
}

static int parse_addr(const char *val, void *dst, char *err, size_t errlen)
{
	if (strlen(val) >= sizeof(((struct app_conf *)0)->primary) ||
	    (strncmp(val, "unix:/", 6) && strncmp(val, "vsock:", 6))) {
		snprintf(err, errlen, "expected unix:/PATH or vsock:CID:PORT");
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

#define STR(field, dflt) HVX_CONF_STR, offsetof(struct app_conf, field),	\
	.size = sizeof(((struct app_conf *)0)->field), .def = dflt

static const struct hvx_conf_key app_keys[] = {
	{ "enabled", HVX_CONF_BOOL, offsetof(struct app_conf, enabled), .def = "no" },
	{ "primary", HVX_CONF_CUSTOM, offsetof(struct app_conf, primary),
	  .size = sizeof(((struct app_conf *)0)->primary),
	  .def = "unix:/run/hvx/primary.sock", .parse = parse_addr },
	{ "primary_timeout", HVX_CONF_DURATION,
	  offsetof(struct app_conf, primary_timeout_usec), .def = "2s",
	  .min = 10000, .max = 60000000 },
	{ "guest_dir", STR(guest_dir, "/run/hvx/app") },
	{ "guests", HVX_CONF_CUSTOM, offsetof(struct app_conf, guests),
	  .size = sizeof(((struct app_conf *)0)->guests), .def = "",
	  .parse = parse_guests },
	{ "vsock_port", HVX_CONF_UINT, offsetof(struct app_conf, vsock_port),
	  .def = "0", .min = 0, .max = 0xfffffffe },
	{ "share_dir", STR(share_dir, "/var/lib/hvx/share") },
	{ "store_dir", STR(store_dir, "/var/lib/hvx/apps") },
	{ "launcher", HVX_CONF_ENUM, offsetof(struct app_conf, launcher),
	  .def = "auto", .choices = launcher_names },
	{ "user", STR(user, "nobody") },
	{ NULL }
};

struct app_unit;

/* One guest: its channel and its share. */
struct app_chan {
	struct app_unit *u;
	char vm[APP_VM_MAX + 1];
	unsigned int cid;	/* vsock guest; 0: unix socket at path */
	unsigned int n_conns;
	char path[108];
	int share_fd;
	sd_event_source *listen;
};

/* A guest connection; the unit closes them all when it stops. */
struct app_conn {
	struct app_conn *next, **pprev;
	struct app_chan *ch;
	sd_event_source *io;
};

struct app_inst {
	struct app_inst *next;
	struct app_unit *u;
	char vm[APP_VM_MAX + 1];
	char app_id[APP_ID_MAX + 1];
	uint64_t version;
	char sha256[2 * APP_SHA256_LEN + 1];
	char key_id[2 * APP_KEYID_LEN + 1];
	char unit[256];		/* "" for fork/exec */
	pid_t pid;
	bool running;
	int status;		/* wait status, when ours and exited */
	uint64_t installed;	/* CLOCK_REALTIME, usec */
	sd_event_source *watch;
};

struct app_unit {
	struct hvxd *d;
	struct app_conf conf;
	struct app_verifier v;
	struct app_chan chans[APP_GUESTS_MAX];
	unsigned int n_chans;
	struct app_inst *insts;
	struct app_conn *conns;
	struct app_job *jobs;
	int idle[APP_PRIMARY_IDLE];	/* primary connections to reuse */
	unsigned int n_idle;
	sd_event_source *vsock;	/* listener of the vsock guests */
	unsigned long seq;
	char boot[9];		/* random per unit start: names survive restarts */
	uint64_t decisions[__APP_REASON_MAX];
};

static int on_exit_fd(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct app_inst *in = data;
	siginfo_t si = { 0 };

	/* Ours (fork/exec) to reap; a systemd unit's main process is not. */
	if (!in->unit[0] && !waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) &&
	    si.si_pid)
		in->status = si.si_code == CLD_EXITED ? si.si_status << 8 : si.si_status;
	in->running = false;
	hvxd_log(LOG_INFO, "app", "vm %s: %s version %" PRIu64 " (pid %d%s%s) exited",
		 in->vm, in->app_id, in->version, in->pid, in->unit[0] ? ", unit " : "",
		 in->unit);
	in->watch = sd_event_source_disable_unref(in->watch);
	return 0;
}

static int record(struct app_unit *u, const struct app_chan *ch,
		  const struct app_decision *d, const struct app_launched *l)
{
	struct app_inst *in = calloc(1, sizeof(*in));
	struct timespec ts;
	int fd, ret;

	if (!in)
		return -ENOMEM;
	in->u = u;
	strcpy(in->vm, ch->vm);
	strcpy(in->app_id, d->m.app_id);
	in->version = d->m.version;
	app_hex_encode(d->m.sha256, APP_SHA256_LEN, in->sha256);
	app_hex_encode(d->m.key_id, APP_KEYID_LEN, in->key_id);
	snprintf(in->unit, sizeof(in->unit), "%s", l->unit);
	in->pid = l->pid;
	in->running = true;
	clock_gettime(CLOCK_REALTIME, &ts);
	in->installed = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	/* A pidfd tells us when the app ends, whoever launched it. */
	fd = l->pidfd >= 0 ? l->pidfd : (int)syscall(SYS_pidfd_open, l->pid, 0);
	if (fd >= 0) {
		ret = sd_event_add_io(hvxd_event(u->d), &in->watch, fd, EPOLLIN,
				      on_exit_fd, in);
		if (ret < 0)
			close(fd);
		else
			sd_event_source_set_io_fd_own(in->watch, 1);
	}
	in->next = u->insts;
	u->insts = in;
	return 0;
}

/*
 * One request in flight.  Its guest connection is paused meanwhile, so that
 * each connection gets its replies in order; other connections, other
 * guests and the rest of hvxd go on.  The primary gets a connection of its
 * own per request, so a slow or dead primary costs each request at most
 * primary_timeout per step and blocks nothing.
 */
struct app_job {
	struct app_job *next, **pprev;
	struct app_conn *conn;
	struct app_guest_req req;
	struct app_request areq;
	struct app_decision d;
	struct app_lookup lk;
	enum { JOB_CONNECT, JOB_LOOKUP, JOB_COMMIT, JOB_LAUNCH } stage;
	int pfd;
	bool reused;		/* pfd came from the idle list: may be stale */
	sd_event_source *pio, *timer;
	struct app_launch_op *launch;
	struct app_launched l;
};

static void job_free(struct app_job *j)
{
	*j->pprev = j->next;
	if (j->next)
		j->next->pprev = j->pprev;
	app_launch_cancel(j->launch);
	sd_event_source_disable_unref(j->pio);
	sd_event_source_disable_unref(j->timer);
	if (j->pfd >= 0)
		close(j->pfd);
	app_decision_free(&j->d);
	app_guest_req_free(&j->req);
	free(j);
}

static void job_done(struct app_job *j)
{
	struct app_conn *c = j->conn;
	struct app_chan *ch = c->ch;
	struct app_unit *u = ch->u;
	struct app_decision *d = &j->d;
	struct app_guest_reply rep;

	u->decisions[d->reason]++;
	if (d->reason == APP_OK)
		hvxd_log(LOG_NOTICE, "app", "vm %s: %s %s version %" PRIu64 ": accepted: %s%s%s%s",
			 ch->vm, j->req.install ? "install" : "verify", d->m.app_id,
			 d->m.version, d->detail, j->l.pid ? ", launched" : "",
			 j->l.unit[0] ? " as unit " : "", j->l.unit);
	else
		hvxd_log(LOG_WARNING, "app", "vm %s: %s %s: refused: %s: %s", ch->vm,
			 j->req.install ? "install" : "verify", j->req.app_id,
			 app_reason_name(d->reason), d->detail);
	rep = (struct app_guest_reply){
		.reason = d->reason,
		.detail = d->detail,
		.app_id = d->have_manifest ? d->m.app_id : NULL,
		.version = d->have_manifest ? d->m.version : 0,
		.pid = d->reason == APP_OK ? j->l.pid : 0,
		.unit = d->reason == APP_OK && j->l.unit[0] ? j->l.unit : NULL,
	};
	if (app_guest_send(sd_event_source_get_io_fd(c->io), &rep) < 0)
		hvxd_log(LOG_INFO, "app", "vm %s: guest left before the reply", ch->vm);
	sd_event_source_set_enabled(c->io, SD_EVENT_ON);
	job_free(j);
}

static void job_refuse(struct app_job *j, enum app_reason r, const char *detail)
{
	app_verify_refuse(&j->d, r, detail);
	job_done(j);
}

static void launched(struct app_job *j, const struct app_launched *l)
{
	struct app_unit *u = j->conn->ch->u;

	j->l = *l;
	if (record(u, j->conn->ch, &j->d, l)) {
		hvxd_log(LOG_WARNING, "app", "vm %s: %s launched as pid %d but not recorded",
			 j->conn->ch->vm, j->d.m.app_id, l->pid);
		if (l->pidfd >= 0)
			close(l->pidfd);
	}
	job_done(j);
}

static void on_launched(void *data, int err, const struct app_launched *l,
			const char *msg)
{
	struct app_job *j = data;

	j->launch = NULL;	/* the launcher frees itself after this call */
	if (err)
		job_refuse(j, APP_LAUNCH_FAILED, msg);
	else
		launched(j, l);
}

static void job_launch(struct app_job *j)
{
	struct app_unit *u = j->conn->ch->u;
	const char *vm = j->conn->ch->vm;
	char unit[256], desc[256], err[512];
	struct app_launch_spec spec = {
		.path = j->d.path,
		.args = j->d.m.args,
		.n_args = j->d.m.n_args,
		.unit = unit,
		.description = desc,
		.user = u->conf.user,
		.timeout_ms = APP_LAUNCH_TIMEOUT_MS,
	};
	struct app_launched l = { .pidfd = -1 };
	int ret;

	/* Apps outlive hvxd: a restarted hvxd must not reuse a running name. */
	snprintf(unit, sizeof(unit), "hvx-app-%s-%s-%s%lu.service", vm,
		 j->d.m.app_id, u->boot, ++u->seq);
	snprintf(desc, sizeof(desc), "hvx app %s version %" PRIu64 " for vm %s",
		 j->d.m.app_id, j->d.m.version, vm);
	j->stage = JOB_LAUNCH;
	ret = app_launch(hvxd_event(u->d), (enum app_launcher)u->conf.launcher,
			 &spec, &l, on_launched, j, &j->launch, err, sizeof(err));
	if (ret < 0)
		job_refuse(j, APP_LAUNCH_FAILED, err);
	else if (ret == 0)
		launched(j, &l);
}

static int job_wait(struct app_job *j, uint32_t events)
{
	struct app_unit *u = j->conn->ch->u;
	int ret;

	ret = sd_event_source_set_io_events(j->pio, events);
	if (ret >= 0)
		ret = sd_event_source_set_time_relative(j->timer,
							u->conf.primary_timeout_usec);
	if (ret >= 0)
		ret = sd_event_source_set_enabled(j->timer, SD_EVENT_ONESHOT);
	return ret;
}

/* The conversation ended cleanly: keep the connection for the next job. */
static void job_primary_release(struct app_job *j)
{
	struct app_unit *u = j->conn->ch->u;

	j->pio = sd_event_source_disable_unref(j->pio);
	j->timer = sd_event_source_disable_unref(j->timer);
	if (u->n_idle < APP_PRIMARY_IDLE)
		u->idle[u->n_idle++] = j->pfd;
	else
		close(j->pfd);
	j->pfd = -1;
}

static int job_connect(struct app_job *j);

/*
 * A kept connection may have died with a primary that restarted since:
 * then the request starts over once on a fresh one, and only a fresh
 * connection failing means the primary is unreachable.
 */
static bool job_retry(struct app_job *j)
{
	if (!j->reused)
		return false;
	j->pio = sd_event_source_disable_unref(j->pio);
	j->timer = sd_event_source_disable_unref(j->timer);
	close(j->pfd);
	j->pfd = -1;
	j->reused = false;
	return job_connect(j) == 0;
}

static int on_primary(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct app_job *j = data;
	struct app_unit *u = j->conn->ch->u;
	char detail[512];
	enum app_reason r;
	int err = 0;
	socklen_t len = sizeof(err);

	switch (j->stage) {
	case JOB_CONNECT:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (!err)
			err = -app_primary_send_lookup(fd, j->d.m.app_id, j->d.m.key_id);
		if (err && j->reused) {
			if (job_retry(j))
				return 0;
			err = errno;
		}
		if (err || job_wait(j, EPOLLIN) < 0) {
			snprintf(detail, sizeof(detail), "primary %s: %s", u->conf.primary,
				 strerror(err ?: EIO));
			job_refuse(j, APP_PRIMARY_UNREACHABLE, detail);
			return 0;
		}
		j->stage = JOB_LOOKUP;
		return 0;
	case JOB_LOOKUP:
		/* Only the primary says which key may sign this app ID. */
		r = app_primary_read_lookup(fd, u->conf.primary, &j->lk, detail,
					    sizeof(detail));
		if (r == APP_PRIMARY_UNREACHABLE && j->reused) {
			if (job_retry(j))
				return 0;
			snprintf(detail, sizeof(detail), "primary %s: %s",
				 u->conf.primary, strerror(errno));
		}
		if (r != APP_OK) {
			job_refuse(j, r, detail);
			return 0;
		}
		j->reused = false;	/* it answered: no retry from here on */
		if (app_verify_local(&u->v, &j->areq, &j->lk, &j->d) != APP_OK ||
		    !j->req.install) {
			job_primary_release(j);
			if (!j->d.reason)
				app_verify_accepted(&j->areq, &j->d);
			job_done(j);
			return 0;
		}
		/*
		 * Commit last: a version raises the floor only once everything
		 * else passed, and a newer version committed meanwhile by a
		 * concurrent install turns this one into a rollback.
		 */
		err = -app_primary_send_commit(fd, j->d.m.app_id, j->d.m.version);
		if (err || job_wait(j, EPOLLIN) < 0) {
			snprintf(detail, sizeof(detail), "primary %s: %s", u->conf.primary,
				 strerror(err ?: EIO));
			job_refuse(j, APP_PRIMARY_UNREACHABLE, detail);
			return 0;
		}
		j->stage = JOB_COMMIT;
		return 0;
	case JOB_COMMIT:
		r = app_primary_read_commit(fd, u->conf.primary, detail, sizeof(detail));
		if (r == APP_PRIMARY_UNREACHABLE) {
			job_refuse(j, r, detail);
			return 0;
		}
		job_primary_release(j);
		if (r != APP_OK) {
			job_refuse(j, r, detail);
			return 0;
		}
		app_verify_accepted(&j->areq, &j->d);
		job_launch(j);
		return 0;
	default:
		return 0;
	}
}

static int on_primary_timeout(sd_event_source *s, uint64_t usec, void *data)
{
	struct app_job *j = data;
	char detail[256];

	snprintf(detail, sizeof(detail), "primary %s: no answer within %" PRIu64 "ms",
		 j->conn->ch->u->conf.primary,
		 j->conn->ch->u->conf.primary_timeout_usec / 1000);
	job_refuse(j, APP_PRIMARY_UNREACHABLE, detail);
	return 0;
}

/* Takes over @req. */
static void job_start(struct app_conn *c, struct app_guest_req *req)
{
	struct app_chan *ch = c->ch;
	struct app_unit *u = ch->u;
	struct app_job *j = calloc(1, sizeof(*j));
	char detail[256];
	int ret;

	if (!j) {
		app_guest_req_free(req);
		return;
	}
	j->conn = c;
	j->req = *req;
	j->pfd = -1;
	j->areq = (struct app_request){
		.vm = ch->vm,
		.app_id = j->req.app_id,
		.manifest = j->req.manifest,
		.manifest_len = j->req.manifest_len,
		.payload_dirfd = ch->share_fd,
		.payload = j->req.payload,
		.store = j->req.install,
	};
	j->next = u->jobs;
	if (j->next)
		j->next->pprev = &j->next;
	j->pprev = &u->jobs;
	u->jobs = j;
	sd_event_source_set_enabled(c->io, SD_EVENT_OFF);

	if (j->req.vm[0] && strcmp(j->req.vm, ch->vm)) {
		snprintf(detail, sizeof(detail),
			 "request names vm %s on the channel of vm %s", j->req.vm, ch->vm);
		job_refuse(j, APP_VM_NOT_PERMITTED, detail);
		return;
	}
	if (app_verify_parse(&j->areq, &j->d) != APP_OK) {
		job_done(j);
		return;
	}
	if (u->n_idle) {
		/* Kept connection: ask right away, as if just connected. */
		j->pfd = u->idle[--u->n_idle];
		j->reused = true;
		ret = sd_event_add_io(hvxd_event(u->d), &j->pio, j->pfd, EPOLLOUT,
				      on_primary, j);
		if (!ret)
			ret = sd_event_add_time_relative(hvxd_event(u->d), &j->timer,
							 CLOCK_MONOTONIC,
							 u->conf.primary_timeout_usec, 0,
							 on_primary_timeout, j);
		j->stage = JOB_CONNECT;
		if (!ret)
			return;
		if (job_retry(j))
			return;
	} else if (job_connect(j) == 0) {
		return;
	}
	snprintf(detail, sizeof(detail), "primary %s: %s", u->conf.primary,
		 strerror(errno));
	job_refuse(j, APP_PRIMARY_UNREACHABLE, detail);
}

/* 0, or -1 with errno set. */
static int job_connect(struct app_job *j)
{
	struct app_unit *u = j->conn->ch->u;
	int ret;

	j->pfd = app_sock_connect_nb(u->conf.primary);
	ret = j->pfd < 0 ? j->pfd : 0;
	if (!ret)
		ret = sd_event_add_io(hvxd_event(u->d), &j->pio, j->pfd, EPOLLOUT,
				      on_primary, j);
	if (!ret)
		ret = sd_event_add_time_relative(hvxd_event(u->d), &j->timer,
						 CLOCK_MONOTONIC,
						 u->conf.primary_timeout_usec, 0,
						 on_primary_timeout, j);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	j->stage = JOB_CONNECT;
	return 0;
}

static void conn_free(struct app_conn *c)
{
	c->ch->n_conns--;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	sd_event_source_disable_unref(c->io);
	free(c);
}

static int on_guest(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct app_conn *c = data;
	struct app_chan *ch = c->ch;
	struct app_guest_req req;
	char err[256];
	int ret;

	ret = app_guest_recv(fd, &req, err, sizeof(err));
	if (ret == -EPROTO) {
		struct app_guest_reply rep = { .reason = APP_BAD_REQUEST, .detail = err };

		ch->u->decisions[APP_BAD_REQUEST]++;
		hvxd_log(LOG_WARNING, "app", "vm %s: refused: %s: %s", ch->vm,
			 app_reason_name(APP_BAD_REQUEST), err);
		app_guest_send(fd, &rep);
		return 0;
	}
	if (ret == -EAGAIN || ret == -EINTR)
		return 0;
	if (ret < 0) {
		conn_free(c);
		return 0;
	}
	job_start(c, &req);
	return 0;
}

/* Enough for a guest's agents; a guest opening more only hurts itself. */
#define APP_CONNS_PER_GUEST	16

static void conn_add(struct app_chan *ch, int cfd)
{
	struct app_unit *u = ch->u;
	struct app_conn *c;

	if (ch->n_conns == APP_CONNS_PER_GUEST) {
		hvxd_log(LOG_WARNING, "app", "vm %s: more than %d connections, closing the new one",
			 ch->vm, APP_CONNS_PER_GUEST);
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || sd_event_add_io(hvxd_event(u->d), &c->io, cfd, EPOLLIN, on_guest, c) < 0) {
		free(c);
		close(cfd);
		return;
	}
	sd_event_source_set_io_fd_own(c->io, 1);
	c->ch = ch;
	ch->n_conns++;
	c->next = u->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &u->conns;
	u->conns = c;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (cfd >= 0)
		conn_add(data, cfd);
	return 0;
}

/* The CID the connection comes from picks the VM; unknown CIDs get nothing. */
static int on_accept_vsock(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct app_unit *u = data;
	struct sockaddr_vm peer;
	socklen_t len = sizeof(peer);
	unsigned int i;
	int cfd;

	cfd = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	for (i = 0; i < u->n_chans; i++) {
		if (u->chans[i].cid && u->chans[i].cid == peer.svm_cid) {
			conn_add(&u->chans[i], cfd);
			return 0;
		}
	}
	hvxd_log(LOG_WARNING, "app", "vsock connection from unknown CID %u refused",
		 peer.svm_cid);
	close(cfd);
	return 0;
}

/*
 * Create @path and missing parents with exactly @mode, whatever hvxd's umask
 * (hvxd.service: 0077): the apps run as other users and must traverse the
 * store, and the share directories are shared with the guest.
 */
static int mkdir_p(const char *path, mode_t mode)
{
	char *p = strdupa(path), *slash = p;

	for (;;) {
		slash = strchr(slash + 1, '/');
		if (slash)
			*slash = '\0';
		if (mkdir(p, mode) == 0) {
			if (chmod(p, mode) < 0)
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (!slash)
			return 0;
		*slash = '/';
	}
}

static int chan_open(struct app_unit *u, struct app_chan *ch, char *entry)
{
	char addr[120], share[512];
	int fd, ret;

	ch->u = u;
	ch->share_fd = -1;
	if (guest_entry(entry, &ch->cid))
		return -EINVAL;
	strcpy(ch->vm, entry);
	if (snprintf(ch->path, sizeof(ch->path), "%s/%s.sock", u->conf.guest_dir,
		     ch->vm) >= (int)sizeof(ch->path))
		return -ENAMETOOLONG;
	snprintf(share, sizeof(share), "%s/%s", u->conf.share_dir, ch->vm);
	ret = mkdir_p(share, 0755);
	if (ret)
		return ret;
	ch->share_fd = open(share, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ch->share_fd < 0)
		return -errno;
	if (ch->cid)
		return 0;
	snprintf(addr, sizeof(addr), "unix:%s", ch->path);
	fd = app_sock_listen(addr);
	if (fd < 0)
		return fd;
	ret = sd_event_add_io(hvxd_event(u->d), &ch->listen, fd, EPOLLIN, on_accept, ch);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	sd_event_source_set_io_fd_own(ch->listen, 1);
	return 0;
}

static void chan_close(struct app_chan *ch)
{
	if (ch->listen) {
		ch->listen = sd_event_source_disable_unref(ch->listen);
		unlink(ch->path);
	}
	if (ch->share_fd >= 0)
		close(ch->share_fd);
	ch->share_fd = -1;
}

static void app_fini(struct hvxd *d, void *priv)
{
	struct app_unit *u = priv;
	struct app_inst *in;
	unsigned int i;

	/* Requests in flight get no answer: the guest sees its connection
	 * close, and nothing half-done was launched. */
	while (u->jobs)
		job_free(u->jobs);
	while (u->n_idle)
		close(u->idle[--u->n_idle]);
	while (u->conns)
		conn_free(u->conns);
	u->vsock = sd_event_source_disable_unref(u->vsock);
	for (i = 0; i < u->n_chans; i++)
		chan_close(&u->chans[i]);
	/* The apps themselves keep running: hvxd restarting is not a reason
	 * to stop what was verified. */
	while ((in = u->insts)) {
		u->insts = in->next;
		sd_event_source_disable_unref(in->watch);
		free(in);
	}
	app_verifier_free(&u->v);
	free(u);
}

static int vsock_open(struct app_unit *u)
{
	unsigned int i, n = 0;
	char addr[32];
	int fd, ret;

	for (i = 0; i < u->n_chans; i++)
		n += u->chans[i].cid != 0;
	if (!n)
		return 0;
	if (!u->conf.vsock_port) {
		hvxd_log(LOG_ERR, "app", "guests with @CID need vsock_port");
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "vsock:%" PRIu64, u->conf.vsock_port);
	fd = app_sock_listen(addr);
	if (fd < 0) {
		hvxd_log(LOG_ERR, "app", "listen %s: %s", addr, strerror(-fd));
		return fd;
	}
	ret = sd_event_add_io(hvxd_event(u->d), &u->vsock, fd, EPOLLIN,
			      on_accept_vsock, u);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	sd_event_source_set_io_fd_own(u->vsock, 1);
	return 0;
}

static int app_init(struct hvxd *d, const void *conf, void **priv)
{
	struct app_unit *u = calloc(1, sizeof(*u));
	char *guests, *save, *tok;
	uint8_t rnd[4];
	int ret;

	if (!u)
		return -ENOMEM;
	u->d = d;
	u->conf = *(const struct app_conf *)conf;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(u);
		return -errno;
	}
	app_hex_encode(rnd, sizeof(rnd), u->boot);
	ret = mkdir_p(u->conf.guest_dir, 0755);
	if (!ret)
		ret = mkdir_p(u->conf.store_dir, 0755);
	if (!ret)
		ret = app_verifier_init(&u->v, u->conf.primary,
					(int)(u->conf.primary_timeout_usec / 1000),
					u->conf.store_dir);
	if (ret) {
		hvxd_log(LOG_ERR, "app", "store %s or guest_dir %s: %s",
			 u->conf.store_dir, u->conf.guest_dir, strerror(-ret));
		u->v.store_fd = -1;
		app_fini(d, u);
		return ret;
	}
	guests = strdupa(u->conf.guests);
	for (tok = strtok_r(guests, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		ret = chan_open(u, &u->chans[u->n_chans], tok);
		u->n_chans++;
		if (ret) {
			hvxd_log(LOG_ERR, "app", "vm %s: channel %s: %s", tok,
				 u->chans[u->n_chans - 1].path, strerror(-ret));
			app_fini(d, u);
			return ret;
		}
	}
	ret = vsock_open(u);
	if (ret) {
		app_fini(d, u);
		return ret;
	}
	hvxd_log(LOG_INFO, "app", "%u guest channel(s) in %s, vsock port %" PRIu64
		 ", primary %s, store %s, launcher %s", u->n_chans, u->conf.guest_dir,
		 u->conf.vsock_port, u->conf.primary, u->conf.store_dir,
		 launcher_names[u->conf.launcher]);
	*priv = u;
	return 0;
}

static int app_status(void *priv, struct json_object *o)
{
	struct app_unit *u = priv;
	struct json_object *dec = json_object_new_object();
	int i;

	if (!dec)
		return -ENOMEM;
	for (i = 0; i < __APP_REASON_MAX; i++)
		if (u->decisions[i] && hvx_json_add_u64(dec, app_reason_name(i), u->decisions[i]))
			goto nomem;
	if (hvx_json_add(o, "decisions", dec))
		return -ENOMEM;
	return hvx_json_add_u64(o, "guests", u->n_chans);
nomem:
	json_object_put(dec);
	return -ENOMEM;
}

static struct json_object *inst_json(const struct app_inst *in)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (hvx_json_add_str(o, "vm", in->vm) ||
	    hvx_json_add_str(o, "app_id", in->app_id) ||
	    hvx_json_add_u64(o, "version", in->version) ||
	    hvx_json_add_str(o, "sha256", in->sha256) ||
	    hvx_json_add_str(o, "key_id", in->key_id) ||
	    hvx_json_add_u64(o, "pid", (uint64_t)in->pid) ||
	    hvx_json_add_str(o, "launcher", in->unit[0] ? "systemd" : "exec") ||
	    (in->unit[0] && hvx_json_add_str(o, "unit", in->unit)) ||
	    hvx_json_add_str(o, "state", in->running ? "running" : "exited") ||
	    (!in->running && !in->unit[0] &&
	     hvx_json_add_i64(o, "wait_status", in->status)) ||
	    hvx_json_add_u64(o, "installed_usec", in->installed)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int m_list(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct app_unit *u = priv;
	struct json_object *res = json_object_new_object(), *arr, *o;
	const struct app_inst *in;

	arr = json_object_new_array();
	if (!res || !arr)
		goto nomem;
	for (in = u->insts; in; in = in->next) {
		o = inst_json(in);
		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			goto nomem;
		}
	}
	if (hvx_json_add(res, "apps", arr)) {
		json_object_put(res);
		return -ENOMEM;
	}
	hvxd_call_reply(call, res);
	return 0;
nomem:
	json_object_put(arr);
	json_object_put(res);
	return -ENOMEM;
}

static const struct hvxd_method app_methods[] = {
	{ "list", m_list, 0 },
	{ NULL }
};

const struct hvxd_unit hvxd_app_unit = {
	.name = "app",
	.conf = app_keys,
	.conf_size = sizeof(struct app_conf),
	.init = app_init,
	.fini = app_fini,
	.status = app_status,
	.methods = app_methods,
};
