// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_ept: EPT dual-view guest memory. Per VM, views are Intel-format EPTs
 * mapping guest-physical ranges to host pages with permissions; the guest
 * memory fd shows the active view to processes and KVM guests alike.
 */
#include <linux/module.h>
#include <linux/notifier.h>
#include <net/genetlink.h>

#include <hvx_core.h>
#include "hvx_ept_priv.h"

static int hvx_ept_vm_event(struct notifier_block *nb, unsigned long event,
			    void *data)
{
	if (event == HVX_VM_EVENT_DEL)
		hvx_ept_vm_del(hvx_vm_id(data));
	return NOTIFY_DONE;
}

static struct notifier_block hvx_ept_notifier = {
	.notifier_call = hvx_ept_vm_event,
};

static int __init hvx_ept_mod_init(void)
{
	int ret;

	ret = hvx_ept_mmap_init();
	if (ret)
		return ret;
	ret = hvx_vm_register_notifier(&hvx_ept_notifier);
	if (ret)
		goto err_mmap;
	ret = hvx_ept_dev_init();
	if (ret)
		goto err_notifier;
	ret = hvx_ept_nl_init();
	if (ret)
		goto err_dev;
	return 0;

err_dev:
	hvx_ept_dev_exit();
err_notifier:
	hvx_vm_unregister_notifier(&hvx_ept_notifier);
err_mmap:
	hvx_ept_mmap_exit();
	return ret;
}

static void __exit hvx_ept_mod_exit(void)
{
	hvx_ept_nl_exit();
	hvx_ept_dev_exit();
	hvx_vm_unregister_notifier(&hvx_ept_notifier);
	/* No fd is open (each holds the module), so nothing maps the memory. */
	hvx_ept_vm_del_all();
	hvx_ept_mmap_exit();
}

module_init(hvx_ept_mod_init);
module_exit(hvx_ept_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx EPT dual-view guest memory");
MODULE_ALIAS_GENL_FAMILY(HVX_EPT_GENL_NAME);
