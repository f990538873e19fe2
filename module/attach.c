// SPDX-License-Identifier: GPL-2.0
/*
 * Device selection and attachment.
 *
 * The registry holds one struct dsw_dev per selected name: from devices= at
 * load time, or written to /sys/kernel/dynswiotlb/attach later.  A name with
 * no device yet stays pending; the bus notifiers select the device when it
 * is added and forget it when it is removed.
 *
 * A selector (pci:VVVV:DDDD, driver:NAME, all; select.c) has an entry of
 * its own that never holds a device.  Each device it matches gets an entry
 * named after the device, as if that name had been written to the attach
 * file: a PCI ID and all are matched when the device is added, every kind
 * just before a driver probes, and every device present is scanned once when the
 * selector is added (at load, or later through the attach file).  The scan
 * attaches devices without a driver; it never unbinds one (a selector may
 * match the root disk's controller, which a name would not do unawares):
 * such a device is attached at its driver's next probe, and nothing is
 * unbound for a device that would be refused.  A matched entry lives on
 * like a named one: removing the selector does not detach its devices, and
 * detaching such a device is refused while a selector would select it
 * again at its next probe.
 *
 * Attaching means installing the device's own dma_map_ops (shim.c).  That is
 * only safe while no driver is bound: a driver's existing mappings and its
 * cached "does this device need syncs" decisions belong to the ops it
 * probed with.  So the ops are installed
 *   - at BUS_NOTIFY_BIND_DRIVER, just before a driver's probe (the normal
 *     case: the module is loaded before the driver, e.g. by a softdep);
 *   - at once for a device that has no driver;
 *   - for a device whose driver is bound, by unbinding it, installing and
 *     binding it again (load time and sysfs attach; the driver sees a
 *     remove and a probe, as with a manual unbind/bind).
 * They are removed the same way (sysfs detach), when the device goes away,
 * and at unload for devices without a driver.
 *
 * The module cannot vanish under a device: while a driver is bound to an
 * attached device the module holds a reference to itself ("pinned"), and
 * so does every device with live dynamic buffers (bounce.c), so unloading
 * fails with EBUSY until the device is detached or its driver unbound and
 * its buffers unmapped.  Removing the ops waits for every CPU that may
 * still be calling them (dsw_shim_uninstall()), whoever the caller is.
 *
 * Loading never fails once a device is attached: every shim the load
 * needs is created first (dsw_prepare()), and only then are they all
 * installed, which cannot fail.  Until then the notifiers install nothing.
 *
 * Locking: dsw_devs_lock protects the registry list and every field of its
 * entries but the name.  The driver core calls the bus notifiers with
 * device_lock() held for binding events, and they take dsw_devs_lock, so
 * the order is device_lock -> dsw_devs_lock, and nothing here calls into
 * the driver core (bus_find_device(), device_release_driver(),
 * device_attach(), put_device() of a last reference...) with dsw_devs_lock
 * held.  Ops are installed and removed with both held, except when a
 * device has been removed from its bus (REMOVED_DEVICE comes without
 * device_lock; no driver can bind any more then).  dsw_admin_lock
 * serialises whole run-time attach and detach operations (sysfs writers on
 * different open files run concurrently); it is taken before the others.
 */

#include <linux/device.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attach.h"
#include "bounce.h"
#include "debugfs.h"
#include "params.h"
#include "select.h"
#include "shim.h"
#include "sysfs.h"

static LIST_HEAD(dsw_devs);
static DEFINE_MUTEX(dsw_devs_lock);
static DEFINE_MUTEX(dsw_admin_lock);
/* Set once unloading starts: no more installs. */
static bool dsw_exiting;
/* Set until the load has created every shim it needs: no installs yet. */
static bool dsw_loading = true;

static struct dsw_dev *dsw_find_name(const char *name)
{
	struct dsw_dev *dd;

	lockdep_assert_held(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node) {
		if (dsw_select_same(dd->name, name))
			return dd;
	}
	return NULL;
}

static struct dsw_dev *dsw_find_dev(struct device *dev)
{
	struct dsw_dev *dd;

	lockdep_assert_held(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node) {
		if (dd->dev == dev)
			return dd;
	}
	return NULL;
}

/*
 * The first selector that selects @dev, or NULL.  Registry lock held;
 * unless @by_device, device lock too (or the binding notifier): a driver
 * selector reads dev->driver.
 */
static struct dsw_dev *dsw_find_selector(struct device *dev, bool by_device)
{
	struct dsw_dev *dd;

	lockdep_assert_held(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node) {
		if (dd->state != DSW_DEV_SELECTOR)
			continue;
		if (by_device && !dsw_select_by_device(dd->name))
			continue;
		if (dsw_select_matches(dd->name, dev))
			return dd;
	}
	return NULL;
}

static unsigned int dsw_nr_entries(void)
{
	struct dsw_dev *dd;
	unsigned int nr = 0;

	lockdep_assert_held(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node)
		nr++;
	return nr;
}

