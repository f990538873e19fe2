// SPDX-License-Identifier: GPL-2.0
/*
 * dma_api: drive dynswiotlb_test.ko through its matrix of DMA-API cases and
 * print one KTAP result per case (run by dma_api.sh inside the guests).
 *
 *	dma_api --expect kernel|static|dynamic [--filter TEXT] [--list]
 *	dma_api --hold N --size BYTES [--dir bidi|to|from] [--seed SEED] [--irq]
 *	dma_api --release | --hog | --unhog | --fragment | --unfragment
 *	dma_api --stress THREADS --size BYTES --ms MS [--bits N] [--seed SEED]
 *
 * The module checks the data of each case (every byte); this program checks
 * which path carried it:
 *
 *   kernel   the device under test is not attached (no dynswiotlb stats):
 *            the kernel's own behaviour, which validates the test itself.
 *            Mappings bounce exactly when swiotlb is forced or the buffer
 *            is out of reach; mappings larger than the kernel's limit may
 *            fail (expected, not a failure).
 *   static   attached, the kernel's pool usable: bounced mappings that fit
 *            a swiotlb segment go to the pool ("static" counter), larger
 *            ones to dynswiotlb's own buffers ("dynamic").
 *   dynamic  attached, and the pool either absent or filled first by the
 *            reference device (the hog): every bounced mapping is dynamic.
 *
 * In the attached modes every mapping must succeed, the debugfs counters of
 * dynswiotlb must move by exactly the expected amounts around each case,
 * and no dynamic buffer may remain live after it.
 *
 * The other modes run one operation for a shell test and print one line:
 *
 *   --hold N --size BYTES   keep N streaming mappings of BYTES each of the
 *            device under test (DSW_TEST_OP_HOLD; --dir defaults to bidi)
 *            until --release, the driver's unbind or the module's unload;
 *            with --irq the mappings are made in hard interrupt context:
 *            "held N mappings of BYTES bytes (DIR), first dma 0x..., K bounced"
 *   --release  "released N mappings"
 *   --hog    fill the kernel's swiotlb pool through the reference device,
 *            so that bounced mappings of the device under test go dynamic:
 *            "hogged N mappings, B bytes"
 *   --unhog  "unhogged"
 *   --fragment  leave free memory in single pages that cannot merge
 *            (DSW_TEST_OP_FRAGMENT): "fragmented: N pages kept, B bytes"
 *   --unfragment  "unfragmented"
 *   --stress THREADS --size BYTES --ms MS   random map cases of up to
 *            BYTES from THREADS kernel threads for MS milliseconds, with
 *            the device's mask at --bits (DSW_TEST_OP_STRESS), every byte
 *            checked: "stress: C cases, F failed mappings, B bounced"
 *
 * They exit 0 on success, 1 on failure and 4 when the setup cannot do it
 * (--hog without swiotlb=force), with the reason on stderr; 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uapi/linux/dynswiotlb.h>
#include <dynswiotlb_test.h>

#define CTL_PATH	"/sys/kernel/debug/" DSW_TEST_DEBUGFS_DIR "/" DSW_TEST_DEBUGFS_CTL
#define STATS_PATH	"/sys/kernel/" DSW_SYSFS_DIR "/" DSW_SYSFS_DEVICES "/" \
			DSW_TEST_DEV_NAME "/" DSW_SYSFS_STATISTICS
#define MODE_PATH	"/sys/kernel/" DSW_SYSFS_DIR "/" DSW_SYSFS_DEVICES "/" \
			DSW_TEST_DEV_NAME "/" DSW_KNOB_MODE
/* Only with CONFIG_SWIOTLB_DYNAMIC (6.9+): the kernel's pool grows. */
#define GROWS_PATH	"/sys/kernel/debug/swiotlb/io_tlb_transient_nslabs"
#define KIB		1024ULL
#define SEG_MAX		(256 * KIB)	/* swiotlb: 128 slots of 2 KiB */
#define SLOT		2048ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum mode { MODE_KERNEL, MODE_STATIC, MODE_DYNAMIC };
static const char *const mode_name[] = { "kernel", "static", "dynamic" };

static enum mode mode;
static const char *filter;
static bool list_only;
static int ctl = -1;
static struct dsw_test_case info;	/* INFO at start */
static bool forced, pool;

/* ----- KTAP ----- */

static int kt_n, kt_pass, kt_fail, kt_nskip;

static void kt_line(const char *status, const char *name, const char *fmt,
		    va_list ap)
{
	printf("%s %d %s", status, ++kt_n, name);
	if (fmt && *fmt) {
		printf(" ");
		vprintf(fmt, ap);
	}
	printf("\n");
	fflush(stdout);
}

static void kt_ok(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_line("ok", name, fmt, ap);
	va_end(ap);
	kt_pass++;
}

static void kt_skip(const char *name, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++kt_n, name, why);
	fflush(stdout);
	kt_nskip++;
}

/* not ok NAME, then each diagnostic line of @diag as "# ..." */
static void kt_notok(const char *name, const char *diag)
{
	const char *p = diag;

	printf("not ok %d %s\n", ++kt_n, name);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		printf("# %.*s\n", len, p);
		p = nl ? nl + 1 : NULL;
	}
	fflush(stdout);
	kt_fail++;
}

static int kt_end(void)
{
	printf("1..%d\n", kt_n);
	printf("# totals: pass:%d fail:%d skip:%d\n", kt_pass, kt_fail, kt_nskip);
	if (kt_fail)
		return 1;
	return kt_n && kt_nskip == kt_n ? 4 : 0;
}

/* Diagnostics buffer for one case. */
static char diag[4096];
static size_t diag_len;

static void d_add(const char *fmt, ...)
{
	va_list ap;

	if (diag_len >= sizeof(diag) - 1)
		return;
	va_start(ap, fmt);
	diag_len += vsnprintf(diag + diag_len, sizeof(diag) - diag_len, fmt, ap);
	va_end(ap);
	if (diag_len >= sizeof(diag))
		diag_len = sizeof(diag) - 1;
	if (diag_len < sizeof(diag) - 1)
		diag[diag_len++] = '\n';
	diag[diag_len] = 0;
}

static void d_reset(void)
{
	diag_len = 0;
	diag[0] = 0;
}

/* ----- dynswiotlb's counters ----- */

struct stats {
	bool ok;
	long long maps, direct, stat, dyn, failures, live_buffers, live_bytes,
		  pool_bytes;
};

/* One file of STATS_PATH: its value, or -1. */
static long long stat_read(const char *key)
{
	char path[256];
	long long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%s", STATS_PATH, key);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%lld", &v);
	fclose(f);
	return n == 1 ? v : -1;
}

static bool stats_read(struct stats *s)
{
	static const char *const keys[] = {
		DSW_STAT_MAPS, DSW_STAT_DIRECT, DSW_STAT_STATIC,
		DSW_STAT_DYNAMIC, DSW_STAT_FAILURES, DSW_STAT_LIVE_BUFFERS,
		DSW_STAT_LIVE_BYTES, DSW_STAT_POOL_BYTES,
	};
	long long *const vals[] = {
		&s->maps, &s->direct, &s->stat, &s->dyn, &s->failures,
		&s->live_buffers, &s->live_bytes, &s->pool_bytes,
	};
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		*vals[i] = stat_read(keys[i]);
		if (*vals[i] < 0)
			return false;
	}
	s->ok = true;
	return true;
}

/* ----- cases ----- */

struct spec {
	unsigned int op, dir, flags, bits, align, nents, offset, so, sl;
	unsigned long long size;
};

