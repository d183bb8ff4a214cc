// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VM translation tables and their lifetime: attached to an hvx_core VM
 * on first use, dropped when hvx_core announces the VM's destruction.
 *
 * A host ID belongs to at most one VM and one guest ID: hvx_iommu_host_doms
 * and hvx_iommu_host_devs record the owner of every host ID in use, so a VM
 * can never be given, and thus never name, another VM's host IDs.
 */
#include <linux/netlink.h>
#include <linux/slab.h>

#include <hvx_core.h>
#include "hvx_iommu.h"

/* The control plane: VM objects, maps, host-ID owners, ring attach. */
DEFINE_MUTEX(hvx_iommu_lock);
DEFINE_XARRAY(hvx_iommu_vms);
/* Bumped on every change a dump could observe. */
u32 hvx_iommu_gen;

static DEFINE_XARRAY(hvx_iommu_host_doms);
static DEFINE_XARRAY(hvx_iommu_host_devs);

static void hvx_iommu_vm_free(struct kref *ref)
{
	struct hvx_iommu_vm *ivm = container_of(ref, struct hvx_iommu_vm, ref);

	hvx_iommu_idmap_free(&ivm->maps.dom_g2h);
	hvx_iommu_idmap_free(&ivm->maps.dom_h2g);
	hvx_iommu_idmap_free(&ivm->maps.dev_g2h);
	hvx_iommu_idmap_free(&ivm->maps.dev_h2g);
	kvfree(ivm);
}

void hvx_iommu_vm_put(struct hvx_iommu_vm *ivm)
{
	kref_put(&ivm->ref, hvx_iommu_vm_free);
}

/* Under hvx_iommu_lock; the xarray's reference is the caller's to use. */
struct hvx_iommu_vm *hvx_iommu_vm_lookup(u32 id)
{
	lockdep_assert_held(&hvx_iommu_lock);
	return xa_load(&hvx_iommu_vms, id);
}

/*
 * The hvx_iommu side of an hvx VM, created on first use. Under
 * hvx_iommu_lock: hvx_core marks a VM dead before it calls the notifier,
 * and the notifier takes this lock, so a VM seen alive here is one whose
 * destruction will find and drop what is attached now.
 */
struct hvx_iommu_vm *hvx_iommu_vm_attach(struct hvx_vm *vm)
{
	struct hvx_iommu_vm *ivm;
	int ret;

	lockdep_assert_held(&hvx_iommu_lock);
	ivm = xa_load(&hvx_iommu_vms, hvx_vm_id(vm));
	if (ivm)
		return ivm;
	if (hvx_vm_dead(vm))
		return ERR_PTR(-ENOENT);

	/* Four maps of 256 leaf pointers: 8 KiB, no need for contiguity. */
	ivm = kvzalloc(sizeof(*ivm), GFP_KERNEL);
	if (!ivm)
		return ERR_PTR(-ENOMEM);
	kref_init(&ivm->ref);
	ivm->id = hvx_vm_id(vm);
	ret = xa_insert(&hvx_iommu_vms, ivm->id, ivm, GFP_KERNEL);
	if (ret) {
		kvfree(ivm);
		return ERR_PTR(ret);
	}
	hvx_vm_hold(vm);
	ivm->vm = vm;
	hvx_iommu_gen++;
	return ivm;
}

/* Writers read the maps too; the RCU section only satisfies lockdep. */
static int hvx_iommu_lookup(const struct hvx_iommu_idmap *m, u16 id)
{
	int v;

	rcu_read_lock();
	v = hvx_iommu_idmap_lookup(m, id);
	rcu_read_unlock();
	return v;
}

static void hvx_iommu_map_tables(struct hvx_iommu_vm *ivm, u32 type,
				 struct hvx_iommu_idmap **g2h,
				 struct hvx_iommu_idmap **h2g,
				 struct xarray **owners)
{
	if (type == HVX_IOMMU_MAP_DOMAIN) {
		*g2h = &ivm->maps.dom_g2h;
		*h2g = &ivm->maps.dom_h2g;
		*owners = &hvx_iommu_host_doms;
	} else {
		*g2h = &ivm->maps.dev_g2h;
		*h2g = &ivm->maps.dev_h2g;
		*owners = &hvx_iommu_host_devs;
	}
}

int hvx_iommu_map_add(struct hvx_iommu_vm *ivm, u32 type, u16 guest, u16 host,
		      struct netlink_ext_ack *extack)
{
	struct hvx_iommu_idmap *g2h, *h2g;
	struct xarray *owners;
	int ret;

