/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Test-only interface of hvx_core_test.ko, shared with tests/core: an ioctl
 * on /sys/kernel/debug/hvx_core_test/ctl that exercises the kernel API
 * hvx_core offers feature modules. Not an ABI.
 */
#ifndef _HVX_CORE_TEST_H
#define _HVX_CORE_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

enum hvx_core_test_op {
	/* Take a VM reference and keep it with the open file. */
	HVX_CORE_TEST_HOLD,
	/* Drop the reference HOLD took. */
	HVX_CORE_TEST_PUT,
	/* dead = hvx_vm_dead() of the held VM. */
	HVX_CORE_TEST_STATUS,
	/*
	 * Copy len bytes between guest-physical gpa and the buffer at uptr,
	 * from a workqueue kthread, through the held VM or a fresh lookup.
	 */
	HVX_CORE_TEST_READ,
	HVX_CORE_TEST_WRITE,
	/* Counters of the VM lifetime notifier since the module loaded. */
	HVX_CORE_TEST_EVENTS,
};

struct hvx_core_test_cmd {
	__u32 size;
	__u32 op;
	__u32 vm_id;
	__u32 dead;
	__u64 gpa;
	__u64 len;
	__u64 uptr;
	__u32 ev_new;
	__u32 ev_del;
	__u32 ev_state;
	/* Notifications that broke the contract in hvx_core.h. */
	__u32 ev_bad;
};

#define HVX_CORE_TEST_IOCTL	_IOWR('H', 0x70, struct hvx_core_test_cmd)
/* Longest READ/WRITE. */
#define HVX_CORE_TEST_LEN_MAX	0x100000

#endif /* _HVX_CORE_TEST_H */
