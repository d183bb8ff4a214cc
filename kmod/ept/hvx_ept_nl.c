// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink control plane of hvx_ept: family HVX_EPT_GENL_NAME, spec
 * in Documentation/netlink/specs/hvx_ept.yaml.
 *
 * Every op is admin-only: views decide what a guest can read, and dumps and
 * EPT pointers carry host-physical addresses. Every op has its own strict
 * policy and every rejection an extack message.
 */
#include <linux/sched.h>
#include <net/genetlink.h>

#include <hvx_core.h>
#include "hvx_ept_priv.h"

#define HVX_EPT_REQUIRE(info, type, msg) ({			\
	struct genl_info *__i = (info);				\
	bool __miss = GENL_REQ_ATTR_CHECK(__i, type);		\
								\
	if (__miss)						\
		GENL_SET_ERR_MSG(__i, msg);			\
	__miss;							\
})

#define HVX_EPT_VM_ID_POLICY	NLA_POLICY_MIN(NLA_U32, 1)
#define HVX_EPT_VIEW_ID_POLICY	NLA_POLICY_MAX(NLA_U32, HVX_EPT_VIEWS_MAX - 1)

static const struct nla_policy hvx_ept_vm_new_policy[HVX_EPT_A_MAX + 1] = {
	[HVX_EPT_A_VM_ID]	= HVX_EPT_VM_ID_POLICY,
	[HVX_EPT_A_MEM_SIZE]	= { .type = NLA_U64 },
};

static const struct nla_policy hvx_ept_vm_policy[HVX_EPT_A_MAX + 1] = {
	[HVX_EPT_A_VM_ID]	= HVX_EPT_VM_ID_POLICY,
};

static const struct nla_policy hvx_ept_view_policy[HVX_EPT_A_MAX + 1] = {
	[HVX_EPT_A_VM_ID]	= HVX_EPT_VM_ID_POLICY,
	[HVX_EPT_A_VIEW_ID]	= HVX_EPT_VIEW_ID_POLICY,
};

static const struct nla_policy hvx_ept_map_policy[HVX_EPT_A_MAX + 1] = {
	[HVX_EPT_A_VM_ID]	= HVX_EPT_VM_ID_POLICY,
	[HVX_EPT_A_VIEW_ID]	= HVX_EPT_VIEW_ID_POLICY,
	[HVX_EPT_A_GPA]		= { .type = NLA_U64 },
	[HVX_EPT_A_SIZE]	= { .type = NLA_U64 },
	[HVX_EPT_A_PERM]	= NLA_POLICY_MASK(NLA_U32, __HVX_EPT_PERM_ALL),
	[HVX_EPT_A_KIND]	= NLA_POLICY_MAX(NLA_U32, HVX_EPT_KIND_MAX),
};

static struct genl_family hvx_ept_family;

enum hvx_ept_mcgrp { HVX_EPT_MCGRP_VIOLATION_ID };

/* The EPT state of the VM in HVX_EPT_A_VM_ID, referenced. */
static struct hvx_ept_vm *hvx_ept_nl_vm(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[HVX_EPT_A_VM_ID];
	struct hvx_ept_vm *ev;

	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_VM_ID, "VM id is required"))
		return NULL;
	ev = hvx_ept_vm_get(nla_get_u32(attr));
	if (!ev)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "VM has no EPT views (ept vm add first)");
	return ev;
}

static void *hvx_ept_put_hdr(struct sk_buff *skb, u32 portid, u32 seq,
			     int flags, u8 cmd)
{
	return genlmsg_put(skb, portid, seq, &hvx_ept_family, flags, cmd);
}

static unsigned int hvx_ept_nr_views(struct hvx_ept_vm *ev)
{
	struct hvx_ept_view *view;
	unsigned long id;
	unsigned int n = 0;

	xa_for_each(&ev->views, id, view)
		n++;
	return n;
}

/* Caller holds ev->lock. */
static int hvx_ept_fill_vm(struct sk_buff *skb, struct hvx_ept_vm *ev)
{
	if (nla_put_u32(skb, HVX_EPT_A_VM_ID, ev->id) ||
	    nla_put_u64_64bit(skb, HVX_EPT_A_MEM_SIZE, ev->mem_size,
			      HVX_EPT_A_PAD) ||
	    nla_put_u32(skb, HVX_EPT_A_NR_VIEWS, hvx_ept_nr_views(ev)))
		return -EMSGSIZE;
	if (ev->active &&
	    nla_put_u32(skb, HVX_EPT_A_ACTIVE_VIEW, ev->active->id))
		return -EMSGSIZE;
	return 0;
}