	lockdep_assert_held(&hvx_iommu_lock);
	hvx_iommu_map_tables(ivm, type, &g2h, &h2g, &owners);
	if (hvx_iommu_lookup(g2h, guest) >= 0) {
		if (type == HVX_IOMMU_MAP_DOMAIN)
			NL_SET_ERR_MSG(extack, "Guest domain ID is already mapped in this VM");
		else
			NL_SET_ERR_MSG(extack, "Guest device ID is already mapped in this VM");
		return -EEXIST;
	}
	ret = xa_insert(owners, host, ivm, GFP_KERNEL);
	if (ret == -EBUSY) {
		if (type == HVX_IOMMU_MAP_DOMAIN)
			NL_SET_ERR_MSG(extack, "Host domain ID is already mapped");
		else
			NL_SET_ERR_MSG(extack, "Host device ID is already mapped");
		return ret;
	}
	if (ret)
		return ret;
	/* Leaves are allocated before either direction becomes visible. */
	ret = hvx_iommu_idmap_set(h2g, host, guest);
	if (ret)
		goto err_owner;
	ret = hvx_iommu_idmap_set(g2h, guest, host);
	if (ret)
		goto err_h2g;
	if (type == HVX_IOMMU_MAP_DOMAIN)
		ivm->nr_dom++;
	else
		ivm->nr_dev++;
	hvx_iommu_gen++;
	return 0;

err_h2g:
	hvx_iommu_idmap_clear(h2g, host);
err_owner:
	xa_erase(owners, host);
	return ret;
}

int hvx_iommu_map_del(struct hvx_iommu_vm *ivm, u32 type, u16 guest,
		      struct netlink_ext_ack *extack)
{
	struct hvx_iommu_idmap *g2h, *h2g;
	struct xarray *owners;
	int host;

	lockdep_assert_held(&hvx_iommu_lock);
	hvx_iommu_map_tables(ivm, type, &g2h, &h2g, &owners);
	host = hvx_iommu_lookup(g2h, guest);
	if (host < 0) {
		if (type == HVX_IOMMU_MAP_DOMAIN)
			NL_SET_ERR_MSG(extack, "Guest domain ID is not mapped in this VM");
		else
			NL_SET_ERR_MSG(extack, "Guest device ID is not mapped in this VM");
		return -ENOENT;
	}
	hvx_iommu_idmap_clear(g2h, guest);
	hvx_iommu_idmap_clear(h2g, host);
	/*
	 * A translation that read the old host ID may still be emitting it;
	 * only after a grace period may the host ID go to another VM.
	 */
	synchronize_rcu();
	xa_erase(owners, host);
	if (type == HVX_IOMMU_MAP_DOMAIN)
		ivm->nr_dom--;
	else
		ivm->nr_dev--;
	hvx_iommu_gen++;
	return 0;
}

static void hvx_iommu_release_owners(struct xarray *owners,
				     struct hvx_iommu_vm *ivm)
{
	struct hvx_iommu_vm *owner;
	unsigned long host;

	xa_for_each(owners, host, owner)
		if (owner == ivm)
			xa_erase(owners, host);
}

/*
 * Drop everything attached to a VM. The ring stops under its lock, and
 * every translation runs under that lock, so once it is dead nothing reads
 * the maps and they can go at once.
 */
static void hvx_iommu_vm_kill(struct hvx_iommu_vm *ivm)
{
	lockdep_assert_held(&hvx_iommu_lock);
	xa_erase(&hvx_iommu_vms, ivm->id);
	if (ivm->ring)
		hvx_iommu_ring_kill(ivm->ring);
	ivm->dead = true;
	hvx_iommu_release_owners(&hvx_iommu_host_doms, ivm);
	hvx_iommu_release_owners(&hvx_iommu_host_devs, ivm);
	hvx_iommu_idmap_free(&ivm->maps.dom_g2h);
	hvx_iommu_idmap_free(&ivm->maps.dom_h2g);
	hvx_iommu_idmap_free(&ivm->maps.dev_g2h);
	hvx_iommu_idmap_free(&ivm->maps.dev_h2g);
	ivm->nr_dom = 0;
	ivm->nr_dev = 0;
	hvx_vm_put(ivm->vm);
	ivm->vm = NULL;
	hvx_iommu_gen++;
	hvx_iommu_vm_put(ivm);
}

static int hvx_iommu_vm_event(struct notifier_block *nb, unsigned long event,
			      void *data)
{
	struct hvx_iommu_vm *ivm;

	if (event != HVX_VM_EVENT_DEL)
		return NOTIFY_DONE;
	mutex_lock(&hvx_iommu_lock);
	ivm = xa_load(&hvx_iommu_vms, hvx_vm_id(data));
	if (ivm)
		hvx_iommu_vm_kill(ivm);
	mutex_unlock(&hvx_iommu_lock);
	return NOTIFY_OK;
}

static struct notifier_block hvx_iommu_notifier = {
	.notifier_call = hvx_iommu_vm_event,
};

int __init hvx_iommu_map_init(void)
{
	return hvx_vm_register_notifier(&hvx_iommu_notifier);
}

/* Module exit: VMs live on in hvx_core, without hvx_iommu state. */
void hvx_iommu_map_exit(void)
{
	struct hvx_iommu_vm *ivm;
	unsigned long id;

	hvx_vm_unregister_notifier(&hvx_iommu_notifier);
	mutex_lock(&hvx_iommu_lock);
	xa_for_each(&hvx_iommu_vms, id, ivm)
		hvx_iommu_vm_kill(ivm);
	mutex_unlock(&hvx_iommu_lock);
}
