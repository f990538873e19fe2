/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_ATTACH_H
#define DSW_ATTACH_H

#include <linux/list.h>
#include <uapi/linux/dynswiotlb.h>

struct device;

enum dsw_dev_state {
	DSW_DEV_PENDING,	/* no device of that name (yet) */
	DSW_DEV_PRESENT,	/* found; @dev holds a reference */
};

/**
 * struct dsw_dev - one requested device
 * @node: entry in the registry, in the order of devices=
 * @name: device name, as under /sys/bus/{pci,platform}/devices
 * @dev: the device, with a reference (get_device()), or NULL while pending
 * @state: where the device is in its life cycle
 *
 * @node and @name do not change while the entry is in the registry; @dev and
 * @state are protected by the registry lock (see attach.c).  Per-device shim
 * state joins this structure.
 */
struct dsw_dev {
	struct list_head node;
	char name[DSW_DEV_NAME_MAX + 1];
	struct device *dev;
	enum dsw_dev_state state;
};

int dsw_attach_init(void);
void dsw_attach_exit(void);
int dsw_iterate_devs(int (*fn)(const struct dsw_dev *dd, void *data),
		     void *data);
const char *dsw_dev_state_name(enum dsw_dev_state state);

#endif /* DSW_ATTACH_H */
