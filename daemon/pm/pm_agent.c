// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-guest-agent: the guest side of PM negotiation (pm_proto.h).
 *
 * FREEZE: remember every cpuidle "disable" file and hold a PM QoS request
 * of 0 us on /dev/cpu_dma_latency, so that no deep state is entered while
 * the host's states are in doubt. TABLE: match the host's _CST entries with
 * this guest's cpuidle states by name; a state is honoured when the host
 * has it, enters it the same way (acpi_idle's "ACPI IOPORT 0x514" / "ACPI
 * HLT" / "ACPI FFH MWAIT 0x.." description) and leaves it no slower than
 * the guest believes (its sysfs latency), because the governor plans with
 * that number. ACK names the honoured host entries. ENABLE: disable every
 * other state, cap the QoS latency at the deepest enabled host latency,
 * then drop the freeze. A timeout, ABORT, a bad frame or a host that goes
 * away in the middle restores the remembered disable files and drops the
 * freeze: the guest is as it was before.
 *
 * One thread, one poll loop. The virtio-serial port reads EOF (and polls
 * POLLHUP at once) while no host is connected, so polling it then would
 * spin (qemu-ga opens it O_ASYNC too, yet re-polls it every 100 ms). The
 * agent arms O_ASYNC with fcntl and sleeps until virtio_console's SIGIO
 * says the host side changed: its PORT_OPEN control message, which QEMU
 * sends on a chardev connect and, after an incoming migration, when the
 * loaded port state differs from the destination's. Socket transports
 * reconnect with a back-off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>

#include "hvx_file.h"
#include "pm_proto.h"

#define PORT_NAME	"org.hvx.pm.0"
#define RETRY_MS	50
/* Re-read a port whose driver cannot send SIGIO (no fasync) this often. */
#define HOST_RECHECK_MS	1000
#define RECONNECT_MAX_MS 2000
#define CPU_MAX		1024

enum transport { T_VIRTIO, T_VSOCK, T_UNIX };

struct agent {
	/* options */
	enum transport transport;
	const char *port_name, *port_path, *unix_path, *sysfs, *devdir, *qos_path;
	unsigned int vsock_cid, vsock_port;
	int timeout_ms;
	bool verbose;
	/* connection */
	int fd;
	bool host_down;			/* virtio: the port reads EOF */
	bool async;			/* virtio: SIGIO on host (dis)connect */
	bool told_missing;		/* "waiting for the port" logged */
	unsigned char in[PM_MSG_MAX * 2];
	size_t in_len;
	/* negotiation */
	struct pm_round round;
	int64_t deadline;		/* ms, CLOCK_MONOTONIC; 0: none */
	int freeze_fd, cap_fd;
	uint32_t cap_us;
	bool frozen;
	/* per (cpu, state): the pre-freeze disable value, and whether it is
	 * this agent's doing (1 by an earlier ENABLE) or someone else's */
	bool saved[CPU_MAX][PM_STATE_MAX];
	bool ours[CPU_MAX][PM_STATE_MAX], ours_before[CPU_MAX][PM_STATE_MAX];
	bool have[CPU_MAX][PM_STATE_MAX];
	struct pm_table table;		/* of the open round */
	uint32_t acked;
};

static volatile sig_atomic_t stop, sigio;
static bool log_time;		/* -v: CLOCK_MONOTONIC time on every line */

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	if (log_time) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%lld.%06ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	}
	fputs("hvx-guest-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define vlog(a, ...) do { if ((a)->verbose) logmsg(__VA_ARGS__); } while (0)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	if (sig == SIGIO)
		sigio = 1;
	else
		stop = 1;
}

