// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device statistics, in sysfs so that they can be read under lockdown
 * (debugfs refuses files with a write bit there):
 *
 * /sys/kernel/dynswiotlb/devices/<name>/statistics/<counter>
 *	One file per counter, as a net device's statistics/: mode 0444, one
 *	decimal value and a newline.  The names are the DSW_STAT_* macros of
 *	<uapi/linux/dynswiotlb.h>.  The two high-water marks are 0644:
 *	writing 0 to one restarts it from the current value; anything else
 *	written fails with EINVAL.
 *
 * Each read is a snapshot of its own: the per-CPU counters are summed
 * without stopping the mappers, the bounce counts are copied under the
 * bounce lock.  Two files read one after the other may disagree by the
 * mappings made in between.
 */

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <uapi/linux/dynswiotlb.h>

#include "bounce.h"
#include "policy.h"
#include "shim.h"
#include "stats.h"

/**
 * dsw_stats_sum() - add up the per-CPU counters of a device
 * @shim: the device's shim
 * @sum: filled in
 *
 * Not atomic: counts made while it runs may or may not be included.
 */
void dsw_stats_sum(struct dsw_shim *shim, struct dsw_pcpu_stats *sum)
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
		sum->lock_contended += READ_ONCE(s->lock_contended);
		for (i = 0; i < DSW_NR_CTX; i++)
			sum->dynamic_ctx[i] += READ_ONCE(s->dynamic_ctx[i]);
		for (i = 0; i < DSW_LAT_BUCKETS; i++)
			sum->lat[i] += READ_ONCE(s->lat[i]);
		for (i = 0; i < DSW_SIZE_BUCKETS; i++)
			sum->sizes[i] += READ_ONCE(s->sizes[i]);
	}
}

/* Where a counter comes from. */
enum dsw_stat_src {
	DSW_SRC_PCPU,	/* a u64 of struct dsw_pcpu_stats, summed over CPUs */
	DSW_SRC_SNAP,	/* an unsigned long or size_t of struct dsw_bounce_snap */
};

/**
 * struct dsw_stat_attr - one file of statistics/
 * @attr: the sysfs attribute
 * @src: enum dsw_stat_src
 * @offset: offsetof() the counter in its structure
 * @reset_pool: for a high-water mark, which one writing 0 restarts
 */
struct dsw_stat_attr {
	struct kobj_attribute attr;
	unsigned int src;
	size_t offset;
	bool reset_pool;
};

static ssize_t dsw_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	const struct dsw_stat_attr *sa =
		container_of(attr, struct dsw_stat_attr, attr);
	struct dsw_shim *shim = dsw_policy_kobj_shim(kobj);
	struct dsw_pcpu_stats sum;
	struct dsw_bounce_snap snap;
	u64 val;

	if (sa->src == DSW_SRC_PCPU) {
		dsw_stats_sum(shim, &sum);
		val = *(u64 *)((char *)&sum + sa->offset);
	} else {
		dsw_bounce_snapshot(shim, &snap);
		val = *(unsigned long *)((char *)&snap + sa->offset);
	}
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t dsw_hiwater_store(struct kobject *kobj,
				 struct kobj_attribute *attr,
				 const char *buf, size_t count)
{
	const struct dsw_stat_attr *sa =
		container_of(attr, struct dsw_stat_attr, attr);
	struct dsw_shim *shim = dsw_policy_kobj_shim(kobj);
	unsigned int val;

	if (kstrtouint(buf, 10, &val) || val) {
		pr_err("%s: %s/%s: only 0 (restart the mark) can be written\n",
		       dev_name(shim->dev), DSW_SYSFS_STATISTICS,
		       attr->attr.name);
		return -EINVAL;
	}
	dsw_bounce_reset_hiwater(shim, sa->reset_pool);
	return count;
}

#define DSW_STAT_FILE(_name, _mode, _store)				\
	.attr = { .attr = { .name = (_name), .mode = (_mode) },	\
		  .show = dsw_stat_show, .store = (_store) }

