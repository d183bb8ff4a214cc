// SPDX-License-Identifier: GPL-2.0
/*
 * EPT format core, shared by hvx_ept.ko and the host unit tests. See
 * hvx_ept_fmt.h. Bit layouts follow the SDM tables for EPTP, PML4E, PDPTE,
 * PDE and PTE; reserved-bit checks assume MAXPHYADDR = 52, so that the
 * address field is bits 51:12 everywhere.
 */
#include "hvx_ept_fmt.h"

/* Bits a caller may put in a leaf besides the address. */
#define HVX_EPT_ATTR_MASK						\
	(HVX_EPT_E_PERM_MASK | HVX_EPT_E_MT_MASK | HVX_EPT_E_IPAT |	\
	 HVX_EPT_E_ACCESSED | HVX_EPT_E_DIRTY | HVX_EPT_E_SW_PRIVATE |	\
	 HVX_EPT_E_SVE)
/* EPTP bits 11:7: no supervisor shadow-stack control, the rest reserved. */
#define HVX_EPTP_RSVD_MASK	0xf80ULL
/* Page-walk length 4, encoded as length minus one. */
#define HVX_EPTP_PWL_4		(3ULL << HVX_EPTP_PWL_SHIFT)

u64 hvx_eptp_make(u64 root_hpa, unsigned int memtype, bool ad)
{
	return (root_hpa & HVX_EPTP_ADDR_MASK) | (memtype & HVX_EPTP_MT_MASK) |
	       HVX_EPTP_PWL_4 | (ad ? HVX_EPTP_AD : 0);
}

int hvx_eptp_check(u64 eptp)
{
	unsigned int mt = eptp & HVX_EPTP_MT_MASK;

	/* The SDM allows only UC and WB for the paging structures. */
	if (mt != HVX_EPT_MT_UC && mt != HVX_EPT_MT_WB)
		return -EINVAL;
	if ((eptp & HVX_EPTP_PWL_MASK) != HVX_EPTP_PWL_4)
		return -EINVAL;
	if (eptp & (HVX_EPTP_RSVD_MASK | ~(HVX_EPTP_ADDR_MASK | 0xfffULL)))
		return -EINVAL;
	return 0;
}

u64 hvx_ept_attrs(u32 perm, unsigned int memtype, bool ipat)
{
	return (perm & HVX_EPT_E_PERM_MASK) |
	       (((u64)memtype << HVX_EPT_E_MT_SHIFT) & HVX_EPT_E_MT_MASK) |
	       (ipat ? HVX_EPT_E_IPAT : 0);
}

static bool hvx_ept_memtype_valid(unsigned int mt)
{
	return mt == HVX_EPT_MT_UC || mt == HVX_EPT_MT_WC ||
	       mt == HVX_EPT_MT_WT || mt == HVX_EPT_MT_WP ||
	       mt == HVX_EPT_MT_WB;
}

int hvx_ept_check_entry(u64 e, int level)
{
	u64 rsvd;

	if (!hvx_ept_present(e))
		return 0;
	/* Write without read is a misconfiguration at every level. */
	if ((e & (HVX_EPT_E_READ | HVX_EPT_E_WRITE)) == HVX_EPT_E_WRITE)
		return -EINVAL;
	if (level == 4) {
		rsvd = 0xf8ULL;				/* 7:3 */
	} else if (!hvx_ept_is_leaf(e, level)) {
		rsvd = 0x78ULL;				/* 6:3 */
	} else {
		if (!hvx_ept_memtype_valid(hvx_ept_memtype(e)))
			return -EINVAL;
		/* Address bits below the page size are reserved. */
		rsvd = (HVX_EPT_LEVEL_SIZE(level) - 1) & HVX_EPT_E_ADDR_MASK;
	}
	return (e & rsvd) ? -EINVAL : 0;
}

int hvx_ept_mk_leaf(u64 hpa, int level, u64 attrs, u64 *entry)
{
	u64 e;

	if (level < 1 || level > 3)
		return -EINVAL;
	if (attrs & ~HVX_EPT_ATTR_MASK || !hvx_ept_present(attrs))
		return -EINVAL;
	if (hpa & ~HVX_EPT_E_ADDR_MASK || hpa & (HVX_EPT_LEVEL_SIZE(level) - 1))
		return -EINVAL;
	e = hpa | attrs | (level > 1 ? HVX_EPT_E_LARGE : 0);
	if (hvx_ept_check_entry(e, level))
		return -EINVAL;
	*entry = e;
	return 0;
}

