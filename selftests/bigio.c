// SPDX-License-Identifier: GPL-2.0
/*
 * bigio: large single mappings through a real disk (frag.sh).
 *
 *	bigio DEV MIB REQ_KB READY GO
 *
 * Takes two buffers of MIB MiB in transparent huge pages (2 MiB physically
 * contiguous each, so the block layer builds segments, and the driver
 * mappings, of a request's full size; a kernel that gives none fails the
 * run), fills one with a pattern of its own (seeded by the time and the
 * pid: no two runs write the same bytes), creates the file READY and
 * waits until GO exists (the caller fragments memory meanwhile). Then it
 * writes the pattern to DEV with O_DIRECT in REQ_KB requests, reads it
 * back into the other buffer and compares.
 *
 * Prints "N MiB in K KiB requests written and read back: match" and exits
 * 0, or says what failed and exits 1; 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HUGE	(2UL << 20)

/* An anonymous buffer of @len bytes aligned to 2 MiB, in huge pages. */
static unsigned char *huge_buffer(size_t len)
{
	unsigned char *p;
	uintptr_t a;

	p = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	madvise((void *)a, len, MADV_HUGEPAGE);
	memset((void *)a, 0, len);	/* fault the huge pages in now */
	/* unevictable: with compact_unevictable_allowed 0 nothing moves them */
	mlock((void *)a, len);
	return (unsigned char *)a;
}

/* KiB of this process's anonymous memory in huge pages, or -1. */
static long anon_huge_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Write (or read) @len bytes of @buf at offset 0 in @req-byte requests. */
static int xfer(int fd, unsigned char *buf, size_t len, size_t req, bool wr)
{
	size_t off, n;
	ssize_t got;

	for (off = 0; off < len; off += req) {
		n = len - off < req ? len - off : req;
		got = wr ? pwrite(fd, buf + off, n, off) :
			   pread(fd, buf + off, n, off);
		if (got != (ssize_t)n) {
			fprintf(stderr, "bigio: %s at %zu: %s\n",
				wr ? "write" : "read", off,
				got < 0 ? strerror(errno) : "short");
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *out, *in;
	size_t len, req, off;
	unsigned long seed;
	struct stat st;
	long huge;
	int fd, i;

	if (argc != 6 || atoi(argv[2]) <= 0 || atoi(argv[3]) <= 0) {
		fprintf(stderr, "usage: bigio DEV MIB REQ_KB READY GO\n");
		return 2;
	}
	len = (size_t)atoi(argv[2]) << 20;
	req = (size_t)atoi(argv[3]) << 10;
	out = huge_buffer(len);
	in = huge_buffer(len);
	if (!out || !in) {
		fprintf(stderr, "bigio: no memory for the buffers\n");
		return 1;
	}
	huge = anon_huge_kb();
	if (huge < (long)(2 * len >> 10)) {
		fprintf(stderr, "bigio: buffers not in huge pages (AnonHugePages %ld kB of %zu)\n",
			huge, 2 * len >> 10);
		return 1;
	}
	seed = (unsigned long)time(NULL) * 2654435761UL ^ (unsigned long)getpid();
	for (off = 0; off < len; off++)
		out[off] = (unsigned char)(((off + seed) * 2654435761UL) >> 13);

	fd = open(argv[4], O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		fprintf(stderr, "bigio: %s: %s\n", argv[4], strerror(errno));
		return 1;
	}
	close(fd);
	for (i = 0; stat(argv[5], &st); i++) {
		if (i > 6000) {
			fprintf(stderr, "bigio: %s never appeared\n", argv[5]);
			return 1;
		}
		usleep(10000);
	}

	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "bigio: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (xfer(fd, out, len, req, true))
		return 1;
	if (fsync(fd)) {
		fprintf(stderr, "bigio: fsync: %s\n", strerror(errno));
		return 1;
	}
	if (xfer(fd, in, len, req, false))
		return 1;
	close(fd);
	for (off = 0; off < len; off++) {
		if (in[off] != out[off]) {
			fprintf(stderr, "bigio: mismatch at byte %zu\n", off);
			return 1;
		}
	}
	printf("%zu MiB in %zu KiB requests written and read back: match\n",
	       len >> 20, req >> 10);
	return 0;
}
