// SPDX-License-Identifier: GPL-2.0
/*
 * Translation core, shared by hvx_iommu.ko and the host tests and
 * benchmark: nothing here may depend on more than hvx_iommu_compat.h.
 *
 * Bit layouts follow the AMD I/O Virtualization Technology specification
 * (48882) as Linux's drivers/iommu/amd builds and parses them: the opcode
 * or event code in dword 1 bits 31:28, DeviceID in dword 0 bits 15:0,
 * DomainID of INVALIDATE_IOMMU_PAGES in dword 1 bits 15:0.
 */
#include "hvx_iommu_xlat.h"

int hvx_iommu_idmap_set(struct hvx_iommu_idmap *m, u16 id, u16 val)
{
	struct hvx_iommu_idleaf *leaf = hvx_rcu_deref_locked(m->leaf[id >> 8]);

	if (!leaf) {
		leaf = hvx_zalloc(sizeof(*leaf));
		if (!leaf)
			return -ENOMEM;
		hvx_rcu_assign(m->leaf[id >> 8], leaf);
	}
	WRITE_ONCE(leaf->ent[id & 0xff], HVX_IOMMU_ID_VALID | val);
	return 0;
}

void hvx_iommu_idmap_clear(struct hvx_iommu_idmap *m, u16 id)
{
	struct hvx_iommu_idleaf *leaf = hvx_rcu_deref_locked(m->leaf[id >> 8]);

	if (leaf)
		WRITE_ONCE(leaf->ent[id & 0xff], 0);
}

/* Only once no reader can hold a leaf: after RCU or with the map unused. */
void hvx_iommu_idmap_free(struct hvx_iommu_idmap *m)
{
	unsigned int i;

	for (i = 0; i < 256; i++) {
		hvx_free(hvx_rcu_deref_locked(m->leaf[i]));
		hvx_rcu_assign(m->leaf[i], NULL);
	}
}

/*
 * Reserved bits per opcode, dword by dword (dword 1 without the opcode),
 * from the command formats of 48882 section 2.4; QEMU's AMD IOMMU model
 * refuses the same bits.
 */
struct hvx_iommu_cmd_fmt {
	u32 rsvd[4];
};

static const struct hvx_iommu_cmd_fmt hvx_iommu_cmd_fmts[16] = {
	[HVX_IOMMU_CMD_COMPLETION_WAIT] = {
		/* StoreAddr[51:32] in dword 1 19:0 */
		{ 0, 0x0ff00000, 0, 0 } },
	[HVX_IOMMU_CMD_INVALIDATE_DEVTAB_ENTRY] = {
		{ 0xffff0000, 0x0fffffff, 0xffffffff, 0xffffffff } },
	[HVX_IOMMU_CMD_INVALIDATE_IOMMU_PAGES] = {
		/* PASID 19:0; DomainID; S, PDE, GN; Address[63:12] */
		{ 0xfff00000, 0x0fff0000, 0x00000ff8, 0 } },
	[HVX_IOMMU_CMD_INVALIDATE_IOTLB_PAGES] = {
		/* DeviceID, PASID[15:8], Maxpend; QueueId, PASID[7:0]; S, GN */
		{ 0, 0x0f000000, 0x00000ffa, 0 } },
	[HVX_IOMMU_CMD_INVALIDATE_INTERRUPT_TABLE] = {
		{ 0xffff0000, 0x0fffffff, 0xffffffff, 0xffffffff } },
	[HVX_IOMMU_CMD_PREFETCH_IOMMU_PAGES] = {
		/* DeviceID, PFCount 31:24; PASID; S, GN, Inval */
		{ 0x00ff0000, 0x0ff00000, 0x00000fea, 0 } },
	[HVX_IOMMU_CMD_COMPLETE_PPR_REQUEST] = {
		/* DeviceID; PASID; GN; CompletionTag, Status 15:0 */
		{ 0xffff0000, 0x0ff00000, 0xfffffffb, 0xffff0000 } },
	[HVX_IOMMU_CMD_INVALIDATE_IOMMU_ALL] = {
		{ 0xffffffff, 0x0fffffff, 0xffffffff, 0xffffffff } },
};

/* Rewrite the 16-bit ID in the low half of a dword through a map. */
static inline int hvx_iommu_xlat_lo16(const struct hvx_iommu_idmap *m,
				      u32 *dw)
{
	int id = hvx_iommu_idmap_lookup(m, *dw & 0xffff);

	if (unlikely(id < 0))
		return HVX_XLAT_UNMAPPED;
	*dw = (*dw & 0xffff0000) | (u32)id;
	return HVX_XLAT_OK;
}

