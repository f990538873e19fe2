/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_BOUNCE_H
#define DSW_BOUNCE_H

#include <linux/dma-direction.h>
#include <linux/seq_file.h>
#include <linux/types.h>

struct dsw_shim;

/* Allocation failures injected for tests (debugfs DSW_DEBUGFS_INJECT). */
enum dsw_inject {
	DSW_INJECT_NONE,	/* none */
	DSW_INJECT_NOWAIT,	/* allocations that may not sleep fail */
	DSW_INJECT_EVERY,	/* every chunk allocation fails */
	DSW_INJECT_NR
};

int dsw_bounce_init(struct dsw_shim *shim);
void dsw_bounce_exit(struct dsw_shim *shim);
dma_addr_t dsw_bounce_map(struct dsw_shim *shim, phys_addr_t phys,
			  size_t size, enum dma_data_direction dir);
bool dsw_bounce_unmap(struct dsw_shim *shim, dma_addr_t dma, size_t size,
		      enum dma_data_direction dir, unsigned long attrs);
bool dsw_bounce_sync(struct dsw_shim *shim, dma_addr_t dma, size_t size,
		     enum dma_data_direction dir, bool for_cpu);
size_t dsw_bounce_max_mapping(struct dsw_shim *shim);
void dsw_bounce_show(struct dsw_shim *shim, struct seq_file *m);
int dsw_bounce_cache_init(void);
void dsw_bounce_cache_exit(void);

#endif /* DSW_BOUNCE_H */
