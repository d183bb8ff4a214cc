// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-guest-agent, the real binary, against a fake guest: a cpuidle sysfs
 * tree and a PM QoS file in a temporary directory (as acpi_idle lays them
 * out for a _CST of C1 HLT, C2 and C3 on I/O ports), with this test as the
 * host on an AF_UNIX socket, and once on a pty standing in for the
 * virtio-serial port found by name. The freeze is observed as the agent's
 * open descriptors on the QoS file, the applied set as the disable files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "hvx_check.h"
#include "pm_proto.h"

#ifndef PM_AGENT
#define PM_AGENT "build/hvx-guest-agent"
#endif

#define NCPU 2
#define NSTATE 4
#define TIMEOUT_MS 400

static char dir[64], root[96], qos[96], sock[96], logpath[96];
static int lfd = -1, conn = -1;
static pid_t agent = -1;
static unsigned char in[PM_MSG_MAX * 4];
static size_t in_len;

static const char *const names[NSTATE] = { "POLL", "C1", "C2", "C3" };
static const char *const descs[NSTATE] = {
	"CPUIDLE CORE POLL IDLE", "ACPI HLT", "ACPI IOPORT 0x514", "ACPI IOPORT 0x515"
};
static const char *const lats[NSTATE] = { "0", "1", "50", "150" };

/* The destination: C3 is slower to leave than the guest believes. */
static struct pm_cst dst[3] = {
	{ .type = 1, .method = PM_CST_FFH, .latency_us = 1, .power_mw = 1000, .name = "C1" },
	{ .type = 2, .method = PM_CST_SYSTEM_IO, .latency_us = 50, .power_mw = 500,
	  .address = 0x514, .name = "C2" },
	{ .type = 3, .method = PM_CST_SYSTEM_IO, .latency_us = 900, .power_mw = 100,
	  .address = 0x515, .name = "C3" },
};
/* The source: what the guest booted with. */
static struct pm_cst src[3] = {
	{ .type = 1, .method = PM_CST_FFH, .latency_us = 1, .power_mw = 1000, .name = "C1" },
	{ .type = 2, .method = PM_CST_SYSTEM_IO, .latency_us = 50, .power_mw = 500,
	  .address = 0x514, .name = "C2" },
	{ .type = 3, .method = PM_CST_SYSTEM_IO, .latency_us = 150, .power_mw = 100,
	  .address = 0x515, .name = "C3" },
};

static void put_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static void state_file(char *p, size_t size, int cpu, int st, const char *file)
{
	snprintf(p, size, "%s/devices/system/cpu/cpu%d/cpuidle/state%d/%s", root, cpu, st, file);
}

static int disabled(int cpu, int st)
{
	char p[512], b[16] = "";
	FILE *f;

	state_file(p, sizeof(p), cpu, st, "disable");
	f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(b, sizeof(b), f));
	fclose(f);
	return atoi(b);
}

static void set_disabled(int cpu, int st, int v)
{
	char p[512];

	state_file(p, sizeof(p), cpu, st, "disable");
	put_file(p, v ? "1\n" : "0\n");
}

static void make_tree(void)
{
	char p[512], cmd[700];

	for (int cpu = 0; cpu < NCPU; cpu++)
		for (int st = 0; st < NSTATE; st++) {
			state_file(p, sizeof(p), cpu, st, "");
			snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
			ck_assert_int_eq(system(cmd), 0);
			state_file(p, sizeof(p), cpu, st, "name");
			put_file(p, names[st]);
			state_file(p, sizeof(p), cpu, st, "desc");
			put_file(p, descs[st]);
			state_file(p, sizeof(p), cpu, st, "latency");
			put_file(p, lats[st]);
			state_file(p, sizeof(p), cpu, st, "residency");
			put_file(p, st ? "300\n" : "0\n");
			set_disabled(cpu, st, 0);
		}
	put_file(qos, "");
}

static void spawn(char *const argv[])
{
	agent = fork();
	ck_assert_int_ge(agent, 0);
	if (!agent) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, 2);
		execv(PM_AGENT, argv);
		_exit(127);
	}
}