/* Caller holds ev->lock. */
static int hvx_ept_fill_view(struct sk_buff *skb, struct hvx_ept_vm *ev,
			     struct hvx_ept_view *view)
{
	struct hvx_ept_range *r;
	unsigned long index = 0;
	struct nlattr *nest;

	if (nla_put_u32(skb, HVX_EPT_A_VM_ID, ev->id) ||
	    nla_put_u32(skb, HVX_EPT_A_VIEW_ID, view->id) ||
	    nla_put_u64_64bit(skb, HVX_EPT_A_EPTP, view->ept.eptp,
			      HVX_EPT_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_EPT_A_PRIVATE_PAGES,
			      view->private_pages, HVX_EPT_A_PAD) ||
	    (view == ev->active && nla_put_flag(skb, HVX_EPT_A_ACTIVE)))
		return -EMSGSIZE;
	mt_for_each(&view->ranges, r, index, ULONG_MAX) {
		nest = nla_nest_start(skb, HVX_EPT_A_RANGE);
		if (!nest ||
		    nla_put_u64_64bit(skb, HVX_EPT_A_GPA, r->gpa,
				      HVX_EPT_A_PAD) ||
		    nla_put_u64_64bit(skb, HVX_EPT_A_SIZE, r->size,
				      HVX_EPT_A_PAD) ||
		    nla_put_u32(skb, HVX_EPT_A_PERM, r->perm) ||
		    nla_put_u32(skb, HVX_EPT_A_KIND, r->kind))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

/* A view message is bounded by HVX_EPT_RANGES_MAX ranges of 44 bytes. */
#define HVX_EPT_VIEW_MSG_SIZE	(NLMSG_DEFAULT_SIZE + HVX_EPT_RANGES_MAX * 48)

static int hvx_ept_nl_vm_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *size_attr = info->attrs[HVX_EPT_A_MEM_SIZE];
	struct hvx_vm *vm;
	u64 size;
	int ret;

	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_MEM_SIZE,
			    "Guest memory size is required"))
		return -EINVAL;
	size = nla_get_u64(size_attr);
	if (!size || !PAGE_ALIGNED(size) || size > HVX_EPT_GPA_LIMIT) {
		NL_SET_ERR_MSG_ATTR(info->extack, size_attr,
				    "Memory size must be page aligned, non-zero and at most 256 TiB");
		return -EINVAL;
	}
	vm = hvx_vm_get_attr(info->attrs[HVX_EPT_A_VM_ID], info->extack);
	if (!vm)
		return -ENOENT;
	ret = hvx_ept_vm_new(vm, size, info->extack);
	hvx_vm_put(vm);
	return ret;
}

static int hvx_ept_nl_vm_del(struct sk_buff *skb, struct genl_info *info)
{
	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_VM_ID, "VM id is required"))
		return -EINVAL;
	if (hvx_ept_vm_del(nla_get_u32(info->attrs[HVX_EPT_A_VM_ID]))) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_EPT_A_VM_ID],
				    "VM has no EPT views");
		return -ENOENT;
	}
	return 0;
}

static int hvx_ept_nl_vm_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_ept_vm *ev = hvx_ept_nl_vm(info);
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (!ev)
		return -ENOENT;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	hdr = hvx_ept_put_hdr(msg, info->snd_portid, info->snd_seq, 0,
			      HVX_EPT_CMD_VM_GET);
	down_read(&ev->lock);
	ret = hdr ? hvx_ept_fill_vm(msg, ev) : -EMSGSIZE;
	up_read(&ev->lock);
	if (ret) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out:
	hvx_ept_vm_put(ev);
	return ret;
}

/* cb->args[0]: next VM id. */
static int hvx_ept_nl_vm_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	unsigned long id = cb->args[0];
	struct hvx_ept_vm *ev;
	void *hdr;
	int ret;

	cb->seq = hvx_ept_vms_gen();
	while ((ev = hvx_ept_vm_next(&id))) {
		hdr = hvx_ept_put_hdr(skb, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      HVX_EPT_CMD_VM_GET);
		down_read(&ev->lock);
		ret = hdr ? hvx_ept_fill_vm(skb, ev) : -EMSGSIZE;
		up_read(&ev->lock);
		hvx_ept_vm_put(ev);
		if (ret) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		genl_dump_check_consistent(cb, hdr);
		id++;
	}
	cb->args[0] = id;
	return skb->len;
}

