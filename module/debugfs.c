// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs interface: the live-buffer list and the debug knobs.  The
 * counters are in sysfs (stats.c), where lockdown does not hide them.
 *
 * Every file that is only read has mode 0444 and no write, ioctl or mmap:
 * under lockdown (Secure Boot) debugfs refuses any other file, and older
 * kernels (5.10's) refuse even 0400.  debugfs itself is root's only (its
 * mount point is 0700), so 0444 shows nothing to other users.
 *
 * <debugfs>/dynswiotlb/devices (0444)
 *	One line per requested device or selector and per device a selector
 *	matched, in the order they were selected (devices= first):
 *
 *		<name> <state>\n
 *
 *	<name> is the device name as accepted by devices= (PCI addresses in
 *	lower case); <state> is "attached" (it uses the module's DMA ops),
 *	"present" (it exists, not attached yet), "refused" (it exists but
 *	cannot be attached; the log says why), "pending" (no such device
 *	yet; it is selected when it appears) or "selector" (a pci: or
 *	driver: selector; the devices it matched have lines of their own).
 *	The fields are separated by one space.
 *	The file is empty when no device was requested.  The names are the
 *	DSW_DEBUGFS_* and DSW_STATE_* macros of <uapi/linux/dynswiotlb.h>.
 *
 * <debugfs>/dynswiotlb/<name>/, while <name> is attached:
 *	buffers (0444)	live dynamic buffers (DSW_DEBUGFS_BUFFERS format)
 *	latency (0444)	histogram of dynamic mapping times (DSW_DEBUGFS_LATENCY)
 *	sizes (0444)	histogram of dynamic mapping lengths (DSW_DEBUGFS_SIZES)
 *	inject_nomem (0600) allocation failure injection (DSW_DEBUGFS_INJECT):
 *			a debug knob, refused under lockdown
 *
 * <debugfs>/dynswiotlb/summary (0444): see dsw_summary_show().
 *
 * As with all of debugfs, failures to create entries are not errors.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dynswiotlb.h>

#include "attach.h"
#include "bounce.h"
#include "debugfs.h"
#include "shim.h"
#include "stats.h"

static struct dentry *dsw_debugfs_root;

/* A seq_file shown by <name>_show() and written by <name>_write(). */
#define DSW_DEFINE_RW_ATTRIBUTE(__name)					\
static int __name##_open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, __name##_show, inode->i_private);	\
}									\
									\
static const struct file_operations __name##_fops = {			\
	.owner = THIS_MODULE,						\
	.open = __name##_open,						\
	.read = seq_read,						\
	.write = __name##_write,					\
	.llseek = seq_lseek,						\
	.release = single_release,					\
}

static int dsw_devices_show_one(const struct dsw_dev *dd, void *data)
{
	struct seq_file *m = data;

	seq_printf(m, "%s %s\n", dd->name, dsw_dev_state_name(dd->state));
	return 0;
}

/*
 * <debugfs>/dynswiotlb/summary: one line per attached device and a total,
 * "<name> <mode> pool=<bytes> live=<buffers>/<bytes> failures=<n>" and
 * "total pool=<bytes> live=<buffers>/<bytes> failures=<n> cap=<KiB>".
 */
struct dsw_summary {
	struct seq_file *m;
	size_t pool, live_bytes;
	unsigned long live;
	u64 failures;
};

static int dsw_summary_one(const struct dsw_dev *dd, void *data)
{
	struct dsw_summary *sum = data;
	struct dsw_shim *shim = dd->shim;
	struct dsw_pcpu_stats stats;
	struct dsw_bounce_snap snap;
	unsigned long live;
	size_t pool, live_bytes;

	if (!shim)
		return 0;
	dsw_stats_sum(shim, &stats);
	dsw_bounce_snapshot(shim, &snap);
	pool = snap.pool_bytes;
	live = snap.nr_live;
	live_bytes = snap.live_bytes;
	seq_printf(sum->m, "%s %s pool=%zu live=%lu/%zu failures=%llu\n",
		   dd->name, dsw_mode_name(READ_ONCE(shim->policy.mode)), pool, live,
		   live_bytes, stats.failures);
	sum->pool += pool;
	sum->live += live;
	sum->live_bytes += live_bytes;
	sum->failures += stats.failures;
	return 0;
}

static int dsw_summary_show(struct seq_file *m, void *unused)
{
	struct dsw_summary sum = { .m = m };

	dsw_iterate_devs(dsw_summary_one, &sum);
	seq_printf(m, "total pool=%zu live=%lu/%zu failures=%llu cap=%u\n",
		   sum.pool, sum.live, sum.live_bytes, sum.failures,
		   READ_ONCE(dsw_max_total_kb));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dsw_summary);

static int dsw_devices_show(struct seq_file *m, void *unused)
{
	return dsw_iterate_devs(dsw_devices_show_one, m);
}
DEFINE_SHOW_ATTRIBUTE(dsw_devices);

