/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface of the selftests' kernel modules, dynswiotlb_test.ko and
 * dynswiotlb_bench.ko, shared with the programs that drive them
 * (selftests/dma_api.c, selftests/dswbench.c).  It is not part of the
 * module's interface: <uapi/linux/dynswiotlb.h> holds what user programs
 * may rely on.  The modules include it as "dynswiotlb_test.h", the
 * programs with -I selftests/dsw_test.
 */
#ifndef DSW_TEST_H
#define DSW_TEST_H

#include <linux/types.h>

/*
 * ===== Test interface: dynswiotlb_test.ko (selftests/dsw_test) =====
 *
 * The DMA-API coverage test module registers the platform driver
 * DSW_TEST_MODULE_NAME and two platform devices with 64-bit DMA masks:
 * DSW_TEST_DEV_NAME, the device under test (attach it with
 * "modprobe dynswiotlb devices=" DSW_TEST_DEV_NAME before loading the test
 * module), and DSW_TEST_REF_DEV_NAME, never attached: the kernel's own DMA
 * path, used as a reference and to hog the kernel's swiotlb pool.
 *
 * <debugfs>/DSW_TEST_DEBUGFS_DIR/DSW_TEST_DEBUGFS_CTL (root only) takes
 * DSW_TEST_IOC_RUN with a struct dsw_test_case: the module runs one case
 * with the DMA API on the device under test, playing the device itself by
 * reading and writing the memory behind the DMA addresses, and fills in the
 * result.  The ioctl fails with EINVAL for any malformed input (unknown op,
 * direction or flag, out-of-range size, offset, nents, mask or sync range,
 * non-zero reserved fields) and returns 0 once the case has run, whatever
 * its result.  mmap() of the same file maps the coherent buffer set up by
 * DSW_TEST_OP_MMAP_PREPARE with dma_mmap_coherent().
 */
#include <linux/ioctl.h>

#define DSW_TEST_MODULE_NAME	"dynswiotlb_test"
#define DSW_TEST_DEV_NAME	"dynswiotlb_test.0"
#define DSW_TEST_REF_DEV_NAME	"dynswiotlb_test.1"
#define DSW_TEST_DEBUGFS_DIR	"dynswiotlb_test"
#define DSW_TEST_DEBUGFS_CTL	"ctl"

/* Operations (dsw_test_case.op). */
#define DSW_TEST_OP_INFO		1	/* fill in the info fields only */
#define DSW_TEST_OP_MAP_PAGE		2	/* dma_map_page_attrs + unmap */
#define DSW_TEST_OP_MAP_SINGLE		3	/* dma_map_single_attrs + unmap */
#define DSW_TEST_OP_MAP_SG		4	/* dma_map_sg_attrs + unmap */
#define DSW_TEST_OP_MAP_SGTABLE		5	/* dma_map_sgtable + unmap */
#define DSW_TEST_OP_MAP_RESOURCE	6	/* dma_map_resource (MMIO, never accessed) */
#define DSW_TEST_OP_ALLOC_COHERENT	7	/* dma_alloc_coherent + free */
#define DSW_TEST_OP_ALLOC_NO_KMAP	8	/* dma_alloc_attrs(DMA_ATTR_NO_KERNEL_MAPPING) */
#define DSW_TEST_OP_ALLOC_PAGES		9	/* dma_alloc_pages + free */
#define DSW_TEST_OP_ALLOC_NONCOHERENT	10	/* dma_alloc_noncoherent + free */
#define DSW_TEST_OP_ALLOC_NONCONTIG	11	/* dma_alloc_noncontiguous + vmap */
#define DSW_TEST_OP_GET_SGTABLE		12	/* dma_get_sgtable of a coherent buffer */
#define DSW_TEST_OP_SET_MASK		13	/* dma_set_mask_and_coherent(dma_bits) */
#define DSW_TEST_OP_MMAP_PREPARE	14	/* coherent buffer for mmap(), CPU-filled */
#define DSW_TEST_OP_MMAP_CHECK		15	/* check what userspace wrote through mmap */
#define DSW_TEST_OP_HOG			16	/* fill the swiotlb pool via the ref device */
#define DSW_TEST_OP_UNHOG		17	/* release the hog's mappings */
#define DSW_TEST_OP_HOLD		18	/* map nents buffers and keep them mapped */
#define DSW_TEST_OP_RELEASE		19	/* unmap what HOLD keeps mapped */
#define DSW_TEST_OP_STRESS		20	/* random map cases from @nents threads */
#define DSW_TEST_OP_FRAGMENT		21	/* fragment free memory: no high orders */
#define DSW_TEST_OP_UNFRAGMENT		22	/* give FRAGMENT's pages back */
#define DSW_TEST_OP_NR			23