/*
 * Select @dev, which selector @sel matched: a new entry named after it, as
 * if the name had been given.  Registry lock held.
 *
 * Return: the entry, or NULL if @dev cannot have one (an entry of that name
 * exists for another bus's device, or DSW_MAX_DEVICES are selected, or no
 * memory; logged).
 */
static struct dsw_dev *dsw_add_matched(struct dsw_dev *sel, struct device *dev)
{
	struct dsw_dev *dd;

	lockdep_assert_held(&dsw_devs_lock);
	dd = dsw_find_dev(dev);
	if (dd)
		return dd;
	if (dsw_find_name(dev_name(dev)))
		return NULL;
	if (dsw_nr_entries() >= DSW_MAX_DEVICES) {
		if (!sel->capped)	/* once: it is tried at every probe */
			pr_err("%s: matches %s, but %d devices are selected already (logged once for %s)\n",
			       dev_name(dev), sel->name, DSW_MAX_DEVICES,
			       sel->name);
		sel->capped = true;
		return NULL;
	}
	dd = kzalloc(sizeof(*dd), GFP_KERNEL);
	if (!dd)
		goto nomem;
	strscpy(dd->name, dev_name(dev), sizeof(dd->name));
	dd->dev = get_device(dev);
	dd->state = DSW_DEV_PRESENT;
	list_add_tail(&dd->node, &dsw_devs);
	pr_info("%s: selected by %s (%s)\n", dd->name, sel->name,
		dev->bus->name);
	return dd;

nomem:
	/* The allocator's warning names neither the device nor the selector. */
	pr_err("%s: matches %s, but its entry cannot be allocated\n",
	       dev_name(dev), sel->name);
	return NULL;
}

/*
 * A PCI bridge does no DMA of its own (the devices behind it do).  Other
 * devices have a DMA mask; dsw_shim_can_attach() checks the rest.
 */
static int dsw_check_device(struct device *dev)
{
	if (dev_is_pci(dev) &&
	    (to_pci_dev(dev)->class >> 16) == PCI_BASE_CLASS_BRIDGE) {
		pr_err("%s: refused: a PCI bridge does no DMA of its own\n",
		       dev_name(dev));
		return -EINVAL;
	}
	return dsw_shim_can_attach(dev);
}

/* A shim for @dev with its sysfs directory, or an ERR_PTR() (logged). */
static struct dsw_shim *dsw_shim_new(struct device *dev)
{
	struct dsw_shim *shim;
	int ret;

	shim = dsw_shim_create(dev);
	if (IS_ERR(shim))
		return shim;
	ret = dsw_policy_sysfs_add(shim, dsw_sysfs_devices());
	if (ret) {
		pr_err("%s: cannot create its sysfs directory: %d\n",
		       dev_name(dev), ret);
		dsw_shim_destroy(shim);
		return ERR_PTR(ret);
	}
	return shim;
}

static void dsw_shim_free_unused(struct dsw_shim *shim)
{
	dsw_policy_sysfs_remove(shim);
	dsw_shim_destroy(shim);
}

/* What the attach line says of the kernel's pool and the module's buffers. */
static const char *dsw_pool_order(struct device *dev)
{
	if (!dsw_swiotlb_active(dev))
		return "absent: dynamic buffers only";
	if (dsw_swiotlb_grows(dev))
		return "first, growing by itself (CONFIG_SWIOTLB_DYNAMIC), then dynamic buffers";
	return "first, then dynamic buffers";
}

/*
 * Install our ops on @dd's device, with the shim made for it beforehand
 * (dsw_prepare()) or a new one.  Device lock and registry lock held.
 */
static int dsw_install(struct dsw_dev *dd)
{
	struct device *dev = dd->dev;
	struct dsw_shim *shim = dd->prepared;
	int ret;

	lockdep_assert_held(&dsw_devs_lock);
	if (dd->shim)
		return 0;
	dd->prepared = NULL;
	ret = dsw_check_device(dev);
	if (ret)
		goto refused;
	if (!shim)
		shim = dsw_shim_new(dev);
	if (IS_ERR(shim)) {
		ret = PTR_ERR(shim);
		shim = NULL;
		goto refused;
	}
	dsw_shim_install(shim);
	dd->shim = shim;
	dd->state = DSW_DEV_ATTACHED;
	dd->error = 0;
	dd->debugfs = dsw_debugfs_add_dev(dd->name, shim);
	pr_info("%s: attached (static swiotlb pool %s)\n", dd->name,
		dsw_pool_order(dev));
	return 0;

refused:
	if (shim)
		dsw_shim_free_unused(shim);
	dd->state = DSW_DEV_REFUSED;
	dd->error = ret;
	return ret;
}

static void dsw_unpin(struct dsw_dev *dd);

/*
 * Give the device its original (dma-direct) ops back, free the shim and
 * drop the pin.  Registry lock held (and device lock, but for a removed
 * device); no driver may be bound.  Without @force, -EBUSY while dynamic
 * buffers stay mapped (by whoever maps through a driverless device).
 */
