// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the hvx_iommu translation core, compiled from the module's
 * own kmod/iommu/hvx_iommu_xlat.c. Commands are encoded here the way
 * Linux 6.1's drivers/iommu/amd/iommu.c builds them (build_*()), events the
 * way iommu_print_event() and the PPR handler parse them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hvx_check.h"

#include "hvx_iommu_xlat.h"

static struct hvx_iommu_maps *maps;

static void map(struct hvx_iommu_idmap *g2h, struct hvx_iommu_idmap *h2g,
		u16 g, u16 h)
{
	ck_assert_int_eq(hvx_iommu_idmap_set(g2h, g, h), 0);
	ck_assert_int_eq(hvx_iommu_idmap_set(h2g, h, g), 0);
}

static void setup(void)
{
	maps = calloc(1, sizeof(*maps));
	ck_assert_ptr_nonnull(maps);
	map(&maps->dom_g2h, &maps->dom_h2g, 5, 0x1234);
	map(&maps->dom_g2h, &maps->dom_h2g, 0xffff, 0x0001);
	map(&maps->dev_g2h, &maps->dev_h2g, 0x0010, 0x8a03);	/* 00:02.0 */
	map(&maps->dev_g2h, &maps->dev_h2g, 0x00a0, 0x0100);	/* 00:14.0 */
}

static void teardown(void)
{
	hvx_iommu_idmap_free(&maps->dom_g2h);
	hvx_iommu_idmap_free(&maps->dom_h2g);
	hvx_iommu_idmap_free(&maps->dev_g2h);
	hvx_iommu_idmap_free(&maps->dev_h2g);
	free(maps);
}

static struct hvx_iommu_entry ent(u32 a, u32 b, u32 c, u32 d)
{
	struct hvx_iommu_entry e = { { a, b, c, d } };

	return e;
}

#define ck_assert_entry(e, a, b, c, d) do {				\
	ck_assert_uint_eq((e).dw[0], (a));				\
	ck_assert_uint_eq((e).dw[1], (b));				\
	ck_assert_uint_eq((e).dw[2], (c));				\
	ck_assert_uint_eq((e).dw[3], (d));				\
} while (0)

/* Linux's CMD_SET_TYPE and builders, field for field. */
static void set_type(struct hvx_iommu_entry *c, u32 t)
{
	c->dw[1] |= (t & 0x0f) << 28;
}

static struct hvx_iommu_entry build_completion_wait(u64 paddr, u64 data)
{
	struct hvx_iommu_entry c = ent(0, 0, 0, 0);

	c.dw[0] = (u32)paddr | 0x01;
	c.dw[1] = (u32)(paddr >> 32);
	c.dw[2] = (u32)data;
	c.dw[3] = (u32)(data >> 32);
	set_type(&c, 0x01);
	return c;
}

static struct hvx_iommu_entry build_inv_iommu_pages(u64 inv_address, u16 domid,
						    int pde)
{
	struct hvx_iommu_entry c = ent(0, 0, 0, 0);

	c.dw[1] |= domid;
	c.dw[2] = (u32)inv_address;
	c.dw[3] = (u32)(inv_address >> 32);
	set_type(&c, 0x03);
	if (pde)
		c.dw[2] |= 0x02;
	return c;
}

static struct hvx_iommu_entry build_inv_iotlb_pasid(u16 devid, u32 pasid,
						    int qdep, u64 address,
						    int size)
{
	struct hvx_iommu_entry c = ent(0, 0, 0, 0);

	address &= ~0xfffULL;
	c.dw[0] = devid;
	c.dw[0] |= ((pasid >> 8) & 0xff) << 16;
	c.dw[0] |= (qdep & 0xff) << 24;
	c.dw[1] = devid;
	c.dw[1] |= (pasid & 0xff) << 16;
	c.dw[2] = (u32)address;
	c.dw[2] |= 0x04;
	c.dw[3] = (u32)(address >> 32);
	if (size)
		c.dw[2] |= 0x01;
	set_type(&c, 0x04);
	return c;
}

static struct hvx_iommu_entry build_complete_ppr(u16 devid, u32 pasid,
						 int status, int tag)
{
	struct hvx_iommu_entry c = ent(0, 0, 0, 0);

	c.dw[0] = devid;
	c.dw[1] = pasid;
	c.dw[2] = 0x04;
	c.dw[3] = tag & 0x1ff;
	c.dw[3] |= (status & 0xf) << 12;
	set_type(&c, 0x07);
	return c;
}

static struct hvx_iommu_entry devid_cmd(u8 op, u16 devid)
{
	struct hvx_iommu_entry c = ent(devid, 0, 0, 0);

	set_type(&c, op);
	return c;
}

