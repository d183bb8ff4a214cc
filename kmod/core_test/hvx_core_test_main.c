// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_core_test: a real in-kernel user of the hvx_core API for the selftests,
 * as iommufd's selftest driver is for iommufd. It holds VM references for as
 * long as the test keeps its file open, reaches guest memory from a
 * workqueue kthread, and checks what the lifetime notifier delivers.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <hvx_core.h>
#include "hvx_core_test.h"

static struct dentry *hvx_test_dir;
static atomic_t hvx_test_ev[3];
static atomic_t hvx_test_ev_bad;

/* Per open file: the VMs it holds, by id. */
struct hvx_test_file {
	struct xarray held;
};

struct hvx_test_access {
	struct work_struct work;
	struct hvx_vm *vm;
	u64 gpa;
	void *buf;
	size_t len;
	bool write;
	int ret;
};

static void hvx_test_access_fn(struct work_struct *work)
{
	struct hvx_test_access *a = container_of(work, struct hvx_test_access,
						 work);

	/* The point of the exercise: no user mm in this context. */
	if (current->mm) {
		a->ret = -EINVAL;
		return;
	}
	if (a->write)
		a->ret = hvx_vm_write_gpa(a->vm, a->gpa, a->buf, a->len);
	else
		a->ret = hvx_vm_read_gpa(a->vm, a->gpa, a->buf, a->len);
}

static int hvx_test_access(struct hvx_test_file *tf,
			   struct hvx_core_test_cmd *cmd, bool write)
{
	struct hvx_test_access a = { .gpa = cmd->gpa, .write = write };
	void __user *uptr = u64_to_user_ptr(cmd->uptr);
	struct hvx_vm *vm;
	int ret;

	if (!cmd->len || cmd->len > HVX_CORE_TEST_LEN_MAX)
		return -EINVAL;
	a.len = cmd->len;
	/* The held reference may be put by a concurrent ioctl: take our own. */
	xa_lock(&tf->held);
	vm = xa_load(&tf->held, cmd->vm_id);
	if (vm)
		hvx_vm_hold(vm);
	xa_unlock(&tf->held);
	if (!vm)
		vm = hvx_vm_get(cmd->vm_id);
	if (!vm)
		return -ENOENT;
	a.vm = vm;
	a.buf = kvzalloc(a.len, GFP_KERNEL);
	if (!a.buf) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (write && copy_from_user(a.buf, uptr, a.len)) {
		ret = -EFAULT;
		goto out_free;
	}

	INIT_WORK_ONSTACK(&a.work, hvx_test_access_fn);
	queue_work(system_unbound_wq, &a.work);
	flush_work(&a.work);
	destroy_work_on_stack(&a.work);
	ret = a.ret;

	if (!ret && !write && copy_to_user(uptr, a.buf, a.len))
		ret = -EFAULT;
out_free:
	kvfree(a.buf);
out_put:
	hvx_vm_put(vm);
	return ret;
}

static int hvx_test_hold(struct hvx_test_file *tf, u32 id)
{
	struct hvx_vm *vm;
	int ret;

	vm = hvx_vm_get(id);
	if (!vm)
		return -ENOENT;
	ret = xa_insert(&tf->held, id, vm, GFP_KERNEL);
	if (ret)
		hvx_vm_put(vm);
	return ret;
}

static int hvx_test_put(struct hvx_test_file *tf, u32 id)
{
	struct hvx_vm *vm = xa_erase(&tf->held, id);

	if (!vm)
		return -ENOENT;
	hvx_vm_put(vm);
	return 0;
}

