// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlb_test: DMA-API coverage test module for the dynswiotlb selftests.
 *
 * Registers the platform driver "dynswiotlb_test" and two devices with
 * 64-bit DMA masks: DSW_TEST_DEV_NAME, the device under test (dynswiotlb
 * attaches to it when loaded with devices=dynswiotlb_test.0 before this
 * module), and DSW_TEST_REF_DEV_NAME, which is never attached: the kernel's
 * own DMA path, used as a reference and to fill ("hog") the swiotlb pool.
 *
 * <debugfs>/dynswiotlb_test/ctl takes DSW_TEST_IOC_RUN: one case, one DMA
 * API operation, with every byte checked.  The module plays the device by
 * accessing the memory behind the DMA addresses through the direct map
 * (dma_to_phys(), then phys_to_virt(), after checking that every page is
 * RAM), which is what the device would see on x86 dma-direct without memory
 * encryption.  The interface is documented in <uapi/linux/dynswiotlb.h>.
 *
 * Every buffer sits in a larger region filled with a guard pattern, and
 * every generation of data is a different pattern (DSW_TEST_PATTERN), so a
 * missing, extra, stale, misplaced or partial copy shows up as bad bytes.
 *
 * HOLD keeps streaming mappings of the device under test across ioctls,
 * until RELEASE, the driver's remove() or module exit.
 *
 * STRESS runs cases from kernel threads without dsw_t_lock, beside
 * everything else: the cases only touch their own buffers.
 *
 * Locking: dsw_t_lock serialises the cases, the hog, the held mappings,
 * the devices' bound state and the mmap buffer of each open file.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/io.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/refcount.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "dynswiotlb_test.h"

/* ===== Compat: every kernel difference (probes in Kbuild) ===== */

/* Largest order the page allocator hands out (MAX_ORDER - 1 before 6.8). */
#ifdef MAX_PAGE_ORDER
#define DSW_T_MAX_ORDER		MAX_PAGE_ORDER
#else
#define DSW_T_MAX_ORDER		(MAX_ORDER - 1)
#endif

/* dma_set_min_align_mask(): 0, or a negative errno if it cannot be set. */
static int dsw_t_set_min_align(struct device *dev, unsigned int mask)
{
#ifdef DSW_T_HAVE_MIN_ALIGN
	if (!dev->dma_parms)
		return -EOPNOTSUPP;	/* 6.12+ would WARN */
#ifdef DSW_T_MIN_ALIGN_VOID
	dma_set_min_align_mask(dev, mask);
	return 0;
#else
	return dma_set_min_align_mask(dev, mask);
#endif
#else
	return mask ? -EOPNOTSUPP : 0;
#endif
}

static bool dsw_t_have_min_align(void)
{
#ifdef DSW_T_HAVE_MIN_ALIGN
	return true;
#else
	return false;
#endif
}

/* The kernel's swiotlb can bounce for @dev (a pool exists and is usable). */
static bool dsw_t_swiotlb_can_bounce(struct device *dev)
{
#if defined(DSW_T_SWIOTLB_ACTIVE_DEV)
	return is_swiotlb_active(dev);
#elif defined(DSW_T_SWIOTLB_MAX_SEGMENT) && !defined(DSW_T_DEV_IO_TLB_MEM)
	/* 0 without a pool, and with swiotlb=noforce (1 slab, never used) */
	return swiotlb_max_segment() != 0;
#elif defined(DSW_T_DEV_IO_TLB_MEM)
	return dev->dma_io_tlb_mem && dev->dma_io_tlb_mem->nslabs;
#else
#error "dynswiotlb_test: no way to tell whether swiotlb is active"
#endif
}

/* dma_opt_mapping_size(), or 0 where the kernel has none. */
static size_t dsw_t_opt_mapping_size(struct device *dev)
{
#ifdef DSW_T_HAVE_OPT_SIZE
	return dma_opt_mapping_size(dev);
#else
	return 0;
#endif
}

#ifdef DSW_T_HAVE_NONCONTIG
#define DSW_T_HAVE_NONCONTIG_API	1
#else
#define DSW_T_HAVE_NONCONTIG_API	0
#endif

/* platform_driver.remove: int before 6.11, void since. */
static void dsw_t_remove_dev(struct platform_device *pdev);

#ifdef DSW_T_REMOVE_INT
static int dsw_t_remove(struct platform_device *pdev)
{
	dsw_t_remove_dev(pdev);
	return 0;
}
#else
static void dsw_t_remove(struct platform_device *pdev)
{
	dsw_t_remove_dev(pdev);
}
#endif

/* ===== End of compat ===== */

#define DSW_T_GEN_A	0	/* CPU data at map time */
#define DSW_T_GEN_B	1	/* CPU data written while mapped */
#define DSW_T_GEN_C	2	/* device data, first write */
#define DSW_T_GEN_D	3	/* device data, last write */
#define DSW_T_GEN_GUARD	7	/* around the buffer */

#define DSW_T_REJECTS	16	/* allocation attempts to place a buffer */
#define DSW_T_CHUNK	3	/* entries per array of a chained scatterlist */
#define DSW_T_MAX_GAP	64	/* guard bytes between scatterlist entries */
#define DSW_T_HOG_MAX	65536	/* mappings the hog holds at most */
#define DSW_T_HOG_CHUNK	(256U << 10)

static DEFINE_MUTEX(dsw_t_lock);
static DEFINE_SPINLOCK(dsw_t_irq_lock);
static struct platform_device *dsw_t_pdev[2];
static struct device *dsw_t_bound[2];
static bool dsw_t_probed[2];	/* the driver is bound (the pointer stays) */
static struct dentry *dsw_t_dir;

/* The hog: mappings of the reference device filling swiotlb. */
static struct {
	struct page *page;
	dma_addr_t *dma;
	size_t *len;
	unsigned int nr;
	u64 bytes;
} dsw_t_hog;

/* HOLD: streaming mappings of the device under test kept until RELEASE. */
static struct {
	struct page **pages;
	dma_addr_t *dma;
	unsigned int npages;	/* allocated */
	unsigned int nr;	/* mapped */
	unsigned int order;
	size_t size;
	enum dma_data_direction dir;
} dsw_t_held;

/* A contiguous piece of the case's byte stream, as the CPU or device sees it. */
struct dsw_t_span {
	u8 *va;			/* through the direct map */
	phys_addr_t phys;
	dma_addr_t dma;		/* device spans */
	size_t pos;		/* offset in the stream */
	size_t len;
	bool bounced;
};

struct dsw_t_ctx {
	struct dsw_test_case *c;
	struct device *dev;
	enum dma_data_direction dir;
	u64 seed;
	u64 mask;		/* effective streaming limit */
	/* The region holding the buffer and its guards. */
	struct page *page;
	unsigned int order;
	u8 *base;
	size_t rlen;
	/* CPU segments (one, or the scatterlist entries) and DMA segments. */
	struct dsw_t_span *cpu;
	unsigned int ncpu;
	struct dsw_t_span *dsp;
	unsigned int ndev;
	/* Scatterlist. */
	struct scatterlist **chunks;
	unsigned int nchunks;
	struct sg_table sgt;
};

static struct device *dsw_t_dut(void)
{
	return dsw_t_bound[0];
}

static struct device *dsw_t_ref(void)
{
	return dsw_t_bound[1];
}

static bool dsw_t_attached(struct device *dev)
{
	return !!get_dma_ops(dev);
}

static u64 dsw_t_stream_limit(struct device *dev)
{
	u64 mask = dev->dma_mask ? *dev->dma_mask : 0;

	if (dev->bus_dma_limit)
		mask = min_t(u64, mask, dev->bus_dma_limit);
	return mask;
}

/* Record a failed check; the first one is reported. */
static void dsw_t_bad(struct dsw_t_ctx *x, u32 chk, size_t pos, u64 count)
{
	struct dsw_test_case *c = x->c;

	if (!count)
		return;
	if (!c->fail_check) {
		c->fail_check = chk;
		c->first_bad = pos;
	}
	c->mismatches += count;
}

static void dsw_t_fill(u8 *va, size_t pos, size_t len, u64 seed,
		       unsigned int gen)
{
	size_t i;

	for (i = 0; i < len; i++)
		va[i] = DSW_TEST_PATTERN(seed, gen, pos + i);
}

/* Compare @len bytes; return the bad ones, *first the position of the first. */
static size_t dsw_t_cmp(const u8 *va, size_t pos, size_t len, u64 seed,
			unsigned int gen, size_t *first)
{
	size_t i, bad = 0;

	for (i = 0; i < len; i++) {
		if (va[i] != DSW_TEST_PATTERN(seed, gen, pos + i)) {
			if (!bad)
				*first = pos + i;
			bad++;
		}
	}
	return bad;
}

/* Fill stream range [a, b) through @spans with generation @gen. */
static void dsw_t_spans_fill(struct dsw_t_ctx *x, struct dsw_t_span *spans,
			     unsigned int n, size_t a, size_t b,
			     unsigned int gen)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		size_t lo = max(a, spans[i].pos);
		size_t hi = min(b, spans[i].pos + spans[i].len);

		if (lo < hi)
			dsw_t_fill(spans[i].va + (lo - spans[i].pos), lo,
				   hi - lo, x->seed, gen);
	}
}

/*
 * Check stream range [a, b) through @spans: generation @gen_bounced in spans
 * that were bounced, @gen_direct in the others.
 */
static void dsw_t_spans_check(struct dsw_t_ctx *x, struct dsw_t_span *spans,
			      unsigned int n, size_t a, size_t b,
			      unsigned int gen_bounced, unsigned int gen_direct,
			      u32 chk)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		size_t lo = max(a, spans[i].pos);
		size_t hi = min(b, spans[i].pos + spans[i].len);
		size_t bad, first = 0;

		if (lo >= hi)
			continue;
		bad = dsw_t_cmp(spans[i].va + (lo - spans[i].pos), lo, hi - lo,
				x->seed, spans[i].bounced ? gen_bounced :
				gen_direct, &first);
		dsw_t_bad(x, chk, first, bad);
	}
}

static void dsw_t_cpu_fill(struct dsw_t_ctx *x, size_t a, size_t b,
			   unsigned int gen)
{
	dsw_t_spans_fill(x, x->cpu, x->ncpu, a, b, gen);
}