static int hvx_ept_nl_view_new(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_ept_vm *ev = hvx_ept_nl_vm(info);
	struct sk_buff *msg;
	void *hdr;
	u32 id;
	int ret;

	if (!ev)
		return -ENOENT;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	ret = hvx_ept_view_new(ev, &id);
	if (ret) {
		if (ret == -ENOSPC)
			GENL_SET_ERR_MSG(info, "VM has the most views allowed");
		nlmsg_free(msg);
		goto out;
	}
	hdr = hvx_ept_put_hdr(msg, info->snd_portid, info->snd_seq, 0,
			      HVX_EPT_CMD_VIEW_NEW);
	if (!hdr || nla_put_u32(msg, HVX_EPT_A_VM_ID, ev->id) ||
	    nla_put_u32(msg, HVX_EPT_A_VIEW_ID, id)) {
		nlmsg_free(msg);
		ret = -EMSGSIZE;
		goto out;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out:
	hvx_ept_vm_put(ev);
	return ret;
}

static int hvx_ept_nl_view_del(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_ept_vm *ev;
	int ret;

	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_VIEW_ID, "View id is required"))
		return -EINVAL;
	ev = hvx_ept_nl_vm(info);
	if (!ev)
		return -ENOENT;
	ret = hvx_ept_view_del(ev, nla_get_u32(info->attrs[HVX_EPT_A_VIEW_ID]),
			       info->extack);
	hvx_ept_vm_put(ev);
	return ret;
}

static int hvx_ept_nl_view_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_ept_view *view;
	struct hvx_ept_vm *ev;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_VIEW_ID, "View id is required"))
		return -EINVAL;
	ev = hvx_ept_nl_vm(info);
	if (!ev)
		return -ENOENT;
	msg = genlmsg_new(HVX_EPT_VIEW_MSG_SIZE, GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	hdr = hvx_ept_put_hdr(msg, info->snd_portid, info->snd_seq, 0,
			      HVX_EPT_CMD_VIEW_GET);
	down_read(&ev->lock);
	view = ev->dead ? NULL :
	       xa_load(&ev->views, nla_get_u32(info->attrs[HVX_EPT_A_VIEW_ID]));
	if (!view) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_EPT_A_VIEW_ID],
				    "No view with this id");
		ret = -ENOENT;
	} else {
		ret = hdr ? hvx_ept_fill_view(msg, ev, view) : -EMSGSIZE;
	}
	up_read(&ev->lock);
	if (ret) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out:
	hvx_ept_vm_put(ev);
	return ret;
}

/*
 * Dumps of one VM's views or one view's EPT: .start takes the reference
 * kept in cb->args[0] until .done; cb->args[1..] are the cursor. Bad input
 * is reported by the first dumpit pass: in 6.1 only it has an extack.
 */
static int hvx_ept_nl_dump_start(struct netlink_callback *cb)
{
	struct nlattr *attr = genl_dumpit_info(cb)->attrs[HVX_EPT_A_VM_ID];

	cb->args[0] = attr ? (unsigned long)hvx_ept_vm_get(nla_get_u32(attr)) : 0;
	cb->args[2] = 0;		/* EPT dump: next GPA */
	cb->args[3] = HVX_EPT_LEVELS;	/* and its level; 0 when done */
	return 0;
}

static int hvx_ept_nl_dump_done(struct netlink_callback *cb)
{
	if (cb->args[0])
		hvx_ept_vm_put((struct hvx_ept_vm *)cb->args[0]);
	return 0;
}

/* The dump's VM, or an ERR_PTR with the reason in the extack. */
static struct hvx_ept_vm *hvx_ept_nl_dump_vm(struct netlink_callback *cb,
					     bool need_view)
{
	struct nlattr **attrs = genl_dumpit_info(cb)->attrs;

	if (!attrs[HVX_EPT_A_VM_ID]) {
		NL_SET_ERR_MSG(cb->extack, "VM id is required");
		return ERR_PTR(-EINVAL);
	}
	if (!cb->args[0]) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[HVX_EPT_A_VM_ID],
				    "VM has no EPT views (ept vm add first)");
		return ERR_PTR(-ENOENT);
	}
	if (need_view && !attrs[HVX_EPT_A_VIEW_ID]) {
		NL_SET_ERR_MSG(cb->extack, "View id is required");
		return ERR_PTR(-EINVAL);
	}
	return (struct hvx_ept_vm *)cb->args[0];
}

