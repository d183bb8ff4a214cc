// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the EPT format core (kmod/ept/hvx_ept_fmt.c), the code
 * hvx_ept.ko runs. Expected values are computed by hand from the SDM's EPTP
 * and EPT entry tables. Table "physical" addresses are the tables' own
 * (4 KiB aligned) host addresses, which fit the 51:12 address field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hvx_check.h"

#include "hvx_ept_fmt.h"

static int tables;	/* live paging-structure pages */

static u64 *host_alloc(void *ctx, u64 *hpa)
{
	u64 *t = aligned_alloc(4096, 4096);

	if (!t)
		return NULL;
	memset(t, 0, 4096);
	tables++;
	*hpa = (u64)(uintptr_t)t;
	return t;
}

static u64 *host_va(void *ctx, u64 hpa)
{
	return (u64 *)(uintptr_t)hpa;
}

static void host_free(void *ctx, u64 *t)
{
	tables--;
	free(t);
}

static const struct hvx_ept_mm host_mm = {
	.alloc = host_alloc,
	.va = host_va,
	.free = host_free,
};

static struct hvx_ept ept;

static void setup(void)
{
	tables = 0;
	ck_assert_int_eq(hvx_ept_init(&ept, &host_mm, HVX_EPT_MT_WB, true), 0);
	ck_assert_int_eq(tables, 1);
}

static void teardown(void)
{
	hvx_ept_destroy(&ept);
	ck_assert_int_eq(tables, 0);
}

static u64 *child(u64 e)
{
	return (u64 *)(uintptr_t)(e & HVX_EPT_E_ADDR_MASK);
}

#define RWX	(HVX_EPT_PERM_R | HVX_EPT_PERM_W | HVX_EPT_PERM_X)
#define RW	(HVX_EPT_PERM_R | HVX_EPT_PERM_W)

START_TEST(eptp_encoding)
{
	/* WB (6) | walk length 4 as 3 << 3 (0x18) | A/D bit 6 (0x40). */
	ck_assert_uint_eq(hvx_eptp_make(0x1000, HVX_EPT_MT_WB, true), 0x105e);
	ck_assert_uint_eq(hvx_eptp_make(0x1000, HVX_EPT_MT_WB, false), 0x101e);
	ck_assert_uint_eq(hvx_eptp_make(0x123456000ULL, HVX_EPT_MT_UC, false),
			  0x123456018ULL);
	ck_assert_int_eq(hvx_eptp_check(0x105e), 0);
	ck_assert_int_eq(hvx_eptp_check(0x1018), 0);
	/* WC is not allowed for the paging structures. */
	ck_assert_int_eq(hvx_eptp_check(0x1019), -EINVAL);
	/* Walk length 3 (encoded 2). */
	ck_assert_int_eq(hvx_eptp_check(0x1016), -EINVAL);
	/* Reserved bit 8. */
	ck_assert_int_eq(hvx_eptp_check(0x115e), -EINVAL);
	/* Bits above 51. */
	ck_assert_int_eq(hvx_eptp_check(0x105e | 1ULL << 52), -EINVAL);
	ck_assert_uint_eq(ept.eptp & 0xfff, 0x05e);
}
END_TEST

