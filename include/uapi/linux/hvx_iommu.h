/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx_iommu: guest<->host IOMMU domain-ID and device-ID translation.
 *
 * Control plane: generic netlink family HVX_IOMMU_GENL_NAME, described by
 * Documentation/netlink/specs/hvx_iommu.yaml (the contract; tests check
 * this header against it).
 *
 * Data plane: /dev/hvx_iommu. HVX_IOMMU_VM_OPEN returns one fd per hvx VM
 * whose mmap holds a register window laid out like the AMD IOMMU's MMIO
 * space and the guest's command buffer, event log and PPR log in the AMD
 * I/O Virtualization Technology (48882) formats, plus the host-side ring
 * the translated commands go to.
 */
#ifndef _UAPI_LINUX_HVX_IOMMU_H
#define _UAPI_LINUX_HVX_IOMMU_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define HVX_IOMMU_GENL_NAME	"hvx_iommu"
#define HVX_IOMMU_GENL_VERSION	1
#define HVX_IOMMU_DEV_NAME	"hvx_iommu"

/* Command buffer, event log and PPR log entries are all 128 bits. */
#define HVX_IOMMU_ENTRY_SIZE	16

/* Command opcodes, bits 63:60 of an entry (dword 1, bits 31:28). */
enum hvx_iommu_cmd_op {
	HVX_IOMMU_CMD_COMPLETION_WAIT		= 0x01,
	HVX_IOMMU_CMD_INVALIDATE_DEVTAB_ENTRY	= 0x02,
	HVX_IOMMU_CMD_INVALIDATE_IOMMU_PAGES	= 0x03,
	HVX_IOMMU_CMD_INVALIDATE_IOTLB_PAGES	= 0x04,
	HVX_IOMMU_CMD_INVALIDATE_INTERRUPT_TABLE = 0x05,
	HVX_IOMMU_CMD_PREFETCH_IOMMU_PAGES	= 0x06,
	HVX_IOMMU_CMD_COMPLETE_PPR_REQUEST	= 0x07,
	HVX_IOMMU_CMD_INVALIDATE_IOMMU_ALL	= 0x08,
};

/* Event codes, bits 63:60 of an event log entry. */
enum hvx_iommu_event_code {
	HVX_IOMMU_EV_ILLEGAL_DEV_TABLE_ENTRY	= 0x1,
	HVX_IOMMU_EV_IO_PAGE_FAULT		= 0x2,
	HVX_IOMMU_EV_DEV_TAB_HARDWARE_ERROR	= 0x3,
	HVX_IOMMU_EV_PAGE_TAB_HARDWARE_ERROR	= 0x4,
	HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR	= 0x5,
	HVX_IOMMU_EV_COMMAND_HARDWARE_ERROR	= 0x6,
	HVX_IOMMU_EV_IOTLB_INV_TIMEOUT		= 0x7,
	HVX_IOMMU_EV_INVALID_DEVICE_REQUEST	= 0x8,
	HVX_IOMMU_EV_INVALID_PPR_REQUEST	= 0x9,
	HVX_IOMMU_EV_EVENT_COUNTER_ZERO		= 0xa,
};

/* PPR log entry type, bits 63:60. */
#define HVX_IOMMU_PPR_REQUEST		0x1

/*
 * Register window at mmap offset 0, HVX_IOMMU_REG_SIZE bytes, each register
 * a little-endian u64 at the offset the IOMMU's MMIO space gives it. The
 * base registers are written by the VMM with the guest's values: they only
 * give the guest-physical address reported in ILLEGAL_COMMAND_ERROR.
 */
