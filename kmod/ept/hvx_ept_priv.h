/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_ept internals shared by its files.
 *
 * Locking: hvx_ept_vm.lock (rwsem) covers the views, their EPTs and ranges,
 * the active view and the shared pages. Page faults hold it for reading
 * across the EPT walk and the PTE insertion, so a view switch (which holds
 * it for writing across unmap_mapping_range) never races with a fault that
 * resolved through the previous view.
 */
#ifndef _HVX_EPT_PRIV_H
#define _HVX_EPT_PRIV_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/maple_tree.h>
#include <linux/mm_types.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

#include "hvx_ept_fmt.h"

struct hvx_vm;
struct netlink_ext_ack;

/* An explicit range of a view; GPAs outside any range are shared, RWX. */
struct hvx_ept_range {
	u64 gpa;
	u64 size;
	u32 perm;
	u32 kind;
	unsigned long nr_pages;	/* private pages, in GPA order */
	struct page **pages;
};

struct hvx_ept_view {
	u32 id;
	struct hvx_ept ept;
	struct maple_tree ranges;	/* GFN -> struct hvx_ept_range */
	unsigned int nr_ranges;
	u64 private_pages;
};

struct hvx_ept_vm {
	struct kref ref;
	struct rcu_head rcu;
	u32 id;
	struct hvx_vm *vm;		/* hvx_core reference until teardown */
	u64 mem_size;
	struct rw_semaphore lock;
	bool dead;
	struct xarray views;		/* view id -> struct hvx_ept_view */
	struct hvx_ept_view *active;
	u32 gen;			/* bumped on view add/del, for dumps */
	struct xarray shared;		/* GFN -> struct page */
	struct inode *inode;		/* one per VM: its mapping is the VM's */
};

/* hvx_ept_view.c */
struct hvx_ept_vm *hvx_ept_vm_get(u32 id);
void hvx_ept_vm_put(struct hvx_ept_vm *ev);
int hvx_ept_vm_new(struct hvx_vm *vm, u64 mem_size,
		   struct netlink_ext_ack *extack);
int hvx_ept_vm_del(u32 id);
void hvx_ept_vm_del_all(void);
/* The n-th VM at or after *id, referenced; NULL at the end. */
struct hvx_ept_vm *hvx_ept_vm_next(unsigned long *id);
u32 hvx_ept_vms_gen(void);
int hvx_ept_view_new(struct hvx_ept_vm *ev, u32 *id);
int hvx_ept_view_del(struct hvx_ept_vm *ev, u32 id,
		     struct netlink_ext_ack *extack);
int hvx_ept_view_map(struct hvx_ept_vm *ev, u32 view_id, u64 gpa,
		     u64 size, u32 perm, u32 kind,
		     struct netlink_ext_ack *extack);
int hvx_ept_view_switch(struct hvx_ept_vm *ev, u32 view_id);

/* hvx_ept_table.c */
int hvx_ept_view_init(struct hvx_ept_view *view);
void hvx_ept_view_fini(struct hvx_ept_view *view);
void hvx_ept_range_free(struct hvx_ept_range *r);
int hvx_ept_build_private(struct hvx_ept_view *view,
			  struct hvx_ept_range *r);
/*
 * The host page behind @gpa in the active view for an @access (one
 * HVX_EPT_PERM_* bit). 0 with *page set; -EACCES with *perm set (the
 * view's permission) for an EPT violation; -EAGAIN when the entry must
 * first be populated (caller then holds the lock for writing and calls
 * hvx_ept_populate()); -ENOMEM, -EFAULT (beyond guest memory), -EIO
 * (misconfigured entry).
 */
int hvx_ept_resolve(struct hvx_ept_vm *ev, u64 gpa, u32 access,
		    struct page **page, u32 *perm);
int hvx_ept_populate(struct hvx_ept_vm *ev, u64 gpa);
void hvx_ept_free_shared(struct hvx_ept_vm *ev);

/* hvx_ept_mmap.c */
int hvx_ept_mmap_init(void);
void hvx_ept_mmap_exit(void);
struct inode *hvx_ept_inode_new(struct hvx_ept_vm *ev);
int hvx_ept_dev_init(void);
void hvx_ept_dev_exit(void);

/* hvx_ept_nl.c */
int hvx_ept_nl_init(void);
void hvx_ept_nl_exit(void);
void hvx_ept_nl_violation(struct hvx_ept_vm *ev, u64 gpa, u32 access,
			  u32 perm);

#endif /* _HVX_EPT_PRIV_H */
