/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx_ept: EPT dual-view guest memory.
 *
 * Each VM gets views: 4-level extended page tables in the Intel SDM format
 * (Vol. 3C, "EPT Translation Mechanism"), one per view, mapping the same
 * guest-physical range to possibly different host pages with different
 * permissions. Guest memory is a file (obtained with HVX_EPT_IOC_MEMFD on
 * /dev/hvx_ept) whose offset is the GPA; a MAP_SHARED mapping of it (a
 * process, or a KVM memslot) sees exactly the active view.
 *
 * Generic netlink family HVX_EPT_GENL_NAME, described by the YNL spec
 * Documentation/netlink/specs/hvx_ept.yaml; tests/ept checks that the spec
 * and this header agree.
 */
#ifndef _UAPI_LINUX_HVX_EPT_H
#define _UAPI_LINUX_HVX_EPT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define HVX_EPT_GENL_NAME	"hvx_ept"
#define HVX_EPT_GENL_VERSION	1
#define HVX_EPT_MCGRP_VIOLATION	"violation"

/*
 * EPT entry and EPTP bits (SDM Vol. 3C, Tables 29-1..29-6). HVX_EPT_CMD_DUMP
 * returns raw entries in this format.
 */
#define HVX_EPT_E_READ		(1ULL << 0)
#define HVX_EPT_E_WRITE		(1ULL << 1)
#define HVX_EPT_E_EXEC		(1ULL << 2)
#define HVX_EPT_E_PERM_MASK	0x7ULL
#define HVX_EPT_E_MT_SHIFT	3		/* leaf: memory type, 5:3 */
#define HVX_EPT_E_MT_MASK	(0x7ULL << HVX_EPT_E_MT_SHIFT)
#define HVX_EPT_E_IPAT		(1ULL << 6)	/* leaf: ignore PAT */
#define HVX_EPT_E_LARGE		(1ULL << 7)	/* PDPTE/PDE: maps 1G/2M */
#define HVX_EPT_E_ACCESSED	(1ULL << 8)
#define HVX_EPT_E_DIRTY		(1ULL << 9)	/* leaf only */
/* Ignored by the processor; hvx marks pages private to the view. */
#define HVX_EPT_E_SW_PRIVATE	(1ULL << 11)
#define HVX_EPT_E_ADDR_MASK	0x000ffffffffff000ULL	/* 51:12 */
#define HVX_EPT_E_SVE		(1ULL << 63)	/* suppress #VE */

#define HVX_EPT_MT_UC		0
#define HVX_EPT_MT_WC		1
#define HVX_EPT_MT_WT		4
#define HVX_EPT_MT_WP		5
#define HVX_EPT_MT_WB		6

#define HVX_EPTP_MT_MASK	0x7ULL
#define HVX_EPTP_PWL_SHIFT	3	/* page-walk length - 1, 5:3 */
#define HVX_EPTP_PWL_MASK	(0x7ULL << HVX_EPTP_PWL_SHIFT)
#define HVX_EPTP_AD		(1ULL << 6)
#define HVX_EPTP_ADDR_MASK	HVX_EPT_E_ADDR_MASK

/* Levels as the SDM counts them: 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT. */
#define HVX_EPT_LEVELS		4
/* GPAs a 4-level EPT translates. */
#define HVX_EPT_GPA_BITS	48

/* Access rights, in a view's ranges and in violation reports. */
enum hvx_ept_perm {
	HVX_EPT_PERM_R = 1 << 0,
	HVX_EPT_PERM_W = 1 << 1,
	HVX_EPT_PERM_X = 1 << 2,

	/* private: */
	__HVX_EPT_PERM_ALL = HVX_EPT_PERM_R | HVX_EPT_PERM_W | HVX_EPT_PERM_X,
};

/* What backs a range of a view. */
enum hvx_ept_kind {
	/* The VM's ordinary memory, the same pages every view sees. */
	HVX_EPT_KIND_SHARED,
	/* Pages the module allocates for this view alone (trusted data). */
	HVX_EPT_KIND_PRIVATE,

	/* private: */
	__HVX_EPT_KIND_MAX,
	HVX_EPT_KIND_MAX = __HVX_EPT_KIND_MAX - 1
};