#define HVX_IOMMU_REG_CMD_BASE		0x0008
#define HVX_IOMMU_REG_EVT_BASE		0x0010
#define HVX_IOMMU_REG_PPR_BASE		0x0038
#define HVX_IOMMU_REG_CMD_HEAD		0x2000	/* written by the kernel */
#define HVX_IOMMU_REG_CMD_TAIL		0x2008	/* written by the VMM */
#define HVX_IOMMU_REG_EVT_HEAD		0x2010	/* written by the VMM */
#define HVX_IOMMU_REG_EVT_TAIL		0x2018	/* written by the kernel */
#define HVX_IOMMU_REG_STATUS		0x2020
#define HVX_IOMMU_REG_PPR_HEAD		0x2030	/* written by the VMM */
#define HVX_IOMMU_REG_PPR_TAIL		0x2038	/* written by the kernel */
/* hvx's own: the host ring, consumed by whoever drains host commands. */
#define HVX_IOMMU_REG_HOST_HEAD		0x3000	/* written by the consumer */
#define HVX_IOMMU_REG_HOST_TAIL		0x3008	/* written by the kernel */
#define HVX_IOMMU_REG_SIZE		0x4000

/* Head and tail pointers: byte offsets, bits 18:4 as in the spec. */
#define HVX_IOMMU_PTR_MASK		0x7fff0ULL

/* Status register bits. */
#define HVX_IOMMU_STATUS_EVT_OVERFLOW	(1ULL << 0)
#define HVX_IOMMU_STATUS_EVT_INT	(1ULL << 1)
#define HVX_IOMMU_STATUS_COMWAIT_INT	(1ULL << 2)
#define HVX_IOMMU_STATUS_EVT_RUN	(1ULL << 3)
#define HVX_IOMMU_STATUS_CMD_RUN	(1ULL << 4)
#define HVX_IOMMU_STATUS_PPR_OVERFLOW	(1ULL << 5)
#define HVX_IOMMU_STATUS_PPR_INT	(1ULL << 6)
#define HVX_IOMMU_STATUS_PPR_RUN	(1ULL << 7)

/* Ring lengths as log2 of entries, the spec's ComLen/EventLen range. */
#define HVX_IOMMU_RING_LOG2_MIN		8
#define HVX_IOMMU_RING_LOG2_MAX		15

/*
 * ioctls. Every argument starts with size and flags, has reserved fields
 * that must be zero and only ever grows at its end.
 */
#define HVX_IOMMU_TYPE			0xB7

/* On /dev/hvx_iommu: open the rings of an hvx VM, one fd per VM. */
struct hvx_iommu_vm_open {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 vm_id;
	__u8 cmd_log2;		/* command buffer entries, log2 */
	__u8 evt_log2;		/* event log entries, log2 */
	__u8 ppr_log2;		/* PPR log entries, log2 */
	__u8 __reserved;
	__u32 out_fd;
	__u32 __reserved2;
	__u64 out_map_size;	/* bytes to mmap at offset 0 */
	__u64 out_cmd_offset;	/* mmap offsets of each ring */
	__u64 out_evt_offset;
	__u64 out_ppr_offset;
	__u64 out_host_offset;	/* host ring: read-only, 2 << cmd_log2 entries */
};

#define HVX_IOMMU_VM_OPEN		_IO(HVX_IOMMU_TYPE, 0x00)

/* On a VM fd: the command tail moved; the worker consumes the ring. */
enum hvx_iommu_doorbell_flags {
	/* Wait until the worker has run. */
	HVX_IOMMU_DOORBELL_SYNC		= 1 << 0,
	/* Leave the halted state (after an error) at the CMD_HEAD register. */
	HVX_IOMMU_DOORBELL_RESTART	= 1 << 1,
	__HVX_IOMMU_DOORBELL_ALL	= (1 << 2) - 1,
};

struct hvx_iommu_doorbell {
	__u32 size;
	__u32 flags;		/* enum hvx_iommu_doorbell_flags */
};

#define HVX_IOMMU_DOORBELL		_IO(HVX_IOMMU_TYPE, 0x01)

/* On a VM fd: signal an eventfd where the IOMMU would raise an interrupt. */
enum hvx_iommu_irq {
	HVX_IOMMU_IRQ_COMWAIT,		/* COMPLETION_WAIT with I=1 */
	HVX_IOMMU_IRQ_EVT,		/* event log entry written or overflow */
	HVX_IOMMU_IRQ_PPR,		/* PPR log entry written or overflow */
	__HVX_IOMMU_IRQ_MAX,
};

struct hvx_iommu_set_irq {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 irq;		/* enum hvx_iommu_irq */
	__s32 fd;		/* eventfd, or -1 to detach */
};