static const char *const op_name[DSW_TEST_OP_NR] = {
	[DSW_TEST_OP_INFO] = "info",
	[DSW_TEST_OP_MAP_PAGE] = "map_page",
	[DSW_TEST_OP_MAP_SINGLE] = "map_single",
	[DSW_TEST_OP_MAP_SG] = "map_sg",
	[DSW_TEST_OP_MAP_SGTABLE] = "map_sgtable",
	[DSW_TEST_OP_MAP_RESOURCE] = "map_resource",
	[DSW_TEST_OP_ALLOC_COHERENT] = "alloc_coherent",
	[DSW_TEST_OP_ALLOC_NO_KMAP] = "alloc_attrs(no_kernel_mapping)",
	[DSW_TEST_OP_ALLOC_PAGES] = "alloc_pages",
	[DSW_TEST_OP_ALLOC_NONCOHERENT] = "alloc_noncoherent",
	[DSW_TEST_OP_ALLOC_NONCONTIG] = "alloc_noncontiguous",
	[DSW_TEST_OP_GET_SGTABLE] = "get_sgtable",
	[DSW_TEST_OP_SET_MASK] = "set_mask",
	[DSW_TEST_OP_MMAP_PREPARE] = "mmap_prepare",
	[DSW_TEST_OP_MMAP_CHECK] = "mmap_check",
	[DSW_TEST_OP_HOG] = "hog",
	[DSW_TEST_OP_UNHOG] = "unhog",
	[DSW_TEST_OP_HOLD] = "hold",
	[DSW_TEST_OP_STRESS] = "stress",
	[DSW_TEST_OP_FRAGMENT] = "fragment",
	[DSW_TEST_OP_UNFRAGMENT] = "unfragment",
	[DSW_TEST_OP_RELEASE] = "release",
};

static const char *const chk_name[DSW_TEST_CHK_NR] = {
	[DSW_TEST_CHK_NONE] = "none",
	[DSW_TEST_CHK_ADDR] = "DMA address (range, RAM, value)",
	[DSW_TEST_CHK_ALIGN] = "min_align_mask",
	[DSW_TEST_CHK_MAP] = "device sees the CPU's data at map time (stale data)",
	[DSW_TEST_CHK_TO_DEVICE] = "device sees the CPU's data after sync_for_device",
	[DSW_TEST_CHK_FROM_DEVICE] = "CPU sees the device's data after sync_for_cpu/unmap",
	[DSW_TEST_CHK_PARTIAL] = "range sync copies only its range",
	[DSW_TEST_CHK_SKIP] = "SKIP_CPU_SYNC unmap copies nothing back",
	[DSW_TEST_CHK_UNMAP] = "TO_DEVICE unmap leaves the CPU buffer alone",
	[DSW_TEST_CHK_GUARD] = "bytes around the buffer untouched",
	[DSW_TEST_CHK_COHERENT] = "CPU and device views of the allocation agree",
	[DSW_TEST_CHK_ZERO] = "coherent memory is zeroed",
	[DSW_TEST_CHK_SGTABLE] = "get_sgtable describes the buffer",
};

static const char *dir_name(unsigned int dir)
{
	switch (dir) {
	case DSW_TEST_DIR_BIDIR:
		return "bidir";
	case DSW_TEST_DIR_TO_DEVICE:
		return "to";
	case DSW_TEST_DIR_FROM_DEVICE:
		return "from";
	}
	return "?";
}

static bool op_is_map(unsigned int op)
{
	return op >= DSW_TEST_OP_MAP_PAGE && op <= DSW_TEST_OP_MAP_SGTABLE;
}

static bool op_is_sg(unsigned int op)
{
	return op == DSW_TEST_OP_MAP_SG || op == DSW_TEST_OP_MAP_SGTABLE;
}

static bool op_has_dir(unsigned int op)
{
	return op_is_map(op) || op == DSW_TEST_OP_MAP_RESOURCE ||
	       op == DSW_TEST_OP_ALLOC_PAGES ||
	       op == DSW_TEST_OP_ALLOC_NONCOHERENT ||
	       op == DSW_TEST_OP_ALLOC_NONCONTIG;
}

static void describe(const struct spec *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", op_name[s->op]);

#define ADD(...)							\
	do {								\
		if (n >= 0 && (size_t)n < len)				\
			n += snprintf(buf + n, len - n, __VA_ARGS__);	\
	} while (0)
	if (op_has_dir(s->op))
		ADD(" %s", dir_name(s->dir));
	if (s->size)
		ADD(" size=%llu", s->size);
	if (op_is_map(s->op))
		ADD(" off=%u", s->offset);
	if (s->nents)
		ADD(" nents=%u", s->nents);
	if (s->flags & DSW_TEST_F_SYNC)
		ADD(" sync");
	if (s->flags & DSW_TEST_F_PARTIAL)
		ADD(" range=%u+%u", s->so, s->sl);
	if (s->flags & DSW_TEST_F_SKIP_CPU_SYNC)
		ADD(" skip_cpu_sync");
	if (s->flags & DSW_TEST_F_CHAINED)
		ADD(" chained");
	if (s->flags & DSW_TEST_F_HIGH)
		ADD(" above-mask");
	if (s->flags & DSW_TEST_F_LOW)
		ADD(" within-mask");
	if (s->flags & DSW_TEST_F_ATOMIC)
		ADD(" atomic");
	if (s->bits)
		ADD(" bits=%u", s->bits);
	if (s->align)
		ADD(" align=%#x", s->align);
#undef ADD
}

static unsigned long long seed_of(unsigned int idx)
{
	return 0x5eed0000ULL + (unsigned long long)idx * 0x100000001b3ULL +
	       ((unsigned long long)mode << 40);
}

static int run_ioctl(struct dsw_test_case *c)
{
	return ioctl(ctl, DSW_TEST_IOC_RUN, c) ? -errno : 0;
}

static void to_case(const struct spec *s, struct dsw_test_case *c,
		    unsigned int idx)
{
	memset(c, 0, sizeof(*c));
	c->op = s->op;
	c->dir = s->dir;
	c->size = s->size;
	c->seed = seed_of(idx);
	c->offset = s->offset;
	c->nents = s->nents;
	c->flags = s->flags;
	c->dma_bits = s->bits;
	c->min_align_mask = s->align;
	c->sync_offset = s->so;
	c->sync_len = s->sl;
}

/* Why a case could not run, from status with STAGE_SETUP/UNSUPPORTED. */
static const char *why_skip(const struct dsw_test_case *c)
{
	static char buf[160];

	switch (-c->status) {
	case ERANGE:
		return "no memory at the required place (above the mask) in this guest";
	case ENXIO:
		if (c->op == DSW_TEST_OP_MAP_RESOURCE)
			return "MMIO range beyond the DMA mask";
		return "buffer out of reach and the kernel has no swiotlb pool: dma-direct would WARN";
	case EOPNOTSUPP:
		return "not available on this kernel";
	case EADDRNOTAVAIL:
		return "no MMIO range found for map_resource";
	}
	snprintf(buf, sizeof(buf), "test setup failed: %s", strerror(-c->status));
	return buf;
}

/*
 * Could the kernel's own path refuse this mapping?  Bounced segments are
 * limited to one swiotlb segment, less the min_align_mask padding.
 */
static bool kernel_may_fail(const struct dsw_test_case *c)
{
	unsigned long long pad = c->min_align_mask ?
				 (c->min_align_mask | (SLOT - 1)) + 1 : 0;

	return c->seg_max > c->max_mapping_size || c->seg_max + pad > SEG_MAX;
}

/* Largest segment that must go to the kernel's pool (static mode). */
static unsigned long long static_fit(const struct dsw_test_case *c)
{
	unsigned long long pad = c->min_align_mask ?
				 (c->min_align_mask | (SLOT - 1)) + 1 : 0;

	return SEG_MAX - pad;
}

static bool attached_mode(void)
{
	return mode != MODE_KERNEL;
}

#define EXPECT(cond, ...) do { if (!(cond)) { d_add(__VA_ARGS__); bad = true; } } while (0)

