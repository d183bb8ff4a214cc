// SPDX-License-Identifier: GPL-2.0
/*
 * The module side of the EPTs: paging-structure pages are real pages whose
 * physical addresses go into the entries, leaves point at the host frames
 * that back guest memory, and faults are resolved by walking the active
 * view's EPT, populating it on demand as a hypervisor does on an EPT
 * violation for ordinary guest memory.
 */
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "hvx_ept_priv.h"

/* Guest memory and EPT pages are charged to the caller's memory cgroup. */
#define HVX_EPT_GFP	(GFP_KERNEL_ACCOUNT | __GFP_ZERO)

static u64 *hvx_ept_table_alloc(void *ctx, u64 *hpa)
{
	void *t = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (!t)
		return NULL;
	*hpa = virt_to_phys(t);
	return t;
}

static u64 *hvx_ept_table_va(void *ctx, u64 hpa)
{
	return phys_to_virt(hpa);
}

static void hvx_ept_table_free(void *ctx, u64 *table)
{
	free_page((unsigned long)table);
}

static const struct hvx_ept_mm hvx_ept_kernel_mm = {
	.alloc = hvx_ept_table_alloc,
	.va = hvx_ept_table_va,
	.free = hvx_ept_table_free,
};

/* Ordinary RAM: write-back, PAT ignored, as KVM maps guest memory. */
static u64 hvx_ept_leaf_attrs(u32 perm, bool private)
{
	return hvx_ept_attrs(perm, HVX_EPT_MT_WB, true) |
	       (private ? HVX_EPT_E_SW_PRIVATE : 0);
}

int hvx_ept_view_init(struct hvx_ept_view *view)
{
	mt_init(&view->ranges);
	return hvx_ept_init(&view->ept, &hvx_ept_kernel_mm, HVX_EPT_MT_WB, true);
}

void hvx_ept_range_free(struct hvx_ept_range *r)
{
	unsigned long i;

	/*
	 * put_page, not __free_page: a GUP user (KVM faulting the page in,
	 * O_DIRECT) may still hold a reference for a moment.
	 */
	for (i = 0; i < r->nr_pages; i++)
		if (r->pages[i])
			put_page(r->pages[i]);
	kvfree(r->pages);
	kfree(r);
}

void hvx_ept_view_fini(struct hvx_ept_view *view)
{
	struct hvx_ept_range *r;
	unsigned long index = 0;

	mt_for_each(&view->ranges, r, index, ULONG_MAX)
		hvx_ept_range_free(r);
	mtree_destroy(&view->ranges);
	hvx_ept_destroy(&view->ept);
}

/*
 * Allocate the pages of a private range and map them. Where a 2 MiB-aligned
 * stretch of the range allows it, one physically contiguous 2 MiB block is
 * taken (split into order-0 pages, which is what vm_insert_page accepts)
 * and mapped by a single large-page PDE.
 */
int hvx_ept_build_private(struct hvx_ept_view *view, struct hvx_ept_range *r)
{
	const unsigned int order = HVX_EPT_LEVEL_SHIFT(2) - PAGE_SHIFT;
	u64 attrs = hvx_ept_leaf_attrs(r->perm, true);
	u64 gpa = r->gpa, end = r->gpa + r->size;
	unsigned long i = 0, j;
	struct page *page;
	int ret;

	r->pages = kvcalloc(r->size >> PAGE_SHIFT, sizeof(*r->pages),
			    GFP_KERNEL_ACCOUNT);
	if (!r->pages)
		return -ENOMEM;
	r->nr_pages = r->size >> PAGE_SHIFT;

	while (gpa < end) {
		if (IS_ALIGNED(gpa, HVX_EPT_LEVEL_SIZE(2)) &&
		    end - gpa >= HVX_EPT_LEVEL_SIZE(2)) {
			page = alloc_pages(HVX_EPT_GFP | __GFP_NOWARN |
					   __GFP_NORETRY, order);
			if (page) {
				split_page(page, order);
				for (j = 0; j < (1UL << order); j++)
					r->pages[i + j] = page + j;
				ret = hvx_ept_map(&view->ept, gpa,
						  page_to_phys(page), 2, attrs);
				if (ret)
					return ret;
				i += 1UL << order;
				gpa += HVX_EPT_LEVEL_SIZE(2);
				continue;
			}
		}
		page = alloc_page(HVX_EPT_GFP);
		if (!page)
			return -ENOMEM;
		r->pages[i] = page;
		ret = hvx_ept_map(&view->ept, gpa, page_to_phys(page), 1, attrs);
		if (ret)
			return ret;
		i++;
		gpa += PAGE_SIZE;
	}
	view->private_pages += r->nr_pages;
	return 0;
}

