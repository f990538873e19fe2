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
 */

#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "bounce.h"
#include "shim.h"

/* Mirror the DMA settings the driver or bus may change after attach. */
static void dsw_shadow_refresh(struct dsw_shim *shim, struct device *sh)
{
	struct device *dev = shim->dev;

	WRITE_ONCE(sh->coherent_dma_mask, dev->coherent_dma_mask);
	WRITE_ONCE(sh->bus_dma_limit, dev->bus_dma_limit);
}

/* The shadow, refreshed, for calls that allocate under the coherent mask. */
static struct device *dsw_shadow_for_alloc(struct device *dev)
{
	struct dsw_shim *shim = dsw_shim_of(dev);

	dsw_shadow_refresh(shim, &shim->shadow);
	return &shim->shadow;
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
	struct dsw_shim *shim = dsw_shim_of(dev);
	struct device *sh = &shim->shadow;
	unsigned int mode = READ_ONCE(shim->policy.mode);
	bool reach;
	dma_addr_t dma;

	this_cpu_inc(shim->stats->maps);
	dsw_shadow_refresh(shim, sh);
	reach = !dsw_swiotlb_forced(sh) && dsw_dma_capable(dev, phys, size);

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

	dma = dsw_bounce_map(shim, phys, size, dir);
	if (dma == DMA_MAPPING_ERROR)
		this_cpu_inc(shim->stats->failures);
	else
		this_cpu_inc(shim->stats->dynamic);
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
	struct dsw_shim *shim = dsw_shim_of(dev);

	if (READ_ONCE(shim->nr_live) &&
	    dsw_bounce_unmap(shim, dma, size, dir, attrs))
		return;
	dsw_fwd_unmap(&shim->shadow, dma, size, dir, attrs);
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
	struct dsw_shim *shim = dsw_shim_of(dev);

	this_cpu_inc(shim->stats->maps);
	this_cpu_inc(shim->stats->direct);
	return dma_map_resource(&shim->shadow, phys, size, dir, attrs);
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
	dma_unmap_resource(&dsw_shim_of(dev)->shadow, dma, size, dir, attrs);
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

static void dsw_sync_single_for_cpu(struct device *dev, dma_addr_t dma,
				    size_t size, enum dma_data_direction dir)
{
	struct dsw_shim *shim = dsw_shim_of(dev);

	if (READ_ONCE(shim->nr_live) &&
	    dsw_bounce_sync(shim, dma, size, dir, true))
		return;
	dma_sync_single_for_cpu(&shim->shadow, dma, size, dir);
}

static void dsw_sync_single_for_device(struct device *dev, dma_addr_t dma,
				       size_t size,
				       enum dma_data_direction dir)
{
	struct dsw_shim *shim = dsw_shim_of(dev);

	if (READ_ONCE(shim->nr_live) &&
	    dsw_bounce_sync(shim, dma, size, dir, false))
		return;
	dma_sync_single_for_device(&shim->shadow, dma, size, dir);
}

static void dsw_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl,
				int nents, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		dsw_sync_single_for_cpu(dev, sg->dma_address, sg_dma_len(sg),
					dir);
}

static void dsw_sync_sg_for_device(struct device *dev,
				   struct scatterlist *sgl, int nents,
				   enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		dsw_sync_single_for_device(dev, sg->dma_address,
					   sg_dma_len(sg), dir);
}

static void *dsw_alloc(struct device *dev, size_t size, dma_addr_t *dma,
		       gfp_t gfp, unsigned long attrs)
{
	return dma_alloc_attrs(dsw_shadow_for_alloc(dev), size, dma, gfp,
			       attrs);
}

static void dsw_free(struct device *dev, size_t size, void *vaddr,
		     dma_addr_t dma, unsigned long attrs)
{
	dma_free_attrs(dsw_shadow_for_alloc(dev), size, vaddr, dma, attrs);
}

static struct page *dsw_op_alloc_pages(struct device *dev, size_t size,
				       dma_addr_t *dma,
				       enum dma_data_direction dir, gfp_t gfp)
{
	return dma_alloc_pages(dsw_shadow_for_alloc(dev), size, dma, dir, gfp);
}

static void dsw_op_free_pages(struct device *dev, size_t size,
			      struct page *page, dma_addr_t dma,
			      enum dma_data_direction dir)
{
	dma_free_pages(dsw_shadow_for_alloc(dev), size, page, dma, dir);
}

static int dsw_mmap(struct device *dev, struct vm_area_struct *vma,
		    void *vaddr, dma_addr_t dma, size_t size,
		    unsigned long attrs)
{
	return dma_mmap_attrs(dsw_shadow_for_alloc(dev), vma, vaddr, dma, size,
			      attrs);
}

static int dsw_get_sgtable(struct device *dev, struct sg_table *sgt,
			   void *vaddr, dma_addr_t dma, size_t size,
			   unsigned long attrs)
{
	return dma_get_sgtable_attrs(dsw_shadow_for_alloc(dev), sgt, vaddr,
				     dma, size, attrs);
}

