// SPDX-License-Identifier: GPL-2.0
/*
 * Dynamic bounce buffers: the memory a device bounces through when the
 * kernel's static swiotlb pool cannot map a buffer.
 *
 * Memory comes in chunks, physically contiguous and naturally aligned
 * blocks from dma_alloc_pages() on the device's bounce shadow, so they are
 * reachable under the device's streaming DMA mask and bus limit and, where
 * memory is encrypted, decrypted.  A chunk is cut into 512-byte slots
 * tracked by a bitmap; a buffer takes a run of slots placed so that
 *   - the low bits of its DMA address under the device's min_align_mask
 *     equal those of the original (NVMe relies on it),
 *   - mappings of a page or more start on a page boundary,
 *   - it does not cross the device's DMA segment boundary.
 *
 * Context: map, unmap and sync may run in any context, interrupts included,
 * and never sleep.  A map first looks for free slots in the chunks the
 * device already has (a reserve is kept ready for that); only if none fits
 * does it allocate a new chunk with GFP_NOWAIT (which, with memory
 * encryption, comes from the kernel's pre-decrypted atomic pool).  Growing
 * the reserve back and giving idle chunks back to the system happen in
 * process context, in the device's work item, because re-encrypting memory
 * may sleep.
 *
 * Lookup: live buffers sit in a red-black tree keyed by DMA address, so
 * unmap and sync find the buffer holding any address in O(log n), including
 * addresses inside a buffer (dma_sync_single_range_*).  One spinlock per
 * device protects the chunks, the tree and the counts; data is copied
 * outside it (the DMA API forbids racing unmap or sync of one mapping).
 */

#include <linux/bitmap.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rbtree.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "bounce.h"
#include "shim.h"
#include "trace.h"

#define DSW_SLOT_SHIFT		9
#define DSW_SLOT_SIZE		BIT(DSW_SLOT_SHIFT)

/* Buffer descriptors kept for mappings when slab allocation fails. */
#define DSW_BUF_MEMPOOL_MIN	64

/**
 * struct dsw_chunk - a block of bounce memory
 * @node: in dsw_shim.chunks
 * @page: first page, from dma_alloc_pages()
 * @vaddr: kernel address of the block
 * @dma: DMA address of the block for the device
 * @size: bytes
 * @nslots: slots of DSW_SLOT_SIZE in the block
 * @nfree: free slots
 * @idle_since: jiffies when the block last became entirely free
 * @map: one bit per slot, set when allocated
 */
struct dsw_chunk {
	struct list_head node;
	struct page *page;
	void *vaddr;
	dma_addr_t dma;
	size_t size;
	unsigned int nslots;
	unsigned int nfree;
	unsigned long idle_since;
	unsigned long map[];
};

/**
 * struct dsw_buf - a live dynamic mapping
 * @rb: in dsw_shim.tree, keyed by @dma
 * @dma: the DMA address handed to the driver
 * @orig: physical address of the driver's memory
 * @vaddr: kernel address of the bounce memory at @dma
 * @size: length of the mapping
 * @chunk: the chunk holding it
 * @slot: first slot taken in @chunk
 * @nslots: slots taken
 * @dir: direction it was mapped with
 * @ctx: context of the map call (enum dsw_ctx)
 * @mapped_at: jiffies at map time
 */
struct dsw_buf {
	struct rb_node rb;
	dma_addr_t dma;
	phys_addr_t orig;
	void *vaddr;
	size_t size;
	struct dsw_chunk *chunk;
	unsigned int slot;
	unsigned int nslots;
	u8 dir;
	u8 ctx;
	unsigned long mapped_at;
};

static mempool_t *dsw_buf_pool;
/* Dynamic memory of all devices, for the global cap (max_total_kb). */
static atomic_long_t dsw_total_bytes = ATOMIC_LONG_INIT(0);

/* Policy values in bytes / jiffies. */
static size_t dsw_chunk_bytes(struct dsw_shim *shim)
{
	return (size_t)READ_ONCE(shim->policy.chunk_kb) << 10;
}

static size_t dsw_low_bytes(struct dsw_shim *shim)
{
	return (size_t)READ_ONCE(shim->policy.reserve_low_kb) << 10;
}

static size_t dsw_high_bytes(struct dsw_shim *shim)
{
	return (size_t)READ_ONCE(shim->policy.reserve_high_kb) << 10;
}

static unsigned long dsw_shrink_delay(struct dsw_shim *shim)
{
	return msecs_to_jiffies(READ_ONCE(shim->policy.shrink_delay_ms));
}

/*
 * Account @size more bytes of dynamic memory for @shim if neither its cap
 * nor the global one forbids it; dsw_uncommit() gives them back.
 */
static bool dsw_commit(struct dsw_shim *shim, size_t size)
{
	unsigned long max = (unsigned long)READ_ONCE(shim->policy.max_kb) << 10;
	unsigned long tot = (unsigned long)READ_ONCE(dsw_max_total_kb) << 10;

	if (max && atomic_long_add_return(size, &shim->bounce.committed) > max)
		goto undo_dev;
	if (!max)
		atomic_long_add(size, &shim->bounce.committed);
	if (tot && atomic_long_add_return(size, &dsw_total_bytes) > tot)
		goto undo_total;
	if (!tot)
		atomic_long_add(size, &dsw_total_bytes);
	return true;

undo_total:
	atomic_long_sub(size, &dsw_total_bytes);
undo_dev:
	atomic_long_sub(size, &shim->bounce.committed);
	return false;
}