/* cb->args[1]: next view id. */
static int hvx_ept_nl_view_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hvx_ept_vm *ev = hvx_ept_nl_dump_vm(cb, false);
	unsigned long id = cb->args[1];
	struct hvx_ept_view *view;
	void *hdr;

	if (IS_ERR(ev))
		return PTR_ERR(ev);

	down_read(&ev->lock);
	cb->seq = ev->gen;
	xa_for_each_start(&ev->views, id, view, id) {
		hdr = hvx_ept_put_hdr(skb, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      HVX_EPT_CMD_VIEW_GET);
		if (!hdr)
			break;
		if (hvx_ept_fill_view(skb, ev, view)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		genl_dump_check_consistent(cb, hdr);
	}
	up_read(&ev->lock);
	cb->args[1] = view ? id : ULONG_MAX;
	return skb->len;
}

struct hvx_ept_dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	u32 view_id;
	u64 gpa;
	int level;
};

static int hvx_ept_dump_entry(void *arg, int level, u64 gpa, u64 e)
{
	struct hvx_ept_dump_ctx *c = arg;
	void *hdr;

	hdr = hvx_ept_put_hdr(c->skb, NETLINK_CB(c->cb->skb).portid,
			      c->cb->nlh->nlmsg_seq, NLM_F_MULTI,
			      HVX_EPT_CMD_DUMP);
	if (!hdr)
		goto full;
	if (nla_put_u32(c->skb, HVX_EPT_A_VIEW_ID, c->view_id) ||
	    nla_put_u32(c->skb, HVX_EPT_A_LEVEL, level) ||
	    nla_put_u64_64bit(c->skb, HVX_EPT_A_GPA, gpa, HVX_EPT_A_PAD) ||
	    nla_put_u64_64bit(c->skb, HVX_EPT_A_ENTRY, e, HVX_EPT_A_PAD)) {
		genlmsg_cancel(c->skb, hdr);
		goto full;
	}
	genlmsg_end(c->skb, hdr);
	return 0;
full:
	/* Resume at this entry in the next pass. */
	c->gpa = gpa;
	c->level = level;
	return -EMSGSIZE;
}

static int hvx_ept_nl_ept_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hvx_ept_vm *ev = hvx_ept_nl_dump_vm(cb, true);
	struct hvx_ept_dump_ctx c = { .skb = skb, .cb = cb };
	struct hvx_ept_view *view;
	int ret;

	if (IS_ERR(ev))
		return PTR_ERR(ev);
	if (cb->args[3] == 0)	/* finished in the previous pass */
		return 0;
	c.view_id = nla_get_u32(genl_dumpit_info(cb)->attrs[HVX_EPT_A_VIEW_ID]);
	down_read(&ev->lock);
	view = ev->dead ? NULL : xa_load(&ev->views, c.view_id);
	if (!view) {
		up_read(&ev->lock);
		NL_SET_ERR_MSG(cb->extack, "No view with this id");
		return -ENOENT;
	}
	ret = hvx_ept_iter(&view->ept, cb->args[2], cb->args[3],
			   hvx_ept_dump_entry, &c);
	up_read(&ev->lock);
	if (ret == -EMSGSIZE) {
		cb->args[2] = c.gpa;
		cb->args[3] = c.level;
	} else {
		cb->args[3] = 0;
	}
	return skb->len;
}

static int hvx_ept_nl_map(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct hvx_ept_vm *ev;
	u64 gpa, size;
	u32 perm, kind;
	int ret;

	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_VIEW_ID, "View id is required") ||
	    HVX_EPT_REQUIRE(info, HVX_EPT_A_GPA, "GPA is required") ||
	    HVX_EPT_REQUIRE(info, HVX_EPT_A_SIZE, "Size is required") ||
	    HVX_EPT_REQUIRE(info, HVX_EPT_A_PERM, "Permission is required") ||
	    HVX_EPT_REQUIRE(info, HVX_EPT_A_KIND, "Kind is required"))
		return -EINVAL;
	gpa = nla_get_u64(a[HVX_EPT_A_GPA]);
	size = nla_get_u64(a[HVX_EPT_A_SIZE]);
	perm = nla_get_u32(a[HVX_EPT_A_PERM]);
	kind = nla_get_u32(a[HVX_EPT_A_KIND]);
	if (!PAGE_ALIGNED(gpa)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HVX_EPT_A_GPA],
				    "GPA must be page aligned");
		return -EINVAL;
	}
	if (!size || !PAGE_ALIGNED(size)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HVX_EPT_A_SIZE],
				    "Size must be page aligned and non-zero");
		return -EINVAL;
	}
	if ((perm & (HVX_EPT_PERM_R | HVX_EPT_PERM_W)) == HVX_EPT_PERM_W) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HVX_EPT_A_PERM],
				    "Write without read is an EPT misconfiguration");
		return -EINVAL;
	}
	if (!perm && kind == HVX_EPT_KIND_PRIVATE) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HVX_EPT_A_PERM],
				    "A private range needs some access");
		return -EINVAL;
	}
	ev = hvx_ept_nl_vm(info);
	if (!ev)
		return -ENOENT;
	ret = hvx_ept_view_map(ev, nla_get_u32(a[HVX_EPT_A_VIEW_ID]), gpa,
			       size, perm, kind, info->extack);
	hvx_ept_vm_put(ev);
	return ret;
}