/* Judge a mapping's path; returns false (with diagnostics) if wrong. */
static bool judge_map_path(const struct dsw_test_case *c, const struct stats *a,
			   const struct stats *b, char *path, size_t plen)
{
	long long nseg = op_is_sg(c->op) ? c->nents : 1;
	long long nb = forced ? (long long)c->mapped_nents : c->unreachable;
	long long dm = b->maps - a->maps, dd = b->direct - a->direct;
	long long ds = b->stat - a->stat, dy = b->dyn - a->dyn;
	long long df = b->failures - a->failures;
	bool bad = false;

	EXPECT(c->bounced == nb,
	       "bounced segments: %u, expected %lld (%s, %u unreachable of %u)",
	       c->bounced, nb, forced ? "swiotlb=force" : "not forced",
	       c->unreachable, c->mapped_nents);
	if (c->bounced)
		EXPECT(c->need_sync,
		       "dma_need_sync() is false for a bounced mapping");
	if (!attached_mode()) {
		snprintf(path, plen, "%s", c->bounced ? "bounced" : "direct");
		return !bad;
	}
	snprintf(path, plen, "maps +%lld, direct +%lld, static +%lld, dynamic +%lld",
		 dm, dd, ds, dy);
	EXPECT(dm == nseg, "maps +%lld, expected +%lld", dm, nseg);
	EXPECT(df == 0, "failures +%lld", df);
	EXPECT(dd == nseg - nb, "direct +%lld, expected +%lld", dd, nseg - nb);
	if (mode == MODE_DYNAMIC) {
		EXPECT(dy == nb && ds == 0,
		       "expected dynamic +%lld, static +0 (pool %s)", nb,
		       pool ? "hogged" : "absent");
	} else if (c->seg_max <= static_fit(c)) {
		EXPECT(ds == nb && dy == 0,
		       "expected static +%lld, dynamic +0 (segments <= %llu fit the pool)",
		       nb, static_fit(c));
	} else if (c->seg_min > SEG_MAX) {
		EXPECT(dy == nb && ds == 0,
		       "expected dynamic +%lld, static +0 (segments > %llu)",
		       nb, SEG_MAX);
	} else {
		EXPECT(ds + dy == nb,
		       "expected static + dynamic = %lld (segments %llu..%llu)",
		       nb, (unsigned long long)c->seg_min,
		       (unsigned long long)c->seg_max);
		if (c->seg_max > SEG_MAX)
			EXPECT(dy >= 1, "a segment > %llu went static", SEG_MAX);
	}
	return !bad;
}

static unsigned int case_idx;

static void run_spec(const struct spec *s)
{
	struct dsw_test_case c;
	struct stats a = { 0 }, b = { 0 };
	char name[256], path[160] = "";
	bool bad = false;
	int ret;

	describe(s, name, sizeof(name));
	case_idx++;
	if (filter && !strstr(name, filter))
		return;
	if (list_only) {
		printf("%s\n", name);
		return;
	}
	d_reset();
	to_case(s, &c, case_idx);
	if (attached_mode() && !stats_read(&a)) {
		kt_notok(name, "cannot read " STATS_PATH);
		return;
	}
	ret = run_ioctl(&c);
	if (attached_mode() && !stats_read(&b)) {
		kt_notok(name, "cannot read " STATS_PATH);
		return;
	}
	if (ret) {
		snprintf(diag, sizeof(diag), "ioctl: %s", strerror(-ret));
		kt_notok(name, diag);
		return;
	}
	if (c.stage == DSW_TEST_STAGE_SETUP ||
	    c.stage == DSW_TEST_STAGE_UNSUPPORTED) {
		kt_skip(name, why_skip(&c));
		return;
	}
	if (c.stage == DSW_TEST_STAGE_MASK) {
		d_add("setting the case's mask/min_align failed: %s",
		      strerror(-c.status));
		kt_notok(name, diag);
		return;
	}

	/* SET_MASK: same answer as the kernel's own path (the ref device). */
	if (s->op == DSW_TEST_OP_SET_MASK) {
		EXPECT(c.status == c.status_ref,
		       "dma_set_mask(%u bits): %d, the kernel's path says %d",
		       s->bits, c.status, c.status_ref);
		EXPECT(s->bits < 32 || c.status == 0,
		       "a %u-bit mask must be accepted (got %d)", s->bits,
		       c.status);
		EXPECT(s->bits != 64 || c.required_mask == c.required_mask_ref,
		       "dma_get_required_mask %#llx, kernel %#llx",
		       (unsigned long long)c.required_mask,
		       (unsigned long long)c.required_mask_ref);
		snprintf(path, sizeof(path), "%s", c.status ? strerror(-c.status) : "accepted");
		goto verdict;
	}

	if (c.stage == DSW_TEST_STAGE_DMA) {
		if (s->op == DSW_TEST_OP_MAP_RESOURCE && c.status_ref) {
			kt_ok(name, "(refused, as the kernel's own path refuses it: %s)",
			      forced ? "MMIO under swiotlb=force" : "see the reference device");
			return;
		}
		if (!attached_mode() && op_is_map(s->op) && (pool || forced) &&
		    (forced || c.unreachable) && kernel_may_fail(&c)) {
			kt_ok(name, "(expected failure on the kernel path: segment of %llu bytes, swiotlb limit %llu)",
			      (unsigned long long)c.seg_max,
			      (unsigned long long)c.max_mapping_size);
			return;
		}
		d_add("%s failed: %s (dma_max_mapping_size %llu, longest segment %llu)",
		      op_name[s->op], strerror(-c.status),
		      (unsigned long long)c.max_mapping_size,
		      (unsigned long long)c.seg_max);
		if (attached_mode())
			d_add("dynswiotlb: maps +%lld failures +%lld", b.maps - a.maps,
			      b.failures - a.failures);
		kt_notok(name, diag);
		return;
	}
	if (c.fail_check) {
		d_add("check failed: %s: %llu bad, first at offset %lld",
		      c.fail_check < DSW_TEST_CHK_NR ? chk_name[c.fail_check] : "?",
		      (unsigned long long)c.mismatches, (long long)c.first_bad);
		d_add("dma %#llx phys %#llx, %u segments, %u bounced",
		      (unsigned long long)c.dma_addr, (unsigned long long)c.phys,
		      c.mapped_nents, c.bounced);
		bad = true;
	}
	if (op_is_map(s->op)) {
		if (!judge_map_path(&c, &a, &b, path, sizeof(path)))
			bad = true;
	} else if (attached_mode()) {
		long long ds = b.stat - a.stat, dy = b.dyn - a.dyn;

		EXPECT(ds == 0 && dy == 0 && b.failures == a.failures,
		       "no bouncing expected: static +%lld dynamic +%lld failures +%lld",
		       ds, dy, b.failures - a.failures);
	}
	if (s->op == DSW_TEST_OP_MAP_RESOURCE) {
		EXPECT(c.bounced == 0, "map_resource bounced");
		if (c.status_ref)
			snprintf(path, sizeof(path),
				 "mapped, though the kernel's own path refuses it");
	}
	if (attached_mode())
		EXPECT(b.live_buffers == a.live_buffers &&
		       b.live_bytes == a.live_bytes,
		       "live dynamic buffers after the case: %lld (%lld bytes), before %lld (%lld)",
		       b.live_buffers, b.live_bytes, a.live_buffers, a.live_bytes);
verdict:
	if (bad)
		kt_notok(name, diag);
	else if (*path)
		kt_ok(name, "(%s)", path);
	else
		kt_ok(name, NULL);
}

/* ----- special cases ----- */

static void run_info(void)
{
	struct dsw_test_case c = { .op = DSW_TEST_OP_INFO };
	struct dsw_test_case al = { .op = DSW_TEST_OP_INFO,
				    .min_align_mask = 4095 };
	char d[256];
	bool bad = false;

	if (list_only) {
		printf("dma_get_required_mask\ndma_max_mapping_size\n"
		       "dma_max_mapping_size with min_align_mask 0xfff\n"
		       "dma_opt_mapping_size\n");
		return;
	}
	d_reset();
	if (run_ioctl(&c) || c.status) {
		kt_notok("info", "INFO failed");
		return;
	}
	/* dma_get_required_mask: as the kernel's own path answers */
	if (c.required_mask == c.required_mask_ref)
		kt_ok("dma_get_required_mask", "(%#llx)",
		      (unsigned long long)c.required_mask);
	else {
		snprintf(d, sizeof(d), "%#llx, the kernel's path says %#llx",
			 (unsigned long long)c.required_mask,
			 (unsigned long long)c.required_mask_ref);
		kt_notok("dma_get_required_mask", d);
	}

	/* dma_max_mapping_size: the kernel's swiotlb limit when it bounces */
	if (!attached_mode() && forced)
		EXPECT(c.max_mapping_size == SEG_MAX,
		       "forced swiotlb: %llu, expected %llu",
		       (unsigned long long)c.max_mapping_size, SEG_MAX);
	else if (!attached_mode() && !pool)
		EXPECT(c.max_mapping_size == (unsigned long long)SIZE_MAX,
		       "no pool: %llu, expected SIZE_MAX",
		       (unsigned long long)c.max_mapping_size);
	EXPECT(c.max_mapping_size >= 4096, "below a page: %llu",
	       (unsigned long long)c.max_mapping_size);
	if (bad)
		kt_notok("dma_max_mapping_size", diag);
	else
		kt_ok("dma_max_mapping_size", "(%llu)",
		      (unsigned long long)c.max_mapping_size);

	/* with min_align_mask the limit cannot grow */
	d_reset();
	bad = false;
	if (!(c.info_flags & DSW_TEST_INFO_MIN_ALIGN)) {
		kt_skip("dma_max_mapping_size with min_align_mask 0xfff",
			"no dma_set_min_align_mask on this kernel");
	} else if (run_ioctl(&al) || al.status) {
		kt_notok("dma_max_mapping_size with min_align_mask 0xfff",
			 "INFO with min_align_mask failed");
	} else {
		EXPECT(al.max_mapping_size <= c.max_mapping_size,
		       "%llu > %llu without min_align_mask",
		       (unsigned long long)al.max_mapping_size,
		       (unsigned long long)c.max_mapping_size);
		if (bad)
			kt_notok("dma_max_mapping_size with min_align_mask 0xfff", diag);
		else
			kt_ok("dma_max_mapping_size with min_align_mask 0xfff",
			      "(%llu)", (unsigned long long)al.max_mapping_size);
	}

	d_reset();
	bad = false;
	if (!(c.info_flags & DSW_TEST_INFO_OPT_SIZE)) {
		kt_skip("dma_opt_mapping_size", "not available on this kernel");
	} else {
		EXPECT(c.opt_mapping_size && c.opt_mapping_size <= c.max_mapping_size,
		       "%llu, max %llu", (unsigned long long)c.opt_mapping_size,
		       (unsigned long long)c.max_mapping_size);
		if (bad)
			kt_notok("dma_opt_mapping_size", diag);
		else
			kt_ok("dma_opt_mapping_size", "(%llu)",
			      (unsigned long long)c.opt_mapping_size);
	}
}