static void hvx_ept_set_bit(u64 *e, u64 bit)
{
	if (!(READ_ONCE(*e) & bit))
		set_bit(__ffs64(bit), (unsigned long *)e);
}

/* What the processor does on a walk with EPTP A/D enabled. */
static void hvx_ept_mark(struct hvx_ept_view *view, struct hvx_ept_walk *w,
			 u32 access)
{
	int l;

	if (!(view->ept.eptp & HVX_EPTP_AD))
		return;
	for (l = HVX_EPT_LEVELS; l >= w->level; l--)
		hvx_ept_set_bit(w->ptr[l], HVX_EPT_E_ACCESSED);
	if (access & HVX_EPT_PERM_W)
		hvx_ept_set_bit(w->ptr[w->level], HVX_EPT_E_DIRTY);
}

int hvx_ept_resolve(struct hvx_ept_vm *ev, u64 gpa, u32 access,
		    struct page **page, u32 *perm)
{
	struct hvx_ept_view *view = ev->active;
	struct hvx_ept_range *r;
	struct hvx_ept_walk w;
	int ret;

	if (gpa >= ev->mem_size)
		return -EFAULT;
	ret = hvx_ept_walk(&view->ept, gpa, &w);
	if (ret == -EINVAL)
		return -EIO;
	if (ret == -ENOENT) {
		r = mtree_load(&view->ranges, gpa >> PAGE_SHIFT);
		if (r && !r->perm) {
			*perm = 0;
			return -EACCES;
		}
		return -EAGAIN;
	}
	*perm = hvx_ept_perm(w.entry[w.level]);
	if ((*perm & access) != access)
		return -EACCES;
	hvx_ept_mark(view, &w, access);
	*page = pfn_to_page(w.hpa >> PAGE_SHIFT);
	return 0;
}

/* A 4 KiB leaf for @gpa in the active view, from the VM's shared pages. */
int hvx_ept_populate(struct hvx_ept_vm *ev, u64 gpa)
{
	struct hvx_ept_view *view = ev->active;
	unsigned long gfn = gpa >> PAGE_SHIFT;
	struct hvx_ept_range *r;
	struct hvx_ept_walk w;
	struct page *page;
	u32 perm = HVX_EPT_PERM_R | HVX_EPT_PERM_W | HVX_EPT_PERM_X;
	int ret;

	/* Another fault may have populated it while the lock was dropped. */
	if (hvx_ept_walk(&view->ept, gpa, &w) != -ENOENT)
		return 0;
	r = mtree_load(&view->ranges, gfn);
	if (r) {
		/* Private ranges are built whole when they are mapped. */
		if (WARN_ON_ONCE(r->kind != HVX_EPT_KIND_SHARED))
			return -EIO;
		perm = r->perm;
	}

	page = xa_load(&ev->shared, gfn);
	if (!page) {
		page = alloc_page(HVX_EPT_GFP);
		if (!page)
			return -ENOMEM;
		ret = xa_err(xa_store(&ev->shared, gfn, page, GFP_KERNEL_ACCOUNT));
		if (ret) {
			__free_page(page);
			return ret;
		}
	}
	return hvx_ept_map(&view->ept, gpa & PAGE_MASK, page_to_phys(page), 1,
			   hvx_ept_leaf_attrs(perm, false));
}

void hvx_ept_free_shared(struct hvx_ept_vm *ev)
{
	struct page *page;
	unsigned long gfn;

	xa_for_each(&ev->shared, gfn, page)
		put_page(page);
	xa_destroy(&ev->shared);
}
