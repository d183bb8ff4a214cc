// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: the regions a VMM registers (guest-physical range -> VMM
 * virtual address, as KVM memslots do) and access to them from any sleeping
 * kernel context.
 *
 * The first region binds the VM to the registering process's mm (mmgrab
 * keeps the struct, not the address space); later changes must come from
 * that same mm. Workers reach it with mmget_not_zero() and
 * get_user_pages_remote(), so an exited VMM reads as -ESRCH, never as a
 * use-after-free. access_remote_vm() would do, but 6.1 does not export it.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include <net/netlink.h>

#include <hvx_core.h>
#include "hvx_core_priv.h"

static bool hvx_mem_overlaps(const struct hvx_mem_region *a,
			     const struct hvx_mem_region *b)
{
	return a->gpa < b->gpa + b->size && b->gpa < a->gpa + a->size;
}

static void hvx_mem_unbind(struct hvx_vm *vm)
{
	lockdep_assert_held_write(&vm->mem_lock);
	vm->nr_mem = 0;
	if (vm->mm)
		mmdrop(vm->mm);
	vm->mm = NULL;
	put_pid(vm->mem_pid);
	vm->mem_pid = NULL;
}

/* The caller validated alignment, size, wrap-around and the user range. */
int hvx_mem_add(struct hvx_vm *vm, const struct hvx_mem_region *r,
		struct netlink_ext_ack *extack)
{
	unsigned int i;
	int ret = 0;

	if (!current->mm) {
		NL_SET_ERR_MSG(extack, "Guest memory must be registered by a user process");
		return -EPERM;
	}

	mutex_lock(&hvx_vms_lock);
	if (vm->dead) {
		NL_SET_ERR_MSG(extack, "VM is being destroyed");
		ret = -ENOENT;
		goto out_unlock;
	}
	down_write(&vm->mem_lock);
	/*
	 * A VMM that exited cannot drop its regions: a new VMM process takes
	 * the VM over, and the stale regions go.
	 */
	if (vm->mm && vm->mm != current->mm && !atomic_read(&vm->mm->mm_users))
		hvx_mem_unbind(vm);
	if (vm->mm && vm->mm != current->mm) {
		NL_SET_ERR_MSG(extack, "VM memory is bound to another process");
		ret = -EPERM;
		goto out_up;
	}
	if (vm->nr_mem == HVX_VM_MEM_MAX) {
		NL_SET_ERR_MSG(extack, "VM has the most memory regions allowed");
		ret = -ENOSPC;
		goto out_up;
	}
	for (i = 0; i < vm->nr_mem; i++) {
		if (hvx_mem_overlaps(&vm->mem[i], r)) {
			NL_SET_ERR_MSG(extack, "Region overlaps a registered region");
			ret = -EEXIST;
			goto out_up;
		}
		if (vm->mem[i].gpa > r->gpa)
			break;
	}
	/* Keep the array sorted by gpa: i is the insertion point. */
	memmove(&vm->mem[i + 1], &vm->mem[i],
		(vm->nr_mem - i) * sizeof(vm->mem[0]));
	vm->mem[i] = *r;
	vm->nr_mem++;
	if (!vm->mm) {
		mmgrab(current->mm);
		vm->mm = current->mm;
		vm->mem_pid = get_task_pid(current, PIDTYPE_TGID);
	}
	hvx_vms_changed();
out_up:
	up_write(&vm->mem_lock);
out_unlock:
	mutex_unlock(&hvx_vms_lock);
	return ret;
}

