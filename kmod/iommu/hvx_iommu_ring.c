// SPDX-License-Identifier: GPL-2.0
/*
 * Guest rings: /dev/hvx_iommu hands the VMM one fd per VM whose mmap holds
 * the register window and the command buffer, event log, PPR log and host
 * ring, all in one vmalloc_user() area.
 *
 * Everything in that area is writable by the VMM (except the host ring,
 * mapped read-only) and may change under the kernel at any time: the
 * kernel keeps its own copy of every pointer it owns, validates every
 * pointer it reads (alignment and range, see hvx_iommu_ptr_valid()) and
 * copies each entry out once before decoding it.
 */
#include <linux/anon_inodes.h>
#include <linux/bitops.h>
#include <linux/capability.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <hvx_core.h>
#include "hvx_iommu.h"

/* A head or tail: 16-byte aligned, inside a ring of @size bytes. */
bool hvx_iommu_ptr_valid(u64 ptr, u32 size)
{
	return !(ptr & ~((u64)size - HVX_IOMMU_ENTRY_SIZE));
}

/* One status bit at a time, atomically: the VMM clears others meanwhile. */
void hvx_iommu_set_status(struct hvx_iommu_ring *r, u64 bit)
{
	set_bit(__ffs64(bit),
		(unsigned long *)&r->regs[HVX_IOMMU_REG_STATUS / sizeof(u64)]);
}

void hvx_iommu_clear_status(struct hvx_iommu_ring *r, u64 bit)
{
	clear_bit(__ffs64(bit),
		  (unsigned long *)&r->regs[HVX_IOMMU_REG_STATUS / sizeof(u64)]);
}

void hvx_iommu_signal(struct hvx_iommu_ring *r, enum hvx_iommu_irq irq)
{
	if (r->irq[irq])
		eventfd_signal(r->irq[irq], 1);
}

static void hvx_iommu_write_entry(u8 *slot, const struct hvx_iommu_entry *e)
{
	u32 *dw = (u32 *)slot;
	int i;

	for (i = 0; i < 4; i++)
		WRITE_ONCE(dw[i], e->dw[i]);
}

/*
 * Append to the event or PPR log, as the IOMMU does: nothing while the
 * overflow bit is set, and a full log (or a head the VMM corrupted) sets it
 * instead of writing. Under r->lock.
 */
int hvx_iommu_log_append(struct hvx_iommu_ring *r, struct hvx_iommu_evlog *log,
			 const struct hvx_iommu_entry *e)
{
	u64 head = hvx_iommu_reg(r, log->head_reg);
	u32 next = (log->tail + HVX_IOMMU_ENTRY_SIZE) & (log->size - 1);

	lockdep_assert_held(&r->lock);
	if (hvx_iommu_reg(r, HVX_IOMMU_REG_STATUS) & log->overflow_bit)
		return -ENOSPC;
	if (!hvx_iommu_ptr_valid(head, log->size) || next == head) {
		hvx_iommu_set_status(r, log->overflow_bit);
		hvx_iommu_signal(r, log->irq);
		return -ENOSPC;
	}
	hvx_iommu_write_entry(log->base + log->tail, e);
	log->tail = next;
	/* The entry is visible before the tail that covers it. */
	hvx_iommu_set_reg(r, log->tail_reg, next);
	hvx_iommu_set_status(r, log->int_bit);
	hvx_iommu_signal(r, log->irq);
	return 0;
}

/* Under r->lock. A head the consumer corrupted reads as a full ring. */
bool hvx_iommu_host_full(struct hvx_iommu_ring *r)
{
	u64 head = hvx_iommu_reg(r, HVX_IOMMU_REG_HOST_HEAD);
	u32 next = (r->host_tail + HVX_IOMMU_ENTRY_SIZE) & (r->host_size - 1);

	return !hvx_iommu_ptr_valid(head, r->host_size) || next == head;
}

void hvx_iommu_host_emit(struct hvx_iommu_ring *r,
			 const struct hvx_iommu_entry *e)
{
	hvx_iommu_write_entry(r->host + r->host_tail, e);
	r->host_tail = (r->host_tail + HVX_IOMMU_ENTRY_SIZE) &
		       (r->host_size - 1);
	hvx_iommu_set_reg(r, HVX_IOMMU_REG_HOST_TAIL, r->host_tail);
}

