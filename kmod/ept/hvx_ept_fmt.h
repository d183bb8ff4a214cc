/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The EPT format core: Intel SDM (Vol. 3C, "EPT Translation Mechanism")
 * entries and EPTP, and a 4-level table built and walked in software.
 *
 * Pure C with no kernel dependency beyond a few types, so the module and the
 * host unit tests (tests/ept) compile the very same code. Table memory comes
 * from the caller (struct hvx_ept_mm): the module hands out real pages and
 * their physical addresses. Callers serialise changes against walks.
 */
#ifndef _HVX_EPT_FMT_H
#define _HVX_EPT_FMT_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/types.h>
#else
#include "hvx_ept_compat.h"
#endif
#include <linux/hvx_ept.h>

#define HVX_EPT_ENTRIES		512
#define HVX_EPT_PAGE_SHIFT	12
#define HVX_EPT_LEVEL_SHIFT(l)	(HVX_EPT_PAGE_SHIFT + 9 * ((l) - 1))
#define HVX_EPT_LEVEL_SIZE(l)	BIT_ULL(HVX_EPT_LEVEL_SHIFT(l))
#define HVX_EPT_GPA_LIMIT	BIT_ULL(HVX_EPT_GPA_BITS)

/* Where paging-structure pages come from: hpa is what entries point to. */
struct hvx_ept_mm {
	u64 *(*alloc)(void *ctx, u64 *hpa);	/* zeroed, 4 KiB aligned */
	u64 *(*va)(void *ctx, u64 hpa);
	void (*free)(void *ctx, u64 *table);
	void *ctx;
};

struct hvx_ept {
	const struct hvx_ept_mm *mm;
	u64 *root;
	u64 eptp;
};

/* What a walk found, level by level (index = SDM level). */
struct hvx_ept_walk {
	u64 *ptr[HVX_EPT_LEVELS + 1];
	u64 entry[HVX_EPT_LEVELS + 1];
	int level;	/* the last level read: the leaf, or where it stopped */
	u64 hpa;	/* translation of the GPA when the walk succeeded */
};

static inline unsigned int hvx_ept_index(u64 gpa, int level)
{
	return (gpa >> HVX_EPT_LEVEL_SHIFT(level)) & (HVX_EPT_ENTRIES - 1);
}

static inline bool hvx_ept_present(u64 e)
{
	return e & HVX_EPT_E_PERM_MASK;
}

static inline bool hvx_ept_is_leaf(u64 e, int level)
{
	return level == 1 || (level <= 3 && (e & HVX_EPT_E_LARGE));
}

static inline u32 hvx_ept_perm(u64 e)
{
	return e & HVX_EPT_E_PERM_MASK;
}

static inline unsigned int hvx_ept_memtype(u64 e)
{
	return (e & HVX_EPT_E_MT_MASK) >> HVX_EPT_E_MT_SHIFT;
}

/* The frame or table an entry points to, bits below its alignment dropped. */
static inline u64 hvx_ept_entry_addr(u64 e, int level)
{
	u64 mask = HVX_EPT_E_ADDR_MASK;

	if (hvx_ept_is_leaf(e, level))
		mask &= ~(HVX_EPT_LEVEL_SIZE(level) - 1);
	return e & mask;
}

u64 hvx_eptp_make(u64 root_hpa, unsigned int memtype, bool ad);
int hvx_eptp_check(u64 eptp);

/*
 * A leaf mapping @hpa at @level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB). @attrs
 * holds permission, memory type, ignore-PAT and software bits, no address.
 */
int hvx_ept_mk_leaf(u64 hpa, int level, u64 attrs, u64 *entry);
u64 hvx_ept_attrs(u32 perm, unsigned int memtype, bool ipat);
/* 0, or -EINVAL when the processor would take an EPT misconfiguration. */
int hvx_ept_check_entry(u64 e, int level);

int hvx_ept_init(struct hvx_ept *ept, const struct hvx_ept_mm *mm,
		 unsigned int memtype, bool ad);
void hvx_ept_destroy(struct hvx_ept *ept);

/* -EEXIST if anything is mapped there already, -EINVAL if misaligned. */
int hvx_ept_map(struct hvx_ept *ept, u64 gpa, u64 hpa, int level, u64 attrs);
/*
 * Remove every translation in [gpa, gpa + size), splitting large pages that
 * straddle its ends; both must be 4 KiB aligned.
 */
int hvx_ept_clear(struct hvx_ept *ept, u64 gpa, u64 size);
/*
 * 0 with w->hpa set, -ENOENT when not present (w->level says where),
 * -EINVAL on a misconfigured entry.
 */
int hvx_ept_walk(const struct hvx_ept *ept, u64 gpa, struct hvx_ept_walk *w);

typedef int (*hvx_ept_iter_fn)(void *arg, int level, u64 gpa, u64 e);
/*
 * Call @fn for every present entry, in order of GPA and, for one GPA, from
 * PML4E down, starting at the first entry at or after (@gpa, @level). A
 * non-zero return from @fn stops the walk and is returned.
 */
int hvx_ept_iter(const struct hvx_ept *ept, u64 gpa, int level,
		 hvx_ept_iter_fn fn, void *arg);

#endif /* _HVX_EPT_FMT_H */
