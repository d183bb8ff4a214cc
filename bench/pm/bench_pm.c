// SPDX-License-Identifier: GPL-2.0
/*
 * bench_pm: negotiation round trips through a running hvxd.
 *
 * Plays N guest agents on unix sockets in hvxd's [pm] socket_dir (each
 * listens on bNNNN.agent, as QEMU's chardev does, and answers FREEZE,
 * TABLE and ENABLE with the real codec), waits until hvxd has connected to
 * all of them, then keeps one `pm.negotiate` (wait) in flight per agent
 * on its own control connection for the duration. A round trip is the
 * time from sending the request to hvxd's reply, i.e. FREEZE -> FROZEN ->
 * TABLE -> ACK -> ENABLE -> ENABLED through hvxd's loop.
 *
 * One thread, epoll: the agents' side never becomes the bottleneck's
 * excuse. Prints one line: agents, rounds, p50/p99 (us), rounds/s.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hvx_ctl.h"
#include "pm_proto.h"

struct agent {
	int idx;
	int lfd, fd;		/* listener, hvxd's connection */
	unsigned char in[PM_MSG_MAX * 4];
	size_t in_len;
	/* control connection */
	int cfd;
	struct hvx_ctl_buf cin;
	uint64_t sent_ns;
	bool busy;
};

static struct agent *agents;
static int n_agents = 1, ep;
static const char *dir, *ctl_path;
static uint64_t *lat;
static size_t n_lat, cap_lat;
static unsigned long failures;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_pm: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Tag epoll entries: agent index * 4 + kind. */
enum { K_LISTEN, K_AGENT, K_CTL };

static void add(int fd, int idx, int kind)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)idx * 4 + kind };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e))
		die("epoll_ctl");
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("send");
		}
		c += w;
		n -= w;
	}
}

static void agent_msg(struct agent *a, const struct pm_msg *m)
{
	unsigned char out[PM_MSG_MAX];
	struct pm_report r = { .qos_latency_us = PM_QOS_NONE };
	ssize_t n = 0;

	switch (m->type) {
	case PM_MSG_FREEZE:
		n = pm_msg_encode_frozen(out, sizeof(out), m->seq);
		break;
	case PM_MSG_TABLE:
		n = pm_msg_encode_ack(out, sizeof(out), m->seq,
				      (uint32_t)((1ull << m->table.n) - 1));
		break;
	case PM_MSG_ENABLE:
		n = pm_msg_encode_enabled(out, sizeof(out), m->seq, &r);
		break;
	case PM_MSG_STATUS:
		n = pm_msg_encode_report(out, sizeof(out), m->seq, &r);
		break;
	default:	/* HELLO, ABORT: nothing to answer */
		return;
	}
	if (n < 0) {
		errno = -n;
		die("encode");
	}
	send_all(a->fd, out, n);
}

static void agent_read(struct agent *a)
{
	ssize_t n = recv(a->fd, a->in + a->in_len, sizeof(a->in) - a->in_len, 0);

	if (n <= 0) {
		fprintf(stderr, "bench_pm: hvxd closed agent %d\n", a->idx);
		exit(1);
	}
	a->in_len += n;
	for (;;) {
		struct pm_msg m;
		size_t used;
		int ret = pm_msg_decode(a->in, a->in_len, &m, &used);

		if (!ret)
			break;
		if (ret < 0) {
			fprintf(stderr, "bench_pm: bad frame from hvxd: %s\n", strerror(-ret));
			exit(1);
		}
		agent_msg(a, &m);
		pm_msg_release(&m);
		memmove(a->in, a->in + used, a->in_len - used);
		a->in_len -= used;
	}
}

static void ctl_send(struct agent *a)
{
	struct json_object *p = json_object_new_object();
	struct hvx_ctl_buf out = { 0 };
	char name[16];

	snprintf(name, sizeof(name), "b%04d", a->idx);
	json_object_object_add(p, "vm", json_object_new_string(name));
	json_object_object_add(p, "wait", json_object_new_boolean(1));
	if (hvx_ctl_encode(&out, hvx_ctl_request("pm.negotiate", p))) {
		fprintf(stderr, "bench_pm: encode request failed\n");
		exit(1);
	}
	a->sent_ns = now_ns();
	a->busy = true;
	send_all(a->cfd, out.data, out.len);
	hvx_ctl_buf_free(&out);
}

