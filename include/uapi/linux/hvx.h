/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx core control plane: the VM registry shared by every hvx module.
 *
 * Generic netlink family HVX_GENL_NAME. The YNL spec in
 * Documentation/netlink/specs/hvx.yaml is the contract; this header and
 * the spec are checked against each other by tests/spec.
 */
#ifndef _UAPI_LINUX_HVX_H
#define _UAPI_LINUX_HVX_H

#define HVX_GENL_NAME		"hvx"
#define HVX_GENL_VERSION	1
#define HVX_MCGRP_EVENTS	"events"

/*
 * Longest VM name, terminating NUL included. Names are one or more of
 * [A-Za-z0-9._-].
 */
#define HVX_VM_NAME_MAX		64
/* Most guest memory regions one VM may register. */
#define HVX_VM_MEM_MAX		64

enum hvx_vm_state {
	HVX_VM_STATE_CREATED,
	HVX_VM_STATE_RUNNING,
	HVX_VM_STATE_PAUSED,
	HVX_VM_STATE_MIGRATING,

	/* private: */
	__HVX_VM_STATE_MAX,
	HVX_VM_STATE_MAX = __HVX_VM_STATE_MAX - 1
};

/* No flag is defined yet; any set bit is rejected with -EOPNOTSUPP. */
enum hvx_vm_flags {
	__HVX_VM_F_ALL = 0,
};

enum {
	HVX_A_VM_UNSPEC,
	HVX_A_VM_ID,		/* u32, kernel-assigned, never 0 */
	HVX_A_VM_NAME,		/* string, < HVX_VM_NAME_MAX, unique */
	HVX_A_VM_OWNER_PID,	/* u32, tgid of the creator (in caller's pidns) */
	HVX_A_VM_OWNER_UID,	/* u32, creator's uid (in caller's userns) */
	HVX_A_VM_STATE,		/* u32, enum hvx_vm_state */
	HVX_A_VM_FLAGS,		/* u32, enum hvx_vm_flags */
	HVX_A_VM_MEM,		/* nest, multi-attr: HVX_A_MEM_* */
	HVX_A_VM_MEM_PID,	/* u32, tgid whose mm backs the regions */
	HVX_A_VM_USERS,		/* u32, references held by hvx modules */

	/* private: */
	__HVX_A_VM_MAX,
	HVX_A_VM_MAX = __HVX_A_VM_MAX - 1
};

enum {
	HVX_A_MEM_UNSPEC,
	HVX_A_MEM_GPA,		/* u64, guest-physical base, page aligned */
	HVX_A_MEM_SIZE,		/* u64, bytes, page aligned, non-zero */
	HVX_A_MEM_UADDR,	/* u64, VMM virtual address, page aligned */
	HVX_A_MEM_PAD,

	/* private: */
	__HVX_A_MEM_MAX,
	HVX_A_MEM_MAX = __HVX_A_MEM_MAX - 1
};

enum {
	HVX_CMD_UNSPEC,
	HVX_CMD_VM_NEW,		/* do: create; also the create notification */
	HVX_CMD_VM_DEL,		/* do: destroy; also the destroy notification */
	HVX_CMD_VM_GET,		/* do and dump */
	HVX_CMD_VM_SET,		/* do: change state; also the state notification */
	HVX_CMD_MEM_ADD,	/* do: register one region, from the VMM */
	HVX_CMD_MEM_DEL,	/* do: drop the region starting at GPA */

	/* private: */
	__HVX_CMD_MAX,
	HVX_CMD_MAX = __HVX_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_HVX_H */
