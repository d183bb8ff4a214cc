// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <linux/hvx_ept.h>

#include "hvx_ept_msg.h"
#include "hvx_json.h"
#include "hvx_nl.h"

static const char *const cmds[] = {
	[HVX_EPT_CMD_VM_NEW] = "vm-new",
	[HVX_EPT_CMD_VM_DEL] = "vm-del",
	[HVX_EPT_CMD_VM_GET] = "vm-get",
	[HVX_EPT_CMD_VIEW_NEW] = "view-new",
	[HVX_EPT_CMD_VIEW_DEL] = "view-del",
	[HVX_EPT_CMD_VIEW_GET] = "view-get",
	[HVX_EPT_CMD_MAP] = "map",
	[HVX_EPT_CMD_SWITCH] = "switch",
	[HVX_EPT_CMD_DUMP] = "dump",
	[HVX_EPT_CMD_VIOLATION] = "violation",
};

const char *hvx_ept_cmd_name(unsigned int cmd)
{
	return cmd < sizeof(cmds) / sizeof(cmds[0]) ? cmds[cmd] : NULL;
}

const char *hvx_ept_perm_str(uint32_t perm, char *buf)
{
	buf[0] = perm & HVX_EPT_PERM_R ? 'r' : '-';
	buf[1] = perm & HVX_EPT_PERM_W ? 'w' : '-';
	buf[2] = perm & HVX_EPT_PERM_X ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

int hvx_ept_perm_parse(const char *s)
{
	int perm = 0;

	if (!strcmp(s, "none"))
		return 0;
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int bit = *s == 'r' ? HVX_EPT_PERM_R :
			  *s == 'w' ? HVX_EPT_PERM_W :
			  *s == 'x' ? HVX_EPT_PERM_X : 0;

		if (!bit || (perm & bit))
			return -EINVAL;
		perm |= bit;
	}
	return perm;
}

const char *hvx_ept_memtype_name(unsigned int mt)
{
	switch (mt) {
	case HVX_EPT_MT_UC: return "UC";
	case HVX_EPT_MT_WC: return "WC";
	case HVX_EPT_MT_WT: return "WT";
	case HVX_EPT_MT_WP: return "WP";
	case HVX_EPT_MT_WB: return "WB";
	default: return "reserved";
	}
}

static const struct nla_policy ept_policy[HVX_EPT_A_MAX + 1] = {
	[HVX_EPT_A_VM_ID] = { .type = NLA_U32 },
	[HVX_EPT_A_VIEW_ID] = { .type = NLA_U32 },
	[HVX_EPT_A_MEM_SIZE] = { .type = NLA_U64 },
	[HVX_EPT_A_GPA] = { .type = NLA_U64 },
	[HVX_EPT_A_SIZE] = { .type = NLA_U64 },
	[HVX_EPT_A_PERM] = { .type = NLA_U32 },
	[HVX_EPT_A_KIND] = { .type = NLA_U32 },
	[HVX_EPT_A_ACTIVE_VIEW] = { .type = NLA_U32 },
	[HVX_EPT_A_NR_VIEWS] = { .type = NLA_U32 },
	[HVX_EPT_A_EPTP] = { .type = NLA_U64 },
	[HVX_EPT_A_ACTIVE] = { .type = NLA_FLAG },
	[HVX_EPT_A_RANGE] = { .type = NLA_NESTED },
	[HVX_EPT_A_LEVEL] = { .type = NLA_U32 },
	[HVX_EPT_A_ENTRY] = { .type = NLA_U64 },
	[HVX_EPT_A_ACCESS] = { .type = NLA_U32 },
	[HVX_EPT_A_PID] = { .type = NLA_U32 },
	[HVX_EPT_A_PRIVATE_PAGES] = { .type = NLA_U64 },
};

static int add_u32(struct json_object *o, const char *key, struct nlattr *a)
{
	return a ? hvx_json_add_u64(o, key, nla_get_u32(a)) : 0;
}

static int add_u64(struct json_object *o, const char *key, struct nlattr *a)
{
	return a ? hvx_json_add_u64(o, key, nla_get_u64(a)) : 0;
}

static int add_perm(struct json_object *o, const char *key, struct nlattr *a)
{
	char buf[4];

	return a ? hvx_json_add_str(o, key, hvx_ept_perm_str(nla_get_u32(a), buf)) : 0;
}

