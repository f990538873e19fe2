// SPDX-License-Identifier: GPL-2.0
/*
 * The dma_map_ops dynswiotlb installs on an attached device.
 *
 * Every streaming mapping is first offered to the kernel's own path, through
 * the device's shadow: a never-registered struct device with the same DMA
 * configuration (mask, bus limit, DMA range map, DMA parameters, swiotlb
 * pool) and no dma_map_ops, so that dma-direct and the static swiotlb pool
 * treat it exactly as they would treat the device without the module.
 *
 *  1. The device reaches the memory and bouncing is not forced: dma-direct
 *     maps it (counted "direct").
 *  2. It needs bouncing, the static pool exists and the mapping is within
 *     swiotlb's segment limit: the static pool bounces it ("static"),
 *     unless it is full.
 *  3. Otherwise -- pool full, no pool, mapping too large -- the device's
 *     dynamic buffers bounce it ("dynamic", bounce.c).
 *
 * Unmap and sync look the address up among the device's live dynamic
 * buffers (only when it has any) and otherwise hand it to the shadow, which
 * recognises its own swiotlb slots.  Coherent and page allocations, mmap,
 * get_sgtable and resource mappings are forwarded to the shadow unchanged:
 * they never bounce.
 *
 * Context: the streaming callbacks (map, unmap, sync, scatterlists) may
 * run in any context and never sleep.  The forwarded allocation callbacks
 * run in whatever context the driver's call allows (GFP_KERNEL allocations
 * and freeing may sleep, exactly as without the module).
 *
 * Lifetime (one rule for every op): a caller of the DMA API reads the
 * device's ops pointer and then calls into it, with nothing held, and may
 * do so on another CPU while the ops are being removed.  So every op runs
 * inside a read-side section -- RCU for the callbacks that never sleep,
 * dsw_srcu for those that may -- and finds its shim with dsw_shim_get(),
 * which also finds a shim whose ops were just removed from the device.
 * dsw_shim_uninstall() stops new dynamic buffers, lets the live ones be
 * unmapped and clears the device's ops; dsw_shim_retire() keeps the shim
 * published until every caller that may still have read them is done --
 * the preempted ones (Tasks RCU) and those inside an op (RCU, dsw_srcu) --
 * and only then frees it.  Unloading waits for that too (dsw_shim_exit()),
 * so the module text outlives every call into it, and a live dynamic
 * buffer pins the module (bounce.c), so unloading waits for its unmap.
 */

#include <linux/delay.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/srcu.h>

#include "bounce.h"
#include "shim.h"

/* How long an uninstall waits for live dynamic buffers to be unmapped. */
#define DSW_DRAIN_MS		500

/* Read side of the ops that may sleep (allocations, mmap). */
DEFINE_STATIC_SRCU(dsw_srcu);

/*
 * Every installed shim, and those uninstalled until no caller can still
 * be in their ops (dsw_retired, freed by dsw_reaper).  Written under
 * dsw_shims_lock; read in the ops.
 */
static LIST_HEAD(dsw_shims);
static LIST_HEAD(dsw_retired);
static DEFINE_SPINLOCK(dsw_shims_lock);
static void dsw_reap(struct work_struct *work);
static DECLARE_WORK(dsw_reaper, dsw_reap);

static int dsw_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		      enum dma_data_direction dir, unsigned long attrs);

/*
 * The shim of @dev, for one of our ops; caller in an RCU or dsw_srcu
 * read-side section.  Normally @dev's ops are the shim's own; while the
 * shim is being uninstalled, a caller that read them before they were
 * removed finds it in the list of published shims.
 */
static struct dsw_shim *dsw_shim_get(struct device *dev)
{
	const struct dma_map_ops *ops = READ_ONCE(dev->dma_ops);
	struct dsw_shim *shim;

