// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_core: the VM registry every hvx feature module attaches to, and its
 * generic netlink control plane.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include <hvx_core.h>
#include "hvx_core_priv.h"

static int __init hvx_core_init(void)
{
	int ret;

	ret = hvx_vm_init();
	if (ret)
		return ret;
	ret = hvx_nl_init();
	if (ret)
		goto err_vm;
	return 0;

err_vm:
	hvx_vm_exit();
	return ret;
}

/*
 * Feature modules hold references on hvx_core through its symbols, so none
 * is left here; VMs still registered are destroyed once the family is gone.
 */
static void __exit hvx_core_exit(void)
{
	hvx_nl_exit();
	hvx_vm_exit();
}

module_init(hvx_core_init);
module_exit(hvx_core_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx VM registry and generic netlink control plane");
MODULE_AUTHOR("hvx developers");
MODULE_ALIAS_GENL_FAMILY(HVX_GENL_NAME);
