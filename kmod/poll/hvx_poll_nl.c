// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink control plane of hvx_poll: family HVX_POLL_GENL_NAME, spec
 * in Documentation/netlink/specs/hvx_poll.yaml.
 *
 * Devices are named by ifindex in the caller's network namespace, and a dump
 * lists only that namespace's devices. Attach, detach and set need
 * CAP_NET_ADMIN in the initial user namespace: a spinning thread is a host
 * resource. Every op has its own strict policy, so reply-only attributes in
 * a request are refused, and every rejection carries an extack message.
 * Everything runs under RTNL, which also orders it against the netdevice
 * notifier.
 */
#include <linux/cpumask.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "hvx_poll_priv.h"

/* NLA_POLICY_RANGE holds s16 bounds only; 6.1 wants this non-const. */
static struct netlink_range_validation hvx_poll_idle_range = {
	.min = 1,
	.max = HVX_POLL_IDLE_US_MAX,
};

#define HVX_POLL_TUNABLE_POLICIES					\
	[HVX_POLL_A_CPU]	= { .type = NLA_U32 },			\
	[HVX_POLL_A_MODE]	= NLA_POLICY_MAX(NLA_U32, HVX_POLL_MODE_MAX), \
	[HVX_POLL_A_BUDGET]	= NLA_POLICY_RANGE(NLA_U32, 1,		\
						   HVX_POLL_BUDGET_MAX),	\
	[HVX_POLL_A_IDLE_US]	= NLA_POLICY_FULL_RANGE(NLA_U32,	\
							&hvx_poll_idle_range), \
	[HVX_POLL_A_SCHED]	= NLA_POLICY_MAX(NLA_U32, HVX_POLL_SCHED_MAX), \
	[HVX_POLL_A_PREFER_BUSY_POLL] = NLA_POLICY_MAX(NLA_U8, 1)

#define HVX_POLL_IFINDEX_POLICY	NLA_POLICY_MIN(NLA_U32, 1)

static const struct nla_policy hvx_poll_attach_policy[HVX_POLL_A_MAX + 1] = {
	[HVX_POLL_A_IFINDEX]	= HVX_POLL_IFINDEX_POLICY,
	HVX_POLL_TUNABLE_POLICIES,
};

static const struct nla_policy hvx_poll_dev_policy[HVX_POLL_A_MAX + 1] = {
	[HVX_POLL_A_IFINDEX]	= HVX_POLL_IFINDEX_POLICY,
};

static struct genl_family hvx_poll_family;

static u32 hvx_poll_nl_u32(const struct nlattr *attr, u32 dflt)
{
	return attr ? nla_get_u32(attr) : dflt;
}

static int hvx_poll_nl_cpu(struct genl_info *info, u32 *cpu)
{
	struct nlattr *attr = info->attrs[HVX_POLL_A_CPU];

	if (!attr)
		return 0;
	*cpu = nla_get_u32(attr);
	if (*cpu >= nr_cpu_ids || !cpu_online(*cpu)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "CPU is not online");
		return -EINVAL;
	}
	return 0;
}

/* The device in HVX_POLL_A_IFINDEX, in the caller's netns; RTNL held. */
static struct net_device *hvx_poll_nl_dev(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[HVX_POLL_A_IFINDEX];
	struct net_device *dev;

	if (GENL_REQ_ATTR_CHECK(info, HVX_POLL_A_IFINDEX)) {
		GENL_SET_ERR_MSG(info, "device ifindex required");
		return ERR_PTR(-EINVAL);
	}
	dev = __dev_get_by_index(genl_info_net(info), nla_get_u32(attr));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such device");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

static struct hvx_poll_dev *hvx_poll_nl_pd(struct genl_info *info)
{
	struct net_device *dev = hvx_poll_nl_dev(info);
	struct hvx_poll_dev *pd;

	if (IS_ERR(dev))
		return ERR_CAST(dev);
	pd = hvx_poll_find(dev);
	if (!pd) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[HVX_POLL_A_IFINDEX],
				    "device is not attached");
		return ERR_PTR(-ENOENT);
	}
	return pd;
}

