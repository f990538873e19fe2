/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_SHIM_H
#define DSW_SHIM_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/irqflags.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <uapi/linux/dynswiotlb.h>

#include "bounce.h"
#include "policy.h"

/**
 * enum dsw_ctx - the context a mapping call came from
 * @DSW_CTX_TASK: process context that could sleep
 * @DSW_CTX_ATOMIC: preemption or interrupts disabled, not in an interrupt
 * @DSW_CTX_IRQ: hard or soft interrupt (NAPI, completion handlers)
 * @DSW_NR_CTX: the number of contexts
 */
enum dsw_ctx {
	DSW_CTX_TASK,
	DSW_CTX_ATOMIC,
	DSW_CTX_IRQ,
	DSW_NR_CTX,
};

/**
 * dsw_context() - the context of a mapping call
 *
 * Taken on entry to the ops, before the module's own RCU read lock.  BH
 * disabled counts as interrupt context (in_interrupt()); on a kernel
 * without CONFIG_PREEMPT_COUNT a spinlock that leaves interrupts on is
 * invisible, and such a call counts as task context.
 *
 * Return: an enum dsw_ctx value.
 */
static inline u8 dsw_context(void)
{
	if (in_interrupt())
		return DSW_CTX_IRQ;
	if (irqs_disabled() || preempt_count())
		return DSW_CTX_ATOMIC;
	return DSW_CTX_TASK;
}

/**
 * struct dsw_pcpu_stats - hot-path counters, one copy per CPU
 * @maps: mapping requests (each scatterlist entry counts as one)
 * @direct: mappings the device reaches without bouncing
 * @static_hits: mappings bounced by the kernel's static swiotlb
 * @dynamic: mappings bounced through the device's dynamic buffers
 * @failures: mappings that failed
 * @fail_too_large: ... because no dynamic buffer can be that large
 * @fail_cap: ... because growing would exceed a cap
 * @fail_nomem: ... because no memory could be allocated without sleeping
 * @bytes_to_device: bytes copied into dynamic buffers
 * @bytes_from_device: bytes copied back out of them
 * @dynamic_ns: nanoseconds spent in successful dynamic mappings
 * @dynamic_ctx: successful dynamic mappings by the context of the call,
 *	indexed by enum dsw_ctx (task, atomic, irq)
 * @lat: successful dynamic mappings by duration, bucket ilog2(ns)
 * @sizes: successful dynamic mappings by length, bucket ilog2(bytes)
 * @lock_contended: dynamic maps, unmaps and syncs that found the device's
 *	bounce lock held by another CPU and waited for it
 */
struct dsw_pcpu_stats {
	u64 maps;
	u64 direct;
	u64 static_hits;
	u64 dynamic;
	u64 failures;
	u64 fail_too_large;
	u64 fail_cap;
	u64 fail_nomem;
	u64 bytes_to_device;
	u64 bytes_from_device;
	u64 dynamic_ns;
	u64 dynamic_ctx[DSW_NR_CTX];
	u64 lat[DSW_LAT_BUCKETS];
	u64 sizes[DSW_SIZE_BUCKETS];
	u64 lock_contended;
};

/**
 * struct dsw_shim - dynswiotlb's state for one attached device
 * @ops: the dma_map_ops installed in @dev; a per-device copy, not const,
 *	so that an op finds its shim from @dev's ops with container_of()
 *	instead of a lookup
 * @dev: the real device (a reference is held by the device registry)
 * @shadow: a never-registered device mirroring @dev's DMA configuration with
 *	no dma_map_ops of its own: mapping through it is exactly what the
 *	kernel would do for @dev without the module (dma-direct and the
 *	static swiotlb pool).  Every pass-through map, sync and unmap goes
 *	through it, never through @dev.
 * @bshadow: another mirror whose coherent mask is @dev's streaming limit,
 *	used to allocate bounce memory @dev can reach (and, with memory
 *	encryption, that is decrypted) through dma_alloc_pages()
 * @scratch: a mirror for probing dma_supported(), under @scratch_lock
 * @scratch_lock: serialises @scratch
 * @closing: set while the shim is being uninstalled: no new dynamic
 *	buffers, every mapping takes the kernel's own path
 * @node: in the list of published shims (shim.c)
 * @retire: in the list of shims waiting to be freed (shim.c)
 * @bounce: the dynamic bounce memory (bounce.c)
 * @policy: the device's growth policy (policy.c)
 * @policy_lock: serialises writers of @policy
 * @kobj: /sys/kernel/dynswiotlb/devices/<name>/, the policy files
 *	(allocated by policy.c, with a release of its own)
 * @stats: per-CPU counters
 *
 * The shadows are allocated apart from the shim: a struct device is freed
 * by its release function when its last reference goes, which may be later
 * than put_device() returns.
 */
struct dsw_shim {
	struct dma_map_ops ops;
	struct device *dev;
	struct device *shadow;
	struct device *bshadow;
	struct device *scratch;
	spinlock_t scratch_lock;	/* serialises @scratch */
	bool closing;
	struct list_head node;
	struct list_head retire;

	struct dsw_bounce bounce;

	struct dsw_policy policy;
	spinlock_t policy_lock;		/* writers of @policy */
	struct kobject *kobj;

	struct dsw_pcpu_stats __percpu *stats;
};

int dsw_shim_can_attach(struct device *dev);
struct dsw_shim *dsw_shim_create(struct device *dev);
void dsw_shim_install(struct dsw_shim *shim);
int dsw_shim_uninstall(struct dsw_shim *shim, bool force);
void dsw_shim_retire(struct dsw_shim *shim);
void dsw_shim_destroy(struct dsw_shim *shim);
void dsw_shim_exit(void);
void dsw_release_get(void);
void dsw_release_put(void);
void dsw_release_wait(void);

dma_addr_t dsw_map(struct device *dev, phys_addr_t phys, size_t size,
		   enum dma_data_direction dir, unsigned long attrs);
void dsw_unmap(struct device *dev, dma_addr_t dma, size_t size,
	       enum dma_data_direction dir, unsigned long attrs);
dma_addr_t dsw_map_resource(struct device *dev, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs);
void dsw_unmap_resource(struct device *dev, dma_addr_t dma, size_t size,
			enum dma_data_direction dir, unsigned long attrs);

#endif /* DSW_SHIM_H */