/* dma_mmap_coherent through mmap() of the ctl file. */
static void run_mmap(unsigned long long size)
{
	struct dsw_test_case c = { .op = DSW_TEST_OP_MMAP_PREPARE, .size = size };
	unsigned long long i, bad = 0, first = 0;
	char name[64];
	uint8_t *p;

	snprintf(name, sizeof(name), "mmap_coherent size=%llu", size);
	case_idx++;
	if (filter && !strstr(name, filter))
		return;
	if (list_only) {
		printf("%s\n", name);
		return;
	}
	c.seed = seed_of(case_idx);
	if (run_ioctl(&c) || c.status) {
		snprintf(diag, sizeof(diag), "MMAP_PREPARE: ioctl or dma_alloc_coherent failed (%d)",
			 c.status);
		kt_notok(name, diag);
		return;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, ctl, 0);
	if (p == MAP_FAILED) {
		snprintf(diag, sizeof(diag), "mmap: dma_mmap_coherent failed: %s",
			 strerror(errno));
		kt_notok(name, diag);
		return;
	}
	for (i = 0; i < size; i++) {
		if (p[i] != DSW_TEST_PATTERN(c.seed, 0, i) && !bad++)
			first = i;
	}
	for (i = 0; i < size; i++)
		p[i] = DSW_TEST_PATTERN(c.seed, 1, i);
	c.op = DSW_TEST_OP_MMAP_CHECK;
	if (!bad && (run_ioctl(&c) || c.status || c.fail_check)) {
		snprintf(diag, sizeof(diag),
			 "userspace writes not seen by CPU/device: %s, %llu bad at %lld",
			 c.fail_check < DSW_TEST_CHK_NR ? chk_name[c.fail_check] : "?",
			 (unsigned long long)c.mismatches, (long long)c.first_bad);
		munmap(p, size);
		kt_notok(name, diag);
		return;
	}
	if (bad) {
		snprintf(diag, sizeof(diag),
			 "mapping does not show the CPU's data: %llu bad, first at %llu",
			 bad, first);
		munmap(p, size);
		kt_notok(name, diag);
		return;
	}
	for (i = 0; i < size; i++) {
		if (p[i] != DSW_TEST_PATTERN(c.seed, 2, i) && !bad++)
			first = i;
	}
	munmap(p, size);
	if (bad) {
		snprintf(diag, sizeof(diag),
			 "device writes not seen through the mapping: %llu bad, first at %llu",
			 bad, first);
		kt_notok(name, diag);
		return;
	}
	kt_ok(name, NULL);
}

