// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VM EPT state and its views: creation, explicit ranges, the switch of
 * the active view and teardown.
 *
 * A switch only has to make the guest-memory mappings refault where the two
 * views differ, which is inside the explicit ranges of either view: outside
 * them every view maps the same shared page with full access. So the switch
 * unmaps exactly those ranges, and its cost follows the pages actually
 * mapped there, not the size of the VM.
 */
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include <hvx_core.h>
#include "hvx_ept_priv.h"

static DEFINE_XARRAY(hvx_ept_vms);
/* Serialises VM state creation and removal; taken before any ev->lock. */
static DEFINE_MUTEX(hvx_ept_vms_lock);
static u32 hvx_ept_gen;

struct hvx_ept_vm *hvx_ept_vm_get(u32 id)
{
	struct hvx_ept_vm *ev;

	rcu_read_lock();
	ev = xa_load(&hvx_ept_vms, id);
	if (ev && !kref_get_unless_zero(&ev->ref))
		ev = NULL;
	rcu_read_unlock();
	return ev;
}

struct hvx_ept_vm *hvx_ept_vm_next(unsigned long *id)
{
	struct hvx_ept_vm *ev;

	rcu_read_lock();
	for (;;) {
		ev = xa_find(&hvx_ept_vms, id, ULONG_MAX, XA_PRESENT);
		if (!ev || kref_get_unless_zero(&ev->ref))
			break;
		(*id)++;
	}
	rcu_read_unlock();
	return ev;
}

u32 hvx_ept_vms_gen(void)
{
	return READ_ONCE(hvx_ept_gen);
}

static void hvx_ept_vm_release(struct kref *ref)
{
	struct hvx_ept_vm *ev = container_of(ref, struct hvx_ept_vm, ref);

	iput(ev->inode);
	kfree_rcu(ev, rcu);
}

void hvx_ept_vm_put(struct hvx_ept_vm *ev)
{
	kref_put(&ev->ref, hvx_ept_vm_release);
}

static void hvx_ept_view_free(struct hvx_ept_view *view)
{
	hvx_ept_view_fini(view);
	kfree(view);
}

static struct hvx_ept_view *hvx_ept_view_alloc(void)
{
	struct hvx_ept_view *view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);

	if (!view)
		return NULL;
	if (hvx_ept_view_init(view)) {
		kfree(view);
		return NULL;
	}
	return view;
}

int hvx_ept_vm_new(struct hvx_vm *vm, u64 mem_size,
		   struct netlink_ext_ack *extack)
{
	struct hvx_ept_view *view;
	struct hvx_ept_vm *ev;
	int ret;

	ev = kzalloc(sizeof(*ev), GFP_KERNEL_ACCOUNT);
	if (!ev)
		return -ENOMEM;
	kref_init(&ev->ref);
	init_rwsem(&ev->lock);
	/* View ids are allocated; view 0 is inserted explicitly. */
	xa_init_flags(&ev->views, XA_FLAGS_ALLOC);
	xa_init(&ev->shared);
	ev->id = hvx_vm_id(vm);
	ev->mem_size = mem_size;

	view = hvx_ept_view_alloc();
	if (!view) {
		ret = -ENOMEM;
		goto err_free;
	}
	view->id = HVX_EPT_VIEW_DEFAULT;
	ret = xa_insert(&ev->views, view->id, view, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_view;
	ev->active = view;

	ev->inode = hvx_ept_inode_new(ev);
	if (IS_ERR(ev->inode)) {
		ret = PTR_ERR(ev->inode);
		goto err_views;
	}

	mutex_lock(&hvx_ept_vms_lock);
	/* hvx_core marks a VM dead before telling us it is gone. */
	if (hvx_vm_dead(vm)) {
		NL_SET_ERR_MSG(extack, "VM is being destroyed");
		ret = -ENOENT;
		goto err_unlock;
	}
	ret = xa_insert(&hvx_ept_vms, ev->id, ev, GFP_KERNEL);
	if (ret) {
		if (ret == -EBUSY) {
			NL_SET_ERR_MSG(extack, "VM already has EPT views");
			ret = -EEXIST;
		}
		goto err_unlock;
	}
	hvx_vm_hold(vm);
	ev->vm = vm;
	hvx_ept_gen++;
	mutex_unlock(&hvx_ept_vms_lock);
	return 0;

err_unlock:
	mutex_unlock(&hvx_ept_vms_lock);
	iput(ev->inode);
err_views:
	xa_erase(&ev->views, view->id);
	xa_destroy(&ev->views);
err_view:
	hvx_ept_view_free(view);
err_free:
	kfree(ev);
	return ret;
}

/*
 * Zap every mapping of the guest memory (all processes, forks included, and
 * KVM through its MMU notifier), then free the views and the memory. Later
 * faults on surviving mappings get SIGBUS.
 */
static void hvx_ept_vm_teardown(struct hvx_ept_vm *ev)
{
	struct hvx_ept_view *view;
	unsigned long id;

	down_write(&ev->lock);
	ev->dead = true;
	ev->active = NULL;
	unmap_mapping_range(ev->inode->i_mapping, 0, 0, 1);
	xa_for_each(&ev->views, id, view)
		hvx_ept_view_free(view);
	xa_destroy(&ev->views);
	hvx_ept_free_shared(ev);
	up_write(&ev->lock);

	hvx_vm_put(ev->vm);
	ev->vm = NULL;
	hvx_ept_vm_put(ev);
}

int hvx_ept_vm_del(u32 id)
{
	struct hvx_ept_vm *ev;

	mutex_lock(&hvx_ept_vms_lock);
	ev = xa_erase(&hvx_ept_vms, id);
	if (ev)
		hvx_ept_gen++;
	mutex_unlock(&hvx_ept_vms_lock);
	if (!ev)
		return -ENOENT;
	hvx_ept_vm_teardown(ev);
	return 0;
}

void hvx_ept_vm_del_all(void)
{
	struct hvx_ept_vm *ev;
	unsigned long id;

	xa_for_each(&hvx_ept_vms, id, ev)
		hvx_ept_vm_del(id);
}

int hvx_ept_view_new(struct hvx_ept_vm *ev, u32 *id)
{
	struct xa_limit limit = XA_LIMIT(1, HVX_EPT_VIEWS_MAX - 1);
	struct hvx_ept_view *view;
	int ret;

	view = hvx_ept_view_alloc();
	if (!view)
		return -ENOMEM;
	down_write(&ev->lock);
	if (ev->dead) {
		ret = -ENOENT;
		goto out;
	}
	ret = xa_alloc(&ev->views, &view->id, view, limit, GFP_KERNEL_ACCOUNT);
	if (ret == -EBUSY)
		ret = -ENOSPC;
	if (!ret) {
		ev->gen++;
		*id = view->id;
	}
out:
	up_write(&ev->lock);
	if (ret)
		hvx_ept_view_free(view);
	return ret;
}

int hvx_ept_view_del(struct hvx_ept_vm *ev, u32 id,
		     struct netlink_ext_ack *extack)
{
	struct hvx_ept_view *view;
	int ret = 0;