static int dsw_uninstall(struct dsw_dev *dd, bool force)
{
	struct dsw_shim *shim = dd->shim;
	int ret;

	lockdep_assert_held(&dsw_devs_lock);
	if (!shim)
		return 0;
	ret = dsw_shim_uninstall(shim, force);
	if (ret) {
		pr_err("%s: detach refused: %lu dynamic buffers are mapped\n",
		       dd->name, dsw_bounce_busy(shim));
		return ret;
	}
	dsw_policy_sysfs_remove(shim);
	dsw_debugfs_remove_dev(dd->debugfs);
	dd->debugfs = NULL;
	dd->shim = NULL;
	dd->state = DSW_DEV_PRESENT;
	dsw_shim_retire(shim);
	dsw_unpin(dd);
	pr_info("%s: detached\n", dd->name);
	return 0;
}

static void dsw_unpin(struct dsw_dev *dd)
{
	lockdep_assert_held(&dsw_devs_lock);
	if (!dd->pinned)
		return;
	dd->pinned = false;
	module_put(THIS_MODULE);
}

/* A driver is about to probe @dev (device lock held). */
static void dsw_driver_binding(struct device *dev)
{
	struct dsw_dev *dd, *sel;

	mutex_lock(&dsw_devs_lock);
	if (dsw_loading)	/* the load attaches it (rebinding) */
		goto out;
	dd = dsw_find_dev(dev);
	if (!dd && !dsw_exiting) {
		sel = dsw_find_selector(dev, false);
		dd = sel ? dsw_add_matched(sel, dev) : NULL;
	}
	if (!dd)
		goto out;
	/*
	 * What refuses a device (a bridge, an IOMMU, no DMA mask...) does not
	 * change from one probe to the next: once logged, not again at every
	 * (deferred) probe.  Only a lack of memory is worth another try.
	 */
	if (dd->state == DSW_DEV_REFUSED && dd->error != -ENOMEM)
		goto out;
	if (dsw_exiting || !try_module_get(THIS_MODULE)) {
		/* Unloading: let the driver use the kernel's own ops. */
		dsw_uninstall(dd, true);
		goto out;
	}
	if (dsw_install(dd) || dd->pinned)
		module_put(THIS_MODULE);
	else
		dd->pinned = true;
out:
	mutex_unlock(&dsw_devs_lock);
}

/* The driver of @dev went away or failed to probe. */
static void dsw_driver_gone(struct device *dev)
{
	struct dsw_dev *dd;

	mutex_lock(&dsw_devs_lock);
	dd = dsw_find_dev(dev);
	if (dd && dd->shim && dsw_bounce_busy(dd->shim))
		pr_warn("%s: driver unbound with %lu dynamic buffers still mapped\n",
			dd->name, dsw_bounce_busy(dd->shim));
	if (dd && dd->shim)
		dsw_bounce_promise_reset(dd->shim);
	if (dd)
		dsw_unpin(dd);
	mutex_unlock(&dsw_devs_lock);
}

static struct device *dsw_device_added(struct device *dev)
{
	struct device *put = NULL;
	struct dsw_dev *dd, *sel;

	mutex_lock(&dsw_devs_lock);
	dd = dsw_find_name(dev_name(dev));
	if (dd && dd->state == DSW_DEV_SELECTOR)
		dd = NULL;
	/*
	 * Two devices on one bus never share a name, so a different device
	 * already held from this bus is a stale one, removed while the
	 * module was looking it up: replace it.  A device of the same name
	 * on another bus is left alone.
	 */
	if (dd && dd->dev != dev && (!dd->dev || dd->dev->bus == dev->bus)) {
		/*
		 * An entry made for the old device after its removal was
		 * notified (a scan or an attach that had looked it up
		 * before) may even hold ops on it: that device has no
		 * driver and does no DMA any more.
		 */
		if (dd->shim)
			dsw_uninstall(dd, true);
		put = dd->dev;
		dd->dev = get_device(dev);
		dd->state = DSW_DEV_PRESENT;
		pr_info("%s: selected (%s)\n", dd->name, dev->bus->name);
	} else if (!dd && !dsw_loading && !dsw_exiting) {
		/* No driver yet: only a PCI ID or all can match now. */
		sel = dsw_find_selector(dev, true);
		if (sel)
			dsw_add_matched(sel, dev);
	}
	mutex_unlock(&dsw_devs_lock);
	return put;
}

/* @dev is gone from its bus, its driver unbound. */
static struct device *dsw_device_removed(struct device *dev)
{
	struct device *put = NULL;
	struct dsw_dev *dd;