/* Malformed input: EINVAL, nothing run. */
static void run_invalid(void)
{
	static const struct {
		const char *what;
		struct dsw_test_case c;
	} t[] = {
		{ "op 0", { .op = 0 } },
		{ "op past the last", { .op = DSW_TEST_OP_NR } },
		{ "direction 3 (DMA_NONE)", { .op = DSW_TEST_OP_MAP_PAGE, .dir = 3, .size = 1 } },
		{ "direction on coherent", { .op = DSW_TEST_OP_ALLOC_COHERENT, .dir = 1, .size = 4096 } },
		{ "size 0", { .op = DSW_TEST_OP_MAP_PAGE, .size = 0 } },
		{ "size over the maximum", { .op = DSW_TEST_OP_MAP_PAGE, .size = DSW_TEST_MAX_SIZE + 1ULL } },
		{ "size 2^63", { .op = DSW_TEST_OP_MAP_SG, .size = 1ULL << 63, .nents = 1 } },
		{ "size on info", { .op = DSW_TEST_OP_INFO, .size = 1 } },
		{ "resource over 64 KiB", { .op = DSW_TEST_OP_MAP_RESOURCE, .size = DSW_TEST_MAX_RESOURCE + 1ULL } },
		{ "offset of a page", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .offset = 4096 } },
		{ "offset on coherent", { .op = DSW_TEST_OP_ALLOC_COHERENT, .size = 4096, .offset = 1 } },
		{ "sg with 0 entries", { .op = DSW_TEST_OP_MAP_SG, .size = 4096 } },
		{ "sg with too many entries", { .op = DSW_TEST_OP_MAP_SG, .size = 1 << 20, .nents = DSW_TEST_MAX_NENTS + 1 } },
		{ "sg with more entries than bytes", { .op = DSW_TEST_OP_MAP_SGTABLE, .size = 3, .nents = 4 } },
		{ "nents on map_page", { .op = DSW_TEST_OP_MAP_PAGE, .size = 4096, .nents = 1 } },
		{ "unknown flag", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .flags = 1U << 31 } },
		{ "range sync on sg", { .op = DSW_TEST_OP_MAP_SG, .size = 4096, .nents = 1, .flags = DSW_TEST_F_PARTIAL, .sync_len = 1 } },
		{ "chained on map_page", { .op = DSW_TEST_OP_MAP_PAGE, .size = 4096, .flags = DSW_TEST_F_CHAINED } },
		{ "skip_cpu_sync on coherent", { .op = DSW_TEST_OP_ALLOC_COHERENT, .size = 4096, .flags = DSW_TEST_F_SKIP_CPU_SYNC } },
		{ "sync range past the end", { .op = DSW_TEST_OP_MAP_PAGE, .size = 4096, .flags = DSW_TEST_F_PARTIAL, .sync_offset = 4000, .sync_len = 97 } },
		{ "sync range wrapping", { .op = DSW_TEST_OP_MAP_PAGE, .size = 4096, .flags = DSW_TEST_F_PARTIAL, .sync_offset = 1, .sync_len = 0xffffffffU } },
		{ "empty sync range", { .op = DSW_TEST_OP_MAP_PAGE, .size = 4096, .flags = DSW_TEST_F_PARTIAL, .sync_offset = 1 } },
		{ "sync range without the flag", { .op = DSW_TEST_OP_MAP_PAGE, .size = 4096, .sync_len = 1 } },
		{ "above and within the mask", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .dma_bits = 32, .flags = DSW_TEST_F_HIGH | DSW_TEST_F_LOW } },
		{ "above a 64-bit mask", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .flags = DSW_TEST_F_HIGH } },
		{ "65-bit mask", { .op = DSW_TEST_OP_SET_MASK, .dma_bits = 65 } },
		{ "set_mask of 0 bits", { .op = DSW_TEST_OP_SET_MASK } },
		{ "24-bit mask on a mapping", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .dma_bits = 24 } },
		{ "range sync with an unaligned min_align offset", { .op = DSW_TEST_OP_MAP_PAGE, .size = 8192, .offset = 1, .min_align_mask = 4095, .flags = DSW_TEST_F_PARTIAL, .sync_offset = 4096, .sync_len = 1 } },
		{ "min_align_mask 0x1000", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .min_align_mask = 0x1000 } },
		{ "min_align_mask 0x1ffff", { .op = DSW_TEST_OP_MAP_PAGE, .size = 1, .min_align_mask = 0x1ffff } },
		{ "reserved[1] set", { .op = DSW_TEST_OP_INFO, .reserved = { 0, 1 } } },
		{ "duration_ms set", { .op = DSW_TEST_OP_INFO, .duration_ms = 1 } },
		{ "hold of 0 buffers", { .op = DSW_TEST_OP_HOLD, .size = 4096 } },
		{ "hold of too many buffers", { .op = DSW_TEST_OP_HOLD, .size = 4096, .nents = DSW_TEST_MAX_HOLD + 1 } },
		{ "hold of 0 bytes", { .op = DSW_TEST_OP_HOLD, .nents = 1 } },
		{ "hold over the size limit", { .op = DSW_TEST_OP_HOLD, .size = DSW_TEST_MAX_SIZE + 1, .nents = 1 } },
		{ "hold with a mask", { .op = DSW_TEST_OP_HOLD, .size = 4096, .nents = 1, .dma_bits = 32 } },
		{ "hold with min_align_mask", { .op = DSW_TEST_OP_HOLD, .size = 4096, .nents = 1, .min_align_mask = 4095 } },
		{ "hold with a flag", { .op = DSW_TEST_OP_HOLD, .size = 4096, .nents = 1, .flags = DSW_TEST_F_SYNC } },
		{ "hold at an offset", { .op = DSW_TEST_OP_HOLD, .size = 4096, .nents = 1, .offset = 1 } },
		{ "hold in direction 3", { .op = DSW_TEST_OP_HOLD, .size = 4096, .nents = 1, .dir = 3 } },
		{ "stress for 0 ms", { .op = DSW_TEST_OP_STRESS, .size = 4096, .nents = 1 } },
		{ "stress with 0 threads", { .op = DSW_TEST_OP_STRESS, .size = 4096, .duration_ms = 1 } },
		{ "stress with too many threads", { .op = DSW_TEST_OP_STRESS, .size = 4096, .nents = DSW_TEST_MAX_STRESS_THREADS + 1, .duration_ms = 1 } },
		{ "stress over its size limit", { .op = DSW_TEST_OP_STRESS, .size = DSW_TEST_MAX_STRESS_SIZE + 1, .nents = 1, .duration_ms = 1 } },
		{ "stress with a flag", { .op = DSW_TEST_OP_STRESS, .size = 4096, .nents = 1, .duration_ms = 1, .flags = DSW_TEST_F_SYNC } },
		{ "stress with a 16-bit mask", { .op = DSW_TEST_OP_STRESS, .size = 4096, .nents = 1, .duration_ms = 1, .dma_bits = 16 } },
		{ "release with a size", { .op = DSW_TEST_OP_RELEASE, .size = 1 } },
		{ "release with nents", { .op = DSW_TEST_OP_RELEASE, .nents = 1 } },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct dsw_test_case c = t[i].c;
		char name[128];
		int ret;

		snprintf(name, sizeof(name), "invalid input: %s", t[i].what);
		case_idx++;
		if (filter && !strstr(name, filter))
			continue;
		if (list_only) {
			printf("%s\n", name);
			continue;
		}
		ret = run_ioctl(&c);
		if (ret == -EINVAL) {
			kt_ok(name, "(EINVAL)");
		} else {
			snprintf(diag, sizeof(diag), "got %s, expected EINVAL",
				 ret ? strerror(-ret) : "success");
			kt_notok(name, diag);
		}
	}
	if (!list_only && (!filter || strstr("invalid input: unknown ioctl", filter))) {
		struct dsw_test_case c = { .op = DSW_TEST_OP_INFO };

		if (ioctl(ctl, _IOWR('d', 0x5f, struct dsw_test_case), &c) &&
		    errno == ENOTTY)
			kt_ok("invalid input: unknown ioctl", "(ENOTTY)");
		else
			kt_notok("invalid input: unknown ioctl", "not ENOTTY");
	}
}

/* ----- the matrix ----- */

static void add(unsigned int op, unsigned int dir, unsigned long long size,
		unsigned int off, unsigned int nents, unsigned int flags,
		unsigned int bits, unsigned int align, unsigned int so,
		unsigned int sl)
{
	struct spec s = {
		.op = op, .dir = dir, .size = size, .offset = off,
		.nents = nents, .flags = flags, .bits = bits, .align = align,
		.so = so, .sl = sl,
	};

	run_spec(&s);
}

#define MB_ODD	1572869ULL	/* > 1 MiB, odd */

