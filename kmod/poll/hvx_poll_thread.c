// SPDX-License-Identifier: GPL-2.0
/*
 * The polling thread of an attached device and the napi_poll tracepoint
 * probe that feeds it.
 *
 * The thread calls napi_busy_loop() on each busy-pollable NAPI of the
 * device. While it holds a NAPI (NAPI_STATE_IN_BUSY_POLL), virtio-net and
 * most drivers keep the queue's interrupt masked: napi_complete_done()
 * refuses to complete a NAPI in busy poll. Each return from napi_busy_loop()
 * goes through busy_poll_stop(), which polls once more and re-arms the
 * interrupt, so loop_end ends a loop only when it must: the thread is
 * stopped or kicked, the device goes down, a driver disables the NAPI, a
 * slice ends (RCU needs a quiescent state on this CPU and several NAPIs take
 * turns), or, in adaptive mode, idle_us passed without a packet.
 *
 * The probe on the exported napi_poll tracepoint sees every NAPI poll: in
 * the thread it counts the packets and remembers which NAPI the loop holds;
 * elsewhere (softirq NAPI after an interrupt) a poll that found packets
 * wakes a thread asleep in adaptive idle.
 */
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/rculist.h>
#include <linux/sched/clock.h>
#include <net/busy_poll.h>

#include "hvx_poll_priv.h"

/*
 * Longest time inside one napi_busy_loop(): it holds rcu_read_lock() with
 * preemption off, so this bounds the grace periods this CPU delays. Each end
 * re-arms the interrupt for a few microseconds.
 */
#define HVX_POLL_SLICE_NS	(2 * NSEC_PER_MSEC)
/* NAPIs polled per device; virtio-net has one per receive queue. */
#define HVX_POLL_NAPIS_MAX	16

LIST_HEAD(hvx_poll_devs);

struct hvx_poll_dev *hvx_poll_find(const struct net_device *dev)
{
	struct hvx_poll_dev *pd;

	ASSERT_RTNL();
	list_for_each_entry(pd, &hvx_poll_devs, node)
		if (pd->dev == dev)
			return pd;
	return NULL;
}

/* NAPI ids of @dev that napi_busy_loop() can find (hashed, not NO_BUSY_POLL). */
static int hvx_poll_napi_ids(struct net_device *dev, unsigned int *ids)
{
	struct napi_struct *napi;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(napi, &dev->napi_list, dev_list) {
		if (n == HVX_POLL_NAPIS_MAX)
			break;
		if (READ_ONCE(napi->napi_id) >= MIN_NAPI_ID)
			ids[n++] = READ_ONCE(napi->napi_id);
	}
	rcu_read_unlock();
	return n;
}

int hvx_poll_count_napis(struct net_device *dev)
{
	unsigned int ids[HVX_POLL_NAPIS_MAX];

	return hvx_poll_napi_ids(dev, ids);
}

void hvx_poll_napi_probe(void *data, struct napi_struct *napi, int work,
			 int budget)
{
	struct hvx_poll_dev *pd;

	rcu_read_lock();
	list_for_each_entry_rcu(pd, &hvx_poll_devs, node) {
		if (pd->dev != napi->dev)
			continue;
		if (current == pd->task && in_task()) {
			/*
			 * Only the loop proper has IN_BUSY_POLL; the poll in
			 * busy_poll_stop() must not leave a pointer that
			 * loop_end could read after the loop left RCU.
			 */
			if (test_bit(NAPI_STATE_IN_BUSY_POLL, &napi->state))
				pd->cur_napi = napi;
			WRITE_ONCE(pd->polls, pd->polls + 1);
			if (work > 0) {
				WRITE_ONCE(pd->packets, pd->packets + work);
				pd->last_work = local_clock();
			}
		} else if (work > 0 && READ_ONCE(pd->idle_wait)) {
			WRITE_ONCE(pd->idle_wait, false);
			wake_up_process(pd->task);
		}
		break;
	}
	rcu_read_unlock();
}

static bool hvx_poll_loop_end(void *arg, unsigned long start_time)
{
	struct hvx_poll_dev *pd = arg;
	struct napi_struct *napi = pd->cur_napi;
	u64 now;

	pd->cur_napi = NULL;
	if (kthread_should_stop() || !READ_ONCE(pd->up) || READ_ONCE(pd->kick))
		return true;
	/* napi_disable() waits for the SCHED bit this loop holds. */
	if (napi && test_bit(NAPI_STATE_DISABLE, &napi->state))
		return true;
	now = local_clock();
	if (now - pd->slice_start > HVX_POLL_SLICE_NS)
		return true;
	if (READ_ONCE(pd->mode) == HVX_POLL_MODE_ADAPTIVE &&
	    now - pd->last_work > (u64)READ_ONCE(pd->idle_us) * NSEC_PER_USEC) {
		pd->idle = true;
		return true;
	}
	return false;
}