	mutex_lock(&dsw_devs_lock);
	dd = dsw_find_dev(dev);
	if (dd) {
		/* No driver, and the device cannot do DMA any more. */
		dsw_uninstall(dd, true);
		if (dd->prepared) {
			dsw_shim_free_unused(dd->prepared);
			dd->prepared = NULL;
		}
		put = dd->dev;
		dd->dev = NULL;
		dd->state = DSW_DEV_PENDING;
		pr_info("%s: removed; pending until it reappears\n", dd->name);
	}
	mutex_unlock(&dsw_devs_lock);
	return put;
}

static int dsw_bus_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct device *dev = data, *put = NULL;

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		put = dsw_device_added(dev);
		break;
	case BUS_NOTIFY_BIND_DRIVER:
		dsw_driver_binding(dev);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		dsw_driver_gone(dev);
		break;
	case BUS_NOTIFY_REMOVED_DEVICE:
		put = dsw_device_removed(dev);
		break;
	default:
		return NOTIFY_DONE;
	}
	put_device(put);
	return NOTIFY_OK;
}

/* Supported buses, in lookup order. */
static struct dsw_bus {
	dsw_const_bus struct bus_type *type;
	struct notifier_block nb;
} dsw_buses[] = {
	{ .type = &pci_bus_type, .nb.notifier_call = dsw_bus_notify },
	{ .type = &platform_bus_type, .nb.notifier_call = dsw_bus_notify },
};

/* Unregister the first @nr bus notifiers; waits for running callbacks. */
static void dsw_unregister_notifiers(unsigned int nr)
{
	while (nr--)
		bus_unregister_notifier(dsw_buses[nr].type, &dsw_buses[nr].nb);
}

/* The device called @name on a supported bus, with a reference, or NULL. */
static struct device *dsw_lookup_device(const char *name)
{
	struct device *dev = NULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dsw_buses) && !dev; i++)
		dev = bus_find_device_by_name(dsw_buses[i].type, NULL, name);
	return dev;
}

/* dsw_attach_present(): the entry lost its device meanwhile (removed). */
#define DSW_GONE	1

/*
 * Attach @dd's device (present, with @dd->dev held): at once if no driver
 * is bound, else by unbinding, installing and binding again -- if
 * @rebind, and only once the device is known to be attachable: a refusal
 * must not cost the driver a remove and a probe.  Without @rebind (a
 * selector found it bound) the device is attached at its driver's next
 * probe.
 *
 * Return: 0, DSW_GONE if the device was removed meanwhile (the entry is
 * pending again, or holds the device that replaced it), or why the device
 * cannot be attached (the entry is refused then; logged).
 */
static int dsw_attach_present(struct dsw_dev *dd, struct device *dev,
			      bool rebind)
{
	char drv[64];
	int ret;

	drv[0] = '\0';
	device_lock(dev);
	mutex_lock(&dsw_devs_lock);
	if (dd->dev != dev) {
		ret = DSW_GONE;
	} else if (!dev->driver) {
		ret = dsw_install(dd);
	} else if (dd->shim) {
		ret = 0;
	} else {
		ret = dsw_check_device(dev);
		if (ret) {
			dd->state = DSW_DEV_REFUSED;
			dd->error = ret;
		} else if (!rebind) {
			pr_info("%s: driver %s is bound: attached when it next probes the device (unbind and bind it to attach now)\n",
				dd->name, dev->driver->name);
		} else {
			/* the driver may go away with its name once unbound */
			strscpy(drv, dev->driver->name, sizeof(drv));
		}
	}
	mutex_unlock(&dsw_devs_lock);
	device_unlock(dev);
	if (!drv[0])
		return ret;

	pr_info("%s: rebinding driver %s to attach\n", dd->name, drv);
	device_release_driver(dev);
	device_lock(dev);
	mutex_lock(&dsw_devs_lock);
	ret = dd->dev == dev ? dsw_install(dd) : DSW_GONE;
	mutex_unlock(&dsw_devs_lock);
	device_unlock(dev);
	/* Probe again, with our ops if they went in; BIND_DRIVER pins. */
	if (device_attach(dev) < 0)
		pr_warn("%s: driver %s did not bind again\n", dd->name, drv);
	return ret;
}

/*
 * Detach @dd's device (present, held): refused while dynamic buffers stay
 * mapped; a bound driver is unbound and bound again around it.  With a
 * driver bound, buffers mapped now refuse at once rather than unbind the
 * driver for nothing; without one, the uninstall lets buffers in flight
 * drain first (dsw_shim_uninstall()).
 */