/*
 * HOLD keeps streaming mappings of the device under test alive across
 * ioctls (and so across processes): it allocates @nents page-aligned
 * buffers of @size bytes (1..DSW_TEST_MAX_SIZE), fills them with
 * generation 0 of the case's pattern at stream offsets i * @size, maps each
 * with dma_map_page_attrs(@dir) and checks that the device sees the data.
 * 1 <= @nents <= DSW_TEST_MAX_HOLD; offset, dma_bits and min_align_mask
 * must be 0 (the mappings outlive the case's settings); the only flag is
 * DSW_TEST_F_IRQ: the mappings are made from a hard interrupt (an
 * irq_work), as a driver's completion handler would.
 * Result: mapped_nents buffers mapped, dma_addr and phys of the first,
 * bounced of them not at their buffer's address, fail_check and mismatches
 * as for the map ops (the mappings are kept even then).  status EBUSY
 * (stage SETUP) if mappings are already held, ENODEV if the device under
 * test has no driver bound; ENOMEM (stage SETUP) if a buffer cannot be
 * allocated, EIO (stage DMA) if a mapping fails: then nothing is held, and
 * mapped_nents says how many had been mapped before.
 *
 * RELEASE (no input but op) unmaps and frees everything held, reporting
 * the count in mapped_nents; nothing held is not an error.  Unbinding the
 * driver from the device under test, and unloading the module, release too.
 * The hog (HOG/UNHOG) is likewise released when the driver is unbound from
 * the reference device.
 *
 * STRESS runs @nents kernel threads (1..DSW_TEST_MAX_STRESS_THREADS) for
 * @duration_ms (1..DSW_TEST_MAX_STRESS_MS), each running pseudo-random map
 * cases (map_page, map_single, map_sg, map_sgtable; any direction; sizes
 * from 1 byte to @size, which is at most DSW_TEST_MAX_STRESS_SIZE; syncs,
 * partial syncs, SKIP_CPU_SYNC, interrupts off, chained lists; with
 * @dma_bits 32..63 buffers above and within that mask) on the device under
 * test, seeded from @seed, every byte checked as in the single cases.  It
 * holds no lock of the module while it runs, needs no driver bound to the
 * device and sets the device's mask to @dma_bits (0: 64) for its duration:
 * meant to run while the device is attached, detached and the driver
 * unbound around it (it plays a mapper outside the driver, as a page pool
 * after unbind).  Result: stress_cases run, stress_failed_maps of them whose
 * mapping failed (stage DMA: allowed, e.g. a full pool while detached),
 * bounced segments, and for the first case that failed a check its
 * fail_check, mismatches, first_bad and stress_bad (op << 32 | size);
 * status ENOMEM (stage SETUP) if the threads cannot be started.
 *
 * FRAGMENT (no input but op) takes every page the allocator gives without
 * retrying and gives back those with odd page frame numbers: about half of
 * the memory that was free is free again, but no two free pages are
 * buddies, so no allocation above order 0 can succeed from it (nor be
 * compacted: the kept pages are not movable).  Result: hog_mappings pages
 * kept, hog_bytes their bytes; EBUSY if already fragmented.  UNFRAGMENT
 * gives them back (unloading the module does too).
 */

/* Directions (dsw_test_case.dir), the values of enum dma_data_direction. */
#define DSW_TEST_DIR_BIDIR		0
#define DSW_TEST_DIR_TO_DEVICE		1
#define DSW_TEST_DIR_FROM_DEVICE	2

