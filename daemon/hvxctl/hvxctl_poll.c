// SPDX-License-Identifier: GPL-2.0
/* hvxctl poll: per-device busy-polling threads (family hvx_poll). */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/hvx_poll.h>

#include "hvxctl.h"

static const char *const mode_names[] = {
	[HVX_POLL_MODE_ADAPTIVE] = "adaptive",
	[HVX_POLL_MODE_BUSY] = "busy",
};

static const char *const sched_names[] = {
	[HVX_POLL_SCHED_NORMAL] = "normal",
	[HVX_POLL_SCHED_FIFO_LOW] = "fifo-low",
	[HVX_POLL_SCHED_FIFO] = "fifo",
};

static const char *const state_names[] = {
	[HVX_POLL_STATE_POLLING] = "polling",
	[HVX_POLL_STATE_IDLE] = "idle",
	[HVX_POLL_STATE_DOWN] = "down",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* u32 attributes of a reply with their JSON keys; the first are required. */
static const struct {
	int attr;
	const char *key;
} u32s[] = {
	{ HVX_POLL_A_IFINDEX, "ifindex" },
	{ HVX_POLL_A_BUDGET, "budget" },
	{ HVX_POLL_A_IDLE_US, "idle_us" },
	{ HVX_POLL_A_PID, "pid" },
	{ HVX_POLL_A_NAPIS, "napis" },
};

static const struct {
	int attr;
	const char *key;
} counters[] = {
	{ HVX_POLL_A_POLLS, "polls" },
	{ HVX_POLL_A_PACKETS, "packets" },
	{ HVX_POLL_A_IDLE_SLEEPS, "idle_sleeps" },
	{ HVX_POLL_A_WAKEUPS, "wakeups" },
	{ HVX_POLL_A_BUSY_NS, "busy_ns" },
};

static int add_enum(struct json_object *o, const char *key, struct nlattr *a,
		    const char *const *names, size_t n)
{
	uint32_t v;

	if (!a || nla_len(a) != sizeof(uint32_t))
		return -EBADMSG;
	v = nla_get_u32(a);
	if (v >= n || !names[v])
		return -EBADMSG;
	return hvx_json_add_str(o, key, names[v]);
}

static struct json_object *dev_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_POLL_A_MAX + 1];
	struct json_object *o;
	size_t i;

	*err = hvx_nl_parse(nlh, HVX_POLL_A_MAX, NULL, tb);
	if (*err)
		return NULL;
	o = json_object_new_object();
	if (!o) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = -EBADMSG;
	if (!tb[HVX_POLL_A_IFNAME] || !tb[HVX_POLL_A_PREFER_BUSY_POLL])
		goto fail;
	*err = hvx_json_add_str(o, "ifname", nla_get_string(tb[HVX_POLL_A_IFNAME]));
	for (i = 0; !*err && i < N(u32s); i++) {
		struct nlattr *a = tb[u32s[i].attr];

		*err = a && nla_len(a) == sizeof(uint32_t) ?
		       hvx_json_add_u64(o, u32s[i].key, nla_get_u32(a)) : -EBADMSG;
	}
	if (!*err && tb[HVX_POLL_A_CPU])
		*err = hvx_json_add_u64(o, "cpu", nla_get_u32(tb[HVX_POLL_A_CPU]));
	if (!*err)
		*err = add_enum(o, "mode", tb[HVX_POLL_A_MODE], mode_names,
				N(mode_names));
	if (!*err)
		*err = add_enum(o, "sched", tb[HVX_POLL_A_SCHED], sched_names,
				N(sched_names));
	if (!*err)
		*err = add_enum(o, "state", tb[HVX_POLL_A_STATE], state_names,
				N(state_names));
	if (!*err)
		*err = hvx_json_add_bool(o, "prefer_busy_poll",
					 nla_get_u8(tb[HVX_POLL_A_PREFER_BUSY_POLL]));
	for (i = 0; !*err && i < N(counters); i++) {
		struct nlattr *a = tb[counters[i].attr];

		*err = a && nla_len(a) == sizeof(uint64_t) ?
		       hvx_json_add_u64(o, counters[i].key, nla_get_u64(a)) : -EBADMSG;
	}
	if (!*err)
		return o;
fail:
	json_object_put(o);
	return NULL;
}

