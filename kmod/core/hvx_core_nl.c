// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink control plane of the VM registry: family HVX_GENL_NAME,
 * spec in Documentation/netlink/specs/hvx.yaml.
 *
 * Every op has its own strict policy; every rejection carries an extack
 * message. The family is not netnsok: the registry is host-wide, so only the
 * initial network namespace sees and changes it.
 */
#include <linux/ctype.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <net/genetlink.h>

#include <hvx_core.h>
#include "hvx_core_priv.h"

/* A required attribute: the missing type and a message in the extack. */
#define HVX_NL_REQUIRE(info, type, msg) ({			\
	struct genl_info *__i = (info);				\
	bool __miss = GENL_REQ_ATTR_CHECK(__i, type);		\
								\
	if (__miss)						\
		GENL_SET_ERR_MSG(__i, msg);			\
	__miss;							\
})

static const struct nla_policy hvx_mem_add_policy[HVX_A_MEM_MAX + 1] = {
	[HVX_A_MEM_GPA]		= { .type = NLA_U64 },
	[HVX_A_MEM_SIZE]	= { .type = NLA_U64 },
	[HVX_A_MEM_UADDR]	= { .type = NLA_U64 },
};

static const struct nla_policy hvx_mem_del_policy[HVX_A_MEM_MAX + 1] = {
	[HVX_A_MEM_GPA]		= { .type = NLA_U64 },
};

static const struct nla_policy hvx_vm_new_policy[HVX_A_VM_MAX + 1] = {
	[HVX_A_VM_NAME]		= { .type = NLA_NUL_STRING,
				    .len = HVX_VM_NAME_MAX - 1 },
	[HVX_A_VM_FLAGS]	= { .type = NLA_U32 },
};

/* VM_DEL, VM_GET: the VM by id or by name. */
static const struct nla_policy hvx_vm_sel_policy[HVX_A_VM_MAX + 1] = {
	[HVX_A_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_A_VM_NAME]		= { .type = NLA_NUL_STRING,
				    .len = HVX_VM_NAME_MAX - 1 },
};

static const struct nla_policy hvx_vm_set_policy[HVX_A_VM_MAX + 1] = {
	[HVX_A_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_A_VM_NAME]		= { .type = NLA_NUL_STRING,
				    .len = HVX_VM_NAME_MAX - 1 },
	[HVX_A_VM_STATE]	= NLA_POLICY_MAX(NLA_U32, HVX_VM_STATE_MAX),
};

static const struct nla_policy hvx_vm_mem_add_policy[HVX_A_VM_MAX + 1] = {
	[HVX_A_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_A_VM_NAME]		= { .type = NLA_NUL_STRING,
				    .len = HVX_VM_NAME_MAX - 1 },
	[HVX_A_VM_MEM]		= NLA_POLICY_NESTED(hvx_mem_add_policy),
};

static const struct nla_policy hvx_vm_mem_del_policy[HVX_A_VM_MAX + 1] = {
	[HVX_A_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_A_VM_NAME]		= { .type = NLA_NUL_STRING,
				    .len = HVX_VM_NAME_MAX - 1 },
	[HVX_A_VM_MEM]		= NLA_POLICY_NESTED(hvx_mem_del_policy),
};

static struct genl_family hvx_family;

/*
 * Region addresses locate the VMM's mappings: only CAP_NET_ADMIN callers see
 * them, as only they may change the registry.
 */