static void dsw_uncommit(struct dsw_shim *shim, size_t size)
{
	atomic_long_sub(size, &dsw_total_bytes);
	atomic_long_sub(size, &shim->bounce.committed);
}

/**
 * dsw_bounce_max_mapping() - the largest mapping the dynamic path takes
 * @shim: the device's shim
 *
 * One chunk of the largest order the page allocator hands out, and no
 * larger than the device's and the global cap allow, less the room
 * alignment may cost: a mapping no larger than this can always be served
 * once memory is free (see dsw_bounce_map()).
 *
 * Return: a size in bytes.
 */
size_t dsw_bounce_max_mapping(struct dsw_shim *shim)
{
	size_t max = PAGE_SIZE << DSW_MAX_PAGE_ORDER;
	size_t cap = (size_t)READ_ONCE(shim->policy.max_kb) << 10;
	size_t tot = (size_t)READ_ONCE(dsw_max_total_kb) << 10;
	unsigned int mask = dma_get_min_align_mask(shim->dev);

	/* A chunk larger than a cap could never be had: never advertise it. */
	if (cap)
		max = min(max, rounddown_pow_of_two(cap));
	if (tot)
		max = min(max, rounddown_pow_of_two(tot));
	if (max <= PAGE_SIZE)
		return 0;
	return max - max_t(size_t, mask + 1UL, PAGE_SIZE);
}

/**
 * dsw_bounce_default_mapping() - the largest mapping advertised when the
 *	policy names none (max_map_kb 0)
 * @shim: the device's shim
 *
 * What one growth chunk holds: the reserve and its refill provide it, so
 * no mapping a driver is invited to make depends on an allocation of a
 * higher order than the policy's own.  Larger ones are opted into with
 * max_map_kb, and kept possible by dsw_bounce_promise().
 *
 * Return: a size in bytes.
 */
size_t dsw_bounce_default_mapping(struct dsw_shim *shim)
{
	unsigned int mask = dma_get_min_align_mask(shim->dev);
	size_t slack = max_t(size_t, mask + 1UL, PAGE_SIZE);
	size_t chunk = dsw_chunk_bytes(shim);

	return min(dsw_bounce_max_mapping(shim),
		   chunk > slack ? chunk - slack : PAGE_SIZE);
}

/* Highest DMA address the device can reach for streaming DMA. */
static u64 dsw_dma_limit(struct device *dev)
{
	return min_not_zero(*dev->dma_mask, dev->bus_dma_limit);
}

/* @c lies (partly) beyond @limit: the device cannot use it now. */
static bool dsw_chunk_beyond(const struct dsw_chunk *c, u64 limit)
{
	return c->dma + c->size - 1 > limit;
}

/*
 * A new chunk of @size bytes, or an ERR_PTR(): -ENOSPC when a cap forbids
 * it, -ENOMEM when memory cannot be had with @gfp.
 */
static struct dsw_chunk *dsw_chunk_alloc(struct dsw_shim *shim, size_t size,
					 gfp_t gfp)
{
	struct device *dev = shim->dev;
	struct device *bsh = shim->bshadow;
	unsigned int nslots = size >> DSW_SLOT_SHIFT;
	unsigned int inject = READ_ONCE(shim->bounce.inject);
	struct dsw_chunk *c;

	if (inject == DSW_INJECT_EVERY ||
	    (inject == DSW_INJECT_NOWAIT && !gfpflags_allow_blocking(gfp)))
		return ERR_PTR(-ENOMEM);
	if (!dsw_commit(shim, size))
		return ERR_PTR(-ENOSPC);
	c = kzalloc(struct_size(c, map, BITS_TO_LONGS(nslots)), gfp);
	if (!c) {
		dsw_uncommit(shim, size);
		return ERR_PTR(-ENOMEM);
	}
	/*
	 * Allocate under the streaming limit: dma_alloc_pages() honours the
	 * coherent mask and bus limit, so mirror the current streaming mask
	 * into the bounce shadow's coherent mask.  Racing callers write the
	 * same values.
	 */
	WRITE_ONCE(bsh->coherent_dma_mask, *dev->dma_mask);
	WRITE_ONCE(bsh->bus_dma_limit, dev->bus_dma_limit);
	/* Costly orders may compact when sleeping, but must not OOM-kill. */
	if (gfpflags_allow_blocking(gfp) &&
	    get_order(size) > PAGE_ALLOC_COSTLY_ORDER)
		gfp |= __GFP_RETRY_MAYFAIL;
	c->page = dma_alloc_pages(bsh, size, &c->dma, DMA_BIDIRECTIONAL,
				  gfp | __GFP_NOWARN);
	if (!c->page) {
		kfree(c);
		dsw_uncommit(shim, size);
		return ERR_PTR(-ENOMEM);
	}
	c->vaddr = page_address(c->page);
	c->size = size;
	c->nslots = nslots;
	c->nfree = nslots;
	c->idle_since = jiffies;
	return c;
}

/* Process context only: giving back decrypted memory may sleep. */
static void dsw_chunk_free(struct dsw_shim *shim, struct dsw_chunk *c)
{
	dma_free_pages(shim->bshadow, c->size, c->page, c->dma,
		       DMA_BIDIRECTIONAL);
	dsw_uncommit(shim, c->size);
	kfree(c);
}