static int dsw_detach_present(struct dsw_dev *dd, struct device *dev)
{
	bool bound;
	int ret = 0;

	device_lock(dev);
	bound = dev->driver;
	device_unlock(dev);

	mutex_lock(&dsw_devs_lock);
	if (bound && dd->shim && dsw_bounce_busy(dd->shim)) {
		pr_err("%s: detach refused: %lu dynamic buffers are mapped\n",
		       dd->name, dsw_bounce_busy(dd->shim));
		ret = -EBUSY;
	}
	mutex_unlock(&dsw_devs_lock);
	if (ret)
		return ret;

	if (bound)
		device_release_driver(dev);

	device_lock(dev);
	mutex_lock(&dsw_devs_lock);
	if (dd->dev && dd->dev != dev) {
		/* removed, and a new device of that name took the entry */
		pr_err("%s: detach refused: the device was replaced meanwhile; detach it again\n",
		       dd->name);
		ret = -EBUSY;
	} else if (!dd->dev) {
		ret = 0;	/* removed meanwhile: nothing installed any more */
	} else if (dev->driver) {
		/* bound again meanwhile (a manual bind): keep the ops */
		pr_err("%s: detach refused: a driver was bound meanwhile\n",
		       dd->name);
		ret = -EBUSY;
	} else {
		ret = dsw_uninstall(dd, false);
	}
	if (!ret)
		list_del(&dd->node);
	mutex_unlock(&dsw_devs_lock);
	device_unlock(dev);
	if (bound && device_attach(dev) < 0)
		pr_warn("%s: driver did not bind again\n", dd->name);
	return ret;
}

/*
 * Can @name get an entry?  Registry lock held.  Return: 0, -EEXIST or
 * -ENOSPC (logged).
 */
static int dsw_check_room(const char *name)
{
	lockdep_assert_held(&dsw_devs_lock);
	if (dsw_find_name(name)) {
		pr_err("attach: %s: already selected\n", name);
		return -EEXIST;
	}
	if (dsw_nr_entries() >= DSW_MAX_DEVICES) {
		pr_err("attach: %s: too many devices (at most %d)\n",
		       name, DSW_MAX_DEVICES);
		return -ENOSPC;
	}
	return 0;
}

/* -ENOMEM, with the line that names what it was for. */
static int dsw_nomem(const char *name)
{
	pr_err("attach: %s: cannot allocate its entry\n", name);
	return -ENOMEM;
}

/* Devices found by dsw_scan_selectors(), with a reference each. */
struct dsw_scan {
	struct device *devs[DSW_MAX_DEVICES];
	unsigned int nr;
};

static int dsw_scan_one(struct device *dev, void *data)
{
	struct dsw_scan *scan = data;
	bool found;

	device_lock(dev);	/* dev->driver stays put */
	mutex_lock(&dsw_devs_lock);
	found = !dsw_find_dev(dev) && dsw_find_selector(dev, false);
	mutex_unlock(&dsw_devs_lock);
	device_unlock(dev);
	if (found)
		scan->devs[scan->nr++] = get_device(dev);
	return scan->nr == ARRAY_SIZE(scan->devs);
}

/*
 * Select every present device that a selector matches and no entry holds
 * yet, and attach those without a driver; a bound driver is not unbound
 * (it may drive the root disk): its next probe attaches the device.
 * Devices that appear later are matched by the notifiers.  Admin lock
 * held; loading done; @scan is empty, and freed here.  The devices are
 * collected first, because attaching one may bind its driver, which
 * bus_for_each_dev() must not see from inside.  A device removed after it
 * was collected may get an entry all the same: dsw_device_added() replaces
 * it when a device of that name comes back.
 */
static void dsw_scan_selectors(struct dsw_scan *scan)
{
	struct dsw_dev *dd, *sel;
	struct device *dev;
	unsigned int i;

	lockdep_assert_held(&dsw_admin_lock);
	for (i = 0; i < ARRAY_SIZE(dsw_buses); i++) {
		if (bus_for_each_dev(dsw_buses[i].type, NULL, scan,
				     dsw_scan_one))
			break;
	}
	for (i = 0; i < scan->nr; i++) {
		dev = scan->devs[i];
		device_lock(dev);
		mutex_lock(&dsw_devs_lock);
		dd = dsw_find_dev(dev);
		sel = dd ? NULL : dsw_find_selector(dev, false);
		/* else selected meanwhile, or no longer matched */
		dd = sel ? dsw_add_matched(sel, dev) : NULL;
		mutex_unlock(&dsw_devs_lock);
		device_unlock(dev);
		if (dd)
			dsw_attach_present(dd, dev, false);
		put_device(dev);
	}
	kfree(scan);
}

/* The list for dsw_scan_selectors(), or NULL (logged). */
static struct dsw_scan *dsw_scan_alloc(const char *what)
{
	struct dsw_scan *scan = kzalloc(sizeof(*scan), GFP_KERNEL);

	if (!scan)
		goto nomem;
	return scan;

nomem:
	/* The allocator's warning does not say what was being done. */
	pr_err("%s: cannot allocate the list of devices to match\n", what);
	return NULL;
}

