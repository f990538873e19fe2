/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints: dynswiotlb:dsw_map, dsw_unmap, dsw_grow, dsw_shrink and
 * dsw_fail, each naming the device (see docs/sysfs-ABI.md for a recipe).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dynswiotlb

#if !defined(DSW_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define DSW_TRACE_H

#include <linux/device.h>
#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(dsw_buf_class,
	TP_PROTO(struct device *dev, u64 dma, size_t size, int dir),
	TP_ARGS(dev, dma, size, dir),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u64, dma)
		__field(size_t, size)
		__field(int, dir)
	),
	TP_fast_assign(
		dsw_assign_str(dev, dev_name(dev));
		__entry->dma = dma;
		__entry->size = size;
		__entry->dir = dir;
	),
	TP_printk("dev=%s dma=0x%llx size=%zu dir=%s", __get_str(dev),
		  __entry->dma, __entry->size,
		  __print_symbolic(__entry->dir, { 0, "bidi" }, { 1, "to" },
				   { 2, "from" }, { 3, "none" }))
);

DEFINE_EVENT(dsw_buf_class, dsw_map,
	TP_PROTO(struct device *dev, u64 dma, size_t size, int dir),
	TP_ARGS(dev, dma, size, dir));

DEFINE_EVENT(dsw_buf_class, dsw_unmap,
	TP_PROTO(struct device *dev, u64 dma, size_t size, int dir),
	TP_ARGS(dev, dma, size, dir));

DECLARE_EVENT_CLASS(dsw_pool_class,
	TP_PROTO(struct device *dev, size_t size, size_t pool_bytes),
	TP_ARGS(dev, size, pool_bytes),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(size_t, size)
		__field(size_t, pool_bytes)
	),
	TP_fast_assign(
		dsw_assign_str(dev, dev_name(dev));
		__entry->size = size;
		__entry->pool_bytes = pool_bytes;
	),
	TP_printk("dev=%s chunk=%zu pool_bytes=%zu", __get_str(dev),
		  __entry->size, __entry->pool_bytes)
);

DEFINE_EVENT(dsw_pool_class, dsw_grow,
	TP_PROTO(struct device *dev, size_t size, size_t pool_bytes),
	TP_ARGS(dev, size, pool_bytes));

DEFINE_EVENT(dsw_pool_class, dsw_shrink,
	TP_PROTO(struct device *dev, size_t size, size_t pool_bytes),
	TP_ARGS(dev, size, pool_bytes));

TRACE_EVENT(dsw_fail,
	TP_PROTO(struct device *dev, size_t size, const char *reason),
	TP_ARGS(dev, size, reason),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(size_t, size)
		__string(reason, reason)
	),
	TP_fast_assign(
		dsw_assign_str(dev, dev_name(dev));
		__entry->size = size;
		dsw_assign_str(reason, reason);
	),
	TP_printk("dev=%s size=%zu reason=%s", __get_str(dev), __entry->size,
		  __get_str(reason))
);

#endif /* DSW_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
