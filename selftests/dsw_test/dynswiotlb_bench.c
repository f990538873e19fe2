// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlb_bench: map/unmap benchmark for `make bench`.
 *
 * Registers the platform driver "dynswiotlb_bench" and two devices with
 * 64-bit DMA masks: DSW_BENCH_DEV_NAME, to which dynswiotlb is attached for
 * the module's contenders, and DSW_BENCH_REF_DEV_NAME, never attached: the
 * kernel's own DMA path.  <debugfs>/dynswiotlb_bench/ctl runs one
 * measurement per DSW_BENCH_IOC_RUN (see <uapi/linux/dynswiotlb.h>).
 *
 * Each thread times every operation with ktime_get_ns() into its own
 * histogram; the histograms are merged when all threads are done.  The
 * buffers of a run with a narrowed DMA mask are allocated above the mask,
 * so that the kernel's swiotlb (or dynswiotlb) must bounce them.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "dynswiotlb_test.h"

/* Histogram: exact below 64 ns, then 32 steps per power of two. */
#define DSW_B_SUB	32
#define DSW_B_EXACT	(2 * DSW_B_SUB)
#define DSW_B_BUCKETS	(DSW_B_SUB * 40)

/* Tries to find memory above a narrowed mask before giving up. */
#define DSW_B_ALLOC_TRIES	64

struct dsw_b_hist {
	u32 n[DSW_B_BUCKETS];
	u64 count, sum, min, max;
};

static unsigned int dsw_b_bucket(u64 ns)
{
	unsigned int e;

	if (ns < DSW_B_EXACT)
		return ns;
	e = ilog2(ns) - 5;	/* ns >> e is in [32, 64) */
	return min_t(u64, DSW_B_SUB * e + (ns >> e), DSW_B_BUCKETS - 1);
}

static u64 dsw_b_bucket_low(unsigned int i)
{
	unsigned int e;

	if (i < DSW_B_EXACT)
		return i;
	e = i / DSW_B_SUB - 1;
	return (u64)(i - DSW_B_SUB * e) << e;
}

static void dsw_b_record(struct dsw_b_hist *h, u64 ns)
{
	h->n[dsw_b_bucket(ns)]++;
	h->count++;
	h->sum += ns;
	if (!h->min || ns < h->min)
		h->min = ns;
	h->max = max(h->max, ns);
}

static void dsw_b_merge(struct dsw_b_hist *to, const struct dsw_b_hist *h)
{
	unsigned int i;

	for (i = 0; i < DSW_B_BUCKETS; i++)
		to->n[i] += h->n[i];
	if (h->count && (!to->min || h->min < to->min))
		to->min = h->min;
	to->max = max(to->max, h->max);
	to->count += h->count;
	to->sum += h->sum;
}

/* The value below which @pct percent of the samples lie (lower edge). */
static u64 dsw_b_pct(const struct dsw_b_hist *h, unsigned int pct)
{
	u64 want = div_u64(h->count * pct + 99, 100), seen = 0;
	unsigned int i;

	for (i = 0; i < DSW_B_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= want && seen)
			return dsw_b_bucket_low(i);
	}
	return h->max;
}

static void dsw_b_summary(const struct dsw_b_hist *h,
			  struct dsw_bench_lat *out)
{
	u64 mean, var = 0, mid, d;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	if (!h->count)
		return;
	mean = div64_u64(h->sum, h->count);
	for (i = 0; i < DSW_B_BUCKETS; i++) {
		if (!h->n[i])
			continue;
		mid = (dsw_b_bucket_low(i) + dsw_b_bucket_low(i + 1)) / 2;
		d = min_t(u64, mid > mean ? mid - mean : mean - mid, U32_MAX);
		/* saturate rather than overflow on absurd outliers */
		var += min_t(u64, d * d, div64_u64(U64_MAX / 2, h->n[i])) *
		       h->n[i];
	}
	out->count = h->count;
	out->mean_ns = mean;
	out->stddev_ns = int_sqrt64(div64_u64(var, h->count));
	out->min_ns = h->min;
	out->p50_ns = dsw_b_pct(h, 50);
	out->p99_ns = dsw_b_pct(h, 99);
	out->max_ns = h->max;
}

/* ----- the devices ----- */

static struct platform_device *dsw_b_pdev[2];
static struct device *dsw_b_bound[2];
static DEFINE_MUTEX(dsw_b_lock);	/* one run at a time; bound state */
static struct dentry *dsw_b_dir;

/* ----- one run ----- */