/* Parse @nlh and require @need (a mask of attribute types). */
static struct json_object *start(struct nlmsghdr *nlh, struct nlattr **tb,
				 uint64_t need, int *err)
{
	struct json_object *o;
	int i;

	*err = hvx_nl_parse(nlh, HVX_EPT_A_MAX, (struct nla_policy *)ept_policy, tb);
	if (*err)
		return NULL;
	for (i = 0; i <= HVX_EPT_A_MAX; i++) {
		if ((need & (1ULL << i)) && !tb[i]) {
			*err = -EBADMSG;
			return NULL;
		}
	}
	o = json_object_new_object();
	if (!o)
		*err = -ENOMEM;
	return o;
}

static struct json_object *finish(struct json_object *o, int ret, int *err)
{
	if (ret) {
		json_object_put(o);
		*err = ret;
		return NULL;
	}
	return o;
}

struct json_object *hvx_ept_vm_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct json_object *o;
	int ret;

	o = start(nlh, tb, 1ULL << HVX_EPT_A_VM_ID | 1ULL << HVX_EPT_A_MEM_SIZE,
		  err);
	if (!o)
		return NULL;
	ret = add_u32(o, "vm_id", tb[HVX_EPT_A_VM_ID]) ?:
	      add_u64(o, "mem_size", tb[HVX_EPT_A_MEM_SIZE]) ?:
	      add_u32(o, "nr_views", tb[HVX_EPT_A_NR_VIEWS]) ?:
	      add_u32(o, "active_view", tb[HVX_EPT_A_ACTIVE_VIEW]);
	return finish(o, ret, err);
}

struct json_object *hvx_ept_eptp_json(uint64_t eptp)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (hvx_json_add_u64(o, "raw", eptp) ||
	    hvx_json_add_u64(o, "pml4", eptp & HVX_EPTP_ADDR_MASK) ||
	    hvx_json_add_str(o, "memtype",
			     hvx_ept_memtype_name(eptp & HVX_EPTP_MT_MASK)) ||
	    hvx_json_add_u64(o, "walk_length",
			     ((eptp & HVX_EPTP_PWL_MASK) >> HVX_EPTP_PWL_SHIFT) + 1) ||
	    hvx_json_add_bool(o, "ad", eptp & HVX_EPTP_AD)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const struct nla_policy range_policy[HVX_EPT_A_MAX + 1] = {
	[HVX_EPT_A_GPA] = { .type = NLA_U64 },
	[HVX_EPT_A_SIZE] = { .type = NLA_U64 },
	[HVX_EPT_A_PERM] = { .type = NLA_U32 },
	[HVX_EPT_A_KIND] = { .type = NLA_U32 },
};

static int add_ranges(struct json_object *view, struct nlmsghdr *nlh)
{
	struct json_object *arr = json_object_new_array();
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct nlattr *a;
	int rem, ret;

	if (!arr)
		return -ENOMEM;
	nla_for_each_attr(a, (struct nlattr *)((char *)g + GENL_HDRLEN),
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		struct nlattr *tb[HVX_EPT_A_MAX + 1];
		struct json_object *r;
		uint32_t kind;

		if (nla_type(a) != HVX_EPT_A_RANGE)
			continue;
		ret = nla_parse_nested(tb, HVX_EPT_A_MAX, a,
				       (struct nla_policy *)range_policy);
		if (ret || !tb[HVX_EPT_A_GPA] || !tb[HVX_EPT_A_SIZE] ||
		    !tb[HVX_EPT_A_PERM] || !tb[HVX_EPT_A_KIND]) {
			json_object_put(arr);
			return -EBADMSG;
		}
		kind = nla_get_u32(tb[HVX_EPT_A_KIND]);
		r = json_object_new_object();
		ret = !r ? -ENOMEM :
		      add_u64(r, "gpa", tb[HVX_EPT_A_GPA]) ?:
		      add_u64(r, "size", tb[HVX_EPT_A_SIZE]) ?:
		      add_perm(r, "perm", tb[HVX_EPT_A_PERM]) ?:
		      hvx_json_add_str(r, "kind", kind == HVX_EPT_KIND_PRIVATE ?
				       "private" : "shared") ?:
		      (json_object_array_add(arr, r) ? -ENOMEM : 0);
		if (ret) {
			json_object_put(r);
			json_object_put(arr);
			return ret;
		}
	}
	return hvx_json_add(view, "ranges", arr);
}

struct json_object *hvx_ept_view_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct json_object *o, *eptp;
	int ret;

	o = start(nlh, tb, 1ULL << HVX_EPT_A_VM_ID | 1ULL << HVX_EPT_A_VIEW_ID |
		  1ULL << HVX_EPT_A_EPTP, err);
	if (!o)
		return NULL;
	eptp = hvx_ept_eptp_json(nla_get_u64(tb[HVX_EPT_A_EPTP]));
	ret = add_u32(o, "vm_id", tb[HVX_EPT_A_VM_ID]) ?:
	      add_u32(o, "view_id", tb[HVX_EPT_A_VIEW_ID]) ?:
	      hvx_json_add_bool(o, "active", tb[HVX_EPT_A_ACTIVE]) ?:
	      (eptp ? hvx_json_add(o, "eptp", eptp) : -ENOMEM) ?:
	      add_u64(o, "private_pages", tb[HVX_EPT_A_PRIVATE_PAGES]) ?:
	      add_ranges(o, nlh);
	return finish(o, ret, err);
}