static void dsw_t_dev_fill(struct dsw_t_ctx *x, size_t a, size_t b,
			   unsigned int gen)
{
	dsw_t_spans_fill(x, x->dsp, x->ndev, a, b, gen);
}

static void dsw_t_cpu_check(struct dsw_t_ctx *x, size_t a, size_t b,
			    unsigned int gen_bounced, unsigned int gen_direct,
			    u32 chk)
{
	dsw_t_spans_check(x, x->cpu, x->ncpu, a, b, gen_bounced, gen_direct,
			  chk);
}

static void dsw_t_dev_check(struct dsw_t_ctx *x, size_t a, size_t b,
			    unsigned int gen_bounced, unsigned int gen_direct,
			    u32 chk)
{
	dsw_t_spans_check(x, x->dsp, x->ndev, a, b, gen_bounced, gen_direct,
			  chk);
}

/* The guard: every byte of the region outside the CPU spans. */
static void dsw_t_guard_check(struct dsw_t_ctx *x)
{
	size_t at = 0, bad, first = 0;
	unsigned int i;

	for (i = 0; i <= x->ncpu; i++) {
		size_t end = i < x->ncpu ? (size_t)(x->cpu[i].va - x->base) :
			     x->rlen;

		bad = dsw_t_cmp(x->base + at, at, end - at, x->seed,
				DSW_T_GEN_GUARD, &first);
		/* report guard positions relative to the buffer's start */
		dsw_t_bad(x, DSW_TEST_CHK_GUARD,
			  first - (x->cpu[0].va - x->base), bad);
		if (i < x->ncpu)
			at = end + x->cpu[i].len;
	}
}

/*
 * Where the device sees [dma, dma + len): check it is within @limit and RAM
 * (not touched otherwise), and return it through the direct map.
 */
static u8 *dsw_t_dev_va(struct dsw_t_ctx *x, dma_addr_t dma, size_t len,
			u64 limit, size_t pos)
{
	phys_addr_t phys;
	unsigned long pfn;

	if (!len || dma + len - 1 < dma || dma + len - 1 > limit) {
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, pos, 1);
		return NULL;
	}
	phys = dma_to_phys(x->dev, dma);
	if (phys == (phys_addr_t)-1 || phys + len - 1 < phys) {
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, pos, 1);
		return NULL;
	}
	for (pfn = PHYS_PFN(phys); pfn <= PHYS_PFN(phys + len - 1); pfn++) {
		if (!pfn_valid(pfn)) {
			dsw_t_bad(x, DSW_TEST_CHK_ADDR, pos, 1);
			return NULL;
		}
	}
	return phys_to_virt(phys);
}

/* xorshift64: the scatterlist layout of a case follows from its seed. */
static u64 dsw_t_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void dsw_t_ctx_free(struct dsw_t_ctx *x)
{
	unsigned int i;

	for (i = 0; i < x->nchunks; i++)
		kfree(x->chunks[i]);
	kfree(x->chunks);
	kfree(x->dsp);
	kfree(x->cpu);
	if (x->page)
		__free_pages(x->page, x->order);
}

/*
 * Allocate the region: anywhere, entirely above the mask (DSW_TEST_F_HIGH)
 * or entirely within it (DSW_TEST_F_LOW).  -ERANGE if no such memory.
 */
static int dsw_t_region_alloc(struct dsw_t_ctx *x, size_t len)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	struct page *rej[DSW_T_REJECTS];
	u32 flags = x->c->flags;
	unsigned int nrej = 0, i;
	struct page *page = NULL;

	x->order = get_order(len);
	if ((flags & DSW_TEST_F_LOW) && x->mask < DMA_BIT_MASK(64))
		gfp |= GFP_DMA32;
	while (nrej < DSW_T_REJECTS) {
		phys_addr_t lo, hi;

		page = alloc_pages(gfp, x->order);
		if (!page)
			break;
		lo = page_to_phys(page);
		hi = lo + (PAGE_SIZE << x->order) - 1;
		if ((!(flags & DSW_TEST_F_HIGH) || lo > x->mask) &&
		    (!(flags & DSW_TEST_F_LOW) || hi <= x->mask))
			break;
		rej[nrej++] = page;
		page = NULL;
	}
	for (i = 0; i < nrej; i++)
		__free_pages(rej[i], x->order);
	if (!page)
		return nrej ? -ERANGE : -ENOMEM;
	x->page = page;
	x->base = page_address(page);
	x->rlen = PAGE_SIZE << x->order;
	return 0;
}

/*
 * Lay the buffer out: one CPU segment, or c->nents scatterlist entries of
 * pseudo-random lengths with 1..DSW_T_MAX_GAP guard bytes between them,
 * starting c->offset bytes into the second page of the region.
 */
static int dsw_t_layout(struct dsw_t_ctx *x, unsigned int nents)
{
	struct dsw_test_case *c = x->c;
	size_t rem = c->size, total, at;
	u64 rnd = x->seed | 1;
	unsigned int i;
	int ret;

	x->cpu = kcalloc(nents, sizeof(*x->cpu), GFP_KERNEL);
	if (!x->cpu)
		return -ENOMEM;
	x->ncpu = nents;
	total = PAGE_SIZE + c->offset + c->size + PAGE_SIZE;
	for (i = 0; i < nents; i++) {
		unsigned int left = nents - i - 1;
		size_t len = rem;

		if (left) {
			size_t avg = rem / (left + 1);

			len = avg / 2 + dsw_t_rand(&rnd) % (avg + 1);
			len = clamp_t(size_t, len, 1, rem - left);
		}
		x->cpu[i].len = len;
		rem -= len;
		if (i)
			total += 1 + dsw_t_rand(&rnd) % DSW_T_MAX_GAP;
	}
	ret = dsw_t_region_alloc(x, total);
	if (ret)
		return ret;

	/* Same generator again: the gaps follow the lengths' draws. */
	rnd = x->seed | 1;
	for (i = 0; i < nents; i++) {
		if (nents - i - 1)
			dsw_t_rand(&rnd);
	}
	at = PAGE_SIZE + c->offset;
	c->seg_min = U64_MAX;
	for (i = 0; i < nents; i++) {
		struct dsw_t_span *s = &x->cpu[i];

		if (i)
			at += 1 + dsw_t_rand(&rnd) % DSW_T_MAX_GAP;
		s->va = x->base + at;
		s->phys = page_to_phys(x->page) + at;
		s->pos = i ? x->cpu[i - 1].pos + x->cpu[i - 1].len : 0;
		at += s->len;
		c->seg_min = min_t(u64, c->seg_min, s->len);
		c->seg_max = max_t(u64, c->seg_max, s->len);
		if (s->phys + s->len - 1 > x->mask)
			c->unreachable++;
	}
	c->phys = x->cpu[0].phys;
	dsw_t_fill(x->base, 0, x->rlen, x->seed, DSW_T_GEN_GUARD);
	/* guard pattern is by region offset, data pattern by stream offset */
	for (i = 0; i < nents; i++)
		dsw_t_fill(x->cpu[i].va, x->cpu[i].pos, x->cpu[i].len, x->seed,
			   DSW_T_GEN_A);
	return 0;
}

/* The scatterlist over the CPU segments, plain or chained. */
static int dsw_t_sg_build(struct dsw_t_ctx *x, bool chained)
{
	unsigned int n = x->ncpu, per = chained ? DSW_T_CHUNK : n, k, i;
	struct scatterlist *sg;

	x->nchunks = DIV_ROUND_UP(n, per);
	x->chunks = kcalloc(x->nchunks, sizeof(*x->chunks), GFP_KERNEL);
	if (!x->chunks)
		return -ENOMEM;
	for (k = 0; k < x->nchunks; k++) {
		bool last = k == x->nchunks - 1;
		unsigned int cnt = last ? n - k * per : per + 1;

		x->chunks[k] = kmalloc_array(cnt, sizeof(*sg), GFP_KERNEL);
		if (!x->chunks[k])
			return -ENOMEM;
		sg_init_table(x->chunks[k], cnt);
		if (k)
			sg_chain(x->chunks[k - 1], per + 1, x->chunks[k]);
	}
	x->sgt.sgl = x->chunks[0];
	x->sgt.orig_nents = n;
	x->sgt.nents = 0;
	for_each_sg(x->sgt.sgl, sg, n, i)
		sg_set_page(sg, virt_to_page(x->cpu[i].va), x->cpu[i].len,
			    offset_in_page(x->cpu[i].va));
	return 0;
}

/*
 * After mapping: the device's view of each DMA segment, address checks,
 * which segments were bounced, and min_align_mask.  Returns false if the
 * device view cannot be used (the data checks are skipped then).
 */
static bool dsw_t_dev_setup(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	unsigned int i, j, align = c->min_align_mask;
	size_t pos = 0;
	bool ok = true;

	c->mapped_nents = x->ndev;
	c->dma_addr = x->dsp[0].dma;
	for (i = 0; i < x->ndev; i++) {
		struct dsw_t_span *d = &x->dsp[i];
		phys_addr_t cpu_phys = 0;

		d->pos = pos;
		pos += d->len;
		d->va = dsw_t_dev_va(x, d->dma, d->len, x->mask, d->pos);
		if (!d->va)
			ok = false;
		for (j = 0; j < x->ncpu; j++) {
			if (d->pos >= x->cpu[j].pos &&
			    d->pos < x->cpu[j].pos + x->cpu[j].len) {
				cpu_phys = x->cpu[j].phys + d->pos - x->cpu[j].pos;
				break;
			}
		}
		d->bounced = d->dma != phys_to_dma(x->dev, cpu_phys);
		if (d->bounced)
			c->bounced++;
		if ((d->dma & align) != (cpu_phys & align))
			dsw_t_bad(x, DSW_TEST_CHK_ALIGN, d->pos, 1);
	}
	if (pos != c->size) {
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, min_t(size_t, pos, c->size), 1);
		ok = false;
	}
	/* A CPU segment counts as bounced if its first byte was. */
	for (j = 0; j < x->ncpu; j++) {
		for (i = 0; i < x->ndev; i++) {
			if (x->cpu[j].pos >= x->dsp[i].pos &&
			    x->cpu[j].pos < x->dsp[i].pos + x->dsp[i].len) {
				x->cpu[j].bounced = x->dsp[i].bounced;
				break;
			}
		}
	}
	c->need_sync = dma_need_sync(x->dev, x->dsp[0].dma);
	return ok;
}