/* What dma-direct accepts, asked of a scratch mirror of the device. */
static int dsw_dma_supported(struct device *dev, u64 mask)
{
	struct dsw_shim *shim = dsw_shim_of(dev);
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&shim->scratch_lock, flags);
	dsw_shadow_refresh(shim, &shim->scratch);
	ret = dsw_direct_supported(&shim->scratch, mask);
	spin_unlock_irqrestore(&shim->scratch_lock, flags);
	return ret;
}

static u64 dsw_get_required_mask(struct device *dev)
{
	return dma_get_required_mask(dsw_shadow_for_alloc(dev));
}

/*
 * Static-first devices get the kernel's own limit (swiotlb's segment size
 * when they may bounce through a static pool): drivers behave as without
 * the module.  max_map_kb advertises larger (or smaller) dynamic mappings
 * instead; a device that must bounce with no static pool, or in
 * dynamic-only mode, gets the dynamic path's limit.
 */
static size_t dsw_max_mapping_size(struct device *dev)
{
	struct dsw_shim *shim = dsw_shim_of(dev);
	struct device *sh = dsw_shadow_for_alloc(dev);
	size_t max = dma_max_mapping_size(sh);
	size_t want = (size_t)READ_ONCE(shim->policy.max_map_kb) << 10;
	size_t dyn = dsw_bounce_max_mapping(shim);
	unsigned int mode = READ_ONCE(shim->policy.mode);
	bool bounces;

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
	return dyn;
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
 * Return: 0, or -EINVAL / -EOPNOTSUPP.
 */
int dsw_shim_can_attach(struct device *dev)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	const char *name = dev_name(dev);

	if (!dev->dma_mask) {
		pr_err("%s: refused: not a DMA device (no DMA mask)\n", name);
		return -EINVAL;
	}
	if (IS_ENABLED(CONFIG_SWIOTLB_DYNAMIC)) {
		pr_err("%s: refused: this kernel's swiotlb grows by itself (CONFIG_SWIOTLB_DYNAMIC)\n",
		       name);
		return -EOPNOTSUPP;
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

static void dsw_shadow_release(struct device *dev)
{
	/* Embedded in struct dsw_shim, freed by dsw_shim_destroy(). */
}

static void dsw_shadow_init(struct dsw_shim *shim, struct device *sh,
			    const char *role)
{
	struct device *dev = shim->dev;

	device_initialize(sh);
	sh->release = dsw_shadow_release;
	dev_set_name(sh, "%s%s", dev_name(dev), role);
	sh->dma_mask = dev->dma_mask;
	sh->coherent_dma_mask = dev->coherent_dma_mask;
	sh->bus_dma_limit = dev->bus_dma_limit;
	sh->dma_parms = dev->dma_parms;
	/* Shared, not owned: put_device() would free it (see destroy). */
	sh->dma_range_map = dev->dma_range_map;
	dsw_copy_io_tlb_mem(sh, dev);
	set_dev_node(sh, dev_to_node(dev));
}

static void dsw_shadow_put(struct device *sh)
{
	sh->dma_range_map = NULL;
	sh->dma_parms = NULL;
	put_device(sh);
}

/**
 * dsw_shim_create() - build the shim for @dev (not yet installed)
 * @dev: a device dsw_shim_can_attach() accepted
 *
 * Allocates the shadows and the dynamic reserve.
 *
 * Context: process context.
 * Return: the shim, or an ERR_PTR().
 */
struct dsw_shim *dsw_shim_create(struct device *dev)
{
	struct dsw_shim *shim;
	int ret;

	shim = kzalloc(sizeof(*shim), GFP_KERNEL);
	if (!shim)
		return ERR_PTR(-ENOMEM);
	shim->stats = alloc_percpu(struct dsw_pcpu_stats);
	if (!shim->stats) {
		kfree(shim);
		return ERR_PTR(-ENOMEM);
	}
	shim->dev = dev;
	shim->ops = dsw_ops_template;
	spin_lock_init(&shim->scratch_lock);
	spin_lock_init(&shim->policy_lock);
	dsw_policy_defaults(&shim->policy);

	dsw_shadow_init(shim, &shim->shadow, "");
	dsw_shadow_init(shim, &shim->bshadow, "-bounce");
	/* Allocates under the streaming limit, see dsw_chunk_alloc(). */
	shim->bshadow.dma_mask = &shim->bshadow.coherent_dma_mask;
	dsw_shadow_init(shim, &shim->scratch, "-scratch");
	shim->scratch.dma_mask = NULL;	/* set per probe */

	ret = dsw_bounce_init(shim);
	if (ret) {
		pr_err("%s: cannot allocate the dynamic reserve\n",
		       dev_name(dev));
		dsw_shim_destroy(shim);
		return ERR_PTR(ret);
	}
	return shim;
}

/**
 * dsw_shim_destroy() - free a shim that is no longer installed
 * @shim: the shim; its device must not use it any more
 *
 * Context: process context.
 */
void dsw_shim_destroy(struct dsw_shim *shim)
{
	dsw_bounce_exit(shim);
	dsw_shadow_put(&shim->scratch);
	dsw_shadow_put(&shim->bshadow);
	dsw_shadow_put(&shim->shadow);
	free_percpu(shim->stats);
	kfree(shim);
}