static const char *const table_names[] = {
	[4] = "PML4E", [3] = "PDPTE", [2] = "PDE", [1] = "PTE",
};

struct json_object *hvx_ept_entry_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct json_object *o;
	uint64_t e;
	uint32_t level;
	bool leaf;
	char perm[4];
	int ret;

	o = start(nlh, tb, 1ULL << HVX_EPT_A_LEVEL | 1ULL << HVX_EPT_A_GPA |
		  1ULL << HVX_EPT_A_ENTRY, err);
	if (!o)
		return NULL;
	level = nla_get_u32(tb[HVX_EPT_A_LEVEL]);
	e = nla_get_u64(tb[HVX_EPT_A_ENTRY]);
	if (level < 1 || level > HVX_EPT_LEVELS)
		return finish(o, -EBADMSG, err);
	leaf = level == 1 || (level <= 3 && (e & HVX_EPT_E_LARGE));
	ret = hvx_json_add_u64(o, "level", level) ?:
	      hvx_json_add_str(o, "table", table_names[level]) ?:
	      add_u64(o, "gpa", tb[HVX_EPT_A_GPA]) ?:
	      hvx_json_add_u64(o, "raw", e) ?:
	      hvx_json_add_str(o, "perm", hvx_ept_perm_str(e & HVX_EPT_E_PERM_MASK, perm)) ?:
	      hvx_json_add_bool(o, "accessed", e & HVX_EPT_E_ACCESSED) ?:
	      hvx_json_add_bool(o, "leaf", leaf);
	if (!ret && leaf) {
		/* A leaf's address keeps only the bits above its page size. */
		uint64_t size = 1ULL << (12 + 9 * (level - 1));

		ret = hvx_json_add_u64(o, "page_size", size) ?:
		      hvx_json_add_u64(o, "hpa", e & HVX_EPT_E_ADDR_MASK & ~(size - 1)) ?:
		      hvx_json_add_str(o, "memtype", hvx_ept_memtype_name(
				(e & HVX_EPT_E_MT_MASK) >> HVX_EPT_E_MT_SHIFT)) ?:
		      hvx_json_add_bool(o, "ignore_pat", e & HVX_EPT_E_IPAT) ?:
		      hvx_json_add_bool(o, "dirty", e & HVX_EPT_E_DIRTY) ?:
		      hvx_json_add_bool(o, "private", e & HVX_EPT_E_SW_PRIVATE);
	} else if (!ret) {
		ret = hvx_json_add_u64(o, "next_table", e & HVX_EPT_E_ADDR_MASK);
	}
	return finish(o, ret, err);
}

struct json_object *hvx_ept_violation_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct json_object *o;
	int ret;

	o = start(nlh, tb, 1ULL << HVX_EPT_A_VM_ID | 1ULL << HVX_EPT_A_GPA |
		  1ULL << HVX_EPT_A_ACCESS, err);
	if (!o)
		return NULL;
	ret = add_u32(o, "vm_id", tb[HVX_EPT_A_VM_ID]) ?:
	      add_u32(o, "view_id", tb[HVX_EPT_A_VIEW_ID]) ?:
	      add_u64(o, "gpa", tb[HVX_EPT_A_GPA]) ?:
	      add_perm(o, "access", tb[HVX_EPT_A_ACCESS]) ?:
	      add_perm(o, "perm", tb[HVX_EPT_A_PERM]) ?:
	      add_u32(o, "pid", tb[HVX_EPT_A_PID]);
	return finish(o, ret, err);
}