	if (id == HVX_EPT_VIEW_DEFAULT) {
		NL_SET_ERR_MSG(extack, "The default view cannot be deleted");
		return -EINVAL;
	}
	down_write(&ev->lock);
	view = ev->dead ? NULL : xa_load(&ev->views, id);
	if (!view) {
		NL_SET_ERR_MSG(extack, "No view with this id");
		ret = -ENOENT;
	} else if (view == ev->active) {
		NL_SET_ERR_MSG(extack, "View is active; switch away first");
		ret = -EBUSY;
	} else {
		/* Not active: its ranges were unmapped when it was left. */
		xa_erase(&ev->views, id);
		ev->gen++;
	}
	up_write(&ev->lock);
	if (!ret)
		hvx_ept_view_free(view);
	return ret;
}

static void hvx_ept_unmap_range(struct hvx_ept_vm *ev,
				const struct hvx_ept_range *r)
{
	unmap_mapping_range(ev->inode->i_mapping, r->gpa, r->size, 1);
}

int hvx_ept_view_map(struct hvx_ept_vm *ev, u32 view_id, u64 gpa,
		     u64 size, u32 perm, u32 kind,
		     struct netlink_ext_ack *extack)
{
	unsigned long first = gpa >> PAGE_SHIFT;
	unsigned long last = first + (size >> PAGE_SHIFT) - 1;
	struct hvx_ept_view *view;
	struct hvx_ept_range *r;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->gpa = gpa;
	r->size = size;
	r->perm = perm;
	r->kind = kind;

	down_write(&ev->lock);
	view = ev->dead ? NULL : xa_load(&ev->views, view_id);
	if (!view) {
		NL_SET_ERR_MSG(extack, "No view with this id");
		ret = -ENOENT;
		goto err_unlock;
	}
	if (gpa >= ev->mem_size || size > ev->mem_size - gpa) {
		NL_SET_ERR_MSG(extack, "Range is beyond the VM's memory");
		ret = -ERANGE;
		goto err_unlock;
	}
	if (view->nr_ranges >= HVX_EPT_RANGES_MAX) {
		NL_SET_ERR_MSG(extack, "View has too many ranges");
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = mtree_insert_range(&view->ranges, first, last, r,
				 GFP_KERNEL_ACCOUNT);
	if (ret) {
		if (ret == -EEXIST)
			NL_SET_ERR_MSG(extack,
				       "Range overlaps a range of this view");
		goto err_unlock;
	}
	/* Drop what faults populated there while the GPAs were shared RWX. */
	ret = hvx_ept_clear(&view->ept, gpa, size);
	if (!ret && kind == HVX_EPT_KIND_PRIVATE)
		ret = hvx_ept_build_private(view, r);
	if (ret) {
		/* Leaves nothing of the range behind: it is refaulted. */
		hvx_ept_clear(&view->ept, gpa, size);
		mtree_erase(&view->ranges, first);
		goto err_unlock;
	}
	view->nr_ranges++;
	if (view == ev->active)
		hvx_ept_unmap_range(ev, r);
	up_write(&ev->lock);
	return 0;

err_unlock:
	up_write(&ev->lock);
	hvx_ept_range_free(r);
	return ret;
}

static void hvx_ept_unmap_view(struct hvx_ept_vm *ev, struct hvx_ept_view *v)
{
	struct hvx_ept_range *r;
	unsigned long index = 0;

	mt_for_each(&v->ranges, r, index, ULONG_MAX)
		hvx_ept_unmap_range(ev, r);
}

int hvx_ept_view_switch(struct hvx_ept_vm *ev, u32 view_id)
{
	struct hvx_ept_view *view, *old;
	int ret = 0;

	down_write(&ev->lock);
	view = ev->dead ? NULL : xa_load(&ev->views, view_id);
	if (!view) {
		ret = -ENOENT;
	} else if (view != ev->active) {
		old = ev->active;
		ev->active = view;
		hvx_ept_unmap_view(ev, old);
		hvx_ept_unmap_view(ev, view);
	}
	up_write(&ev->lock);
	return ret;
}
