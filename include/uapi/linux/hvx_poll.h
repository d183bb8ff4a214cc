/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx_poll: a kernel thread per network device that busy-polls the device's
 * NAPI instances (napi_busy_loop) so that received packets are taken off the
 * ring without waiting for a hard interrupt and a softirq. In adaptive mode
 * the thread sleeps after an idle period, interrupts drive NAPI again, and
 * the first NAPI poll that finds packets wakes the thread.
 *
 * Generic netlink family HVX_POLL_GENL_NAME, described by the YNL spec
 * Documentation/netlink/specs/hvx_poll.yaml; tests/spec checks that the spec
 * and this header agree.
 */
#ifndef _UAPI_LINUX_HVX_POLL_H
#define _UAPI_LINUX_HVX_POLL_H

#include <linux/types.h>

#define HVX_POLL_GENL_NAME	"hvx_poll"
#define HVX_POLL_GENL_VERSION	1

/* Limits of the tunables; defaults in Documentation/hvx-poll.rst. */
#define HVX_POLL_BUDGET_MAX	64
#define HVX_POLL_IDLE_US_MAX	1000000

enum hvx_poll_mode {
	/* Sleep after idle-us without packets; the next NAPI poll wakes it. */
	HVX_POLL_MODE_ADAPTIVE,
	/* Never sleep while the device is up. */
	HVX_POLL_MODE_BUSY,

	/* private: */
	__HVX_POLL_MODE_MAX,
	HVX_POLL_MODE_MAX = __HVX_POLL_MODE_MAX - 1
};

enum hvx_poll_sched {
	HVX_POLL_SCHED_NORMAL,		/* SCHED_NORMAL, nice 0 */
	HVX_POLL_SCHED_FIFO_LOW,	/* SCHED_FIFO priority 1 */
	HVX_POLL_SCHED_FIFO,		/* SCHED_FIFO priority 50 */

	/* private: */
	__HVX_POLL_SCHED_MAX,
	HVX_POLL_SCHED_MAX = __HVX_POLL_SCHED_MAX - 1
};

enum hvx_poll_state {
	HVX_POLL_STATE_POLLING,	/* spinning on the device's NAPIs */
	HVX_POLL_STATE_IDLE,	/* adaptive mode, asleep until traffic */
	HVX_POLL_STATE_DOWN,	/* device down, asleep until it comes up */

	/* private: */
	__HVX_POLL_STATE_MAX,
	HVX_POLL_STATE_MAX = __HVX_POLL_STATE_MAX - 1
};

enum {
	HVX_POLL_A_UNSPEC,
	HVX_POLL_A_IFINDEX,	/* u32, in the caller's network namespace */
	HVX_POLL_A_IFNAME,	/* string (replies only) */
	HVX_POLL_A_CPU,		/* u32, CPU the thread is bound to */
	HVX_POLL_A_MODE,	/* u32, enum hvx_poll_mode */
	HVX_POLL_A_BUDGET,	/* u32, 1..HVX_POLL_BUDGET_MAX */
	HVX_POLL_A_IDLE_US,	/* u32, 1..HVX_POLL_IDLE_US_MAX */
	HVX_POLL_A_SCHED,	/* u32, enum hvx_poll_sched */
	HVX_POLL_A_PREFER_BUSY_POLL, /* u8, 0 or 1 */
	HVX_POLL_A_PID,		/* u32, the thread's pid (replies only) */
	HVX_POLL_A_STATE,	/* u32, enum hvx_poll_state (replies only) */
	HVX_POLL_A_POLLS,	/* u64, NAPI polls by the thread */
	HVX_POLL_A_PACKETS,	/* u64, packets those polls took */
	HVX_POLL_A_IDLE_SLEEPS,	/* u64, sleeps after an idle period */
	HVX_POLL_A_WAKEUPS,	/* u64, wakeups by a NAPI poll with packets */
	HVX_POLL_A_BUSY_NS,	/* u64, time spent in napi_busy_loop */
	HVX_POLL_A_NAPIS,	/* u32, NAPI instances polled in the last round */
	HVX_POLL_A_PAD,

	/* private: */
	__HVX_POLL_A_MAX,
	HVX_POLL_A_MAX = __HVX_POLL_A_MAX - 1
};

enum {
	HVX_POLL_CMD_UNSPEC,
	HVX_POLL_CMD_ATTACH,	/* do: IFINDEX [CPU MODE BUDGET IDLE_US ...] */
	HVX_POLL_CMD_DETACH,	/* do: IFINDEX */
	HVX_POLL_CMD_SET,	/* do: IFINDEX, any tunable */
	HVX_POLL_CMD_GET,	/* do: IFINDEX; dump: every device of the netns */

	/* private: */
	__HVX_POLL_CMD_MAX,
	HVX_POLL_CMD_MAX = __HVX_POLL_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_HVX_POLL_H */