static bool dsw_t_is_sg(u32 op)
{
	return op == DSW_TEST_OP_MAP_SG || op == DSW_TEST_OP_MAP_SGTABLE;
}

/* Map by the case's op; fills x->dsp.  Returns 0 or the API's error. */
static int dsw_t_do_map(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	struct scatterlist *sg;
	unsigned long flags = 0;
	unsigned int i;
	dma_addr_t dma;
	int n = 0;

	x->dsp = kcalloc(x->ncpu, sizeof(*x->dsp), GFP_KERNEL);
	if (!x->dsp)
		return -ENOMEM;
	if (c->flags & DSW_TEST_F_ATOMIC)
		spin_lock_irqsave(&dsw_t_irq_lock, flags);
	switch (c->op) {
	case DSW_TEST_OP_MAP_PAGE:
		dma = dma_map_page_attrs(x->dev, virt_to_page(x->cpu[0].va),
					 offset_in_page(x->cpu[0].va), c->size,
					 x->dir, 0);
		n = dma_mapping_error(x->dev, dma) ? -ENOMEM : 1;
		x->dsp[0].dma = dma;
		break;
	case DSW_TEST_OP_MAP_SINGLE:
		dma = dma_map_single_attrs(x->dev, x->cpu[0].va, c->size,
					   x->dir, 0);
		n = dma_mapping_error(x->dev, dma) ? -ENOMEM : 1;
		x->dsp[0].dma = dma;
		break;
	case DSW_TEST_OP_MAP_SG:
		n = dma_map_sg_attrs(x->dev, x->sgt.sgl, x->ncpu, x->dir, 0);
		if (n <= 0)
			n = -ENOMEM;
		break;
	case DSW_TEST_OP_MAP_SGTABLE:
		n = dma_map_sgtable(x->dev, &x->sgt, x->dir, 0);
		if (!n)
			n = x->sgt.nents;
		else if (n > 0)
			n = -EIO;	/* positive is not a valid return */
		break;
	}
	if (c->flags & DSW_TEST_F_ATOMIC)
		spin_unlock_irqrestore(&dsw_t_irq_lock, flags);
	if (n < 0)
		return n;
	if (n > (int)x->ncpu) {
		/* more DMA segments than entries: cannot be */
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, 0, 1);
		n = x->ncpu;
	}
	x->ndev = n;
	if (dsw_t_is_sg(c->op)) {
		for_each_sg(x->sgt.sgl, sg, n, i) {
			x->dsp[i].dma = sg_dma_address(sg);
			x->dsp[i].len = sg_dma_len(sg);
		}
	} else {
		x->dsp[0].len = c->size;
	}
	return 0;
}

static void dsw_t_do_unmap(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	unsigned long attrs = 0, flags = 0;

	if (c->flags & DSW_TEST_F_SKIP_CPU_SYNC)
		attrs |= DMA_ATTR_SKIP_CPU_SYNC;
	if (c->flags & DSW_TEST_F_ATOMIC)
		spin_lock_irqsave(&dsw_t_irq_lock, flags);
	switch (c->op) {
	case DSW_TEST_OP_MAP_PAGE:
		dma_unmap_page_attrs(x->dev, x->dsp[0].dma, c->size, x->dir,
				     attrs);
		break;
	case DSW_TEST_OP_MAP_SINGLE:
		dma_unmap_single_attrs(x->dev, x->dsp[0].dma, c->size, x->dir,
				       attrs);
		break;
	case DSW_TEST_OP_MAP_SG:
		dma_unmap_sg_attrs(x->dev, x->sgt.sgl, x->ncpu, x->dir, attrs);
		break;
	case DSW_TEST_OP_MAP_SGTABLE:
		dma_unmap_sgtable(x->dev, &x->sgt, x->dir, attrs);
		break;
	}
	if (c->flags & DSW_TEST_F_ATOMIC)
		spin_unlock_irqrestore(&dsw_t_irq_lock, flags);
}

/* Sync [off, off + len) (the whole buffer for sg) for the CPU or device. */
static void dsw_t_do_sync(struct dsw_t_ctx *x, bool for_cpu, size_t off,
			  size_t len)
{
	struct dsw_test_case *c = x->c;
	dma_addr_t dma = x->dsp[0].dma;
	bool range = c->flags & DSW_TEST_F_PARTIAL;

	switch (c->op) {
	case DSW_TEST_OP_MAP_PAGE:
	case DSW_TEST_OP_MAP_SINGLE:
		if (for_cpu && range)
			dma_sync_single_range_for_cpu(x->dev, dma, off, len,
						      x->dir);
		else if (range)
			dma_sync_single_range_for_device(x->dev, dma, off, len,
							 x->dir);
		else if (for_cpu)
			dma_sync_single_for_cpu(x->dev, dma, c->size, x->dir);
		else
			dma_sync_single_for_device(x->dev, dma, c->size, x->dir);
		break;
	case DSW_TEST_OP_MAP_SG:
		if (for_cpu)
			dma_sync_sg_for_cpu(x->dev, x->sgt.sgl, x->ncpu, x->dir);
		else
			dma_sync_sg_for_device(x->dev, x->sgt.sgl, x->ncpu,
					       x->dir);
		break;
	case DSW_TEST_OP_MAP_SGTABLE:
		if (for_cpu)
			dma_sync_sgtable_for_cpu(x->dev, &x->sgt, x->dir);
		else
			dma_sync_sgtable_for_device(x->dev, &x->sgt, x->dir);
		break;
	}
}

/*
 * map_page, map_single, map_sg, map_sgtable: map; the device sees the CPU's
 * data (no stale bytes, any direction); optional sync round trips, full or
 * ranged; the device writes; unmap (with or without SKIP_CPU_SYNC); the CPU
 * sees exactly what it must, and the guards are intact.
 */
static int dsw_t_case_map(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	bool to = x->dir != DMA_FROM_DEVICE, from = x->dir != DMA_TO_DEVICE;
	size_t so = 0, se = c->size, size = c->size;
	unsigned int cpu_in = DSW_T_GEN_A, cpu_out = DSW_T_GEN_A;
	bool sg = dsw_t_is_sg(c->op);
	int ret;

	if (c->flags & DSW_TEST_F_PARTIAL) {
		so = c->sync_offset;
		se = so + c->sync_len;
	}
	ret = dsw_t_layout(x, sg ? c->nents : 1);
	if (ret) {
		c->stage = DSW_TEST_STAGE_SETUP;
		return ret;
	}
	if (sg) {
		ret = dsw_t_sg_build(x, c->flags & DSW_TEST_F_CHAINED);
		if (ret) {
			c->stage = DSW_TEST_STAGE_SETUP;
			return ret;
		}
	}
	/* dma-direct without a pool WARNs on an unreachable buffer. */
	if (c->unreachable && !dsw_t_attached(x->dev) &&
	    !dsw_t_swiotlb_can_bounce(x->dev)) {
		c->stage = DSW_TEST_STAGE_UNSUPPORTED;
		return -ENXIO;
	}

	ret = dsw_t_do_map(x);
	if (ret) {
		c->stage = DSW_TEST_STAGE_DMA;
		return ret;
	}
	if (!dsw_t_dev_setup(x))
		goto unmap;

	/* At map time the device sees the CPU's data, whatever the direction. */
	dsw_t_dev_check(x, 0, size, DSW_T_GEN_A, DSW_T_GEN_A,
			DSW_TEST_CHK_MAP);

	if (c->flags & (DSW_TEST_F_SYNC | DSW_TEST_F_PARTIAL)) {
		if (to) {
			/*
			 * CPU takes the buffer (the device wrote nothing), writes
			 * B everywhere, gives [so, se) back: the device sees B
			 * there, and outside it A if bounced (nothing copied).
			 */
			dsw_t_do_sync(x, true, so, se - so);
			dsw_t_cpu_fill(x, 0, size, DSW_T_GEN_B);
			cpu_in = DSW_T_GEN_B;
			cpu_out = DSW_T_GEN_B;
			dsw_t_do_sync(x, false, so, se - so);
			dsw_t_dev_check(x, so, se, DSW_T_GEN_B, DSW_T_GEN_B,
					DSW_TEST_CHK_TO_DEVICE);
			dsw_t_dev_check(x, 0, so, DSW_T_GEN_A, DSW_T_GEN_B,
					DSW_TEST_CHK_PARTIAL);
			dsw_t_dev_check(x, se, size, DSW_T_GEN_A, DSW_T_GEN_B,
					DSW_TEST_CHK_PARTIAL);
		}
		if (from) {
			/*
			 * The device writes C everywhere; [so, se) synced for
			 * the CPU: C there, outside unchanged if bounced.
			 */
			dsw_t_dev_fill(x, 0, size, DSW_T_GEN_C);
			dsw_t_do_sync(x, true, so, se - so);
			dsw_t_cpu_check(x, so, se, DSW_T_GEN_C, DSW_T_GEN_C,
					DSW_TEST_CHK_FROM_DEVICE);
			dsw_t_cpu_check(x, 0, so, cpu_out, DSW_T_GEN_C,
					DSW_TEST_CHK_PARTIAL);
			dsw_t_cpu_check(x, se, size, cpu_out, DSW_T_GEN_C,
					DSW_TEST_CHK_PARTIAL);
			cpu_in = DSW_T_GEN_C;
			dsw_t_do_sync(x, false, so, se - so);
		}
	}

	/* Last device write, then unmap. */
	if (from)
		dsw_t_dev_fill(x, 0, size, DSW_T_GEN_D);
	dsw_t_do_unmap(x);

	if (!from) {
		/* TO_DEVICE: the CPU buffer is as the CPU left it */
		dsw_t_cpu_check(x, so, se, cpu_in, cpu_in, DSW_TEST_CHK_UNMAP);
		dsw_t_cpu_check(x, 0, so, cpu_out, cpu_out, DSW_TEST_CHK_UNMAP);
		dsw_t_cpu_check(x, se, size, cpu_out, cpu_out,
				DSW_TEST_CHK_UNMAP);
	} else if (c->flags & DSW_TEST_F_SKIP_CPU_SYNC) {
		/* nothing copied back into bounced segments */
		dsw_t_cpu_check(x, so, se, cpu_in, DSW_T_GEN_D,
				DSW_TEST_CHK_SKIP);
		dsw_t_cpu_check(x, 0, so, cpu_out, DSW_T_GEN_D,
				DSW_TEST_CHK_SKIP);
		dsw_t_cpu_check(x, se, size, cpu_out, DSW_T_GEN_D,
				DSW_TEST_CHK_SKIP);
	} else {
		dsw_t_cpu_check(x, 0, size, DSW_T_GEN_D, DSW_T_GEN_D,
				DSW_TEST_CHK_FROM_DEVICE);
	}
	dsw_t_guard_check(x);
	return 0;

unmap:
	dsw_t_do_unmap(x);
	dsw_t_guard_check(x);
	return 0;
}

