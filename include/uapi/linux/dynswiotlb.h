/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dynswiotlb: interface shared by the kernel module, its selftests and tools.
 *
 * Userspace includes this as <linux/dynswiotlb.h> (with -I include/uapi); the
 * module includes it as <uapi/linux/dynswiotlb.h>.
 */
#ifndef _UAPI_LINUX_DYNSWIOTLB_H
#define _UAPI_LINUX_DYNSWIOTLB_H

#include <linux/types.h>

/* Name of the module, of its /sys/module directory and of its log prefix. */
#define DSW_MODULE_NAME		"dynswiotlb"

/*
 * Module parameter "devices" (read-only, mode 0444), readable at
 * DSW_SYSFS_PARAMS_DIR "/" DSW_PARAM_DEVICES.
 *
 * Syntax: devices=<name>[,<name>...], each <name> being a device name as
 * found under /sys/bus/pci/devices or /sys/bus/platform/devices.  "devices="
 * (empty) selects no device.  The full validation rules are documented at
 * the top of module/params.c.  Reading the parameter back gives the
 * accepted names, canonicalised (PCI addresses in lower case), joined by
 * ',' and followed by a newline.
 */
#define DSW_SYSFS_PARAMS_DIR	"/sys/module/" DSW_MODULE_NAME "/parameters"
#define DSW_PARAM_DEVICES	"devices"

/*
 * Run-time attach/detach: write a device name to
 * "/sys/kernel/" DSW_SYSFS_DIR "/" DSW_SYSFS_ATTACH (or DSW_SYSFS_DETACH).
 */
#define DSW_SYSFS_DIR		DSW_MODULE_NAME
#define DSW_SYSFS_ATTACH	"attach"
#define DSW_SYSFS_DETACH	"detach"

/* Maximum length of one device name, not counting the terminating NUL. */
#define DSW_DEV_NAME_MAX	63

/* Maximum number of names in devices=. */
#define DSW_MAX_DEVICES		32

/*
 * debugfs (root only).  DSW_DEBUGFS_DIR is relative to the debugfs mount
 * point, normally /sys/kernel/debug.
 *
 * DSW_DEBUGFS_DIR "/" DSW_DEBUGFS_DEVICES: one line per requested device,
 * in the order given to devices=, each line being
 *
 *	"<name> <state>\n"
 *
 * with a single space between the fields, <name> as canonicalised by the
 * parameter parser, and <state> one of the DSW_STATE_* strings below.  The
 * file is empty when no device was requested.
 */
#define DSW_DEBUGFS_DIR		DSW_MODULE_NAME
#define DSW_DEBUGFS_DEVICES	"devices"

/* The device exists, but the module's DMA ops are not installed on it. */
#define DSW_STATE_PRESENT	"present"
/* The device exists and uses the module's DMA ops. */
#define DSW_STATE_ATTACHED	"attached"
/* The device exists but cannot be attached (the log says why). */
#define DSW_STATE_REFUSED	"refused"
/* No device of that name exists (yet); it is selected when it appears. */
#define DSW_STATE_PENDING	"pending"

/*
 * Per attached device: DSW_DEBUGFS_DIR "/" <name> "/" ...
 *
 * DSW_DEBUGFS_STATS: one "<key> <value>\n" line per counter, value in
 * decimal, keys below (more may be added at the end; parse by key).
 * Mapping counts count each scatterlist entry as one mapping.
 */
#define DSW_DEBUGFS_STATS	"stats"
#define DSW_STAT_MAPS		"maps"		/* mapping requests */
#define DSW_STAT_DIRECT		"direct"	/* mapped without bouncing */
#define DSW_STAT_STATIC		"static"	/* bounced by the kernel's swiotlb */
#define DSW_STAT_DYNAMIC	"dynamic"	/* bounced through dynswiotlb buffers */
#define DSW_STAT_FAILURES	"failures"	/* mappings that failed */
#define DSW_STAT_LIVE_BUFFERS	"live_buffers"	/* dynamic buffers mapped now */
#define DSW_STAT_LIVE_BYTES	"live_bytes"	/* bytes of those buffers */
#define DSW_STAT_POOL_BYTES	"pool_bytes"	/* memory the device's pool holds */

/*
 * DSW_DEBUGFS_BUFFERS: one line per live dynamic buffer, lowest DMA address
 * first:
 *
 *	"<dma> <size> <dir> <age_ms> <ctx>\n"
 *
 * <dma> the DMA address given to the driver, 0x-prefixed hex; <size> the
 * mapping's length in bytes; <dir> one of "bidi", "to", "from"; <age_ms>
 * milliseconds since it was mapped; <ctx> the context of the mapping call:
 * "task" (could sleep), "atomic" or "irq".
 */
#define DSW_DEBUGFS_BUFFERS	"buffers"

#endif /* _UAPI_LINUX_DYNSWIOTLB_H */
