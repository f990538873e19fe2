/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_ATTACH_H
#define DSW_ATTACH_H

#include <linux/list.h>
#include <uapi/linux/dynswiotlb.h>

struct dentry;
struct device;
struct dsw_shim;

enum dsw_dev_state {
	DSW_DEV_PENDING,	/* no device of that name (yet) */
	DSW_DEV_PRESENT,	/* found, not attached (yet) */
	DSW_DEV_ATTACHED,	/* found; our dma_map_ops are installed */
	DSW_DEV_REFUSED,	/* found, but it cannot be attached */
	DSW_DEV_SELECTOR,	/* a selector (select.c), never a device */
};

/**
 * struct dsw_dev - one selected device
 * @node: entry in the registry, in the order of selection
 * @name: device name, as under /sys/bus/{pci,platform}/devices, or a
 *	selector (then @state is DSW_DEV_SELECTOR and @dev stays NULL)
 * @dev: the device, with a reference (get_device()), or NULL while pending
 * @state: where the device is in its life cycle
 * @error: why it was refused (negative errno), in DSW_DEV_REFUSED
 * @shim: the installed shim, in DSW_DEV_ATTACHED
 * @prepared: while loading, the shim made for the device, not installed yet
 * @pinned: the module holds a reference to itself for this device: a driver
 *	is bound to it, so our ops must stay
 * @debugfs: the device's debugfs directory while attached
 * @capped: a selector whose match was refused for DSW_MAX_DEVICES (logged
 *	once)
 *
 * @node and @name do not change while the entry is in the registry; the
 * other fields are protected by the registry lock (see attach.c).
 */
struct dsw_dev {
	struct list_head node;
	char name[DSW_DEV_NAME_MAX + 1];
	struct device *dev;
	enum dsw_dev_state state;
	int error;
	struct dsw_shim *shim;
	struct dsw_shim *prepared;
	bool pinned;
	struct dentry *debugfs;
	bool capped;
};

int dsw_attach_init(void);
void dsw_attach_exit(void);
int dsw_attach_name(const char *name);
int dsw_detach_name(const char *name);
int dsw_iterate_devs(int (*fn)(const struct dsw_dev *dd, void *data),
		     void *data);
const char *dsw_dev_state_name(enum dsw_dev_state state);

#endif /* DSW_ATTACH_H */