START_TEST(leaf_4k)
{
	u64 e;

	/* RWX (7) | WB 6 << 3 (0x30) | ignore PAT bit 6 (0x40) = 0x77. */
	ck_assert_int_eq(hvx_ept_mk_leaf(0x12345000, 1,
			 hvx_ept_attrs(RWX, HVX_EPT_MT_WB, true), &e), 0);
	ck_assert_uint_eq(e, 0x12345077);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x12345000, 1,
			 hvx_ept_attrs(HVX_EPT_PERM_R, HVX_EPT_MT_UC, false), &e),
			 0);
	ck_assert_uint_eq(e, 0x12345001);
	/* Execute-only is legal. */
	ck_assert_int_eq(hvx_ept_mk_leaf(0xfffffffff000ULL, 1,
			 hvx_ept_attrs(HVX_EPT_PERM_X, HVX_EPT_MT_WB, false), &e),
			 0);
	ck_assert_uint_eq(e, 0xfffffffff034ULL);
	/* Write without read, no access, misaligned, memtype 2: all refused. */
	ck_assert_int_eq(hvx_ept_mk_leaf(0x1000, 1,
			 hvx_ept_attrs(HVX_EPT_PERM_W, HVX_EPT_MT_WB, false), &e),
			 -EINVAL);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x1000, 1,
			 hvx_ept_attrs(0, HVX_EPT_MT_WB, false), &e), -EINVAL);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x12345800, 1,
			 hvx_ept_attrs(RWX, HVX_EPT_MT_WB, false), &e), -EINVAL);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x1000, 1,
			 hvx_ept_attrs(RWX, 2, false), &e), -EINVAL);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x1000, 4,
			 hvx_ept_attrs(RWX, HVX_EPT_MT_WB, false), &e), -EINVAL);
}
END_TEST

START_TEST(leaf_large)
{
	u64 e;

	/* 2 MiB: RW (3) | WB (0x30) | large bit 7 (0x80) = 0xb3. */
	ck_assert_int_eq(hvx_ept_mk_leaf(0x40000000, 2,
			 hvx_ept_attrs(RW, HVX_EPT_MT_WB, false), &e), 0);
	ck_assert_uint_eq(e, 0x400000b3);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x40001000, 2,
			 hvx_ept_attrs(RW, HVX_EPT_MT_WB, false), &e), -EINVAL);
	/* 1 GiB: RX (5) | WB (0x30) | IPAT (0x40) | large (0x80) = 0xf5. */
	ck_assert_int_eq(hvx_ept_mk_leaf(0x80000000, 3,
			 hvx_ept_attrs(HVX_EPT_PERM_R | HVX_EPT_PERM_X,
				       HVX_EPT_MT_WB, true), &e), 0);
	ck_assert_uint_eq(e, 0x800000f5);
	ck_assert_int_eq(hvx_ept_mk_leaf(0x80200000, 3,
			 hvx_ept_attrs(RWX, HVX_EPT_MT_WB, false), &e), -EINVAL);
}
END_TEST

START_TEST(check_entry)
{
	ck_assert_int_eq(hvx_ept_check_entry(0x400000b3, 2), 0);
	/* 2 MiB leaf with address bit 12 set: reserved (20:12). */
	ck_assert_int_eq(hvx_ept_check_entry(0x400010b3, 2), -EINVAL);
	/* 1 GiB leaf with bit 21 set: reserved (29:12). */
	ck_assert_int_eq(hvx_ept_check_entry(0x802000b3, 3), -EINVAL);
	/* PML4E: bit 7 is reserved, so is memory type 5:3. */
	ck_assert_int_eq(hvx_ept_check_entry(0x1087, 4), -EINVAL);
	ck_assert_int_eq(hvx_ept_check_entry(0x1037, 4), -EINVAL);
	ck_assert_int_eq(hvx_ept_check_entry(0x1107, 4), 0);
	/* Non-leaf PDE: 6:3 reserved. */
	ck_assert_int_eq(hvx_ept_check_entry(0x1047, 2), -EINVAL);
	/* W without R at any level. */
	ck_assert_int_eq(hvx_ept_check_entry(0x1032, 1), -EINVAL);
	ck_assert_int_eq(hvx_ept_check_entry(0x1002, 4), -EINVAL);
	/* Leaf memory type 7 is reserved. */
	ck_assert_int_eq(hvx_ept_check_entry(0x103f, 1), -EINVAL);
	/* Not present: everything else is ignored. */
	ck_assert_int_eq(hvx_ept_check_entry(0xfffffffffffffff8ULL, 1), 0);
}
END_TEST