static int hvx_nl_fill_mem(struct sk_buff *skb, struct hvx_vm *vm, bool priv)
{
	const struct hvx_mem_region *r;
	struct nlattr *nest;
	unsigned int i;
	int ret = 0;

	down_read(&vm->mem_lock);
	if (vm->mem_pid &&
	    nla_put_u32(skb, HVX_A_VM_MEM_PID, pid_vnr(vm->mem_pid))) {
		ret = -EMSGSIZE;
		goto out;
	}
	for (i = 0; i < vm->nr_mem; i++) {
		r = &vm->mem[i];
		nest = nla_nest_start(skb, HVX_A_VM_MEM);
		if (!nest ||
		    nla_put_u64_64bit(skb, HVX_A_MEM_GPA, r->gpa,
				      HVX_A_MEM_PAD) ||
		    nla_put_u64_64bit(skb, HVX_A_MEM_SIZE, r->size,
				      HVX_A_MEM_PAD) ||
		    (priv && nla_put_u64_64bit(skb, HVX_A_MEM_UADDR, r->uaddr,
					       HVX_A_MEM_PAD))) {
			ret = -EMSGSIZE;
			goto out;
		}
		nla_nest_end(skb, nest);
	}
out:
	up_read(&vm->mem_lock);
	return ret;
}

/*
 * Returns the genl header so dumps can mark it inconsistent. own is the
 * number of references the caller itself holds, so that users counts only
 * other holders; events (own < 0) leave users out.
 */
static void *hvx_nl_fill_vm(struct sk_buff *skb, struct hvx_vm *vm, u32 portid,
			    u32 seq, int flags, u8 cmd, bool priv, int own)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &hvx_family, flags, cmd);
	if (!hdr)
		return NULL;
	if (nla_put_u32(skb, HVX_A_VM_ID, vm->id) ||
	    nla_put_string(skb, HVX_A_VM_NAME, vm->name) ||
	    nla_put_u32(skb, HVX_A_VM_OWNER_PID, pid_vnr(vm->owner)) ||
	    nla_put_u32(skb, HVX_A_VM_OWNER_UID,
			from_kuid_munged(current_user_ns(), vm->owner_uid)) ||
	    nla_put_u32(skb, HVX_A_VM_STATE, READ_ONCE(vm->state)) ||
	    (own >= 0 &&
	     nla_put_u32(skb, HVX_A_VM_USERS, hvx_vm_users(vm) - own)) ||
	    hvx_nl_fill_mem(skb, vm, priv)) {
		genlmsg_cancel(skb, hdr);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	return hdr;
}

/* A name is 1 to HVX_VM_NAME_MAX - 1 of [A-Za-z0-9._-]. */
static int hvx_nl_check_name(const struct nlattr *attr,
			     struct netlink_ext_ack *extack)
{
	const char *name = nla_data(attr);

	if (!*name) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "VM name is empty");
		return -EINVAL;
	}
	for (; *name; name++) {
		if (!isalnum(*name) && !strchr("._-", *name)) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "VM name may hold only letters, digits, '.', '_' and '-'");
			return -EINVAL;
		}
	}
	return 0;
}

/* The VM a request names by id or by name (both: they must agree). */
static struct hvx_vm *hvx_nl_get_vm(struct genl_info *info)
{
	struct nlattr *name = info->attrs[HVX_A_VM_NAME];
	struct nlattr *id = info->attrs[HVX_A_VM_ID];
	struct hvx_vm *vm;

	if (id) {
		vm = hvx_vm_get_attr(id, info->extack);
		if (!vm)
			return ERR_PTR(-ENOENT);
		if (name && strcmp(vm->name, nla_data(name))) {
			hvx_vm_put(vm);
			NL_SET_ERR_MSG_ATTR(info->extack, name,
					    "VM name does not match the VM id");
			return ERR_PTR(-EINVAL);
		}
		return vm;
	}
	if (name) {
		vm = hvx_vm_get_by_name(nla_data(name));
		if (!vm) {
			NL_SET_ERR_MSG_ATTR(info->extack, name,
					    "No VM with this name");
			return ERR_PTR(-ENOENT);
		}
		return vm;
	}
	HVX_NL_REQUIRE(info, HVX_A_VM_ID, "VM id or name is required");
	return ERR_PTR(-EINVAL);
}