struct dsw_b_thread {
	struct task_struct *task;
	struct dsw_bench *b;
	struct device *dev;
	struct page *page;	/* the buffer (MAP, LOOKUP) or source (MEMCPY) */
	void *dst;		/* MEMCPY destination */
	unsigned int order;
	struct dsw_b_hist *hist;
	u64 failures, bounced, bytes;
	u64 deadline;
	struct completion *go;
	struct completion done;
};

/* Copies a bounce makes per map + unmap in direction @dir. */
static unsigned int dsw_b_copies(u32 dir)
{
	return dir == DSW_TEST_DIR_BIDIR ? 2 : 1;
}

/*
 * A buffer of 2^@order pages; above @limit when it is below the end of
 * RAM (pages found below it are kept aside until done).
 */
static struct page *dsw_b_alloc(unsigned int order, u64 limit)
{
	struct page *page, *kept[DSW_B_ALLOC_TRIES];
	unsigned int i, nkept = 0;

	for (i = 0; i < DSW_B_ALLOC_TRIES; i++) {
		page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
		if (!page || limit == DMA_BIT_MASK(64) ||
		    page_to_phys(page) > limit)
			break;
		kept[nkept++] = page;
		page = NULL;
	}
	while (nkept)
		__free_pages(kept[--nkept], order);
	return page;
}

static void dsw_b_map_loop(struct dsw_b_thread *t)
{
	enum dma_data_direction dir = t->b->dir;
	size_t size = t->b->size;
	phys_addr_t phys = page_to_phys(t->page);
	u64 t0, t1;
	dma_addr_t dma;

	while ((t0 = ktime_get_ns()) < t->deadline) {
		dma = dma_map_page_attrs(t->dev, t->page, 0, size, dir, 0);
		if (dma_mapping_error(t->dev, dma)) {
			t->failures++;
			cond_resched();
			continue;
		}
		dma_unmap_page_attrs(t->dev, dma, size, dir, 0);
		t1 = ktime_get_ns();
		dsw_b_record(t->hist, t1 - t0);
		if (dma != phys_to_dma(t->dev, phys)) {
			t->bounced++;
			t->bytes += size * dsw_b_copies(dir);
		}
		cond_resched();
	}
}

static void dsw_b_memcpy_loop(struct dsw_b_thread *t)
{
	unsigned int copies = dsw_b_copies(t->b->dir), i;
	void *src = page_address(t->page);
	size_t size = t->b->size;
	u64 t0;

	while ((t0 = ktime_get_ns()) < t->deadline) {
		for (i = 0; i < copies; i++)
			memcpy(i ? src : t->dst, i ? t->dst : src, size);
		dsw_b_record(t->hist, ktime_get_ns() - t0);
		t->bytes += size * copies;
		cond_resched();
	}
}

