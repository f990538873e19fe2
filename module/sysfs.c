// SPDX-License-Identifier: GPL-2.0
/*
 * Run-time attach and detach, in sysfs (root only):
 *
 * /sys/kernel/dynswiotlb/attach (0200)
 *	Write a device name (as for devices=) to select and attach it now.
 *	A bound driver is unbound and bound again around the attach.  A
 *	selector (pci:VVVV:DDDD, driver:NAME, all) is kept, and every present
 *	device it matches is selected under its own name: attached at once
 *	if no driver is bound, else at its driver's next probe (a selector
 *	never unbinds a driver); a device it cannot attach is logged and
 *	left out, the write succeeds.
 *	Errors: EINVAL (malformed name, a PCI bridge, or no DMA mask), EEXIST
 *	(already selected), ENOSPC (32 devices selected), ENODEV (no such
 *	device), EOPNOTSUPP (a device whose DMA cannot go through the module),
 *	ENOMEM (no memory for the device's reserve).
 *
 * /sys/kernel/dynswiotlb/detach (0200)
 *	Write a selected device's name to detach and forget it.  A bound
 *	driver is unbound and bound again around the detach.  Writing a
 *	selector forgets it; the devices it selected stay attached.
 *	Errors: EINVAL (malformed name), ENODEV (not selected), EBUSY (the
 *	device has dynamic buffers mapped, or a selector matches it: detach
 *	the selector first).
 *
 * /sys/kernel/dynswiotlb/devices/<name>/ (policy.c)
 *	One directory per attached device with its policy knobs.
 *
 * Every error also logs one line naming the device and the reason.  The
 * names are DSW_SYSFS_* in <uapi/linux/dynswiotlb.h>.
 */

#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <uapi/linux/dynswiotlb.h>

#include "attach.h"
#include "params.h"
#include "sysfs.h"

static struct kobject *dsw_kobj;
static struct kobject *dsw_devices_kobj;
/* The registry is built: attach and detach may run. */
static bool dsw_sysfs_ready;

/* Parse the name written to @what and hand it to @action. */
static ssize_t dsw_name_store(const char *what, int (*action)(const char *),
			      const char *buf, size_t count)
{
	char name[DSW_DEV_NAME_MAX + 1];
	int ret;

	/* Pairs with dsw_sysfs_enable(): the registry is complete. */
	if (!smp_load_acquire(&dsw_sysfs_ready)) {
		pr_err("%s: the module is still loading\n", what);
		return -EBUSY;
	}
	ret = dsw_params_parse_name(what, buf, count, name);
	if (!ret)
		ret = action(name);
	return ret ?: count;
}

static ssize_t attach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	return dsw_name_store("attach", dsw_attach_name, buf, count);
}

static ssize_t detach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	return dsw_name_store("detach", dsw_detach_name, buf, count);
}

static struct kobj_attribute dsw_attach_attr = __ATTR_WO(attach);
static struct kobj_attribute dsw_detach_attr = __ATTR_WO(detach);

static struct attribute *dsw_attrs[] = {
	&dsw_attach_attr.attr,
	&dsw_detach_attr.attr,
	NULL,
};

static const struct attribute_group dsw_group = {
	.attrs = dsw_attrs,
};

/**
 * dsw_sysfs_init() - create /sys/kernel/dynswiotlb, its devices/ directory
 *	and the attach and detach files
 *
 * The files refuse writes (EBUSY) until dsw_sysfs_enable().
 *
 * Return: 0 or a negative errno.
 */
int __init dsw_sysfs_init(void)
{
	int ret = -ENOMEM;

	dsw_kobj = kobject_create_and_add(DSW_SYSFS_DIR, kernel_kobj);
	if (!dsw_kobj)
		goto err_log;
	dsw_devices_kobj = kobject_create_and_add(DSW_SYSFS_DEVICES, dsw_kobj);
	if (!dsw_devices_kobj)
		goto err;
	ret = sysfs_create_group(dsw_kobj, &dsw_group);
	if (ret) {
		kobject_put(dsw_devices_kobj);
		goto err;
	}
	return 0;

err:
	kobject_put(dsw_kobj);
err_log:
	pr_err("not loaded: cannot create /sys/kernel/%s: %d\n",
	       DSW_SYSFS_DIR, ret);
	return ret;
}

/**
 * dsw_sysfs_enable() - let the attach and detach files work
 *
 * Context: once the device registry is built.  Cannot fail, so that the
 * load cannot fail after devices are attached.
 */
void __init dsw_sysfs_enable(void)
{
	/* Pairs with dsw_name_store(): publish the registry first. */
	smp_store_release(&dsw_sysfs_ready, true);
}

/**
 * dsw_sysfs_devices() - the directory holding per-device directories
 *
 * Return: the kobject of /sys/kernel/dynswiotlb/devices.
 */
struct kobject *dsw_sysfs_devices(void)
{
	return dsw_devices_kobj;
}

/**
 * dsw_sysfs_disable() - remove the attach and detach files
 *
 * Waits for running writes.
 */
void dsw_sysfs_disable(void)
{
	sysfs_remove_group(dsw_kobj, &dsw_group);
	WRITE_ONCE(dsw_sysfs_ready, false);
}

/**
 * dsw_sysfs_exit() - remove /sys/kernel/dynswiotlb
 *
 * Removes the attach and detach files too, if dsw_sysfs_disable() did not.
 *
 * Context: after every device directory is gone.
 */
void dsw_sysfs_exit(void)
{
	kobject_put(dsw_devices_kobj);
	kobject_put(dsw_kobj);
}