START_TEST(reference_completion_wait)
{
	struct hvx_iommu_entry in = ent(0x00835001, 0x10000001, 0x00003c00, 0);
	struct hvx_iommu_entry lx = build_completion_wait(0x100835000ULL, 0x3c00);
	struct hvx_iommu_entry out;

	ck_assert_mem_eq(&in, &lx, sizeof(in));
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_mem_eq(&in, &out, sizeof(in));
	ck_assert_uint_eq(hvx_iommu_entry_type(&out), HVX_IOMMU_CMD_COMPLETION_WAIT);
	ck_assert_uint_eq(hvx_iommu_cw_addr(&out), 0x100835000ULL);
	ck_assert_uint_eq(hvx_iommu_cw_data(&out), 0x3c00);
	ck_assert(out.dw[0] & HVX_IOMMU_CW_STORE);
	ck_assert(!(out.dw[0] & HVX_IOMMU_CW_INT));
}
END_TEST

START_TEST(reference_inv_iommu_pages)
{
	struct hvx_iommu_entry in = ent(0x00000000, 0x30000005, 0xfffff003,
					0x7fffffff);
	/* build_inv_address() of a whole-space flush, PDE set. */
	struct hvx_iommu_entry lx = build_inv_iommu_pages(0x7ffffffffffff001ULL,
							  5, 1);
	struct hvx_iommu_entry out;

	ck_assert_mem_eq(&in, &lx, sizeof(in));
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x00000000, 0x30001234, 0xfffff003, 0x7fffffff);
}
END_TEST

START_TEST(every_opcode)
{
	struct hvx_iommu_entry in, out;

	in = devid_cmd(0x02, 0x0010);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x8a03, 0x20000000, 0, 0);

	in = build_inv_iommu_pages(0x4000, 0xffff, 0);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0, 0x30000001, 0x4000, 0);

	in = build_inv_iotlb_pasid(0x00a0, 0x1234, 32, 0x12345678000ULL, 1);
	ck_assert_entry(in, 0x201200a0, 0x403400a0, 0x45678005, 0x123);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x20120100, 0x40340100, 0x45678005, 0x123);

	in = devid_cmd(0x05, 0x00a0);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x0100, 0x50000000, 0, 0);

	/* PREFETCH_IOMMU_PAGES: PFCount 4, PASID 7, S and GN. */
	in = ent(0x04000010, 0x60000007, 0xabcde005, 0x1);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x04008a03, 0x60000007, 0xabcde005, 0x1);

	in = build_complete_ppr(0x0010, 0x12345, 0x1, 0x1ff);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x8a03, 0x70012345, 0x4, 0x11ff);

	in = ent(0, 0x80000000, 0, 0);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0, 0x80000000, 0, 0);
}
END_TEST

START_TEST(unknown_opcodes)
{
	static const u8 bad[] = { 0x0, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf };
	struct hvx_iommu_entry in, out;
	unsigned int i;

	for (i = 0; i < sizeof(bad); i++) {
		in = devid_cmd(bad[i], 0x10);
		ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out),
				 HVX_XLAT_BAD_OPCODE);
	}
}
END_TEST

START_TEST(unmapped_ids)
{
	struct hvx_iommu_entry in, out;

	in = build_inv_iommu_pages(0, 6, 0);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_UNMAPPED);
	/* Host IDs are not guest IDs: 0x1234 is only a host domain. */
	in = build_inv_iommu_pages(0, 0x1234, 0);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_UNMAPPED);
	in = devid_cmd(0x02, 0x8a03);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_UNMAPPED);
	in = devid_cmd(0x05, 0x11);
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_UNMAPPED);
	/* IOTLB with a mapped DeviceID but an unmapped QueueId. */
	in = build_inv_iotlb_pasid(0x0010, 0, 0, 0, 0);
	in.dw[1] = (in.dw[1] & 0xffff0000) | 0x0011;
	ck_assert_int_eq(hvx_iommu_xlat_cmd(maps, &in, &out), HVX_XLAT_UNMAPPED);
}
END_TEST

/*
 * Every bit of every opcode: a reserved bit makes the command illegal, any
 * other bit is carried to the host command unchanged, except the ID fields.
 */
struct opdesc {
	u8 op;
	u32 rsvd[4];
	u32 id[4];	/* bits holding a translated ID */
};

