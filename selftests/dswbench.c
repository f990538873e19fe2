// SPDX-License-Identifier: GPL-2.0
/*
 * dswbench: run one measurement of dynswiotlb_bench.ko and print it as one
 * line of key=value pairs (used by bench.sh inside the guests).
 *
 *	dswbench map|memcpy|lookup [--dev dut|ref] [--threads N] [--size BYTES]
 *		[--dir bidi|to|from] [--bits B] [--ms MS] [--live N]
 *
 * Defaults: --dev dut --threads 1 --size 4096 --dir bidi --bits 64 --ms 1000
 * (--live 1 for lookup).  Output, all times in nanoseconds:
 *
 *	op=map dev=dut threads=1 size=4096 dir=bidi bits=32 live=0
 *	ops=N elapsed=NS failures=N bounced=N bytes=N mean=NS stddev=NS
 *	min=NS p50=NS p99=NS max=NS
 *
 * (one line), and for lookup map_*, sync_* and unmap_* figures instead of
 * the operation's.  Exit status: 0, 1 if the run failed (errno on stderr),
 * 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dynswiotlb_test.h>

#define CTL "/sys/kernel/debug/" DSW_BENCH_DEBUGFS_DIR "/" DSW_BENCH_DEBUGFS_CTL

static const char *const ops[] = { NULL, "map", "memcpy", "lookup" };
static const char *const devs[] = { "dut", "ref" };
static const char *const dirs[] = { "bidi", "to", "from" };

static int usage(void)
{
	fprintf(stderr,
		"usage: dswbench map|memcpy|lookup [--dev dut|ref] [--threads N] [--size BYTES]\n"
		"                [--dir bidi|to|from] [--bits B] [--ms MS] [--live N]\n");
	return 2;
}

static int word(const char *const *t, unsigned int n, const char *w)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (t[i] && !strcmp(t[i], w))
			return i;
	return -1;
}

static int number(const char *s, unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static void lat(const char *pfx, const struct dsw_bench_lat *l)
{
	printf(" %sops=%llu %smean=%llu %sstddev=%llu %smin=%llu %sp50=%llu %sp99=%llu %smax=%llu",
	       pfx, (unsigned long long)l->count,
	       pfx, (unsigned long long)l->mean_ns,
	       pfx, (unsigned long long)l->stddev_ns,
	       pfx, (unsigned long long)l->min_ns,
	       pfx, (unsigned long long)l->p50_ns,
	       pfx, (unsigned long long)l->p99_ns,
	       pfx, (unsigned long long)l->max_ns);
}

int main(int argc, char **argv)
{
	struct dsw_bench b = {
		.threads = 1, .size = 4096, .dir = DSW_TEST_DIR_BIDIR,
		.duration_ms = 1000,
	};
	unsigned long long v;
	int i, w, fd;

	if (argc < 2 || (w = word(ops, 4, argv[1])) < 0)
		return usage();
	b.op = w;
	if (b.op == DSW_BENCH_OP_LOOKUP)
		b.live = 1;
	for (i = 2; i < argc; i++) {
		const char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!arg)
			return usage();
		i++;
		if (!strcmp(opt, "--dev")) {
			if ((w = word(devs, 2, arg)) < 0)
				return usage();
			b.device = w;
		} else if (!strcmp(opt, "--dir")) {
			if ((w = word(dirs, 3, arg)) < 0)
				return usage();
			b.dir = w;
		} else if (number(arg, &v)) {
			return usage();
		} else if (!strcmp(opt, "--threads")) {
			b.threads = v;
		} else if (!strcmp(opt, "--size")) {
			b.size = v;
		} else if (!strcmp(opt, "--bits")) {
			b.dma_bits = v;
		} else if (!strcmp(opt, "--ms")) {
			b.duration_ms = v;
		} else if (!strcmp(opt, "--live")) {
			b.live = v;
		} else {
			return usage();
		}
	}
	fd = open(CTL, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "dswbench: %s: %s (is %s loaded?)\n", CTL,
			strerror(errno), DSW_BENCH_MODULE_NAME);
		return 1;
	}
	if (ioctl(fd, DSW_BENCH_IOC_RUN, &b)) {
		fprintf(stderr, "dswbench: %s: %s\n", ops[b.op], strerror(errno));
		return 1;
	}
	printf("op=%s dev=%s threads=%u size=%llu dir=%s bits=%u live=%u elapsed=%llu failures=%llu bounced=%llu bytes=%llu",
	       ops[b.op], devs[b.device], b.threads, (unsigned long long)b.size,
	       dirs[b.dir], b.dma_bits ? b.dma_bits : 64, b.live,
	       (unsigned long long)b.elapsed_ns, (unsigned long long)b.failures,
	       (unsigned long long)b.bounced, (unsigned long long)b.bytes);
	if (b.op == DSW_BENCH_OP_LOOKUP) {
		lat("map_", &b.map_lat);
		lat("sync_", &b.sync_lat);
		lat("unmap_", &b.unmap_lat);
	} else {
		lat("", &b.op_lat);
	}
	printf("\n");
	return 0;
}