#define HVX_IOMMU_SET_IRQ		_IO(HVX_IOMMU_TYPE, 0x02)

/*
 * On a VM fd: execute one command outside the ring, as a trapping VMM
 * would: translated and appended to the host ring, COMPLETION_WAIT's store
 * and interrupt performed. Errors: EINVAL illegal command, ENOENT unmapped
 * ID, ENOSPC host ring full, EFAULT store address outside guest memory.
 */
struct hvx_iommu_submit {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 cmd[4];
	__u32 out_cmd[4];	/* the host command */
};

#define HVX_IOMMU_SUBMIT		_IO(HVX_IOMMU_TYPE, 0x03)

/* Generic netlink. */
enum hvx_iommu_map_type {
	HVX_IOMMU_MAP_DOMAIN = 1,
	HVX_IOMMU_MAP_DEVICE,
};

enum hvx_iommu_log {
	HVX_IOMMU_LOG_EVENT = 1,
	HVX_IOMMU_LOG_PPR,
};

enum {
	HVX_IOMMU_A_MAP_UNSPEC,
	HVX_IOMMU_A_MAP_VM_ID,		/* u32 */
	HVX_IOMMU_A_MAP_TYPE,		/* u32, enum hvx_iommu_map_type */
	HVX_IOMMU_A_MAP_GUEST_ID,	/* u16 */
	HVX_IOMMU_A_MAP_HOST_ID,	/* u16 */

	/* private: */
	__HVX_IOMMU_A_MAP_MAX,
	HVX_IOMMU_A_MAP_MAX = __HVX_IOMMU_A_MAP_MAX - 1
};

enum {
	HVX_IOMMU_A_STATS_UNSPEC,
	HVX_IOMMU_A_STATS_VM_ID,	/* u32 */
	HVX_IOMMU_A_STATS_DOMAINS,	/* u32, domain maps */
	HVX_IOMMU_A_STATS_DEVICES,	/* u32, device maps */
	HVX_IOMMU_A_STATS_RING,		/* u8, 1 when the rings are open */
	HVX_IOMMU_A_STATS_PAD,
	HVX_IOMMU_A_STATS_COMMANDS,	/* u64, commands translated */
	HVX_IOMMU_A_STATS_ERRORS,	/* u64, commands refused */
	HVX_IOMMU_A_STATS_COMPLETION_WAITS,	/* u64 */
	HVX_IOMMU_A_STATS_EVENTS,	/* u64, event log entries delivered */
	HVX_IOMMU_A_STATS_PPRS,		/* u64, PPR log entries delivered */
	HVX_IOMMU_A_STATS_DROPPED,	/* u64, injected entries not delivered */
	HVX_IOMMU_A_STATS_OVERFLOWS,	/* u64, entries lost to a full log */

	/* private: */
	__HVX_IOMMU_A_STATS_MAX,
	HVX_IOMMU_A_STATS_MAX = __HVX_IOMMU_A_STATS_MAX - 1
};

enum {
	HVX_IOMMU_A_INJECT_UNSPEC,
	HVX_IOMMU_A_INJECT_VM_ID,	/* u32 */
	HVX_IOMMU_A_INJECT_LOG,		/* u32, enum hvx_iommu_log */
	HVX_IOMMU_A_INJECT_ENTRY,	/* binary, 16 bytes, host IDs */

	/* private: */
	__HVX_IOMMU_A_INJECT_MAX,
	HVX_IOMMU_A_INJECT_MAX = __HVX_IOMMU_A_INJECT_MAX - 1
};

enum {
	HVX_IOMMU_CMD_UNSPEC,
	HVX_IOMMU_CMD_MAP_ADD,		/* do */
	HVX_IOMMU_CMD_MAP_DEL,		/* do */
	HVX_IOMMU_CMD_MAP_GET,		/* dump */
	HVX_IOMMU_CMD_STATS_GET,	/* do and dump */
	HVX_IOMMU_CMD_INJECT,		/* do: host event or PPR request */

	/* private: */
	__HVX_IOMMU_CMD_MAX,
	HVX_IOMMU_CMD_MAX = __HVX_IOMMU_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_HVX_IOMMU_H */