/* A physical range that is not RAM, for map_resource (never accessed). */
static phys_addr_t dsw_t_mmio_range(size_t size)
{
	static const phys_addr_t cand[] = { 0xfed00000, 0xfec00000, 0xfeb00000 };
	unsigned long pfn;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cand); i++) {
		for (pfn = PHYS_PFN(cand[i]); pfn <= PHYS_PFN(cand[i] + size - 1);
		     pfn++) {
			if (pfn_valid(pfn))
				break;
		}
		if (pfn > PHYS_PFN(cand[i] + size - 1))
			return cand[i];
	}
	return 0;
}

/*
 * map_resource: an MMIO address maps to itself, nothing is bounced.  The
 * reference device's result goes to status_ref.
 */
static int dsw_t_case_resource(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	phys_addr_t phys = dsw_t_mmio_range(c->size);
	dma_addr_t dma;

	if (!phys) {
		c->stage = DSW_TEST_STAGE_UNSUPPORTED;
		return -EADDRNOTAVAIL;
	}
	c->phys = phys;
	/* dma-direct WARNs on an unreachable resource */
	if (phys + c->size - 1 > x->mask) {
		c->stage = DSW_TEST_STAGE_UNSUPPORTED;
		return -ENXIO;
	}
	/* the kernel's own answer (7.x refuses MMIO under swiotlb=force) */
	dma = dma_map_resource(dsw_t_ref(), phys, c->size, x->dir, 0);
	if (dma_mapping_error(dsw_t_ref(), dma))
		c->status_ref = -ENOMEM;
	else
		dma_unmap_resource(dsw_t_ref(), dma, c->size, x->dir, 0);

	dma = dma_map_resource(x->dev, phys, c->size, x->dir, 0);
	if (dma_mapping_error(x->dev, dma)) {
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	c->dma_addr = dma;
	c->mapped_nents = 1;
	if (dma_to_phys(x->dev, dma) != phys) {
		c->bounced = 1;
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, 0, 1);
	}
	if (dma + c->size - 1 > x->mask || dma + c->size - 1 < dma)
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, 0, 1);
	dma_unmap_resource(x->dev, dma, c->size, x->dir, 0);
	return 0;
}

/*
 * One span over an allocation as both sides see it: x->cpu through @cpu
 * (NULL: no CPU access) and x->dsp through the DMA address.
 */
static int dsw_t_alloc_spans(struct dsw_t_ctx *x, void *cpu, dma_addr_t dma,
			     u64 limit)
{
	struct dsw_test_case *c = x->c;

	x->cpu = kcalloc(1, sizeof(*x->cpu), GFP_KERNEL);
	x->dsp = kcalloc(1, sizeof(*x->dsp), GFP_KERNEL);
	if (!x->cpu || !x->dsp)
		return -ENOMEM;
	x->ncpu = cpu ? 1 : 0;
	x->ndev = 1;
	x->cpu[0].va = cpu;
	x->cpu[0].len = c->size;
	x->dsp[0].dma = dma;
	x->dsp[0].len = c->size;
	c->dma_addr = dma;
	c->mapped_nents = 1;
	c->seg_min = c->size;
	c->seg_max = c->size;
	if (cpu && virt_addr_valid(cpu))
		c->phys = virt_to_phys(cpu);
	x->dsp[0].va = dsw_t_dev_va(x, dma, c->size, limit, 0);
	return x->dsp[0].va ? 0 : -EFAULT;
}

/* Coherent memory: zeroed, and both sides see each other's writes. */
static void dsw_t_check_coherent(struct dsw_t_ctx *x, bool zeroed)
{
	size_t size = x->c->size, i, bad = 0, first = 0;

	if (zeroed) {
		for (i = 0; i < size; i++) {
			if (x->dsp[0].va[i]) {
				if (!bad)
					first = i;
				bad++;
			}
		}
		dsw_t_bad(x, DSW_TEST_CHK_ZERO, first, bad);
	}
	if (x->ncpu) {
		dsw_t_cpu_fill(x, 0, size, DSW_T_GEN_A);
		dsw_t_dev_check(x, 0, size, DSW_T_GEN_A, DSW_T_GEN_A,
				DSW_TEST_CHK_COHERENT);
	}
	dsw_t_dev_fill(x, 0, size, DSW_T_GEN_C);
	if (x->ncpu)
		dsw_t_cpu_check(x, 0, size, DSW_T_GEN_C, DSW_T_GEN_C,
				DSW_TEST_CHK_COHERENT);
	else
		dsw_t_dev_check(x, 0, size, DSW_T_GEN_C, DSW_T_GEN_C,
				DSW_TEST_CHK_COHERENT);
}