/* The caller holds one reference on vm. */
/* Fills and sends a reply allocated by the caller; consumes msg. */
static int hvx_nl_send_vm(struct sk_buff *msg, struct sk_buff *skb,
			  struct genl_info *info, struct hvx_vm *vm, u8 cmd)
{
	bool priv = netlink_capable(skb, CAP_NET_ADMIN);

	if (!hvx_nl_fill_vm(msg, vm, info->snd_portid, info->snd_seq, 0, cmd,
			    priv, 1)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return genlmsg_reply(msg, info);
}

static int hvx_nl_reply_vm(struct sk_buff *skb, struct genl_info *info,
			   struct hvx_vm *vm, u8 cmd)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return -ENOMEM;
	return hvx_nl_send_vm(msg, skb, info, vm, cmd);
}

static int hvx_nl_vm_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name = info->attrs[HVX_A_VM_NAME];
	struct nlattr *flags = info->attrs[HVX_A_VM_FLAGS];
	struct sk_buff *msg;
	struct hvx_vm *vm;
	int ret;

	if (HVX_NL_REQUIRE(info, HVX_A_VM_NAME, "VM name is required"))
		return -EINVAL;
	ret = hvx_nl_check_name(name, info->extack);
	if (ret)
		return ret;
	if (flags && (nla_get_u32(flags) & ~__HVX_VM_F_ALL)) {
		NL_SET_ERR_MSG_ATTR(info->extack, flags, "Unknown VM flags");
		return -EOPNOTSUPP;
	}

	/*
	 * The reply first: once the VM exists and is announced, a request
	 * answered with -ENOMEM would leave the caller believing it was not
	 * created.
	 */
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	vm = hvx_vm_create(nla_data(name));
	if (IS_ERR(vm)) {
		nlmsg_free(msg);
		ret = PTR_ERR(vm);
		if (ret == -EEXIST)
			NL_SET_ERR_MSG_ATTR(info->extack, name,
					    "VM name is already in use");
		else if (ret == -EBUSY)
			GENL_SET_ERR_MSG(info, "No free VM id");
		return ret;
	}
	/*
	 * Only a full receive queue can keep the reply from the caller now;
	 * the VM exists then all the same, and the event or a dump gives its
	 * id.
	 */
	ret = hvx_nl_send_vm(msg, skb, info, vm, HVX_CMD_VM_NEW);
	hvx_vm_put(vm);
	return ret;
}

static int hvx_nl_vm_del(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_vm *vm;
	int ret;

	vm = hvx_nl_get_vm(info);
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	ret = hvx_vm_destroy(vm);
	if (ret)
		GENL_SET_ERR_MSG(info, "VM is already being destroyed");
	hvx_vm_put(vm);
	return ret;
}

static int hvx_nl_vm_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_vm *vm;
	int ret;

	vm = hvx_nl_get_vm(info);
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	ret = hvx_nl_reply_vm(skb, info, vm, HVX_CMD_VM_GET);
	hvx_vm_put(vm);
	return ret;
}

/*
 * cb->args[0] is the next id to visit. Each pass walks the registry under
 * hvx_vms_lock; a change between passes bumps hvx_vms_gen and the next
 * message carries NLM_F_DUMP_INTR.
 */
static int hvx_nl_vm_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	bool priv = netlink_capable(cb->skb, CAP_NET_ADMIN);
	unsigned long id = cb->args[0];
	struct hvx_vm *vm;
	void *hdr;

	mutex_lock(&hvx_vms_lock);
	cb->seq = hvx_vms_gen;
	for (vm = hvx_vm_next(&id); vm; id++, vm = hvx_vm_next(&id)) {
		hdr = hvx_nl_fill_vm(skb, vm, NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI,
				     HVX_CMD_VM_GET, priv, 0);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
	}
	mutex_unlock(&hvx_vms_lock);
	cb->args[0] = id;
	return skb->len;
}