/*
 * Stop the ring and let go of the VM, when the VM is destroyed or the fd
 * closed; the memory stays mapped until the fd's last user is gone.
 */
void hvx_iommu_ring_kill(struct hvx_iommu_ring *r)
{
	struct hvx_vm *vm;

	mutex_lock(&r->lock);
	r->dead = true;
	vm = r->vm;
	r->vm = NULL;
	hvx_iommu_clear_status(r, HVX_IOMMU_STATUS_CMD_RUN);
	hvx_iommu_clear_status(r, HVX_IOMMU_STATUS_EVT_RUN);
	hvx_iommu_clear_status(r, HVX_IOMMU_STATUS_PPR_RUN);
	mutex_unlock(&r->lock);
	if (vm)
		hvx_vm_put(vm);
}

/*
 * Size-extensible arguments: the first u32 is the size user space knows;
 * shorter than the first version is refused, longer must be zero-filled.
 */
static int hvx_iommu_get_arg(void *karg, size_t ksize, size_t min,
			     void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

static int hvx_iommu_put_arg(void __user *uarg, const void *karg, size_t ksize,
			     u32 usize)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, usize)) ?
	       -EFAULT : 0;
}

static long hvx_iommu_doorbell(struct hvx_iommu_ring *r, void __user *uarg)
{
	struct hvx_iommu_doorbell a;
	u64 head;
	u32 usize;
	int ret;

	ret = hvx_iommu_get_arg(&a, sizeof(a), sizeof(a), uarg, &usize);
	if (ret)
		return ret;
	if (a.flags & ~__HVX_IOMMU_DOORBELL_ALL)
		return -EOPNOTSUPP;

	mutex_lock(&r->lock);
	if (r->dead) {
		ret = -ENODEV;
	} else if (!hvx_iommu_ptr_valid(hvx_iommu_reg(r, HVX_IOMMU_REG_CMD_TAIL),
				       r->cmd_size)) {
		ret = -EINVAL;
	} else if (a.flags & HVX_IOMMU_DOORBELL_RESTART) {
		/* The VMM may have moved head past the offending command. */
		head = hvx_iommu_reg(r, HVX_IOMMU_REG_CMD_HEAD);
		if (!hvx_iommu_ptr_valid(head, r->cmd_size)) {
			ret = -EINVAL;
		} else {
			r->cmd_head = head;
			r->halted = false;
			hvx_iommu_set_status(r, HVX_IOMMU_STATUS_CMD_RUN);
		}
	} else if (r->halted) {
		ret = -EIO;
	}
	mutex_unlock(&r->lock);
	if (ret)
		return ret;

	queue_work(hvx_iommu_wq, &r->work);
	if (a.flags & HVX_IOMMU_DOORBELL_SYNC)
		flush_work(&r->work);
	return 0;
}