	if (likely(ops && ops->map_sg == dsw_map_sg))
		return container_of(ops, struct dsw_shim, ops);
	list_for_each_entry_rcu(shim, &dsw_shims, node,
				srcu_read_lock_held(&dsw_srcu)) {
		if (shim->dev == dev)
			return shim;
	}
	/* Only reachable through our ops, so the shim must be published. */
	WARN_ONCE(1, "%s: dynswiotlb op without a shim\n", dev_name(dev));
	return NULL;
}

/*
 * Mirror the DMA settings the driver or bus may change after attach.  A
 * field is stored only when it changed: every map of every CPU comes here,
 * and a store would pull the shadow's cache line over from the CPU that
 * mapped last.
 */
static void dsw_shadow_refresh(struct dsw_shim *shim, struct device *sh)
{
	struct device *dev = shim->dev;
	u64 cmask = READ_ONCE(dev->coherent_dma_mask);
	u64 limit = READ_ONCE(dev->bus_dma_limit);
	/* The driver core frees and rebuilds it on every unbind and probe. */
	const struct bus_dma_region *map = READ_ONCE(dev->dma_range_map);

	if (READ_ONCE(sh->coherent_dma_mask) != cmask)
		WRITE_ONCE(sh->coherent_dma_mask, cmask);
	if (READ_ONCE(sh->bus_dma_limit) != limit)
		WRITE_ONCE(sh->bus_dma_limit, limit);
	if (READ_ONCE(sh->dma_range_map) != map)
		WRITE_ONCE(sh->dma_range_map, map);
}

/*
 * The shadow, refreshed, for calls that allocate under the coherent mask;
 * caller in a dsw_srcu (or RCU) read-side section.  NULL if there is no
 * shim, which dsw_shim_get() has reported.
 */
static struct device *dsw_shadow_for_alloc(struct device *dev)
{
	struct dsw_shim *shim = dsw_shim_get(dev);

	if (!shim)
		return NULL;
	dsw_shadow_refresh(shim, shim->shadow);
	return shim->shadow;
}

static dma_addr_t dsw_map_rcu(struct device *dev, phys_addr_t phys,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs, u8 ctx)
{
	struct dsw_shim *shim = dsw_shim_get(dev);
	struct device *sh;
	unsigned int mode;
	bool reach;
	dma_addr_t dma;

	if (!shim)
		return DMA_MAPPING_ERROR;
	sh = shim->shadow;
	mode = READ_ONCE(shim->policy.mode);
	this_cpu_inc(shim->stats->maps);
	dsw_shadow_refresh(shim, sh);
	reach = !dsw_swiotlb_forced(sh) && dsw_dma_capable(dev, phys, size);

	/* Going away: the kernel's own path only, no new dynamic buffers. */
	if (READ_ONCE(shim->closing))
		mode = DSW_MODE_OFF;
	if (mode == DSW_MODE_OFF) {
		/* Pass-through: exactly the kernel's path, warnings included. */
		dma = dsw_fwd_map(sh, phys, size, dir, attrs);
		if (dma == DMA_MAPPING_ERROR)
			this_cpu_inc(shim->stats->failures);
		else if (reach)
			this_cpu_inc(shim->stats->direct);
		else
			this_cpu_inc(shim->stats->static_hits);
		return dma;
	}

	if (reach && !READ_ONCE(shim->policy.force_bounce)) {
		dma = dsw_fwd_map(sh, phys, size, dir, attrs);
		if (dma != DMA_MAPPING_ERROR) {
			this_cpu_inc(shim->stats->direct);
			return dma;
		}
	} else if (!reach && mode == DSW_MODE_STATIC_FIRST &&
		   dsw_swiotlb_active(sh) &&
		   size <= dsw_swiotlb_max_mapping(sh)) {
		dma = dsw_fwd_map(sh, phys, size, dir,
				  attrs | DMA_ATTR_NO_WARN);
		if (dma != DMA_MAPPING_ERROR) {
			this_cpu_inc(shim->stats->static_hits);
			return dma;
		}
	}

	dma = dsw_bounce_map(shim, phys, size, dir, ctx);
	if (dma == DMA_MAPPING_ERROR) {
		this_cpu_inc(shim->stats->failures);
	} else {
		this_cpu_inc(shim->stats->dynamic);
		this_cpu_inc(shim->stats->dynamic_ctx[ctx]);
	}
	return dma;
}

