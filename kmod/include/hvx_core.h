/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hvx_core offers the feature modules (hvx_iommu, hvx_ept, hvx_poll...).
 * Feature modules depend on hvx_core only, never on each other.
 */
#ifndef _HVX_CORE_H
#define _HVX_CORE_H

#include <linux/types.h>
#include <linux/notifier.h>

struct hvx_vm;
struct nlattr;
struct netlink_ext_ack;

/*
 * Every lookup returns a reference that the caller drops with hvx_vm_put().
 * A destroyed VM is unpublished at once (lookups fail) but its memory lives
 * until the last reference is gone.
 */
struct hvx_vm *hvx_vm_get(u32 id);
void hvx_vm_hold(struct hvx_vm *vm);
void hvx_vm_put(struct hvx_vm *vm);

/*
 * Resolve a HVX_A_VM_ID-style u32 attribute. Returns a reference, or NULL
 * with an extack message when the attribute is absent, not a u32 or names no
 * live VM (callers answer -ENOENT, or -EINVAL for an absent attribute).
 */
struct hvx_vm *hvx_vm_get_attr(const struct nlattr *attr,
			       struct netlink_ext_ack *extack);

u32 hvx_vm_id(const struct hvx_vm *vm);
bool hvx_vm_dead(const struct hvx_vm *vm);

/*
 * Copy to or from guest-physical memory through the regions the VMM
 * registered. May sleep; usable from kthreads and workqueues (the VMM's mm
 * is reached with mmget_not_zero). Returns 0, -EFAULT for an address no
 * region covers (or a page the VMM cannot access that way), or -ESRCH once
 * the VM is destroyed or the VMM's address space is gone.
 */
int hvx_vm_read_gpa(struct hvx_vm *vm, u64 gpa, void *buf, size_t len);
int hvx_vm_write_gpa(struct hvx_vm *vm, u64 gpa, const void *buf, size_t len);

/*
 * VM lifetime events, delivered in process context with no hvx_core lock
 * held, in the order the changes happened; the data pointer is the struct
 * hvx_vm. NEW and STATE come for a published VM. On HVX_VM_EVENT_DEL the VM
 * is already unpublished: drop every per-VM object and reference taken on
 * it; its guest memory goes right after the chain returns.
 */
enum hvx_vm_event {
	HVX_VM_EVENT_NEW,
	HVX_VM_EVENT_DEL,
	HVX_VM_EVENT_STATE,
};

int hvx_vm_register_notifier(struct notifier_block *nb);
int hvx_vm_unregister_notifier(struct notifier_block *nb);

#endif /* _HVX_CORE_H */
