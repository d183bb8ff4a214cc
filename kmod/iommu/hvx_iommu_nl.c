// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink control plane: family HVX_IOMMU_GENL_NAME, spec in
 * Documentation/netlink/specs/hvx_iommu.yaml. Maps, statistics and the
 * injection of host events and PPR requests (what a host IOMMU driver's
 * event handler would hand to hvx_iommu).
 */
#include <net/genetlink.h>

#include <hvx_core.h>
#include "hvx_iommu.h"

#define HVX_IOMMU_NL_REQUIRE(info, type, msg) ({		\
	struct genl_info *__i = (info);				\
	bool __miss = GENL_REQ_ATTR_CHECK(__i, type);		\
								\
	if (__miss)						\
		GENL_SET_ERR_MSG(__i, msg);			\
	__miss;							\
})

static const struct nla_policy hvx_iommu_map_policy[HVX_IOMMU_A_MAP_MAX + 1] = {
	[HVX_IOMMU_A_MAP_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_IOMMU_A_MAP_TYPE]		= NLA_POLICY_RANGE(NLA_U32,
							   HVX_IOMMU_MAP_DOMAIN,
							   HVX_IOMMU_MAP_DEVICE),
	[HVX_IOMMU_A_MAP_GUEST_ID]	= { .type = NLA_U16 },
	[HVX_IOMMU_A_MAP_HOST_ID]	= { .type = NLA_U16 },
};

static const struct nla_policy hvx_iommu_map_del_policy[HVX_IOMMU_A_MAP_MAX + 1] = {
	[HVX_IOMMU_A_MAP_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_IOMMU_A_MAP_TYPE]		= NLA_POLICY_RANGE(NLA_U32,
							   HVX_IOMMU_MAP_DOMAIN,
							   HVX_IOMMU_MAP_DEVICE),
	[HVX_IOMMU_A_MAP_GUEST_ID]	= { .type = NLA_U16 },
};

static const struct nla_policy hvx_iommu_map_get_policy[HVX_IOMMU_A_MAP_MAX + 1] = {
	[HVX_IOMMU_A_MAP_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy hvx_iommu_stats_policy[HVX_IOMMU_A_STATS_MAX + 1] = {
	[HVX_IOMMU_A_STATS_VM_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy hvx_iommu_inject_policy[HVX_IOMMU_A_INJECT_MAX + 1] = {
	[HVX_IOMMU_A_INJECT_VM_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_IOMMU_A_INJECT_LOG]	= NLA_POLICY_RANGE(NLA_U32,
							   HVX_IOMMU_LOG_EVENT,
							   HVX_IOMMU_LOG_PPR),
	[HVX_IOMMU_A_INJECT_ENTRY]	= NLA_POLICY_EXACT_LEN(HVX_IOMMU_ENTRY_SIZE),
};

static struct genl_family hvx_iommu_family;

/*
 * The VM a request names, with its hvx_iommu state; with @create, attached
 * if it has none yet. Under hvx_iommu_lock.
 */
static struct hvx_iommu_vm *hvx_iommu_nl_vm(struct genl_info *info,
					    unsigned int attr, bool create)
{
	struct hvx_iommu_vm *ivm;
	struct hvx_vm *vm;

	vm = hvx_vm_get_attr(info->attrs[attr], info->extack);
	if (!vm)
		return ERR_PTR(info->attrs[attr] ? -ENOENT : -EINVAL);
	if (create) {
		ivm = hvx_iommu_vm_attach(vm);
		if (IS_ERR(ivm))
			GENL_SET_ERR_MSG(info, "VM is being destroyed");
	} else {
		ivm = hvx_iommu_vm_lookup(hvx_vm_id(vm));
		if (!ivm) {
			GENL_SET_ERR_MSG(info, "VM has no IOMMU state");
			ivm = ERR_PTR(-ENOENT);
		}
	}
	hvx_vm_put(vm);
	return ivm;
}

static int hvx_iommu_nl_map_add(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_iommu_vm *ivm;
	int ret;

	if (HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_MAP_TYPE, "Map type is required") ||
	    HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_MAP_GUEST_ID, "Guest ID is required") ||
	    HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_MAP_HOST_ID, "Host ID is required"))
		return -EINVAL;
	mutex_lock(&hvx_iommu_lock);
	ivm = hvx_iommu_nl_vm(info, HVX_IOMMU_A_MAP_VM_ID, true);
	if (IS_ERR(ivm)) {
		ret = PTR_ERR(ivm);
		goto out;
	}
	ret = hvx_iommu_map_add(ivm,
				nla_get_u32(info->attrs[HVX_IOMMU_A_MAP_TYPE]),
				nla_get_u16(info->attrs[HVX_IOMMU_A_MAP_GUEST_ID]),
				nla_get_u16(info->attrs[HVX_IOMMU_A_MAP_HOST_ID]),
				info->extack);
out:
	mutex_unlock(&hvx_iommu_lock);
	return ret;
}

static int hvx_iommu_nl_map_del(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_iommu_vm *ivm;
	int ret;

	if (HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_MAP_TYPE, "Map type is required") ||
	    HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_MAP_GUEST_ID, "Guest ID is required"))
		return -EINVAL;
	mutex_lock(&hvx_iommu_lock);
	ivm = hvx_iommu_nl_vm(info, HVX_IOMMU_A_MAP_VM_ID, false);
	if (IS_ERR(ivm)) {
		ret = PTR_ERR(ivm);
		goto out;
	}
	ret = hvx_iommu_map_del(ivm,
				nla_get_u32(info->attrs[HVX_IOMMU_A_MAP_TYPE]),
				nla_get_u16(info->attrs[HVX_IOMMU_A_MAP_GUEST_ID]),
				info->extack);
