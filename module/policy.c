// SPDX-License-Identifier: GPL-2.0
/*
 * Growth policy: the knobs, their defaults (module parameters) and their
 * per-device values (sysfs).
 *
 * Every knob is described once, in dsw_knobs[]: its name, where it lives in
 * struct dsw_policy, its range and how it is parsed.  The same table
 * validates module parameters (the defaults for devices attached later)
 * and the per-device files under /sys/kernel/dynswiotlb/devices/<name>/.
 * A write is parsed and checked completely before anything is stored, so a
 * malformed or out-of-range value (-EINVAL) changes nothing.  Each knob is
 * one word, stored with WRITE_ONCE() and read with READ_ONCE() on the data
 * path, so it can change under load; docs/sysfs-ABI.md describes them.
 */

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "bounce.h"
#include "params.h"
#include "policy.h"
#include "shim.h"
#include "stats.h"

static const char *const dsw_mode_names[] = {
	[DSW_MODE_STATIC_FIRST] = DSW_MODE_STATIC_FIRST_NAME,
	[DSW_MODE_DYNAMIC_ONLY] = DSW_MODE_DYNAMIC_ONLY_NAME,
	[DSW_MODE_OFF] = DSW_MODE_OFF_NAME,
	NULL,
};

/**
 * dsw_mode_name() - the word for a mode, as the mode files show it
 * @mode: enum dsw_mode
 *
 * Return: a static string.
 */
const char *dsw_mode_name(unsigned int mode)
{
	return mode <= DSW_MODE_OFF ? dsw_mode_names[mode] : "?";
}

/**
 * struct dsw_knob - one policy knob
 * @name: file and parameter name
 * @offset: offsetof() the value in struct dsw_policy
 * @min: smallest value
 * @max: largest value
 * @nz_min: if not 0, the smallest value but 0 (0 meaning "none")
 * @pow2: the value must be a power of two
 * @names: for a choice, its words (the value is the index)
 */
struct dsw_knob {
	const char *name;
	size_t offset;
	unsigned int min;
	unsigned int max;
	unsigned int nz_min;
	bool pow2;
	const char *const *names;
};

#define DSW_KNOB(n, lo, hi, p2, nm) {					\
	.name = #n, .offset = offsetof(struct dsw_policy, n),		\
	.min = (lo), .max = (hi), .pow2 = (p2), .names = (nm) }

enum {
	DSW_K_MODE, DSW_K_FORCE_BOUNCE, DSW_K_MAX_KB, DSW_K_CHUNK_KB,
	DSW_K_RESERVE_LOW_KB, DSW_K_RESERVE_HIGH_KB, DSW_K_SHRINK_DELAY_MS,
	DSW_K_MAX_MAP_KB, DSW_K_NR
};

static const struct dsw_knob dsw_knobs[DSW_K_NR] = {
	[DSW_K_MODE] = DSW_KNOB(mode, 0, DSW_MODE_OFF, false, dsw_mode_names),
	[DSW_K_FORCE_BOUNCE] = DSW_KNOB(force_bounce, 0, 1, false, NULL),
	[DSW_K_MAX_KB] = DSW_KNOB(max_kb, 0, DSW_KB_MAX, false, NULL),
	[DSW_K_CHUNK_KB] = DSW_KNOB(chunk_kb, 64, 4096, true, NULL),
	[DSW_K_RESERVE_LOW_KB] = DSW_KNOB(reserve_low_kb, 0, DSW_RESERVE_KB_MAX,
					  false, NULL),
	[DSW_K_RESERVE_HIGH_KB] = DSW_KNOB(reserve_high_kb, 0,
					   DSW_RESERVE_KB_MAX, false, NULL),
	[DSW_K_SHRINK_DELAY_MS] = DSW_KNOB(shrink_delay_ms, 0, 3600000, false,
					   NULL),
	/* 0 (the kernel's limit), else at least a page */
	[DSW_K_MAX_MAP_KB] = { .name = "max_map_kb",
			       .offset = offsetof(struct dsw_policy, max_map_kb),
			       .min = 0, .max = 4096, .nz_min = PAGE_SIZE >> 10 },
};