/* Flags (dsw_test_case.flags). */
#define DSW_TEST_F_SYNC		(1U << 0)	/* sync_for_cpu/device round trip */
#define DSW_TEST_F_PARTIAL	(1U << 1)	/* range syncs [sync_offset, +sync_len) */
#define DSW_TEST_F_SKIP_CPU_SYNC (1U << 2)	/* unmap with DMA_ATTR_SKIP_CPU_SYNC */
#define DSW_TEST_F_CHAINED	(1U << 3)	/* scatterlist of chained 3-entry arrays */
#define DSW_TEST_F_HIGH		(1U << 4)	/* buffer entirely above the case's DMA mask */
#define DSW_TEST_F_LOW		(1U << 5)	/* buffer entirely within the case's DMA mask */
#define DSW_TEST_F_ATOMIC	(1U << 6)	/* map and unmap with interrupts disabled */
#define DSW_TEST_F_IRQ		(1U << 7)	/* HOLD: map in hard interrupt context */
#define DSW_TEST_F_ALL		0xffU

/* Limits. */
#define DSW_TEST_MAX_SIZE	(2U << 20)	/* bytes per case */
#define DSW_TEST_MAX_RESOURCE	(64U << 10)	/* bytes of a map_resource case */
#define DSW_TEST_MAX_NENTS	2048U		/* scatterlist entries */
#define DSW_TEST_MAX_HOLD	256U		/* buffers HOLD maps */
#define DSW_TEST_MAX_STRESS_THREADS 16U		/* STRESS threads */
#define DSW_TEST_MAX_STRESS_MS	600000U		/* STRESS duration */
#define DSW_TEST_MAX_STRESS_SIZE (256U << 10)	/* STRESS largest mapping */
#define DSW_TEST_MAX_ALIGN_MASK	0xffffU		/* largest min_align_mask */
#define DSW_TEST_MIN_MAP_BITS	32U		/* smallest dma_bits but for SET_MASK */

/* dsw_test_case.stage: where a non-zero status comes from. */
#define DSW_TEST_STAGE_NONE		0
#define DSW_TEST_STAGE_SETUP		1	/* the test's buffer (ENOMEM, ERANGE) */
#define DSW_TEST_STAGE_MASK		2	/* setting the case's DMA mask failed */
#define DSW_TEST_STAGE_DMA		3	/* the DMA API call under test failed */
#define DSW_TEST_STAGE_UNSUPPORTED	4	/* not possible here (see status) */

/*
 * With DSW_TEST_STAGE_UNSUPPORTED, status says why: EOPNOTSUPP the kernel
 * lacks the interface; ENXIO the device is not attached and the kernel has
 * no swiotlb pool to bounce an unreachable buffer (dma-direct would WARN);
 * EADDRNOTAVAIL no MMIO range for map_resource was found.
 */

/* dsw_test_case.fail_check: the first check that failed. */
#define DSW_TEST_CHK_NONE	0
#define DSW_TEST_CHK_ADDR	1	/* DMA address outside the mask, not RAM, or wrong */
#define DSW_TEST_CHK_ALIGN	2	/* (dma & min_align_mask) != (phys & min_align_mask) */
#define DSW_TEST_CHK_MAP	3	/* at map time the device does not see the CPU's data */
#define DSW_TEST_CHK_TO_DEVICE	4	/* after sync_for_device the device sees stale data */
#define DSW_TEST_CHK_FROM_DEVICE 5	/* after sync_for_cpu/unmap the CPU misses device data */
#define DSW_TEST_CHK_PARTIAL	6	/* a range sync copied bytes outside its range */
#define DSW_TEST_CHK_SKIP	7	/* unmap with SKIP_CPU_SYNC copied data back */
#define DSW_TEST_CHK_UNMAP	8	/* a TO_DEVICE unmap changed the CPU buffer */
#define DSW_TEST_CHK_GUARD	9	/* bytes around the mapped buffer changed */
#define DSW_TEST_CHK_COHERENT	10	/* CPU and device views of an allocation differ */
#define DSW_TEST_CHK_ZERO	11	/* dma_alloc_coherent memory not zeroed */
#define DSW_TEST_CHK_SGTABLE	12	/* dma_get_sgtable does not describe the buffer */
#define DSW_TEST_CHK_NR		13