int hvx_mem_del(struct hvx_vm *vm, u64 gpa, struct netlink_ext_ack *extack)
{
	unsigned int i;
	int ret = 0;

	mutex_lock(&hvx_vms_lock);
	if (vm->dead) {
		NL_SET_ERR_MSG(extack, "VM is being destroyed");
		ret = -ENOENT;
		goto out_unlock;
	}
	down_write(&vm->mem_lock);
	if (vm->mm && vm->mm != current->mm) {
		NL_SET_ERR_MSG(extack, "VM memory is bound to another process");
		ret = -EPERM;
		goto out_up;
	}
	for (i = 0; i < vm->nr_mem; i++)
		if (vm->mem[i].gpa == gpa)
			break;
	if (i == vm->nr_mem) {
		NL_SET_ERR_MSG(extack, "No region starts at this guest address");
		ret = -ENOENT;
		goto out_up;
	}
	memmove(&vm->mem[i], &vm->mem[i + 1],
		(vm->nr_mem - i - 1) * sizeof(vm->mem[0]));
	/* With no region left the VM may be bound to a new VMM process. */
	if (!--vm->nr_mem)
		hvx_mem_unbind(vm);
	hvx_vms_changed();
out_up:
	up_write(&vm->mem_lock);
out_unlock:
	mutex_unlock(&hvx_vms_lock);
	return ret;
}

/* Destroy: waits for in-flight accesses, then lets the VMM's mm go. */
void hvx_mem_release(struct hvx_vm *vm)
{
	down_write(&vm->mem_lock);
	hvx_mem_unbind(vm);
	up_write(&vm->mem_lock);
}

static const struct hvx_mem_region *hvx_mem_find(const struct hvx_vm *vm,
						 u64 gpa)
{
	unsigned int i;

	for (i = 0; i < vm->nr_mem; i++)
		if (gpa >= vm->mem[i].gpa &&
		    gpa - vm->mem[i].gpa < vm->mem[i].size)
			return &vm->mem[i];
	return NULL;
}

static int hvx_mem_access_mm(struct hvx_vm *vm, struct mm_struct *mm, u64 gpa,
			     void *buf, size_t len, bool write)
{
	const struct hvx_mem_region *r;
	unsigned long uaddr;
	struct page *page;
	size_t off, chunk;
	void *kaddr;
	long got;

	while (len) {
		r = hvx_mem_find(vm, gpa);
		if (!r)
			return -EFAULT;
		uaddr = r->uaddr + (gpa - r->gpa);
		off = offset_in_page(uaddr);
		chunk = min3(len, PAGE_SIZE - off,
			     (size_t)(r->gpa + r->size - gpa));

		got = get_user_pages_remote(mm, uaddr - off, 1,
					    write ? FOLL_WRITE : 0, &page,
					    NULL, NULL);
		if (got != 1)
			return -EFAULT;
		kaddr = kmap_local_page(page);
		if (write) {
			memcpy(kaddr + off, buf, chunk);
			set_page_dirty_lock(page);
		} else {
			memcpy(buf, kaddr + off, chunk);
		}
		kunmap_local(kaddr);
		put_page(page);

		gpa += chunk;
		buf += chunk;
		len -= chunk;
		cond_resched();
	}
	return 0;
}

static int hvx_mem_access(struct hvx_vm *vm, u64 gpa, void *buf, size_t len,
			  bool write)
{
	struct mm_struct *mm;
	u64 end;
	int ret;

	might_sleep();
	if (!len)
		return 0;
	if (check_add_overflow(gpa, (u64)len, &end))
		return -EFAULT;

	down_read(&vm->mem_lock);
	if (READ_ONCE(vm->dead)) {
		ret = -ESRCH;
		goto out_up;
	}
	mm = vm->mm;
	if (!mm) {
		ret = -EFAULT;
		goto out_up;
	}
	if (!mmget_not_zero(mm)) {
		ret = -ESRCH;
		goto out_up;
	}
	mmap_read_lock(mm);
	ret = hvx_mem_access_mm(vm, mm, gpa, buf, len, write);
	mmap_read_unlock(mm);
	mmput(mm);
out_up:
	up_read(&vm->mem_lock);
	return ret;
}

int hvx_vm_read_gpa(struct hvx_vm *vm, u64 gpa, void *buf, size_t len)
{
	return hvx_mem_access(vm, gpa, buf, len, false);
}
EXPORT_SYMBOL_GPL(hvx_vm_read_gpa);

int hvx_vm_write_gpa(struct hvx_vm *vm, u64 gpa, const void *buf, size_t len)
{
	return hvx_mem_access(vm, gpa, (void *)buf, len, true);
}
EXPORT_SYMBOL_GPL(hvx_vm_write_gpa);