static void run_matrix(void)
{
	static const struct { unsigned long long size; unsigned int off; } single[] = {
		{ 1, 0 }, { 1, 4095 }, { 13, 1 }, { 4096, 0 }, { 4097, 3 },
		{ 12345, 777 }, { 65536, 0 }, { 65537, 1 }, { 262144, 0 },
		{ 262144, 1 }, { MB_ODD, 5 }, { 2097152, 0 },
	};
	static const struct { unsigned int nents; unsigned long long size; unsigned int off; } sgs[] = {
		{ 1, 4096, 0 }, { 3, 12345, 1 }, { 17, 65541, 7 },
		{ 128, 262144, 0 }, { 130, 300000, 3 }, { 7, MB_ODD, 5 },
		{ 513, 1048579, 11 },
	};
	static const unsigned int dirs[] = {
		DSW_TEST_DIR_TO_DEVICE, DSW_TEST_DIR_FROM_DEVICE, DSW_TEST_DIR_BIDIR,
	};
	const unsigned int P = DSW_TEST_OP_MAP_PAGE, S = DSW_TEST_OP_MAP_SINGLE;
	const unsigned int B = DSW_TEST_DIR_BIDIR, T = DSW_TEST_DIR_TO_DEVICE,
			   F = DSW_TEST_DIR_FROM_DEVICE;
	unsigned int d, i, k;

	/* map_page / map_single, every direction, sizes and offsets */
	for (d = 0; d < 3; d++)
		for (i = 0; i < ARRAY_SIZE(single); i++)
			add(P, dirs[d], single[i].size, single[i].off, 0, 0, 0, 0, 0, 0);
	for (d = 0; d < 3; d++) {
		add(S, dirs[d], 1, 0, 0, 0, 0, 0, 0, 0);
		add(S, dirs[d], 4097, 3, 0, 0, 0, 0, 0, 0);
		add(S, dirs[d], 65536, 0, 0, 0, 0, 0, 0, 0);
		add(S, dirs[d], 262144, 1, 0, 0, 0, 0, 0, 0);
		add(S, dirs[d], MB_ODD, 5, 0, 0, 0, 0, 0, 0);
	}

	/* full sync round trips while mapped */
	for (d = 0; d < 3; d++) {
		add(P, dirs[d], 4096, 0, 0, DSW_TEST_F_SYNC, 0, 0, 0, 0);
		add(P, dirs[d], 65537, 1, 0, DSW_TEST_F_SYNC, 0, 0, 0, 0);
		add(P, dirs[d], 262144, 0, 0, DSW_TEST_F_SYNC, 0, 0, 0, 0);
		add(P, dirs[d], MB_ODD, 5, 0, DSW_TEST_F_SYNC, 0, 0, 0, 0);
	}
	add(S, B, 12345, 7, 0, DSW_TEST_F_SYNC, 0, 0, 0, 0);

	/* range syncs: only the range is copied */
	for (d = 0; d < 3; d++) {
		add(P, dirs[d], 65536, 0, 0, DSW_TEST_F_PARTIAL, 0, 0, 4096, 8192);
		add(P, dirs[d], 12345, 5, 0, DSW_TEST_F_PARTIAL, 0, 0, 1, 3001);
		add(P, dirs[d], MB_ODD, 5, 0, DSW_TEST_F_PARTIAL, 0, 0, 300001, 65536);
		add(S, dirs[d], 20000, 9, 0, DSW_TEST_F_PARTIAL, 0, 0, 19999, 1);
	}

	/* DMA_ATTR_SKIP_CPU_SYNC: no copy back, unless synced before */
	add(P, T, 4096, 0, 0, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);
	for (d = 1; d < 3; d++) {
		add(P, dirs[d], 4096, 0, 0, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);
		add(P, dirs[d], 65537, 1, 0, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);
		add(P, dirs[d], MB_ODD, 5, 0, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);
		add(P, dirs[d], 65537, 1, 0, DSW_TEST_F_SKIP_CPU_SYNC | DSW_TEST_F_SYNC, 0, 0, 0, 0);
	}
	add(P, B, 65536, 0, 0, DSW_TEST_F_SKIP_CPU_SYNC | DSW_TEST_F_PARTIAL, 0, 0, 4096, 8192);
	add(S, F, 12345, 3, 0, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);

	/* min_align_mask (NVMe: 4095) with odd offsets */
	add(P, B, 1, 1, 0, 0, 0, 4095, 0, 0);
	add(P, B, 4096, 0x123, 0, 0, 0, 4095, 0, 0);
	add(P, F, 65553, 4095, 0, 0, 0, 4095, 0, 0);
	add(P, T, 200000, 2049, 0, 0, 0, 4095, 0, 0);
	add(P, B, 262144, 1, 0, 0, 0, 4095, 0, 0);
	add(P, B, MB_ODD, 3, 0, DSW_TEST_F_SYNC, 0, 4095, 0, 0);
	add(P, B, 65536, 0x800, 0, DSW_TEST_F_PARTIAL, 0, 4095, 1000, 5000);
	add(P, B, 9000, 0x5a5, 0, 0, 0, 0x7ff, 0, 0);
	add(DSW_TEST_OP_MAP_SG, B, 65541, 7, 17, 0, 0, 4095, 0, 0);
	add(DSW_TEST_OP_MAP_SGTABLE, F, 100003, 1, 9, DSW_TEST_F_SYNC, 0, 4095, 0, 0);

	/* 32-bit masks: anywhere, within the mask, above it (must bounce) */
	add(P, B, 4096, 0, 0, 0, 32, 0, 0, 0);
	add(P, B, 262144, 1, 0, 0, 32, 0, 0, 0);
	add(P, B, MB_ODD, 5, 0, 0, 32, 0, 0, 0);
	add(P, B, 65536, 3, 0, DSW_TEST_F_LOW, 32, 0, 0, 0);
	add(DSW_TEST_OP_MAP_SG, B, 100000, 0, 9, 0, 32, 0, 0, 0);
	for (d = 0; d < 3; d++) {
		add(P, dirs[d], 4096, 0, 0, DSW_TEST_F_HIGH, 32, 0, 0, 0);
		add(P, dirs[d], 65537, 1, 0, DSW_TEST_F_HIGH, 32, 0, 0, 0);
		add(P, dirs[d], MB_ODD, 5, 0, DSW_TEST_F_HIGH, 32, 0, 0, 0);
	}
	add(S, B, 12345, 7, 0, DSW_TEST_F_HIGH | DSW_TEST_F_SYNC, 32, 0, 0, 0);
	add(P, B, 65536, 0, 0, DSW_TEST_F_HIGH | DSW_TEST_F_PARTIAL, 32, 0, 4096, 8192);
	add(P, F, 65537, 1, 0, DSW_TEST_F_HIGH | DSW_TEST_F_SKIP_CPU_SYNC, 32, 0, 0, 0);
	add(P, B, 65536, 0x123, 0, DSW_TEST_F_HIGH, 32, 4095, 0, 0);
	add(DSW_TEST_OP_MAP_SG, B, 300000, 3, 33, DSW_TEST_F_HIGH, 32, 0, 0, 0);
	add(DSW_TEST_OP_MAP_SGTABLE, B, 200001, 9, 64,
	    DSW_TEST_F_HIGH | DSW_TEST_F_CHAINED | DSW_TEST_F_SYNC, 32, 0, 0, 0);

	/* mapping with interrupts disabled */
	add(P, B, 4096, 0, 0, DSW_TEST_F_ATOMIC, 0, 0, 0, 0);
	add(P, B, 262144, 1, 0, DSW_TEST_F_ATOMIC, 0, 0, 0, 0);
	add(P, F, MB_ODD, 5, 0, DSW_TEST_F_ATOMIC, 0, 0, 0, 0);
	add(DSW_TEST_OP_MAP_SG, B, 65541, 7, 17, DSW_TEST_F_ATOMIC, 0, 0, 0, 0);
	add(P, B, 65537, 1, 0, DSW_TEST_F_ATOMIC | DSW_TEST_F_HIGH, 32, 0, 0, 0);

	/* scatterlists */
	for (k = DSW_TEST_OP_MAP_SG; k <= DSW_TEST_OP_MAP_SGTABLE; k++) {
		for (d = 0; d < 3; d++)
			for (i = 0; i < ARRAY_SIZE(sgs); i++)
				add(k, dirs[d], sgs[i].size, sgs[i].off, sgs[i].nents,
				    0, 0, 0, 0, 0);
		add(k, B, 10000, 1, 5, DSW_TEST_F_CHAINED, 0, 0, 0, 0);
		add(k, T, 200001, 9, 64, DSW_TEST_F_CHAINED, 0, 0, 0, 0);
		add(k, F, 1500000, 0, 1000, DSW_TEST_F_CHAINED, 0, 0, 0, 0);
		for (d = 0; d < 3; d++)
			add(k, dirs[d], 65541, 7, 17, DSW_TEST_F_SYNC, 0, 0, 0, 0);
		add(k, B, 200001, 9, 64, DSW_TEST_F_SYNC | DSW_TEST_F_CHAINED, 0, 0, 0, 0);
		add(k, F, 65541, 7, 17, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);
		add(k, B, 65541, 7, 17, DSW_TEST_F_SKIP_CPU_SYNC, 0, 0, 0, 0);
		add(k, B, 65541, 7, 17, DSW_TEST_F_SKIP_CPU_SYNC | DSW_TEST_F_SYNC, 0, 0, 0, 0);
	}

	/* map_resource: no bouncing */
	for (d = 0; d < 3; d++)
		add(DSW_TEST_OP_MAP_RESOURCE, dirs[d], 4096, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_MAP_RESOURCE, B, 1, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_MAP_RESOURCE, B, 65536, 0, 0, 0, 32, 0, 0, 0);

	/* allocations */
	add(DSW_TEST_OP_ALLOC_COHERENT, 0, 1, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_COHERENT, 0, 4096, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_COHERENT, 0, 12345, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_COHERENT, 0, 65536, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_COHERENT, 0, MB_ODD, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_COHERENT, 0, 65536, 0, 0, 0, 32, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_NO_KMAP, 0, 4096, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_NO_KMAP, 0, 65536, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_ALLOC_NO_KMAP, 0, 1048576, 0, 0, 0, 0, 0, 0, 0);
	for (k = DSW_TEST_OP_ALLOC_PAGES; k <= DSW_TEST_OP_ALLOC_NONCOHERENT; k++) {
		for (d = 0; d < 3; d++)
			add(k, dirs[d], 4096, 0, 0, 0, 0, 0, 0, 0);
		add(k, B, 12345, 0, 0, 0, 0, 0, 0, 0);
		add(k, B, MB_ODD, 0, 0, 0, 0, 0, 0, 0);
		add(k, F, 65536, 0, 0, 0, 32, 0, 0, 0);
	}
	add(DSW_TEST_OP_GET_SGTABLE, 0, 1, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_GET_SGTABLE, 0, 4096, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_GET_SGTABLE, 0, 65536, 0, 0, 0, 0, 0, 0, 0);
	add(DSW_TEST_OP_GET_SGTABLE, 0, 1048576, 0, 0, 0, 0, 0, 0, 0);
	run_mmap(4096);
	run_mmap(65536);
	run_mmap(1048576);

	/* dma_set_mask (dma_supported) against the kernel's own answer */
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 64, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 48, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 40, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 32, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 30, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 24, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 20, 0, 0, 0);
	add(DSW_TEST_OP_SET_MASK, 0, 0, 0, 0, 0, 12, 0, 0, 0);
}

/*
 * Last: dma_vmap_noncontiguous() trusts that an ops->alloc_noncontiguous
 * returned a struct dma_sgt_handle, and dereferences garbage otherwise;
 * a crash there loses no other result.
 */