/* Add selector @name and attach what it selects.  Admin lock held. */
static int dsw_add_selector(const char *name)
{
	struct dsw_scan *scan;
	struct dsw_dev *dd;
	int ret = 0;

	scan = dsw_scan_alloc(name);
	if (!scan)
		return -ENOMEM;
	dd = kzalloc(sizeof(*dd), GFP_KERNEL);
	if (!dd) {
		kfree(scan);
		return dsw_nomem(name);
	}
	mutex_lock(&dsw_devs_lock);
	ret = dsw_check_room(name);
	if (!ret) {
		strscpy(dd->name, name, sizeof(dd->name));
		dd->state = DSW_DEV_SELECTOR;
		list_add_tail(&dd->node, &dsw_devs);
		pr_info("%s: selector added\n", name);
	}
	mutex_unlock(&dsw_devs_lock);
	if (ret) {
		kfree(dd);
		kfree(scan);
		return ret;
	}
	dsw_scan_selectors(scan);
	return 0;
}

static int dsw_do_attach_name(const char *name)
{
	struct dsw_dev *dd;
	struct device *dev;
	int ret = 0;

	if (dsw_select_is_selector(name))
		return dsw_add_selector(name);

	mutex_lock(&dsw_devs_lock);
	ret = dsw_check_room(name);
	mutex_unlock(&dsw_devs_lock);
	if (ret)
		return ret;

	dev = dsw_lookup_device(name);
	if (!dev) {
		pr_err("attach: %s: no such device on the pci or platform bus\n",
		       name);
		return -ENODEV;
	}
	ret = dsw_check_device(dev);
	if (ret)
		goto out_put;

	dd = kzalloc(sizeof(*dd), GFP_KERNEL);
	if (!dd) {
		ret = dsw_nomem(name);
		goto out_put;
	}
	strscpy(dd->name, name, sizeof(dd->name));
	dd->dev = get_device(dev);
	dd->state = DSW_DEV_PRESENT;
	mutex_lock(&dsw_devs_lock);
	if (dsw_find_name(name)) {
		/* a selector took the device meanwhile (at its probe) */
		pr_err("attach: %s: already selected\n", name);
		ret = -EEXIST;
	} else {
		list_add_tail(&dd->node, &dsw_devs);
	}
	mutex_unlock(&dsw_devs_lock);
	if (ret) {
		put_device(dd->dev);
		kfree(dd);
		goto out_put;
	}

	ret = dsw_attach_present(dd, dev, true);
	if (ret == DSW_GONE) {
		/* as for a name given before its device exists */
		pr_warn("%s: removed while attaching; will attach when it appears\n",
			name);
		ret = 0;
	} else if (ret) {
		/*
		 * Refused (logged).  Dropped unless a device that replaced
		 * it meanwhile was attached at its probe (then it stays).
		 */
		mutex_lock(&dsw_devs_lock);
		if (!dd->shim && !dd->pinned)
			list_del(&dd->node);
		else
			dd = NULL;
		mutex_unlock(&dsw_devs_lock);
		if (dd) {
			put_device(dd->dev);
			kfree(dd);
		}
	}
out_put:
	put_device(dev);
	return ret;
}

/*
 * A device that a selector matches would be selected again at its next
 * probe, so detaching it alone is refused (a driver selector is checked
 * against the driver bound now).
 */
static int dsw_check_unselected(struct dsw_dev *dd, struct device *dev)
{
	struct dsw_dev *sel;
	int ret = 0;

	device_lock(dev);
	mutex_lock(&dsw_devs_lock);
	sel = dsw_find_selector(dev, false);
	if (sel) {
		pr_err("%s: detach refused: selected by %s; detach %s first\n",
		       dd->name, sel->name, sel->name);
		ret = -EBUSY;
	}
	mutex_unlock(&dsw_devs_lock);
	device_unlock(dev);
	return ret;
}

static int dsw_do_detach_name(const char *name)
{
	struct device *dev = NULL;
	struct dsw_dev *dd;
	int ret = 0;

	mutex_lock(&dsw_devs_lock);
	dd = dsw_find_name(name);
	if (!dd) {
		pr_err("detach: %s: not selected\n", name);
		ret = -ENODEV;
	} else if (dd->dev) {
		dev = get_device(dd->dev);
	} else {
		/* pending or a selector: just forget it */
		list_del(&dd->node);
		if (dd->state == DSW_DEV_SELECTOR)
			pr_info("%s: selector removed; devices it selected stay attached\n",
				dd->name);
	}
	mutex_unlock(&dsw_devs_lock);
	if (ret)
		return ret;
	if (dev)
		ret = dsw_check_unselected(dd, dev);
	if (ret) {
		put_device(dev);
		return ret;
	}
	if (dev) {
		ret = dsw_detach_present(dd, dev);
		put_device(dev);
		if (ret)
			return ret;
	}
	put_device(dd->dev);
	kfree(dd);
	return 0;
}

/* Run-time attach and detach run one at a time (sysfs allows concurrency). */
static int dsw_admin(int (*fn)(const char *name), const char *name)
{
	int ret;

	mutex_lock(&dsw_admin_lock);
	ret = fn(name);
	mutex_unlock(&dsw_admin_lock);
	return ret;
}

