// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_iommu: translates a guest's AMD IOMMU domain IDs and device IDs to
 * the host's in the kernel, from guest rings the VMM maps, without an exit
 * to the VMM per command.
 */
#include <linux/module.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include <hvx_core.h>
#include "hvx_iommu.h"

struct workqueue_struct *hvx_iommu_wq;

static int __init hvx_iommu_init(void)
{
	int ret;

	/* Unbound: a VM's worker should not wait behind the doorbell's CPU. */
	hvx_iommu_wq = alloc_workqueue("hvx_iommu", WQ_UNBOUND, 0);
	if (!hvx_iommu_wq)
		return -ENOMEM;
	ret = hvx_iommu_map_init();
	if (ret)
		goto err_wq;
	ret = hvx_iommu_ring_init();
	if (ret)
		goto err_map;
	ret = hvx_iommu_nl_init();
	if (ret)
		goto err_ring;
	return 0;

err_ring:
	hvx_iommu_ring_exit();
err_map:
	hvx_iommu_map_exit();
err_wq:
	destroy_workqueue(hvx_iommu_wq);
	return ret;
}

/*
 * Open ring fds hold the module, so none is left here; VMs keep living in
 * hvx_core without their hvx_iommu state.
 */
static void __exit hvx_iommu_exit(void)
{
	hvx_iommu_nl_exit();
	hvx_iommu_ring_exit();
	hvx_iommu_map_exit();
	destroy_workqueue(hvx_iommu_wq);
}

module_init(hvx_iommu_init);
module_exit(hvx_iommu_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx guest<->host IOMMU domain and device ID translation");
MODULE_AUTHOR("hvx developers");
MODULE_ALIAS_GENL_FAMILY(HVX_IOMMU_GENL_NAME);
