/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_core internals shared by its files; feature modules see only
 * kmod/include/hvx_core.h.
 */
#ifndef _HVX_CORE_PRIV_H
#define _HVX_CORE_PRIV_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/uidgid.h>
#include <linux/hvx.h>

struct hvx_mem_region {
	u64 gpa;
	u64 size;
	u64 uaddr;
};

struct hvx_vm {
	struct kref ref;
	struct rcu_head rcu;
	u32 id;
	/* Set under hvx_vms_lock; read locklessly (READ_ONCE) elsewhere. */
	u32 state;
	bool dead;
	char name[HVX_VM_NAME_MAX];
	struct pid *owner;
	kuid_t owner_uid;

	/*
	 * Guest memory: regions sorted by gpa, and the VMM address space they
	 * point into. mem_lock is taken after hvx_vms_lock and before the
	 * VMM's mmap_lock.
	 */
	struct rw_semaphore mem_lock;
	struct mm_struct *mm;
	struct pid *mem_pid;
	unsigned int nr_mem;
	struct hvx_mem_region mem[HVX_VM_MEM_MAX];
};

/*
 * Serializes registry changes (create, destroy, state, regions) and name
 * uniqueness; dumps hold it to walk the registry against a stable generation.
 */
extern struct mutex hvx_vms_lock;
extern u32 hvx_vms_gen;

void hvx_vms_changed(void);
struct hvx_vm *hvx_vm_create(const char *name);
int hvx_vm_destroy(struct hvx_vm *vm);
void hvx_vm_destroy_all(void);
int hvx_vm_set_state(struct hvx_vm *vm, u32 state);
struct hvx_vm *hvx_vm_get_by_name(const char *name);
struct hvx_vm *hvx_vm_next(unsigned long *id);
u32 hvx_vm_users(const struct hvx_vm *vm);
int hvx_vm_init(void);
void hvx_vm_exit(void);

int hvx_mem_add(struct hvx_vm *vm, const struct hvx_mem_region *r,
		struct netlink_ext_ack *extack);
int hvx_mem_del(struct hvx_vm *vm, u64 gpa, struct netlink_ext_ack *extack);
void hvx_mem_release(struct hvx_vm *vm);

int hvx_nl_init(void);
void hvx_nl_exit(void);

#endif /* _HVX_CORE_PRIV_H */