/* Non-leaf entries grant everything: the leaf alone decides access. */
static u64 hvx_ept_mk_table(u64 hpa)
{
	return hpa | HVX_EPT_E_PERM_MASK;
}

static u64 *hvx_ept_child(const struct hvx_ept *ept, u64 e, int level)
{
	return ept->mm->va(ept->mm->ctx, hvx_ept_entry_addr(e, level));
}

int hvx_ept_init(struct hvx_ept *ept, const struct hvx_ept_mm *mm,
		 unsigned int memtype, bool ad)
{
	u64 hpa;

	ept->mm = mm;
	ept->root = mm->alloc(mm->ctx, &hpa);
	if (!ept->root)
		return -ENOMEM;
	ept->eptp = hvx_eptp_make(hpa, memtype, ad);
	if (hvx_eptp_check(ept->eptp)) {
		mm->free(mm->ctx, ept->root);
		ept->root = NULL;
		return -EINVAL;
	}
	return 0;
}

static void hvx_ept_free_table(struct hvx_ept *ept, u64 *table, int level)
{
	unsigned int i;

	for (i = 0; level > 1 && i < HVX_EPT_ENTRIES; i++) {
		u64 e = table[i];

		if (hvx_ept_present(e) && !hvx_ept_is_leaf(e, level))
			hvx_ept_free_table(ept, hvx_ept_child(ept, e, level),
					   level - 1);
	}
	ept->mm->free(ept->mm->ctx, table);
}

void hvx_ept_destroy(struct hvx_ept *ept)
{
	if (!ept->root)
		return;
	hvx_ept_free_table(ept, ept->root, HVX_EPT_LEVELS);
	ept->root = NULL;
}

int hvx_ept_map(struct hvx_ept *ept, u64 gpa, u64 hpa, int level, u64 attrs)
{
	u64 *table = ept->root;
	u64 leaf, *p;
	int l, ret;

	ret = hvx_ept_mk_leaf(hpa, level, attrs, &leaf);
	if (ret)
		return ret;
	if (gpa >= HVX_EPT_GPA_LIMIT || gpa & (HVX_EPT_LEVEL_SIZE(level) - 1))
		return -EINVAL;

	for (l = HVX_EPT_LEVELS; l > level; l--) {
		p = &table[hvx_ept_index(gpa, l)];
		if (!hvx_ept_present(*p)) {
			u64 hpa_table;
			u64 *t = ept->mm->alloc(ept->mm->ctx, &hpa_table);

			if (!t)
				return -ENOMEM;
			*p = hvx_ept_mk_table(hpa_table);
		} else if (hvx_ept_is_leaf(*p, l)) {
			return -EEXIST;
		}
		table = hvx_ept_child(ept, *p, l);
	}
	p = &table[hvx_ept_index(gpa, level)];
	if (hvx_ept_present(*p))
		return -EEXIST;
	*p = leaf;
	return 0;
}

/* Replace a large leaf by a table of 512 leaves one level down. */
static int hvx_ept_split(struct hvx_ept *ept, u64 *p, int level)
{
	u64 e = *p, attrs = e & HVX_EPT_ATTR_MASK;
	u64 base = hvx_ept_entry_addr(e, level);
	u64 step = HVX_EPT_LEVEL_SIZE(level - 1);
	u64 hpa, *t;
	unsigned int i;

	t = ept->mm->alloc(ept->mm->ctx, &hpa);
	if (!t)
		return -ENOMEM;
	for (i = 0; i < HVX_EPT_ENTRIES; i++)
		t[i] = (base + i * step) | attrs |
		       (level - 1 > 1 ? HVX_EPT_E_LARGE : 0);
	*p = hvx_ept_mk_table(hpa) | (e & HVX_EPT_E_ACCESSED);
	return 0;
}

static bool hvx_ept_table_empty(const u64 *t)
{
	unsigned int i;

	for (i = 0; i < HVX_EPT_ENTRIES; i++)
		if (hvx_ept_present(t[i]))
			return false;
	return true;
}