static long hvx_iommu_set_irq(struct hvx_iommu_ring *r, void __user *uarg)
{
	struct eventfd_ctx *ctx = NULL, *old;
	struct hvx_iommu_set_irq a;
	u32 usize;
	int ret;

	ret = hvx_iommu_get_arg(&a, sizeof(a), sizeof(a), uarg, &usize);
	if (ret)
		return ret;
	if (a.flags)
		return -EOPNOTSUPP;
	if (a.irq >= __HVX_IOMMU_IRQ_MAX || a.fd < -1)
		return -EINVAL;
	if (a.fd >= 0) {
		ctx = eventfd_ctx_fdget(a.fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	mutex_lock(&r->lock);
	old = r->irq[a.irq];
	r->irq[a.irq] = ctx;
	mutex_unlock(&r->lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long hvx_iommu_submit(struct hvx_iommu_ring *r, void __user *uarg)
{
	struct hvx_iommu_submit a;
	struct hvx_iommu_entry in, out;
	u32 usize;
	int ret;

	ret = hvx_iommu_get_arg(&a, sizeof(a), sizeof(a), uarg, &usize);
	if (ret)
		return ret;
	if (a.flags)
		return -EOPNOTSUPP;
	memcpy(in.dw, a.cmd, sizeof(in.dw));

	mutex_lock(&r->lock);
	ret = r->dead ? -ENODEV : hvx_iommu_exec(r, &in, &out);
	mutex_unlock(&r->lock);
	if (ret)
		return ret;
	memcpy(a.out_cmd, out.dw, sizeof(a.out_cmd));
	return hvx_iommu_put_arg(uarg, &a, sizeof(a), usize);
}

static long hvx_iommu_ring_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct hvx_iommu_ring *r = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case HVX_IOMMU_DOORBELL:
		return hvx_iommu_doorbell(r, uarg);
	case HVX_IOMMU_SET_IRQ:
		return hvx_iommu_set_irq(r, uarg);
	case HVX_IOMMU_SUBMIT:
		return hvx_iommu_submit(r, uarg);
	default:
		return -ENOTTY;
	}
}

static int hvx_iommu_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hvx_iommu_ring *r = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long off;

	if (vma->vm_pgoff > r->size >> PAGE_SHIFT)
		return -EINVAL;
	off = vma->vm_pgoff << PAGE_SHIFT;
	if (len > r->size - off)
		return -EINVAL;
	/* Only the kernel writes host commands. */
	if (off + len > r->host_off) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	return remap_vmalloc_range(vma, r->mem, vma->vm_pgoff);
}

static int hvx_iommu_ring_release(struct inode *inode, struct file *file)
{
	struct hvx_iommu_ring *r = file->private_data;
	struct hvx_iommu_vm *ivm = r->ivm;
	int i;

	mutex_lock(&hvx_iommu_lock);
	if (ivm->ring == r)
		ivm->ring = NULL;
	hvx_iommu_gen++;
	mutex_unlock(&hvx_iommu_lock);

	hvx_iommu_ring_kill(r);
	cancel_work_sync(&r->work);
	for (i = 0; i < __HVX_IOMMU_IRQ_MAX; i++)
		if (r->irq[i])
			eventfd_ctx_put(r->irq[i]);
	vfree(r->mem);
	mutex_destroy(&r->lock);
	kfree(r);
	hvx_iommu_vm_put(ivm);
	return 0;
}

static const struct file_operations hvx_iommu_ring_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hvx_iommu_ring_ioctl,
	.mmap = hvx_iommu_ring_mmap,
	.release = hvx_iommu_ring_release,
	.llseek = noop_llseek,
};

static void hvx_iommu_log_init(struct hvx_iommu_evlog *log, u8 *base, u32 size,
			       unsigned int head_reg, unsigned int tail_reg,
			       u64 overflow_bit, u64 int_bit,
			       enum hvx_iommu_irq irq)
{
	log->base = base;
	log->size = size;
	log->head_reg = head_reg;
	log->tail_reg = tail_reg;
	log->overflow_bit = overflow_bit;
	log->int_bit = int_bit;
	log->irq = irq;
}

static struct hvx_iommu_ring *hvx_iommu_ring_alloc(struct hvx_vm *vm,
						   const struct hvx_iommu_vm_open *a)
{
	u32 cmd = HVX_IOMMU_ENTRY_SIZE << a->cmd_log2;
	u32 evt = HVX_IOMMU_ENTRY_SIZE << a->evt_log2;
	u32 ppr = HVX_IOMMU_ENTRY_SIZE << a->ppr_log2;
	struct hvx_iommu_ring *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return NULL;
	r->cmd_off = HVX_IOMMU_REG_SIZE;
	r->evt_off = r->cmd_off + cmd;
	r->ppr_off = r->evt_off + evt;
	r->host_off = r->ppr_off + ppr;
	/* Twice the command buffer: a full guest ring never blocks on it. */
	r->host_size = 2 * cmd;
	r->size = r->host_off + r->host_size;
	r->mem = vmalloc_user(r->size);
	if (!r->mem) {
		kfree(r);
		return NULL;
	}
	mutex_init(&r->lock);
	INIT_WORK(&r->work, hvx_iommu_work);
	r->regs = r->mem;
	r->cmd = r->mem + r->cmd_off;
	r->cmd_size = cmd;
	r->host = r->mem + r->host_off;
	hvx_iommu_log_init(&r->evt, r->mem + r->evt_off, evt,
			   HVX_IOMMU_REG_EVT_HEAD, HVX_IOMMU_REG_EVT_TAIL,
			   HVX_IOMMU_STATUS_EVT_OVERFLOW,
			   HVX_IOMMU_STATUS_EVT_INT, HVX_IOMMU_IRQ_EVT);
	hvx_iommu_log_init(&r->ppr, r->mem + r->ppr_off, ppr,
			   HVX_IOMMU_REG_PPR_HEAD, HVX_IOMMU_REG_PPR_TAIL,
			   HVX_IOMMU_STATUS_PPR_OVERFLOW,
			   HVX_IOMMU_STATUS_PPR_INT, HVX_IOMMU_IRQ_PPR);
	r->regs[HVX_IOMMU_REG_STATUS / sizeof(u64)] =
		HVX_IOMMU_STATUS_CMD_RUN | HVX_IOMMU_STATUS_EVT_RUN |
		HVX_IOMMU_STATUS_PPR_RUN;
	hvx_vm_hold(vm);
	r->vm = vm;
	return r;
}