/* Defaults for devices attached from now on (module parameters). */
static struct dsw_policy dsw_defaults = {
	.mode = DSW_MODE_STATIC_FIRST,
	.force_bounce = 0,
	.max_kb = 0,
	.chunk_kb = 1024,
	.reserve_low_kb = 1024,
	.reserve_high_kb = 2048,
	.shrink_delay_ms = 1000,
	.max_map_kb = 0,
};

/* Global cap on the dynamic memory of all devices, KiB (0: none). */
unsigned int dsw_max_total_kb;

static unsigned int *dsw_knob_ptr(struct dsw_policy *p,
				  const struct dsw_knob *k)
{
	return (unsigned int *)((char *)p + k->offset);
}

/*
 * Parse @buf for @k into @val: a word of @k->names, or a decimal number in
 * range.  Return NULL or the reason it is not valid.
 */
static const char *dsw_knob_parse(const struct dsw_knob *k, const char *buf,
				  unsigned int *val)
{
	char word[24];
	size_t len = strcspn(buf, "\n");
	unsigned int i;

	if (!len || len >= sizeof(word) || (buf[len] && buf[len + 1]))
		return "expected one value";
	memcpy(word, buf, len);
	word[len] = '\0';
	if (k->names) {
		for (i = 0; k->names[i]; i++) {
			if (!strcmp(word, k->names[i])) {
				*val = i;
				return NULL;
			}
		}
		return "unknown word";
	}
	if (kstrtouint(word, 10, val))
		return "not a decimal number";
	if (*val < k->min || *val > k->max)
		return "out of range";
	if (*val && *val < k->nz_min)
		return "0 or at least a page";
	if (k->pow2 && !is_power_of_2(*val))
		return "not a power of two";
	return NULL;
}

/* Values that must agree with each other. */
static const char *dsw_policy_check(const struct dsw_policy *p)
{
	if (p->reserve_low_kb > p->reserve_high_kb)
		return "reserve_low_kb above reserve_high_kb";
	return NULL;
}

/*
 * Set knob @k of @p from @buf, all or nothing; @lock serialises writers of
 * @p.  Unless @alone, the new value must agree with the other knobs (at
 * load time they are checked together once all are parsed).  Logs one
 * line naming @who on failure.
 */
static int dsw_knob_store(struct dsw_policy *p, spinlock_t *lock,
			  const struct dsw_knob *k, const char *who,
			  const char *buf, bool alone)
{
	struct dsw_policy next;
	const char *reason;
	unsigned int val;

	reason = dsw_knob_parse(k, buf, &val);
	if (!reason) {
		spin_lock(lock);
		next = *p;
		*dsw_knob_ptr(&next, k) = val;
		reason = alone ? NULL : dsw_policy_check(&next);
		if (!reason)
			WRITE_ONCE(*dsw_knob_ptr(p, k), val);
		spin_unlock(lock);
	}
	if (!reason)
		return 0;
	pr_err("%s: %s: \"%.*s\": %s\n", who, k->name,
	       (int)min_t(size_t, strcspn(buf, "\n"), 32), buf, reason);
	return -EINVAL;
}

static int dsw_knob_show(const struct dsw_policy *p, const struct dsw_knob *k,
			 char *buf)
{
	unsigned int val = READ_ONCE(*dsw_knob_ptr((struct dsw_policy *)p, k));

	if (k->names)
		return sysfs_emit(buf, "%s\n", k->names[val]);
	return sysfs_emit(buf, "%u\n", val);
}

/* ---- module parameters: the defaults ---- */

static DEFINE_SPINLOCK(dsw_defaults_lock);

static int dsw_param_set(const char *val, const struct kernel_param *kp)
{
	if (dsw_knob_store(&dsw_defaults, &dsw_defaults_lock, kp->arg,
			   "parameter", val, dsw_params_at_load()))
		return dsw_params_refuse();
	return 0;
}

static int dsw_param_get(char *buf, const struct kernel_param *kp)
{
	return dsw_knob_show(&dsw_defaults, kp->arg, buf);
}

static const struct kernel_param_ops dsw_param_ops = {
	.set = dsw_param_set,
	.get = dsw_param_get,
};

