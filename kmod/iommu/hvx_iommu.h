/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_iommu internals shared by its files.
 *
 * Objects: one struct hvx_iommu_vm per hvx VM that has maps or rings,
 * published in an xarray by VM id and dropped when the VM is destroyed;
 * at most one struct hvx_iommu_ring per VM, owned by the fd the VMM got
 * from /dev/hvx_iommu.
 *
 * Locking: hvx_iommu_lock (control plane: maps, VM objects, host-ID
 * ownership) is taken before ring->lock (one ring's data plane). Command
 * translation reads the maps under RCU only; unmapping waits for a grace
 * period so that no translation still holding the old ID is in flight when
 * it returns.
 */
#ifndef _HVX_IOMMU_H
#define _HVX_IOMMU_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "hvx_iommu_xlat.h"

struct hvx_vm;
struct eventfd_ctx;
struct netlink_ext_ack;

enum hvx_iommu_stat {
	HVX_IOMMU_STAT_COMMANDS,
	HVX_IOMMU_STAT_ERRORS,
	HVX_IOMMU_STAT_COMPLETION_WAITS,
	HVX_IOMMU_STAT_EVENTS,
	HVX_IOMMU_STAT_PPRS,
	HVX_IOMMU_STAT_DROPPED,
	HVX_IOMMU_STAT_OVERFLOWS,
	__HVX_IOMMU_STAT_MAX,
};

struct hvx_iommu_vm {
	struct kref ref;
	u32 id;
	/* The rest under hvx_iommu_lock; maps also read under RCU. */
	bool dead;
	struct hvx_vm *vm;
	struct hvx_iommu_ring *ring;
	unsigned int nr_dom;
	unsigned int nr_dev;
	struct hvx_iommu_maps maps;
	atomic64_t stats[__HVX_IOMMU_STAT_MAX];
};

/* One log the kernel appends to: the event log or the PPR log. */
struct hvx_iommu_evlog {
	u8 *base;
	u32 size;		/* bytes, a power of two */
	u32 tail;		/* the kernel's copy; the register only mirrors it */
	unsigned int head_reg, tail_reg;
	u64 overflow_bit, int_bit;
	enum hvx_iommu_irq irq;
};

struct hvx_iommu_ring {
	struct hvx_iommu_vm *ivm;	/* reference held */
	struct mutex lock;		/* everything below */
	struct work_struct work;
	bool dead;			/* VM destroyed or fd closing */
	bool halted;			/* stopped at an erroneous command */
	struct hvx_vm *vm;		/* reference held until dead */

	void *mem;			/* vmalloc_user(), mmap()ed */
	size_t size;
	u64 *regs;
	u8 *cmd;
	u32 cmd_size;
	u32 cmd_head;			/* the kernel's copy */
	u8 *host;
	u32 host_size;
	u32 host_tail;
	size_t cmd_off, evt_off, ppr_off, host_off;
	struct hvx_iommu_evlog evt;
	struct hvx_iommu_evlog ppr;
	struct eventfd_ctx *irq[__HVX_IOMMU_IRQ_MAX];
};

extern struct mutex hvx_iommu_lock;
extern struct xarray hvx_iommu_vms;
extern u32 hvx_iommu_gen;
extern struct workqueue_struct *hvx_iommu_wq;

static inline void hvx_iommu_stat_add(struct hvx_iommu_vm *ivm,
				      enum hvx_iommu_stat s, u64 n)
{
	atomic64_add(n, &ivm->stats[s]);
}

/* hvx_iommu_map.c */
struct hvx_iommu_vm *hvx_iommu_vm_lookup(u32 id);
struct hvx_iommu_vm *hvx_iommu_vm_attach(struct hvx_vm *vm);
void hvx_iommu_vm_put(struct hvx_iommu_vm *ivm);
int hvx_iommu_map_add(struct hvx_iommu_vm *ivm, u32 type, u16 guest, u16 host,
		      struct netlink_ext_ack *extack);
int hvx_iommu_map_del(struct hvx_iommu_vm *ivm, u32 type, u16 guest,
		      struct netlink_ext_ack *extack);
int hvx_iommu_map_init(void);
void hvx_iommu_map_exit(void);

/* hvx_iommu_ring.c */
int hvx_iommu_log_append(struct hvx_iommu_ring *r, struct hvx_iommu_evlog *log,
			 const struct hvx_iommu_entry *e);
bool hvx_iommu_host_full(struct hvx_iommu_ring *r);
void hvx_iommu_host_emit(struct hvx_iommu_ring *r,
			 const struct hvx_iommu_entry *e);
void hvx_iommu_set_status(struct hvx_iommu_ring *r, u64 bit);
void hvx_iommu_clear_status(struct hvx_iommu_ring *r, u64 bit);
void hvx_iommu_signal(struct hvx_iommu_ring *r, enum hvx_iommu_irq irq);
bool hvx_iommu_ptr_valid(u64 ptr, u32 size);
void hvx_iommu_ring_kill(struct hvx_iommu_ring *r);
int hvx_iommu_ring_init(void);
void hvx_iommu_ring_exit(void);

static inline u64 hvx_iommu_reg(struct hvx_iommu_ring *r, unsigned int off)
{
	return READ_ONCE(r->regs[off / sizeof(u64)]);
}

static inline void hvx_iommu_set_reg(struct hvx_iommu_ring *r,
				     unsigned int off, u64 val)
{
	/* Publishes what the pointer covers before the pointer itself. */
	smp_store_release(&r->regs[off / sizeof(u64)], val);
}

/* hvx_iommu_worker.c */
int hvx_iommu_exec(struct hvx_iommu_ring *r, const struct hvx_iommu_entry *cmd,
		   struct hvx_iommu_entry *out);
void hvx_iommu_work(struct work_struct *work);

/* hvx_iommu_nl.c */
int hvx_iommu_nl_init(void);
void hvx_iommu_nl_exit(void);

#endif /* _HVX_IOMMU_H */