static int hvx_poll_fill(struct sk_buff *skb, struct hvx_poll_dev *pd,
			 u32 portid, u32 seq, int flags,
			 struct netlink_callback *cb)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &hvx_poll_family, flags,
			  HVX_POLL_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_u32(skb, HVX_POLL_A_IFINDEX, pd->dev->ifindex) ||
	    nla_put_string(skb, HVX_POLL_A_IFNAME, pd->dev->name) ||
	    (pd->cpu != HVX_POLL_CPU_ANY &&
	     nla_put_u32(skb, HVX_POLL_A_CPU, pd->cpu)) ||
	    nla_put_u32(skb, HVX_POLL_A_MODE, pd->mode) ||
	    nla_put_u32(skb, HVX_POLL_A_BUDGET, pd->budget) ||
	    nla_put_u32(skb, HVX_POLL_A_IDLE_US, pd->idle_us) ||
	    nla_put_u32(skb, HVX_POLL_A_SCHED, pd->sched) ||
	    nla_put_u8(skb, HVX_POLL_A_PREFER_BUSY_POLL, pd->prefer_busy_poll) ||
	    nla_put_u32(skb, HVX_POLL_A_PID, task_pid_nr(pd->task)) ||
	    nla_put_u32(skb, HVX_POLL_A_STATE, READ_ONCE(pd->state)) ||
	    nla_put_u32(skb, HVX_POLL_A_NAPIS, READ_ONCE(pd->nr_napis)) ||
	    nla_put_u64_64bit(skb, HVX_POLL_A_POLLS, READ_ONCE(pd->polls),
			      HVX_POLL_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_POLL_A_PACKETS, READ_ONCE(pd->packets),
			      HVX_POLL_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_POLL_A_IDLE_SLEEPS,
			      READ_ONCE(pd->idle_sleeps), HVX_POLL_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_POLL_A_WAKEUPS, READ_ONCE(pd->wakeups),
			      HVX_POLL_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_POLL_A_BUSY_NS, READ_ONCE(pd->busy_ns),
			      HVX_POLL_A_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int hvx_poll_nl_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_poll_dev *pd;
	struct net_device *dev;
	u32 cpu = HVX_POLL_CPU_ANY;
	int ret;

	rtnl_lock();
	dev = hvx_poll_nl_dev(info);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto out;
	}
	if (hvx_poll_find(dev)) {
		GENL_SET_ERR_MSG(info, "device is already attached");
		ret = -EEXIST;
		goto out;
	}
	if (!hvx_poll_count_napis(dev)) {
		GENL_SET_ERR_MSG(info, "device has no NAPI that busy polling can use");
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = hvx_poll_nl_cpu(info, &cpu);
	if (ret)
		goto out;
	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd) {
		ret = -ENOMEM;
		goto out;
	}
	pd->dev = dev;
	pd->cpu = cpu;
	pd->mode = hvx_poll_nl_u32(info->attrs[HVX_POLL_A_MODE],
				   HVX_POLL_MODE_ADAPTIVE);
	pd->budget = hvx_poll_nl_u32(info->attrs[HVX_POLL_A_BUDGET],
				     HVX_POLL_BUDGET_DEFAULT);
	pd->idle_us = hvx_poll_nl_u32(info->attrs[HVX_POLL_A_IDLE_US],
				      HVX_POLL_IDLE_US_DEFAULT);
	pd->sched = hvx_poll_nl_u32(info->attrs[HVX_POLL_A_SCHED],
				    HVX_POLL_SCHED_NORMAL);
	if (info->attrs[HVX_POLL_A_PREFER_BUSY_POLL])
		pd->prefer_busy_poll =
			nla_get_u8(info->attrs[HVX_POLL_A_PREFER_BUSY_POLL]);
	netdev_hold(dev, &pd->dev_tracker, GFP_KERNEL);
	ret = hvx_poll_start(pd);
	if (ret) {
		GENL_SET_ERR_MSG(info, "cannot start the polling thread");
		netdev_put(dev, &pd->dev_tracker);
		kfree(pd);
	}
out:
	rtnl_unlock();
	return ret;
}

static int hvx_poll_nl_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_poll_dev *pd;
	int ret = 0;

	rtnl_lock();
	pd = hvx_poll_nl_pd(info);
	if (IS_ERR(pd)) {
		ret = PTR_ERR(pd);
		goto out;
	}
	hvx_poll_stop(pd);
	netdev_put(pd->dev, &pd->dev_tracker);
	kfree(pd);
out:
	rtnl_unlock();
	return ret;
}