static const struct opdesc ops[] = {
	{ 0x01, { 0, 0x0ff00000, 0, 0 }, { 0, 0, 0, 0 } },
	{ 0x02, { 0xffff0000, 0x0fffffff, ~0u, ~0u }, { 0xffff, 0, 0, 0 } },
	{ 0x03, { 0xfff00000, 0x0fff0000, 0xff8, 0 }, { 0, 0xffff, 0, 0 } },
	{ 0x04, { 0, 0x0f000000, 0xffa, 0 }, { 0xffff, 0xffff, 0, 0 } },
	{ 0x05, { 0xffff0000, 0x0fffffff, ~0u, ~0u }, { 0xffff, 0, 0, 0 } },
	{ 0x06, { 0x00ff0000, 0x0ff00000, 0xfea, 0 }, { 0xffff, 0, 0, 0 } },
	{ 0x07, { 0xffff0000, 0x0ff00000, 0xfffffffb, 0xffff0000 },
	  { 0xffff, 0, 0, 0 } },
	{ 0x08, { ~0u, 0x0fffffff, ~0u, ~0u }, { 0, 0, 0, 0 } },
};

START_TEST(every_bit)
{
	const struct opdesc *d = &ops[_i];
	struct hvx_iommu_entry base = ent(0, (u32)d->op << 28, 0, 0), in, out;
	int dw, bit, ok = 0, rsvd = 0;

	/* Guest IDs 0x0010 (device) and 5 (domain) are mapped. */
	if (d->id[0])
		base.dw[0] |= 0x0010;
	if (d->id[1])
		base.dw[1] |= d->op == 0x03 ? 5 : 0x0010;

	for (dw = 0; dw < 4; dw++) {
		for (bit = 0; bit < 32; bit++) {
			u32 m = 1u << bit;

			if ((dw == 1 && bit >= 28) || (d->id[dw] & m))
				continue;
			in = base;
			in.dw[dw] |= m;
			if (d->rsvd[dw] & m) {
				ck_assert_msg(hvx_iommu_xlat_cmd(maps, &in, &out) ==
					      HVX_XLAT_RESERVED,
					      "op %u dw %d bit %d not reserved",
					      d->op, dw, bit);
				rsvd++;
				continue;
			}
			ck_assert_msg(hvx_iommu_xlat_cmd(maps, &in, &out) ==
				      HVX_XLAT_OK, "op %u dw %d bit %d refused",
				      d->op, dw, bit);
			ck_assert_uint_eq(out.dw[dw] & m, m);
			for (int k = 0; k < 4; k++)
				ck_assert_uint_eq(out.dw[k] & ~d->id[k],
						  in.dw[k] & ~d->id[k]);
			ok++;
		}
	}
	/* Every bit but the opcode and the ID fields was tried. */
	ck_assert_int_eq(ok + rsvd, 124 - __builtin_popcount(d->id[0]) -
			 __builtin_popcount(d->id[1]));
}
END_TEST

START_TEST(event_io_page_fault)
{
	/* IO_PAGE_FAULT, host device 0x8a03, host domain 0x1234, RW|I flags. */
	struct hvx_iommu_entry in = ent(0x00008a03, 0x20281234, 0xdead0000, 0x7f);
	struct hvx_iommu_entry out;

	ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x0010, 0x20280005, 0xdead0000, 0x7f);
	/* As iommu_print_event() reads it. */
	ck_assert_uint_eq((out.dw[1] >> 28) & 0xf, 0x2);
	ck_assert_uint_eq(out.dw[0] & 0xffff, 0x0010);
	ck_assert_uint_eq((out.dw[1] >> 16) & 0xfff, 0x028);

	/* GN set: dword 1 15:0 is a PASID and passes unchanged. */
	in = ent(0x00038a03, 0x20299999, 0x1000, 0);
	ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x00030010, 0x20299999, 0x1000, 0);

	/* Device of this VM, domain of nobody: not delivered. */
	in = ent(0x00008a03, 0x20280777, 0, 0);
	ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out), HVX_XLAT_UNMAPPED);
	/* A device this VM does not own. */
	in = ent(0x00008a04, 0x20281234, 0, 0);
	ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out), HVX_XLAT_UNMAPPED);
}
END_TEST

START_TEST(event_device_types)
{
	static const u8 types[] = { 0x1, 0x3, 0x7, 0x8, 0x9 };
	struct hvx_iommu_entry in, out;
	unsigned int i;

	for (i = 0; i < sizeof(types); i++) {
		in = ent(0x00050100, ((u32)types[i] << 28) | 0x00201234, 0x5000, 1);
		ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out), HVX_XLAT_OK);
		ck_assert_entry(out, 0x000500a0, in.dw[1], 0x5000, 1);
	}
	/* PAGE_TAB_HARDWARE_ERROR carries the domain like a page fault. */
	in = ent(0x0100, 0x40001234, 0x2000, 0);
	ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x00a0, 0x40000005, 0x2000, 0);
}
END_TEST

