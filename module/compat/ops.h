/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The version-dependent half of dynswiotlb's dma_map_ops: which members a
 * kernel's struct dma_map_ops has and how they call into the shim.  Only
 * module/shim.c includes this, after defining the version-independent
 * callbacks it refers to.
 */
#ifndef DSW_COMPAT_OPS_H
#define DSW_COMPAT_OPS_H

#ifdef DSW_HAVE_MAP_PHYS
/* 7.x: one entry for memory and MMIO resources (DMA_ATTR_MMIO). */
static dma_addr_t dsw_op_map_phys(struct device *dev, phys_addr_t phys,
				  size_t size, enum dma_data_direction dir,
				  unsigned long attrs)
{
	if (attrs & DMA_ATTR_MMIO)
		return dsw_map_resource(dev, phys, size, dir, attrs);
	return dsw_map(dev, phys, size, dir, attrs);
}

static void dsw_op_unmap_phys(struct device *dev, dma_addr_t dma, size_t size,
			      enum dma_data_direction dir, unsigned long attrs)
{
	if (attrs & DMA_ATTR_MMIO)
		dsw_unmap_resource(dev, dma, size, dir, attrs);
	else
		dsw_unmap(dev, dma, size, dir, attrs);
}

#define DSW_OPS_MAP_MEMBERS						\
	.map_phys = dsw_op_map_phys,					\
	.unmap_phys = dsw_op_unmap_phys
#else
static dma_addr_t dsw_op_map_page(struct device *dev, struct page *page,
				  unsigned long offset, size_t size,
				  enum dma_data_direction dir,
				  unsigned long attrs)
{
	return dsw_map(dev, page_to_phys(page) + offset, size, dir, attrs);
}

#define DSW_OPS_MAP_MEMBERS						\
	.map_page = dsw_op_map_page,					\
	.unmap_page = dsw_unmap,					\
	.map_resource = dsw_map_resource,				\
	.unmap_resource = dsw_unmap_resource
#endif

#ifdef DSW_HAVE_ALLOC_PAGES_OP
#define DSW_OPS_ALLOC_PAGES_MEMBERS					\
	.alloc_pages_op = dsw_op_alloc_pages,				\
	.free_pages = dsw_op_free_pages
#else
#define DSW_OPS_ALLOC_PAGES_MEMBERS					\
	.alloc_pages = dsw_op_alloc_pages,				\
	.free_pages = dsw_op_free_pages
#endif

#ifdef DSW_HAVE_OPS_ALLOC_NONCOHERENT
/* 5.10: dma_alloc_noncoherent() has an op of its own. */
static void *dsw_op_alloc_noncoherent(struct device *dev, size_t size,
				      dma_addr_t *dma,
				      enum dma_data_direction dir, gfp_t gfp)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);
	void *ret = sh ? dma_alloc_noncoherent(sh, size, dma, dir, gfp) : NULL;

	srcu_read_unlock(&dsw_srcu, idx);
	return ret;
}

static void dsw_op_free_noncoherent(struct device *dev, size_t size,
				    void *vaddr, dma_addr_t dma,
				    enum dma_data_direction dir)
{
	int idx = srcu_read_lock(&dsw_srcu);
	struct device *sh = dsw_shadow_for_alloc(dev);

	if (sh)
		dma_free_noncoherent(sh, size, vaddr, dma, dir);
	srcu_read_unlock(&dsw_srcu, idx);
}

#define DSW_OPS_NONCOHERENT_MEMBERS					\
	.alloc_noncoherent = dsw_op_alloc_noncoherent,			\
	.free_noncoherent = dsw_op_free_noncoherent,
#else
#define DSW_OPS_NONCOHERENT_MEMBERS
#endif

/*
 * 6.1 also has alloc_noncontiguous/free_noncontiguous members; they are left
 * empty on purpose.  The core then builds the table from alloc_pages, as it
 * does for dma-direct, whereas with the op set dma_vmap_noncontiguous()
 * expects a table embedded in its private struct dma_sgt_handle.
 */

#ifdef DSW_HAVE_OPT_MAPPING_SIZE
/*
 * dma-direct has no preference; neither has the shim (the kernel takes the
 * minimum of this and max_mapping_size).
 */
static size_t dsw_op_opt_mapping_size(void)
{
	return SIZE_MAX;
}

#define DSW_OPS_OPT_MEMBERS						\
	.opt_mapping_size = dsw_op_opt_mapping_size,
#else
#define DSW_OPS_OPT_MEMBERS
#endif

#endif /* DSW_COMPAT_OPS_H */
