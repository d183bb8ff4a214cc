// SPDX-License-Identifier: GPL-2.0
/*
 * VM registry and lifetime.
 *
 * The xarray holds one reference on every published VM. Destroying a VM
 * unpublishes it, tells the notifier chain, drops its guest memory and puts
 * the registry's reference; the struct lives on until the last holder puts
 * its own. Lookups run under RCU, so the struct is freed after a grace period.
 *
 * Changes come from the genl ops, which genl_mutex serializes (the family is
 * not parallel_ops), and from module exit after the family is gone; so
 * notifications go out in the order the changes were made although they run
 * with no hvx_core lock held.
 */
#include <linux/debugfs.h>
#include <linux/notifier.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <net/netlink.h>

#include <hvx_core.h>
#include "hvx_core_priv.h"

static DEFINE_XARRAY_ALLOC1(hvx_vms);
static u32 hvx_vms_next_id;
/* Registry changes; see hvx_core_priv.h. */
DEFINE_MUTEX(hvx_vms_lock);
/* Never 0: nl_dump_check_consistent() treats a zero sequence as unset. */
u32 hvx_vms_gen = 1;

static BLOCKING_NOTIFIER_HEAD(hvx_vm_chain);

/* VM structs alive, published or not: lets tests see the last put free one. */
static atomic_t hvx_vm_objects = ATOMIC_INIT(0);
static struct dentry *hvx_debugfs;

void hvx_vms_changed(void)
{
	lockdep_assert_held(&hvx_vms_lock);
	if (!++hvx_vms_gen)
		hvx_vms_gen = 1;
}

static void hvx_vm_release(struct kref *ref)
{
	struct hvx_vm *vm = container_of(ref, struct hvx_vm, ref);

	/* Guest memory went at destroy; a never-published VM has none. */
	WARN_ON(vm->mm);
	put_pid(vm->owner);
	atomic_dec(&hvx_vm_objects);
	kfree_rcu(vm, rcu);
}

struct hvx_vm *hvx_vm_get(u32 id)
{
	struct hvx_vm *vm;

	rcu_read_lock();
	vm = xa_load(&hvx_vms, id);
	if (vm && !kref_get_unless_zero(&vm->ref))
		vm = NULL;
	rcu_read_unlock();
	return vm;
}
EXPORT_SYMBOL_GPL(hvx_vm_get);

void hvx_vm_hold(struct hvx_vm *vm)
{
	kref_get(&vm->ref);
}
EXPORT_SYMBOL_GPL(hvx_vm_hold);

void hvx_vm_put(struct hvx_vm *vm)
{
	if (vm)
		kref_put(&vm->ref, hvx_vm_release);
}
EXPORT_SYMBOL_GPL(hvx_vm_put);

struct hvx_vm *hvx_vm_get_attr(const struct nlattr *attr,
			       struct netlink_ext_ack *extack)
{
	struct hvx_vm *vm;

	if (!attr) {
		NL_SET_ERR_MSG(extack, "VM id is required");
		return NULL;
	}
	if (nla_len(attr) != sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "VM id must be a u32");
		return NULL;
	}
	vm = hvx_vm_get(nla_get_u32(attr));
	if (!vm)
		NL_SET_ERR_MSG_ATTR(extack, attr, "No VM with this id");
	return vm;
}
EXPORT_SYMBOL_GPL(hvx_vm_get_attr);

u32 hvx_vm_id(const struct hvx_vm *vm)
{
	return vm->id;
}
EXPORT_SYMBOL_GPL(hvx_vm_id);

bool hvx_vm_dead(const struct hvx_vm *vm)
{
	return READ_ONCE(vm->dead);
}
EXPORT_SYMBOL_GPL(hvx_vm_dead);

int hvx_vm_register_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&hvx_vm_chain, nb);
}
EXPORT_SYMBOL_GPL(hvx_vm_register_notifier);

int hvx_vm_unregister_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&hvx_vm_chain, nb);
}
EXPORT_SYMBOL_GPL(hvx_vm_unregister_notifier);

static void hvx_vm_notify(struct hvx_vm *vm, enum hvx_vm_event event)
{
	might_sleep();
	blocking_notifier_call_chain(&hvx_vm_chain, event, vm);
}

/* References on vm other than the registry's. */
u32 hvx_vm_users(const struct hvx_vm *vm)
{
	unsigned int refs = kref_read(&vm->ref);

	return READ_ONCE(vm->dead) ? refs : refs - 1;
}