static void accept_conn(void)
{
	struct pollfd p = { lfd, POLLIN, 0 };

	ck_assert_msg(poll(&p, 1, 5000) == 1, "the agent did not connect");
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(conn, 0);
	in_len = 0;
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *argv[] = { PM_AGENT, "-u", sock, "-s", root, "-q", qos, "-t", "400", NULL };

	snprintf(dir, sizeof(dir), "/tmp/hvx-pm-agent.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/sys", dir);
	snprintf(qos, sizeof(qos), "%s/cpu_dma_latency", dir);
	snprintf(sock, sizeof(sock), "%s/host.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/agent.log", dir);
	make_tree();
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	spawn(argv);
	accept_conn();
}

static void teardown(void)
{
	char cmd[128];

	if (agent > 0) {
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
	if (conn >= 0)
		close(conn);
	if (lfd >= 0)
		close(lfd);
	conn = lfd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void send_raw(int fd, const void *p, ssize_t n)
{
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(write(fd, p, n), n);
}

#define SEND(fn, ...) do {						\
	unsigned char b_[PM_MSG_MAX];					\
	send_raw(conn, b_, fn(b_, sizeof(b_), __VA_ARGS__));		\
} while (0)

/* The agent's next frame within @ms; false on EOF or timeout. */
static bool recv_fd(int fd, struct pm_msg *m, int ms)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		size_t used;
		ssize_t n;
		int ret = pm_msg_decode(in, in_len, m, &used);

		ck_assert_int_ge(ret, 0);
		if (ret == 1) {
			memmove(in, in + used, in_len - used);
			in_len -= used;
			return true;
		}
		if (poll(&p, 1, ms) != 1)
			return false;
		n = read(fd, in + in_len, sizeof(in) - in_len);
		if (n <= 0)
			return false;
		in_len += n;
	}
}

static void expect(struct pm_msg *m, uint8_t type, uint32_t seq)
{
	ck_assert_msg(recv_fd(conn, m, 3000), "no %s from the agent", pm_msg_type_name(type));
	ck_assert_msg(m->type == type, "got %s (%s), want %s", pm_msg_type_name(m->type),
		      pm_msg_reason(m) ? pm_msg_reason(m) : "", pm_msg_type_name(type));
	ck_assert_uint_eq(m->seq, seq);
}

/* The agent's open descriptors on the QoS file: its PM QoS requests. */
static int qos_fds(void)
{
	char p[64], link[PATH_MAX], want[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	ck_assert_ptr_nonnull(realpath(qos, want));
	snprintf(p, sizeof(p), "/proc/%d/fd", agent);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char fp[400];
		ssize_t len;

		snprintf(fp, sizeof(fp), "%s/%s", p, de->d_name);
		len = readlink(fp, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		n += !strcmp(link, want);
	}
	closedir(d);
	return n;
}

/* The rollback happens on the agent's own clock: wait for it. */
static bool qos_fds_become(int want, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (qos_fds() == want)
			return true;
		usleep(10000);
	}
	return qos_fds() == want;
}