static int hvx_nl_vm_set(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_vm *vm;
	int ret;

	if (HVX_NL_REQUIRE(info, HVX_A_VM_STATE, "VM state is required"))
		return -EINVAL;
	vm = hvx_nl_get_vm(info);
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	ret = hvx_vm_set_state(vm, nla_get_u32(info->attrs[HVX_A_VM_STATE]));
	if (ret)
		GENL_SET_ERR_MSG(info, "VM is being destroyed");
	hvx_vm_put(vm);
	return ret;
}

/*
 * One region per request: a second HVX_A_VM_MEM would otherwise be dropped
 * without a word.
 */
static struct nlattr *hvx_nl_one_mem(struct genl_info *info)
{
	struct nlattr *nla, *found = NULL;
	int rem;

	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) != HVX_A_VM_MEM)
			continue;
		if (found) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "One memory region per request");
			return ERR_PTR(-EINVAL);
		}
		found = nla;
	}
	if (HVX_NL_REQUIRE(info, HVX_A_VM_MEM, "Memory region is required"))
		return ERR_PTR(-EINVAL);
	return found;
}

static int hvx_nl_parse_region(struct nlattr *nest, struct hvx_mem_region *r,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[HVX_A_MEM_MAX + 1];
	u64 end;
	int ret;

	ret = nla_parse_nested(tb, HVX_A_MEM_MAX, nest, hvx_mem_add_policy,
			       extack);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, HVX_A_MEM_GPA)) {
		NL_SET_ERR_MSG(extack, "Region guest address is required");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, HVX_A_MEM_SIZE)) {
		NL_SET_ERR_MSG(extack, "Region size is required");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, HVX_A_MEM_UADDR)) {
		NL_SET_ERR_MSG(extack, "Region user address is required");
		return -EINVAL;
	}
	r->gpa = nla_get_u64(tb[HVX_A_MEM_GPA]);
	r->size = nla_get_u64(tb[HVX_A_MEM_SIZE]);
	r->uaddr = nla_get_u64(tb[HVX_A_MEM_UADDR]);

	if (!PAGE_ALIGNED(r->gpa)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[HVX_A_MEM_GPA],
				    "Region guest address is not page aligned");
		return -EINVAL;
	}
	if (!r->size || !PAGE_ALIGNED(r->size)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[HVX_A_MEM_SIZE],
				    "Region size is zero or not page aligned");
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(r->uaddr)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[HVX_A_MEM_UADDR],
				    "Region user address is not page aligned");
		return -EINVAL;
	}
	/* A region ending at the very top would make gpa + size wrap to 0. */
	if (check_add_overflow(r->gpa, r->size, &end)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[HVX_A_MEM_SIZE],
				    "Region wraps around the guest address space");
		return -EOVERFLOW;
	}
	/*
	 * access_ok() lets anything below the canonical hole pass; the region
	 * must lie within the caller's address space proper.
	 */
	if (check_add_overflow(r->uaddr, r->size, &end) || end > TASK_SIZE) {
		NL_SET_ERR_MSG_ATTR(extack, tb[HVX_A_MEM_UADDR],
				    "Region is outside the user address space");
		return -EFAULT;
	}
	return 0;
}

static int hvx_nl_mem_add(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_mem_region r;
	struct nlattr *nest;
	struct hvx_vm *vm;
	int ret;

	nest = hvx_nl_one_mem(info);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	ret = hvx_nl_parse_region(nest, &r, info->extack);
	if (ret)
		return ret;
	vm = hvx_nl_get_vm(info);
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	ret = hvx_mem_add(vm, &r, info->extack);
	hvx_vm_put(vm);
	return ret;
}

static int hvx_nl_mem_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[HVX_A_MEM_MAX + 1];
	struct nlattr *nest;
	struct hvx_vm *vm;
	int ret;

	nest = hvx_nl_one_mem(info);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	ret = nla_parse_nested(tb, HVX_A_MEM_MAX, nest, hvx_mem_del_policy,
			       info->extack);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, HVX_A_MEM_GPA)) {
		GENL_SET_ERR_MSG(info, "Region guest address is required");
		return -EINVAL;
	}
	vm = hvx_nl_get_vm(info);
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	ret = hvx_mem_del(vm, nla_get_u64(tb[HVX_A_MEM_GPA]), info->extack);
	hvx_vm_put(vm);
	return ret;
}

