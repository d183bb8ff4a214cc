// SPDX-License-Identifier: GPL-2.0
/*
 * vm_failnth cases for hvx_poll (family "hvx_poll"): every command, do and
 * dump. The device is a veth with GRO on, which gives it NAPI instances that
 * busy polling can use (veth has none with GRO off, its default); the test
 * VM needs no NIC for it.
 *
 * The state a check compares: GET of the device (attached or not, its
 * tunables, its thread's pid) and the threads named hvx_poll/<dev> in /proc,
 * so that a thread left running by a refused ATTACH is seen even when the
 * device is not listed. After a refused ATTACH or DETACH the same call
 * without injection must succeed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/hvx_poll.h>
#include <linux/sockios.h>

#include "failnth.h"

#define PDEV		"fnthp0"
#define PPEER		"fnthp1"
#define PCOMM		"hvx_poll/" PDEV
#define BUDGET_SETUP	8
#define BUDGET_SET	16
/* SET changes the idle period, not the mode: a busy thread would spin. */
#define IDLE_SET	777

/* Slots of struct fn this table uses. */
enum { IFINDEX };

struct pstate {
	bool attached;
	uint32_t ifindex, budget, idle_us, pid, cpu;
	bool has_cpu;
	unsigned int threads;	/* hvx_poll/<dev> in /proc */
};

static bool refused(const struct fn *f)
{
	return f->kind == FN_ACK || f->kind == FN_SEND;
}

static int parse_dev(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_POLL_A_MAX + 1];
	struct pstate *s = arg;

	if (fn_parse_attrs(nlh, tb, HVX_POLL_A_MAX) < 0 || !tb[HVX_POLL_A_IFINDEX])
		return -1;
	if (nla_get_u32(tb[HVX_POLL_A_IFINDEX]) != s->ifindex)
		return 0;
	if (!tb[HVX_POLL_A_BUDGET] || !tb[HVX_POLL_A_IDLE_US] || !tb[HVX_POLL_A_PID])
		return -1;
	s->attached = true;
	s->budget = nla_get_u32(tb[HVX_POLL_A_BUDGET]);
	s->idle_us = nla_get_u32(tb[HVX_POLL_A_IDLE_US]);
	s->pid = nla_get_u32(tb[HVX_POLL_A_PID]);
	s->has_cpu = tb[HVX_POLL_A_CPU];
	if (s->has_cpu)
		s->cpu = nla_get_u32(tb[HVX_POLL_A_CPU]);
	return 0;
}

static unsigned int count_threads(void)
{
	DIR *d = opendir("/proc");
	char path[288], comm[32];
	unsigned int n = 0;
	struct dirent *e;
	FILE *c;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		c = fopen(path, "re");
		if (!c)
			continue;
		if (fgets(comm, sizeof(comm), c) &&
		    !strncmp(comm, PCOMM, strlen(PCOMM)) &&
		    (comm[strlen(PCOMM)] == '\n' || !comm[strlen(PCOMM)]))
			n++;
		fclose(c);
	}
	closedir(d);
	return n;
}