/**
 * dsw_map() - map a physical range for streaming DMA
 * @dev: the attached device
 * @phys: physical address of the driver's memory
 * @size: length
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* passed by the driver
 *
 * Context: any; does not sleep.
 * Return: the DMA address, or DMA_MAPPING_ERROR.
 */
dma_addr_t dsw_map(struct device *dev, phys_addr_t phys, size_t size,
		   enum dma_data_direction dir, unsigned long attrs)
{
	u8 ctx = dsw_context();	/* the caller's, before our own lock */
	dma_addr_t dma;

	rcu_read_lock();
	dma = dsw_map_rcu(dev, phys, size, dir, attrs, ctx);
	rcu_read_unlock();
	return dma;
}

/**
 * dsw_unmap() - unmap a streaming mapping made by dsw_map()
 * @dev: the attached device
 * @dma: the DMA address dsw_map() returned
 * @size: length
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* passed by the driver
 *
 * Context: any; does not sleep.
 */
void dsw_unmap(struct device *dev, dma_addr_t dma, size_t size,
	       enum dma_data_direction dir, unsigned long attrs)
{
	struct dsw_shim *shim;

	rcu_read_lock();
	shim = dsw_shim_get(dev);
	if (shim && !(dsw_bounce_busy(shim) &&
		      dsw_bounce_unmap(shim, dma, size, dir, attrs)))
		dsw_fwd_unmap(shim->shadow, dma, size, dir, attrs);
	rcu_read_unlock();
}

/**
 * dsw_map_resource() - map an MMIO range for peer DMA; never bounced
 * @dev: the attached device
 * @phys: physical address of the resource
 * @size: length
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* passed by the driver
 *
 * Return: the DMA address, or DMA_MAPPING_ERROR.
 */
dma_addr_t dsw_map_resource(struct device *dev, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	dma_addr_t dma = DMA_MAPPING_ERROR;
	struct dsw_shim *shim;

	rcu_read_lock();
	shim = dsw_shim_get(dev);
	if (shim) {
		this_cpu_inc(shim->stats->maps);
		this_cpu_inc(shim->stats->direct);
		dma = dma_map_resource(shim->shadow, phys, size, dir, attrs);
	}
	rcu_read_unlock();
	return dma;
}

/**
 * dsw_unmap_resource() - unmap what dsw_map_resource() mapped
 * @dev: the attached device
 * @dma: the DMA address
 * @size: length
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* passed by the driver
 */
void dsw_unmap_resource(struct device *dev, dma_addr_t dma, size_t size,
			enum dma_data_direction dir, unsigned long attrs)
{
	struct dsw_shim *shim;

	rcu_read_lock();
	shim = dsw_shim_get(dev);
	if (shim)
		dma_unmap_resource(shim->shadow, dma, size, dir, attrs);
	rcu_read_unlock();
}

static int dsw_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		      enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i, j;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = dsw_map(dev, sg_phys(sg), sg->length, dir,
					  attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR)
			goto unwind;
		sg_dma_len(sg) = sg->length;
	}
	return nents;

unwind:
	for_each_sg(sgl, sg, i, j)
		dsw_unmap(dev, sg->dma_address, sg_dma_len(sg), dir,
			  attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return DSW_MAP_SG_ERROR(-ENOMEM);
}

static void dsw_unmap_sg(struct device *dev, struct scatterlist *sgl,
			 int nents, enum dma_data_direction dir,
			 unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		dsw_unmap(dev, sg->dma_address, sg_dma_len(sg), dir, attrs);
}

static void dsw_sync_single(struct device *dev, dma_addr_t dma, size_t size,
			    enum dma_data_direction dir, bool for_cpu)
{
	struct dsw_shim *shim;