START_TEST(map_walk_4k)
{
	struct hvx_ept_walk w;
	u64 *pdpt, *pd, *pt;

	ck_assert_int_eq(hvx_ept_map(&ept, 0x12345000, 0xabcde000, 1,
			 hvx_ept_attrs(RWX, HVX_EPT_MT_WB, true)), 0);
	/* PML4 0, PDPT 0, PD 0x12345000 >> 21 = 0x91, PT 0x12345 & 0x1ff. */
	ck_assert_int_eq(tables, 4);
	ck_assert_uint_eq(ept.root[0] & 0xfff, 0x007);
	pdpt = child(ept.root[0]);
	ck_assert_uint_eq(pdpt[0] & 0xfff, 0x007);
	pd = child(pdpt[0]);
	ck_assert_uint_eq(pd[0x90], 0);
	pt = child(pd[0x91]);
	ck_assert_uint_eq(pt[0x145], 0xabcde077);
	ck_assert_uint_eq(pt[0x144], 0);

	ck_assert_int_eq(hvx_ept_walk(&ept, 0x12345678, &w), 0);
	ck_assert_int_eq(w.level, 1);
	ck_assert_uint_eq(w.hpa, 0xabcde678);
	ck_assert_ptr_eq(w.ptr[1], &pt[0x145]);
	ck_assert_uint_eq(w.entry[2], pd[0x91]);

	ck_assert_int_eq(hvx_ept_walk(&ept, 0x12346000, &w), -ENOENT);
	ck_assert_int_eq(w.level, 1);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x40000000, &w), -ENOENT);
	ck_assert_int_eq(w.level, 3);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x8000000000ULL, &w), -ENOENT);
	ck_assert_int_eq(w.level, 4);

	ck_assert_int_eq(hvx_ept_map(&ept, 0x12345000, 0x1000, 1,
			 hvx_ept_attrs(RWX, HVX_EPT_MT_WB, true)), -EEXIST);
}
END_TEST

START_TEST(map_indices)
{
	/* 2^39 + 2^30 + 2^21 + 2^12: index 1 at every level. */
	const u64 gpa = 0x8040201000ULL;
	u64 *pdpt, *pd, *pt;

	ck_assert_uint_eq(hvx_ept_index(gpa, 4), 1);
	ck_assert_uint_eq(hvx_ept_index(gpa, 3), 1);
	ck_assert_uint_eq(hvx_ept_index(gpa, 2), 1);
	ck_assert_uint_eq(hvx_ept_index(gpa, 1), 1);
	ck_assert_int_eq(hvx_ept_map(&ept, gpa, 0x5000, 1,
			 hvx_ept_attrs(HVX_EPT_PERM_R, HVX_EPT_MT_WB, false)), 0);
	ck_assert_uint_eq(ept.root[0], 0);
	pdpt = child(ept.root[1]);
	pd = child(pdpt[1]);
	pt = child(pd[1]);
	ck_assert_uint_eq(pt[1], 0x5031);
}
END_TEST

START_TEST(map_large)
{
	struct hvx_ept_walk w;
	u64 attrs = hvx_ept_attrs(RW, HVX_EPT_MT_WB, false);
	u64 *pdpt, *pd;

	ck_assert_int_eq(hvx_ept_map(&ept, 0x200000, 0x40000000, 2, attrs), 0);
	pdpt = child(ept.root[0]);
	pd = child(pdpt[0]);
	ck_assert_uint_eq(pd[1], 0x400000b3);
	ck_assert_int_eq(tables, 3);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x2abcde, &w), 0);
	ck_assert_int_eq(w.level, 2);
	ck_assert_uint_eq(w.hpa, 0x400abcde);

	ck_assert_int_eq(hvx_ept_map(&ept, 0x40000000, 0x80000000, 3, attrs), 0);
	ck_assert_uint_eq(pdpt[1], 0x800000b3);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x7fffffff, &w), 0);
	ck_assert_int_eq(w.level, 3);
	ck_assert_uint_eq(w.hpa, 0xbfffffff);

	/* Inside a large page, or a large page over a table: overlap. */
	ck_assert_int_eq(hvx_ept_map(&ept, 0x201000, 0x1000, 1, attrs), -EEXIST);
	ck_assert_int_eq(hvx_ept_map(&ept, 0x40200000, 0x200000, 2, attrs),
			 -EEXIST);
	ck_assert_int_eq(hvx_ept_map(&ept, 0x400000, 0x1000, 1, attrs), 0);
	ck_assert_int_eq(hvx_ept_map(&ept, 0x400000, 0x200000, 2, attrs),
			 -EEXIST);
	ck_assert_int_eq(hvx_ept_map(&ept, 0x0, 0x40000000, 3, attrs), -EEXIST);
	/* Misaligned GPA. */
	ck_assert_int_eq(hvx_ept_map(&ept, 0x801000, 0x200000, 2, attrs),
			 -EINVAL);
}
END_TEST

