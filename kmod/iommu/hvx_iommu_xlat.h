/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Translation core: decode, validate and rewrite AMD IOMMU commands from
 * guest IDs to host IDs, and event/PPR log entries from host IDs to guest
 * IDs. Pure C with no kernel-only dependency: the module, the host unit
 * tests and the host micro-benchmark all compile hvx_iommu_xlat.c.
 */
#ifndef _HVX_IOMMU_XLAT_H
#define _HVX_IOMMU_XLAT_H

#include "hvx_iommu_compat.h"
#include <linux/hvx_iommu.h>

/* One command, event or PPR entry, as four little-endian dwords. */
struct hvx_iommu_entry {
	u32 dw[4];
};

/*
 * A 16-bit ID map, laid out like a two-level page table so that a lookup
 * is two dependent loads and no lock: readers run under RCU, writers
 * (serialised by the caller) only publish zeroed leaves and store single
 * words. Leaves are freed only with the whole map, once no reader can be
 * left (see hvx_iommu_idmap_free()).
 */
#define HVX_IOMMU_ID_VALID	0x80000000u

struct hvx_iommu_idleaf {
	u32 ent[256];
};

struct hvx_iommu_idmap {
	struct hvx_iommu_idleaf __rcu *leaf[256];
};

/* The four maps of one VM: each mapping is stored in both directions. */
struct hvx_iommu_maps {
	struct hvx_iommu_idmap dom_g2h;
	struct hvx_iommu_idmap dom_h2g;
	struct hvx_iommu_idmap dev_g2h;
	struct hvx_iommu_idmap dev_h2g;
};

/* Returns the mapped ID or -1. Call under rcu_read_lock() in the kernel. */
static inline int hvx_iommu_idmap_lookup(const struct hvx_iommu_idmap *m,
					 u16 id)
{
	const struct hvx_iommu_idleaf *leaf = hvx_rcu_deref(m->leaf[id >> 8]);
	u32 e;

	if (unlikely(!leaf))
		return -1;
	e = READ_ONCE(leaf->ent[id & 0xff]);
	return e & HVX_IOMMU_ID_VALID ? (int)(e & 0xffff) : -1;
}

int hvx_iommu_idmap_set(struct hvx_iommu_idmap *m, u16 id, u16 val);
void hvx_iommu_idmap_clear(struct hvx_iommu_idmap *m, u16 id);
void hvx_iommu_idmap_free(struct hvx_iommu_idmap *m);

/*
 * Why a command or log entry was refused. The first three make a guest
 * command an ILLEGAL_COMMAND_ERROR.
 */
enum hvx_iommu_xlat_err {
	HVX_XLAT_OK,
	HVX_XLAT_BAD_OPCODE,	/* unknown command opcode */
	HVX_XLAT_RESERVED,	/* a reserved bit is set */
	HVX_XLAT_UNMAPPED,	/* an ID this VM has no mapping for */
	HVX_XLAT_NOT_ROUTABLE,	/* event type that names no device */
};

int hvx_iommu_xlat_cmd(const struct hvx_iommu_maps *maps,
		       const struct hvx_iommu_entry *in,
		       struct hvx_iommu_entry *out);
int hvx_iommu_xlat_event(const struct hvx_iommu_maps *maps,
			 const struct hvx_iommu_entry *in,
			 struct hvx_iommu_entry *out);
int hvx_iommu_xlat_ppr(const struct hvx_iommu_maps *maps,
		       const struct hvx_iommu_entry *in,
		       struct hvx_iommu_entry *out);

/* The event the IOMMU logs for a refused command or a failed store. */
void hvx_iommu_cmd_error_event(struct hvx_iommu_entry *ev, u8 code, u64 addr);

static inline u8 hvx_iommu_entry_type(const struct hvx_iommu_entry *e)
{
	return e->dw[1] >> 28;
}

/* COMPLETION_WAIT fields: S and I flags, StoreAddr[51:3], StoreData. */
#define HVX_IOMMU_CW_STORE	0x1u
#define HVX_IOMMU_CW_INT	0x2u

static inline u64 hvx_iommu_cw_addr(const struct hvx_iommu_entry *e)
{
	return ((u64)(e->dw[1] & 0xfffff) << 32) | (e->dw[0] & ~7u);
}

static inline u64 hvx_iommu_cw_data(const struct hvx_iommu_entry *e)
{
	return ((u64)e->dw[3] << 32) | e->dw[2];
}

#endif /* _HVX_IOMMU_XLAT_H */
