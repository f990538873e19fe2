// SPDX-License-Identifier: GPL-2.0
/*
 * Device selection: the registry of requested devices.
 *
 * dsw_attach_init() creates one struct dsw_dev per name in devices=,
 * registers a notifier on every supported bus and then looks each name up,
 * PCI first.  A device that does not exist yet stays pending: the bus
 * notifier selects it when it is added (BUS_NOTIFY_ADD_DEVICE) and returns
 * it to pending when it is removed (BUS_NOTIFY_DEL_DEVICE).
 *
 * Locking: dsw_devs_lock protects ->dev and ->state of every entry.  The list
 * itself changes only in dsw_attach_init() before the notifiers are
 * registered and in dsw_attach_exit() after they are unregistered, while no
 * other code can see it.  Bus notifiers run under the bus's notifier rwsem
 * and, for driver binding events, under device_lock() of the device; they
 * take dsw_devs_lock, so it nests inside both.  Hence never call into the
 * driver core (bus_find_device(), bus_{,un}register_notifier(),
 * put_device(), device_attach(), ...) with dsw_devs_lock held; get_device()
 * only takes a kref and is fine.  References are dropped after unlocking.
 */

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attach.h"
#include "params.h"

static LIST_HEAD(dsw_devs);
static DEFINE_MUTEX(dsw_devs_lock);

static struct dsw_dev *dsw_find_name(const char *name)
{
	struct dsw_dev *dd;

	lockdep_assert_held(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node) {
		if (!strcmp(dd->name, name))
			return dd;
	}
	return NULL;
}

/*
 * Select @dev, whose reference passes to @dd.  Return the device @dd held
 * before, if any, for the caller to put_device() after unlocking.
 */
static struct device *dsw_bind(struct dsw_dev *dd, struct device *dev)
{
	struct device *old = dd->dev;

	lockdep_assert_held(&dsw_devs_lock);
	dd->dev = dev;
	dd->state = DSW_DEV_PRESENT;
	pr_info("%s: selected (%s)\n", dd->name, dev->bus->name);
	return old;
}

static struct device *dsw_device_added(struct device *dev)
{
	struct device *put = NULL;
	struct dsw_dev *dd;

	mutex_lock(&dsw_devs_lock);
	dd = dsw_find_name(dev_name(dev));
	/*
	 * Two devices on one bus never share a name, so a different device
	 * already bound from this bus is a stale one, removed while
	 * dsw_attach_init() was looking it up: replace it.  A device of the
	 * same name on another bus is left alone.
	 */
	if (dd && dd->dev != dev && (!dd->dev || dd->dev->bus == dev->bus))
		put = dsw_bind(dd, get_device(dev));
	mutex_unlock(&dsw_devs_lock);
	return put;
}

static struct device *dsw_device_removed(struct device *dev)
{
	struct device *put = NULL;
	struct dsw_dev *dd;

	mutex_lock(&dsw_devs_lock);
	list_for_each_entry(dd, &dsw_devs, node) {
		if (dd->dev == dev) {
			put = dd->dev;
			dd->dev = NULL;
			dd->state = DSW_DEV_PENDING;
			pr_info("%s: removed; pending until it reappears\n",
				dd->name);
			break;
		}
	}
	mutex_unlock(&dsw_devs_lock);
	return put;
}

static int dsw_bus_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct device *dev = data, *put;

	/* One case per bus event the module acts on. */
	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		put = dsw_device_added(dev);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
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

/* Empty the registry; only when no notifier and no reader can run. */
static void dsw_free_devs(void)
{
	struct dsw_dev *dd, *tmp;

	list_for_each_entry_safe(dd, tmp, &dsw_devs, node) {
		list_del(&dd->node);
		put_device(dd->dev);
		kfree(dd);
	}
}

static void __init dsw_lookup(struct dsw_dev *dd)
{
	struct device *dev = NULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dsw_buses) && !dev; i++)
		dev = bus_find_device_by_name(dsw_buses[i].type, NULL, dd->name);

	mutex_lock(&dsw_devs_lock);
	if (!dd->dev) {		/* else a bus notifier selected it meanwhile */
		if (dev)
			dev = dsw_bind(dd, dev);
		else
			pr_warn("%s: not present; will attach when it appears\n",
				dd->name);
	}
	mutex_unlock(&dsw_devs_lock);
	put_device(dev);
}

/**
 * dsw_attach_init() - build the registry and select the requested devices
 *
 * Creates one entry per name in devices=, registers the bus notifiers and
 * looks every name up.  Names that do not exist stay pending; that is not
 * an error.
 *
 * Return: 0, or a negative errno (nothing is left registered then).
 */
int __init dsw_attach_init(void)
{
	unsigned int i, nr = dsw_params_nr_devices();
	struct dsw_dev *dd;
	int ret;

	for (i = 0; i < nr; i++) {
		dd = kzalloc(sizeof(*dd), GFP_KERNEL);
		if (!dd) {
			ret = -ENOMEM;
			goto err_free;
		}
		strscpy(dd->name, dsw_params_device(i), sizeof(dd->name));
		dd->state = DSW_DEV_PENDING;
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

	list_for_each_entry(dd, &dsw_devs, node)
		dsw_lookup(dd);
	return 0;

err_unregister:
	dsw_unregister_notifiers(i);
err_free:
	dsw_free_devs();
	return ret;
}

/**
 * dsw_attach_exit() - undo dsw_attach_init()
 *
 * Unregisters the bus notifiers, drops every device reference and frees the
 * registry.  Must run after every reader of the registry (debugfs) is gone.
 */
void __exit dsw_attach_exit(void)
{
	dsw_unregister_notifiers(ARRAY_SIZE(dsw_buses));
	dsw_free_devs();
}

/**
 * dsw_iterate_devs() - call a function for every requested device
 * @fn: called for each entry in devices= order, under the registry lock;
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
	}
	return "unknown";
}