static const struct genl_ops hvx_nl_ops[] = {
	{
		.cmd = HVX_CMD_VM_NEW,
		.doit = hvx_nl_vm_new,
		.policy = hvx_vm_new_policy,
		.maxattr = HVX_A_VM_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_CMD_VM_DEL,
		.doit = hvx_nl_vm_del,
		.policy = hvx_vm_sel_policy,
		.maxattr = HVX_A_VM_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_CMD_VM_GET,
		.doit = hvx_nl_vm_get,
		.dumpit = hvx_nl_vm_dump,
		.policy = hvx_vm_sel_policy,
		.maxattr = HVX_A_VM_MAX,
	},
	{
		.cmd = HVX_CMD_VM_SET,
		.doit = hvx_nl_vm_set,
		.policy = hvx_vm_set_policy,
		.maxattr = HVX_A_VM_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_CMD_MEM_ADD,
		.doit = hvx_nl_mem_add,
		.policy = hvx_vm_mem_add_policy,
		.maxattr = HVX_A_VM_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_CMD_MEM_DEL,
		.doit = hvx_nl_mem_del,
		.policy = hvx_vm_mem_del_policy,
		.maxattr = HVX_A_VM_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group hvx_nl_mcgrps[] = {
	{ .name = HVX_MCGRP_EVENTS },
};

static struct genl_family hvx_family __ro_after_init = {
	.name = HVX_GENL_NAME,
	.version = HVX_GENL_VERSION,
	.maxattr = HVX_A_VM_MAX,
	.module = THIS_MODULE,
	.ops = hvx_nl_ops,
	.n_ops = ARRAY_SIZE(hvx_nl_ops),
	/* A new family: every op checks genlmsghdr.reserved and nlmsg_flags. */
	.resv_start_op = 0,
	.mcgrps = hvx_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(hvx_nl_mcgrps),
};

/*
 * Registry changes become events on the "events" group. The message is
 * built in the changer's context, so pid and uid read in its namespaces;
 * region addresses are never multicast.
 */
static int hvx_nl_vm_event(struct notifier_block *nb, unsigned long event,
			   void *data)
{
	static const u8 cmds[] = {
		[HVX_VM_EVENT_NEW] = HVX_CMD_VM_NEW,
		[HVX_VM_EVENT_DEL] = HVX_CMD_VM_DEL,
		[HVX_VM_EVENT_STATE] = HVX_CMD_VM_SET,
	};
	struct sk_buff *msg;

	if (event >= ARRAY_SIZE(cmds) ||
	    !genl_has_listeners(&hvx_family, &init_net, 0))
		return NOTIFY_DONE;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return NOTIFY_DONE;
	if (!hvx_nl_fill_vm(msg, data, 0, 0, 0, cmds[event], false, -1)) {
		nlmsg_free(msg);
		return NOTIFY_DONE;
	}
	genlmsg_multicast(&hvx_family, msg, 0, 0, GFP_KERNEL);
	return NOTIFY_OK;
}

static struct notifier_block hvx_nl_notifier = {
	.notifier_call = hvx_nl_vm_event,
};

int __init hvx_nl_init(void)
{
	int ret;

	ret = genl_register_family(&hvx_family);
	if (ret)
		return ret;
	ret = hvx_vm_register_notifier(&hvx_nl_notifier);
	if (ret)
		goto err_family;
	return 0;

err_family:
	genl_unregister_family(&hvx_family);
	return ret;
}

void hvx_nl_exit(void)
{
	hvx_vm_unregister_notifier(&hvx_nl_notifier);
	genl_unregister_family(&hvx_family);
}
