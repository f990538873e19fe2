/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_POLICY_H
#define DSW_POLICY_H

#include <linux/types.h>

struct dsw_shim;
struct kobject;

enum dsw_mode {
	DSW_MODE_STATIC_FIRST,	/* static swiotlb, then dynamic buffers */
	DSW_MODE_DYNAMIC_ONLY,	/* dynamic buffers only: never the shared pool */
	DSW_MODE_OFF,		/* pass-through, as without the module */
};

/* Largest cap, KiB (16 GiB). */
#define DSW_KB_MAX		(16U << 20)
/* Largest reserve watermark, KiB (256 MiB). */
#define DSW_RESERVE_KB_MAX	(256U << 10)

/**
 * struct dsw_policy - a device's growth policy (see policy.c)
 * @mode: enum dsw_mode
 * @force_bounce: bounce every mapping, even memory the device can reach
 * @max_kb: cap on the device's dynamic memory (0: none)
 * @chunk_kb: growth granule
 * @reserve_low_kb: refill the reserve when free memory falls below this
 * @reserve_high_kb: refill up to this; idle memory above it is given back
 * @shrink_delay_ms: how long memory must be idle before it is given back
 * @max_map_kb: largest mapping advertised to drivers (0: the kernel's)
 *
 * Each field is one unsigned int, written with WRITE_ONCE() and read with
 * READ_ONCE(), so the data path never sees a torn value.
 */
struct dsw_policy {
	unsigned int mode;
	unsigned int force_bounce;
	unsigned int max_kb;
	unsigned int chunk_kb;
	unsigned int reserve_low_kb;
	unsigned int reserve_high_kb;
	unsigned int shrink_delay_ms;
	unsigned int max_map_kb;
};

extern unsigned int dsw_max_total_kb;

int dsw_policy_init(void);
const char *dsw_mode_name(unsigned int mode);
void dsw_policy_defaults(struct dsw_policy *p);
int dsw_policy_sysfs_add(struct dsw_shim *shim, struct kobject *parent);
void dsw_policy_sysfs_remove(struct dsw_shim *shim);
struct dsw_shim *dsw_policy_kobj_shim(struct kobject *kobj);

#endif /* DSW_POLICY_H */
