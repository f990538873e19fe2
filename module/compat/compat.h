/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels dynswiotlb builds for lives here.
 *
 * Kbuild force-includes this file (-include) into every source file, after
 * the kernel's own forced includes, so CONFIG_* symbols are visible but no
 * kernel header has been included yet.  Differences are detected by the
 * feature probes in compat/Kbuild.include (-DDSW_HAVE_*), never by
 * LINUX_VERSION_CODE: distribution kernels backport features.
 */
#ifndef DSW_COMPAT_H
#define DSW_COMPAT_H

#ifndef CONFIG_PCI
#error "dynswiotlb requires CONFIG_PCI"
#endif

/*
 * Newer kernels (6.12 here, not 5.10 or 6.1) take const struct bus_type
 * pointers in the driver-core bus API (bus_register_notifier(),
 * bus_find_device(), ...) and define pci_bus_type and platform_bus_type as
 * const.  Declare bus pointers as "dsw_const_bus struct bus_type *".
 */
#ifdef DSW_HAVE_CONST_BUS_TYPE
#define dsw_const_bus const
#else
#define dsw_const_bus
#endif

#if !defined(CONFIG_DMA_OPS) && !defined(CONFIG_ARCH_HAS_DMA_OPS)
#error "dynswiotlb needs per-device dma_map_ops (CONFIG_DMA_OPS / CONFIG_ARCH_HAS_DMA_OPS)"
#endif

#ifndef CONFIG_SWIOTLB
#error "dynswiotlb requires CONFIG_SWIOTLB"
#endif

#ifdef CONFIG_HIGHMEM
/* Bounce copies use the kernel's direct map (phys_to_virt()). */
#error "dynswiotlb does not support CONFIG_HIGHMEM kernels"
#endif

#include <linux/cc_platform.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/mem_encrypt.h>
#include <linux/mmzone.h>
#include <linux/swiotlb.h>

/*
 * The kernel's static swiotlb pool, seen from a device.
 *
 * 6.1+: each device points at its io_tlb_mem; the default pool is shared,
 * restricted DMA pools are private to their devices.  5.10: one global pool,
 * visible only through swiotlb_max_segment(): 0 without a pool, 1 when
 * bouncing is forced (swiotlb=force, SEV).
 */
#ifdef DSW_HAVE_DEV_IO_TLB_MEM
static inline bool dsw_swiotlb_active(struct device *dev)
{
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && mem->nslabs;
}

static inline bool dsw_swiotlb_forced(struct device *dev)
{
	return is_swiotlb_force_bounce(dev);
}

static inline bool dsw_swiotlb_private(struct device *dev)
{
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && mem->for_alloc;
}

static inline void dsw_copy_io_tlb_mem(struct device *to, struct device *from)
{
	to->dma_io_tlb_mem = from->dma_io_tlb_mem;
}

/*
 * 6.6+ with CONFIG_SWIOTLB_DYNAMIC: may the kernel's pool grow by itself
 * (a worker adding shared pools, which are never given back; a transient
 * pool, freed at unmap, for a mapping it cannot place at once)?  Then
 * "static-first" is "the kernel's growing pool first"; its limit per
 * mapping stays swiotlb's segment size.  device_initialize() gave the
 * shadow its own empty list of transient pools.
 */
static inline bool dsw_swiotlb_grows(struct device *dev)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && READ_ONCE(mem->can_grow);
#else
	return false;
#endif
}

/*
 * CONFIG_SWIOTLB_DYNAMIC: dma-direct looks for a device's swiotlb slots
 * only once that device has used swiotlb (dma_uses_io_tlb).  A mapping
 * the shadow @sh made may still be unmapped through @dev itself once the
 * ops are gone (a driver that leaks it past its unbind, a forced
 * uninstall): mark @dev as well, so that the kernel's shared pools are
 * searched for it, as they are on a kernel without growth.  The shadow's
 * transient pools are on its own list, out of @dev's reach:
 * dsw_swiotlb_transient_live() tells whether any is left.
 */
static inline void dsw_swiotlb_hand_over(struct device *dev, struct device *sh)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	if (READ_ONCE(sh->dma_uses_io_tlb)) {
		WRITE_ONCE(dev->dma_uses_io_tlb, true);
		/* before the ops go; pairs with swiotlb_find_pool()'s smp_rmb() */
		smp_mb();
	}
#endif
}

/* CONFIG_SWIOTLB_DYNAMIC: does @sh still hold a transient pool mapped? */
static inline bool dsw_swiotlb_transient_live(struct device *sh)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	unsigned long flags;
	bool live;

	spin_lock_irqsave(&sh->dma_io_tlb_lock, flags);
	live = !list_empty(&sh->dma_io_tlb_pools);
	spin_unlock_irqrestore(&sh->dma_io_tlb_lock, flags);
	return live;
#else
	return false;
#endif
}
#else
static inline bool dsw_swiotlb_active(struct device *dev)
{
	return swiotlb_max_segment() != 0;
}

static inline bool dsw_swiotlb_forced(struct device *dev)
{
	return swiotlb_max_segment() == 1;
}

static inline bool dsw_swiotlb_private(struct device *dev)
{
	return false;
}

static inline void dsw_copy_io_tlb_mem(struct device *to, struct device *from)
{
}

static inline bool dsw_swiotlb_grows(struct device *dev)
{
	return false;
}

static inline void dsw_swiotlb_hand_over(struct device *dev, struct device *sh)
{
}

static inline bool dsw_swiotlb_transient_live(struct device *sh)
{
	return false;
}
#endif