static struct nl_msg *dev_msg(struct fn *f, struct fn_genl *g, uint8_t cmd,
			      int flags)
{
	struct nl_msg *msg = fn_msg(g, cmd, flags);

	if (msg && nla_put_u32(msg, HVX_POLL_A_IFINDEX, (uint32_t)f->v[IFINDEX]) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* The device as a dump shows it, through an uninjected socket. */
static int state(struct fn *f, struct pstate *s)
{
	struct fn tmp = { 0 };
	int ret;

	memset(s, 0, sizeof(*s));
	s->ifindex = (uint32_t)f->v[IFINDEX];
	if (fn_genl_open(&tmp.nl, HVX_POLL_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_POLL_GENL_NAME);
	ret = fn_request(&tmp, &tmp.nl,
			 fn_msg(&tmp.nl, HVX_POLL_CMD_GET, NLM_F_DUMP),
			 parse_dev, s);
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "GET dump failed: %s %s", strerror(-ret), tmp.extack);
	s->threads = count_threads();
	if (s->threads != s->attached)
		return fn_bad(f, "%u %s threads for a device %s", s->threads, PCOMM,
			      s->attached ? "attached" : "not attached");
	return 0;
}

/* One request without injection; returns -errno, extack in f->why. */
static int plain(struct fn *f, uint8_t cmd, uint32_t budget)
{
	struct fn tmp = { 0 };
	struct nl_msg *msg;
	int ret;

	tmp.v[IFINDEX] = f->v[IFINDEX];
	if (fn_genl_open(&tmp.nl, HVX_POLL_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_POLL_GENL_NAME);
	msg = dev_msg(&tmp, &tmp.nl, cmd, 0);
	if (msg && budget && nla_put_u32(msg, HVX_POLL_A_BUDGET, budget) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = fn_request(&tmp, &tmp.nl, msg, NULL, NULL);
	fn_genl_close(&tmp.nl);
	if (ret)
		snprintf(f->why, sizeof(f->why), "%s", tmp.extack);
	return ret;
}

/* ---- setup and teardown ---------------------------------------------------- */

static void veth_del(void)
{
	if (system("ip link del " PDEV " 2>/dev/null"))
		return;
}

/*
 * A veth pair, up, GRO on for PDEV: its NAPIs are what hvx_poll polls.
 * Made once and kept for every point (two ip(8) runs per point cost
 * minutes on the debug kernel); removed when vm_failnth exits.
 */
static int veth_setup(struct fn *f)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_SGRO, .data = 1 };
	static bool made;
	struct ifreq ifr = { 0 };
	unsigned int idx;
	int fd, ret;

	if (!made) {
		veth_del();
		if (system("ip link add " PDEV " type veth peer name " PPEER " && "
			   "ip link set " PDEV " up && ip link set " PPEER " up"))
			return fn_bad(f, "cannot create the veth pair %s/%s", PDEV,
				      PPEER);
		made = true;
		atexit(veth_del);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fn_bad(f, "socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", PDEV);
	ifr.ifr_data = (void *)&ev;
	ret = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	if (ret < 0)
		return fn_bad(f, "GRO on for %s: %s", PDEV, strerror(errno));
	idx = if_nametoindex(PDEV);
	if (!idx)
		return fn_bad(f, "%s has no ifindex", PDEV);
	f->v[IFINDEX] = idx;
	return 0;
}

static int attached_setup(struct fn *f)
{
	int ret;

	if (veth_setup(f))
		return -1;
	ret = plain(f, HVX_POLL_CMD_ATTACH, BUDGET_SETUP);
	if (ret)
		return fn_bad(f, "ATTACH in setup failed: %s %s", strerror(-ret), f->why);
	return 0;
}

static void poll_teardown(struct fn *f)
{
	if (f->v[IFINDEX])
		plain(f, HVX_POLL_CMD_DETACH, 0);
}

/* ---- ATTACH ---------------------------------------------------------------- */

static int attach_call(struct fn *f)
{
	struct nl_msg *msg = dev_msg(f, &f->nl, HVX_POLL_CMD_ATTACH, 0);

	if (msg && nla_put_u32(msg, HVX_POLL_A_BUDGET, BUDGET_SETUP) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, NULL, NULL);
}

static int attach_check(struct fn *f)
{
	struct pstate s;
	int ret;

	if (state(f, &s))
		return -1;
	if (f->kind == FN_OK || (f->kind == FN_LOST && s.attached)) {
		if (!s.attached || s.budget != BUDGET_SETUP)
			return fn_bad(f, "ATTACH done but the device is %s (budget %u)",
				      s.attached ? "attached" : "not attached", s.budget);
		return 0;
	}
	if (s.attached)
		return fn_bad(f, "ATTACH failed (%s) but the device is attached",
			      strerror(-f->err));
	ret = plain(f, HVX_POLL_CMD_ATTACH, BUDGET_SETUP);
	if (ret)
		return fn_bad(f, "ATTACH failed (%s), and without injection then fails: %s %s",
			      strerror(-f->err), strerror(-ret), f->why);
	return 0;
}

/* ---- DETACH ---------------------------------------------------------------- */

static int detach_call(struct fn *f)
{
	return fn_request(f, &f->nl, dev_msg(f, &f->nl, HVX_POLL_CMD_DETACH, 0),
			  NULL, NULL);
}

static int detach_check(struct fn *f)
{
	struct pstate s;
	int ret;

	if (state(f, &s))
		return -1;
	if (refused(f) || (f->kind == FN_LOST && s.attached)) {
		if (!s.attached || s.budget != BUDGET_SETUP)
			return fn_bad(f, "DETACH failed (%s) but the device is %s",
				      strerror(-f->err),
				      s.attached ? "changed" : "detached");
		return 0;
	}
	if (s.attached)
		return fn_bad(f, "DETACH done but the device is still attached");
	/* Nothing of the old attachment stands in the way of a new one. */
	ret = plain(f, HVX_POLL_CMD_ATTACH, BUDGET_SETUP);
	if (ret)
		return fn_bad(f, "ATTACH after DETACH failed: %s %s", strerror(-ret),
			      f->why);
	return 0;
}

/* ---- SET ------------------------------------------------------------------- */

static int set_call(struct fn *f)
{
	struct nl_msg *msg = dev_msg(f, &f->nl, HVX_POLL_CMD_SET, 0);

	if (msg && (nla_put_u32(msg, HVX_POLL_A_BUDGET, BUDGET_SET) < 0 ||
		    nla_put_u32(msg, HVX_POLL_A_CPU, 0) < 0 ||
		    nla_put_u32(msg, HVX_POLL_A_IDLE_US, IDLE_SET) < 0)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, NULL, NULL);
}

static int set_check(struct fn *f)
{
	struct pstate s;

	if (state(f, &s))
		return -1;
	if (!s.attached)
		return fn_bad(f, "SET detached the device");
	if (refused(f) || (f->kind == FN_LOST && s.budget == BUDGET_SETUP)) {
		if (s.budget != BUDGET_SETUP || s.has_cpu || s.idle_us == IDLE_SET)
			return fn_bad(f, "SET failed (%s) but budget %u, cpu %s%u, idle %u us",
				      strerror(-f->err), s.budget,
				      s.has_cpu ? "" : "any ", s.cpu, s.idle_us);
		return 0;
	}
	if (s.budget != BUDGET_SET || !s.has_cpu || s.cpu != 0 || s.idle_us != IDLE_SET)
		return fn_bad(f, "SET done, or half done: budget %u, cpu %s%u, idle %u us",
			      s.budget, s.has_cpu ? "" : "any ", s.cpu, s.idle_us);
	return 0;
}

/* ---- GET do and dump ------------------------------------------------------- */

static int get_call(struct fn *f)
{
	static struct pstate got;

	memset(&got, 0, sizeof(got));
	got.ifindex = (uint32_t)f->v[IFINDEX];
	f->p[0] = &got;
	return fn_request(f, &f->nl, dev_msg(f, &f->nl, HVX_POLL_CMD_GET, 0),
			  parse_dev, &got);
}

static int dump_call(struct fn *f)
{
	static struct pstate got;

	memset(&got, 0, sizeof(got));
	got.ifindex = (uint32_t)f->v[IFINDEX];
	f->p[0] = &got;
	return fn_request(f, &f->nl, fn_msg(&f->nl, HVX_POLL_CMD_GET, NLM_F_DUMP),
			  parse_dev, &got);
}

static int read_check(struct fn *f)
{
	const struct pstate *got = f->p[0];
	struct pstate s;

	if (state(f, &s))
		return -1;
	if (!s.attached || s.budget != BUDGET_SETUP)
		return fn_bad(f, "a read changed the device: %s, budget %u",
			      s.attached ? "attached" : "detached", s.budget);
	if (f->kind == FN_OK && (!got->attached || got->budget != BUDGET_SETUP ||
				 got->pid != s.pid))
		return fn_bad(f, "GET succeeded with %s, budget %u, pid %u (want pid %u)",
			      got->attached ? "the device" : "no device",
			      got->budget, got->pid, s.pid);
	return 0;
}

static const struct failnth_case poll_cases[] = {
	{ "ATTACH", veth_setup, attach_call, attach_check, poll_teardown },
	{ "DETACH", attached_setup, detach_call, detach_check, poll_teardown },
	{ "SET", attached_setup, set_call, set_check, poll_teardown },
	{ "GET", attached_setup, get_call, read_check, poll_teardown },
	{ "GET dump", attached_setup, dump_call, read_check, poll_teardown },
};

static const struct failnth_table poll_table = {
	.name = "hvx_poll",
	.family = HVX_POLL_GENL_NAME,
	.cases = poll_cases,
	.n = sizeof(poll_cases) / sizeof(poll_cases[0]),
};
FAILNTH_TABLE(poll_table);
