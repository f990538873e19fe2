/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_BOUNCE_H
#define DSW_BOUNCE_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct dsw_shim;

/* Allocation failures injected for tests (debugfs DSW_DEBUGFS_INJECT). */
enum dsw_inject {
	DSW_INJECT_NONE,	/* none */
	DSW_INJECT_NOWAIT,	/* allocations that may not sleep fail */
	DSW_INJECT_EVERY,	/* every chunk allocation fails */
	DSW_INJECT_NR
};

/**
 * struct dsw_bounce_snap - a device's bounce counts (a consistent copy is
 *	what dsw_bounce_snapshot() returns)
 * @nr_live: live dynamic buffers; in struct dsw_bounce written under its
 *	lock with smp_store_release(), read without it by dsw_bounce_busy()
 * @live_bytes: their mapped bytes
 * @pool_bytes: bytes of all chunks
 * @free_bytes: bytes of all chunks not allocated to a buffer
 * @live_hiwater: highest @live_bytes since attach or the last reset
 * @pool_hiwater: highest @pool_bytes since attach or the last reset
 * @chunk_allocs: chunks allocated so far
 * @chunk_frees: chunks given back so far
 */
struct dsw_bounce_snap {
	unsigned long nr_live;
	size_t live_bytes;
	size_t pool_bytes;
	size_t free_bytes;
	size_t live_hiwater;
	size_t pool_hiwater;
	unsigned long chunk_allocs;
	unsigned long chunk_frees;
};

/**
 * struct dsw_bounce - a device's dynamic bounce memory; only bounce.c
 *	touches it, everyone else goes through the functions below
 * @lock: protects @chunks, their bitmaps, @tree and @n
 * @chunks: bounce memory chunks (struct dsw_chunk)
 * @tree: live dynamic buffers by DMA address (struct dsw_buf)
 * @n: the counts
 * @want_bytes: size of a chunk a mapping needed and could not get without
 *	sleeping: the work item allocates it (0: none wanted)
 * @promised: the largest mapping size told to the bound driver
 *	(max_mapping_size); while it exceeds a chunk, one chunk that can hold
 *	it is always kept (0: none told)
 * @committed: bytes of chunks allocated or being allocated, for the caps
 * @inject: enum dsw_inject, allocation failures injected (debugfs)
 * @work: grows the reserve (and chunks mappings wanted), gives idle chunks
 *	back, in process context
 */
struct dsw_bounce {
	spinlock_t lock;		/* chunks, tree, counts */
	struct list_head chunks;
	struct rb_root tree;
	struct dsw_bounce_snap n;
	size_t want_bytes;
	size_t promised;
	atomic_long_t committed;
	unsigned int inject;
	struct delayed_work work;
};

int dsw_bounce_init(struct dsw_shim *shim);
void dsw_bounce_exit(struct dsw_shim *shim);
dma_addr_t dsw_bounce_map(struct dsw_shim *shim, phys_addr_t phys,
			  size_t size, enum dma_data_direction dir, u8 ctx);
bool dsw_bounce_unmap(struct dsw_shim *shim, dma_addr_t dma, size_t size,
		      enum dma_data_direction dir, unsigned long attrs);
bool dsw_bounce_sync(struct dsw_shim *shim, dma_addr_t dma, size_t size,
		     enum dma_data_direction dir, bool for_cpu);
size_t dsw_bounce_max_mapping(struct dsw_shim *shim);
size_t dsw_bounce_default_mapping(struct dsw_shim *shim);
unsigned long dsw_bounce_busy(struct dsw_shim *shim);
void dsw_bounce_snapshot(struct dsw_shim *shim, struct dsw_bounce_snap *s);
void dsw_bounce_reset_hiwater(struct dsw_shim *shim, bool pool);
unsigned int dsw_bounce_inject(struct dsw_shim *shim);
unsigned int dsw_bounce_set_inject(struct dsw_shim *shim, unsigned int val);
void dsw_bounce_rebalance(struct dsw_shim *shim);
void dsw_bounce_promise(struct dsw_shim *shim, size_t size);
void dsw_bounce_promise_reset(struct dsw_shim *shim);
void dsw_bounce_show(struct dsw_shim *shim, struct seq_file *m);
int dsw_bounce_cache_init(void);
void dsw_bounce_cache_exit(void);

#endif /* DSW_BOUNCE_H */
