// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs interface, for root only.
 *
 * <debugfs>/dynswiotlb/devices (mode 0400)
 *	One line per requested device, in the order given to devices=:
 *
 *		<name> <state>\n
 *
 *	<name> is the device name as accepted by devices= (PCI addresses in
 *	lower case); <state> is "present" (the device exists and the module
 *	holds a reference to it) or "pending" (no such device yet; it is
 *	selected when it appears).  The fields are separated by one space.
 *	The file is empty when no device was requested.  The names are the
 *	DSW_DEBUGFS_* and DSW_STATE_* macros of <uapi/linux/dynswiotlb.h>.
 *
 * As with all of debugfs, failures to create entries are not errors.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <uapi/linux/dynswiotlb.h>

#include "attach.h"
#include "debugfs.h"

static struct dentry *dsw_debugfs_root;

static int dsw_devices_show_one(const struct dsw_dev *dd, void *data)
{
	struct seq_file *m = data;

	seq_printf(m, "%s %s\n", dd->name, dsw_dev_state_name(dd->state));
	return 0;
}

static int dsw_devices_show(struct seq_file *m, void *unused)
{
	return dsw_iterate_devs(dsw_devices_show_one, m);
}
DEFINE_SHOW_ATTRIBUTE(dsw_devices);

/**
 * dsw_debugfs_init() - create the debugfs tree
 *
 * Context: after dsw_attach_init(), as the files read the device registry.
 */
void __init dsw_debugfs_init(void)
{
	dsw_debugfs_root = debugfs_create_dir(DSW_DEBUGFS_DIR, NULL);
	debugfs_create_file(DSW_DEBUGFS_DEVICES, 0400, dsw_debugfs_root, NULL,
			    &dsw_devices_fops);
}

/**
 * dsw_debugfs_exit() - remove the debugfs tree
 *
 * Waits for running file operations, so the registry may be freed after.
 */
void __exit dsw_debugfs_exit(void)
{
	debugfs_remove_recursive(dsw_debugfs_root);
}