static int dsw_b_thread_fn(void *arg)
{
	struct dsw_b_thread *t = arg;

	wait_for_completion(t->go);	/* all threads start together */
	t->deadline = ktime_get_ns() + t->b->duration_ms * NSEC_PER_MSEC;
	if (t->b->op == DSW_BENCH_OP_MEMCPY)
		dsw_b_memcpy_loop(t);
	else
		dsw_b_map_loop(t);
	complete(&t->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static int dsw_b_run_threads(struct dsw_bench *b, struct device *dev,
			     u64 limit)
{
	unsigned int n = b->threads, i, order = get_order(b->size);
	struct dsw_b_hist *all;
	struct dsw_b_thread *t;
	struct completion go;
	int ret = 0, cpu = -1;
	u64 start;

	t = kcalloc(n, sizeof(*t), GFP_KERNEL);
	all = vzalloc(sizeof(*all));
	if (!t || !all) {
		ret = -ENOMEM;
		goto out;
	}
	init_completion(&go);
	for (i = 0; i < n; i++) {
		t[i].b = b;
		t[i].dev = dev;
		t[i].order = order;
		t[i].go = &go;
		init_completion(&t[i].done);
		t[i].hist = vzalloc(sizeof(*t[i].hist));
		t[i].page = dsw_b_alloc(order, limit);
		if (b->op == DSW_BENCH_OP_MEMCPY)
			t[i].dst = alloc_pages_exact(PAGE_SIZE << order,
						     GFP_KERNEL | __GFP_NOWARN);
		if (!t[i].hist || !t[i].page ||
		    (b->op == DSW_BENCH_OP_MEMCPY && !t[i].dst)) {
			ret = -ENOMEM;
			goto out;
		}
		memset(page_address(t[i].page), 0x5a, b->size);
	}
	for (i = 0; i < n; i++) {
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		t[i].task = kthread_create(dsw_b_thread_fn, &t[i],
					   "dsw_bench/%u", i);
		if (IS_ERR(t[i].task)) {
			ret = PTR_ERR(t[i].task);
			t[i].task = NULL;
			/* never woken: their function never runs */
			while (i--)
				kthread_stop(t[i].task);
			goto out;
		}
		kthread_bind(t[i].task, cpu);
	}
	for (i = 0; i < n; i++)
		wake_up_process(t[i].task);
	start = ktime_get_ns();
	complete_all(&go);
	for (i = 0; i < n; i++)
		wait_for_completion(&t[i].done);
	b->elapsed_ns = ktime_get_ns() - start;
	for (i = 0; i < n; i++) {
		kthread_stop(t[i].task);
		dsw_b_merge(all, t[i].hist);
		b->failures += t[i].failures;
		b->bounced += t[i].bounced;
		b->bytes += t[i].bytes;
	}
	dsw_b_summary(all, &b->op_lat);
out:
	for (i = 0; t && i < n; i++) {
		vfree(t[i].hist);
		if (t[i].page)
			__free_pages(t[i].page, order);
		if (t[i].dst)
			free_pages_exact(t[i].dst, PAGE_SIZE << order);
	}
	kfree(t);
	vfree(all);
	return ret;
}

/* LOOKUP: live - 1 mappings kept, then map/sync/unmap of one more timed. */
static int dsw_b_run_lookup(struct dsw_bench *b, struct device *dev,
			    u64 limit)
{
	unsigned int order = get_order(b->size), nlive = b->live - 1, i;
	struct dsw_b_hist *h[3] = { };
	enum dma_data_direction dir = b->dir;
	struct page *page;
	dma_addr_t *live = NULL, dma;
	u64 t0, t1, t2, t3, deadline, start;
	int ret = -ENOMEM;

	page = dsw_b_alloc(order, limit);
	if (nlive)
		live = kvcalloc(nlive, sizeof(*live), GFP_KERNEL);
	for (i = 0; i < 3; i++)
		h[i] = vzalloc(sizeof(*h[i]));
	if (!page || (nlive && !live) || !h[0] || !h[1] || !h[2])
		goto out;
	memset(page_address(page), 0x5a, b->size);
	/* the same bytes mapped many times: each mapping bounces on its own */
	for (i = 0; i < nlive; i++) {
		live[i] = dma_map_page_attrs(dev, page, 0, b->size, dir, 0);
		if (dma_mapping_error(dev, live[i])) {
			nlive = i;
			ret = -ENOSPC;
			goto out;
		}
		if (!(i % 256))
			cond_resched();
	}
	start = ktime_get_ns();
	deadline = start + b->duration_ms * NSEC_PER_MSEC;
	while ((t0 = ktime_get_ns()) < deadline) {
		dma = dma_map_page_attrs(dev, page, 0, b->size, dir, 0);
		t1 = ktime_get_ns();
		if (dma_mapping_error(dev, dma)) {
			b->failures++;
			cond_resched();
			continue;
		}
		dma_sync_single_for_device(dev, dma, b->size, dir);
		t2 = ktime_get_ns();
		dma_unmap_page_attrs(dev, dma, b->size, dir, 0);
		t3 = ktime_get_ns();
		dsw_b_record(h[0], t1 - t0);
		dsw_b_record(h[1], t2 - t1);
		dsw_b_record(h[2], t3 - t2);
		if (dma != phys_to_dma(dev, page_to_phys(page)))
			b->bounced++;
		cond_resched();
	}
	b->elapsed_ns = ktime_get_ns() - start;
	dsw_b_summary(h[0], &b->map_lat);
	dsw_b_summary(h[1], &b->sync_lat);
	dsw_b_summary(h[2], &b->unmap_lat);
	ret = 0;
out:
	for (i = 0; i < nlive; i++) {
		dma_unmap_page_attrs(dev, live[i], b->size, dir, 0);
		if (!(i % 256))
			cond_resched();
	}
	for (i = 0; i < 3; i++)
		vfree(h[i]);
	kvfree(live);
	if (page)
		__free_pages(page, order);
	return ret;
}

static int dsw_b_validate(const struct dsw_bench *b)
{
	if (b->op < DSW_BENCH_OP_MAP || b->op > DSW_BENCH_OP_LOOKUP ||
	    b->device > 1 || b->dir > DSW_TEST_DIR_FROM_DEVICE ||
	    b->reserved[0] || b->reserved[1])
		return -EINVAL;
	if (!b->threads || b->threads > DSW_BENCH_MAX_THREADS ||
	    (b->op == DSW_BENCH_OP_LOOKUP && b->threads != 1))
		return -EINVAL;
	if (b->dma_bits && (b->dma_bits < 32 || b->dma_bits > 64))
		return -EINVAL;
	if (b->op == DSW_BENCH_OP_LOOKUP ?
	    !b->live || b->live > DSW_BENCH_MAX_LIVE : b->live)
		return -EINVAL;
	if (!b->size || b->size > DSW_BENCH_MAX_SIZE || !b->duration_ms ||
	    b->duration_ms > DSW_BENCH_MAX_MS)
		return -EINVAL;
	return 0;
}

static int dsw_b_run(struct dsw_bench *b)
{
	unsigned int bits = b->dma_bits ? b->dma_bits : 64;
	u64 limit = DMA_BIT_MASK(bits);
	struct device *dev;
	int ret;

	ret = dsw_b_validate(b);
	if (ret)
		return ret;
	/* the output part, from elapsed_ns to the end */
	memset((u8 *)b + offsetof(struct dsw_bench, elapsed_ns), 0,
	       sizeof(*b) - offsetof(struct dsw_bench, elapsed_ns));
	mutex_lock(&dsw_b_lock);
	dev = dsw_b_bound[b->device];
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	ret = dma_set_mask_and_coherent(dev, limit);
	if (ret)
		goto out;
	if (b->op == DSW_BENCH_OP_LOOKUP)
		ret = dsw_b_run_lookup(b, dev, limit);
	else
		ret = dsw_b_run_threads(b, dev, limit);
	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
out:
	mutex_unlock(&dsw_b_lock);
	return ret;
}

static long dsw_b_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	struct dsw_bench b;
	int ret;

	if (cmd != DSW_BENCH_IOC_RUN)
		return -ENOTTY;
	if (copy_from_user(&b, (void __user *)arg, sizeof(b)))
		return -EFAULT;
	ret = dsw_b_run(&b);
	if (ret)
		return ret;
	if (copy_to_user((void __user *)arg, &b, sizeof(b)))
		return -EFAULT;
	return 0;
}

static const struct file_operations dsw_b_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dsw_b_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static int dsw_b_probe(struct platform_device *pdev)
{
	int ret;

	if (pdev->id < 0 || pdev->id >= (int)ARRAY_SIZE(dsw_b_bound))
		return -ENODEV;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	mutex_lock(&dsw_b_lock);
	dsw_b_bound[pdev->id] = &pdev->dev;
	mutex_unlock(&dsw_b_lock);
	return 0;
}

static void dsw_b_remove_dev(struct platform_device *pdev)
{
	mutex_lock(&dsw_b_lock);
	dsw_b_bound[pdev->id] = NULL;
	mutex_unlock(&dsw_b_lock);
}

#ifdef DSW_T_REMOVE_INT
static int dsw_b_remove(struct platform_device *pdev)
{
	dsw_b_remove_dev(pdev);
	return 0;
}
#else
static void dsw_b_remove(struct platform_device *pdev)
{
	dsw_b_remove_dev(pdev);
}
#endif

static struct platform_driver dsw_b_driver = {
	.probe = dsw_b_probe,
	.remove = dsw_b_remove,
	.driver = {
		.name = DSW_BENCH_MODULE_NAME,
	},
};

static void dsw_b_devices_unregister(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dsw_b_pdev); i++) {
		if (!IS_ERR_OR_NULL(dsw_b_pdev[i]))
			platform_device_unregister(dsw_b_pdev[i]);
		dsw_b_pdev[i] = NULL;
	}
}