/* A power-of-two histogram: bucket 0 is [0, 2), the last one unbounded. */
static void dsw_histogram_show(struct seq_file *m, const u64 *count,
			       unsigned int n)
{
	unsigned int i;
	u64 from, to;

	for (i = 0; i < n; i++) {
		from = i ? 1ULL << i : 0;
		to = i < n - 1 ? 1ULL << (i + 1) : U64_MAX;
		seq_printf(m, "%llu %llu %llu\n", from, to, count[i]);
	}
}

static int dsw_latency_show(struct seq_file *m, void *unused)
{
	struct dsw_pcpu_stats sum;

	dsw_stats_sum(m->private, &sum);
	dsw_histogram_show(m, sum.lat, DSW_LAT_BUCKETS);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dsw_latency);

static int dsw_sizes_show(struct seq_file *m, void *unused)
{
	struct dsw_pcpu_stats sum;

	dsw_stats_sum(m->private, &sum);
	dsw_histogram_show(m, sum.sizes, DSW_SIZE_BUCKETS);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dsw_sizes);

static const char *const dsw_inject_names[DSW_INJECT_NR] = {
	[DSW_INJECT_NONE] = DSW_INJECT_OFF,
	[DSW_INJECT_NOWAIT] = DSW_INJECT_ATOMIC,
	[DSW_INJECT_EVERY] = DSW_INJECT_ALL,
};

static int dsw_inject_show(struct seq_file *m, void *unused)
{
	struct dsw_shim *shim = m->private;

	seq_printf(m, "%s\n", dsw_inject_names[dsw_bounce_inject(shim)]);
	return 0;
}

/* One of dsw_inject_names; a change is logged and kicks the refill. */
static ssize_t dsw_inject_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct dsw_shim *shim = ((struct seq_file *)file->private_data)->private;
	char buf[16];
	int val;

	if (!count || count >= sizeof(buf))
		goto inval;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	val = sysfs_match_string(dsw_inject_names, buf);
	if (val < 0)
		goto inval;
	if (dsw_bounce_set_inject(shim, val) != val)
		pr_info("%s: allocation failure injection: %s\n",
			dev_name(shim->dev), dsw_inject_names[val]);
	return count;

inval:
	pr_err("%s: " DSW_DEBUGFS_INJECT ": not one of " DSW_INJECT_OFF ", "
	       DSW_INJECT_ATOMIC ", " DSW_INJECT_ALL "\n", dev_name(shim->dev));
	return -EINVAL;
}

DSW_DEFINE_RW_ATTRIBUTE(dsw_inject);

static int dsw_buffers_show(struct seq_file *m, void *unused)
{
	dsw_bounce_show(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dsw_buffers);

/**
 * dsw_debugfs_add_dev() - create an attached device's directory
 * @name: the device's name
 * @shim: its shim, which must outlive the directory
 *
 * Return: the directory, for dsw_debugfs_remove_dev().
 */
struct dentry *dsw_debugfs_add_dev(const char *name, struct dsw_shim *shim)
{
	struct dentry *dir = debugfs_create_dir(name, dsw_debugfs_root);

	debugfs_create_file(DSW_DEBUGFS_BUFFERS, 0444, dir, shim,
			    &dsw_buffers_fops);
	debugfs_create_file(DSW_DEBUGFS_LATENCY, 0444, dir, shim,
			    &dsw_latency_fops);
	debugfs_create_file(DSW_DEBUGFS_SIZES, 0444, dir, shim,
			    &dsw_sizes_fops);
	debugfs_create_file(DSW_DEBUGFS_INJECT, 0600, dir, shim,
			    &dsw_inject_fops);
	return dir;
}

/**
 * dsw_debugfs_remove_dev() - remove a device's directory
 * @dir: what dsw_debugfs_add_dev() returned
 *
 * Waits for running file operations, so the shim may be freed after.
 */
void dsw_debugfs_remove_dev(struct dentry *dir)
{
	debugfs_remove_recursive(dir);
}

/**
 * dsw_debugfs_init() - create the debugfs tree
 *
 * Context: before dsw_attach_init(), which adds directories to it.
 */
void __init dsw_debugfs_init(void)
{
	dsw_debugfs_root = debugfs_create_dir(DSW_DEBUGFS_DIR, NULL);
	debugfs_create_file(DSW_DEBUGFS_DEVICES, 0444, dsw_debugfs_root, NULL,
			    &dsw_devices_fops);
	debugfs_create_file(DSW_DEBUGFS_SUMMARY, 0444, dsw_debugfs_root, NULL,
			    &dsw_summary_fops);
}

/**
 * dsw_debugfs_exit() - remove the debugfs tree
 *
 * Waits for running file operations, so the registry may be freed after.
 */
void dsw_debugfs_exit(void)
{
	debugfs_remove_recursive(dsw_debugfs_root);
}