static long hvx_test_ioctl(struct file *file, unsigned int nr,
			   unsigned long arg)
{
	struct hvx_core_test_cmd __user *ucmd = (void __user *)arg;
	struct hvx_test_file *tf = file->private_data;
	struct hvx_core_test_cmd cmd;
	struct hvx_vm *vm;
	int ret;

	if (nr != HVX_CORE_TEST_IOCTL)
		return -ENOTTY;
	if (copy_from_user(&cmd, ucmd, sizeof(cmd)))
		return -EFAULT;
	if (cmd.size != sizeof(cmd))
		return -EINVAL;

	switch (cmd.op) {
	case HVX_CORE_TEST_HOLD:
		return hvx_test_hold(tf, cmd.vm_id);
	case HVX_CORE_TEST_PUT:
		return hvx_test_put(tf, cmd.vm_id);
	case HVX_CORE_TEST_STATUS:
		xa_lock(&tf->held);
		vm = xa_load(&tf->held, cmd.vm_id);
		if (vm)
			cmd.dead = hvx_vm_dead(vm);
		xa_unlock(&tf->held);
		if (!vm)
			return -ENOENT;
		break;
	case HVX_CORE_TEST_READ:
	case HVX_CORE_TEST_WRITE:
		ret = hvx_test_access(tf, &cmd, cmd.op == HVX_CORE_TEST_WRITE);
		if (ret)
			return ret;
		break;
	case HVX_CORE_TEST_EVENTS:
		cmd.ev_new = atomic_read(&hvx_test_ev[HVX_VM_EVENT_NEW]);
		cmd.ev_del = atomic_read(&hvx_test_ev[HVX_VM_EVENT_DEL]);
		cmd.ev_state = atomic_read(&hvx_test_ev[HVX_VM_EVENT_STATE]);
		cmd.ev_bad = atomic_read(&hvx_test_ev_bad);
		break;
	default:
		return -EOPNOTSUPP;
	}
	return copy_to_user(ucmd, &cmd, sizeof(cmd)) ? -EFAULT : 0;
}

static int hvx_test_open(struct inode *inode, struct file *file)
{
	struct hvx_test_file *tf;

	tf = kzalloc(sizeof(*tf), GFP_KERNEL);
	if (!tf)
		return -ENOMEM;
	xa_init(&tf->held);
	file->private_data = tf;
	return 0;
}

static int hvx_test_release(struct inode *inode, struct file *file)
{
	struct hvx_test_file *tf = file->private_data;
	struct hvx_vm *vm;
	unsigned long id;

	xa_for_each(&tf->held, id, vm)
		hvx_vm_put(vm);
	xa_destroy(&tf->held);
	kfree(tf);
	return 0;
}

static const struct file_operations hvx_test_fops = {
	.owner = THIS_MODULE,
	.open = hvx_test_open,
	.release = hvx_test_release,
	.unlocked_ioctl = hvx_test_ioctl,
};

/*
 * The contract: process context, no hvx_core lock held (so lookups work),
 * NEW and STATE for a published VM, DEL for an unpublished one.
 */
static int hvx_test_vm_event(struct notifier_block *nb, unsigned long event,
			     void *data)
{
	struct hvx_vm *vm = data, *found;
	bool ok;

	if (event > HVX_VM_EVENT_STATE || !preemptible()) {
		atomic_inc(&hvx_test_ev_bad);
		return NOTIFY_DONE;
	}
	found = hvx_vm_get(hvx_vm_id(vm));
	if (event == HVX_VM_EVENT_DEL)
		ok = !found && hvx_vm_dead(vm);
	else
		ok = found == vm && !hvx_vm_dead(vm);
	hvx_vm_put(found);
	atomic_inc(ok ? &hvx_test_ev[event] : &hvx_test_ev_bad);
	return NOTIFY_OK;
}

static struct notifier_block hvx_test_nb = {
	.notifier_call = hvx_test_vm_event,
};

static int __init hvx_core_test_init(void)
{
	int ret;

	hvx_test_dir = debugfs_create_dir("hvx_core_test", NULL);
	if (IS_ERR(hvx_test_dir))
		return PTR_ERR(hvx_test_dir);
	debugfs_create_file("ctl", 0600, hvx_test_dir, NULL, &hvx_test_fops);
	ret = hvx_vm_register_notifier(&hvx_test_nb);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	debugfs_remove_recursive(hvx_test_dir);
	return ret;
}

static void __exit hvx_core_test_exit(void)
{
	hvx_vm_unregister_notifier(&hvx_test_nb);
	debugfs_remove_recursive(hvx_test_dir);
}

module_init(hvx_core_test_init);
module_exit(hvx_core_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx_core self-test driver: holds VMs, reaches guest memory");
MODULE_AUTHOR("hvx developers");