START_TEST(event_not_routable)
{
	static const u8 types[] = { 0x0, 0x5, 0x6, 0xa, 0xb, 0xd, 0xe, 0xf };
	struct hvx_iommu_entry in, out;
	unsigned int i;

	for (i = 0; i < sizeof(types); i++) {
		in = ent(0x8a03, (u32)types[i] << 28, 0, 0);
		ck_assert_int_eq(hvx_iommu_xlat_event(maps, &in, &out),
				 HVX_XLAT_NOT_ROUTABLE);
	}
}
END_TEST

START_TEST(ppr_request)
{
	/* PPR_REQUEST: PASID 0x12345, tag 0x3ff, flags, address. */
	struct hvx_iommu_entry in = ent(0x23458a03, 0x1007 << 16 | 0x07ff,
					0xcafe0000, 0x1);
	struct hvx_iommu_entry out;
	u64 raw;

	in.dw[1] |= 1u << 28;
	ck_assert_int_eq(hvx_iommu_xlat_ppr(maps, &in, &out), HVX_XLAT_OK);
	ck_assert_entry(out, 0x23450010, in.dw[1], 0xcafe0000, 0x1);
	/* Linux's PPR_* accessors on the first quadword. */
	raw = ((u64)out.dw[1] << 32) | out.dw[0];
	ck_assert_uint_eq((raw >> 60) & 0xf, 1);
	ck_assert_uint_eq(raw & 0xffff, 0x0010);
	ck_assert_uint_eq((raw >> 32) & 0x3ff, 0x3ff);
	ck_assert_uint_eq((((raw >> 42) & 0xf) << 16) | ((raw >> 16) & 0xffff),
			  0x12345);

	in.dw[0] = 0x8a04;
	ck_assert_int_eq(hvx_iommu_xlat_ppr(maps, &in, &out), HVX_XLAT_UNMAPPED);
	in.dw[0] = 0x8a03;
	in.dw[1] = 2u << 28;
	ck_assert_int_eq(hvx_iommu_xlat_ppr(maps, &in, &out),
			 HVX_XLAT_NOT_ROUTABLE);
}
END_TEST

START_TEST(command_error_event)
{
	struct hvx_iommu_entry ev;

	hvx_iommu_cmd_error_event(&ev, HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR,
				  0x123456789f0ULL);
	ck_assert_entry(ev, 0, 0x50000000, 0x456789f0, 0x123);
	hvx_iommu_cmd_error_event(&ev, HVX_IOMMU_EV_COMMAND_HARDWARE_ERROR, 8);
	ck_assert_entry(ev, 0, 0x60000000, 8, 0);
}
END_TEST

START_TEST(idmap_every_id)
{
	struct hvx_iommu_idmap *m = calloc(1, sizeof(*m));
	unsigned int id;

	ck_assert_ptr_nonnull(m);
	for (id = 0; id < 0x10000; id++)
		ck_assert_int_eq(hvx_iommu_idmap_lookup(m, id), -1);
	for (id = 0; id < 0x10000; id += 3)
		ck_assert_int_eq(hvx_iommu_idmap_set(m, id, 0xffff - id), 0);
	for (id = 0; id < 0x10000; id++)
		ck_assert_int_eq(hvx_iommu_idmap_lookup(m, id),
				 id % 3 ? -1 : (int)(0xffff - id));
	for (id = 0; id < 0x10000; id += 6)
		hvx_iommu_idmap_clear(m, id);
	for (id = 0; id < 0x10000; id++)
		ck_assert_int_eq(hvx_iommu_idmap_lookup(m, id),
				 id % 3 || !(id % 6) ? -1 : (int)(0xffff - id));
	/* Clearing an ID whose leaf was never allocated is harmless. */
	hvx_iommu_idmap_free(m);
	hvx_iommu_idmap_clear(m, 0x4242);
	ck_assert_int_eq(hvx_iommu_idmap_lookup(m, 0x4242), -1);
	free(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("iommu_xlat");
	TCase *tc = tcase_create("xlat");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reference_completion_wait);
	tcase_add_test(tc, reference_inv_iommu_pages);
	tcase_add_test(tc, every_opcode);
	tcase_add_test(tc, unknown_opcodes);
	tcase_add_test(tc, unmapped_ids);
	tcase_add_loop_test(tc, every_bit, 0, sizeof(ops) / sizeof(ops[0]));
	tcase_add_test(tc, event_io_page_fault);
	tcase_add_test(tc, event_device_types);
	tcase_add_test(tc, event_not_routable);
	tcase_add_test(tc, ppr_request);
	tcase_add_test(tc, command_error_event);
	tcase_add_test(tc, idmap_every_id);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hvx_check_run(suite());
}
