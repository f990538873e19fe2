// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlb: per-device DMA bounce buffers that overflow the kernel's swiotlb.
 *
 * Module entry points.  dsw_init() starts the parts in order and, if one
 * fails, stops the ones already started in reverse order; dsw_exit() stops
 * them all in reverse order.  The kernel parses devices= (params.c) before
 * dsw_init() runs; dsw_init() refuses to load if the value was malformed.
 */

#include <linux/init.h>
#include <linux/module.h>

#include "attach.h"
#include "bounce.h"
#include "debugfs.h"
#include "params.h"
#include "policy.h"
#include "shim.h"
#include "stats.h"
#include "sysfs.h"
#include "version.h"

static int __init dsw_init(void)
{
	int ret;

	ret = dsw_params_check();
	if (ret)
		return ret;

	ret = dsw_policy_init();
	if (ret)
		return ret;
	dsw_stats_init();
	ret = dsw_bounce_cache_init();
	if (ret)
		return ret;

	/* Cannot fail; before attaching, which adds per-device entries. */
	dsw_debugfs_init();

	ret = dsw_sysfs_init();
	if (ret)
		goto err_debugfs;

	/*
	 * Last: nothing may fail once a device is attached, since a failed
	 * load frees the module's text under the ops it installed.  The
	 * attach and detach files wait for the registry (dsw_sysfs_enable()
	 * cannot fail, see sysfs.c).
	 */
	ret = dsw_attach_init();
	if (ret)
		goto err_sysfs;
	dsw_sysfs_enable();

	pr_info("version %s loaded\n", DSW_VERSION);
	return 0;

err_sysfs:
	dsw_sysfs_exit();
err_debugfs:
	dsw_debugfs_exit();
	dsw_bounce_cache_exit();
	dsw_release_wait();	/* shims the load made and freed */
	return ret;
}

static void __exit dsw_exit(void)
{
	dsw_sysfs_disable();
	dsw_attach_exit();
	dsw_shim_exit();
	dsw_sysfs_exit();
	dsw_debugfs_exit();
	dsw_bounce_cache_exit();
	dsw_release_wait();
	pr_info("unloaded\n");
}

module_init(dsw_init);
module_exit(dsw_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("dynswiotlb developers");
MODULE_DESCRIPTION("Dynamically growing per-device DMA bounce buffers behind swiotlb");
MODULE_VERSION(DSW_VERSION);
