// SPDX-License-Identifier: GPL-2.0
/*
 * fbdraw: a picture through a real GPU driver (gpu.sh), and its check on
 * the host (boot.sh, against QEMU's screendump of the same display).
 *
 *	fbdraw draw FB SEED	set the framebuffer FB's mode (/dev/fb0, 32
 *				bits per pixel, XRGB), draw SEED's picture,
 *				read it back and compare, print "WIDTH HEIGHT"
 *	fbdraw check SEED PPM	compare a screendump (binary PPM: P6, maxval
 *				255) with SEED's picture of the same size
 *
 * The picture: a red and a green ramp across and down, with 32-pixel
 * squares of two blues (something a person can judge in docs/), whose two
 * low bits in every channel come from a hash of SEED, x and y, so that a
 * block of pixels that is moved, stale, lost or from another buffer does
 * not pass for the right one.
 *
 * Exit status: 0 done and equal, 1 a difference (the first differing
 * pixel and how many differ are printed) or an I/O error, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static uint32_t pixel(uint32_t seed, uint32_t x, uint32_t y, uint32_t w,
		      uint32_t h)
{
	uint32_t k = seed ^ (x * 0x9e3779b1u) ^ (y * 0x85ebca77u);
	uint32_t r, g, b;

	k ^= k >> 15;
	k *= 0x2c1b3c6du;
	k ^= k >> 12;
	k *= 0x297a2d39u;
	k ^= k >> 15;
	r = w > 1 ? x * 255 / (w - 1) : 0;
	g = h > 1 ? y * 255 / (h - 1) : 0;
	b = ((x / 32 + y / 32) & 1) ? 0xc0 : 0x40;
	r = (r & 0xfc) | (k & 3);
	g = (g & 0xfc) | ((k >> 2) & 3);
	b = (b & 0xfc) | ((k >> 4) & 3);
	return r << 16 | g << 8 | b;
}

static int draw(const char *fb, uint32_t seed)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint32_t *row, *back, x, y, bad = 0;
	int fd = open(fb, O_RDWR);

	if (fd < 0 || ioctl(fd, FBIOGET_VSCREENINFO, &var) ||
	    ioctl(fd, FBIOGET_FSCREENINFO, &fix)) {
		fprintf(stderr, "fbdraw: %s: %s\n", fb, strerror(errno));
		return 1;
	}
	if (var.bits_per_pixel != 32 || var.red.offset != 16 ||
	    var.green.offset != 8 || var.blue.offset != 0 ||
	    fix.line_length < var.xres * 4) {
		fprintf(stderr, "fbdraw: %s: not XRGB8888 (%u bpp, red at %u)\n",
			fb, var.bits_per_pixel, var.red.offset);
		return 1;
	}
	/*
	 * Set the mode and unblank, as a program that draws on the console's
	 * framebuffer does: with no console on it, DRM's framebuffer
	 * emulation has not set a mode on the display yet.
	 */
	var.activate = FB_ACTIVATE_NOW | FB_ACTIVATE_FORCE;
	if (ioctl(fd, FBIOPUT_VSCREENINFO, &var) ||
	    ioctl(fd, FBIOBLANK, FB_BLANK_UNBLANK)) {
		fprintf(stderr, "fbdraw: %s: set mode: %s\n", fb, strerror(errno));
		return 1;
	}
	row = calloc(var.xres, 4);
	back = calloc(var.xres, 4);
	if (!row || !back)
		return 1;
	for (y = 0; y < var.yres; y++) {
		for (x = 0; x < var.xres; x++)
			row[x] = pixel(seed, x, y, var.xres, var.yres);
		if (pwrite(fd, row, var.xres * 4, (off_t)y * fix.line_length) !=
		    (ssize_t)(var.xres * 4)) {
			fprintf(stderr, "fbdraw: write row %u: %s\n", y,
				strerror(errno));
			return 1;
		}
	}
	for (y = 0; y < var.yres; y++) {
		if (pread(fd, back, var.xres * 4, (off_t)y * fix.line_length) !=
		    (ssize_t)(var.xres * 4)) {
			fprintf(stderr, "fbdraw: read row %u: %s\n", y,
				strerror(errno));
			return 1;
		}
		for (x = 0; x < var.xres; x++)
			bad += (back[x] & 0xffffff) !=
			       pixel(seed, x, y, var.xres, var.yres);
	}
	if (bad) {
		fprintf(stderr, "fbdraw: %u pixels read back differ\n", bad);
		return 1;
	}
	printf("%u %u\n", var.xres, var.yres);
	return 0;
}

static int check(uint32_t seed, const char *path)
{
	unsigned int w, h, max, x, y, bad = 0, fx = 0, fy = 0;
	unsigned char rgb[3];
	uint32_t want, got;
	FILE *f = fopen(path, "rb");

	if (!f || fscanf(f, "P6 %u %u %u", &w, &h, &max) != 3 || max != 255 ||
	    fgetc(f) == EOF || !w || !h) {
		fprintf(stderr, "fbdraw: %s: not a binary PPM of maxval 255\n", path);
		return 1;
	}
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			if (fread(rgb, 3, 1, f) != 1) {
				fprintf(stderr, "fbdraw: %s: short at %u,%u\n", path, x, y);
				return 1;
			}
			got = (uint32_t)rgb[0] << 16 | rgb[1] << 8 | rgb[2];
			want = pixel(seed, x, y, w, h);
			if (got != want && !bad++) {
				fx = x;
				fy = y;
			}
		}
	}
	fclose(f);
	if (bad) {
		printf("%ux%u: %u pixels differ, the first at %u,%u\n", w, h, bad, fx, fy);
		return 1;
	}
	printf("%ux%u: every pixel as drawn\n", w, h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "draw"))
		return draw(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "check"))
		return check(strtoul(argv[2], NULL, 0), argv[3]);
	fprintf(stderr, "usage: fbdraw draw FB SEED | fbdraw check SEED PPM\n");
	return 2;
}