static void dsw_chunk_add(struct dsw_shim *shim, struct dsw_chunk *c)
{
	lockdep_assert_held(&shim->bounce.lock);
	list_add_tail(&c->node, &shim->bounce.chunks);
	shim->bounce.n.pool_bytes += c->size;
	shim->bounce.n.free_bytes += c->size;
	shim->bounce.n.chunk_allocs++;
	shim->bounce.n.pool_hiwater = max(shim->bounce.n.pool_hiwater, shim->bounce.n.pool_bytes);
	trace_dsw_grow(shim->dev, c->size, shim->bounce.n.pool_bytes);
}

/*
 * Find @nslots free slots in @c whose first slot is aligned to
 * @align_slots (a power of two) and whose bytes [0, @need) from the start
 * do not cross a multiple of @boundary + 1 in DMA address space.
 * Return the first slot, or -1.
 */
static long dsw_chunk_find(struct dsw_chunk *c, unsigned int nslots,
			   unsigned long align_slots, size_t need,
			   u64 boundary)
{
	unsigned long start = 0, slot;
	u64 first, last;

	if (c->nfree < nslots)
		return -1;
	for (;;) {
		slot = bitmap_find_next_zero_area(c->map, c->nslots, start,
						  nslots, align_slots - 1);
		if (slot >= c->nslots)
			return -1;
		first = c->dma + ((u64)slot << DSW_SLOT_SHIFT);
		last = first + need - 1;
		if ((first | boundary) == (last | boundary))
			return slot;
		/* Crosses a segment boundary: try from the next one. */
		start = ((last & ~boundary) - c->dma) >> DSW_SLOT_SHIFT;
	}
}

/* Take slots for @need bytes at @align; fills @b's placement. */
static bool dsw_slots_take(struct dsw_shim *shim, struct dsw_buf *b,
			   size_t need, unsigned long align, u64 limit,
			   u64 boundary, struct dsw_chunk *only)
{
	unsigned int nslots = DIV_ROUND_UP(need, DSW_SLOT_SIZE);
	unsigned long align_slots = align >> DSW_SLOT_SHIFT;
	struct dsw_chunk *c;
	long slot;

	lockdep_assert_held(&shim->bounce.lock);
	list_for_each_entry(c, &shim->bounce.chunks, node) {
		if (only && c != only)
			continue;
		/*
		 * The mask may have shrunk since the chunk was allocated; and
		 * slot alignment is relative to the chunk's start.
		 */
		if (dsw_chunk_beyond(c, limit) || (c->dma & (align - 1)))
			continue;
		slot = dsw_chunk_find(c, nslots, align_slots, need, boundary);
		if (slot < 0)
			continue;
		bitmap_set(c->map, slot, nslots);
		c->nfree -= nslots;
		shim->bounce.n.free_bytes -= (size_t)nslots << DSW_SLOT_SHIFT;
		b->chunk = c;
		b->slot = slot;
		b->nslots = nslots;
		return true;
	}
	return false;
}

static void dsw_slots_put(struct dsw_shim *shim, struct dsw_buf *b)
{
	struct dsw_chunk *c = b->chunk;

	lockdep_assert_held(&shim->bounce.lock);
	bitmap_clear(c->map, b->slot, b->nslots);
	c->nfree += b->nslots;
	shim->bounce.n.free_bytes += (size_t)b->nslots << DSW_SLOT_SHIFT;
	if (c->nfree == c->nslots)
		c->idle_since = jiffies;
}

static void dsw_tree_insert(struct dsw_shim *shim, struct dsw_buf *b)
{
	struct rb_node **link = &shim->bounce.tree.rb_node, *parent = NULL;

	lockdep_assert_held(&shim->bounce.lock);
	while (*link) {
		parent = *link;
		if (b->dma < rb_entry(parent, struct dsw_buf, rb)->dma)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&b->rb, parent, link);
	rb_insert_color(&b->rb, &shim->bounce.tree);
}

/* The live buffer holding DMA address @dma, if any. */
static struct dsw_buf *dsw_tree_find(struct dsw_shim *shim, dma_addr_t dma)
{
	struct rb_node *n = shim->bounce.tree.rb_node;
	struct dsw_buf *b;

	lockdep_assert_held(&shim->bounce.lock);
	while (n) {
		b = rb_entry(n, struct dsw_buf, rb);
		if (dma < b->dma)
			n = n->rb_left;
		else if (dma - b->dma >= b->size)
			n = n->rb_right;
		else
			return b;
	}
	return NULL;
}

/*
 * Chunk size for a buffer needing @need bytes at @align: chunks are
 * naturally aligned, so a power of two covering both suffices.
 */
static size_t dsw_chunk_size_for(struct dsw_shim *shim, size_t need,
				 unsigned long align)
{
	size_t size = roundup_pow_of_two(max_t(size_t, need, align));

	return max_t(size_t, size, dsw_chunk_bytes(shim));
}

/* Count a successful dynamic mapping of @size bytes that took @ns. */
static void dsw_dyn_account(struct dsw_shim *shim, size_t size, u64 ns)
{
	unsigned int lat = ns ? ilog2(ns) : 0;
	unsigned int len = size ? ilog2(size) : 0;

	this_cpu_add(shim->stats->dynamic_ns, ns);
	this_cpu_inc(shim->stats->lat[min(lat, DSW_LAT_BUCKETS - 1U)]);
	this_cpu_inc(shim->stats->sizes[min(len, DSW_SIZE_BUCKETS - 1U)]);
}

/* Refill the reserve now. */
static void dsw_kick_grow(struct dsw_shim *shim)
{
	mod_delayed_work(dsw_wq, &shim->bounce.work, 0);
}