	rcu_read_lock();
	shim = dsw_shim_get(dev);
	if (!shim || (dsw_bounce_busy(shim) &&
		      dsw_bounce_sync(shim, dma, size, dir, for_cpu)))
		goto out;
	if (for_cpu)
		dma_sync_single_for_cpu(shim->shadow, dma, size, dir);
	else
		dma_sync_single_for_device(shim->shadow, dma, size, dir);
out:
	rcu_read_unlock();
}

static void dsw_sync_single_for_cpu(struct device *dev, dma_addr_t dma,
				    size_t size, enum dma_data_direction dir)
{
	dsw_sync_single(dev, dma, size, dir, true);
}

static void dsw_sync_single_for_device(struct device *dev, dma_addr_t dma,
				       size_t size,
				       enum dma_data_direction dir)
{
	dsw_sync_single(dev, dma, size, dir, false);
}

static void dsw_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl,
				int nents, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		dsw_sync_single(dev, sg->dma_address, sg_dma_len(sg), dir,
				true);
}

static void dsw_sync_sg_for_device(struct device *dev,
				   struct scatterlist *sgl, int nents,
				   enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		dsw_sync_single(dev, sg->dma_address, sg_dma_len(sg), dir,
				false);
}

/*
 * The forwarded callbacks that may sleep run in a dsw_srcu read-side
 * section; one that finds no shim (reported by dsw_shim_get()) fails.
 */
static void *dsw_alloc(struct device *dev, size_t size, dma_addr_t *dma,
		       gfp_t gfp, unsigned long attrs)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);
	void *ret = sh ? dma_alloc_attrs(sh, size, dma, gfp, attrs) : NULL;

	srcu_read_unlock(&dsw_srcu, idx);
	return ret;
}

static void dsw_free(struct device *dev, size_t size, void *vaddr,
		     dma_addr_t dma, unsigned long attrs)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);

	if (sh)
		dma_free_attrs(sh, size, vaddr, dma, attrs);
	srcu_read_unlock(&dsw_srcu, idx);
}

static struct page *dsw_op_alloc_pages(struct device *dev, size_t size,
				       dma_addr_t *dma,
				       enum dma_data_direction dir, gfp_t gfp)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);
	struct page *page = sh ? dma_alloc_pages(sh, size, dma, dir, gfp) :
				 NULL;

	srcu_read_unlock(&dsw_srcu, idx);
	return page;
}

static void dsw_op_free_pages(struct device *dev, size_t size,
			      struct page *page, dma_addr_t dma,
			      enum dma_data_direction dir)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);

	if (sh)
		dma_free_pages(sh, size, page, dma, dir);
	srcu_read_unlock(&dsw_srcu, idx);
}

static int dsw_mmap(struct device *dev, struct vm_area_struct *vma,
		    void *vaddr, dma_addr_t dma, size_t size,
		    unsigned long attrs)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);
	int ret = sh ? dma_mmap_attrs(sh, vma, vaddr, dma, size, attrs) :
		       -ENXIO;

	srcu_read_unlock(&dsw_srcu, idx);
	return ret;
}

static int dsw_get_sgtable(struct device *dev, struct sg_table *sgt,
			   void *vaddr, dma_addr_t dma, size_t size,
			   unsigned long attrs)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);
	int ret = sh ? dma_get_sgtable_attrs(sh, sgt, vaddr, dma, size,
					     attrs) : -ENXIO;

	srcu_read_unlock(&dsw_srcu, idx);
	return ret;
}

/* What dma-direct accepts, asked of a scratch mirror of the device. */
static int dsw_dma_supported(struct device *dev, u64 mask)
{
	struct dsw_shim *shim;
	unsigned long flags;
	int ret = 0;

	rcu_read_lock();
	shim = dsw_shim_get(dev);
	if (shim) {
		spin_lock_irqsave(&shim->scratch_lock, flags);
		dsw_shadow_refresh(shim, shim->scratch);
		ret = dsw_direct_supported(shim->scratch, mask);
		spin_unlock_irqrestore(&shim->scratch_lock, flags);
	}
	rcu_read_unlock();
	return ret;
}