static int __init dsw_b_init(void)
{
	struct platform_device_info info = {
		.name = DSW_BENCH_MODULE_NAME,
		.dma_mask = DMA_BIT_MASK(64),
	};
	unsigned int i;
	int ret;

	ret = platform_driver_register(&dsw_b_driver);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(dsw_b_pdev); i++) {
		info.id = i;
		dsw_b_pdev[i] = platform_device_register_full(&info);
		if (IS_ERR(dsw_b_pdev[i])) {
			ret = PTR_ERR(dsw_b_pdev[i]);
			goto err;
		}
	}
	dsw_b_dir = debugfs_create_dir(DSW_BENCH_DEBUGFS_DIR, NULL);
	debugfs_create_file(DSW_BENCH_DEBUGFS_CTL, 0600, dsw_b_dir, NULL,
			    &dsw_b_fops);
	return 0;

err:
	dsw_b_devices_unregister();
	platform_driver_unregister(&dsw_b_driver);
	return ret;
}

static void __exit dsw_b_exit(void)
{
	debugfs_remove_recursive(dsw_b_dir);
	dsw_b_devices_unregister();
	platform_driver_unregister(&dsw_b_driver);
}

module_init(dsw_b_init);
module_exit(dsw_b_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("dynswiotlb developers");
MODULE_DESCRIPTION("DMA map/unmap benchmark devices for dynswiotlb's make bench");