out:
	mutex_unlock(&hvx_iommu_lock);
	return ret;
}

static void *hvx_iommu_nl_put_map(struct sk_buff *skb,
				  struct netlink_callback *cb, u32 vm_id,
				  u32 type, u16 guest, u16 host)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &hvx_iommu_family, NLM_F_MULTI,
			  HVX_IOMMU_CMD_MAP_GET);
	if (!hdr)
		return NULL;
	if (nla_put_u32(skb, HVX_IOMMU_A_MAP_VM_ID, vm_id) ||
	    nla_put_u32(skb, HVX_IOMMU_A_MAP_TYPE, type) ||
	    nla_put_u16(skb, HVX_IOMMU_A_MAP_GUEST_ID, guest) ||
	    nla_put_u16(skb, HVX_IOMMU_A_MAP_HOST_ID, host)) {
		genlmsg_cancel(skb, hdr);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	return hdr;
}

/* Fills one map type of one VM from guest ID *next; false when skb is full. */
static bool hvx_iommu_nl_dump_maps(struct sk_buff *skb,
				   struct netlink_callback *cb,
				   struct hvx_iommu_vm *ivm, u32 type,
				   const struct hvx_iommu_idmap *m,
				   unsigned long *next)
{
	void *hdr;
	int host;

	for (; *next <= 0xffff; (*next)++) {
		rcu_read_lock();
		host = hvx_iommu_idmap_lookup(m, *next);
		rcu_read_unlock();
		if (host < 0)
			continue;
		hdr = hvx_iommu_nl_put_map(skb, cb, ivm->id, type, *next, host);
		if (!hdr)
			return false;
		genl_dump_check_consistent(cb, hdr);
	}
	return true;
}

/*
 * cb->args: [0] next VM id, [1] map type, [2] next guest ID. All VMs, or
 * only the one HVX_IOMMU_A_MAP_VM_ID names.
 */
static int hvx_iommu_nl_map_dump(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr *only = info->attrs[HVX_IOMMU_A_MAP_VM_ID];
	unsigned long id = cb->args[0];
	struct hvx_iommu_vm *ivm;

	mutex_lock(&hvx_iommu_lock);
	cb->seq = hvx_iommu_gen;
	xa_for_each_start(&hvx_iommu_vms, id, ivm, id) {
		if (only && ivm->id != nla_get_u32(only))
			continue;
		if (id != cb->args[0]) {
			cb->args[1] = HVX_IOMMU_MAP_DOMAIN;
			cb->args[2] = 0;
		}
		cb->args[0] = id;
		if (cb->args[1] <= HVX_IOMMU_MAP_DOMAIN) {
			cb->args[1] = HVX_IOMMU_MAP_DOMAIN;
			if (!hvx_iommu_nl_dump_maps(skb, cb, ivm,
						    HVX_IOMMU_MAP_DOMAIN,
						    &ivm->maps.dom_g2h,
						    &cb->args[2]))
				goto out;
			cb->args[1] = HVX_IOMMU_MAP_DEVICE;
			cb->args[2] = 0;
		}
		if (!hvx_iommu_nl_dump_maps(skb, cb, ivm, HVX_IOMMU_MAP_DEVICE,
					    &ivm->maps.dev_g2h, &cb->args[2]))
			goto out;
		/* This VM is done; the next starts over. */
		cb->args[0] = id + 1;
		cb->args[1] = HVX_IOMMU_MAP_DOMAIN;
		cb->args[2] = 0;
	}
out:
	mutex_unlock(&hvx_iommu_lock);
	return skb->len;
}

