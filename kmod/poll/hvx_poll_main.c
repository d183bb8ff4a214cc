// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_poll: a busy-polling kernel thread per network device, with an
 * adaptive sleep policy. See Documentation/hvx-poll.rst.
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <net/genetlink.h>
#include <trace/events/napi.h>

#include "hvx_poll_priv.h"

unsigned int hvx_poll_gen;

static void hvx_poll_detach_all(void)
{
	struct hvx_poll_dev *pd, *tmp;

	rtnl_lock();
	list_for_each_entry_safe(pd, tmp, &hvx_poll_devs, node) {
		hvx_poll_stop(pd);
		netdev_put(pd->dev, &pd->dev_tracker);
		kfree(pd);
	}
	rtnl_unlock();
}

/*
 * Down: the thread leaves the NAPIs before ndo_stop() disables them
 * (NETDEV_GOING_DOWN comes first) and sleeps until NETDEV_UP. Unregister,
 * which a netns move also sends: detach, dropping the device reference.
 */
static int hvx_poll_netdev_event(struct notifier_block *nb,
				 unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct hvx_poll_dev *pd;

	pd = hvx_poll_find(dev);
	if (!pd)
		return NOTIFY_DONE;
	switch (event) {
	case NETDEV_GOING_DOWN:
		WRITE_ONCE(pd->up, false);
		hvx_poll_kick(pd);
		break;
	case NETDEV_UP:
		WRITE_ONCE(pd->up, true);
		hvx_poll_kick(pd);
		break;
	case NETDEV_UNREGISTER:
		hvx_poll_stop(pd);
		netdev_put(pd->dev, &pd->dev_tracker);
		kfree(pd);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block hvx_poll_netdev_nb = {
	.notifier_call = hvx_poll_netdev_event,
};

static int __init hvx_poll_mod_init(void)
{
	int ret;

	ret = register_trace_napi_poll(hvx_poll_napi_probe, NULL);
	if (ret)
		return ret;
	ret = register_netdevice_notifier(&hvx_poll_netdev_nb);
	if (ret)
		goto err_probe;
	ret = hvx_poll_nl_init();
	if (ret)
		goto err_notifier;
	return 0;

err_notifier:
	unregister_netdevice_notifier(&hvx_poll_netdev_nb);
err_probe:
	unregister_trace_napi_poll(hvx_poll_napi_probe, NULL);
	tracepoint_synchronize_unregister();
	return ret;
}

static void __exit hvx_poll_mod_exit(void)
{
	hvx_poll_nl_exit();
	hvx_poll_detach_all();
	unregister_netdevice_notifier(&hvx_poll_netdev_nb);
	unregister_trace_napi_poll(hvx_poll_napi_probe, NULL);
	/* No probe may still run in this module's text. */
	tracepoint_synchronize_unregister();
}

module_init(hvx_poll_mod_init);
module_exit(hvx_poll_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx per-device NAPI busy-polling thread");
MODULE_ALIAS_GENL_FAMILY(HVX_POLL_GENL_NAME);