/* dma_alloc_coherent, or dma_alloc_attrs(NO_KERNEL_MAPPING) (cookie untouched). */
static int dsw_t_case_coherent(struct dsw_t_ctx *x, unsigned long attrs)
{
	struct dsw_test_case *c = x->c;
	dma_addr_t dma;
	void *cpu;

	cpu = dma_alloc_attrs(x->dev, c->size, &dma, GFP_KERNEL, attrs);
	if (!cpu) {
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	if (!dsw_t_alloc_spans(x, attrs ? NULL : cpu, dma,
			       x->dev->coherent_dma_mask))
		dsw_t_check_coherent(x, !attrs);
	dma_free_attrs(x->dev, c->size, cpu, dma, attrs);
	return 0;
}

/*
 * Non-coherent memory (dma_alloc_pages, dma_alloc_noncoherent): CPU writes
 * reach the device after sync_for_device, device writes reach the CPU after
 * sync_for_cpu.
 */
static void dsw_t_check_noncoherent(struct dsw_t_ctx *x, dma_addr_t dma)
{
	size_t size = x->c->size;

	if (x->dir != DMA_FROM_DEVICE) {
		dsw_t_cpu_fill(x, 0, size, DSW_T_GEN_B);
		dma_sync_single_for_device(x->dev, dma, size, x->dir);
		dsw_t_dev_check(x, 0, size, DSW_T_GEN_B, DSW_T_GEN_B,
				DSW_TEST_CHK_TO_DEVICE);
	}
	if (x->dir != DMA_TO_DEVICE) {
		dsw_t_dev_fill(x, 0, size, DSW_T_GEN_C);
		dma_sync_single_for_cpu(x->dev, dma, size, x->dir);
		dsw_t_cpu_check(x, 0, size, DSW_T_GEN_C, DSW_T_GEN_C,
				DSW_TEST_CHK_FROM_DEVICE);
	}
}

static int dsw_t_case_pages(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	struct page *page;
	dma_addr_t dma;

	page = dma_alloc_pages(x->dev, c->size, &dma, x->dir, GFP_KERNEL);
	if (!page) {
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	if (!dsw_t_alloc_spans(x, page_address(page), dma, x->mask))
		dsw_t_check_noncoherent(x, dma);
	dma_free_pages(x->dev, c->size, page, dma, x->dir);
	return 0;
}

static int dsw_t_case_noncoherent(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	dma_addr_t dma;
	void *cpu;

	cpu = dma_alloc_noncoherent(x->dev, c->size, &dma, x->dir, GFP_KERNEL);
	if (!cpu) {
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	if (!dsw_t_alloc_spans(x, cpu, dma, x->mask))
		dsw_t_check_noncoherent(x, dma);
	dma_free_noncoherent(x->dev, c->size, cpu, dma, x->dir);
	return 0;
}

/* dma_alloc_noncontiguous, seen by the CPU through dma_vmap_noncontiguous. */
static int dsw_t_case_noncontig(struct dsw_t_ctx *x)
{
#if DSW_T_HAVE_NONCONTIG_API
	struct dsw_test_case *c = x->c;
	size_t size = c->size, pos = 0;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;
	void *va;

	sgt = dma_alloc_noncontiguous(x->dev, size, x->dir, GFP_KERNEL, 0);
	if (!sgt) {
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	va = dma_vmap_noncontiguous(x->dev, size, sgt);
	if (!va) {
		dma_free_noncontiguous(x->dev, size, sgt, x->dir);
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	x->cpu = kcalloc(1, sizeof(*x->cpu), GFP_KERNEL);
	x->dsp = kcalloc(sgt->nents, sizeof(*x->dsp), GFP_KERNEL);
	if (!x->cpu || !x->dsp) {
		c->stage = DSW_TEST_STAGE_SETUP;
		goto out;
	}
	x->ncpu = 1;
	x->cpu[0].va = va;
	x->cpu[0].len = size;
	c->seg_min = size;
	c->seg_max = size;
	c->mapped_nents = sgt->nents;
	c->dma_addr = sg_dma_address(sgt->sgl);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		struct dsw_t_span *d = &x->dsp[x->ndev];
		size_t len = min_t(size_t, sg_dma_len(sg), size - pos);

		if (!len)
			break;
		d->dma = sg_dma_address(sg);
		d->pos = pos;
		d->len = len;
		d->va = dsw_t_dev_va(x, d->dma, len, x->mask, pos);
		if (!d->va)
			goto out;
		pos += len;
		x->ndev++;
	}
	if (pos != size) {
		dsw_t_bad(x, DSW_TEST_CHK_ADDR, pos, 1);
		goto out;
	}
	if (x->dir != DMA_FROM_DEVICE) {
		dsw_t_cpu_fill(x, 0, size, DSW_T_GEN_B);
		flush_kernel_vmap_range(va, size);
		dma_sync_sgtable_for_device(x->dev, sgt, x->dir);
		dsw_t_dev_check(x, 0, size, DSW_T_GEN_B, DSW_T_GEN_B,
				DSW_TEST_CHK_TO_DEVICE);
	}
	if (x->dir != DMA_TO_DEVICE) {
		dsw_t_dev_fill(x, 0, size, DSW_T_GEN_C);
		dma_sync_sgtable_for_cpu(x->dev, sgt, x->dir);
		invalidate_kernel_vmap_range(va, size);
		dsw_t_cpu_check(x, 0, size, DSW_T_GEN_C, DSW_T_GEN_C,
				DSW_TEST_CHK_FROM_DEVICE);
	}
out:
	dma_vunmap_noncontiguous(x->dev, va);
	dma_free_noncontiguous(x->dev, size, sgt, x->dir);
	return 0;
#else
	x->c->stage = DSW_TEST_STAGE_UNSUPPORTED;
	return -EOPNOTSUPP;
#endif
}

/* dma_get_sgtable of a coherent buffer describes that buffer. */
static int dsw_t_case_get_sgtable(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	size_t size = c->size, pos = 0;
	struct scatterlist *sg;
	struct sg_table sgt;
	unsigned int i;
	dma_addr_t dma;
	u8 *cpu;
	int ret;

	cpu = dma_alloc_coherent(x->dev, size, &dma, GFP_KERNEL);
	if (!cpu) {
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	c->dma_addr = dma;
	ret = dma_get_sgtable(x->dev, &sgt, cpu, dma, size);
	if (ret) {
		c->stage = DSW_TEST_STAGE_DMA;
		goto out;
	}
	dsw_t_fill(cpu, 0, size, x->seed, DSW_T_GEN_A);
	c->mapped_nents = sgt.orig_nents;
	for_each_sg(sgt.sgl, sg, sgt.orig_nents, i) {
		size_t len = min_t(size_t, sg->length, size - pos), bad, first = 0;
		phys_addr_t phys = page_to_phys(sg_page(sg)) + sg->offset;

		if (!len)
			break;
		if (!pfn_valid(PHYS_PFN(phys)) ||
		    !pfn_valid(PHYS_PFN(phys + len - 1))) {
			dsw_t_bad(x, DSW_TEST_CHK_SGTABLE, pos, 1);
			break;
		}
		bad = dsw_t_cmp(phys_to_virt(phys), pos, len, x->seed,
				DSW_T_GEN_A, &first);
		dsw_t_bad(x, DSW_TEST_CHK_SGTABLE, first, bad);
		pos += len;
	}
	if (pos < size)
		dsw_t_bad(x, DSW_TEST_CHK_SGTABLE, pos, size - pos);
	sg_free_table(&sgt);
out:
	dma_free_coherent(x->dev, size, cpu, dma);
	return ret;
}

/* dma_set_mask_and_coherent on both devices, then back to 64 bits. */
static int dsw_t_case_set_mask(struct dsw_t_ctx *x)
{
	struct dsw_test_case *c = x->c;
	u64 mask = DMA_BIT_MASK(c->dma_bits);

	c->status_ref = dma_set_mask_and_coherent(dsw_t_ref(), mask);
	c->required_mask_ref = dma_get_required_mask(dsw_t_ref());
	if (dma_set_mask_and_coherent(dsw_t_ref(), DMA_BIT_MASK(64)))
		dev_err(dsw_t_ref(), "cannot restore the 64-bit DMA mask\n");
	return dma_set_mask_and_coherent(x->dev, mask);
}

/* ----- Hog: fill swiotlb through the reference device ----- */

static void dsw_t_unhog(void)
{
	unsigned int i;

	for (i = 0; i < dsw_t_hog.nr; i++)
		dma_unmap_page_attrs(dsw_t_ref(), dsw_t_hog.dma[i],
				     dsw_t_hog.len[i], DMA_TO_DEVICE,
				     DMA_ATTR_NO_WARN);
	kvfree(dsw_t_hog.dma);
	kvfree(dsw_t_hog.len);
	if (dsw_t_hog.page)
		__free_pages(dsw_t_hog.page, get_order(DSW_T_HOG_CHUNK));
	memset(&dsw_t_hog, 0, sizeof(dsw_t_hog));
}

/*
 * Map DSW_T_HOG_CHUNK, then ever smaller pieces down to one swiotlb slot
 * (2 KiB), until mapping fails: the pool is full.  The reference device
 * must bounce (swiotlb=force), else -EOPNOTSUPP.
 */
static int dsw_t_hog_fill(struct dsw_test_case *c)
{
	struct device *dev = dsw_t_ref();
	size_t len = DSW_T_HOG_CHUNK;
	dma_addr_t dma;

	if (!dsw_t_probed[1]) {
		c->stage = DSW_TEST_STAGE_SETUP;
		return -ENODEV;
	}
	if (dsw_t_hog.page)
		return -EBUSY;
	dsw_t_hog.page = alloc_pages(GFP_KERNEL | __GFP_NOWARN,
				     get_order(DSW_T_HOG_CHUNK));
	dsw_t_hog.dma = kvcalloc(DSW_T_HOG_MAX, sizeof(dma_addr_t), GFP_KERNEL);
	dsw_t_hog.len = kvcalloc(DSW_T_HOG_MAX, sizeof(size_t), GFP_KERNEL);
	if (!dsw_t_hog.page || !dsw_t_hog.dma || !dsw_t_hog.len) {
		dsw_t_unhog();
		c->stage = DSW_TEST_STAGE_SETUP;
		return -ENOMEM;
	}
	while (len >= 2048 && dsw_t_hog.nr < DSW_T_HOG_MAX) {
		dma = dma_map_page_attrs(dev, dsw_t_hog.page, 0, len,
					 DMA_TO_DEVICE, DMA_ATTR_NO_WARN);
		if (dma_mapping_error(dev, dma)) {
			len /= 2;
			continue;
		}
		dsw_t_hog.dma[dsw_t_hog.nr] = dma;
		dsw_t_hog.len[dsw_t_hog.nr++] = len;
		dsw_t_hog.bytes += len;
		if (dma == phys_to_dma(dev, page_to_phys(dsw_t_hog.page))) {
			/* not bounced: nothing to fill */
			dsw_t_unhog();
			c->stage = DSW_TEST_STAGE_UNSUPPORTED;
			return -EOPNOTSUPP;
		}
		cond_resched();
	}
	c->hog_mappings = dsw_t_hog.nr;
	c->hog_bytes = dsw_t_hog.bytes;
	return 0;
}

/* ----- Hold: streaming mappings of the device under test across cases ----- */

/* Unmap and free everything HOLD keeps; returns how many were mapped. */
static unsigned int dsw_t_release_held(void)
{
	unsigned int i, nr = dsw_t_held.nr;

	for (i = 0; i < dsw_t_held.nr; i++)
		dma_unmap_page_attrs(dsw_t_dut(), dsw_t_held.dma[i],
				     dsw_t_held.size, dsw_t_held.dir, 0);
	for (i = 0; dsw_t_held.pages && i < dsw_t_held.npages; i++)
		__free_pages(dsw_t_held.pages[i], dsw_t_held.order);
	kfree(dsw_t_held.pages);
	kfree(dsw_t_held.dma);
	memset(&dsw_t_held, 0, sizeof(dsw_t_held));
	return nr;
}

/* Mapping @i just made: bounced?  Does the device see the CPU's data? */
static void dsw_t_hold_check(struct dsw_t_ctx *x, unsigned int i)
{
	size_t size = dsw_t_held.size, pos = (size_t)i * size, bad, first = 0;
	dma_addr_t dma = dsw_t_held.dma[i];
	u8 *va;

	if (dma != phys_to_dma(x->dev, page_to_phys(dsw_t_held.pages[i])))
		x->c->bounced++;
	va = dsw_t_dev_va(x, dma, size, x->mask, pos);
	if (!va)
		return;
	bad = dsw_t_cmp(va, pos, size, x->seed, DSW_T_GEN_A, &first);
	dsw_t_bad(x, DSW_TEST_CHK_MAP, first, bad);
}

/* Map the held buffers until one fails; dsw_t_held.nr says how far. */
static void dsw_t_hold_map(struct dsw_t_ctx *x)
{
	unsigned int i;

	for (i = 0; i < x->c->nents; i++) {
		dma_addr_t dma = dma_map_page_attrs(x->dev, dsw_t_held.pages[i],
						    0, dsw_t_held.size, x->dir,
						    0);

		if (dma_mapping_error(x->dev, dma))
			return;
		dsw_t_held.dma[dsw_t_held.nr++] = dma;
		if (!in_interrupt())
			cond_resched();
	}
}

/* DSW_TEST_F_IRQ: the mappings made in hard interrupt context. */
struct dsw_t_hold_irq {
	struct irq_work work;
	struct dsw_t_ctx *x;
};

static void dsw_t_hold_irq_fn(struct irq_work *work)
{
	dsw_t_hold_map(container_of(work, struct dsw_t_hold_irq, work)->x);
}

/*
 * c->nents buffers of c->size bytes, each filled with generation A at
 * stream offset i * size and mapped with dma_map_page_attrs(); kept mapped
 * until RELEASE.  All or nothing: on failure nothing stays held.
 */
static int dsw_t_hold(struct dsw_t_ctx *x)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	struct dsw_test_case *c = x->c;
	size_t size = c->size;
	unsigned int i;

	c->stage = DSW_TEST_STAGE_SETUP;
	if (!dsw_t_probed[0])
		return -ENODEV;
	if (dsw_t_held.pages)
		return -EBUSY;
	dsw_t_held.pages = kcalloc(c->nents, sizeof(*dsw_t_held.pages),
				   GFP_KERNEL);
	dsw_t_held.dma = kcalloc(c->nents, sizeof(*dsw_t_held.dma),
				 GFP_KERNEL);
	if (!dsw_t_held.pages || !dsw_t_held.dma)
		goto nomem;
	dsw_t_held.order = get_order(size);
	dsw_t_held.size = size;
	dsw_t_held.dir = x->dir;
	for (i = 0; i < c->nents; i++) {
		struct page *page = alloc_pages(gfp, dsw_t_held.order);

		if (!page)
			goto nomem;
		dsw_t_held.pages[dsw_t_held.npages++] = page;
		dsw_t_fill(page_address(page), (size_t)i * size, size, x->seed,
			   DSW_T_GEN_A);
		cond_resched();
	}

	c->stage = DSW_TEST_STAGE_NONE;
	if (c->flags & DSW_TEST_F_IRQ) {
		struct dsw_t_hold_irq w = { .x = x };

		/* raised on this CPU, so it runs before irq_work_sync() returns */
		init_irq_work(&w.work, dsw_t_hold_irq_fn);
		irq_work_queue(&w.work);
		irq_work_sync(&w.work);
	} else {
		dsw_t_hold_map(x);
	}
	for (i = 0; i < dsw_t_held.nr; i++)
		dsw_t_hold_check(x, i);
	if (dsw_t_held.nr < c->nents) {
		c->mapped_nents = dsw_t_release_held();
		c->stage = DSW_TEST_STAGE_DMA;
		return -EIO;
	}
	c->mapped_nents = dsw_t_held.nr;
	c->dma_addr = dsw_t_held.dma[0];
	c->phys = page_to_phys(dsw_t_held.pages[0]);
	c->seg_min = size;
	c->seg_max = size;
	c->need_sync = dma_need_sync(x->dev, c->dma_addr);
	return 0;

nomem:
	dsw_t_release_held();
	return -ENOMEM;
}

/* ----- mmap: dma_mmap_coherent of a buffer set up by MMAP_PREPARE ----- */

struct dsw_t_mbuf {
	refcount_t ref;		/* the file's, plus one per VMA */
	size_t size;
	void *cpu;
	dma_addr_t dma;
};

struct dsw_t_file {
	struct dsw_t_mbuf *mbuf;
};

static void dsw_t_mbuf_put(struct dsw_t_mbuf *mb)
{
	if (mb && refcount_dec_and_test(&mb->ref)) {
		dma_free_coherent(dsw_t_dut(), mb->size, mb->cpu, mb->dma);
		kfree(mb);
	}
}

static void dsw_t_vm_open(struct vm_area_struct *vma)
{
	struct dsw_t_mbuf *mb = vma->vm_private_data;

	refcount_inc(&mb->ref);
}

static void dsw_t_vm_close(struct vm_area_struct *vma)
{
	dsw_t_mbuf_put(vma->vm_private_data);
}

static const struct vm_operations_struct dsw_t_vm_ops = {
	.open = dsw_t_vm_open,
	.close = dsw_t_vm_close,
};

/* Coherent buffer of c->size bytes, filled by the CPU with generation A. */
static int dsw_t_mmap_prepare(struct dsw_t_ctx *x, struct dsw_t_file *f)
{
	struct dsw_test_case *c = x->c;
	struct dsw_t_mbuf *mb;

	dsw_t_mbuf_put(f->mbuf);
	f->mbuf = NULL;
	mb = kzalloc(sizeof(*mb), GFP_KERNEL);
	if (!mb) {
		c->stage = DSW_TEST_STAGE_SETUP;
		return -ENOMEM;
	}
	mb->size = PAGE_ALIGN(c->size);
	mb->cpu = dma_alloc_coherent(x->dev, mb->size, &mb->dma, GFP_KERNEL);
	if (!mb->cpu) {
		kfree(mb);
		c->stage = DSW_TEST_STAGE_DMA;
		return -ENOMEM;
	}
	refcount_set(&mb->ref, 1);
	f->mbuf = mb;
	c->dma_addr = mb->dma;
	dsw_t_fill(mb->cpu, 0, mb->size, x->seed, DSW_T_GEN_A);
	return 0;
}

/*
 * Userspace wrote generation B through its mapping: both the CPU and the
 * device see it; then the device writes C for userspace to check.
 */
static int dsw_t_mmap_check(struct dsw_t_ctx *x, struct dsw_t_file *f)
{
	struct dsw_test_case *c = x->c;
	struct dsw_t_mbuf *mb = f->mbuf;
	int ret;

	if (!mb || c->size != mb->size) {
		c->stage = DSW_TEST_STAGE_SETUP;
		return -ENOENT;
	}
	ret = dsw_t_alloc_spans(x, mb->cpu, mb->dma, x->dev->coherent_dma_mask);
	if (ret)
		return 0;
	dsw_t_cpu_check(x, 0, c->size, DSW_T_GEN_B, DSW_T_GEN_B,
			DSW_TEST_CHK_COHERENT);
	dsw_t_dev_check(x, 0, c->size, DSW_T_GEN_B, DSW_T_GEN_B,
			DSW_TEST_CHK_COHERENT);
	dsw_t_dev_fill(x, 0, c->size, DSW_T_GEN_C);
	return 0;
}

static int dsw_t_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dsw_t_file *f = file->private_data;
	struct dsw_t_mbuf *mb;
	int ret;

	mutex_lock(&dsw_t_lock);
	mb = f->mbuf;
	if (!mb) {
		ret = -ENXIO;
		goto out;
	}
	ret = dma_mmap_coherent(dsw_t_dut(), vma, mb->cpu, mb->dma, mb->size);
	if (!ret) {
		refcount_inc(&mb->ref);
		vma->vm_private_data = mb;
		vma->vm_ops = &dsw_t_vm_ops;
	}
out:
	mutex_unlock(&dsw_t_lock);
	return ret;
}

/* ----- The ioctl ----- */

static bool dsw_t_op_has_dir(u32 op)
{
	switch (op) {
	case DSW_TEST_OP_MAP_PAGE:
	case DSW_TEST_OP_MAP_SINGLE:
	case DSW_TEST_OP_MAP_SG:
	case DSW_TEST_OP_MAP_SGTABLE:
	case DSW_TEST_OP_MAP_RESOURCE:
	case DSW_TEST_OP_ALLOC_PAGES:
	case DSW_TEST_OP_ALLOC_NONCOHERENT:
	case DSW_TEST_OP_ALLOC_NONCONTIG:
	case DSW_TEST_OP_HOLD:
		return true;
	}
	return false;
}

static bool dsw_t_op_has_size(u32 op)
{
	switch (op) {
	case DSW_TEST_OP_INFO:
	case DSW_TEST_OP_SET_MASK:
	case DSW_TEST_OP_HOG:
	case DSW_TEST_OP_UNHOG:
	case DSW_TEST_OP_RELEASE:
	case DSW_TEST_OP_FRAGMENT:
	case DSW_TEST_OP_UNFRAGMENT:
		return false;
	}
	return true;
}

static u32 dsw_t_op_flags(u32 op)
{
	switch (op) {
	case DSW_TEST_OP_MAP_PAGE:
	case DSW_TEST_OP_MAP_SINGLE:
		return DSW_TEST_F_SYNC | DSW_TEST_F_PARTIAL |
		       DSW_TEST_F_SKIP_CPU_SYNC | DSW_TEST_F_HIGH |
		       DSW_TEST_F_LOW | DSW_TEST_F_ATOMIC;
	case DSW_TEST_OP_MAP_SG:
	case DSW_TEST_OP_MAP_SGTABLE:
		return DSW_TEST_F_SYNC | DSW_TEST_F_SKIP_CPU_SYNC |
		       DSW_TEST_F_CHAINED | DSW_TEST_F_HIGH | DSW_TEST_F_LOW |
		       DSW_TEST_F_ATOMIC;
	case DSW_TEST_OP_HOLD:
		return DSW_TEST_F_IRQ;
	}
	return 0;
}

/* Every input field, as kernel/dma/map_benchmark.c does. */
static int dsw_t_validate(const struct dsw_test_case *c)
{
	u32 op = c->op;
	u64 max = op == DSW_TEST_OP_MAP_RESOURCE ? DSW_TEST_MAX_RESOURCE :
		  DSW_TEST_MAX_SIZE;

	if (!op || op >= DSW_TEST_OP_NR)
		return -EINVAL;
	if (c->reserved[0] || c->reserved[1])
		return -EINVAL;
	if (op == DSW_TEST_OP_STRESS) {
		if (!c->duration_ms || c->duration_ms > DSW_TEST_MAX_STRESS_MS ||
		    !c->nents || c->nents > DSW_TEST_MAX_STRESS_THREADS ||
		    !c->size || c->size > DSW_TEST_MAX_STRESS_SIZE ||
		    c->dir || c->flags || c->offset || c->min_align_mask ||
		    c->sync_offset || c->sync_len ||
		    (c->dma_bits && (c->dma_bits < DSW_TEST_MIN_MAP_BITS ||
				     c->dma_bits > 64)))
			return -EINVAL;
		return 0;
	}
	if (c->duration_ms)
		return -EINVAL;
	if (dsw_t_op_has_dir(op) ? c->dir > DSW_TEST_DIR_FROM_DEVICE : c->dir)
		return -EINVAL;
	if (dsw_t_op_has_size(op) ? !c->size || c->size > max : c->size)
		return -EINVAL;
	if (c->flags & ~dsw_t_op_flags(op))
		return -EINVAL;
	if ((c->flags & DSW_TEST_F_HIGH) && (c->flags & DSW_TEST_F_LOW))
		return -EINVAL;
	if (op == DSW_TEST_OP_MAP_PAGE || op == DSW_TEST_OP_MAP_SINGLE ||
	    dsw_t_is_sg(op)) {
		if (c->offset >= PAGE_SIZE)
			return -EINVAL;
	} else if (c->offset) {
		return -EINVAL;
	}
	if (dsw_t_is_sg(op)) {
		if (!c->nents || c->nents > DSW_TEST_MAX_NENTS ||
		    c->nents > c->size)
			return -EINVAL;
	} else if (op == DSW_TEST_OP_HOLD) {
		if (!c->nents || c->nents > DSW_TEST_MAX_HOLD)
			return -EINVAL;
	} else if (c->nents) {
		return -EINVAL;
	}
	/* held mappings outlive the case's mask and min_align_mask */
	if ((op == DSW_TEST_OP_HOLD || op == DSW_TEST_OP_RELEASE) &&
	    (c->dma_bits || c->min_align_mask))
		return -EINVAL;
	if (c->flags & DSW_TEST_F_PARTIAL) {
		if (!c->sync_len || c->sync_offset >= c->size ||
		    c->sync_len > c->size - c->sync_offset)
			return -EINVAL;
	} else if (c->sync_offset || c->sync_len) {
		return -EINVAL;
	}
	/*
	 * Narrow masks only for SET_MASK: a forced swiotlb pool lies below
	 * 4 GiB, not below a narrower mask ("swiotlb addr overflow" WARN).
	 */
	if (op == DSW_TEST_OP_SET_MASK) {
		if (!c->dma_bits || c->dma_bits > 64)
			return -EINVAL;
	} else if (c->dma_bits && (c->dma_bits < DSW_TEST_MIN_MAP_BITS ||
				   c->dma_bits > 64)) {
		return -EINVAL;
	}
	if ((c->flags & (DSW_TEST_F_HIGH | DSW_TEST_F_LOW)) &&
	    (!c->dma_bits || c->dma_bits == 64))
		return -EINVAL;
	if (c->min_align_mask > DSW_TEST_MAX_ALIGN_MASK ||
	    (c->min_align_mask & (c->min_align_mask + 1)))
		return -EINVAL;
	if (c->min_align_mask && op == DSW_TEST_OP_SET_MASK)
		return -EINVAL;
	/*
	 * A range sync of a mapping whose min_align_mask offset within a
	 * 2 KiB swiotlb slot is not 0 makes swiotlb_bounce() compute a
	 * negative offset in the slot the range starts in, and WARN ("Access
	 * before mapping start detected", 6.1; the kernel's bug, not one the
	 * test can avoid otherwise).
	 */
	if ((c->flags & DSW_TEST_F_PARTIAL) &&
	    (c->offset & c->min_align_mask & 2047))
		return -EINVAL;
	return 0;
}

/*
 * FRAGMENT: the blocks kept, linked through page->lru, their order in
 * page_private().  The margin is memory left free while single pages are
 * taken, so that other allocations never see an empty allocator; it is
 * then taken in blocks of every order above 0, ignoring the watermarks.
 */
#define DSW_T_FRAG_MARGIN	(32UL << 20)
static LIST_HEAD(dsw_t_frag);
static unsigned long dsw_t_frag_pages;

static void dsw_t_unfragment(void)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, &dsw_t_frag, lru) {
		list_del(&page->lru);
		__free_pages(page, page_private(page));
	}
	dsw_t_frag_pages = 0;
}

static void dsw_t_frag_keep(struct page *page, unsigned int order)
{
	set_page_private(page, order);
	list_add(&page->lru, &dsw_t_frag);
	dsw_t_frag_pages += 1UL << order;
}

/*
 * Take single pages down to the margin (keeping the even ones), then every
 * larger block left, then give the odd pages back: what is free then is
 * single pages whose buddies are all taken.
 */
static int dsw_t_fragment(struct dsw_test_case *c)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
	unsigned long n = 0;
	struct page *page, *tmp;
	struct sysinfo si;
	LIST_HEAD(odd);
	int order;

	if (dsw_t_frag_pages)
		return -EBUSY;
	for (;;) {
		if (!(n++ % 256)) {
			si_meminfo(&si);
			if (si.freeram * si.mem_unit < DSW_T_FRAG_MARGIN)
				break;
			cond_resched();
		}
		page = alloc_page(gfp);
		if (!page)
			break;
		if (page_to_pfn(page) & 1)
			list_add(&page->lru, &odd);
		else
			dsw_t_frag_keep(page, 0);
	}
	/* below the watermarks too: no block above order 0 stays free */
	for (order = DSW_T_MAX_ORDER; order > 0; order--)
		while ((page = alloc_pages(gfp | __GFP_MEMALLOC, order)))
			dsw_t_frag_keep(page, order);
	list_for_each_entry_safe(page, tmp, &odd, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	c->hog_mappings = dsw_t_frag_pages;
	c->hog_bytes = (u64)dsw_t_frag_pages << PAGE_SHIFT;
	return 0;
}

/* Fill the info fields under the case's settings. */
static void dsw_t_info(struct dsw_test_case *c, struct device *dev)
{
	struct device *ref = dsw_t_ref();
	struct page *page;
	dma_addr_t dma;

	c->info_flags = 0;
	if (dsw_t_attached(dev))
		c->info_flags |= DSW_TEST_INFO_ATTACHED;
	if (dsw_t_swiotlb_can_bounce(ref))
		c->info_flags |= DSW_TEST_INFO_POOL;
	if (dsw_t_have_min_align())
		c->info_flags |= DSW_TEST_INFO_MIN_ALIGN;
	if (DSW_T_HAVE_NONCONTIG_API)
		c->info_flags |= DSW_TEST_INFO_NONCONTIG;
	if (dsw_t_opt_mapping_size(dev))
		c->info_flags |= DSW_TEST_INFO_OPT_SIZE;
	if (dsw_t_hog.page)
		c->info_flags |= DSW_TEST_INFO_HOGGED;
	if (dsw_t_held.pages)
		c->info_flags |= DSW_TEST_INFO_HELD;
	c->required_mask = dma_get_required_mask(dev);
	if (c->op != DSW_TEST_OP_SET_MASK)
		c->required_mask_ref = dma_get_required_mask(ref);
	c->max_mapping_size = dma_max_mapping_size(dev);
	c->opt_mapping_size = dsw_t_opt_mapping_size(dev);

	/* Does the kernel bounce reachable memory (swiotlb=force)? */
	if (c->op != DSW_TEST_OP_INFO)
		return;
	page = alloc_page(GFP_KERNEL);
	if (!page)
		return;
	dma = dma_map_page_attrs(ref, page, 0, PAGE_SIZE, DMA_TO_DEVICE,
				 DMA_ATTR_NO_WARN);
	if (dma_mapping_error(ref, dma)) {
		/* only a full (hogged) pool fails */
		c->info_flags |= DSW_TEST_INFO_FORCED;
	} else {
		if (dma != phys_to_dma(ref, page_to_phys(page)))
			c->info_flags |= DSW_TEST_INFO_FORCED;
		dma_unmap_page_attrs(ref, dma, PAGE_SIZE, DMA_TO_DEVICE,
				     DMA_ATTR_NO_WARN);
	}
	__free_page(page);
}

static int dsw_t_run(struct dsw_test_case *c, struct dsw_t_file *f)
{
	struct dsw_t_ctx x = {
		.c = c,
		.dev = dsw_t_dut(),
		.dir = (enum dma_data_direction)c->dir,
		.seed = c->seed,
	};
	struct device *dev = x.dev;
	bool mask_set = false, align_set = false;
	int ret = 0;

	if (c->dma_bits && c->op != DSW_TEST_OP_SET_MASK) {
		ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(c->dma_bits));
		mask_set = true;
		if (ret) {
			c->stage = DSW_TEST_STAGE_MASK;
			goto out;
		}
	}
	if (c->min_align_mask) {
		align_set = true;
		ret = dsw_t_set_min_align(dev, c->min_align_mask);
		if (ret) {
			c->stage = ret == -EOPNOTSUPP ?
				   DSW_TEST_STAGE_UNSUPPORTED :
				   DSW_TEST_STAGE_MASK;
			goto out;
		}
	}
	x.mask = dsw_t_stream_limit(dev);
	dsw_t_info(c, dev);

	switch (c->op) {
	case DSW_TEST_OP_INFO:
		break;
	case DSW_TEST_OP_MAP_PAGE:
	case DSW_TEST_OP_MAP_SINGLE:
	case DSW_TEST_OP_MAP_SG:
	case DSW_TEST_OP_MAP_SGTABLE:
		ret = dsw_t_case_map(&x);
		break;
	case DSW_TEST_OP_MAP_RESOURCE:
		ret = dsw_t_case_resource(&x);
		break;
	case DSW_TEST_OP_ALLOC_COHERENT:
		ret = dsw_t_case_coherent(&x, 0);
		break;
	case DSW_TEST_OP_ALLOC_NO_KMAP:
		ret = dsw_t_case_coherent(&x, DMA_ATTR_NO_KERNEL_MAPPING);
		break;
	case DSW_TEST_OP_ALLOC_PAGES:
		ret = dsw_t_case_pages(&x);
		break;
	case DSW_TEST_OP_ALLOC_NONCOHERENT:
		ret = dsw_t_case_noncoherent(&x);
		break;
	case DSW_TEST_OP_ALLOC_NONCONTIG:
		ret = dsw_t_case_noncontig(&x);
		break;
	case DSW_TEST_OP_GET_SGTABLE:
		ret = dsw_t_case_get_sgtable(&x);
		break;
	case DSW_TEST_OP_SET_MASK:
		ret = dsw_t_case_set_mask(&x);
		mask_set = true;
		if (ret)
			c->stage = DSW_TEST_STAGE_DMA;
		break;
	case DSW_TEST_OP_MMAP_PREPARE:
		ret = dsw_t_mmap_prepare(&x, f);
		break;
	case DSW_TEST_OP_MMAP_CHECK:
		ret = dsw_t_mmap_check(&x, f);
		break;
	case DSW_TEST_OP_HOG:
		ret = dsw_t_hog_fill(c);
		break;
	case DSW_TEST_OP_UNHOG:
		dsw_t_unhog();
		break;
	case DSW_TEST_OP_HOLD:
		ret = dsw_t_hold(&x);
		break;
	case DSW_TEST_OP_RELEASE:
		c->mapped_nents = dsw_t_release_held();
		break;
	case DSW_TEST_OP_FRAGMENT:
		ret = dsw_t_fragment(c);
		break;
	case DSW_TEST_OP_UNFRAGMENT:
		dsw_t_unfragment();
		break;
	}
	if (ret && !c->stage)
		c->stage = DSW_TEST_STAGE_SETUP;
	dsw_t_ctx_free(&x);
out:
	if (align_set)
		dsw_t_set_min_align(dev, 0);
	if (mask_set && dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)))
		dev_err(dev, "cannot restore the 64-bit DMA mask\n");
	c->status = ret;
	return 0;
}