static bool hvx_iommu_log2_valid(u8 v)
{
	return v >= HVX_IOMMU_RING_LOG2_MIN && v <= HVX_IOMMU_RING_LOG2_MAX;
}

static long hvx_iommu_vm_open(void __user *uarg)
{
	struct hvx_iommu_vm_open a;
	struct hvx_iommu_ring *r;
	struct hvx_iommu_vm *ivm;
	struct hvx_vm *vm;
	struct file *file;
	u32 usize;
	int fd, ret;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	ret = hvx_iommu_get_arg(&a, sizeof(a), sizeof(a), uarg, &usize);
	if (ret)
		return ret;
	if (a.flags)
		return -EOPNOTSUPP;
	if (a.__reserved || a.__reserved2)
		return -EINVAL;
	if (!hvx_iommu_log2_valid(a.cmd_log2) ||
	    !hvx_iommu_log2_valid(a.evt_log2) ||
	    !hvx_iommu_log2_valid(a.ppr_log2))
		return -EINVAL;
	vm = hvx_vm_get(a.vm_id);
	if (!vm)
		return -ENOENT;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_vm;
	}
	mutex_lock(&hvx_iommu_lock);
	ivm = hvx_iommu_vm_attach(vm);
	if (IS_ERR(ivm)) {
		ret = PTR_ERR(ivm);
		goto err_unlock;
	}
	if (ivm->ring) {
		ret = -EBUSY;
		goto err_unlock;
	}
	r = hvx_iommu_ring_alloc(vm, &a);
	if (!r) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	kref_get(&ivm->ref);
	r->ivm = ivm;
	file = anon_inode_getfile("hvx_iommu_vm", &hvx_iommu_ring_fops, r,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_ring;
	}
	ivm->ring = r;
	hvx_iommu_gen++;
	mutex_unlock(&hvx_iommu_lock);
	hvx_vm_put(vm);

	a.out_fd = fd;
	a.out_map_size = r->size;
	a.out_cmd_offset = r->cmd_off;
	a.out_evt_offset = r->evt_off;
	a.out_ppr_offset = r->ppr_off;
	a.out_host_offset = r->host_off;
	ret = hvx_iommu_put_arg(uarg, &a, sizeof(a), usize);
	if (ret) {
		/* release() undoes the rest. */
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	fd_install(fd, file);
	return 0;

err_ring:
	hvx_vm_put(r->vm);
	vfree(r->mem);
	kfree(r);
	hvx_iommu_vm_put(ivm);
err_unlock:
	mutex_unlock(&hvx_iommu_lock);
	put_unused_fd(fd);
err_vm:
	hvx_vm_put(vm);
	return ret;
}

static long hvx_iommu_dev_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	switch (cmd) {
	case HVX_IOMMU_VM_OPEN:
		return hvx_iommu_vm_open((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hvx_iommu_dev_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = hvx_iommu_dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hvx_iommu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = HVX_IOMMU_DEV_NAME,
	.fops = &hvx_iommu_dev_fops,
	.mode = 0600,
};

int __init hvx_iommu_ring_init(void)
{
	return misc_register(&hvx_iommu_misc);
}

void hvx_iommu_ring_exit(void)
{
	misc_deregister(&hvx_iommu_misc);
}