static int hvx_ept_clear_table(struct hvx_ept *ept, u64 *table, int level,
			       u64 base, u64 start, u64 end)
{
	u64 size = HVX_EPT_LEVEL_SIZE(level);
	unsigned int i = start > base ? hvx_ept_index(start, level) : 0;
	int ret;

	for (; i < HVX_EPT_ENTRIES; i++) {
		u64 g = base + i * size, *child;
		u64 s = start > g ? start : g;
		u64 t = end < g + size ? end : g + size;

		if (g >= end)
			break;
		if (!hvx_ept_present(table[i]))
			continue;
		if (s == g && t == g + size) {
			if (!hvx_ept_is_leaf(table[i], level))
				hvx_ept_free_table(ept,
						   hvx_ept_child(ept, table[i], level),
						   level - 1);
			table[i] = 0;
			continue;
		}
		if (hvx_ept_is_leaf(table[i], level)) {
			ret = hvx_ept_split(ept, &table[i], level);
			if (ret)
				return ret;
		}
		child = hvx_ept_child(ept, table[i], level);
		ret = hvx_ept_clear_table(ept, child, level - 1, g, s, t);
		if (ret)
			return ret;
		if (hvx_ept_table_empty(child)) {
			ept->mm->free(ept->mm->ctx, child);
			table[i] = 0;
		}
	}
	return 0;
}

int hvx_ept_clear(struct hvx_ept *ept, u64 gpa, u64 size)
{
	u64 mask = HVX_EPT_LEVEL_SIZE(1) - 1;

	if ((gpa | size) & mask || !size || gpa >= HVX_EPT_GPA_LIMIT ||
	    size > HVX_EPT_GPA_LIMIT - gpa)
		return -EINVAL;
	return hvx_ept_clear_table(ept, ept->root, HVX_EPT_LEVELS, 0, gpa,
				   gpa + size);
}

int hvx_ept_walk(const struct hvx_ept *ept, u64 gpa, struct hvx_ept_walk *w)
{
	u64 *table = ept->root;
	int l;

	if (gpa >= HVX_EPT_GPA_LIMIT)
		return -EINVAL;
	/* Level 1 entries are always leaves: the loop ends by returning. */
	for (l = HVX_EPT_LEVELS; ; l--) {
		u64 *p = &table[hvx_ept_index(gpa, l)];
		u64 e = *p;

		w->ptr[l] = p;
		w->entry[l] = e;
		w->level = l;
		if (!hvx_ept_present(e))
			return -ENOENT;
		if (hvx_ept_check_entry(e, l))
			return -EINVAL;
		if (hvx_ept_is_leaf(e, l)) {
			w->hpa = hvx_ept_entry_addr(e, l) |
				 (gpa & (HVX_EPT_LEVEL_SIZE(l) - 1));
			return 0;
		}
		table = hvx_ept_child(ept, e, l);
	}
}

static int hvx_ept_iter_table(const struct hvx_ept *ept, const u64 *table,
			      int level, u64 base, u64 sgpa, int slevel,
			      hvx_ept_iter_fn fn, void *arg)
{
	u64 size = HVX_EPT_LEVEL_SIZE(level);
	unsigned int i = sgpa > base ? hvx_ept_index(sgpa, level) : 0;
	int ret;

	for (; i < HVX_EPT_ENTRIES; i++) {
		u64 g = base + i * size, e = table[i];

		if (!hvx_ept_present(e))
			continue;
		if (g > sgpa || (g == sgpa && level <= slevel)) {
			ret = fn(arg, level, g, e);
			if (ret)
				return ret;
		}
		if (!hvx_ept_is_leaf(e, level)) {
			ret = hvx_ept_iter_table(ept, hvx_ept_child(ept, e, level),
						 level - 1, g, sgpa, slevel,
						 fn, arg);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int hvx_ept_iter(const struct hvx_ept *ept, u64 gpa, int level,
		 hvx_ept_iter_fn fn, void *arg)
{
	return hvx_ept_iter_table(ept, ept->root, HVX_EPT_LEVELS, 0, gpa, level,
				  fn, arg);
}
