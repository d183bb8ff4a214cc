/* SPDX-License-Identifier: GPL-2.0 */
/* hvx core family messages as JSON, for hvxctl and hvxd alike. */
#ifndef HVX_VM_H
#define HVX_VM_H

#include <json-c/json.h>
#include <linux/netlink.h>

/* "created", "running"...; NULL for a state this build does not know. */
const char *hvx_vm_state_name(unsigned int state);
/* The enum hvx_vm_state value, or -EINVAL. */
int hvx_vm_state_parse(const char *name);
/* "vm-new", "vm-del", "vm-set", "vm-get" (the YNL op names), or NULL. */
const char *hvx_vm_cmd_name(unsigned int cmd);

/*
 * A VM message (reply or event) as a JSON object: id, name, owner_pid,
 * owner_uid, state, users, and mem_pid + mem[] when regions exist.
 * NULL with -errno in *err for a malformed message.
 */
struct json_object *hvx_vm_json(struct nlmsghdr *nlh, int *err);

#endif /* HVX_VM_H */