static int32_t qos_value(void)
{
	int32_t v = -1;
	FILE *f = fopen(qos, "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fread(&v, sizeof(v), 1, f), 1);
	fclose(f);
	return v;
}

static void freeze(uint32_t seq)
{
	struct pm_msg m;

	SEND(pm_msg_encode_freeze, seq);
	expect(&m, PM_MSG_FROZEN, seq);
	ck_assert_int_eq(qos_value(), 0);
}

static uint32_t offer(uint32_t seq, struct pm_cst *c, size_t n)
{
	struct pm_table t = { .n = n, .cst = c };
	struct pm_msg m;

	SEND(pm_msg_encode_table, seq, &t);
	expect(&m, PM_MSG_ACK, seq);
	return m.accepted;
}

START_TEST(negotiates_the_destination)
{
	struct pm_msg m;

	SEND(pm_msg_encode_hello, 1);
	expect(&m, PM_MSG_HELLO, 1);
	SEND(pm_msg_encode_status, 2);
	expect(&m, PM_MSG_REPORT, 2);
	ck_assert_uint_eq(m.report.n, NSTATE);
	ck_assert_str_eq(m.report.state[3].name, "C3");
	ck_assert_uint_eq(m.report.state[3].latency_us, 150);
	ck_assert_uint_eq(m.report.qos_latency_us, PM_QOS_NONE);
	ck_assert(!m.report.frozen);
	ck_assert_int_eq(qos_fds(), 0);

	freeze(7);
	ck_assert_int_eq(qos_fds(), 1);
	SEND(pm_msg_encode_status, 3);
	expect(&m, PM_MSG_REPORT, 3);
	ck_assert(m.report.frozen);
	/* C3 at 900 us cannot be honoured by a guest planning with 150 us. */
	ck_assert_uint_eq(offer(7, dst, 3), 0x3);
	SEND(pm_msg_encode_enable, 7, 0x3);
	expect(&m, PM_MSG_ENABLED, 7);
	ck_assert(!m.report.frozen);
	ck_assert_uint_eq(m.report.qos_latency_us, 50);
	ck_assert(m.report.state[3].disabled);
	ck_assert(!m.report.state[2].disabled);
	for (int cpu = 0; cpu < NCPU; cpu++) {
		ck_assert_int_eq(disabled(cpu, 0), 0);
		ck_assert_int_eq(disabled(cpu, 1), 0);
		ck_assert_int_eq(disabled(cpu, 2), 0);
		ck_assert_int_eq(disabled(cpu, 3), 1);
	}
	/* The freeze is gone, the cap stays. */
	ck_assert_int_eq(qos_fds(), 1);
	ck_assert_int_eq(qos_value(), 50);

	/* Migrating back: C3 is honoured again. */
	freeze(8);
	ck_assert_int_eq(qos_fds(), 2);
	ck_assert_uint_eq(offer(8, src, 3), 0x7);
	SEND(pm_msg_encode_enable, 8, 0x7);
	expect(&m, PM_MSG_ENABLED, 8);
	ck_assert_uint_eq(m.report.qos_latency_us, 150);
	ck_assert_int_eq(disabled(1, 3), 0);
	ck_assert_int_eq(qos_fds(), 1);
	ck_assert_int_eq(qos_value(), 150);

	/* A replayed FREEZE is refused and changes nothing. */
	SEND(pm_msg_encode_freeze, 7);
	expect(&m, PM_MSG_ERROR, 7);
	ck_assert_int_eq(m.error, ESTALE);
	ck_assert_int_eq(qos_fds(), 1);
}
END_TEST

START_TEST(entry_method_must_match)
{
	struct pm_cst moved[3];
	struct pm_msg m;

	memcpy(moved, src, sizeof(moved));
	moved[1].address = 0x600;	/* C2 entered through another port */
	freeze(20);
	ck_assert_uint_eq(offer(20, moved, 3), 0x5);
	SEND(pm_msg_encode_enable, 20, 0x1);	/* the host may enable less */
	expect(&m, PM_MSG_ENABLED, 20);
	ck_assert_uint_eq(m.report.qos_latency_us, 1);
	ck_assert_int_eq(disabled(0, 1), 0);
	ck_assert_int_eq(disabled(0, 2), 1);
	ck_assert_int_eq(disabled(0, 3), 1);
	ck_assert_int_eq(disabled(0, 0), 0);	/* POLL is not the host's */
}
END_TEST

START_TEST(admin_disable_survives)
{
	struct pm_msg m;

	set_disabled(1, 2, 1);
	freeze(30);
	ck_assert_uint_eq(offer(30, src, 3), 0x7);
	SEND(pm_msg_encode_enable, 30, 0x7);
	expect(&m, PM_MSG_ENABLED, 30);
	ck_assert_int_eq(disabled(1, 2), 1);
	ck_assert_int_eq(disabled(0, 2), 0);
}
END_TEST

START_TEST(nak_then_abort)
{
	struct pm_cst other[1] = { { .type = 1, .latency_us = 1, .name = "X1" } };
	struct pm_table t = { .n = 1, .cst = other };
	struct pm_msg m;

	freeze(40);
	SEND(pm_msg_encode_table, 40, &t);
	expect(&m, PM_MSG_NAK, 40);
	ck_assert_msg(strstr(pm_msg_reason(&m), "no host C state"), "%s", pm_msg_reason(&m));
	ck_assert_ptr_nonnull(strstr(pm_msg_reason(&m), "C3(no)"));
	ck_assert_int_eq(qos_fds(), 1);
	SEND(pm_msg_encode_abort, 40);
	ck_assert(qos_fds_become(0, 1000));
	for (int st = 0; st < NSTATE; st++)
		ck_assert_int_eq(disabled(0, st), 0);
	/* The round is closed: its ENABLE is stale now. */
	SEND(pm_msg_encode_enable, 40, 1);
	expect(&m, PM_MSG_ERROR, 40);
	ck_assert_int_eq(m.error, ESTALE);
}
END_TEST

START_TEST(timeout_rolls_back)
{
	struct pm_msg m;
	struct timespec a, b;

	freeze(50);
	clock_gettime(CLOCK_MONOTONIC, &a);
	expect(&m, PM_MSG_ERROR, 50);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_int_eq(m.error, ETIMEDOUT);
	ck_assert_int_ge((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000,
			 TIMEOUT_MS - 50);
	ck_assert(qos_fds_become(0, 1000));
	/* Late: the round is gone. */
	SEND(pm_msg_encode_table, 50, &((struct pm_table){ .n = 3, .cst = src }));
	expect(&m, PM_MSG_ERROR, 50);
	ck_assert_int_eq(m.error, ESTALE);
}
END_TEST

START_TEST(host_gone_rolls_back)
{
	struct pm_msg m;

	/* A previous round left a cap; the new freeze adds a request. */
	freeze(60);
	ck_assert_uint_eq(offer(60, dst, 3), 0x3);
	SEND(pm_msg_encode_enable, 60, 0x3);
	expect(&m, PM_MSG_ENABLED, 60);
	freeze(61);
	ck_assert_uint_eq(offer(61, src, 3), 0x7);
	ck_assert_int_eq(qos_fds(), 2);
	close(conn);
	conn = -1;
	/* Back to the state before round 61: the cap of round 60 only. */
	ck_assert(qos_fds_become(1, 1000));
	ck_assert_int_eq(disabled(0, 3), 1);
	/* And it comes back, as qemu-ga does. */
	accept_conn();
	SEND(pm_msg_encode_status, 62);
	expect(&m, PM_MSG_REPORT, 62);
	ck_assert(!m.report.frozen);
	ck_assert_uint_eq(m.report.qos_latency_us, 50);
}
END_TEST

START_TEST(out_of_order)
{
	struct pm_msg m;

	SEND(pm_msg_encode_table, 70, &((struct pm_table){ .n = 3, .cst = src }));
	expect(&m, PM_MSG_ERROR, 70);
	ck_assert_int_eq(m.error, EPROTO);
	freeze(71);
	SEND(pm_msg_encode_enable, 71, 1);
	expect(&m, PM_MSG_ERROR, 71);
	ck_assert_int_eq(m.error, EPROTO);
	ck_assert(qos_fds_become(0, 1000));
	/* A guest's message sent to the guest. */
	SEND(pm_msg_encode_ack, 72, 1);
	expect(&m, PM_MSG_ERROR, 72);
	ck_assert_int_eq(m.error, EPROTO);
}
END_TEST

START_TEST(enable_more_than_acked)
{
	struct pm_msg m;

	freeze(80);
	ck_assert_uint_eq(offer(80, dst, 3), 0x3);
	SEND(pm_msg_encode_enable, 80, 0x7);
	expect(&m, PM_MSG_ERROR, 80);
	ck_assert_int_eq(m.error, EINVAL);
	ck_assert(qos_fds_become(0, 1000));
	ck_assert_int_eq(disabled(0, 3), 0);
}
END_TEST

START_TEST(failed_enable_restores)
{
	char p[512];
	struct pm_msg m;

	freeze(90);
	ck_assert_uint_eq(offer(90, dst, 3), 0x3);
	/* cpu1's C2 becomes unwritable after the snapshot. */
	state_file(p, sizeof(p), 1, 2, "disable");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	SEND(pm_msg_encode_enable, 90, 0x3);
	expect(&m, PM_MSG_ERROR, 90);
	ck_assert_int_eq(m.error, EISDIR);
	/* cpu0's C3 was written on the way, and put back. */
	ck_assert_int_eq(disabled(0, 3), 0);
	ck_assert_int_eq(disabled(1, 3), 0);
	ck_assert(qos_fds_become(0, 1000));
}
END_TEST

START_TEST(garbage_drops_the_connection)
{
	static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
	struct pm_msg m;

	freeze(100);
	send_raw(conn, junk, sizeof(junk) - 1);
	expect(&m, PM_MSG_ERROR, 0);
	ck_assert_int_eq(m.error, EBADMSG);
	ck_assert(!recv_fd(conn, &m, 2000));	/* EOF */
	ck_assert(qos_fds_become(0, 1000));
	close(conn);
	accept_conn();
	SEND(pm_msg_encode_hello, 101);
	expect(&m, PM_MSG_HELLO, 101);

	/* Another version: refused before the payload arrives. */
	{
		unsigned char b[PM_MSG_MAX];
		ssize_t n = pm_msg_encode_hello(b, sizeof(b), 102);

		b[4] = 2;
		send_raw(conn, b, n);
		expect(&m, PM_MSG_ERROR, 0);
		ck_assert_int_eq(m.error, EPROTONOSUPPORT);
	}
}
END_TEST

START_TEST(sigterm_mid_round)
{
	int status;
	char cmd[300];

	freeze(110);
	ck_assert_uint_eq(offer(110, dst, 3), 0x3);
	kill(agent, SIGTERM);
	ck_assert_int_eq(waitpid(agent, &status, 0), agent);
	agent = -1;
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	snprintf(cmd, sizeof(cmd), "grep -q 'rolled back.*agent stopped' '%s'", logpath);
	ck_assert_int_eq(system(cmd), 0);
	for (int st = 0; st < NSTATE; st++)
		ck_assert_int_eq(disabled(1, st), 0);
}
END_TEST

/* The virtio-serial path: the port found by name, a pty as the device. */
START_TEST(virtio_port_by_name)
{
	char devdir[128], p[512], cmd[700];
	char *argv[] = { PM_AGENT, "-s", root, "-d", devdir, "-q", qos, NULL };
	struct termios tio;
	struct pm_msg m;
	unsigned char b[PM_MSG_MAX];
	int master;

	/* Replace the socket agent with one that looks for the port. */
	kill(agent, SIGKILL);
	waitpid(agent, NULL, 0);
	snprintf(devdir, sizeof(devdir), "%s/dev", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/class/virtio-ports/vport0p1' "
		 "'%s/class/virtio-ports/vport1p2'", devdir, root, root);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/class/virtio-ports/vport0p1/name", root);
	put_file(p, "org.qemu.guest_agent.0\n");
	snprintf(p, sizeof(p), "%s/class/virtio-ports/vport1p2/name", root);
	put_file(p, "org.hvx.pm.0\n");
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	ck_assert_int_eq(tcgetattr(master, &tio), 0);
	cfmakeraw(&tio);
	ck_assert_int_eq(tcsetattr(master, TCSANOW, &tio), 0);
	snprintf(p, sizeof(p), "%s/vport1p2", devdir);
	ck_assert_int_eq(symlink(ptsname(master), p), 0);
	spawn(argv);
	in_len = 0;
	send_raw(master, b, pm_msg_encode_hello(b, sizeof(b), 5));
	ck_assert_msg(recv_fd(master, &m, 5000), "no answer on the port");
	ck_assert_uint_eq(m.type, PM_MSG_HELLO);
	send_raw(master, b, pm_msg_encode_freeze(b, sizeof(b), 6));
	ck_assert(recv_fd(master, &m, 3000));
	ck_assert_uint_eq(m.type, PM_MSG_FROZEN);
	ck_assert_int_eq(qos_fds(), 1);
	close(master);
}
END_TEST

START_TEST(bad_options)
{
	static const char *const bad[][4] = {
		{ "-t", "0" }, { "-t", "5x" }, { "-V", "two" }, { "extra" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { PM_AGENT, (char *)bad[i][0], (char *)bad[i][1], NULL };
		int status;
		pid_t pid = fork();

		if (!pid) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 2);
			execv(PM_AGENT, argv);
			_exit(127);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s %s",
			      bad[i][0], bad[i][1] ? bad[i][1] : "");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pm_agent");
	TCase *tc = tcase_create("agent");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, negotiates_the_destination);
	tcase_add_test(tc, entry_method_must_match);
	tcase_add_test(tc, admin_disable_survives);
	tcase_add_test(tc, nak_then_abort);
	tcase_add_test(tc, timeout_rolls_back);
	tcase_add_test(tc, host_gone_rolls_back);
	tcase_add_test(tc, out_of_order);
	tcase_add_test(tc, enable_more_than_acked);
	tcase_add_test(tc, failed_enable_restores);
	tcase_add_test(tc, garbage_drops_the_connection);
	tcase_add_test(tc, sigterm_mid_round);
	tcase_add_test(tc, virtio_port_by_name);
	tcase_add_test(tc, bad_options);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return hvx_check_run(s);
}