/* ===== STRESS: random map cases from several threads at once ===== */

struct dsw_t_stress {
	const struct dsw_test_case *c;
	struct task_struct *task;
	struct completion done;
	unsigned long deadline;
	u64 rnd;
	u64 cases;
	u64 failed_maps;
	u64 bounced;
	struct dsw_test_case bad;	/* the first case that failed a check */
};

/* A random valid map case for the stress thread @st. */
static void dsw_t_stress_case(struct dsw_t_stress *st, struct dsw_test_case *k)
{
	static const u32 ops[] = {
		DSW_TEST_OP_MAP_PAGE, DSW_TEST_OP_MAP_SINGLE,
		DSW_TEST_OP_MAP_SG, DSW_TEST_OP_MAP_SGTABLE,
	};
	u64 r = dsw_t_rand(&st->rnd), max = st->c->size;
	bool narrow = st->c->dma_bits && st->c->dma_bits < 64;

	memset(k, 0, sizeof(*k));
	k->op = ops[r % ARRAY_SIZE(ops)];
	k->dir = (r >> 8) % 3;
	k->seed = dsw_t_rand(&st->rnd);
	switch ((r >> 16) % 3) {	/* small, medium, large */
	case 0:
		k->size = 1 + (r >> 24) % min_t(u64, max, 4096);
		break;
	case 1:
		k->size = 1 + (r >> 24) % min_t(u64, max, 65536);
		break;
	default:
		k->size = 1 + (r >> 24) % max;
		break;
	}
	r = dsw_t_rand(&st->rnd);
	k->offset = r % PAGE_SIZE;
	k->flags = (r >> 12) & (DSW_TEST_F_SYNC | DSW_TEST_F_SKIP_CPU_SYNC |
				DSW_TEST_F_ATOMIC);
	if (dsw_t_is_sg(k->op)) {
		k->nents = 1 + (r >> 20) % min_t(u64, k->size, 16);
		if ((r >> 28) & 1)
			k->flags |= DSW_TEST_F_CHAINED;
	} else if ((r >> 29) & 1) {
		k->flags |= DSW_TEST_F_PARTIAL;
		k->sync_offset = (r >> 32) % k->size;
		k->sync_len = 1 + (r >> 40) % (k->size - k->sync_offset);
	}
	if (narrow) {
		k->dma_bits = st->c->dma_bits;
		if ((r >> 48) % 3 == 1)
			k->flags |= DSW_TEST_F_HIGH;
		else if ((r >> 48) % 3 == 2)
			k->flags |= DSW_TEST_F_LOW;
	}
}