static void ctl_read(struct agent *a, bool more)
{
	unsigned char buf[4096];
	struct json_object *msg, *res;
	char err[256];
	ssize_t n = recv(a->cfd, buf, sizeof(buf), 0);

	if (n <= 0) {
		fprintf(stderr, "bench_pm: hvxd closed control connection %d\n", a->idx);
		exit(1);
	}
	hvx_ctl_buf_append(&a->cin, buf, n);
	while (hvx_ctl_decode(&a->cin, HVX_CTL_FRAME_MAX, &msg) == 1) {
		uint64_t t = now_ns() - a->sent_ns;

		if (hvx_ctl_parse_reply(msg, &res, err, sizeof(err))) {
			if (!failures++)
				fprintf(stderr, "bench_pm: b%04d: %s\n", a->idx, err);
		} else {
			if (n_lat == cap_lat) {
				cap_lat = cap_lat ? cap_lat * 2 : 65536;
				lat = realloc(lat, cap_lat * sizeof(*lat));
				if (!lat)
					die("realloc");
			}
			lat[n_lat++] = t;
		}
		json_object_put(msg);
		a->busy = false;
		if (more)
			ctl_send(a);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int unix_sock(const char *path, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (listening) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1))
			die(path);
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		die(path);
	}
	return fd;
}

int main(int argc, char **argv)
{
	double seconds = 3;
	struct rlimit rl;
	struct epoll_event evs[256];
	char path[108];
	int opt, connected = 0;
	uint64_t t0, t_end;

	while ((opt = getopt(argc, argv, "n:t:d:S:")) != -1) {
		switch (opt) {
		case 'n':
			n_agents = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'S':
			ctl_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_pm -d SOCKET_DIR -S HVXD_SOCKET [-n AGENTS] [-t SECONDS]\n");
			return 2;
		}
	}
	if (!dir || !ctl_path || n_agents < 1 || n_agents > 9999 || seconds <= 0) {
		fprintf(stderr, "usage: bench_pm -d SOCKET_DIR -S HVXD_SOCKET [-n AGENTS] [-t SECONDS]\n");
		return 2;
	}
	/* Three fds per agent: listener, hvxd's connection, control. */
	rl.rlim_cur = rl.rlim_max = 3 * n_agents + 64;
	if (rl.rlim_cur > 1024 && setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit RLIMIT_NOFILE");
	agents = calloc(n_agents, sizeof(*agents));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!agents || ep < 0)
		die("setup");
	for (int i = 0; i < n_agents; i++) {
		struct agent *a = &agents[i];

		a->idx = i;
		a->fd = -1;
		snprintf(path, sizeof(path), "%s/b%04d.agent", dir, i);
		a->lfd = unix_sock(path, true);
		add(a->lfd, i, K_LISTEN);
	}
	/* hvxd sees the files appear and connects to each. */
	t0 = now_ns();
	while (connected < n_agents) {
		int n = epoll_wait(ep, evs, 256, 1000);

		if (now_ns() - t0 > 60ull * 1000000000) {
			fprintf(stderr, "bench_pm: hvxd connected %d of %d agents in 60 s\n",
				connected, n_agents);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct agent *a = &agents[evs[i].data.u64 / 4];

			if (evs[i].data.u64 % 4 == K_LISTEN) {
				a->fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
				if (a->fd < 0)
					die("accept");
				add(a->fd, a->idx, K_AGENT);
				connected++;
			} else {
				agent_read(a);
			}
		}
	}
	for (int i = 0; i < n_agents; i++) {
		agents[i].cfd = unix_sock(ctl_path, false);
		add(agents[i].cfd, i, K_CTL);
	}
	t0 = now_ns();
	t_end = t0 + (uint64_t)(seconds * 1e9);
	for (int i = 0; i < n_agents; i++)
		ctl_send(&agents[i]);
	for (int busy = n_agents; busy;) {
		int n = epoll_wait(ep, evs, 256, 10000);
		bool more = now_ns() < t_end;

		if (n <= 0) {
			fprintf(stderr, "bench_pm: no progress for 10 s\n");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct agent *a = &agents[evs[i].data.u64 / 4];

			if (evs[i].data.u64 % 4 == K_AGENT) {
				agent_read(a);
			} else if (evs[i].data.u64 % 4 == K_CTL) {
				ctl_read(a, more);
				busy -= !a->busy;
			}
		}
	}
	t_end = now_ns();
	if (!n_lat) {
		fprintf(stderr, "bench_pm: no negotiation completed (%lu failed)\n", failures);
		return 1;
	}
	qsort(lat, n_lat, sizeof(*lat), cmp_u64);
	printf("| %d | %zu | %lu | %.0f | %.0f | %.0f |\n", n_agents, n_lat, failures,
	       lat[n_lat / 2] / 1e3, lat[(n_lat * 99) / 100] / 1e3,
	       n_lat / ((t_end - t0) / 1e9));
	for (int i = 0; i < n_agents; i++) {
		snprintf(path, sizeof(path), "%s/b%04d.agent", dir, i);
		unlink(path);
	}
	return failures ? 1 : 0;
}