/* Sleep until kicked, stopped, or (@idle) woken by traffic. */
static void hvx_poll_sleep(struct hvx_poll_dev *pd, u32 state, bool idle)
{
	WRITE_ONCE(pd->state, state);
	set_current_state(TASK_INTERRUPTIBLE);
	if (idle)
		WRITE_ONCE(pd->idle_wait, true);
	/* Pairs with the barrier in hvx_poll_kick(): see kick, or be woken. */
	smp_mb();
	if (!kthread_should_stop() && !READ_ONCE(pd->kick)) {
		if (idle || !READ_ONCE(pd->up))
			schedule();
		else
			/* Up with no NAPI to poll (channels changing): recheck. */
			schedule_timeout(HZ);
	}
	__set_current_state(TASK_RUNNING);
	if (idle && !READ_ONCE(pd->idle_wait))
		WRITE_ONCE(pd->wakeups, pd->wakeups + 1);
	WRITE_ONCE(pd->idle_wait, false);
	WRITE_ONCE(pd->state, HVX_POLL_STATE_POLLING);
}

static int hvx_poll_thread(void *arg)
{
	unsigned int ids[HVX_POLL_NAPIS_MAX];
	struct hvx_poll_dev *pd = arg;
	int i, n;
	u64 t;

	pd->last_work = local_clock();
	while (!kthread_should_stop()) {
		WRITE_ONCE(pd->kick, false);
		/* Pairs with hvx_poll_kick(): read tunables after the kick. */
		smp_mb();
		if (pd->idle) {
			pd->idle = false;
			WRITE_ONCE(pd->idle_sleeps, pd->idle_sleeps + 1);
			hvx_poll_sleep(pd, HVX_POLL_STATE_IDLE, true);
			pd->last_work = local_clock();
			continue;
		}
		n = READ_ONCE(pd->up) ? hvx_poll_napi_ids(pd->dev, ids) : 0;
		WRITE_ONCE(pd->nr_napis, n);
		if (!n) {
			hvx_poll_sleep(pd, HVX_POLL_STATE_DOWN, false);
			pd->last_work = local_clock();
			continue;
		}
		for (i = 0; i < n && !pd->idle; i++) {
			pd->cur_napi = NULL;
			pd->slice_start = local_clock();
			napi_busy_loop(ids[i], hvx_poll_loop_end, pd,
				       READ_ONCE(pd->prefer_busy_poll),
				       READ_ONCE(pd->budget));
			t = local_clock() - pd->slice_start;
			WRITE_ONCE(pd->busy_ns, pd->busy_ns + t);
		}
		/*
		 * A busy thread never sleeps, so it must also report the
		 * quiescent state RCU Tasks waits for: without it every BPF
		 * trampoline or ftrace update blocks while the thread runs.
		 */
		cond_resched_tasks_rcu_qs();
	}
	return 0;
}

/* Make the thread leave its loop or sleep and reread its state. */
void hvx_poll_kick(struct hvx_poll_dev *pd)
{
	WRITE_ONCE(pd->kick, true);
	/* Pairs with hvx_poll_sleep(): it sees kick or we see it asleep. */
	smp_mb();
	wake_up_process(pd->task);
}

int hvx_poll_apply_cpu(struct hvx_poll_dev *pd, u32 cpu)
{
	int ret;

	if (cpu == HVX_POLL_CPU_ANY)
		ret = set_cpus_allowed_ptr(pd->task, cpu_possible_mask);
	else
		ret = set_cpus_allowed_ptr(pd->task, cpumask_of(cpu));
	if (!ret)
		WRITE_ONCE(pd->cpu, cpu);
	return ret;
}

void hvx_poll_apply_sched(struct hvx_poll_dev *pd, u32 sched)
{
	switch (sched) {
	case HVX_POLL_SCHED_FIFO_LOW:
		sched_set_fifo_low(pd->task);
		break;
	case HVX_POLL_SCHED_FIFO:
		sched_set_fifo(pd->task);
		break;
	default:
		sched_set_normal(pd->task, 0);
		break;
	}
	WRITE_ONCE(pd->sched, sched);
}

/* Create the thread and publish @pd; RTNL held, pd->dev referenced. */
int hvx_poll_start(struct hvx_poll_dev *pd)
{
	struct task_struct *task;
	int ret;

	ASSERT_RTNL();
	task = kthread_create(hvx_poll_thread, pd, "hvx_poll/%s",
			      pd->dev->name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	pd->task = task;
	ret = hvx_poll_apply_cpu(pd, pd->cpu);
	if (ret) {
		kthread_stop(task);
		return ret;
	}
	hvx_poll_apply_sched(pd, pd->sched);
	pd->up = netif_running(pd->dev);
	list_add_tail_rcu(&pd->node, &hvx_poll_devs);
	hvx_poll_gen++;
	wake_up_process(task);
	return 0;
}

/* Unpublish @pd and stop its thread; RTNL held. The caller frees @pd. */
void hvx_poll_stop(struct hvx_poll_dev *pd)
{
	ASSERT_RTNL();
	list_del_rcu(&pd->node);
	hvx_poll_gen++;
	/* After this no probe can wake the task that kthread_stop() reaps. */
	synchronize_rcu();
	kthread_stop(pd->task);
}