static int dsw_t_stress_fn(void *data)
{
	struct dsw_t_stress *st = data;
	struct device *dev = dsw_t_dut();
	struct dsw_test_case k;

	while (time_before(jiffies, st->deadline) && !kthread_should_stop()) {
		struct dsw_t_ctx x = {
			.c = &k,
			.dev = dev,
		};

		dsw_t_stress_case(st, &k);
		if (dsw_t_validate(&k)) {
			pr_err("stress: generated an invalid case (op %u)\n",
			       k.op);
			break;
		}
		x.dir = (enum dma_data_direction)k.dir;
		x.seed = k.seed;
		x.mask = dsw_t_stream_limit(dev);
		k.status = dsw_t_case_map(&x);
		dsw_t_ctx_free(&x);
		if (k.fail_check) {
			if (!st->bad.fail_check)
				st->bad = k;
			break;
		}
		if (k.status && k.stage == DSW_TEST_STAGE_DMA)
			st->failed_maps++;
		st->cases++;
		st->bounced += k.bounced;
		/*
		 * Sleep now and then, as real mappers do: a thread that never
		 * sleeps holds up Tasks RCU, so the module's unload waits.
		 */
		if (!(st->cases % 64))
			usleep_range(100, 200);
		else
			cond_resched();
	}
	complete(&st->done);
	/* wait to be stopped: the caller reads the results first */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int dsw_t_stress(struct dsw_test_case *c)
{
	unsigned int i, nr = c->nents;
	struct device *dev = dsw_t_dut();
	struct dsw_t_stress *st;
	int ret = 0;

	st = kcalloc(nr, sizeof(*st), GFP_KERNEL);
	if (!st) {
		c->stage = DSW_TEST_STAGE_SETUP;
		return -ENOMEM;
	}
	if (c->dma_bits) {
		ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(c->dma_bits));
		if (ret) {
			c->stage = DSW_TEST_STAGE_MASK;
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		st[i].c = c;
		st[i].rnd = (c->seed + i) * 0x9e3779b97f4a7c15ULL | 1;
		st[i].deadline = jiffies + msecs_to_jiffies(c->duration_ms);
		init_completion(&st[i].done);
		st[i].task = kthread_run(dsw_t_stress_fn, &st[i], "dsw_stress/%u",
					 i);
		if (IS_ERR(st[i].task)) {
			ret = PTR_ERR(st[i].task);
			c->stage = DSW_TEST_STAGE_SETUP;
			break;
		}
	}
	nr = i;
	for (i = 0; i < nr; i++) {
		wait_for_completion(&st[i].done);
		kthread_stop(st[i].task);
		c->stress_cases += st[i].cases;
		c->stress_failed_maps += st[i].failed_maps;
		c->bounced += st[i].bounced;
		if (st[i].bad.fail_check && !c->fail_check) {
			c->fail_check = st[i].bad.fail_check;
			c->mismatches = st[i].bad.mismatches;
			c->first_bad = st[i].bad.first_bad;
			c->stress_bad = (u64)st[i].bad.op << 32 | st[i].bad.size;
		}
	}
	if (c->dma_bits && dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)))
		dev_err(dev, "cannot restore the 64-bit DMA mask\n");