static void *hvx_iommu_nl_put_stats(struct sk_buff *skb, u32 portid, u32 seq,
				    int flags, struct hvx_iommu_vm *ivm)
{
	static const u8 attrs[__HVX_IOMMU_STAT_MAX] = {
		[HVX_IOMMU_STAT_COMMANDS] = HVX_IOMMU_A_STATS_COMMANDS,
		[HVX_IOMMU_STAT_ERRORS] = HVX_IOMMU_A_STATS_ERRORS,
		[HVX_IOMMU_STAT_COMPLETION_WAITS] =
			HVX_IOMMU_A_STATS_COMPLETION_WAITS,
		[HVX_IOMMU_STAT_EVENTS] = HVX_IOMMU_A_STATS_EVENTS,
		[HVX_IOMMU_STAT_PPRS] = HVX_IOMMU_A_STATS_PPRS,
		[HVX_IOMMU_STAT_DROPPED] = HVX_IOMMU_A_STATS_DROPPED,
		[HVX_IOMMU_STAT_OVERFLOWS] = HVX_IOMMU_A_STATS_OVERFLOWS,
	};
	void *hdr;
	int i;

	hdr = genlmsg_put(skb, portid, seq, &hvx_iommu_family, flags,
			  HVX_IOMMU_CMD_STATS_GET);
	if (!hdr)
		return NULL;
	if (nla_put_u32(skb, HVX_IOMMU_A_STATS_VM_ID, ivm->id) ||
	    nla_put_u32(skb, HVX_IOMMU_A_STATS_DOMAINS, ivm->nr_dom) ||
	    nla_put_u32(skb, HVX_IOMMU_A_STATS_DEVICES, ivm->nr_dev) ||
	    nla_put_u8(skb, HVX_IOMMU_A_STATS_RING, !!ivm->ring))
		goto cancel;
	for (i = 0; i < __HVX_IOMMU_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, attrs[i],
				      atomic64_read(&ivm->stats[i]),
				      HVX_IOMMU_A_STATS_PAD))
			goto cancel;
	genlmsg_end(skb, hdr);
	return hdr;

cancel:
	genlmsg_cancel(skb, hdr);
	return NULL;
}

static int hvx_iommu_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_iommu_vm *ivm;
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&hvx_iommu_lock);
	ivm = hvx_iommu_nl_vm(info, HVX_IOMMU_A_STATS_VM_ID, false);
	if (IS_ERR(ivm)) {
		ret = PTR_ERR(ivm);
		goto err;
	}
	if (!hvx_iommu_nl_put_stats(msg, info->snd_portid, info->snd_seq, 0,
				    ivm)) {
		ret = -EMSGSIZE;
		goto err;
	}
	mutex_unlock(&hvx_iommu_lock);
	return genlmsg_reply(msg, info);

err:
	mutex_unlock(&hvx_iommu_lock);
	nlmsg_free(msg);
	return ret;
}

static int hvx_iommu_nl_stats_dump(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	unsigned long id = cb->args[0];
	struct hvx_iommu_vm *ivm;
	void *hdr;

	mutex_lock(&hvx_iommu_lock);
	cb->seq = hvx_iommu_gen;
	xa_for_each_start(&hvx_iommu_vms, id, ivm, id) {
		hdr = hvx_iommu_nl_put_stats(skb, NETLINK_CB(cb->skb).portid,
					     cb->nlh->nlmsg_seq, NLM_F_MULTI,
					     ivm);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		cb->args[0] = id + 1;
	}
	mutex_unlock(&hvx_iommu_lock);
	return skb->len;
}

