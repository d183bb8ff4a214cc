/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_ept family messages as JSON, for hvxctl (ept object, monitor) and
 * hvxd alike. EPT entries and the EPTP are decoded in SDM terms.
 */
#ifndef HVX_EPT_MSG_H
#define HVX_EPT_MSG_H

#include <stdint.h>
#include <json-c/json.h>
#include <linux/netlink.h>

/* "violation", "vm-get"... (the YNL op names), or NULL. */
const char *hvx_ept_cmd_name(unsigned int cmd);
/* "rwx", "r--", "---" in @buf (4 bytes). */
const char *hvx_ept_perm_str(uint32_t perm, char *buf);
/* Parse "rwx", "r", "rw", "rx", "x", "none"... into perm bits, or -EINVAL. */
int hvx_ept_perm_parse(const char *s);
/* "WB", "UC"...; "reserved" for the reserved encodings. */
const char *hvx_ept_memtype_name(unsigned int mt);

/*
 * Each returns a JSON object, or NULL with -errno in *err for a malformed
 * message: vm (vm_id, mem_size, nr_views, active_view), view (vm_id,
 * view_id, eptp{}, active, private_pages, ranges[]), entry (level, table,
 * gpa, raw, perm, ... in SDM terms), violation (vm_id, view_id, gpa,
 * access, perm, pid).
 */
struct json_object *hvx_ept_vm_json(struct nlmsghdr *nlh, int *err);
struct json_object *hvx_ept_view_json(struct nlmsghdr *nlh, int *err);
struct json_object *hvx_ept_entry_json(struct nlmsghdr *nlh, int *err);
struct json_object *hvx_ept_violation_json(struct nlmsghdr *nlh, int *err);
/* The EPTP fields: raw, pml4, memtype, walk_length, ad. */
struct json_object *hvx_ept_eptp_json(uint64_t eptp);

#endif /* HVX_EPT_MSG_H */