START_TEST(clear_split_2m)
{
	struct hvx_ept_walk w;
	u64 attrs = hvx_ept_attrs(RW, HVX_EPT_MT_WB, false);

	ck_assert_int_eq(hvx_ept_map(&ept, 0x200000, 0x40000000, 2, attrs), 0);
	ck_assert_int_eq(hvx_ept_clear(&ept, 0x201000, 0x1000), 0);
	ck_assert_int_eq(tables, 4);

	ck_assert_int_eq(hvx_ept_walk(&ept, 0x200000, &w), 0);
	ck_assert_int_eq(w.level, 1);
	ck_assert_uint_eq(w.hpa, 0x40000000);
	/* The split leaves keep perm and memory type, lose the large bit. */
	ck_assert_uint_eq(w.entry[1], 0x40000033);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x201000, &w), -ENOENT);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x202000, &w), 0);
	ck_assert_uint_eq(w.hpa, 0x40002000);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x3ff000, &w), 0);
	ck_assert_uint_eq(w.hpa, 0x401ff000);

	/* Clearing the rest frees PT, PD and PDPT: only the PML4 is left. */
	ck_assert_int_eq(hvx_ept_clear(&ept, 0x200000, 0x200000), 0);
	ck_assert_int_eq(tables, 1);
	ck_assert_uint_eq(ept.root[0], 0);

	ck_assert_int_eq(hvx_ept_clear(&ept, 0x200000, 0x800), -EINVAL);
	ck_assert_int_eq(hvx_ept_clear(&ept, 0, 0), -EINVAL);
}
END_TEST

START_TEST(clear_split_1g)
{
	struct hvx_ept_walk w;
	u64 attrs = hvx_ept_attrs(RWX, HVX_EPT_MT_WB, true);

	ck_assert_int_eq(hvx_ept_map(&ept, 0x40000000, 0x80000000, 3, attrs), 0);
	ck_assert_int_eq(hvx_ept_clear(&ept, 0x40200000, 0x1000), 0);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x40000000, &w), 0);
	ck_assert_int_eq(w.level, 2);
	ck_assert_uint_eq(w.entry[2], 0x800000f7);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x40200000, &w), -ENOENT);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x40201000, &w), 0);
	ck_assert_int_eq(w.level, 1);
	ck_assert_uint_eq(w.hpa, 0x80201000);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x7fe00abc, &w), 0);
	ck_assert_int_eq(w.level, 2);
	ck_assert_uint_eq(w.hpa, 0xbfe00abc);
}
END_TEST

struct seen {
	int n, stop_after;
	int level[16];
	u64 gpa[16];
};

static int record(void *arg, int level, u64 gpa, u64 e)
{
	struct seen *s = arg;

	ck_assert(hvx_ept_present(e));
	s->level[s->n] = level;
	s->gpa[s->n] = gpa;
	if (++s->n == s->stop_after)
		return 42;
	return 0;
}

