/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dynswiotlb: the module's interface to user programs (its tool, monitoring):
 * module parameters, sysfs and debugfs files, their names and formats.
 * docs/sysfs-ABI.md describes each file.
 *
 * Userspace includes this as <linux/dynswiotlb.h> (with -I include/uapi); the
 * module includes it as <uapi/linux/dynswiotlb.h>.
 */
#ifndef _UAPI_LINUX_DYNSWIOTLB_H
#define _UAPI_LINUX_DYNSWIOTLB_H

/* Name of the module, of its /sys/module directory and of its log prefix. */
#define DSW_MODULE_NAME		"dynswiotlb"

/*
 * Module parameter "devices" (read-only, mode 0444), readable at
 * DSW_SYSFS_PARAMS_DIR "/" DSW_PARAM_DEVICES.
 *
 * Syntax: devices=<name>[,<name>...], each <name> being either a device
 * name as found under /sys/bus/pci/devices or /sys/bus/platform/devices, or
 * a selector that stays true when a card moves:
 *
 *	DSW_SELECT_PCI "VVVV:DDDD"	every PCI device of that vendor:device
 *					ID (four hex digits each)
 *	DSW_SELECT_DRIVER "NAME"	every device whose driver is NAME ('-'
 *					and '_' match each other, as modprobe
 *					does), e.g. "driver:nvme"
 *	DSW_SELECT_ALL			every PCI device but bridges (a
 *					confidential guest, which bounces
 *					every device, wants them all); those
 *					the module refuses are skipped and
 *					logged, one line each.  Each device
 *					matched takes one of the registry's
 *					DSW_MAX_DEVICES entries, refused ones
 *					included
 *
 * A selector is matched when a device appears and again before its driver
 * probes; each device it matches is attached as if named, except that a
 * selector never unbinds a bound driver (the device is attached at its
 * next probe).  "devices="
 * (empty) selects no device.  The full validation rules are documented at
 * the top of module/params.c.  Reading the parameter back gives the
 * accepted names, canonicalised (PCI addresses and IDs in lower case),
 * joined by ',' and followed by a newline.  The attach file takes the same
 * names and selectors.
 */
#define DSW_SELECT_PCI		"pci:"
#define DSW_SELECT_DRIVER	"driver:"
#define DSW_SELECT_ALL		"all"

#define DSW_SYSFS_PARAMS_DIR	"/sys/module/" DSW_MODULE_NAME "/parameters"
#define DSW_PARAM_DEVICES	"devices"

/*
 * Run-time attach/detach: write a device name to
 * "/sys/kernel/" DSW_SYSFS_DIR "/" DSW_SYSFS_ATTACH (or DSW_SYSFS_DETACH).
 */
#define DSW_SYSFS_DIR		DSW_MODULE_NAME
#define DSW_SYSFS_ATTACH	"attach"
#define DSW_SYSFS_DETACH	"detach"
/* Per attached device: "/sys/kernel/" DSW_SYSFS_DIR "/devices/<name>/" */
#define DSW_SYSFS_DEVICES	"devices"

/*
 * Policy knobs: files in each device's directory above and, as defaults
 * for devices attached later, module parameters (docs/sysfs-ABI.md).
 * DSW_PARAM_MAX_TOTAL_KB is a module parameter only.
 */
#define DSW_KNOB_MODE		"mode"		/* DSW_MODE_* */
#define DSW_KNOB_FORCE_BOUNCE	"force_bounce"
#define DSW_KNOB_MAX_KB		"max_kb"
#define DSW_KNOB_CHUNK_KB	"chunk_kb"
#define DSW_KNOB_RESERVE_LOW_KB	"reserve_low_kb"
#define DSW_KNOB_RESERVE_HIGH_KB "reserve_high_kb"
#define DSW_KNOB_SHRINK_DELAY_MS "shrink_delay_ms"
#define DSW_KNOB_MAX_MAP_KB	"max_map_kb"
#define DSW_PARAM_MAX_TOTAL_KB	"max_total_kb"

#define DSW_MODE_STATIC_FIRST_NAME	"static-first"
#define DSW_MODE_DYNAMIC_ONLY_NAME	"dynamic-only"
#define DSW_MODE_OFF_NAME		"off"

/* Maximum length of one device name, not counting the terminating NUL. */
#define DSW_DEV_NAME_MAX	63

/* Maximum number of names in devices=. */
#define DSW_MAX_DEVICES		32

/*
 * debugfs (root only).  DSW_DEBUGFS_DIR is relative to the debugfs mount
 * point, normally /sys/kernel/debug.  Files that are only read have mode
 * 0444, so that they can be read under lockdown too.
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
/* One line per attached device and a total (module/debugfs.c). */
#define DSW_DEBUGFS_SUMMARY	"summary"

/* The device exists, but the module's DMA ops are not installed on it. */
#define DSW_STATE_PRESENT	"present"
/* The device exists and uses the module's DMA ops. */
#define DSW_STATE_ATTACHED	"attached"
/* The device exists but cannot be attached (the log says why). */
#define DSW_STATE_REFUSED	"refused"
/* No device of that name exists (yet); it is selected when it appears. */
#define DSW_STATE_PENDING	"pending"
/*
 * A selector (DSW_SELECT_*): the devices it matched have lines of their own,
 * in the order they were matched.
 */
#define DSW_STATE_SELECTOR	"selector"