/* View 0 exists with the VM's EPT state and maps all memory, shared, RWX. */
#define HVX_EPT_VIEW_DEFAULT	0
/* Most views per VM, default view included. */
#define HVX_EPT_VIEWS_MAX	64
/* Most ranges per view. */
#define HVX_EPT_RANGES_MAX	64

enum {
	HVX_EPT_A_UNSPEC,
	HVX_EPT_A_VM_ID,	/* u32, hvx VM id */
	HVX_EPT_A_VIEW_ID,	/* u32 */
	HVX_EPT_A_MEM_SIZE,	/* u64, bytes of guest memory, page aligned */
	HVX_EPT_A_GPA,		/* u64, page aligned */
	HVX_EPT_A_SIZE,		/* u64, bytes, page aligned, non-zero */
	HVX_EPT_A_PERM,		/* u32, enum hvx_ept_perm bits */
	HVX_EPT_A_KIND,		/* u32, enum hvx_ept_kind */
	HVX_EPT_A_ACTIVE_VIEW,	/* u32, the VM's active view */
	HVX_EPT_A_NR_VIEWS,	/* u32 */
	HVX_EPT_A_EPTP,		/* u64, the view's EPT pointer */
	HVX_EPT_A_ACTIVE,	/* flag, set on the active view */
	HVX_EPT_A_RANGE,	/* nest, multi-attr: GPA, SIZE, PERM, KIND */
	HVX_EPT_A_LEVEL,	/* u32, 4..1 (dump) */
	HVX_EPT_A_ENTRY,	/* u64, raw EPT entry (dump) */
	HVX_EPT_A_ACCESS,	/* u32, enum hvx_ept_perm: the faulting access */
	HVX_EPT_A_PID,		/* u32, tgid of the faulting task */
	HVX_EPT_A_PRIVATE_PAGES, /* u64, pages allocated for the view */
	HVX_EPT_A_PAD,

	/* private: */
	__HVX_EPT_A_MAX,
	HVX_EPT_A_MAX = __HVX_EPT_A_MAX - 1
};

enum {
	HVX_EPT_CMD_UNSPEC,
	HVX_EPT_CMD_VM_NEW,	/* do: VM_ID, MEM_SIZE: enable views */
	HVX_EPT_CMD_VM_DEL,	/* do: VM_ID: drop views, zap mappings */
	HVX_EPT_CMD_VM_GET,	/* do: VM_ID; dump: every VM */
	HVX_EPT_CMD_VIEW_NEW,	/* do: VM_ID -> reply with VIEW_ID */
	HVX_EPT_CMD_VIEW_DEL,	/* do: VM_ID, VIEW_ID */
	HVX_EPT_CMD_VIEW_GET,	/* do: VM_ID, VIEW_ID; dump: VM_ID */
	HVX_EPT_CMD_MAP,	/* do: VM_ID, VIEW_ID, GPA, SIZE, PERM, KIND */
	HVX_EPT_CMD_SWITCH,	/* do: VM_ID, VIEW_ID */
	HVX_EPT_CMD_DUMP,	/* dump: VM_ID, VIEW_ID -> LEVEL, GPA, ENTRY */
	HVX_EPT_CMD_VIOLATION,	/* notification: VM, VIEW, GPA, ACCESS, PERM, PID */

	/* private: */
	__HVX_EPT_CMD_MAX,
	HVX_EPT_CMD_MAX = __HVX_EPT_CMD_MAX - 1
};

/*
 * ioctls. Every struct starts with its size and flags, has reserved fields
 * that must be zero, and only grows at the end.
 */
#define HVX_EPT_DEV		"/dev/hvx_ept"

/* On /dev/hvx_ept: a new guest-memory fd (O_CLOEXEC) for a VM. */
struct hvx_ept_memfd {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 vm_id;
	__u32 __reserved;
};

/* On a guest-memory fd: make @view the active view. */
struct hvx_ept_switch {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 view_id;
	__u32 __reserved;
};

#define HVX_EPT_IOC_MAGIC	0xE7
#define HVX_EPT_IOC_MEMFD	_IO(HVX_EPT_IOC_MAGIC, 0x00)
#define HVX_EPT_IOC_SWITCH	_IO(HVX_EPT_IOC_MAGIC, 0x01)

#endif /* _UAPI_LINUX_HVX_EPT_H */