/*
 * Must DMA for @dev go to decrypted memory (SEV/TDX guests, or an SME host
 * with a device that cannot address the encryption bit)?  The kernel's
 * force_dma_unencrypted() is not exported; this is the x86 rule of every
 * version (arch/x86/mm/mem_encrypt*.c).
 */
static inline bool dsw_force_unencrypted(struct device *dev)
{
	if (cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT))
		return true;
	if (cc_platform_has(CC_ATTR_HOST_MEM_ENCRYPT))
		return min_not_zero(dev->coherent_dma_mask, dev->bus_dma_limit) <=
		       DMA_BIT_MASK(__ffs64(sme_me_mask));
	return false;
}

/*
 * Can @dev reach the RAM at @phys directly?  dma_capable() of 7.x needs
 * the unexported force_dma_unencrypted(), so spell it out for all.
 */
static inline bool dsw_dma_capable(struct device *dev, phys_addr_t phys,
				   size_t size)
{
	dma_addr_t end = phys_to_dma(dev, phys) + size - 1;

	if (dsw_force_unencrypted(dev))
		return false;
	return end <= min_not_zero(*dev->dma_mask, dev->bus_dma_limit);
}

/* swiotlb's largest mapping for @dev (kernel/dma/swiotlb.c, all versions). */
static inline size_t dsw_swiotlb_max_mapping(struct device *dev)
{
	unsigned int min_align_mask = dma_get_min_align_mask(dev);
	size_t min_align = 0;

	if (min_align_mask)
		min_align = roundup(min_align_mask, IO_TLB_SIZE);
	return (size_t)IO_TLB_SIZE * IO_TLB_SEGSIZE - min_align;
}

/*
 * 6.12: devices translated by the IOMMU's dma-iommu code never reach
 * dev->dma_ops.  7.x: the same, as a device flag.
 */
static inline bool dsw_dev_dma_iommu(struct device *dev)
{
#if defined(DSW_HAVE_DEV_FLAG_DMA)
	return dev_dma_iommu(dev);
#elif defined(DSW_HAVE_DEV_DMA_IOMMU) && defined(CONFIG_IOMMU_DMA)
	return dev->dma_iommu;
#else
	return false;
#endif
}

/*
 * 6.12+: dma_set_mask() caches "syncs can be skipped" in the device; for a
 * device that was direct-mapped it is set on x86, and the driver-side sync
 * helpers then never reach our ops.  Clear it once our ops are installed.
 * Context: 6.12 stores a bitfield shared with driver-core bits: call with
 * device_lock(dev) held.
 */
static inline void dsw_clear_skip_sync(struct device *dev)
{
#if defined(DSW_HAVE_DEV_FLAG_DMA)
	dev_clear_dma_skip_sync(dev);
#elif defined(DSW_HAVE_DEV_DMA_SKIP_SYNC) && defined(CONFIG_DMA_NEED_SYNC)
	dev->dma_skip_sync = false;
#endif
}

/* Streaming map/unmap of a physical range through another device. */
static inline dma_addr_t dsw_fwd_map(struct device *dev, phys_addr_t phys,
				     size_t size, enum dma_data_direction dir,
				     unsigned long attrs)
{
#ifdef DSW_HAVE_MAP_PHYS
	return dma_map_phys(dev, phys, size, dir, attrs);
#else
	return dma_map_page_attrs(dev, pfn_to_page(PHYS_PFN(phys)),
				  offset_in_page(phys), size, dir, attrs);
#endif
}

static inline void dsw_fwd_unmap(struct device *dev, dma_addr_t dma,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
#ifdef DSW_HAVE_MAP_PHYS
	dma_unmap_phys(dev, dma, size, dir, attrs);
#else
	dma_unmap_page_attrs(dev, dma, size, dir, attrs);
#endif
}

/* The largest order the page allocator hands out (renamed in 6.8). */
#ifdef MAX_PAGE_ORDER
#define DSW_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#else
#define DSW_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

/* Tracepoints: __assign_str() lost its source argument in 6.10. */
#ifdef DSW_HAVE_ASSIGN_STR_1
#define dsw_assign_str(dst, src)	\
	do { (void)(src); __assign_str(dst); } while (0)
#else
#define dsw_assign_str(dst, src)	__assign_str(dst, src)
#endif

/*
 * The module's work items (growing and shrinking the pools, freeing shims)
 * need no particular CPU: the unbound system workqueue, named
 * system_dfl_wq since 6.17 (7.3 logs work queued under the old names).
 */
#ifdef DSW_HAVE_SYSTEM_DFL_WQ
#define dsw_wq		system_dfl_wq
#else
#define dsw_wq		system_unbound_wq
#endif

/* map_sg's failure value: a negative errno on 6.x, 0 on 5.10. */
#ifdef DSW_HAVE_MAP_SG_ERRNO
#define DSW_MAP_SG_ERROR(err)	(err)
#else
#define DSW_MAP_SG_ERROR(err)	((void)(err), 0)
#endif

/*
 * dma_supported() of the DMA-direct code behind @shadow.  5.10 exports it;
 * later kernels reach it only through dma_set_mask(), on a scratch device
 * whose mask may be overwritten.
 */
static inline int dsw_direct_supported(struct device *scratch, u64 mask)
{
#ifdef DSW_HAVE_DMA_SUPPORTED_EXPORT
	return dma_supported(scratch, mask);
#else
	u64 scratch_mask = 0;

	scratch->dma_mask = &scratch_mask;
	return dma_set_mask(scratch, mask) == 0;
#endif
}

#endif /* DSW_COMPAT_H */
