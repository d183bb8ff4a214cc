/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HVX_POLL_PRIV_H
#define _HVX_POLL_PRIV_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/hvx_poll.h>

#define HVX_POLL_BUDGET_DEFAULT		8
#define HVX_POLL_IDLE_US_DEFAULT	1000
/* No CPU binding: the scheduler places the thread. */
#define HVX_POLL_CPU_ANY		U32_MAX

/*
 * One attached device. Created, changed and destroyed under RTNL; the
 * napi_poll probe finds it through RCU. Tunables are written under RTNL and
 * read by the thread with READ_ONCE; counters are written by the thread
 * alone (the probe runs in the thread when it counts) and read locklessly.
 */
struct hvx_poll_dev {
	struct list_head node;
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	struct task_struct *task;

	u32 cpu;
	u32 mode;
	u32 budget;
	u32 idle_us;
	u32 sched;
	bool prefer_busy_poll;

	/* netif_running(), as the netdevice notifier last saw it */
	bool up;
	/* set by control ops to make the thread reread its state */
	bool kick;
	/* the thread sleeps in adaptive idle; the probe clears it to wake */
	bool idle_wait;
	u32 state;
	u32 nr_napis;

	/* thread-private */
	struct napi_struct *cur_napi;
	u64 last_work;
	u64 slice_start;
	bool idle;

	u64 polls;
	u64 packets;
	u64 idle_sleeps;
	u64 wakeups;
	u64 busy_ns;
};

extern struct list_head hvx_poll_devs;
extern unsigned int hvx_poll_gen;

struct hvx_poll_dev *hvx_poll_find(const struct net_device *dev);
int hvx_poll_count_napis(struct net_device *dev);
int hvx_poll_start(struct hvx_poll_dev *pd);
void hvx_poll_stop(struct hvx_poll_dev *pd);
void hvx_poll_kick(struct hvx_poll_dev *pd);
int hvx_poll_apply_cpu(struct hvx_poll_dev *pd, u32 cpu);
void hvx_poll_apply_sched(struct hvx_poll_dev *pd, u32 sched);
void hvx_poll_napi_probe(void *data, struct napi_struct *napi, int work,
			 int budget);

int hvx_poll_nl_init(void);
void hvx_poll_nl_exit(void);

#endif /* _HVX_POLL_PRIV_H */