#define DSW_PARAM(idx, n, type, desc)					\
	module_param_cb(n, &dsw_param_ops, (void *)&dsw_knobs[idx], 0644); \
	__MODULE_PARM_TYPE(n, type);					\
	MODULE_PARM_DESC(n, desc)

DSW_PARAM(DSW_K_MODE, mode, "charp",
	  "Default mode of newly attached devices: static-first (kernel's static swiotlb first, dynamic buffers on overflow; default), dynamic-only (never the shared static pool), off (pass-through)");
DSW_PARAM(DSW_K_FORCE_BOUNCE, force_bounce, "uint",
	  "Default for new devices: 1 bounces every mapping through dynamic buffers, even memory the device could reach (0)");
DSW_PARAM(DSW_K_MAX_KB, max_kb, "uint",
	  "Default cap on a new device's dynamic memory, KiB; 0 = none (0)");
DSW_PARAM(DSW_K_CHUNK_KB, chunk_kb, "uint",
	  "Default growth granule, KiB, a power of two from 64 to 4096 (1024)");
DSW_PARAM(DSW_K_RESERVE_LOW_KB, reserve_low_kb, "uint",
	  "Default reserve low watermark, KiB: free dynamic memory below it is refilled in process context (1024)");
DSW_PARAM(DSW_K_RESERVE_HIGH_KB, reserve_high_kb, "uint",
	  "Default reserve high watermark, KiB: refill target, and idle memory above it is given back (2048)");
DSW_PARAM(DSW_K_SHRINK_DELAY_MS, shrink_delay_ms, "uint",
	  "Default idle time before free dynamic memory above the reserve is given back, ms, up to 3600000 (1000)");
DSW_PARAM(DSW_K_MAX_MAP_KB, max_map_kb, "uint",
	  "Default largest dynamic mapping advertised to drivers, KiB, up to 4096; 0 = the kernel's own limit (0)");

static int dsw_total_set(const char *val, const struct kernel_param *kp)
{
	unsigned int kb;

	if (kstrtouint(val, 10, &kb) || kb > DSW_KB_MAX) {
		pr_err("parameter: max_total_kb: \"%.*s\": not a number from 0 to %u\n",
		       (int)min_t(size_t, strcspn(val, "\n"), 32), val,
		       DSW_KB_MAX);
		return dsw_params_refuse();
	}
	WRITE_ONCE(dsw_max_total_kb, kb);
	return 0;
}

static const struct kernel_param_ops dsw_total_ops = {
	.set = dsw_total_set,
	.get = param_get_uint,
};

module_param_cb(max_total_kb, &dsw_total_ops, &dsw_max_total_kb, 0644);
__MODULE_PARM_TYPE(max_total_kb, "uint");
MODULE_PARM_DESC(max_total_kb,
		 "Cap on the dynamic memory of all devices together, KiB; 0 = none (0); changeable at any time");

/**
 * dsw_policy_defaults() - the policy a newly attached device starts with
 * @p: filled with the current defaults
 */
void dsw_policy_defaults(struct dsw_policy *p)
{
	spin_lock(&dsw_defaults_lock);
	*p = dsw_defaults;
	spin_unlock(&dsw_defaults_lock);
}

/* ---- per-device sysfs files ---- */

/*
 * A device's policy directory.  Its lifetime is the kobject's own, which
 * may end after the shim is freed (the release can be deferred); the shim
 * is only used by the files' show and store, which kobject_del() drains.
 */
struct dsw_dev_kobj {
	struct kobject kobj;
	struct dsw_shim *shim;
};

struct dsw_knob_attr {
	struct kobj_attribute attr;
	const struct dsw_knob *knob;
};

/**
 * dsw_policy_kobj_shim() - the shim of a device's directory
 * @kobj: /sys/kernel/dynswiotlb/devices/<name>/, as given to the show and
 *	store functions of its files and of its groups' files
 *
 * Context: in a show or store of one of those files, which kobject_del()
 * drains before the shim is freed.
 * Return: the device's shim.
 */
