// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <linux/hvx.h>

#include "hvx_json.h"
#include "hvx_nl.h"
#include "hvx_vm.h"

static const char *const states[] = {
	[HVX_VM_STATE_CREATED] = "created",
	[HVX_VM_STATE_RUNNING] = "running",
	[HVX_VM_STATE_PAUSED] = "paused",
	[HVX_VM_STATE_MIGRATING] = "migrating",
};

static const char *const cmds[] = {
	[HVX_CMD_VM_NEW] = "vm-new",
	[HVX_CMD_VM_DEL] = "vm-del",
	[HVX_CMD_VM_GET] = "vm-get",
	[HVX_CMD_VM_SET] = "vm-set",
	[HVX_CMD_MEM_ADD] = "mem-add",
	[HVX_CMD_MEM_DEL] = "mem-del",
};

const char *hvx_vm_state_name(unsigned int state)
{
	return state < sizeof(states) / sizeof(states[0]) ? states[state] : NULL;
}

int hvx_vm_state_parse(const char *name)
{
	for (unsigned int i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(name, states[i]))
			return i;
	return -EINVAL;
}

const char *hvx_vm_cmd_name(unsigned int cmd)
{
	return cmd < sizeof(cmds) / sizeof(cmds[0]) ? cmds[cmd] : NULL;
}

static const struct nla_policy vm_policy[HVX_A_VM_MAX + 1] = {
	[HVX_A_VM_ID] = { .type = NLA_U32 },
	[HVX_A_VM_NAME] = { .type = NLA_NUL_STRING, .maxlen = HVX_VM_NAME_MAX },
	[HVX_A_VM_OWNER_PID] = { .type = NLA_U32 },
	[HVX_A_VM_OWNER_UID] = { .type = NLA_U32 },
	[HVX_A_VM_STATE] = { .type = NLA_U32 },
	[HVX_A_VM_MEM] = { .type = NLA_NESTED },
	[HVX_A_VM_MEM_PID] = { .type = NLA_U32 },
	[HVX_A_VM_USERS] = { .type = NLA_U32 },
};

static const struct nla_policy mem_policy[HVX_A_MEM_MAX + 1] = {
	[HVX_A_MEM_GPA] = { .type = NLA_U64 },
	[HVX_A_MEM_SIZE] = { .type = NLA_U64 },
	[HVX_A_MEM_UADDR] = { .type = NLA_U64 },
};

static int add_u32(struct json_object *o, const char *key, struct nlattr *a)
{
	return a ? hvx_json_add_u64(o, key, nla_get_u32(a)) : 0;
}

static int add_mem(struct json_object *vm, struct nlmsghdr *nlh)
{
	struct json_object *arr = json_object_new_array();
	struct nlattr *a, *tb[HVX_A_MEM_MAX + 1];
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	int rem, ret;

	if (!arr)
		return -ENOMEM;
	nla_for_each_attr(a, (struct nlattr *)((char *)g + GENL_HDRLEN),
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		struct json_object *m;

		if (nla_type(a) != HVX_A_VM_MEM)
			continue;
		ret = nla_parse_nested(tb, HVX_A_MEM_MAX, a,
				       (struct nla_policy *)mem_policy);
		if (ret < 0 || !tb[HVX_A_MEM_GPA] || !tb[HVX_A_MEM_SIZE]) {
			ret = -EBADMSG;
			goto err;
		}
		m = json_object_new_object();
		if (!m || json_object_array_add(arr, m)) {
			json_object_put(m);
			ret = -ENOMEM;
			goto err;
		}
		ret = hvx_json_add_u64(m, "gpa", nla_get_u64(tb[HVX_A_MEM_GPA]));
		if (!ret)
			ret = hvx_json_add_u64(m, "size",
					       nla_get_u64(tb[HVX_A_MEM_SIZE]));
		if (!ret && tb[HVX_A_MEM_UADDR])
			ret = hvx_json_add_u64(m, "uaddr",
					       nla_get_u64(tb[HVX_A_MEM_UADDR]));
		if (ret)
			goto err;
	}
	return hvx_json_add(vm, "mem", arr);
err:
	json_object_put(arr);
	return ret;
}

struct json_object *hvx_vm_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_A_VM_MAX + 1];
	struct json_object *o;
	const char *state;
	int ret;

	ret = hvx_nl_parse(nlh, HVX_A_VM_MAX, vm_policy, tb);
	if (ret)
		goto err;
	ret = -EBADMSG;
	if (!tb[HVX_A_VM_ID] || !tb[HVX_A_VM_NAME])
		goto err;
	ret = -ENOMEM;
	o = json_object_new_object();
	if (!o)
		goto err;
	ret = hvx_json_add_u64(o, "id", nla_get_u32(tb[HVX_A_VM_ID]));
	if (!ret)
		ret = hvx_json_add_str(o, "name", nla_get_string(tb[HVX_A_VM_NAME]));
	if (!ret && tb[HVX_A_VM_STATE]) {
		state = hvx_vm_state_name(nla_get_u32(tb[HVX_A_VM_STATE]));
		ret = hvx_json_add_str(o, "state", state ? state : "unknown");
	}
	if (!ret)
		ret = add_u32(o, "owner_pid", tb[HVX_A_VM_OWNER_PID]);
	if (!ret)
		ret = add_u32(o, "owner_uid", tb[HVX_A_VM_OWNER_UID]);
	if (!ret)
		ret = add_u32(o, "users", tb[HVX_A_VM_USERS]);
	if (!ret)
		ret = add_u32(o, "mem_pid", tb[HVX_A_VM_MEM_PID]);
	if (!ret)
		ret = add_mem(o, nlh);
	if (ret) {
		json_object_put(o);
		goto err;
	}
	return o;
err:
	*err = ret;
	return NULL;
}
