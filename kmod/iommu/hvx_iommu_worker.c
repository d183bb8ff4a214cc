// SPDX-License-Identifier: GPL-2.0
/*
 * The worker: consumes a VM's command buffer from head to tail when the
 * VMM rings the doorbell, translating each command into the host ring, as
 * the IOMMU's command processor would, with no exit to the VMM per
 * command.
 *
 * Error handling follows the spec: an illegal command (unknown opcode,
 * reserved bit, or here an ID the VM has no mapping for) logs
 * ILLEGAL_COMMAND_ERROR with the command's guest-physical address, clears
 * CmdBufRun and leaves head at the command. A COMPLETION_WAIT store that no
 * guest memory backs is a COMMAND_HARDWARE_ERROR, likewise fatal.
 */
#include <linux/sched.h>

#include <hvx_core.h>
#include "hvx_iommu.h"

/*
 * One command, under r->lock: translate into the host ring, then perform
 * COMPLETION_WAIT's store and interrupt. The host ring is checked first so
 * that a full ring has no side effect and the command can be retried.
 */
int hvx_iommu_exec(struct hvx_iommu_ring *r, const struct hvx_iommu_entry *cmd,
		   struct hvx_iommu_entry *out)
{
	struct hvx_iommu_vm *ivm = r->ivm;
	u64 data;
	int err;

	lockdep_assert_held(&r->lock);
	if (hvx_iommu_host_full(r))
		return -ENOSPC;

	rcu_read_lock();
	err = hvx_iommu_xlat_cmd(&ivm->maps, cmd, out);
	if (!err)
		hvx_iommu_host_emit(r, out);
	rcu_read_unlock();
	if (err) {
		hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_ERRORS, 1);
		return err == HVX_XLAT_UNMAPPED ? -ENOENT : -EINVAL;
	}

	if (hvx_iommu_entry_type(cmd) == HVX_IOMMU_CMD_COMPLETION_WAIT) {
		if (cmd->dw[0] & HVX_IOMMU_CW_STORE) {
			data = hvx_iommu_cw_data(cmd);
			if (hvx_vm_write_gpa(r->vm, hvx_iommu_cw_addr(cmd),
					     &data, sizeof(data))) {
				hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_ERRORS, 1);
				return -EFAULT;
			}
		}
		if (cmd->dw[0] & HVX_IOMMU_CW_INT) {
			hvx_iommu_set_status(r, HVX_IOMMU_STATUS_COMWAIT_INT);
			hvx_iommu_signal(r, HVX_IOMMU_IRQ_COMWAIT);
		}
		hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_COMPLETION_WAITS, 1);
	}
	hvx_iommu_stat_add(ivm, HVX_IOMMU_STAT_COMMANDS, 1);
	return 0;
}

/* Where the guest sees the command at @head: its buffer base plus head. */
static u64 hvx_iommu_cmd_gpa(struct hvx_iommu_ring *r, u32 head)
{
	/* CmdBase[51:12] of the base register; the length is in 59:56. */
	return (hvx_iommu_reg(r, HVX_IOMMU_REG_CMD_BASE) &
		GENMASK_ULL(51, 12)) + head;
}

static void hvx_iommu_halt(struct hvx_iommu_ring *r, int err)
{
	struct hvx_iommu_entry ev;

	hvx_iommu_cmd_error_event(&ev, err == -EFAULT ?
				  HVX_IOMMU_EV_COMMAND_HARDWARE_ERROR :
				  HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR,
				  hvx_iommu_cmd_gpa(r, r->cmd_head));
	r->halted = true;
	hvx_iommu_clear_status(r, HVX_IOMMU_STATUS_CMD_RUN);
	if (hvx_iommu_log_append(r, &r->evt, &ev))
		hvx_iommu_stat_add(r->ivm, HVX_IOMMU_STAT_OVERFLOWS, 1);
	else
		hvx_iommu_stat_add(r->ivm, HVX_IOMMU_STAT_EVENTS, 1);
}

static void hvx_iommu_run(struct hvx_iommu_ring *r)
{
	u64 tail = hvx_iommu_reg(r, HVX_IOMMU_REG_CMD_TAIL);
	struct hvx_iommu_entry cmd, out;
	unsigned int n = 0;
	const u32 *slot;
	int i, err;

	/* The doorbell checked it, but the VMM may have changed it since. */
	if (!hvx_iommu_ptr_valid(tail, r->cmd_size)) {
		r->halted = true;
		hvx_iommu_clear_status(r, HVX_IOMMU_STATUS_CMD_RUN);
		hvx_iommu_stat_add(r->ivm, HVX_IOMMU_STAT_ERRORS, 1);
		return;
	}
	/* Commands up to the tail the VMM published are complete. */
	smp_rmb();
	while (r->cmd_head != tail) {
		/* One copy, then decode: the VMM can rewrite the slot. */
		slot = (const u32 *)(r->cmd + r->cmd_head);
		for (i = 0; i < 4; i++)
			cmd.dw[i] = READ_ONCE(slot[i]);
		err = hvx_iommu_exec(r, &cmd, &out);
		if (err == -ENOSPC)
			break;	/* the host ring's consumer rings again */
		if (err) {
			hvx_iommu_halt(r, err);
			break;
		}
		r->cmd_head = (r->cmd_head + HVX_IOMMU_ENTRY_SIZE) &
			      (r->cmd_size - 1);
		hvx_iommu_set_reg(r, HVX_IOMMU_REG_CMD_HEAD, r->cmd_head);
		if (!(++n % 256))
			cond_resched();
	}
}

void hvx_iommu_work(struct work_struct *work)
{
	struct hvx_iommu_ring *r = container_of(work, struct hvx_iommu_ring,
						work);

	mutex_lock(&r->lock);
	if (!r->dead && !r->halted)
		hvx_iommu_run(r);
	mutex_unlock(&r->lock);
}
