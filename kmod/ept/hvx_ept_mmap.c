// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory as a file: offset = GPA. /dev/hvx_ept hands out one fd per
 * request (HVX_EPT_IOC_MEMFD) and every fd of a VM shares the VM's own inode
 * on a private mount, so unmap_mapping_range() on that inode's mapping
 * reaches every mapping of the VM's memory (forks, KVM memslots) and no
 * other VM's.
 *
 * Mappings must be MAP_SHARED: a private mapping's copy-on-write copies
 * would keep showing a view's bytes after a switch. Faults are resolved
 * through the active view's EPT and inserted with vmf_insert_page() while
 * the VM's lock is held, so a switch never races with a fault that used the
 * previous view. Write access is checked in page_mkwrite: with it set, the
 * kernel maps shared writable pages read-only first.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "hvx_ept_priv.h"

#define HVX_EPT_FS_MAGIC	0x68767845	/* "hvxE" */

static struct vfsmount *hvx_ept_mnt;

static int hvx_ept_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, HVX_EPT_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the mount lives from module init to exit, and a module
 * reference from it would make the module impossible to unload. Open
 * files hold the module through their fops instead.
 */
static struct file_system_type hvx_ept_fs_type = {
	.name = "hvx_ept",
	.init_fs_context = hvx_ept_init_fs_context,
	.kill_sb = kill_anon_super,
};

struct inode *hvx_ept_inode_new(struct hvx_ept_vm *ev)
{
	struct inode *inode = alloc_anon_inode(hvx_ept_mnt->mnt_sb);

	if (IS_ERR(inode))
		return inode;
	inode->i_size = ev->mem_size;
	return inode;
}

static u32 hvx_ept_fault_access(const struct vm_fault *vmf)
{
	if (vmf->flags & FAULT_FLAG_INSTRUCTION)
		return HVX_EPT_PERM_X;
	if (vmf->flags & FAULT_FLAG_WRITE)
		return HVX_EPT_PERM_W;
	return HVX_EPT_PERM_R;
}

/*
 * Resolve with ev->lock held for reading; on success it is still held for
 * reading so the caller can use the page before a switch may run.
 */
static vm_fault_t hvx_ept_resolve_locked(struct hvx_ept_vm *ev, u64 gpa,
					 u32 access, struct page **page)
{
	u32 perm = 0;
	int ret;

	if (ev->dead)
		return VM_FAULT_SIGBUS;
	ret = hvx_ept_resolve(ev, gpa, access, page, &perm);
	if (ret == -EAGAIN) {
		up_read(&ev->lock);
		down_write(&ev->lock);
		ret = ev->dead ? -ENODEV : hvx_ept_populate(ev, gpa);
		downgrade_write(&ev->lock);
		if (!ret)
			ret = hvx_ept_resolve(ev, gpa, access, page, &perm);
	}
	if (ret == -EACCES) {
		hvx_ept_nl_violation(ev, gpa, access, perm);
		return VM_FAULT_SIGBUS;
	}
	if (ret == -EIO)
		pr_warn_ratelimited("hvx_ept: VM %u: misconfigured EPT entry for GPA %#llx\n",
				    ev->id, gpa);
	return ret ? vmf_error(ret) : 0;
}

static vm_fault_t hvx_ept_fault(struct vm_fault *vmf)
{
	struct hvx_ept_vm *ev = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct page *page;
	vm_fault_t ret;

	down_read(&ev->lock);
	ret = hvx_ept_resolve_locked(ev, gpa, hvx_ept_fault_access(vmf), &page);
	if (!ret)
		ret = vmf_insert_page(vmf->vma, vmf->address, page);
	up_read(&ev->lock);
	return ret;
}

static vm_fault_t hvx_ept_page_mkwrite(struct vm_fault *vmf)
{
	struct hvx_ept_vm *ev = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct page *page;
	vm_fault_t ret;

	down_read(&ev->lock);
	ret = hvx_ept_resolve_locked(ev, gpa, HVX_EPT_PERM_W, &page);
	if (!ret) {
		/*
		 * A switch since the PTE was made unmapped it; the core
		 * notices and refaults. Our pages have no page-cache mapping,
		 * so the page must be handed back locked (VM_FAULT_LOCKED),
		 * or do_page_mkwrite() would retry forever.
		 */
		if (page != vmf->page) {
			ret = VM_FAULT_NOPAGE;
		} else {
			lock_page(page);
			ret = VM_FAULT_LOCKED;
		}
	}
	up_read(&ev->lock);
	return ret;
}