static bool hvx_vm_name_taken(const char *name)
{
	struct hvx_vm *vm;
	unsigned long id;

	lockdep_assert_held(&hvx_vms_lock);
	xa_for_each(&hvx_vms, id, vm)
		if (!strcmp(vm->name, name))
			return true;
	return false;
}

/*
 * Returns the new VM with a reference for the caller, ERR_PTR(-EEXIST) for a
 * name in use, ERR_PTR(-EBUSY) when ids are exhausted.
 */
struct hvx_vm *hvx_vm_create(const char *name)
{
	struct hvx_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	kref_init(&vm->ref);
	init_rwsem(&vm->mem_lock);
	strscpy(vm->name, name, sizeof(vm->name));
	vm->state = HVX_VM_STATE_CREATED;
	vm->owner = get_task_pid(current, PIDTYPE_TGID);
	vm->owner_uid = current_uid();
	atomic_inc(&hvx_vm_objects);

	mutex_lock(&hvx_vms_lock);
	if (hvx_vm_name_taken(name)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	ret = xa_alloc_cyclic(&hvx_vms, &vm->id, vm, xa_limit_31b,
			      &hvx_vms_next_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_unlock;
	/* The registry's reference; the caller keeps the initial one. */
	kref_get(&vm->ref);
	hvx_vms_changed();
	mutex_unlock(&hvx_vms_lock);

	hvx_vm_notify(vm, HVX_VM_EVENT_NEW);
	return vm;

err_unlock:
	mutex_unlock(&hvx_vms_lock);
	hvx_vm_put(vm);
	return ERR_PTR(ret);
}

/* Returns -ENOENT if someone else destroyed the VM first. */
int hvx_vm_destroy(struct hvx_vm *vm)
{
	mutex_lock(&hvx_vms_lock);
	if (vm->dead) {
		mutex_unlock(&hvx_vms_lock);
		return -ENOENT;
	}
	xa_erase(&hvx_vms, vm->id);
	WRITE_ONCE(vm->dead, true);
	hvx_vms_changed();
	mutex_unlock(&hvx_vms_lock);

	hvx_vm_notify(vm, HVX_VM_EVENT_DEL);
	hvx_mem_release(vm);
	hvx_vm_put(vm);
	return 0;
}

/* Module exit: the genl family is gone, so nothing races with this. */
void hvx_vm_destroy_all(void)
{
	struct hvx_vm *vm;
	unsigned long id;

	xa_for_each(&hvx_vms, id, vm)
		hvx_vm_destroy(vm);
}

int hvx_vm_set_state(struct hvx_vm *vm, u32 state)
{
	mutex_lock(&hvx_vms_lock);
	if (vm->dead) {
		mutex_unlock(&hvx_vms_lock);
		return -ENOENT;
	}
	if (vm->state == state) {
		mutex_unlock(&hvx_vms_lock);
		return 0;
	}
	WRITE_ONCE(vm->state, state);
	hvx_vms_changed();
	mutex_unlock(&hvx_vms_lock);

	hvx_vm_notify(vm, HVX_VM_EVENT_STATE);
	return 0;
}

struct hvx_vm *hvx_vm_get_by_name(const char *name)
{
	struct hvx_vm *vm;
	unsigned long id;

	mutex_lock(&hvx_vms_lock);
	xa_for_each(&hvx_vms, id, vm) {
		if (!strcmp(vm->name, name)) {
			kref_get(&vm->ref);
			mutex_unlock(&hvx_vms_lock);
			return vm;
		}
	}
	mutex_unlock(&hvx_vms_lock);
	return NULL;
}

/* First VM with an id >= *id, for dumps; no reference, hvx_vms_lock held. */
struct hvx_vm *hvx_vm_next(unsigned long *id)
{
	lockdep_assert_held(&hvx_vms_lock);
	return xa_find(&hvx_vms, id, ULONG_MAX, XA_PRESENT);
}

int hvx_vm_init(void)
{
	/* debugfs is a debugging aid: its failure must not stop the module. */
	hvx_debugfs = debugfs_create_dir("hvx_core", NULL);
	debugfs_create_atomic_t("vm_objects", 0400, hvx_debugfs,
				&hvx_vm_objects);
	return 0;
}

void hvx_vm_exit(void)
{
	hvx_vm_destroy_all();
	WARN_ON(!xa_empty(&hvx_vms));
	xa_destroy(&hvx_vms);
	debugfs_remove_recursive(hvx_debugfs);
}