static int collect(struct nlmsghdr *nlh, void *arg)
{
	struct json_object *arr = arg, *o;
	int err;

	o = dev_json(nlh, &err);
	if (!o)
		return err;
	if (json_object_array_add(arr, o)) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

static void text_devs(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *d = json_object_array_get_idx(arr, i);
		struct json_object *cpu = json_object_object_get(d, "cpu");

		printf("%s: %s, %s, cpu %s, budget %" PRIu64 ", idle %" PRIu64
		       " us, sched %s%s, pid %" PRIu64 ", %" PRIu64 " napi\n",
		       hvx_json_text(d, "ifname", "?"), hvx_json_text(d, "mode", "?"),
		       hvx_json_text(d, "state", "?"),
		       cpu ? json_object_get_string(cpu) : "any",
		       hvx_json_u64(d, "budget"), hvx_json_u64(d, "idle_us"),
		       hvx_json_text(d, "sched", "?"),
		       json_object_get_boolean(json_object_object_get(d, "prefer_busy_poll")) ?
		       ", prefer-busy-poll" : "",
		       hvx_json_u64(d, "pid"), hvx_json_u64(d, "napis"));
		printf("   ");
		for (size_t j = 0; j < N(counters); j++)
			printf(" %s %" PRIu64, counters[j].key,
			       hvx_json_u64(d, counters[j].key));
		printf("\n");
	}
}

static int parse_name(struct hvxctl *c, const char *s, const char *what,
		      const char *const *names, size_t n, uint32_t *v)
{
	for (uint32_t i = 0; i < n; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*v = i;
			return 0;
		}
	}
	return hvxctl_usage(c, "invalid %s \"%s\"", what, s);
}

static int parse_dev(struct hvxctl *c, const char *s, uint32_t *ifindex)
{
	*ifindex = if_nametoindex(s);
	if (!*ifindex)
		return hvxctl_fail(c, errno, "device \"%s\"", s);
	return 0;
}

/* Tunables given on the command line, parsed before any netlink traffic. */
struct tunables {
	int n;
	struct {
		int attr;
		uint32_t v;
	} t[16];
};

/*
 * KEY VALUE pairs of attach and set; "--key" is accepted as in
 * hvxctl poll attach eth0 --cpu 1 --mode busy. Returns 0 or an exit code.
 */
static int parse_tunables(struct hvxctl *c, int argc, char **argv,
			  struct tunables *tu)
{
	static const char *const onoff[] = { "off", "on" };
	uint32_t v;
	int ret, attr;

	for (int i = 0; i < argc; i += 2) {
		const char *key = argv[i] + (strncmp(argv[i], "--", 2) ? 0 : 2);
		const char *val = argv[i + 1];

		if (i + 1 >= argc)
			return hvxctl_usage(c, "\"%s\" needs a value", key);
		if ((size_t)tu->n == N(tu->t))
			return hvxctl_usage(c, "too many options");
		if (!strcmp(key, "cpu")) {
			attr = HVX_POLL_A_CPU;
			ret = hvxctl_parse_u32(c, val, "cpu", &v);
		} else if (!strcmp(key, "mode")) {
			attr = HVX_POLL_A_MODE;
			ret = parse_name(c, val, "mode (adaptive, busy)",
					 mode_names, N(mode_names), &v);
		} else if (!strcmp(key, "sched")) {
			attr = HVX_POLL_A_SCHED;
			ret = parse_name(c, val, "sched (normal, fifo-low, fifo)",
					 sched_names, N(sched_names), &v);
		} else if (!strcmp(key, "budget")) {
			attr = HVX_POLL_A_BUDGET;
			ret = hvxctl_parse_u32(c, val, "budget", &v);
		} else if (!strcmp(key, "idle-us")) {
			attr = HVX_POLL_A_IDLE_US;
			ret = hvxctl_parse_u32(c, val, "idle-us", &v);
		} else if (!strcmp(key, "prefer-busy-poll")) {
			attr = HVX_POLL_A_PREFER_BUSY_POLL;
			ret = parse_name(c, val, "prefer-busy-poll (on, off)",
					 onoff, N(onoff), &v);
		} else {
			return hvxctl_usage(c, "unknown option \"%s\"", argv[i]);
		}
		if (ret)
			return ret;
		tu->t[tu->n].attr = attr;
		tu->t[tu->n++].v = v;
	}
	return 0;
}