static const struct vm_operations_struct hvx_ept_vm_ops = {
	.fault = hvx_ept_fault,
	.page_mkwrite = hvx_ept_page_mkwrite,
};

static int hvx_ept_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hvx_ept_vm *ev = file->private_data;
	unsigned long pages = vma_pages(vma);

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > ev->mem_size >> PAGE_SHIFT ||
	    pages > (ev->mem_size >> PAGE_SHIFT) - vma->vm_pgoff)
		return -EINVAL;
	/*
	 * MIXEDMAP: vm_insert_page from the fault handler (mmap_lock held for
	 * reading only). DONTEXPAND: mremap may move, not grow. DONTDUMP:
	 * trusted memory has no business in core files.
	 */
	vma->vm_flags |= VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_ops = &hvx_ept_vm_ops;
	return 0;
}

static long hvx_ept_memfd_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct hvx_ept_vm *ev = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct hvx_ept_switch sw;
	u32 usize;
	int ret;

	if (cmd != HVX_EPT_IOC_SWITCH)
		return -ENOTTY;
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(sw))
		return -EINVAL;
	ret = copy_struct_from_user(&sw, sizeof(sw), uarg, usize);
	if (ret)
		return ret;
	if (sw.flags)
		return -EOPNOTSUPP;
	if (sw.__reserved)
		return -EINVAL;
	return hvx_ept_view_switch(ev, sw.view_id);
}

static int hvx_ept_memfd_release(struct inode *inode, struct file *file)
{
	hvx_ept_vm_put(file->private_data);
	return 0;
}

static const struct file_operations hvx_ept_memfd_fops = {
	.owner = THIS_MODULE,
	.mmap = hvx_ept_mmap,
	.unlocked_ioctl = hvx_ept_memfd_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = hvx_ept_memfd_release,
};

/* A new file on the VM's inode; the fd is installed by the caller. */
static struct file *hvx_ept_memfd_file(struct hvx_ept_vm *ev)
{
	struct file *file;

	/* alloc_file_pseudo() does not take the module reference fput drops. */
	if (!try_module_get(THIS_MODULE))
		return ERR_PTR(-ENOENT);
	ihold(ev->inode);
	file = alloc_file_pseudo(ev->inode, hvx_ept_mnt, "[hvx_ept]", O_RDWR,
				 &hvx_ept_memfd_fops);
	if (IS_ERR(file)) {
		iput(ev->inode);
		module_put(THIS_MODULE);
		return file;
	}
	file->private_data = ev;
	return file;
}

static long hvx_ept_dev_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct hvx_ept_memfd req;
	struct hvx_ept_vm *ev;
	struct file *memfd;
	u32 usize;
	int ret, fd;

	if (cmd != HVX_EPT_IOC_MEMFD)
		return -ENOTTY;
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(req))
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	if (req.flags)
		return -EOPNOTSUPP;
	if (req.__reserved)
		return -EINVAL;

	ev = hvx_ept_vm_get(req.vm_id);
	if (!ev)
		return -ENOENT;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		hvx_ept_vm_put(ev);
		return fd;
	}
	memfd = hvx_ept_memfd_file(ev);
	if (IS_ERR(memfd)) {
		put_unused_fd(fd);
		hvx_ept_vm_put(ev);
		return PTR_ERR(memfd);
	}
	/* The file owns the reference on ev from here. */
	fd_install(fd, memfd);
	return fd;
}

static const struct file_operations hvx_ept_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hvx_ept_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hvx_ept_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hvx_ept",
	.fops = &hvx_ept_dev_fops,
	.mode = 0600,
};

int hvx_ept_mmap_init(void)
{
	hvx_ept_mnt = kern_mount(&hvx_ept_fs_type);
	return PTR_ERR_OR_ZERO(hvx_ept_mnt);
}

void hvx_ept_mmap_exit(void)
{
	kern_unmount(hvx_ept_mnt);
}

int hvx_ept_dev_init(void)
{
	return misc_register(&hvx_ept_misc);
}

void hvx_ept_dev_exit(void)
{
	misc_deregister(&hvx_ept_misc);
}