/*
 * Counters of an attached device, readable under lockdown:
 * "/sys/kernel/" DSW_SYSFS_DIR "/" DSW_SYSFS_DEVICES "/<name>/"
 * DSW_SYSFS_STATISTICS "/<counter>", one file per counter named below
 * (mode 0444; more may be added), holding one decimal value and a newline.
 * Mapping counts count each scatterlist entry as one mapping.  Writing 0
 * to a high-water mark (mode 0644) restarts it from the current value.
 */
#define DSW_SYSFS_STATISTICS	"statistics"
#define DSW_STAT_MAPS		"maps"		/* mapping requests */
#define DSW_STAT_DIRECT		"direct"	/* mapped without bouncing */
#define DSW_STAT_STATIC		"static"	/* bounced by the kernel's swiotlb */
#define DSW_STAT_DYNAMIC	"dynamic"	/* bounced through dynswiotlb buffers */
#define DSW_STAT_FAILURES	"failures"	/* mappings that failed */
#define DSW_STAT_LIVE_BUFFERS	"live_buffers"	/* dynamic buffers mapped now */
#define DSW_STAT_LIVE_BYTES	"live_bytes"	/* bytes of those buffers */
#define DSW_STAT_POOL_BYTES	"pool_bytes"	/* memory the device's pool holds */
#define DSW_STAT_FREE_BYTES	"free_bytes"	/* of which not mapped */
#define DSW_STAT_FAIL_TOO_LARGE	"fail_too_large" /* failures: larger than any buffer */
#define DSW_STAT_FAIL_CAP	"fail_cap"	/* failures: a cap forbade growth */
#define DSW_STAT_FAIL_NOMEM	"fail_nomem"	/* failures: no memory without sleeping */
#define DSW_STAT_BYTES_TO_DEV	"bytes_to_device"	/* copied into buffers */
#define DSW_STAT_BYTES_FROM_DEV	"bytes_from_device"	/* copied out of them */
#define DSW_STAT_CHUNK_ALLOCS	"chunk_allocs"	/* chunks allocated */
#define DSW_STAT_CHUNK_FREES	"chunk_frees"	/* chunks given back */
#define DSW_STAT_LIVE_HIWATER	"live_bytes_hiwater" /* reset: write 0 to it */
#define DSW_STAT_POOL_HIWATER	"pool_bytes_hiwater"
#define DSW_STAT_DYNAMIC_NS	"dynamic_map_ns"	/* time in dynamic maps */
/* Dynamic mappings by the caller's context (at rest they add up to "dynamic"). */
#define DSW_STAT_DYNAMIC_TASK	"dynamic_task"	/* could sleep */
#define DSW_STAT_DYNAMIC_ATOMIC	"dynamic_atomic" /* preemption/irqs off */
#define DSW_STAT_DYNAMIC_IRQ	"dynamic_irq"	/* hard or soft interrupt */
/*
 * Dynamic maps, unmaps and syncs that waited for another CPU's hold of the
 * device's bounce lock: contention on the per-device state.
 */
#define DSW_STAT_LOCK_CONTENDED	"lock_contended"

/*
 * Per attached device: DSW_DEBUGFS_DIR "/" <name> "/" ...
 *
 * DSW_DEBUGFS_LATENCY (0444): a histogram of the time successful dynamic
 * mappings took (from entering the dynamic path to returning the address,
 * copy included), DSW_LAT_BUCKETS lines, one per power of two:
 *
 *	"<from_ns> <to_ns> <count>\n"
 *
 * bucket 0 covers [0, 2) ns, bucket i > 0 covers [2^i, 2^(i+1)) ns, the
 * last one everything from 2^(DSW_LAT_BUCKETS - 1) ns (its <to_ns> is
 * 18446744073709551615).  Counts are summed over CPUs when read; they only
 * grow (the difference of two reads is the histogram of what happened in
 * between).
 */
#define DSW_DEBUGFS_LATENCY	"latency"
#define DSW_LAT_BUCKETS		32

/*
 * DSW_DEBUGFS_SIZES (0444): a histogram of the lengths the driver asked for
 * in successful dynamic mappings (those of the kernel's own pool are not
 * counted), DSW_SIZE_BUCKETS lines in the format of DSW_DEBUGFS_LATENCY:
 *
 *	"<from_bytes> <to_bytes> <count>\n"
 *
 * bucket 0 covers [0, 2) bytes, bucket i > 0 covers [2^i, 2^(i+1)), the
 * last one everything from 2^(DSW_SIZE_BUCKETS - 1) (its <to_bytes> is
 * 18446744073709551615).  A scatterlist entry is one mapping: a 1 MiB
 * request the device received in one piece counts in [1048576, 2097152).
 * Counts start at 0 when the device is attached and only grow.
 */
#define DSW_DEBUGFS_SIZES	"sizes"
#define DSW_SIZE_BUCKETS	32

/*
 * DSW_DEBUGFS_INJECT (0600): allocation failure injection, for testing how
 * the device copes when no memory can be had (not under lockdown).  Reads and writes one word:
 * "off" (default), "atomic" (every chunk allocation that may not sleep
 * fails: the growth on the mapping path), "all" (every chunk allocation
 * fails, the refill of the reserve in process context included).
 * Failures injected are counted as fail_nomem at the mapping that needed
 * the memory; anything else written fails with EINVAL.
 */
#define DSW_DEBUGFS_INJECT	"inject_nomem"
#define DSW_INJECT_OFF		"off"
#define DSW_INJECT_ATOMIC	"atomic"
#define DSW_INJECT_ALL		"all"

/*
 * DSW_DEBUGFS_BUFFERS (0444): one line per live dynamic buffer, lowest DMA address
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