/* ---- sysfs ---- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

static void state_path(const struct agent *a, char *buf, size_t size, int cpu,
		       int state, const char *file)
{
	snprintf(buf, size, "%s/devices/system/cpu/cpu%d/cpuidle/state%d/%s", a->sysfs,
		 cpu, state, file);
}

static bool state_exists(const struct agent *a, int cpu, int state)
{
	char p[512];

	state_path(a, p, sizeof(p), cpu, state, "disable");
	return !access(p, F_OK);
}

static bool cpu_exists(const struct agent *a, int cpu)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/devices/system/cpu/cpu%d", a->sysfs, cpu);
	return !access(p, F_OK);
}

/* The guest's states as cpu0 shows them (cpuidle's are per driver). */
static int read_states(const struct agent *a, struct pm_report *r)
{
	char p[512];
	int ret;

	r->n = 0;
	for (int i = 0; i < PM_STATE_MAX && state_exists(a, 0, i); i++) {
		struct pm_state *s = &r->state[r->n];
		uint32_t dis;

		state_path(a, p, sizeof(p), 0, i, "name");
		ret = hvx_read_line(p, s->name, sizeof(s->name));
		if (ret)
			return ret;
		if (!s->name[0])
			return -EINVAL;
		for (char *c = s->name; *c; c++)
			if (*c < 0x20 || *c >= 0x7f)
				*c = '?';
		state_path(a, p, sizeof(p), 0, i, "latency");
		ret = hvx_read_u32(p, &s->latency_us);
		if (ret)
			return ret;
		state_path(a, p, sizeof(p), 0, i, "residency");
		ret = hvx_read_u32(p, &s->residency_us);
		if (ret)
			return ret;
		state_path(a, p, sizeof(p), 0, i, "disable");
		ret = hvx_read_u32(p, &dis);
		if (ret)
			return ret;
		s->index = i;
		s->disabled = dis != 0;
		r->n++;
	}
	return 0;
}

static void report_now(struct agent *a, struct pm_report *r)
{
	memset(r, 0, sizeof(*r));
	if (read_states(a, r))
		r->n = 0;
	r->frozen = a->frozen;
	r->qos_latency_us = a->cap_fd >= 0 ? a->cap_us : PM_QOS_NONE;
}

/* Remember every disable file, the state a rollback restores. */
static int snapshot(struct agent *a)
{
	char p[512];

	memset(a->have, 0, sizeof(a->have));
	for (int cpu = 0; cpu < CPU_MAX && cpu_exists(a, cpu); cpu++)
		for (int i = 0; i < PM_STATE_MAX && state_exists(a, cpu, i); i++) {
			uint32_t v;
			int ret;

			state_path(a, p, sizeof(p), cpu, i, "disable");
			ret = hvx_read_u32(p, &v);
			if (ret)
				return ret;
			a->saved[cpu][i] = v != 0;
			a->have[cpu][i] = true;
		}
	return 0;
}

/*
 * @allowed[i]: the host honours state i. NULL restores the snapshot. A
 * state someone else disabled stays disabled; one only this agent disabled
 * follows the new set.
 */
static int apply_disable(struct agent *a, const bool *allowed)
{
	char p[512];
	int err = 0;

	for (int cpu = 0; cpu < CPU_MAX; cpu++)
		for (int i = 0; i < PM_STATE_MAX; i++) {
			bool off;
			int ret;

			if (!a->have[cpu][i])
				continue;
			if (allowed) {
				bool theirs = a->saved[cpu][i] && !a->ours[cpu][i];

				off = theirs || !allowed[i];
				a->ours[cpu][i] = off && !theirs;
			} else {
				off = a->saved[cpu][i];
			}
			state_path(a, p, sizeof(p), cpu, i, "disable");
			ret = write_str(p, off ? "1" : "0");
			if (ret && !err)
				err = ret;
		}
	return err;
}

/* ---- PM QoS ---- */

