/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_STATS_H
#define DSW_STATS_H

#include <linux/init.h>
#include <linux/sysfs.h>

struct dsw_pcpu_stats;
struct dsw_shim;

extern const struct attribute_group dsw_stats_group;

void dsw_stats_init(void);
void dsw_stats_sum(struct dsw_shim *shim, struct dsw_pcpu_stats *sum);

#endif /* DSW_STATS_H */