out:
	kfree(st);
	return ret;
}

static long dsw_t_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct dsw_test_case c;
	int ret;

	if (cmd != DSW_TEST_IOC_RUN)
		return -ENOTTY;
	if (copy_from_user(&c, (void __user *)arg, sizeof(c)))
		return -EFAULT;
	ret = dsw_t_validate(&c);
	if (ret)
		return ret;
	/* outputs start from zero, whatever the caller passed */
	memset((u8 *)&c + offsetof(struct dsw_test_case, status), 0,
	       sizeof(c) - offsetof(struct dsw_test_case, status));

	if (c.op == DSW_TEST_OP_STRESS) {
		/* no lock: it runs beside the other cases and attach changes */
		c.status = dsw_t_stress(&c);
	} else {
		mutex_lock(&dsw_t_lock);
		ret = dsw_t_run(&c, file->private_data);
		mutex_unlock(&dsw_t_lock);
		if (ret)
			return ret;
	}
	if (copy_to_user((void __user *)arg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static int dsw_t_open(struct inode *inode, struct file *file)
{
	struct dsw_t_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int dsw_t_release(struct inode *inode, struct file *file)
{
	struct dsw_t_file *f = file->private_data;

	mutex_lock(&dsw_t_lock);
	dsw_t_mbuf_put(f->mbuf);
	mutex_unlock(&dsw_t_lock);
	kfree(f);
	return 0;
}

static const struct file_operations dsw_t_fops = {
	.owner = THIS_MODULE,
	.open = dsw_t_open,
	.release = dsw_t_release,
	.unlocked_ioctl = dsw_t_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = dsw_t_mmap,
};

/* ----- Driver and devices ----- */

static int dsw_t_probe(struct platform_device *pdev)
{
	int ret;

	if (pdev->id < 0 || pdev->id >= (int)ARRAY_SIZE(dsw_t_bound))
		return -ENODEV;
	/* probe sets the mask, as drivers do (dynswiotlb attached by now) */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	mutex_lock(&dsw_t_lock);
	dsw_t_bound[pdev->id] = &pdev->dev;
	dsw_t_probed[pdev->id] = true;
	mutex_unlock(&dsw_t_lock);
	return 0;
}

/* Unbound (or unregistered): release what is mapped through the device. */
static void dsw_t_remove_dev(struct platform_device *pdev)
{
	mutex_lock(&dsw_t_lock);
	if (&pdev->dev == dsw_t_dut())
		dsw_t_release_held();
	else
		dsw_t_unhog();
	dsw_t_probed[pdev->id] = false;
	mutex_unlock(&dsw_t_lock);
}

static struct platform_driver dsw_t_driver = {
	.probe = dsw_t_probe,
	.remove = dsw_t_remove,
	.driver = {
		.name = DSW_TEST_MODULE_NAME,
	},
};

static void dsw_t_devices_unregister(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dsw_t_pdev); i++) {
		if (!IS_ERR_OR_NULL(dsw_t_pdev[i]))
			platform_device_unregister(dsw_t_pdev[i]);
		dsw_t_pdev[i] = NULL;
		dsw_t_bound[i] = NULL;
	}
}

static int __init dsw_t_init(void)
{
	struct platform_device_info info = {
		.name = DSW_TEST_MODULE_NAME,
		.dma_mask = DMA_BIT_MASK(64),
	};
	unsigned int i;
	int ret;

	ret = platform_driver_register(&dsw_t_driver);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(dsw_t_pdev); i++) {
		info.id = i;
		dsw_t_pdev[i] = platform_device_register_full(&info);
		if (IS_ERR(dsw_t_pdev[i])) {
			ret = PTR_ERR(dsw_t_pdev[i]);
			goto err;
		}
		if (!dsw_t_bound[i]) {
			pr_err("%s: not bound\n", dev_name(&dsw_t_pdev[i]->dev));
			ret = -ENODEV;
			goto err;
		}
	}
	dsw_t_dir = debugfs_create_dir(DSW_TEST_DEBUGFS_DIR, NULL);
	/* _unsafe: the proxy of debugfs_create_file() has no mmap */
	debugfs_create_file_unsafe(DSW_TEST_DEBUGFS_CTL, 0600, dsw_t_dir, NULL,
				   &dsw_t_fops);
	pr_info("%s (%s) and %s ready\n", DSW_TEST_DEV_NAME,
		dsw_t_attached(dsw_t_dut()) ? "has dma_map_ops" : "dma-direct",
		DSW_TEST_REF_DEV_NAME);
	return 0;

err:
	dsw_t_devices_unregister();
	platform_driver_unregister(&dsw_t_driver);
	return ret;
}

static void __exit dsw_t_exit(void)
{
	/* no file is open: each holds a module reference */
	debugfs_remove_recursive(dsw_t_dir);
	mutex_lock(&dsw_t_lock);
	dsw_t_release_held();
	dsw_t_unhog();
	dsw_t_unfragment();
	mutex_unlock(&dsw_t_lock);
	dsw_t_devices_unregister();
	platform_driver_unregister(&dsw_t_driver);
}

module_init(dsw_t_init);
module_exit(dsw_t_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("dynswiotlb developers");
MODULE_DESCRIPTION("DMA-API coverage test device for the dynswiotlb selftests");