/* Look for idle chunks later; an already pending run is not postponed. */
static void dsw_kick_shrink(struct dsw_shim *shim)
{
	queue_delayed_work(dsw_wq, &shim->bounce.work, dsw_shrink_delay(shim));
}

/**
 * dsw_bounce_rebalance() - refill the reserve or give memory back now, as
 *	the current policy and injection settings say
 * @shim: the device's shim
 *
 * Context: any.
 */
void dsw_bounce_rebalance(struct dsw_shim *shim)
{
	dsw_kick_grow(shim);
}

/**
 * dsw_bounce_busy() - how many dynamic buffers are mapped
 * @shim: the device's shim
 *
 * Lockless.  A buffer mapped by a call that returned before this one
 * started (in the sense of the DMA API: the caller got its address) is
 * counted: the count is published with release semantics after the buffer
 * is in the tree.
 *
 * Return: the number of live dynamic buffers.
 */
unsigned long dsw_bounce_busy(struct dsw_shim *shim)
{
	/* Pairs with the smp_store_release() in dsw_bounce_map(). */
	return smp_load_acquire(&shim->bounce.n.nr_live);
}

/**
 * dsw_bounce_snapshot() - copy a device's bounce counts consistently
 * @shim: the device's shim
 * @s: filled in
 */
void dsw_bounce_snapshot(struct dsw_shim *shim, struct dsw_bounce_snap *s)
{
	struct dsw_bounce *bn = &shim->bounce;
	unsigned long flags;

	spin_lock_irqsave(&bn->lock, flags);
	*s = bn->n;
	spin_unlock_irqrestore(&bn->lock, flags);
}

/**
 * dsw_bounce_reset_hiwater() - restart a high-water mark from now
 * @shim: the device's shim
 * @pool: the pool's mark if true, else the live buffers'
 */
void dsw_bounce_reset_hiwater(struct dsw_shim *shim, bool pool)
{
	struct dsw_bounce *bn = &shim->bounce;
	unsigned long flags;

	spin_lock_irqsave(&bn->lock, flags);
	if (pool)
		bn->n.pool_hiwater = bn->n.pool_bytes;
	else
		bn->n.live_hiwater = bn->n.live_bytes;
	spin_unlock_irqrestore(&bn->lock, flags);
}

/**
 * dsw_bounce_inject() - the allocation failures injected now
 * @shim: the device's shim
 *
 * Return: an enum dsw_inject.
 */
unsigned int dsw_bounce_inject(struct dsw_shim *shim)
{
	return READ_ONCE(shim->bounce.inject);
}

/**
 * dsw_bounce_set_inject() - inject allocation failures (tests)
 * @shim: the device's shim
 * @val: an enum dsw_inject
 *
 * Return: the previous value.
 */
unsigned int dsw_bounce_set_inject(struct dsw_shim *shim, unsigned int val)
{
	unsigned int old = xchg(&shim->bounce.inject, val);

	dsw_bounce_rebalance(shim);
	return old;
}

/**
 * dsw_bounce_promise() - note the largest mapping a driver was told it may
 *	make; one chunk that can hold it is kept from now on
 * @shim: the device's shim
 * @size: the size dsw_max_mapping_size() returned
 *
 * A mapping larger than a chunk needs a high-order allocation, which may
 * be impossible once memory is fragmented, and drivers retry a failed
 * mapping forever (NVMe and virtio requeue).  With one chunk large enough
 * always at hand, such a mapping waits at most until the one before it is
 * unmapped.  The chunk is allocated by the work item, where it may sleep
 * and compact: normally at the driver's probe, before memory fragments.
 *
 * Context: any.
 */
void dsw_bounce_promise(struct dsw_shim *shim, size_t size)
{
	struct dsw_bounce *bn = &shim->bounce;
	unsigned long flags;
	bool more;

	spin_lock_irqsave(&bn->lock, flags);
	more = size > bn->promised;
	if (more)
		bn->promised = size;
	spin_unlock_irqrestore(&bn->lock, flags);
	if (more)
		dsw_kick_grow(shim);
}

/**
 * dsw_bounce_promise_reset() - forget the promises: the driver is gone
 * @shim: the device's shim
 *
 * The kept chunk goes back after the shrink delay; the next driver's probe
 * promises again.
 */
void dsw_bounce_promise_reset(struct dsw_shim *shim)
{
	WRITE_ONCE(shim->bounce.promised, 0);
	dsw_kick_shrink(shim);
}

/*
 * Size of the chunk kept for the largest promised mapping: 0 if none was
 * promised or the growth granule holds it.
 */
static size_t dsw_progress_size(struct dsw_shim *shim)
{
	unsigned int mask = dma_get_min_align_mask(shim->dev);
	size_t align = max_t(size_t, mask + 1UL, PAGE_SIZE);
	size_t promised = READ_ONCE(shim->bounce.promised);
	size_t size;

	/* A reserve of 0 keeps nothing: the user chose memory over waiting. */
	if (!promised || !dsw_high_bytes(shim))
		return 0;
	size = min_t(size_t, dsw_chunk_size_for(shim, promised + mask, align),
		     PAGE_SIZE << DSW_MAX_PAGE_ORDER);
	/* Within the granule, the reserve's refill serves it. */
	return size > dsw_chunk_bytes(shim) ? size : 0;
}