int hvx_iommu_xlat_cmd(const struct hvx_iommu_maps *maps,
		       const struct hvx_iommu_entry *in,
		       struct hvx_iommu_entry *out)
{
	u8 op = hvx_iommu_entry_type(in);
	const struct hvx_iommu_cmd_fmt *fmt = &hvx_iommu_cmd_fmts[op];
	int err;

	if (unlikely(op < HVX_IOMMU_CMD_COMPLETION_WAIT ||
		     op > HVX_IOMMU_CMD_INVALIDATE_IOMMU_ALL))
		return HVX_XLAT_BAD_OPCODE;
	if (unlikely((in->dw[0] & fmt->rsvd[0]) | (in->dw[1] & fmt->rsvd[1]) |
		     (in->dw[2] & fmt->rsvd[2]) | (in->dw[3] & fmt->rsvd[3])))
		return HVX_XLAT_RESERVED;

	*out = *in;
	switch (op) {
	case HVX_IOMMU_CMD_INVALIDATE_IOMMU_PAGES:
		return hvx_iommu_xlat_lo16(&maps->dom_g2h, &out->dw[1]);
	case HVX_IOMMU_CMD_INVALIDATE_IOTLB_PAGES:
		/*
		 * QueueId names the device's ATS invalidation queue and Linux
		 * fills it with the DeviceID: left as the guest wrote it, it
		 * would name a host queue, so it maps like a DeviceID.
		 */
		err = hvx_iommu_xlat_lo16(&maps->dev_g2h, &out->dw[1]);
		if (err)
			return err;
		fallthrough;
	case HVX_IOMMU_CMD_INVALIDATE_DEVTAB_ENTRY:
	case HVX_IOMMU_CMD_INVALIDATE_INTERRUPT_TABLE:
	case HVX_IOMMU_CMD_PREFETCH_IOMMU_PAGES:
	case HVX_IOMMU_CMD_COMPLETE_PPR_REQUEST:
		return hvx_iommu_xlat_lo16(&maps->dev_g2h, &out->dw[0]);
	default:
		/* COMPLETION_WAIT and INVALIDATE_IOMMU_ALL name no ID. */
		return HVX_XLAT_OK;
	}
}

/* IO_PAGE_FAULT and PAGE_TAB_HARDWARE_ERROR: GN in dword 1 bit 16. */
#define HVX_IOMMU_EV_GN		BIT(16)

int hvx_iommu_xlat_event(const struct hvx_iommu_maps *maps,
			 const struct hvx_iommu_entry *in,
			 struct hvx_iommu_entry *out)
{
	int err;

	*out = *in;
	switch (hvx_iommu_entry_type(in)) {
	case HVX_IOMMU_EV_IO_PAGE_FAULT:
	case HVX_IOMMU_EV_PAGE_TAB_HARDWARE_ERROR:
		/* With GN clear, dword 1 15:0 is the DomainID, else PASID. */
		if (!(in->dw[1] & HVX_IOMMU_EV_GN)) {
			err = hvx_iommu_xlat_lo16(&maps->dom_h2g, &out->dw[1]);
			if (err)
				return err;
		}
		fallthrough;
	case HVX_IOMMU_EV_ILLEGAL_DEV_TABLE_ENTRY:
	case HVX_IOMMU_EV_DEV_TAB_HARDWARE_ERROR:
	case HVX_IOMMU_EV_IOTLB_INV_TIMEOUT:
	case HVX_IOMMU_EV_INVALID_DEVICE_REQUEST:
	case HVX_IOMMU_EV_INVALID_PPR_REQUEST:
		return hvx_iommu_xlat_lo16(&maps->dev_h2g, &out->dw[0]);
	default:
		/*
		 * Command errors carry host addresses and counter events no
		 * device: nothing ties them to one VM.
		 */
		return HVX_XLAT_NOT_ROUTABLE;
	}
}

int hvx_iommu_xlat_ppr(const struct hvx_iommu_maps *maps,
		       const struct hvx_iommu_entry *in,
		       struct hvx_iommu_entry *out)
{
	if (hvx_iommu_entry_type(in) != HVX_IOMMU_PPR_REQUEST)
		return HVX_XLAT_NOT_ROUTABLE;
	*out = *in;
	return hvx_iommu_xlat_lo16(&maps->dev_h2g, &out->dw[0]);
}

void hvx_iommu_cmd_error_event(struct hvx_iommu_entry *ev, u8 code, u64 addr)
{
	ev->dw[0] = 0;
	ev->dw[1] = (u32)code << 28;
	ev->dw[2] = (u32)addr;
	ev->dw[3] = (u32)(addr >> 32);
}