static u64 dsw_get_required_mask(struct device *dev)
{
	struct device *sh;
	u64 mask = DMA_BIT_MASK(32);

	rcu_read_lock();
	sh = dsw_shadow_for_alloc(dev);
	if (sh)
		mask = dma_get_required_mask(sh);
	rcu_read_unlock();
	return mask;
}

/*
 * Static-first devices get the kernel's own limit (swiotlb's segment size
 * when they may bounce through a static pool): drivers behave as without
 * the module.  max_map_kb advertises larger (or smaller) dynamic mappings
 * instead; a device that must bounce with no static pool, or in
 * dynamic-only mode, gets what one growth chunk holds.  No limit exceeds
 * what the caps allow, so a driver is never told it may map what can
 * never be mapped.
 */
static size_t dsw_shim_max_mapping(struct dsw_shim *shim)
{
	struct device *sh = shim->shadow;
	size_t max, want, dyn;
	unsigned int mode;
	bool bounces;

	dsw_shadow_refresh(shim, sh);
	max = dma_max_mapping_size(sh);
	want = (size_t)READ_ONCE(shim->policy.max_map_kb) << 10;
	dyn = dsw_bounce_max_mapping(shim);
	mode = READ_ONCE(shim->policy.mode);

	if (mode == DSW_MODE_OFF)
		return max;
	bounces = max != SIZE_MAX || READ_ONCE(shim->policy.force_bounce) ||
		  dsw_swiotlb_forced(sh) || dma_addressing_limited(sh);
	if (!bounces)
		return SIZE_MAX;
	if (want)
		return min(want, dyn);
	if (max != SIZE_MAX && mode == DSW_MODE_STATIC_FIRST)
		return max;
	return dsw_bounce_default_mapping(shim);
}

static size_t dsw_max_mapping_size(struct device *dev)
{
	struct dsw_shim *shim;
	size_t max = 0;

	rcu_read_lock();
	shim = dsw_shim_get(dev);
	if (shim) {
		max = dsw_shim_max_mapping(shim);
		/* what a driver may map from now on must stay possible */
		if (max != SIZE_MAX)
			dsw_bounce_promise(shim, max);
	}
	rcu_read_unlock();
	return max;
}

#include "compat/ops.h"

static const struct dma_map_ops dsw_ops_template = {
	.alloc = dsw_alloc,
	.free = dsw_free,
	DSW_OPS_ALLOC_PAGES_MEMBERS,
	DSW_OPS_NONCOHERENT_MEMBERS
	.mmap = dsw_mmap,
	.get_sgtable = dsw_get_sgtable,
	DSW_OPS_MAP_MEMBERS,
	.map_sg = dsw_map_sg,
	.unmap_sg = dsw_unmap_sg,
	.sync_single_for_cpu = dsw_sync_single_for_cpu,
	.sync_single_for_device = dsw_sync_single_for_device,
	.sync_sg_for_cpu = dsw_sync_sg_for_cpu,
	.sync_sg_for_device = dsw_sync_sg_for_device,
	.dma_supported = dsw_dma_supported,
	.get_required_mask = dsw_get_required_mask,
	.max_mapping_size = dsw_max_mapping_size,
	DSW_OPS_OPT_MEMBERS
};

/**
 * dsw_shim_can_attach() - check that the module can take over @dev's DMA
 * @dev: the device
 *
 * Logs one line naming the device and the reason when it cannot.
 *
 * A kernel whose swiotlb grows by itself (CONFIG_SWIOTLB_DYNAMIC) is no
 * reason: its pool is the shadow's like any other (see dsw_swiotlb_grows()).
 *
 * Return: 0, or -EINVAL / -EOPNOTSUPP / -EEXIST.
 */