static void run_noncontig(void)
{
	const unsigned int k = DSW_TEST_OP_ALLOC_NONCONTIG;

	add(k, DSW_TEST_DIR_TO_DEVICE, 4096, 0, 0, 0, 0, 0, 0, 0);
	add(k, DSW_TEST_DIR_FROM_DEVICE, 4096, 0, 0, 0, 0, 0, 0, 0);
	add(k, DSW_TEST_DIR_BIDIR, 4096, 0, 0, 0, 0, 0, 0, 0);
	add(k, DSW_TEST_DIR_BIDIR, 12345, 0, 0, 0, 0, 0, 0, 0);
	add(k, DSW_TEST_DIR_BIDIR, MB_ODD, 0, 0, 0, 0, 0, 0, 0);
	add(k, DSW_TEST_DIR_FROM_DEVICE, 65536, 0, 0, 0, 32, 0, 0, 0);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: dma_api --expect kernel|static|dynamic [--filter TEXT] [--list]\n"
		"       dma_api --hold N --size BYTES [--dir bidi|to|from] [--seed SEED] [--irq]\n"
		"       dma_api --release | --hog | --unhog | --fragment | --unfragment\n"
		"       dma_api --stress THREADS --size BYTES --ms MS [--bits N] [--seed SEED]\n");
	return 2;
}

/* ----- one operation for a shell test (--hold, --release, --hog, --unhog) ----- */

/* Parse a whole decimal or 0x number into *v; false if not one. */
static bool parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

/* Run one case; 0, or the exit code after a message on stderr. */
static int one_op(struct dsw_test_case *c)
{
	const char *what = op_name[c->op];
	int ret;

	ctl = open(CTL_PATH, O_RDWR);
	if (ctl < 0) {
		fprintf(stderr, "dma_api: %s: %s (is dynswiotlb_test loaded?)\n",
			CTL_PATH, strerror(errno));
		return 1;
	}
	ret = run_ioctl(c);
	if (ret) {
		fprintf(stderr, "dma_api: %s: ioctl: %s\n", what, strerror(-ret));
		return 1;
	}
	if (!c->status)
		return 0;
	if (c->op == DSW_TEST_OP_HOG && c->status == -EOPNOTSUPP) {
		fprintf(stderr, "dma_api: hog: the reference device does not bounce (swiotlb not forced): nothing to fill\n");
		return 4;
	}
	if (c->op == DSW_TEST_OP_HOLD && c->status == -EBUSY) {
		fprintf(stderr, "dma_api: hold: mappings are already held (dma_api --release first)\n");
		return 1;
	}
	if (c->op == DSW_TEST_OP_HOLD && c->stage == DSW_TEST_STAGE_DMA) {
		fprintf(stderr, "dma_api: hold: mapping %u of %u failed (%s); nothing held\n",
			c->mapped_nents + 1, c->nents, strerror(-c->status));
		return 1;
	}
	fprintf(stderr, "dma_api: %s: %s (%s)%s\n", what, strerror(-c->status),
		c->stage == DSW_TEST_STAGE_SETUP ? "test setup" :
		c->stage == DSW_TEST_STAGE_DMA ? "DMA API" : "stage ?",
		c->op == DSW_TEST_OP_HOLD ? "; nothing held" : "");
	return 1;
}

static int run_hold(unsigned long long n, unsigned long long size,
		    unsigned int dir, unsigned long long seed, unsigned int flags)
{
	struct dsw_test_case c = {
		.op = DSW_TEST_OP_HOLD, .dir = dir, .size = size,
		.nents = (unsigned int)n, .seed = seed, .flags = flags,
	};
	int ret;

	if (!n || n > DSW_TEST_MAX_HOLD || !size || size > DSW_TEST_MAX_SIZE) {
		fprintf(stderr, "dma_api: --hold 1..%u, --size 1..%u\n",
			DSW_TEST_MAX_HOLD, DSW_TEST_MAX_SIZE);
		return 2;
	}
	ret = one_op(&c);
	if (ret)
		return ret;
	if (c.fail_check || c.mapped_nents != n) {
		struct dsw_test_case r = { .op = DSW_TEST_OP_RELEASE };

		fprintf(stderr, "dma_api: hold: %u of %llu mapped; check failed: %s: %llu bad, first at %lld; released\n",
			c.mapped_nents, n,
			c.fail_check < DSW_TEST_CHK_NR ? chk_name[c.fail_check] : "?",
			(unsigned long long)c.mismatches, (long long)c.first_bad);
		run_ioctl(&r);
		return 1;
	}
	printf("held %u mappings of %llu bytes (%s), first dma %#llx, %u bounced\n",
	       c.mapped_nents, size, dir == DSW_TEST_DIR_BIDIR ? "bidi" :
	       dir_name(dir), (unsigned long long)c.dma_addr, c.bounced);
	return 0;
}

static int run_stress(unsigned long long threads, unsigned long long size,
		      unsigned long long ms, unsigned long long bits,
		      unsigned long long seed)
{
	struct dsw_test_case c = {
		.op = DSW_TEST_OP_STRESS, .nents = (unsigned int)threads,
		.size = size, .duration_ms = (unsigned int)ms,
		.dma_bits = (unsigned int)bits, .seed = seed,
	};
	int ret;

	if (!threads || threads > DSW_TEST_MAX_STRESS_THREADS || !size ||
	    size > DSW_TEST_MAX_STRESS_SIZE || !ms ||
	    ms > DSW_TEST_MAX_STRESS_MS || (bits && (bits < 32 || bits > 64))) {
		fprintf(stderr, "dma_api: --stress 1..%u --size 1..%u --ms 1..%u [--bits 32..64]\n",
			DSW_TEST_MAX_STRESS_THREADS, DSW_TEST_MAX_STRESS_SIZE,
			DSW_TEST_MAX_STRESS_MS);
		return 2;
	}
	ret = one_op(&c);
	if (ret)
		return ret;
	if (c.fail_check) {
		unsigned int op = (unsigned int)(c.stress_bad >> 32);

		fprintf(stderr, "dma_api: stress: %s of %llu bytes: check failed: %s: %llu bad, first at %lld (after %llu cases)\n",
			op < DSW_TEST_OP_NR && op_name[op] ? op_name[op] : "?",
			(unsigned long long)(c.stress_bad & 0xffffffffULL),
			c.fail_check < DSW_TEST_CHK_NR ? chk_name[c.fail_check] : "?",
			(unsigned long long)c.mismatches, (long long)c.first_bad,
			(unsigned long long)c.stress_cases);
		return 1;
	}
	printf("stress: %llu cases, %llu failed mappings, %u bounced\n",
	       (unsigned long long)c.stress_cases,
	       (unsigned long long)c.stress_failed_maps, c.bounced);
	return 0;
}

/* Set the device under test's mode knob; false on any error. */
static bool set_mode(const char *name)
{
	size_t len = strlen(name);
	bool ok;
	int fd;

	fd = open(MODE_PATH, O_WRONLY);
	if (fd < 0)
		return false;
	ok = write(fd, name, len) == (ssize_t)len;
	return !close(fd) && ok;
}

static int run_one(unsigned int op)
{
	struct dsw_test_case c = { .op = op };
	int ret = one_op(&c);

	if (ret)
		return ret;
	if (op == DSW_TEST_OP_RELEASE)
		printf("released %u mappings\n", c.mapped_nents);
	else if (op == DSW_TEST_OP_HOG)
		printf("hogged %u mappings, %llu bytes\n", c.hog_mappings,
		       (unsigned long long)c.hog_bytes);
	else if (op == DSW_TEST_OP_FRAGMENT)
		printf("fragmented: %u pages kept, %llu bytes\n", c.hog_mappings,
		       (unsigned long long)c.hog_bytes);
	else if (op == DSW_TEST_OP_UNFRAGMENT)
		printf("unfragmented\n");
	else
		printf("unhogged\n");
	return 0;
}

struct name_val {
	const char *name;
	unsigned int val;
};