/* Chunks of at least @size the device can reach under @limit. */
static unsigned int dsw_progress_chunks(struct dsw_shim *shim, size_t size,
					u64 limit)
{
	struct dsw_chunk *c;
	unsigned int nr = 0;

	lockdep_assert_held(&shim->bounce.lock);
	list_for_each_entry(c, &shim->bounce.chunks, node)
		if (c->size >= size && !dsw_chunk_beyond(c, limit))
			nr++;
	return nr;
}

/*
 * Make @b, which has just taken its slots, a live buffer at @off into
 * them, in the same critical section: its DMA and CPU addresses, the tree,
 * the counts.  The first live buffer pins the module: its unmap must find
 * these ops.  An unloading module takes no more (see dsw_shim_uninstall()):
 * then the slots go back and -ENODEV is returned.  *@refill says whether
 * the reserve has fallen below its low watermark.
 */
static int dsw_buf_publish(struct dsw_shim *shim, struct dsw_buf *b,
			   size_t off, bool *refill)
{
	struct dsw_bounce *bn = &shim->bounce;
	size_t at = ((size_t)b->slot << DSW_SLOT_SHIFT) + off;

	lockdep_assert_held(&bn->lock);
	if (!bn->n.nr_live && !try_module_get(THIS_MODULE)) {
		dsw_slots_put(shim, b);
		return -ENODEV;
	}
	b->dma = b->chunk->dma + at;
	b->vaddr = b->chunk->vaddr + at;
	dsw_tree_insert(shim, b);
	/* Pairs with dsw_bounce_busy(): the buffer is in the tree first. */
	smp_store_release(&bn->n.nr_live, bn->n.nr_live + 1);
	bn->n.live_bytes += b->size;
	bn->n.live_hiwater = max(bn->n.live_hiwater, bn->n.live_bytes);
	*refill = bn->n.free_bytes < dsw_low_bytes(shim);
	return 0;
}

/*
 * The bounce lock, for the map, unmap and sync paths: a wait for another
 * CPU's hold is counted (statistics/lock_contended).
 */
static __always_inline unsigned long dsw_bounce_lock(struct dsw_shim *shim)
	__acquires(&shim->bounce.lock)
{
	unsigned long flags;

	if (!spin_trylock_irqsave(&shim->bounce.lock, flags)) {
		this_cpu_inc(shim->stats->lock_contended);
		spin_lock_irqsave(&shim->bounce.lock, flags);
	}
	return flags;
}

/* Ask the work item for a chunk of @size bytes (a mapping found none). */
static void dsw_want(struct dsw_shim *shim, size_t size)
{
	struct dsw_bounce *bn = &shim->bounce;
	unsigned long flags;

	spin_lock_irqsave(&bn->lock, flags);
	bn->want_bytes = max(bn->want_bytes, size);
	spin_unlock_irqrestore(&bn->lock, flags);
	dsw_kick_grow(shim);
}

/**
 * dsw_bounce_map() - bounce a mapping through the device's dynamic buffers
 * @shim: the device's shim
 * @phys: physical address of the driver's memory
 * @size: length of the mapping
 * @dir: DMA direction
 * @ctx: the caller's context (enum dsw_ctx), for inspection
 *
 * Fills the bounce buffer from the original whatever the direction, so the
 * device never sees stale memory.
 *
 * Context: any; does not sleep.
 * Return: the DMA address for the device, or DMA_MAPPING_ERROR.
 */
dma_addr_t dsw_bounce_map(struct dsw_shim *shim, phys_addr_t phys,
			  size_t size, enum dma_data_direction dir, u8 ctx)
{
	struct device *dev = shim->dev;
	unsigned int mask = dma_get_min_align_mask(dev);
	u64 boundary = dma_get_seg_boundary(dev);
	u64 limit = dsw_dma_limit(dev);
	unsigned long align = DSW_SLOT_SIZE;
	size_t off = phys & mask, need;
	struct dsw_chunk *c = NULL;
	u64 start = local_clock();
	bool ok, refill = false;
	struct dsw_buf *b;
	unsigned long flags;
	int err = 0;

	if (size >= PAGE_SIZE)
		align = PAGE_SIZE;
	if (mask >= align)
		align = roundup_pow_of_two(mask + 1UL);
	need = off + size;
	if (!size || size > dsw_bounce_max_mapping(shim) ||
	    need - 1 > boundary) {
		this_cpu_inc(shim->stats->fail_too_large);
		trace_dsw_fail(dev, size, "too_large");
		return DMA_MAPPING_ERROR;
	}

	b = mempool_alloc(dsw_buf_pool, GFP_ATOMIC | __GFP_NOWARN);
	if (!b) {
		this_cpu_inc(shim->stats->fail_nomem);
		trace_dsw_fail(dev, size, "nomem");
		return DMA_MAPPING_ERROR;
	}
	b->orig = phys;
	b->size = size;
	b->dir = dir;
	b->ctx = ctx;
	b->mapped_at = jiffies;

	flags = dsw_bounce_lock(shim);
	ok = dsw_slots_take(shim, b, need, align, limit, boundary, NULL);
	if (ok)
		err = dsw_buf_publish(shim, b, off, &refill);
	spin_unlock_irqrestore(&shim->bounce.lock, flags);
	if (!ok) {
		/*
		 * Nothing free fits: grow now, without sleeping.  If that
		 * fails (a high order once memory is fragmented), the work
		 * item allocates a chunk that size where it may sleep and
		 * compact: the driver's retry finds it.
		 */
		size_t csize = dsw_chunk_size_for(shim, need, align);

		c = dsw_chunk_alloc(shim, csize, GFP_NOWAIT);
		if (IS_ERR(c)) {
			mempool_free(b, dsw_buf_pool);
			if (PTR_ERR(c) == -ENOSPC) {
				this_cpu_inc(shim->stats->fail_cap);
				trace_dsw_fail(dev, size, "cap");
			} else {
				this_cpu_inc(shim->stats->fail_nomem);
				trace_dsw_fail(dev, size, "nomem");
				dsw_want(shim, csize);
			}
			return DMA_MAPPING_ERROR;
		}
		flags = dsw_bounce_lock(shim);
		dsw_chunk_add(shim, c);
		ok = dsw_slots_take(shim, b, need, align, limit, boundary, c);
		if (ok)
			err = dsw_buf_publish(shim, b, off, &refill);
		spin_unlock_irqrestore(&shim->bounce.lock, flags);
		if (WARN_ON_ONCE(!ok)) {
			mempool_free(b, dsw_buf_pool);
			return DMA_MAPPING_ERROR;
		}
	}
	if (err) {
		mempool_free(b, dsw_buf_pool);
		trace_dsw_fail(dev, size, "unloading");
		return DMA_MAPPING_ERROR;
	}

	/*
	 * The buffer is in the tree, but only this call knows its address:
	 * neither the device nor an unmap or sync can reach it before the
	 * copy is done and the address returned.
	 */
	memcpy(b->vaddr, phys_to_virt(phys), size);
	this_cpu_add(shim->stats->bytes_to_device, size);
	if (refill)
		dsw_kick_grow(shim);
	trace_dsw_map(dev, b->dma, size, dir);
	dsw_dyn_account(shim, size, local_clock() - start);
	return b->dma;
}