/* dsw_test_case.info_flags. */
#define DSW_TEST_INFO_ATTACHED	(1U << 0)	/* the device under test has dma_map_ops */
#define DSW_TEST_INFO_POOL	(1U << 1)	/* the kernel's swiotlb can bounce (ref device) */
#define DSW_TEST_INFO_FORCED	(1U << 2)	/* the ref device bounces reachable memory */
#define DSW_TEST_INFO_MIN_ALIGN	(1U << 3)	/* dma_set_min_align_mask available */
#define DSW_TEST_INFO_NONCONTIG	(1U << 4)	/* dma_alloc_noncontiguous available */
#define DSW_TEST_INFO_OPT_SIZE	(1U << 5)	/* dma_opt_mapping_size available */
#define DSW_TEST_INFO_HOGGED	(1U << 6)	/* the hog holds mappings */
#define DSW_TEST_INFO_HELD	(1U << 7)	/* HOLD mappings are held */

/*
 * Byte @off of pattern generation @gen of a case seeded with @seed.  Any two
 * generations differ at every offset; the mmap test uses it on both sides.
 */
#define DSW_TEST_PATTERN(seed, gen, off) \
	((__u8)(((((__u64)(off) + (__u64)(seed)) * 0x9e3779b97f4a7c15ULL) >> 56) + \
		(__u64)(gen) * 0x35))

struct dsw_test_case {
	/* In. */
	__u32 op;		/* DSW_TEST_OP_* */
	__u32 dir;		/* DSW_TEST_DIR_*; 0 for ops without a direction */
	__u64 size;		/* bytes; 0 for INFO, SET_MASK, HOG, UNHOG, RELEASE */
	__u64 seed;		/* pattern seed */
	__u32 offset;		/* offset in the first page (map ops), < page size */
	__u32 nents;		/* scatterlist entries (sg ops), buffers (HOLD), else 0 */
	__u32 flags;		/* DSW_TEST_F_*, as allowed for the op */
	__u32 dma_bits;		/* 0: 64-bit mask; else the case's mask width */
	__u32 min_align_mask;	/* 0 or 2^n - 1 <= DSW_TEST_MAX_ALIGN_MASK */
	__u32 sync_offset;	/* DSW_TEST_F_PARTIAL range, else 0 */
	__u32 sync_len;
	__u32 duration_ms;	/* STRESS: how long; else 0 */
	__u64 reserved[2];	/* must be 0 */

	/* Out. */
	__s32 status;		/* 0 or -errno, see stage */
	__u32 stage;		/* DSW_TEST_STAGE_* */
	__u32 fail_check;	/* DSW_TEST_CHK_* of the first failed check */
	__u32 info_flags;	/* DSW_TEST_INFO_* */
	__u64 mismatches;	/* bad bytes (or failed address checks) */
	__u64 first_bad;	/* offset in the buffer of the first bad byte */
	__u64 dma_addr;		/* first DMA address */
	__u64 phys;		/* physical address of the CPU buffer */
	__u32 mapped_nents;	/* DMA segments; HOLD, RELEASE: mappings */
	__u32 bounced;		/* DMA segments not at their CPU buffer's address */
	__u32 unreachable;	/* CPU segments beyond the case's DMA mask */
	__u32 need_sync;	/* dma_need_sync() of the first DMA address */
	__u64 seg_min;		/* shortest and longest CPU segment */
	__u64 seg_max;
	__u64 required_mask;	/* dma_get_required_mask(): device under test */
	__u64 required_mask_ref;	/* ... and the reference device */
	__u64 max_mapping_size;	/* dma_max_mapping_size() under the case's settings */
	__u64 opt_mapping_size;	/* dma_opt_mapping_size(), 0 if unavailable */
	__s32 status_ref;	/* SET_MASK, MAP_RESOURCE: the reference device's result */
	__u32 hog_mappings;	/* HOG: mappings held */
	__u64 hog_bytes;	/* HOG: bytes held */
	__u64 stress_cases;	/* STRESS: cases run */
	__u64 stress_failed_maps;	/* ... whose mapping failed */
	__u64 stress_bad;	/* ... the first bad one: op << 32 | size */
	__u64 out_reserved;
};

#define DSW_TEST_IOC_RUN	_IOWR('d', 0x5e, struct dsw_test_case)

/* ===== End of the test interface ===== */