static int hvx_iommu_nl_inject(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *entry = info->attrs[HVX_IOMMU_A_INJECT_ENTRY];
	struct hvx_iommu_entry in, out;
	struct hvx_iommu_ring *r;
	struct hvx_iommu_vm *ivm;
	bool ppr;
	int ret;

	if (HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_INJECT_LOG, "Log is required") ||
	    HVX_IOMMU_NL_REQUIRE(info, HVX_IOMMU_A_INJECT_ENTRY, "Entry is required"))
		return -EINVAL;
	ppr = nla_get_u32(info->attrs[HVX_IOMMU_A_INJECT_LOG]) ==
	      HVX_IOMMU_LOG_PPR;
	nla_memcpy(in.dw, entry, sizeof(in.dw));

	mutex_lock(&hvx_iommu_lock);
	ivm = hvx_iommu_nl_vm(info, HVX_IOMMU_A_INJECT_VM_ID, false);
	if (IS_ERR(ivm)) {
		ret = PTR_ERR(ivm);
		goto out;
	}
	r = ivm->ring;
	if (!r) {
		GENL_SET_ERR_MSG(info, "VM has no IOMMU rings open");
		ret = -ENODEV;
		goto out;
	}
	mutex_lock(&r->lock);
	rcu_read_lock();
	ret = ppr ? hvx_iommu_xlat_ppr(&ivm->maps, &in, &out) :
		    hvx_iommu_xlat_event(&ivm->maps, &in, &out);
	rcu_read_unlock();
	switch (ret) {
	case HVX_XLAT_OK:
		ret = hvx_iommu_log_append(r, ppr ? &r->ppr : &r->evt, &out);
		if (ret) {
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "Log is full: overflow set");
			hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_OVERFLOWS, 1);
		} else {
			hvx_iommu_stat_add(ivm, ppr ? HVX_IOMMU_STAT_PPRS :
					   HVX_IOMMU_STAT_EVENTS, 1);
		}
		break;
	case HVX_XLAT_UNMAPPED:
		NL_SET_ERR_MSG_ATTR(info->extack, entry,
				    "Host ID is not mapped in this VM");
		hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_DROPPED, 1);
		ret = -ENOENT;
		break;
	default:
		if (ppr)
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "Not a PPR request");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "Event type names no device");
		hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_DROPPED, 1);
		ret = -EINVAL;
		break;
	}
	mutex_unlock(&r->lock);
out:
	mutex_unlock(&hvx_iommu_lock);
	return ret;
}

static const struct genl_ops hvx_iommu_nl_ops[] = {
	{
		.cmd = HVX_IOMMU_CMD_MAP_ADD,
		.doit = hvx_iommu_nl_map_add,
		.policy = hvx_iommu_map_policy,
		.maxattr = HVX_IOMMU_A_MAP_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_IOMMU_CMD_MAP_DEL,
		.doit = hvx_iommu_nl_map_del,
		.policy = hvx_iommu_map_del_policy,
		.maxattr = HVX_IOMMU_A_MAP_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_IOMMU_CMD_MAP_GET,
		.dumpit = hvx_iommu_nl_map_dump,
		.policy = hvx_iommu_map_get_policy,
		.maxattr = HVX_IOMMU_A_MAP_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_IOMMU_CMD_STATS_GET,
		.doit = hvx_iommu_nl_stats_get,
		.dumpit = hvx_iommu_nl_stats_dump,
		.policy = hvx_iommu_stats_policy,
		.maxattr = HVX_IOMMU_A_STATS_MAX,
	},
	{
		.cmd = HVX_IOMMU_CMD_INJECT,
		.doit = hvx_iommu_nl_inject,
		.policy = hvx_iommu_inject_policy,
		.maxattr = HVX_IOMMU_A_INJECT_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family hvx_iommu_family __ro_after_init = {
	.name = HVX_IOMMU_GENL_NAME,
	.version = HVX_IOMMU_GENL_VERSION,
	.module = THIS_MODULE,
	.ops = hvx_iommu_nl_ops,
	.n_ops = ARRAY_SIZE(hvx_iommu_nl_ops),
	/* A new family: every op checks genlmsghdr.reserved and nlmsg_flags. */
	.resv_start_op = 0,
};

int __init hvx_iommu_nl_init(void)
{
	return genl_register_family(&hvx_iommu_family);
}

void hvx_iommu_nl_exit(void)
{
	genl_unregister_family(&hvx_iommu_family);
}