static void dsw_copy(struct dsw_shim *shim, struct dsw_buf *b, size_t off,
		     size_t len, bool to_dev)
{
	void *orig = phys_to_virt(b->orig + off);

	if (to_dev) {
		memcpy(b->vaddr + off, orig, len);
		this_cpu_add(shim->stats->bytes_to_device, len);
	} else {
		memcpy(orig, b->vaddr + off, len);
		this_cpu_add(shim->stats->bytes_from_device, len);
	}
}

/**
 * dsw_bounce_unmap() - unmap a dynamic mapping, if @dma is one
 * @shim: the device's shim
 * @dma: DMA address returned by dsw_bounce_map()
 * @size: length the driver unmaps
 * @dir: DMA direction
 * @attrs: DMA_ATTR_SKIP_CPU_SYNC skips the copy back
 *
 * Copies the data back for DMA_FROM_DEVICE and DMA_BIDIRECTIONAL.
 *
 * Context: any; does not sleep.
 * Return: false if @dma is not a live dynamic mapping of this device.
 */
bool dsw_bounce_unmap(struct dsw_shim *shim, dma_addr_t dma, size_t size,
		      enum dma_data_direction dir, unsigned long attrs)
{
	struct dsw_bounce *bn = &shim->bounce;
	bool copy = !(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
		    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL);
	struct dsw_buf *b;
	unsigned long flags;
	bool idle, last;

	flags = dsw_bounce_lock(shim);
	b = dsw_tree_find(shim, dma);
	if (!b) {
		spin_unlock_irqrestore(&bn->lock, flags);
		return false;
	}
	rb_erase(&b->rb, &bn->tree);
	if (copy) {
		/*
		 * Out of the tree, so no other unmap or sync finds it; its
		 * slots stay taken until the data is back.
		 */
		spin_unlock_irqrestore(&bn->lock, flags);
		dsw_copy(shim, b, 0, min(size, b->size), false);
		flags = dsw_bounce_lock(shim);
	}
	dsw_slots_put(shim, b);
	bn->n.live_bytes -= b->size;
	idle = b->chunk->nfree == b->chunk->nslots &&
	       bn->n.free_bytes > dsw_high_bytes(shim);
	last = bn->n.nr_live == 1;
	/*
	 * The last store: dsw_bounce_busy() reading the new count (the
	 * uninstall, then dsw_bounce_exit()) sees the buffer gone.
	 */
	smp_store_release(&bn->n.nr_live, bn->n.nr_live - 1);
	spin_unlock_irqrestore(&bn->lock, flags);
	trace_dsw_unmap(shim->dev, b->dma, b->size, dir);
	mempool_free(b, dsw_buf_pool);
	if (idle)
		dsw_kick_shrink(shim);
	/* The caller runs in an RCU read-side section: the text stays. */
	if (last)
		module_put(THIS_MODULE);
	return true;
}

/**
 * dsw_bounce_sync() - sync part of a dynamic mapping, if @dma is in one
 * @shim: the device's shim
 * @dma: DMA address, possibly inside a mapping
 * @size: bytes from @dma
 * @dir: DMA direction
 * @for_cpu: true for sync_for_cpu, false for sync_for_device
 *
 * Context: any; does not sleep.
 * Return: false if @dma is not inside a live dynamic mapping.
 */
bool dsw_bounce_sync(struct dsw_shim *shim, dma_addr_t dma, size_t size,
		     enum dma_data_direction dir, bool for_cpu)
{
	struct dsw_buf *b;
	unsigned long flags;
	size_t off;