static int hvx_poll_nl_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct hvx_poll_dev *pd;
	u32 cpu;
	int ret;

	rtnl_lock();
	pd = hvx_poll_nl_pd(info);
	if (IS_ERR(pd)) {
		ret = PTR_ERR(pd);
		goto out;
	}
	if (!a[HVX_POLL_A_CPU] && !a[HVX_POLL_A_MODE] &&
	    !a[HVX_POLL_A_BUDGET] && !a[HVX_POLL_A_IDLE_US] &&
	    !a[HVX_POLL_A_SCHED] && !a[HVX_POLL_A_PREFER_BUSY_POLL]) {
		GENL_SET_ERR_MSG(info, "nothing to set");
		ret = -EINVAL;
		goto out;
	}
	/* The only step that can fail goes first: all or nothing. */
	cpu = pd->cpu;
	ret = hvx_poll_nl_cpu(info, &cpu);
	if (ret)
		goto out;
	if (a[HVX_POLL_A_CPU]) {
		ret = hvx_poll_apply_cpu(pd, cpu);
		if (ret) {
			GENL_SET_ERR_MSG(info, "cannot bind the thread to the CPU");
			goto out;
		}
	}
	if (a[HVX_POLL_A_SCHED])
		hvx_poll_apply_sched(pd, nla_get_u32(a[HVX_POLL_A_SCHED]));
	if (a[HVX_POLL_A_MODE])
		WRITE_ONCE(pd->mode, nla_get_u32(a[HVX_POLL_A_MODE]));
	if (a[HVX_POLL_A_BUDGET])
		WRITE_ONCE(pd->budget, nla_get_u32(a[HVX_POLL_A_BUDGET]));
	if (a[HVX_POLL_A_IDLE_US])
		WRITE_ONCE(pd->idle_us, nla_get_u32(a[HVX_POLL_A_IDLE_US]));
	if (a[HVX_POLL_A_PREFER_BUSY_POLL])
		WRITE_ONCE(pd->prefer_busy_poll,
			   nla_get_u8(a[HVX_POLL_A_PREFER_BUSY_POLL]));
	hvx_poll_gen++;
	hvx_poll_kick(pd);
out:
	rtnl_unlock();
	return ret;
}

static int hvx_poll_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_poll_dev *pd;
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	rtnl_lock();
	pd = hvx_poll_nl_pd(info);
	if (IS_ERR(pd))
		ret = PTR_ERR(pd);
	else
		ret = hvx_poll_fill(msg, pd, info->snd_portid, info->snd_seq,
				    0, NULL);
	rtnl_unlock();
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: devices of this netns already sent. */
static int hvx_poll_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct hvx_poll_dev *pd;
	long idx = 0;
	int ret = 0;

	rtnl_lock();
	cb->seq = hvx_poll_gen;
	list_for_each_entry(pd, &hvx_poll_devs, node) {
		if (!net_eq(dev_net(pd->dev), net))
			continue;
		if (idx++ < cb->args[0])
			continue;
		ret = hvx_poll_fill(skb, pd, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI, cb);
		if (ret)
			break;
		cb->args[0] = idx;
	}
	rtnl_unlock();
	/* A full skb ends this part; the next call goes on from args[0]. */
	if (ret == -EMSGSIZE)
		ret = 0;
	return ret ?: skb->len;
}

static const struct genl_ops hvx_poll_ops[] = {
	{
		.cmd = HVX_POLL_CMD_ATTACH,
		.doit = hvx_poll_nl_attach,
		.policy = hvx_poll_attach_policy,
		.maxattr = HVX_POLL_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_POLL_CMD_DETACH,
		.doit = hvx_poll_nl_detach,
		.policy = hvx_poll_dev_policy,
		.maxattr = HVX_POLL_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_POLL_CMD_SET,
		.doit = hvx_poll_nl_set,
		.policy = hvx_poll_attach_policy,
		.maxattr = HVX_POLL_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_POLL_CMD_GET,
		.doit = hvx_poll_nl_get,
		.dumpit = hvx_poll_nl_dump,
		.policy = hvx_poll_dev_policy,
		.maxattr = HVX_POLL_A_MAX,
	},
};

static struct genl_family hvx_poll_family __ro_after_init = {
	.name = HVX_POLL_GENL_NAME,
	.version = HVX_POLL_GENL_VERSION,
	.maxattr = HVX_POLL_A_MAX,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = hvx_poll_ops,
	.n_ops = ARRAY_SIZE(hvx_poll_ops),
};

int __init hvx_poll_nl_init(void)
{
	return genl_register_family(&hvx_poll_family);
}

void hvx_poll_nl_exit(void)
{
	genl_unregister_family(&hvx_poll_family);
}