static int qos_open(const struct agent *a, int32_t us)
{
	int fd = open(a->qos_path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* The request lives as long as the fd: the value is a binary s32. */
	if (write(fd, &us, sizeof(us)) != sizeof(us)) {
		int ret = errno ? -errno : -EIO;

		close(fd);
		return ret;
	}
	return fd;
}

/* ---- the round ---- */

static void rollback(struct agent *a, const char *why)
{
	if (a->frozen) {
		int ret = apply_disable(a, NULL);

		if (ret)
			logmsg("rollback: restoring cpuidle disable files: %s", strerror(-ret));
		close(a->freeze_fd);
		a->freeze_fd = -1;
		a->frozen = false;
		logmsg("rolled back to the pre-freeze state: %s", why);
	}
	pm_round_close(&a->round);
	pm_table_release(&a->table);
	a->acked = 0;
	a->deadline = 0;
}

static int send_frame(struct agent *a, const void *buf, ssize_t len)
{
	const unsigned char *p = buf;
	int64_t until = now_ms() + 1000;

	if (len < 0)
		return len;
	if (a->fd < 0)
		return -ENOTCONN;
	if (len >= PM_HDR_LEN)
		vlog(a, "-> %s seq %" PRIu32, pm_msg_type_name(p[5]),
		     (uint32_t)p[8] << 24 | p[9] << 16 | p[10] << 8 | p[11]);
	while (len > 0) {
		ssize_t n = send(a->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(a->fd, p, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { a->fd, POLLOUT, 0 };
			int64_t left = until - now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			/* A virtio port polls POLLHUP, not POLLOUT, with no host. */
			if (poll(&pfd, 1, left) > 0 && !(pfd.revents & POLLOUT))
				return -EPIPE;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

static void send_error(struct agent *a, uint32_t seq, int err, const char *fmt, ...)
{
	unsigned char buf[PM_MSG_MAX];
	char why[PM_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	logmsg("seq %" PRIu32 ": %s", seq, why);
	send_frame(a, buf, pm_msg_encode_error(buf, sizeof(buf), seq, err, why));
}

/* acpi_idle's description: how the guest enters a state. */
static bool same_entry(const char *desc, const struct pm_cst *c)
{
	unsigned long long addr;

	if (!strcmp(desc, "ACPI HLT"))
		return c->method == PM_CST_FFH && c->type == 1 && !c->address;
	if (sscanf(desc, "ACPI IOPORT 0x%llx", &addr) == 1)
		return c->method == PM_CST_SYSTEM_IO && c->address == addr;
	if (sscanf(desc, "ACPI FFH MWAIT 0x%llx", &addr) == 1)
		return c->method == PM_CST_FFH && c->address == addr;
	/* Not acpi_idle (intel_idle, haltpoll): the name is all we have. */
	return !!strncmp(desc, "ACPI ", 5);
}

/*
 * For each guest state, the host entry honouring it (-1: none). Returns
 * the set of host entries used.
 */
static uint32_t match(struct agent *a, const struct pm_table *t,
		      const struct pm_report *g, int *host_of)
{
	uint32_t set = 0;
	char p[512], desc[64];

	for (size_t i = 0; i < g->n; i++) {
		const struct pm_state *s = &g->state[i];

		host_of[i] = -1;
		state_path(a, p, sizeof(p), 0, s->index, "desc");
		if (hvx_read_line(p, desc, sizeof(desc)))
			desc[0] = '\0';
		for (size_t j = 0; j < t->n; j++) {
			const struct pm_cst *c = &t->cst[j];

			if (strcmp(c->name, s->name) || !same_entry(desc, c) ||
			    c->latency_us > s->latency_us)
				continue;
			host_of[i] = j;
			set |= 1u << j;
			break;
		}
	}
	return set;
}

static bool is_poll(const struct pm_state *s)
{
	return !strcmp(s->name, "POLL");
}

static void on_freeze(struct agent *a, const struct pm_msg *m)
{
	unsigned char buf[PM_MSG_MAX];
	int ret;

	/* A new round over an abandoned one keeps the first snapshot. */
	if (!a->frozen) {
		ret = snapshot(a);
		if (ret) {
			send_error(a, m->seq, -ret, "freeze: reading cpuidle state: %s",
				   strerror(-ret));
			pm_round_close(&a->round);
			return;
		}
		ret = qos_open(a, 0);
		if (ret < 0) {
			send_error(a, m->seq, -ret, "freeze: %s: %s", a->qos_path, strerror(-ret));
			pm_round_close(&a->round);
			return;
		}
		a->freeze_fd = ret;
		a->frozen = true;
	}
	pm_table_release(&a->table);
	a->acked = 0;
	a->deadline = now_ms() + a->timeout_ms;
	send_frame(a, buf, pm_msg_encode_frozen(buf, sizeof(buf), m->seq));
}

static void on_table(struct agent *a, struct pm_msg *m)
{
	unsigned char buf[PM_MSG_MAX];
	int host_of[PM_STATE_MAX];
	struct pm_report g = { 0 };
	char names[PM_STATE_MAX * PM_NAME_LEN] = "";
	uint32_t set;
	int ret = read_states(a, &g);

	a->deadline = now_ms() + a->timeout_ms;
	if (ret) {
		send_frame(a, buf, pm_msg_encode_nak(buf, sizeof(buf), m->seq,
			   "cannot read the guest's cpuidle states"));
		return;
	}
	set = match(a, &m->table, &g, host_of);
	for (size_t i = 0; i < g.n; i++)
		if (!is_poll(&g.state[i]))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s%s",
				 g.state[i].name, host_of[i] < 0 ? "(no)" : "");
	if (!set) {
		char why[PM_TEXT_MAX + 1];

		snprintf(why, sizeof(why), "no host C state honours the guest's:%s",
			 g.n ? names : " (no cpuidle driver)");
		logmsg("seq %" PRIu32 ": %s", m->seq, why);
		send_frame(a, buf, pm_msg_encode_nak(buf, sizeof(buf), m->seq, why));
		return;
	}
	logmsg("seq %" PRIu32 ": host offers %zu states, guest keeps%s", m->seq,
	       m->table.n, names);
	/* The round owns the table from here: ENABLE is checked against it. */
	pm_table_release(&a->table);
	a->table = m->table;
	m->table.cst = NULL;
	m->table.n = 0;
	a->acked = set;
	pm_round_acked(&a->round);
	send_frame(a, buf, pm_msg_encode_ack(buf, sizeof(buf), m->seq, set));
}

static void on_enable(struct agent *a, const struct pm_msg *m)
{
	unsigned char buf[PM_MSG_MAX];
	int host_of[PM_STATE_MAX];
	bool allowed[PM_STATE_MAX] = { false };
	struct pm_report g = { 0 }, r;
	uint32_t cap = 0;
	int ret, fd;

	if (m->accepted & ~a->acked) {
		rollback(a, "host enabled states the guest did not accept");
		send_error(a, m->seq, EINVAL, "enable: set 0x%" PRIx32 " was not acked (0x%" PRIx32 ")",
			   m->accepted, a->acked);
		return;
	}
	ret = read_states(a, &g);
	if (ret) {
		rollback(a, "cpuidle state unreadable");
		send_error(a, m->seq, -ret, "enable: reading cpuidle state: %s", strerror(-ret));
		return;
	}
	match(a, &a->table, &g, host_of);
	for (size_t i = 0; i < g.n; i++) {
		int h = host_of[i];

		/* POLL is not an ACPI state: the host cannot take it away. */
		allowed[g.state[i].index] = is_poll(&g.state[i]) ||
					    (h >= 0 && m->accepted & (1u << h));
		if (h >= 0 && m->accepted & (1u << h) && a->table.cst[h].latency_us > cap)
			cap = a->table.cst[h].latency_us;
	}
	memcpy(a->ours_before, a->ours, sizeof(a->ours));
	ret = apply_disable(a, allowed);
	if (ret) {
		memcpy(a->ours, a->ours_before, sizeof(a->ours));
		rollback(a, "cpuidle disable unwritable");
		send_error(a, m->seq, -ret, "enable: writing cpuidle disable: %s", strerror(-ret));
		return;
	}
	/* The new cap is in place before the freeze goes: no gap. */
	fd = qos_open(a, cap);
	if (fd < 0) {
		memcpy(a->ours, a->ours_before, sizeof(a->ours));
		rollback(a, "PM QoS unavailable");
		send_error(a, m->seq, -fd, "enable: %s: %s", a->qos_path, strerror(-fd));
		return;
	}
	if (a->cap_fd >= 0)
		close(a->cap_fd);
	a->cap_fd = fd;
	a->cap_us = cap;
	close(a->freeze_fd);
	a->freeze_fd = -1;
	a->frozen = false;
	a->deadline = 0;
	pm_table_release(&a->table);
	a->acked = 0;
	logmsg("seq %" PRIu32 ": enabled set 0x%" PRIx32 ", PM QoS cap %" PRIu32 " us",
	       m->seq, m->accepted, cap);
	report_now(a, &r);
	send_frame(a, buf, pm_msg_encode_enabled(buf, sizeof(buf), m->seq, &r));
}

static void on_msg(struct agent *a, struct pm_msg *m)
{
	unsigned char buf[PM_MSG_MAX];
	struct pm_report r;
	int ret = pm_round_check(&a->round, m);

	if (ret == -ESTALE) {
		/* A late ABORT of a round this side already closed is harmless. */
		if (m->type != PM_MSG_ABORT)
			send_error(a, m->seq, ESTALE, "%s: seq %" PRIu32 " is not the open round",
				   pm_msg_type_name(m->type), m->seq);
		return;
	}
	if (ret) {
		if (m->type == PM_MSG_TABLE || m->type == PM_MSG_ENABLE)
			rollback(a, "host out of order");
		send_error(a, m->seq, -ret, "%s out of order", pm_msg_type_name(m->type));
		return;
	}
	switch (m->type) {
	case PM_MSG_HELLO:
		if (m->min_version > PM_PROTO_VERSION) {
			send_error(a, m->seq, EPROTONOSUPPORT, "version %u..%u, agent speaks %u",
				   m->min_version, m->max_version, PM_PROTO_VERSION);
			break;
		}
		send_frame(a, buf, pm_msg_encode_hello(buf, sizeof(buf), m->seq));
		break;
	case PM_MSG_STATUS:
		report_now(a, &r);
		send_frame(a, buf, pm_msg_encode_report(buf, sizeof(buf), m->seq, &r));
		break;
	case PM_MSG_FREEZE:
		on_freeze(a, m);
		break;
	case PM_MSG_TABLE:
		on_table(a, m);
		break;
	case PM_MSG_ENABLE:
		on_enable(a, m);
		break;
	case PM_MSG_ABORT:
		rollback(a, "the host aborted the round");
		break;
	}
}

/* ---- transports ---- */

static int find_port(struct agent *a, char *path, size_t size)
{
	char dir[256], p[600], name[128];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(dir, sizeof(dir), "%s/class/virtio-ports", a->sysfs);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/name", dir, de->d_name);
		if (hvx_read_line(p, name, sizeof(name)) || strcmp(name, a->port_name))
			continue;
		snprintf(path, size, "%s/%s", a->devdir, de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

static int open_transport(struct agent *a)
{
	char path[300];
	int fd, ret;

	switch (a->transport) {
	case T_VIRTIO:
		if (a->port_path) {
			snprintf(path, sizeof(path), "%s", a->port_path);
		} else {
			ret = find_port(a, path, sizeof(path));
			if (ret) {
				/* Once: a missing port is the first thing to look at. */
				if (!a->told_missing)
					logmsg("waiting for the virtio-serial port %s (%s/class/virtio-ports): %s",
					       a->port_name, a->sysfs, strerror(-ret));
				a->told_missing = true;
				return ret;
			}
		}
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			if (!a->told_missing)
				logmsg("%s: %s", path, strerror(-ret));
			a->told_missing = true;
			return ret;
		}
		a->told_missing = false;
		/*
		 * virtio_console signals every PORT_OPEN (host connected or
		 * gone) and every arrival with SIGIO to the fasync owner:
		 * that is what ends the wait while the port reads EOF.
		 * (open(O_ASYNC) would not register it: only fcntl does.)
		 */
		a->async = !fcntl(fd, F_SETOWN, getpid()) &&
			   !fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
		logmsg("port %s open%s", path,
		       a->async ? "" : ", no SIGIO from its driver: re-reading it every second");
		return fd;
	case T_VSOCK: {
		struct sockaddr_vm sa = {
			.svm_family = AF_VSOCK,
			.svm_cid = a->vsock_cid,
			.svm_port = a->vsock_port,
		};

		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			goto err;
		break;
	}
	default: {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->unix_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			goto err;
		break;
	}
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		goto err;
	return fd;
err:
	ret = -errno;
	close(fd);
	return ret;
}

static void disconnect(struct agent *a, const char *why)
{
	if (a->round.phase != PM_ROUND_NONE || a->frozen)
		rollback(a, why);
	a->in_len = 0;
	/* The port stays open: it reads EOF until a host connects again. */
	if (a->transport != T_VIRTIO && a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
}

static void close_port(struct agent *a)
{
	close(a->fd);
	a->fd = -1;
	a->host_down = false;
}

/* Read what is there and act on every whole frame. */
static void read_input(struct agent *a)
{
	ssize_t n;

	/* A SIGIO from here on is news this read cannot have seen. */
	sigio = 0;
	n = read(a->fd, a->in + a->in_len, sizeof(a->in) - a->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		int err = errno;

		disconnect(a, strerror(err));
		/* The port was unplugged (ENODEV): look it up again. */
		if (a->fd >= 0) {
			logmsg("port: %s", strerror(err));
			close_port(a);
		}
		return;
	}
	if (!n) {
		if (a->transport == T_VIRTIO && !a->host_down)
			vlog(a, "port: no host connected (EOF)");
		disconnect(a, "the host went away");
		if (a->transport == T_VIRTIO)
			a->host_down = true;
		return;
	}
	a->in_len += n;
	for (;;) {
		struct pm_msg m;
		size_t used;
		int ret = pm_msg_decode(a->in, a->in_len, &m, &used);

		if (!ret)
			return;
		if (ret < 0) {
			if (a->frozen)
				rollback(a, "bad frame from the host");
			send_error(a, 0, -ret, "bad frame from the host: %s", strerror(-ret));
			disconnect(a, "bad frame from the host");
			return;
		}
		memmove(a->in, a->in + used, a->in_len - used);
		a->in_len -= used;
		vlog(a, "<- %s seq %" PRIu32, pm_msg_type_name(m.type), m.seq);
		on_msg(a, &m);
		pm_msg_release(&m);
		if (a->fd < 0)
			return;
	}
}

/*
 * SIGIO, SIGTERM and SIGINT are blocked except inside ppoll(): a signal
 * that comes while the loop works is taken by the next ppoll(), never lost
 * between a check of the flags and the wait.
 */
static int run(struct agent *a, const sigset_t *waitmask)
{
	int64_t next_open = 0;
	int backoff = RETRY_MS;

	while (!stop) {
		struct pollfd pfd = { -1, POLLIN, 0 };
		struct timespec ts;
		int64_t timeout = -1;
		int ret;

		if (a->fd < 0 && next_open > now_ms()) {
			timeout = next_open - now_ms();
		} else if (a->fd < 0) {
			ret = open_transport(a);
			if (ret >= 0) {
				a->fd = ret;
				a->host_down = false;
				backoff = RETRY_MS;
			} else {
				next_open = now_ms() + backoff;
				timeout = backoff;
				backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
			}
		}
		if (a->deadline) {
			int64_t left = a->deadline - now_ms();

			if (left <= 0) {
				uint32_t seq = a->round.seq;

				rollback(a, "timeout");
				send_error(a, seq, ETIMEDOUT, "no word from the host in %d ms",
					   a->timeout_ms);
				continue;
			}
			if (timeout < 0 || left < timeout)
				timeout = left;
		}
		/* The host side changed: the port may read again. */
		if (a->host_down && sigio) {
			vlog(a, "port: SIGIO, the host side changed");
			a->host_down = false;
		}
		if (a->fd >= 0 && a->host_down && !a->async &&
		    (timeout < 0 || timeout > HOST_RECHECK_MS))
			timeout = HOST_RECHECK_MS;
		if (a->fd >= 0 && !a->host_down)
			pfd.fd = a->fd;
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = timeout % 1000 * 1000000;
		/* A negative fd is skipped: no port to read, only signals and time. */
		ret = ppoll(&pfd, 1, timeout < 0 ? NULL : &ts, waitmask);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0) {
			read_input(a);
			/* A peer that accepts and hangs up must not make us spin. */
			if (a->fd < 0)
				next_open = now_ms() + RETRY_MS;
		} else if (!ret && a->fd >= 0 && a->host_down && !a->async)
			a->host_down = false;
	}
	rollback(a, "agent stopped");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvx-guest-agent [-p DEV | -n NAME | -V CID:PORT | -u PATH]\n"
		"                       [-s SYSFS] [-d DEVDIR] [-q QOSDEV] [-t MS] [-v]\n"
		"  -n NAME   virtio-serial port by name (default " PORT_NAME ")\n"
		"  -p DEV    virtio-serial port device\n"
		"  -V CID:PORT  connect over AF_VSOCK (host CID 2)\n"
		"  -u PATH   connect to an AF_UNIX stream socket\n"
		"  -s SYSFS  sysfs root (default /sys)\n"
		"  -d DEVDIR where the port devices are (default /dev)\n"
		"  -q QOSDEV PM QoS device (default /dev/cpu_dma_latency)\n"
		"  -t MS     roll back when a round stalls this long (default 10000)\n"
		"  -v        log the transport and every frame\n");
}

int main(int argc, char **argv)
{
	struct agent a = {
		.transport = T_VIRTIO, .port_name = PORT_NAME, .sysfs = "/sys",
		.devdir = "/dev", .qos_path = "/dev/cpu_dma_latency",
		.timeout_ms = 10000, .fd = -1, .freeze_fd = -1, .cap_fd = -1,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	char *end;
	int opt, ret;

	while ((opt = getopt(argc, argv, "n:p:V:u:s:d:q:t:vh")) != -1) {
		switch (opt) {
		case 'n':
			a.port_name = optarg;
			break;
		case 'p':
			a.port_path = optarg;
			break;
		case 'V':
			if (sscanf(optarg, "%u:%u", &a.vsock_cid, &a.vsock_port) != 2) {
				logmsg("-V %s: want CID:PORT", optarg);
				return 2;
			}
			a.transport = T_VSOCK;
			break;
		case 'u':
			if (strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
				logmsg("-u %s: path too long", optarg);
				return 2;
			}
			a.unix_path = optarg;
			a.transport = T_UNIX;
			break;
		case 's':
			a.sysfs = optarg;
			break;
		case 'd':
			a.devdir = optarg;
			break;
		case 'q':
			a.qos_path = optarg;
			break;
		case 't':
			errno = 0;
			a.timeout_ms = strtol(optarg, &end, 10);
			if (errno || *end || a.timeout_ms < 1 || a.timeout_ms > 3600000) {
				logmsg("-t %s: want 1..3600000 ms", optarg);
				return 2;
			}
			break;
		case 'v':
			a.verbose = log_time = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGIO);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGIO);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGIO, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = run(&a, &waitmask);
	if (ret)
		logmsg("poll: %s", strerror(-ret));
	return ret ? 1 : 0;
}