	flags = dsw_bounce_lock(shim);
	b = dsw_tree_find(shim, dma);
	spin_unlock_irqrestore(&shim->bounce.lock, flags);
	if (!b)
		return false;
	off = dma - b->dma;
	size = min(size, b->size - off);
	if (for_cpu && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		dsw_copy(shim, b, off, size, false);
	else if (!for_cpu && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		dsw_copy(shim, b, off, size, true);
	return true;
}

/*
 * Free bytes in the chunks the device can reach under @limit (a driver
 * that narrows its DMA mask leaves chunks above it unusable).
 */
static size_t dsw_usable_free(struct dsw_shim *shim, u64 limit)
{
	struct dsw_chunk *c;
	size_t free = 0;

	lockdep_assert_held(&shim->bounce.lock);
	list_for_each_entry(c, &shim->bounce.chunks, node)
		if (!dsw_chunk_beyond(c, limit))
			free += (size_t)c->nfree << DSW_SLOT_SHIFT;
	return free;
}

/*
 * The device's work item: when free memory is below the reserve's low
 * watermark, refill it up to the high watermark (within the caps); then
 * give back chunks that have been entirely free for the shrink delay, as
 * long as what stays free is at least the high watermark.  Only chunks the
 * device can reach under its current DMA mask count as free; idle chunks
 * beyond it are given back after the delay whatever the watermark.
 */
static void dsw_bounce_work(struct work_struct *work)
{
	struct dsw_shim *shim = container_of(to_delayed_work(work),
					     struct dsw_shim, bounce.work);
	unsigned long delay = dsw_shrink_delay(shim);
	u64 limit = dsw_dma_limit(shim->dev);
	size_t high = dsw_high_bytes(shim), usable;
	unsigned long flags, next = 0;
	struct dsw_chunk *c, *tmp;
	LIST_HEAD(victims);
	size_t want, psize;
	unsigned int nprog;
	bool grow;

	spin_lock_irqsave(&shim->bounce.lock, flags);
	want = shim->bounce.want_bytes;
	shim->bounce.want_bytes = 0;
	spin_unlock_irqrestore(&shim->bounce.lock, flags);
	if (want) {
		/* A mapping found no room and no memory without sleeping. */
		c = dsw_chunk_alloc(shim, want, GFP_KERNEL);
		if (!IS_ERR(c)) {
			spin_lock_irqsave(&shim->bounce.lock, flags);
			dsw_chunk_add(shim, c);
			spin_unlock_irqrestore(&shim->bounce.lock, flags);
		}
	}

	psize = dsw_progress_size(shim);
	spin_lock_irqsave(&shim->bounce.lock, flags);
	nprog = psize ? dsw_progress_chunks(shim, psize, limit) : 1;
	spin_unlock_irqrestore(&shim->bounce.lock, flags);
	if (!nprog) {
		/* The chunk that keeps the largest promised mapping possible. */
		c = dsw_chunk_alloc(shim, psize, GFP_KERNEL);
		if (!IS_ERR(c)) {
			spin_lock_irqsave(&shim->bounce.lock, flags);
			dsw_chunk_add(shim, c);
			spin_unlock_irqrestore(&shim->bounce.lock, flags);
		}
	}

	spin_lock_irqsave(&shim->bounce.lock, flags);
	grow = dsw_usable_free(shim, limit) < dsw_low_bytes(shim);
	spin_unlock_irqrestore(&shim->bounce.lock, flags);
	while (grow) {
		c = dsw_chunk_alloc(shim, dsw_chunk_bytes(shim), GFP_KERNEL);
		if (IS_ERR(c))
			break;
		spin_lock_irqsave(&shim->bounce.lock, flags);
		dsw_chunk_add(shim, c);
		/* a mask changed meanwhile must not make this loop endless */
		limit = dsw_dma_limit(shim->dev);
		grow = !dsw_chunk_beyond(c, limit) &&
		       dsw_usable_free(shim, limit) < high;
		spin_unlock_irqrestore(&shim->bounce.lock, flags);
	}

	spin_lock_irqsave(&shim->bounce.lock, flags);
	usable = dsw_usable_free(shim, limit);
	nprog = psize ? dsw_progress_chunks(shim, psize, limit) : 0;
	list_for_each_entry_safe(c, tmp, &shim->bounce.chunks, node) {
		bool beyond = dsw_chunk_beyond(c, limit);
		bool prog = psize && !beyond && c->size >= psize;

		/* chunks the device cannot reach now serve nothing */
		if (c->nfree != c->nslots ||
		    (!beyond && usable - c->size < high) ||
		    (prog && nprog <= 1))
			continue;
		if (time_before(jiffies, c->idle_since + delay)) {
			if (!next || time_before(c->idle_since + delay, next))
				next = c->idle_since + delay;
			continue;
		}
		list_move(&c->node, &victims);
		if (prog)
			nprog--;
		if (!beyond)
			usable -= c->size;
		shim->bounce.n.pool_bytes -= c->size;
		shim->bounce.n.free_bytes -= c->size;
		shim->bounce.n.chunk_frees++;
		trace_dsw_shrink(shim->dev, c->size, shim->bounce.n.pool_bytes);
	}
	spin_unlock_irqrestore(&shim->bounce.lock, flags);

	list_for_each_entry_safe(c, tmp, &victims, node)
		dsw_chunk_free(shim, c);
	if (next)
		queue_delayed_work(dsw_wq, &shim->bounce.work,
				   max_t(long, (long)(next - jiffies), 1));
}

/**
 * dsw_bounce_init() - set up a device's dynamic buffers, with a reserve
 * @shim: the device's shim, with its shadows and policy set up
 *
 * Context: process context.
 * Return: 0, or -ENOMEM if the reserve cannot be allocated (a cap that
 * leaves no room for it is not an error).
 */
int dsw_bounce_init(struct dsw_shim *shim)
{
	struct dsw_chunk *c;
	unsigned long flags;

	spin_lock_init(&shim->bounce.lock);
	shim->bounce.want_bytes = 0;
	shim->bounce.promised = 0;
	INIT_LIST_HEAD(&shim->bounce.chunks);
	shim->bounce.tree = RB_ROOT;
	atomic_long_set(&shim->bounce.committed, 0);
	INIT_DELAYED_WORK(&shim->bounce.work, dsw_bounce_work);

	/* The reserve, up to its high watermark, before the first map. */
	while (shim->bounce.n.free_bytes < dsw_high_bytes(shim)) {
		c = dsw_chunk_alloc(shim, dsw_chunk_bytes(shim), GFP_KERNEL);
		if (IS_ERR(c))	/* a cap may leave no room: that is fine */
			return PTR_ERR(c) == -ENOSPC ? 0 : PTR_ERR(c);
		spin_lock_irqsave(&shim->bounce.lock, flags);
		dsw_chunk_add(shim, c);
		spin_unlock_irqrestore(&shim->bounce.lock, flags);
	}
	return 0;
}

/**
 * dsw_bounce_exit() - give back all of a device's bounce memory
 * @shim: the device's shim; its device no longer does DMA
 *
 * Buffers still mapped (only when a device went away with mappings its
 * driver never unmapped) are dropped with their memory.
 *
 * Context: process context.
 */
void dsw_bounce_exit(struct dsw_shim *shim)
{
	struct dsw_bounce *bn = &shim->bounce;
	struct rb_root tree;
	struct dsw_chunk *c, *tmp;
	unsigned long flags, live;
	LIST_HEAD(chunks);
	struct rb_node *n;

	cancel_delayed_work_sync(&bn->work);
	/*
	 * Under the lock: an unmap that has just counted its buffer out may
	 * still be in its critical section; after it, the tree and chunks
	 * are this function's alone.
	 */
	spin_lock_irqsave(&bn->lock, flags);
	tree = bn->tree;
	bn->tree = RB_ROOT;
	list_splice_init(&bn->chunks, &chunks);
	live = bn->n.nr_live;
	bn->n.nr_live = 0;
	bn->n.live_bytes = 0;
	bn->n.pool_bytes = 0;
	bn->n.free_bytes = 0;
	spin_unlock_irqrestore(&bn->lock, flags);
	if (live) {
		pr_warn("%s: dropping %lu dynamic buffers its driver left mapped\n",
			dev_name(shim->dev), live);
		module_put(THIS_MODULE);	/* their pin */
	}
	while ((n = rb_first(&tree))) {
		rb_erase(n, &tree);
		mempool_free(rb_entry(n, struct dsw_buf, rb), dsw_buf_pool);
	}
	list_for_each_entry_safe(c, tmp, &chunks, node) {
		list_del(&c->node);
		dsw_chunk_free(shim, c);
		bn->n.chunk_frees++;
	}
}

static const char *const dsw_dir_names[] = {
	[DMA_BIDIRECTIONAL] = "bidi",
	[DMA_TO_DEVICE] = "to",
	[DMA_FROM_DEVICE] = "from",
	[DMA_NONE] = "none",
};

static const char *const dsw_ctx_names[] = {
	[DSW_CTX_TASK] = "task",
	[DSW_CTX_ATOMIC] = "atomic",
	[DSW_CTX_IRQ] = "irq",
};

/**
 * dsw_bounce_show() - list the live dynamic buffers, lowest address first
 * @shim: the device's shim
 * @m: where to print, in the DSW_DEBUGFS_BUFFERS format
 *
 * Context: process context; takes the device's lock (interrupts off) for
 * the walk, so very long lists delay the device's mappings meanwhile.
 */
void dsw_bounce_show(struct dsw_shim *shim, struct seq_file *m)
{
	unsigned long flags, now = jiffies;
	struct rb_node *n;
	struct dsw_buf *b;

	spin_lock_irqsave(&shim->bounce.lock, flags);
	for (n = rb_first(&shim->bounce.tree); n; n = rb_next(n)) {
		b = rb_entry(n, struct dsw_buf, rb);
		seq_printf(m, "%pad %zu %s %u %s\n", &b->dma, b->size,
			   dsw_dir_names[b->dir],
			   jiffies_to_msecs(now - b->mapped_at),
			   dsw_ctx_names[b->ctx]);
	}
	spin_unlock_irqrestore(&shim->bounce.lock, flags);
}

/**
 * dsw_bounce_cache_init() - create the buffer descriptors' reserve
 *
 * From kmalloc, not a cache of their own: kmem_cache_create() dumps a
 * stack on failure, and a load that fails must log one line.
 *
 * Return: 0 or -ENOMEM.
 */
int __init dsw_bounce_cache_init(void)
{
	dsw_buf_pool = mempool_create_kmalloc_pool(DSW_BUF_MEMPOOL_MIN,
						   sizeof(struct dsw_buf));
	if (!dsw_buf_pool) {
		pr_err("not loaded: cannot allocate the buffer descriptors' reserve\n");
		return -ENOMEM;
	}
	return 0;
}

/**
 * dsw_bounce_cache_exit() - destroy the buffer descriptors' reserve
 */
void dsw_bounce_cache_exit(void)
{
	mempool_destroy(dsw_buf_pool);
}