/**
 * dsw_attach_name() - select and attach a device at run time
 * @name: canonical device name (dsw_params_parse_name())
 *
 * Context: process context; may unbind and rebind the device's driver.
 * Return: 0; -EEXIST if already selected, -ENOSPC if DSW_MAX_DEVICES are,
 * -ENODEV if there is no such device, or why it cannot be attached.
 */
int dsw_attach_name(const char *name)
{
	return dsw_admin(dsw_do_attach_name, name);
}

/**
 * dsw_detach_name() - detach and forget a selected device at run time
 * @name: canonical device name
 *
 * Context: process context; may unbind and rebind the device's driver.
 * Return: 0; -ENODEV if @name is not selected, -EBUSY while it has dynamic
 * buffers mapped.
 */
int dsw_detach_name(const char *name)
{
	return dsw_admin(dsw_do_detach_name, name);
}

/* Empty the registry; only when no notifier can run and none installed. */
static void dsw_free_devs(void)
{
	struct dsw_dev *dd, *tmp;
	LIST_HEAD(list);

	mutex_lock(&dsw_devs_lock);
	list_splice_init(&dsw_devs, &list);
	mutex_unlock(&dsw_devs_lock);
	list_for_each_entry_safe(dd, tmp, &list, node) {
		list_del(&dd->node);
		WARN_ON_ONCE(dd->shim);
		if (dd->prepared)
			dsw_shim_free_unused(dd->prepared);
		put_device(dd->dev);
		kfree(dd);
	}
}

/*
 * Create the shim of every device found, so that attaching them cannot
 * fail.  Nothing is installed yet.
 */
static int __init dsw_prepare(void)
{
	struct dsw_shim *shim;
	struct dsw_dev *dd;
	struct device *dev;

	list_for_each_entry(dd, &dsw_devs, node) {
		mutex_lock(&dsw_devs_lock);
		dev = get_device(dd->dev);
		mutex_unlock(&dsw_devs_lock);
		if (!dev)
			continue;
		shim = dsw_shim_new(dev);
		put_device(dev);
		if (IS_ERR(shim))	/* logged by dsw_shim_new() */
			return PTR_ERR(shim);
		mutex_lock(&dsw_devs_lock);
		if (dd->dev == dev)
			dd->prepared = shim;
		else	/* removed meanwhile: made anew when it reappears */
			dsw_shim_free_unused(shim);
		mutex_unlock(&dsw_devs_lock);
	}
	return 0;
}

/* Detach every device that has no driver; at unload or failed load. */
static void dsw_detach_all(void)
{
	struct dsw_dev *dd;
	struct device *dev;

	mutex_lock(&dsw_devs_lock);
	dsw_exiting = true;
	mutex_unlock(&dsw_devs_lock);

	for (;;) {
		dev = NULL;
		mutex_lock(&dsw_devs_lock);
		list_for_each_entry(dd, &dsw_devs, node) {
			if (dd->shim) {
				dev = get_device(dd->dev);
				break;
			}
		}
		mutex_unlock(&dsw_devs_lock);
		if (!dev)
			return;
		device_lock(dev);
		mutex_lock(&dsw_devs_lock);
		/*
		 * A bound driver pins the module, so unload cannot get here
		 * with one (nor a failed load: it installs nothing); one that
		 * binds meanwhile found dsw_exiting and took the ops off.
		 * Live buffers pin it too; ones mapped since are dropped.
		 */
		WARN_ON_ONCE(dev->driver && dd->shim && dd->dev == dev);
		dsw_uninstall(dd, true);
		mutex_unlock(&dsw_devs_lock);
		device_unlock(dev);
		put_device(dev);
	}
}

/**
 * dsw_attach_init() - build the registry and attach the requested devices
 *
 * Creates one entry per name in devices=, registers the bus notifiers, looks
 * every name up and attaches the devices found.  Names that do not exist
 * stay pending; that is not an error.  A device that exists but cannot be
 * attached, or whose shim cannot be made, fails the load, with nothing
 * attached; once the first device is attached, nothing fails it.
 *
 * Context: the last step of the load that can fail.
 * Return: 0, or a negative errno (nothing is left registered then).
 */