/*
 * ===== Benchmark interface: dynswiotlb_bench.ko (selftests/dsw_test) =====
 *
 * The module registers two platform devices with 64-bit DMA masks:
 * DSW_BENCH_DEV_NAME (attach dynswiotlb to it, "devices=" before loading
 * the module) and DSW_BENCH_REF_DEV_NAME (never attached: the kernel's own
 * path).  <debugfs>/DSW_BENCH_DEBUGFS_DIR/DSW_BENCH_DEBUGFS_CTL (root only)
 * takes DSW_BENCH_IOC_RUN with a struct dsw_bench and runs one measurement
 * in the spirit of the kernel's dma_map_benchmark, with nanosecond
 * resolution:
 *
 *   DSW_BENCH_OP_MAP     @threads kernel threads (bound to CPUs round-robin)
 *                        each map and unmap one buffer of @size bytes with
 *                        @dir on @device for @duration_ms; one operation is
 *                        map + unmap.  With @dma_bits < 64 the buffers lie
 *                        above the mask, so that every mapping must bounce.
 *   DSW_BENCH_OP_MEMCPY  the same loop doing what a bounce copies instead
 *                        (one memcpy of @size per copy direction of @dir):
 *                        the in-guest memcpy baseline.
 *   DSW_BENCH_OP_LOOKUP  one thread, with @live - 1 other mappings of @size
 *                        bytes kept live on @device: time map, sync (for
 *                        the device) and unmap of one more, separately.
 *
 * Latencies come from a histogram with 32 steps per power of two (about
 * 3 % resolution): percentiles are the lower edge of their step; the mean
 * is exact, the standard deviation computed from the histogram.  @bytes
 * counts bytes the bounce copies (or memcpy) moved; bytes / elapsed_ns is
 * the bandwidth.  Failed mappings are counted and the loop goes on.
 */
#define DSW_BENCH_MODULE_NAME	"dynswiotlb_bench"
#define DSW_BENCH_DEV_NAME	"dynswiotlb_bench.0"
#define DSW_BENCH_REF_DEV_NAME	"dynswiotlb_bench.1"
#define DSW_BENCH_DEBUGFS_DIR	"dynswiotlb_bench"
#define DSW_BENCH_DEBUGFS_CTL	"ctl"

#define DSW_BENCH_OP_MAP	1
#define DSW_BENCH_OP_MEMCPY	2
#define DSW_BENCH_OP_LOOKUP	3

#define DSW_BENCH_MAX_THREADS	16
#define DSW_BENCH_MAX_SIZE	(4U << 20)
#define DSW_BENCH_MAX_LIVE	65536U
#define DSW_BENCH_MAX_MS	60000U

/* Latency figures of one measured step. */
struct dsw_bench_lat {
	__u64 count;
	__u64 mean_ns;
	__u64 stddev_ns;
	__u64 min_ns;
	__u64 p50_ns;
	__u64 p99_ns;
	__u64 max_ns;
};

struct dsw_bench {
	/* In. */
	__u32 op;		/* DSW_BENCH_OP_* */
	__u32 device;		/* 0: DSW_BENCH_DEV_NAME, 1: the reference */
	__u32 threads;		/* 1 .. DSW_BENCH_MAX_THREADS (LOOKUP: 1) */
	__u32 dir;		/* DSW_TEST_DIR_* */
	__u32 dma_bits;		/* 0 or 64: no limit; else 32 .. 63 */
	__u32 live;		/* LOOKUP: 1 .. DSW_BENCH_MAX_LIVE, else 0 */
	__u64 size;		/* 1 .. DSW_BENCH_MAX_SIZE */
	__u64 duration_ms;	/* 1 .. DSW_BENCH_MAX_MS */
	__u64 reserved[2];	/* must be 0 */

	/* Out. */
	__u64 elapsed_ns;	/* wall time of the measurement */
	__u64 failures;		/* mappings that failed */
	__u64 bounced;		/* operations whose DMA address != phys */
	__u64 bytes;		/* bytes copied */
	struct dsw_bench_lat op_lat;	/* MAP, MEMCPY: one operation */
	struct dsw_bench_lat map_lat;	/* LOOKUP */
	struct dsw_bench_lat sync_lat;
	struct dsw_bench_lat unmap_lat;
	__u64 out_reserved[4];
};

#define DSW_BENCH_IOC_RUN	_IOWR('d', 0x5f, struct dsw_bench)

/* ===== End of the benchmark interface ===== */

#endif /* DSW_TEST_H */