#define DSW_STAT(_name, _field) {					\
	DSW_STAT_FILE(_name, 0444, NULL),				\
	.src = DSW_SRC_PCPU,						\
	.offset = offsetof(struct dsw_pcpu_stats, _field) }

#define DSW_SNAP(_name, _field) {					\
	DSW_STAT_FILE(_name, 0444, NULL),				\
	.src = DSW_SRC_SNAP,						\
	.offset = offsetof(struct dsw_bounce_snap, _field) }

#define DSW_HIWATER(_name, _field, _pool) {				\
	DSW_STAT_FILE(_name, 0644, dsw_hiwater_store),			\
	.src = DSW_SRC_SNAP,						\
	.offset = offsetof(struct dsw_bounce_snap, _field),		\
	.reset_pool = (_pool) }

static struct dsw_stat_attr dsw_stat_attrs[] = {
	DSW_STAT(DSW_STAT_MAPS, maps),
	DSW_STAT(DSW_STAT_DIRECT, direct),
	DSW_STAT(DSW_STAT_STATIC, static_hits),
	DSW_STAT(DSW_STAT_DYNAMIC, dynamic),
	DSW_STAT(DSW_STAT_FAILURES, failures),
	DSW_SNAP(DSW_STAT_LIVE_BUFFERS, nr_live),
	DSW_SNAP(DSW_STAT_LIVE_BYTES, live_bytes),
	DSW_SNAP(DSW_STAT_POOL_BYTES, pool_bytes),
	DSW_SNAP(DSW_STAT_FREE_BYTES, free_bytes),
	DSW_STAT(DSW_STAT_FAIL_TOO_LARGE, fail_too_large),
	DSW_STAT(DSW_STAT_FAIL_CAP, fail_cap),
	DSW_STAT(DSW_STAT_FAIL_NOMEM, fail_nomem),
	DSW_STAT(DSW_STAT_BYTES_TO_DEV, bytes_to_device),
	DSW_STAT(DSW_STAT_BYTES_FROM_DEV, bytes_from_device),
	DSW_SNAP(DSW_STAT_CHUNK_ALLOCS, chunk_allocs),
	DSW_SNAP(DSW_STAT_CHUNK_FREES, chunk_frees),
	DSW_HIWATER(DSW_STAT_LIVE_HIWATER, live_hiwater, false),
	DSW_HIWATER(DSW_STAT_POOL_HIWATER, pool_hiwater, true),
	DSW_STAT(DSW_STAT_DYNAMIC_NS, dynamic_ns),
	DSW_STAT(DSW_STAT_DYNAMIC_TASK, dynamic_ctx[DSW_CTX_TASK]),
	DSW_STAT(DSW_STAT_DYNAMIC_ATOMIC, dynamic_ctx[DSW_CTX_ATOMIC]),
	DSW_STAT(DSW_STAT_DYNAMIC_IRQ, dynamic_ctx[DSW_CTX_IRQ]),
	DSW_STAT(DSW_STAT_LOCK_CONTENDED, lock_contended),
};

static struct attribute *dsw_stat_attr_list[ARRAY_SIZE(dsw_stat_attrs) + 1];

/* The statistics/ directory, a default group of a device's directory. */
const struct attribute_group dsw_stats_group = {
	.name = DSW_SYSFS_STATISTICS,
	.attrs = dsw_stat_attr_list,
};

/**
 * dsw_stats_init() - list the statistics files
 *
 * Context: before any device directory is created.
 */
void __init dsw_stats_init(void)
{
	unsigned int i;

	/* The snapshot's counts are all read as unsigned long. */
	BUILD_BUG_ON(sizeof(size_t) != sizeof(unsigned long));
	for (i = 0; i < ARRAY_SIZE(dsw_stat_attrs); i++)
		dsw_stat_attr_list[i] = &dsw_stat_attrs[i].attr.attr;
}