static int hvx_ept_nl_switch(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_ept_vm *ev;
	int ret;

	if (HVX_EPT_REQUIRE(info, HVX_EPT_A_VIEW_ID, "View id is required"))
		return -EINVAL;
	ev = hvx_ept_nl_vm(info);
	if (!ev)
		return -ENOENT;
	ret = hvx_ept_view_switch(ev, nla_get_u32(info->attrs[HVX_EPT_A_VIEW_ID]));
	if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_EPT_A_VIEW_ID],
				    "No view with this id");
	hvx_ept_vm_put(ev);
	return ret;
}

void hvx_ept_nl_violation(struct hvx_ept_vm *ev, u64 gpa, u32 access,
			  u32 perm)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&hvx_ept_family, &init_net,
				HVX_EPT_MCGRP_VIOLATION_ID))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &hvx_ept_family, 0,
			  HVX_EPT_CMD_VIOLATION);
	if (!hdr || nla_put_u32(msg, HVX_EPT_A_VM_ID, ev->id) ||
	    nla_put_u32(msg, HVX_EPT_A_VIEW_ID, ev->active->id) ||
	    nla_put_u64_64bit(msg, HVX_EPT_A_GPA, gpa, HVX_EPT_A_PAD) ||
	    nla_put_u32(msg, HVX_EPT_A_ACCESS, access) ||
	    nla_put_u32(msg, HVX_EPT_A_PERM, perm) ||
	    nla_put_u32(msg, HVX_EPT_A_PID, task_tgid_nr(current))) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&hvx_ept_family, msg, 0, HVX_EPT_MCGRP_VIOLATION_ID,
			  GFP_KERNEL);
}

static const struct genl_ops hvx_ept_ops[] = {
	{
		.cmd = HVX_EPT_CMD_VM_NEW,
		.doit = hvx_ept_nl_vm_new,
		.policy = hvx_ept_vm_new_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_VM_DEL,
		.doit = hvx_ept_nl_vm_del,
		.policy = hvx_ept_vm_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_VM_GET,
		.doit = hvx_ept_nl_vm_get,
		.dumpit = hvx_ept_nl_vm_dump,
		.policy = hvx_ept_vm_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_VIEW_NEW,
		.doit = hvx_ept_nl_view_new,
		.policy = hvx_ept_vm_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_VIEW_DEL,
		.doit = hvx_ept_nl_view_del,
		.policy = hvx_ept_view_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_VIEW_GET,
		.doit = hvx_ept_nl_view_get,
		.start = hvx_ept_nl_dump_start,
		.dumpit = hvx_ept_nl_view_dump,
		.done = hvx_ept_nl_dump_done,
		.policy = hvx_ept_view_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_MAP,
		.doit = hvx_ept_nl_map,
		.policy = hvx_ept_map_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_SWITCH,
		.doit = hvx_ept_nl_switch,
		.policy = hvx_ept_view_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HVX_EPT_CMD_DUMP,
		.start = hvx_ept_nl_dump_start,
		.dumpit = hvx_ept_nl_ept_dump,
		.done = hvx_ept_nl_dump_done,
		.policy = hvx_ept_view_policy,
		.maxattr = HVX_EPT_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group hvx_ept_mcgrps[] = {
	/* Open to all, as hvx's events: reports carry addresses, no data. */
	[HVX_EPT_MCGRP_VIOLATION_ID] = { .name = HVX_EPT_MCGRP_VIOLATION },
};

static struct genl_family hvx_ept_family __ro_after_init = {
	.name = HVX_EPT_GENL_NAME,
	.version = HVX_EPT_GENL_VERSION,
	.maxattr = HVX_EPT_A_MAX,
	.module = THIS_MODULE,
	.parallel_ops = true,
	.resv_start_op = HVX_EPT_CMD_VM_NEW,
	.ops = hvx_ept_ops,
	.n_ops = ARRAY_SIZE(hvx_ept_ops),
	.mcgrps = hvx_ept_mcgrps,
	.n_mcgrps = ARRAY_SIZE(hvx_ept_mcgrps),
};

int hvx_ept_nl_init(void)
{
	return genl_register_family(&hvx_ept_family);
}

void hvx_ept_nl_exit(void)
{
	genl_unregister_family(&hvx_ept_family);
}