static int put_tunables(struct nl_msg *msg, const struct tunables *tu)
{
	for (int i = 0; i < tu->n; i++) {
		int ret = tu->t[i].attr == HVX_POLL_A_PREFER_BUSY_POLL ?
			  nla_put_u8(msg, tu->t[i].attr, tu->t[i].v) :
			  nla_put_u32(msg, tu->t[i].attr, tu->t[i].v);

		if (ret < 0)
			return -EMSGSIZE;
	}
	return 0;
}

enum verb { ATTACH, DETACH, SET, SHOW };

static int run(struct hvxctl *c, enum verb verb, int argc, char **argv)
{
	static const uint8_t cmds[] = {
		[ATTACH] = HVX_POLL_CMD_ATTACH,
		[DETACH] = HVX_POLL_CMD_DETACH,
		[SET] = HVX_POLL_CMD_SET,
		[SHOW] = HVX_POLL_CMD_GET,
	};
	struct json_object *arr = NULL;
	struct tunables tu = { 0 };
	uint32_t ifindex = 0;
	struct nl_msg *msg;
	struct hvx_nl *nl;
	int ret;

	if (verb != SHOW && !argc)
		return hvxctl_usage(c, "need a device name");
	if (verb == SHOW && argc > 1)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[1]);
	if (verb == DETACH && argc > 1)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[1]);
	if (verb == ATTACH || verb == SET) {
		ret = parse_tunables(c, argc - 1, argv + 1, &tu);
		if (!ret && verb == SET && !tu.n)
			ret = hvxctl_usage(c, "nothing to set");
		if (ret)
			return ret;
	}
	if (argc) {
		ret = parse_dev(c, argv[0], &ifindex);
		if (ret)
			return ret;
	}
	ret = hvxctl_nl_open(c, &nl, HVX_POLL_GENL_NAME, HVX_POLL_GENL_VERSION);
	if (ret)
		return ret;
	msg = hvx_nl_msg(nl, cmds[verb], verb == SHOW && !argc ? NLM_F_DUMP : 0);
	if (!msg || (ifindex && nla_put_u32(msg, HVX_POLL_A_IFINDEX, ifindex) < 0) ||
	    put_tunables(msg, &tu)) {
		nlmsg_free(msg);
		ret = hvxctl_fail(c, -EMSGSIZE, "building request");
		goto out;
	}
	if (verb == SHOW) {
		arr = json_object_new_array();
		if (!arr) {
			nlmsg_free(msg);
			ret = hvxctl_fail(c, -ENOMEM, "allocating output");
			goto out;
		}
	}
	ret = hvx_nl_request(nl, msg, verb == SHOW ? collect : NULL, arr);
	if (ret) {
		json_object_put(arr);
		ret = hvxctl_nl_fail(c, nl, ret);
		goto out;
	}
	if (verb == SHOW)
		ret = hvxctl_print(c, arr, text_devs);
out:
	hvx_nl_close(nl);
	return ret;
}

static int poll_attach(struct hvxctl *c, int argc, char **argv)
{
	return run(c, ATTACH, argc, argv);
}

static int poll_detach(struct hvxctl *c, int argc, char **argv)
{
	return run(c, DETACH, argc, argv);
}

static int poll_set(struct hvxctl *c, int argc, char **argv)
{
	return run(c, SET, argc, argv);
}

static int poll_show(struct hvxctl *c, int argc, char **argv)
{
	return run(c, SHOW, argc, argv);
}

#define TUNABLES "[cpu N] [mode adaptive|busy] [budget 1-64] [idle-us N] " \
		 "[sched normal|fifo-low|fifo] [prefer-busy-poll on|off]"

static const struct hvxctl_cmd poll_cmds[] = {
	{ "attach", "DEV " TUNABLES,
	  "start a polling thread for DEV (options also as --cpu N ...)", poll_attach },
	{ "detach", "DEV", "stop DEV's polling thread", poll_detach },
	{ "set", "DEV " TUNABLES, "change tunables of an attached device", poll_set },
	{ "show", "[DEV]", "settings and counters of attached devices", poll_show },
	{ .name = NULL },
};

const struct hvxctl_object hvxctl_poll = {
	.name = "poll",
	.help = "per-device NAPI busy-polling threads (hvx_poll)",
	.cmds = poll_cmds,
	.dflt = "show",
	.dflt_args = true,
};