struct dsw_shim *dsw_policy_kobj_shim(struct kobject *kobj)
{
	return container_of(kobj, struct dsw_dev_kobj, kobj)->shim;
}

static ssize_t dsw_dev_knob_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	struct dsw_shim *shim = dsw_policy_kobj_shim(kobj);
	const struct dsw_knob_attr *ka =
		container_of(attr, struct dsw_knob_attr, attr);

	return dsw_knob_show(&shim->policy, ka->knob, buf);
}

static ssize_t dsw_dev_knob_store(struct kobject *kobj,
				  struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	struct dsw_shim *shim = dsw_policy_kobj_shim(kobj);
	const struct dsw_knob_attr *ka =
		container_of(attr, struct dsw_knob_attr, attr);
	int ret;

	ret = dsw_knob_store(&shim->policy, &shim->policy_lock, ka->knob,
			     dev_name(shim->dev), buf, false);
	if (ret)
		return ret;
	dsw_bounce_rebalance(shim);
	return count;
}

#define DSW_KNOB_ATTR(idx) {						\
	.attr = __ATTR(dummy, 0644, dsw_dev_knob_show, dsw_dev_knob_store), \
	.knob = &dsw_knobs[idx] }

static struct dsw_knob_attr dsw_knob_attrs[ARRAY_SIZE(dsw_knobs)];
static struct attribute *dsw_dev_attrs[ARRAY_SIZE(dsw_knobs) + 1];

static const struct attribute_group dsw_dev_group = {
	.attrs = dsw_dev_attrs,
};

static const struct attribute_group *dsw_dev_groups[] = {
	&dsw_dev_group,
	&dsw_stats_group,
	NULL,
};

static void dsw_dev_kobj_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct dsw_dev_kobj, kobj));
	dsw_release_put();
}

static struct kobj_type dsw_dev_ktype = {
	.release = dsw_dev_kobj_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = dsw_dev_groups,
};

/**
 * dsw_policy_sysfs_add() - create /sys/kernel/dynswiotlb/devices/<name>/
 * @shim: the device's shim, with its policy set
 * @parent: the devices/ directory
 *
 * Return: 0 or a negative errno.
 */
int dsw_policy_sysfs_add(struct dsw_shim *shim, struct kobject *parent)
{
	struct dsw_dev_kobj *dk;
	int ret;

	dk = kzalloc(sizeof(*dk), GFP_KERNEL);
	if (!dk)
		return -ENOMEM;
	dk->shim = shim;
	dsw_release_get();
	ret = kobject_init_and_add(&dk->kobj, &dsw_dev_ktype, parent, "%s",
				   dev_name(shim->dev));
	if (ret) {
		kobject_put(&dk->kobj);
		return ret;
	}
	shim->kobj = &dk->kobj;
	return 0;
}

/**
 * dsw_policy_sysfs_remove() - remove a device's policy directory
 * @shim: the device's shim
 *
 * Waits for running reads and writes, so the shim may be freed after.
 */
void dsw_policy_sysfs_remove(struct dsw_shim *shim)
{
	if (!shim->kobj)
		return;
	kobject_del(shim->kobj);
	kobject_put(shim->kobj);
	shim->kobj = NULL;
}

/**
 * dsw_policy_init() - check the load-time defaults, build the attributes
 *
 * Context: after dsw_params_check(), the parameters all parsed.
 * Return: 0, or -EINVAL (one log line) if the defaults disagree.
 */
int __init dsw_policy_init(void)
{
	const char *reason = dsw_policy_check(&dsw_defaults);
	unsigned int i;

	if (reason) {
		pr_err("parameter: reserve_low_kb: \"%u\": %s (%u)\n",
		       dsw_defaults.reserve_low_kb, reason,
		       dsw_defaults.reserve_high_kb);
		return -EINVAL;
	}

	for (i = 0; i < ARRAY_SIZE(dsw_knobs); i++) {
		dsw_knob_attrs[i] = (struct dsw_knob_attr)DSW_KNOB_ATTR(i);
		dsw_knob_attrs[i].attr.attr.name = dsw_knobs[i].name;
		dsw_dev_attrs[i] = &dsw_knob_attrs[i].attr.attr;
	}
	return 0;
}