/* Map a command-line word to its value; false if unknown. */
static bool lookup(const struct name_val *t, const char *name,
		   unsigned int *val)
{
	for (; t->name; t++) {
		if (!strcmp(t->name, name)) {
			*val = t->val;
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	unsigned long long hold_n = 0, hold_size = 0, seed = 0x401d;
	unsigned long long ms = 0, bits = 0;
	bool have_mode = false, hogged = false, have_size = false;
	bool dynonly = false;
	bool have_opt = false;
	unsigned int one = 0, dir = DSW_TEST_DIR_BIDIR, flags = 0;
	struct stats st;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold") && i + 1 < argc && !one) {
			one = DSW_TEST_OP_HOLD;
			if (!parse_ull(argv[++i], &hold_n))
				return usage();
		} else if (!strcmp(argv[i], "--stress") && i + 1 < argc && !one) {
			one = DSW_TEST_OP_STRESS;
			if (!parse_ull(argv[++i], &hold_n))
				return usage();
		} else if (!strcmp(argv[i], "--ms") && i + 1 < argc) {
			if (!parse_ull(argv[++i], &ms))
				return usage();
		} else if (!strcmp(argv[i], "--bits") && i + 1 < argc) {
			if (!parse_ull(argv[++i], &bits))
				return usage();
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			have_size = true;
			if (!parse_ull(argv[++i], &hold_size))
				return usage();
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			have_opt = true;
			if (!parse_ull(argv[++i], &seed))
				return usage();
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			static const struct name_val dirs[] = {
				{ "bidi", DSW_TEST_DIR_BIDIR },
				{ "bidir", DSW_TEST_DIR_BIDIR },
				{ "to", DSW_TEST_DIR_TO_DEVICE },
				{ "from", DSW_TEST_DIR_FROM_DEVICE },
				{ NULL, 0 },
			};

			have_opt = true;
			if (!lookup(dirs, argv[++i], &dir))
				return usage();
		} else if (!strcmp(argv[i], "--irq")) {
			have_opt = true;
			flags |= DSW_TEST_F_IRQ;
		} else if (!strcmp(argv[i], "--release") && !one) {
			one = DSW_TEST_OP_RELEASE;
		} else if (!strcmp(argv[i], "--hog") && !one) {
			one = DSW_TEST_OP_HOG;
		} else if (!strcmp(argv[i], "--unhog") && !one) {
			one = DSW_TEST_OP_UNHOG;
		} else if (!strcmp(argv[i], "--fragment") && !one) {
			one = DSW_TEST_OP_FRAGMENT;
		} else if (!strcmp(argv[i], "--unfragment") && !one) {
			one = DSW_TEST_OP_UNFRAGMENT;
		} else if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			static const struct name_val modes[] = {
				{ "kernel", MODE_KERNEL },
				{ "static", MODE_STATIC },
				{ "dynamic", MODE_DYNAMIC },
				{ NULL, 0 },
			};
			unsigned int m;

			have_mode = true;
			if (!lookup(modes, argv[++i], &m))
				return usage();
			mode = m;
		} else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			filter = argv[++i];
		} else if (!strcmp(argv[i], "--list")) {
			list_only = true;
		} else {
			return usage();
		}
	}
	if (one == DSW_TEST_OP_STRESS) {
		if (have_mode || filter || list_only || !have_size || !ms ||
		    dir != DSW_TEST_DIR_BIDIR || flags)
			return usage();
		return run_stress(hold_n, hold_size, ms, bits, seed);
	}
	if (ms || bits)
		return usage();
	if (one) {
		bool hold = one == DSW_TEST_OP_HOLD;

		/* --size, --dir, --seed and --irq go with --hold only */
		if (have_mode || filter || list_only || hold != have_size ||
		    (!hold && have_opt))
			return usage();
		if (hold)
			return run_hold(hold_n, hold_size, dir, seed, flags);
		return run_one(one);
	}
	if (!have_mode || have_size || have_opt)
		return usage();
	if (list_only) {
		run_info();
		run_matrix();
		run_invalid();
		run_noncontig();
		return 0;
	}

	printf("KTAP version 1\n");
	ctl = open(CTL_PATH, O_RDWR);
	if (ctl < 0) {
		snprintf(diag, sizeof(diag), "%s: %s (is dynswiotlb_test loaded?)",
			 CTL_PATH, strerror(errno));
		kt_notok("open the test module's ctl file", diag);
		return kt_end();
	}
	info.op = DSW_TEST_OP_INFO;
	if (run_ioctl(&info) || info.status) {
		kt_notok("INFO", "the test module does not answer INFO");
		return kt_end();
	}
	forced = info.info_flags & DSW_TEST_INFO_FORCED;
	pool = info.info_flags & DSW_TEST_INFO_POOL;
	printf("# mode %s: swiotlb pool %s, %s; device under test %s\n",
	       mode_name[mode], pool ? "present" : "absent",
	       forced ? "forced" : "not forced",
	       info.info_flags & DSW_TEST_INFO_ATTACHED ? "has dma_map_ops" :
	       "uses dma-direct");

	if (mode == MODE_KERNEL) {
		if (info.info_flags & DSW_TEST_INFO_ATTACHED ||
		    !access(STATS_PATH, F_OK)) {
			kt_notok("device under test is not attached (kernel mode)",
				 "it has dma_map_ops or dynswiotlb stats: not the kernel's own path");
			return kt_end();
		}
		kt_ok("device under test is not attached (kernel mode)", NULL);
	} else {
		if (!stats_read(&st)) {
			kt_skip("dynswiotlb stats of " DSW_TEST_DEV_NAME,
				STATS_PATH " missing or incomplete: dynswiotlb does not attach (yet)");
			return kt_end();
		}
		if (!(info.info_flags & DSW_TEST_INFO_ATTACHED))
			kt_notok("device under test has dynswiotlb's dma_map_ops",
				 "stats exist but the device has no dma_map_ops");
		else
			kt_ok("device under test has dynswiotlb's dma_map_ops", NULL);
		if (mode == MODE_STATIC && !pool) {
			kt_skip("static mode", "the kernel has no swiotlb pool");
			return kt_end();
		}
		if (mode == MODE_DYNAMIC && pool && !access(GROWS_PATH, F_OK)) {
			/* filling a pool that grows fills memory */
			if (!set_mode(DSW_MODE_DYNAMIC_ONLY_NAME)) {
				kt_notok("dynamic-only on a growing pool", MODE_PATH);
				return kt_end();
			}
			dynonly = true;
			kt_ok("dynamic-only: the kernel's pool grows by itself (CONFIG_SWIOTLB_DYNAMIC), so it is not filled",
			      NULL);
		} else if (mode == MODE_DYNAMIC && pool) {
			struct dsw_test_case h = { .op = DSW_TEST_OP_HOG };

			if (!forced) {
				kt_skip("dynamic mode with a pool",
					"swiotlb not forced: the reference device cannot fill the pool");
				return kt_end();
			}
			if (run_ioctl(&h) || h.status || !h.hog_mappings) {
				snprintf(diag, sizeof(diag), "HOG: status %d, %u mappings",
					 h.status, h.hog_mappings);
				kt_notok("fill the swiotlb pool through " DSW_TEST_REF_DEV_NAME,
					 diag);
				return kt_end();
			}
			hogged = true;
			kt_ok("fill the swiotlb pool through " DSW_TEST_REF_DEV_NAME,
			      "(%u mappings, %llu bytes)", h.hog_mappings,
			      (unsigned long long)h.hog_bytes);
		}
	}

	run_info();
	run_matrix();
	run_invalid();
	run_noncontig();

	if (hogged) {
		struct dsw_test_case h = { .op = DSW_TEST_OP_UNHOG };

		if (run_ioctl(&h) || h.status)
			kt_notok("release the swiotlb pool", "UNHOG failed");
		else
			kt_ok("release the swiotlb pool", NULL);
	}
	if (dynonly) {
		if (set_mode(DSW_MODE_STATIC_FIRST_NAME))
			kt_ok("back to static-first", NULL);
		else
			kt_notok("back to static-first", MODE_PATH);
	}
	if (attached_mode()) {
		if (!stats_read(&st))
			kt_notok("no live dynamic buffers at the end",
				 "cannot read " STATS_PATH);
		else if (st.live_buffers || st.live_bytes) {
			snprintf(diag, sizeof(diag), "live_buffers %lld live_bytes %lld",
				 st.live_buffers, st.live_bytes);
			kt_notok("no live dynamic buffers at the end", diag);
		} else {
			kt_ok("no live dynamic buffers at the end",
			      "(maps %lld: direct %lld, static %lld, dynamic %lld, failures %lld; pool_bytes %lld)",
			      st.maps, st.direct, st.stat, st.dyn, st.failures,
			      st.pool_bytes);
		}
	}
	close(ctl);
	return kt_end();
}