int __init dsw_attach_init(void)
{
	unsigned int i, nr = dsw_params_nr_devices();
	struct dsw_scan *scan;
	bool selectors = false;
	struct dsw_dev *dd;
	struct device *dev;
	int ret;

	for (i = 0; i < nr; i++) {
		dd = kzalloc(sizeof(*dd), GFP_KERNEL);
		ret = -ENOMEM;
		if (!dd)
			goto err_nomem;
		strscpy(dd->name, dsw_params_device(i), sizeof(dd->name));
		dd->state = dsw_select_is_selector(dd->name) ?
			    DSW_DEV_SELECTOR : DSW_DEV_PENDING;
		selectors |= dd->state == DSW_DEV_SELECTOR;
		list_add_tail(&dd->node, &dsw_devs);
	}

	/* Before the lookups, so that no device added meanwhile is missed. */
	for (i = 0; i < ARRAY_SIZE(dsw_buses); i++) {
		ret = bus_register_notifier(dsw_buses[i].type, &dsw_buses[i].nb);
		if (ret) {
			pr_err("cannot watch the %s bus: %d\n",
			       dsw_buses[i].type->name, ret);
			goto err_unregister;
		}
	}

	/* Look up; refuse the load before attaching anything. */
	list_for_each_entry(dd, &dsw_devs, node) {
		if (dd->state == DSW_DEV_SELECTOR)
			continue;	/* matched once the load is done */
		dev = dsw_lookup_device(dd->name);
		ret = dev ? dsw_check_device(dev) : 0;
		if (ret) {
			put_device(dev);
			goto err_unregister;
		}
		mutex_lock(&dsw_devs_lock);
		if (!dd->dev && dev) {
			dd->dev = get_device(dev);
			dd->state = DSW_DEV_PRESENT;
			pr_info("%s: selected (%s)\n", dd->name,
				dev->bus->name);
		} else if (!dd->dev) {
			pr_warn("%s: not present; will attach when it appears\n",
				dd->name);
		}
		mutex_unlock(&dsw_devs_lock);
		put_device(dev);
	}

	ret = dsw_prepare();
	if (ret) {
		i = ARRAY_SIZE(dsw_buses);
		goto err_unregister;
	}

	/*
	 * From here on nothing fails the load: a device that cannot be
	 * attached now (it appeared meanwhile and its shim cannot be made)
	 * is refused on its own, as at run time.
	 */
	mutex_lock(&dsw_admin_lock);
	mutex_lock(&dsw_devs_lock);
	dsw_loading = false;
	mutex_unlock(&dsw_devs_lock);
	/*
	 * The notifiers may add entries (selected devices) from now on, so
	 * the given names are looked up one by one rather than walked.  The
	 * admin lock keeps a sysfs detach from freeing one meanwhile.
	 */
	for (i = 0; i < nr; i++) {
		mutex_lock(&dsw_devs_lock);
		dd = dsw_find_name(dsw_params_device(i));
		dev = dd && dd->state != DSW_DEV_SELECTOR ?
		      get_device(dd->dev) : NULL;	/* may go away meanwhile */
		mutex_unlock(&dsw_devs_lock);
		if (!dev)
			continue;
		dsw_attach_present(dd, dev, true);
		put_device(dev);
	}
	/* Without the list, selected devices are matched at their probe. */
	if (selectors) {
		scan = dsw_scan_alloc("devices=");
		if (scan)
			dsw_scan_selectors(scan);
	}
	mutex_unlock(&dsw_admin_lock);
	return 0;

err_unregister:
	dsw_unregister_notifiers(i);
	dsw_free_devs();
	return ret;

err_nomem:
	/* Not the allocator's warning: that names neither device nor load. */
	pr_err("not loaded: %s: cannot allocate its entry\n",
	       dsw_params_device(i));
	dsw_free_devs();
	return ret;
}

/**
 * dsw_attach_exit() - undo dsw_attach_init() and every later attach
 *
 * Detaches the attached devices (none has a driver: a bound driver pins
 * the module), unregisters the bus notifiers, drops every device reference
 * and frees the registry.  Must run after every reader of the registry
 * (sysfs, debugfs) is gone.
 */
void dsw_attach_exit(void)
{
	dsw_detach_all();
	dsw_unregister_notifiers(ARRAY_SIZE(dsw_buses));
	dsw_free_devs();
}

/**
 * dsw_iterate_devs() - call a function for every selected device
 * @fn: called for each entry in selection order, under the registry lock;
 *	it must not call into the driver core (see the locking rules above)
 * @data: passed to @fn
 *
 * Stops at the first non-zero value returned by @fn.
 *
 * Return: 0 if @fn returned 0 for every entry, else the value it returned.
 */
int dsw_iterate_devs(int (*fn)(const struct dsw_dev *dd, void *data),
		     void *data)
{
	const struct dsw_dev *dd;
	int ret = 0;

	mutex_lock(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node) {
		ret = fn(dd, data);
		if (ret)
			break;
	}
	mutex_unlock(&dsw_devs_lock);
	return ret;
}

/**
 * dsw_dev_state_name() - user-visible name of a device state
 * @state: the state
 *
 * Return: one of the DSW_STATE_* strings of the uapi header.
 */
const char *dsw_dev_state_name(enum dsw_dev_state state)
{
	switch (state) {
	case DSW_DEV_PENDING:
		return DSW_STATE_PENDING;
	case DSW_DEV_PRESENT:
		return DSW_STATE_PRESENT;
	case DSW_DEV_ATTACHED:
		return DSW_STATE_ATTACHED;
	case DSW_DEV_REFUSED:
		return DSW_STATE_REFUSED;
	case DSW_DEV_SELECTOR:
		return DSW_STATE_SELECTOR;
	}
	return "unknown";
}