START_TEST(iter_order_resume)
{
	u64 attrs = hvx_ept_attrs(RWX, HVX_EPT_MT_WB, false);
	struct seen s = { 0 };

	ck_assert_int_eq(hvx_ept_map(&ept, 0x1000, 0x9000, 1, attrs), 0);
	ck_assert_int_eq(hvx_ept_map(&ept, 0x200000, 0x200000, 2, attrs), 0);
	ck_assert_int_eq(hvx_ept_map(&ept, 0x40000000, 0x40000000, 3, attrs), 0);

	ck_assert_int_eq(hvx_ept_iter(&ept, 0, HVX_EPT_LEVELS, record, &s), 0);
	ck_assert_int_eq(s.n, 6);
	ck_assert_int_eq(s.level[0], 4);
	ck_assert_uint_eq(s.gpa[0], 0);
	ck_assert_int_eq(s.level[1], 3);
	ck_assert_int_eq(s.level[2], 2);
	ck_assert_int_eq(s.level[3], 1);
	ck_assert_uint_eq(s.gpa[3], 0x1000);
	ck_assert_int_eq(s.level[4], 2);
	ck_assert_uint_eq(s.gpa[4], 0x200000);
	ck_assert_int_eq(s.level[5], 3);
	ck_assert_uint_eq(s.gpa[5], 0x40000000);

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(hvx_ept_iter(&ept, 0x200000, 2, record, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.gpa[0], 0x200000);
	ck_assert_uint_eq(s.gpa[1], 0x40000000);

	/* Resuming at a PTE's GPA skips the tables above it. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(hvx_ept_iter(&ept, 0x1000, 1, record, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.level[0], 1);

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	ck_assert_int_eq(hvx_ept_iter(&ept, 0, HVX_EPT_LEVELS, record, &s), 42);
	ck_assert_int_eq(s.n, 2);
}
END_TEST

START_TEST(walk_misconfig)
{
	struct hvx_ept_walk w;

	ck_assert_int_eq(hvx_ept_map(&ept, 0x3000, 0x7000, 1,
			 hvx_ept_attrs(RW, HVX_EPT_MT_WB, false)), 0);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x3000, &w), 0);
	/* Turn the PTE into write-only: an EPT misconfiguration. */
	*w.ptr[1] &= ~HVX_EPT_E_READ;
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x3000, &w), -EINVAL);
	ck_assert_int_eq(w.level, 1);
	*w.ptr[1] |= HVX_EPT_E_READ;
	/* A reserved bit (3) in the non-leaf PDE. */
	*w.ptr[2] |= 1 << 3;
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x3000, &w), -EINVAL);
	ck_assert_int_eq(w.level, 2);
	*w.ptr[2] &= ~(1ULL << 3);
	ck_assert_int_eq(hvx_ept_walk(&ept, 0x3000, &w), 0);
}
END_TEST

START_TEST(gpa_limit)
{
	struct hvx_ept_walk w;
	u64 attrs = hvx_ept_attrs(RW, HVX_EPT_MT_WB, false);

	ck_assert_int_eq(hvx_ept_map(&ept, 1ULL << 48, 0x1000, 1, attrs),
			 -EINVAL);
	ck_assert_int_eq(hvx_ept_walk(&ept, 1ULL << 48, &w), -EINVAL);
	ck_assert_int_eq(hvx_ept_clear(&ept, (1ULL << 48) - 0x1000, 0x2000),
			 -EINVAL);
	/* The last page a 4-level EPT translates. */
	ck_assert_int_eq(hvx_ept_map(&ept, (1ULL << 48) - 0x1000, 0x1000, 1,
			 attrs), 0);
	ck_assert_int_eq(hvx_ept_walk(&ept, (1ULL << 48) - 1, &w), 0);
	ck_assert_uint_eq(w.hpa, 0x1fff);
	ck_assert_int_eq(hvx_ept_clear(&ept, (1ULL << 48) - 0x1000, 0x1000), 0);
	ck_assert_int_eq(tables, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ept_fmt");
	TCase *tc = tcase_create("sdm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, eptp_encoding);
	tcase_add_test(tc, leaf_4k);
	tcase_add_test(tc, leaf_large);
	tcase_add_test(tc, check_entry);
	tcase_add_test(tc, map_walk_4k);
	tcase_add_test(tc, map_indices);
	tcase_add_test(tc, map_large);
	tcase_add_test(tc, clear_split_2m);
	tcase_add_test(tc, clear_split_1g);
	tcase_add_test(tc, iter_order_resume);
	tcase_add_test(tc, walk_misconfig);
	tcase_add_test(tc, gpa_limit);
	suite_add_tcase(s, tc);

	return hvx_check_run(s);
}