int dsw_shim_can_attach(struct device *dev)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	const char *name = dev_name(dev);

	if (!dev->dma_mask) {
		pr_err("%s: refused: not a DMA device (no DMA mask)\n", name);
		return -EINVAL;
	}
	if (dsw_dev_dma_iommu(dev)) {
		pr_err("%s: refused: its DMA is translated by an IOMMU (dma-iommu), which bypasses dma_map_ops\n",
		       name);
		return -EOPNOTSUPP;
	}
	if (ops && ops->map_sg == dsw_map_sg) {
		pr_err("%s: refused: already attached\n", name);
		return -EEXIST;
	}
	if (dev->dma_ops) {
		pr_err("%s: refused: it has DMA ops of its own (%ps), e.g. an IOMMU; only dma-direct devices can be attached\n",
		       name, ops);
		return -EOPNOTSUPP;
	}
	if (ops) {
		pr_err("%s: refused: the platform's global DMA ops (%ps, Xen PV or GART) are in use\n",
		       name, ops);
		return -EOPNOTSUPP;
	}
	if (dsw_swiotlb_private(dev)) {
		pr_err("%s: refused: it has a private restricted DMA pool\n",
		       name);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Kobjects of ours (shadows, policy directories) whose release function is
 * module text still to run: the last put may be deferred (a reference held
 * elsewhere, or CONFIG_DEBUG_KOBJECT_RELEASE delays every release by up to
 * 4 s), so unloading waits for them (dsw_release_wait()).
 */
static atomic_t dsw_releases = ATOMIC_INIT(0);

/**
 * dsw_release_get() - count a kobject whose release function is ours
 */
void dsw_release_get(void)
{
	atomic_inc(&dsw_releases);
}

/**
 * dsw_release_put() - its release function ran; the last thing it does
 */
void dsw_release_put(void)
{
	atomic_dec(&dsw_releases);
}

/**
 * dsw_release_wait() - wait until every release function of ours has run
 *
 * Context: module exit or a failed load, after the last put; sleeps.  The
 * Tasks RCU grace period covers a release function preempted between its
 * dsw_release_put() and its return.
 */
void dsw_release_wait(void)
{
	bool waited = false;

	while (atomic_read(&dsw_releases)) {
		msleep(20);
		waited = true;
	}
	if (waited)
		synchronize_rcu_tasks();
}

static void dsw_shadow_release(struct device *dev)
{
	kfree(dev);
	dsw_release_put();
}

/* A new mirror of @shim's device; its name says its @role. */
static struct device *dsw_shadow_new(struct dsw_shim *shim, const char *role)
{
	struct device *dev = shim->dev;
	struct device *sh;

	sh = kzalloc(sizeof(*sh), GFP_KERNEL);
	if (!sh)
		return NULL;
	device_initialize(sh);
	sh->release = dsw_shadow_release;
	dsw_release_get();
	if (dev_set_name(sh, "%s%s", dev_name(dev), role)) {
		put_device(sh);
		return NULL;
	}
	sh->dma_mask = dev->dma_mask;
	sh->coherent_dma_mask = dev->coherent_dma_mask;
	sh->bus_dma_limit = dev->bus_dma_limit;
	sh->dma_parms = dev->dma_parms;
	/* Shared, not owned: put_device() would free it (see below). */
	sh->dma_range_map = dev->dma_range_map;
	dsw_copy_io_tlb_mem(sh, dev);
	set_dev_node(sh, dev_to_node(dev));
	return sh;
}

static void dsw_shadow_put(struct device *sh)
{
	if (!sh)
		return;
	sh->dma_range_map = NULL;
	sh->dma_parms = NULL;
	put_device(sh);
}

/* Free what dsw_shim_create() allocated before the bounce memory. */
static void dsw_shim_free(struct dsw_shim *shim)
{
	/*
	 * Only a driver that left a mapping behind at its unbind gets here
	 * with one; nothing can unmap it through the shadow any more.
	 */
	if (shim->shadow && dsw_swiotlb_transient_live(shim->shadow))
		pr_warn("%s: its driver left a mapping of the kernel's swiotlb (a transient pool) behind at unbind: leaked until reboot\n",
			dev_name(shim->dev));
	dsw_shadow_put(shim->scratch);
	dsw_shadow_put(shim->bshadow);
	dsw_shadow_put(shim->shadow);
	free_percpu(shim->stats);
	kfree(shim);
}

/**
 * dsw_shim_create() - build the shim for @dev (not yet installed)
 * @dev: a device dsw_shim_can_attach() accepted
 *
 * Allocates the shadows and the dynamic reserve; logs one line naming the
 * device if it cannot.
 *
 * Context: process context.
 * Return: the shim, or an ERR_PTR().
 */
struct dsw_shim *dsw_shim_create(struct device *dev)
{
	struct dsw_shim *shim;
	int ret;

	/*
	 * Every failure says which device and what, once: a failed load
	 * must name its reason, and the allocator's warning does neither
	 * (nor is there one under fault injection or __GFP_NOWARN).
	 */
	shim = kzalloc(sizeof(*shim), GFP_KERNEL);
	if (!shim)
		goto err_log;
	shim->dev = dev;
	shim->ops = dsw_ops_template;
	INIT_LIST_HEAD(&shim->node);
	spin_lock_init(&shim->scratch_lock);
	spin_lock_init(&shim->policy_lock);
	dsw_policy_defaults(&shim->policy);

	shim->stats = alloc_percpu(struct dsw_pcpu_stats);
	shim->shadow = dsw_shadow_new(shim, "");
	shim->bshadow = dsw_shadow_new(shim, "-bounce");
	shim->scratch = dsw_shadow_new(shim, "-scratch");
	if (!shim->stats || !shim->shadow || !shim->bshadow ||
	    !shim->scratch) {
		dsw_shim_free(shim);
		goto err_log;
	}
	/* Allocates under the streaming limit, see dsw_chunk_alloc(). */
	shim->bshadow->dma_mask = &shim->bshadow->coherent_dma_mask;
	shim->scratch->dma_mask = NULL;	/* set per probe */

	ret = dsw_bounce_init(shim);
	if (ret) {
		pr_err("%s: cannot allocate the dynamic reserve\n",
		       dev_name(dev));
		dsw_shim_destroy(shim);
		return ERR_PTR(ret);
	}
	return shim;

err_log:
	pr_err("%s: cannot allocate its state\n", dev_name(dev));
	return ERR_PTR(-ENOMEM);
}

/**
 * dsw_shim_install() - publish @shim and install its ops in its device
 * @shim: a shim from dsw_shim_create()
 *
 * Context: process context; the device's lock held and no driver bound.
 */
void dsw_shim_install(struct dsw_shim *shim)
{
	WRITE_ONCE(shim->closing, false);
	spin_lock(&dsw_shims_lock);
	list_add_rcu(&shim->node, &dsw_shims);
	spin_unlock(&dsw_shims_lock);
	/* Published, and complete, before any op can see the ops. */
	smp_wmb();
	set_dma_ops(shim->dev, &shim->ops);
	dsw_clear_skip_sync(shim->dev);
}

/**
 * dsw_shim_uninstall() - give the device its own DMA path back
 * @shim: the installed shim
 * @force: uninstall even if dynamic buffers stay mapped (the device is
 *	gone, or the module is unloading); they are dropped when the shim
 *	is freed
 *
 * New mappings take the kernel's path at once; live dynamic buffers get
 * DSW_DRAIN_MS to be unmapped.  Then the ops are removed from the device.
 * Callers that read them before may still run them: the shim must be
 * handed to dsw_shim_retire(), which frees it once they cannot.
 *
 * Context: process context, may sleep (up to DSW_DRAIN_MS and an RCU
 * grace period); the device's lock held (unless it was removed from its
 * bus) and no driver bound.
 * Return: 0, or -EBUSY (not forced, buffers still mapped): then the shim
 * stays installed and in use.
 */
int dsw_shim_uninstall(struct dsw_shim *shim, bool force)
{
	unsigned int waited = 0;

	WRITE_ONCE(shim->closing, true);
	/* A map that missed the flag has counted its buffer after this. */
	synchronize_rcu();
	while (dsw_bounce_busy(shim) && waited < DSW_DRAIN_MS) {
		msleep(20);
		waited += 20;
	}
	if (dsw_bounce_busy(shim) && !force) {
		WRITE_ONCE(shim->closing, false);
		return -EBUSY;
	}
	dsw_swiotlb_hand_over(shim->dev, shim->shadow);
	set_dma_ops(shim->dev, NULL);
	/*
	 * Nothing can map dynamically any more, and nothing is mapped: the
	 * bounce memory goes back now (ops still running take the kernel's
	 * path).  Buffers left by a forced uninstall stay until the free.
	 */
	if (!dsw_bounce_busy(shim))
		dsw_bounce_exit(shim);
	return 0;
}

/**
 * dsw_shim_retire() - free an uninstalled shim once no op can use it
 * @shim: a shim dsw_shim_uninstall() removed; the caller lets go of it
 *
 * A caller of the DMA API may have read the ops just before they were
 * removed and be about to call them -- preempted, or interrupted -- or be
 * inside one.  The shim stays published (so that the op finds it) until a
 * Tasks RCU grace period has passed (every task that was running has
 * scheduled voluntarily, so none is between reading the ops and the call)
 * and RCU and dsw_srcu grace periods (none is inside one); a work item
 * then frees it.
 *
 * Context: any but hard interrupt.
 */
void dsw_shim_retire(struct dsw_shim *shim)
{
	spin_lock(&dsw_shims_lock);
	list_add_tail(&shim->retire, &dsw_retired);
	spin_unlock(&dsw_shims_lock);
	queue_work(dsw_wq, &dsw_reaper);
}

static void dsw_reap(struct work_struct *work)
{
	struct dsw_shim *shim, *tmp;
	LIST_HEAD(list);

	spin_lock(&dsw_shims_lock);
	list_splice_init(&dsw_retired, &list);
	spin_unlock(&dsw_shims_lock);
	if (list_empty(&list))
		return;
	synchronize_rcu_tasks();	/* read the ops, not called them yet */
	synchronize_rcu();		/* in a callback that never sleeps */
	synchronize_srcu(&dsw_srcu);	/* in one that may */
	spin_lock(&dsw_shims_lock);
	list_for_each_entry(shim, &list, retire)
		list_del_rcu(&shim->node);
	spin_unlock(&dsw_shims_lock);
	/* ops of other devices may be walking past them */
	synchronize_rcu();
	synchronize_srcu(&dsw_srcu);
	list_for_each_entry_safe(shim, tmp, &list, retire)
		dsw_shim_destroy(shim);
}

/**
 * dsw_shim_exit() - wait until every retired shim is freed
 *
 * Context: module unload, after every shim is uninstalled and retired;
 * may sleep until every task that was running has scheduled.
 */
void dsw_shim_exit(void)
{
	bool empty;

	do {
		flush_work(&dsw_reaper);
		spin_lock(&dsw_shims_lock);
		empty = list_empty(&dsw_retired);
		spin_unlock(&dsw_shims_lock);
	} while (!empty);
	WARN_ON_ONCE(!list_empty(&dsw_shims));
}

/**
 * dsw_shim_destroy() - free a shim that is not installed
 * @shim: a shim from dsw_shim_create() never installed, or one retired
 *	(dsw_shim_retire()) that no op can use any more
 *
 * Context: process context.
 */
void dsw_shim_destroy(struct dsw_shim *shim)
{
	dsw_bounce_exit(shim);
	dsw_shim_free(shim);
}
