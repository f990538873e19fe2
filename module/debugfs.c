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
 *	lower case); <state> is "attached" (it uses the module's DMA ops),
 *	"present" (it exists, not attached yet), "refused" (it exists but
 *	cannot be attached; the log says why) or "pending" (no such device
 *	yet; it is selected when it appears).  The fields are separated by one space.
 *	The file is empty when no device was requested.  The names are the
 *	DSW_DEBUGFS_* and DSW_STATE_* macros of <uapi/linux/dynswiotlb.h>.
 *
 * <debugfs>/dynswiotlb/<name>/ (mode 0500), while <name> is attached:
 *	stats (0600)	counters, "<key> <value>\n" (DSW_STAT_* keys);
 *			writing 0 resets the high-water marks
 *	buffers (0400)	live dynamic buffers (DSW_DEBUGFS_BUFFERS format)
 *	latency (0600)	histogram of dynamic mapping times (DSW_DEBUGFS_LATENCY);
 *			writing 0 empties it
 *	inject_nomem (0600) allocation failure injection (DSW_DEBUGFS_INJECT)
 *
 * <debugfs>/dynswiotlb/summary (0400): see dsw_summary_show().
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

/* The per-CPU counters of @shim, added up (a snapshot, not atomic). */
static void dsw_stats_sum(struct dsw_shim *shim, struct dsw_pcpu_stats *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct dsw_pcpu_stats *s = per_cpu_ptr(shim->stats, cpu);

		sum->maps += READ_ONCE(s->maps);
		sum->direct += READ_ONCE(s->direct);
		sum->static_hits += READ_ONCE(s->static_hits);
		sum->dynamic += READ_ONCE(s->dynamic);
		sum->failures += READ_ONCE(s->failures);
		sum->fail_too_large += READ_ONCE(s->fail_too_large);
		sum->fail_cap += READ_ONCE(s->fail_cap);
		sum->fail_nomem += READ_ONCE(s->fail_nomem);
		sum->bytes_to_device += READ_ONCE(s->bytes_to_device);
		sum->bytes_from_device += READ_ONCE(s->bytes_from_device);
		sum->dynamic_ns += READ_ONCE(s->dynamic_ns);
		for (i = 0; i < DSW_LAT_BUCKETS; i++)
			sum->lat[i] += READ_ONCE(s->lat[i]);
	}
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

static int dsw_stats_show(struct seq_file *m, void *unused)
{
	struct dsw_shim *shim = m->private;
	struct dsw_pcpu_stats sum;
	struct dsw_bounce_snap snap;
	unsigned long nr_live, allocs, frees;
	size_t live, pool, free, live_hw, pool_hw;

	dsw_stats_sum(shim, &sum);
	dsw_bounce_snapshot(shim, &snap);
	nr_live = snap.nr_live;
	live = snap.live_bytes;
	pool = snap.pool_bytes;
	free = snap.free_bytes;
	allocs = snap.chunk_allocs;
	frees = snap.chunk_frees;
	live_hw = snap.live_hiwater;
	pool_hw = snap.pool_hiwater;

	seq_printf(m, DSW_STAT_MAPS " %llu\n", sum.maps);
	seq_printf(m, DSW_STAT_DIRECT " %llu\n", sum.direct);
	seq_printf(m, DSW_STAT_STATIC " %llu\n", sum.static_hits);
	seq_printf(m, DSW_STAT_DYNAMIC " %llu\n", sum.dynamic);
	seq_printf(m, DSW_STAT_FAILURES " %llu\n", sum.failures);
	seq_printf(m, DSW_STAT_LIVE_BUFFERS " %lu\n", nr_live);
	seq_printf(m, DSW_STAT_LIVE_BYTES " %zu\n", live);
	seq_printf(m, DSW_STAT_POOL_BYTES " %zu\n", pool);
	seq_printf(m, DSW_STAT_FREE_BYTES " %zu\n", free);
	seq_printf(m, DSW_STAT_FAIL_TOO_LARGE " %llu\n", sum.fail_too_large);
	seq_printf(m, DSW_STAT_FAIL_CAP " %llu\n", sum.fail_cap);
	seq_printf(m, DSW_STAT_FAIL_NOMEM " %llu\n", sum.fail_nomem);
	seq_printf(m, DSW_STAT_BYTES_TO_DEV " %llu\n", sum.bytes_to_device);
	seq_printf(m, DSW_STAT_BYTES_FROM_DEV " %llu\n", sum.bytes_from_device);
	seq_printf(m, DSW_STAT_CHUNK_ALLOCS " %lu\n", allocs);
	seq_printf(m, DSW_STAT_CHUNK_FREES " %lu\n", frees);
	seq_printf(m, DSW_STAT_LIVE_HIWATER " %zu\n", live_hw);
	seq_printf(m, DSW_STAT_POOL_HIWATER " %zu\n", pool_hw);
	seq_printf(m, DSW_STAT_DYNAMIC_NS " %llu\n", sum.dynamic_ns);
	return 0;
}

/*
 * Parse a write of "0" to a debugfs file: 0, -EFAULT if the buffer cannot
 * be read, else -EINVAL.
 */
static int dsw_write_zero(const char __user *ubuf, size_t count)
{
	unsigned int val;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 10, &val);
	if (ret == -EFAULT)
		return ret;
	return ret || val ? -EINVAL : 0;
}

/* Writing "0" resets the high-water marks to the current values. */
static ssize_t dsw_stats_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct dsw_shim *shim = ((struct seq_file *)file->private_data)->private;
	int ret;

	ret = dsw_write_zero(ubuf, count);
	if (ret)
		return ret;
	dsw_bounce_reset_hiwater(shim);
	return count;
}

DSW_DEFINE_RW_ATTRIBUTE(dsw_stats);

static int dsw_latency_show(struct seq_file *m, void *unused)
{
	struct dsw_pcpu_stats sum;
	u64 from, to;
	int i;

	dsw_stats_sum(m->private, &sum);
	for (i = 0; i < DSW_LAT_BUCKETS; i++) {
		from = i ? 1ULL << i : 0;
		to = i < DSW_LAT_BUCKETS - 1 ? 1ULL << (i + 1) : U64_MAX;
		seq_printf(m, "%llu %llu %llu\n", from, to, sum.lat[i]);
	}
	return 0;
}

/* Writing "0" empties the histogram (counts racing with it may survive). */
static ssize_t dsw_latency_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct dsw_shim *shim = ((struct seq_file *)file->private_data)->private;
	int cpu, i, ret;

	ret = dsw_write_zero(ubuf, count);
	if (ret)
		return ret;
	for_each_possible_cpu(cpu) {
		struct dsw_pcpu_stats *s = per_cpu_ptr(shim->stats, cpu);

		for (i = 0; i < DSW_LAT_BUCKETS; i++)
			WRITE_ONCE(s->lat[i], 0);
	}
	return count;
}

DSW_DEFINE_RW_ATTRIBUTE(dsw_latency);

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

	debugfs_create_file(DSW_DEBUGFS_STATS, 0600, dir, shim,
			    &dsw_stats_fops);
	debugfs_create_file(DSW_DEBUGFS_BUFFERS, 0400, dir, shim,
			    &dsw_buffers_fops);
	debugfs_create_file(DSW_DEBUGFS_LATENCY, 0600, dir, shim,
			    &dsw_latency_fops);
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
	debugfs_create_file(DSW_DEBUGFS_DEVICES, 0400, dsw_debugfs_root, NULL,
			    &dsw_devices_fops);
	debugfs_create_file(DSW_DEBUGFS_SUMMARY, 0400, dsw_debugfs_root, NULL,
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
