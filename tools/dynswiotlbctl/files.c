// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: the module's files.  Paths are built from the names of
 * <linux/dynswiotlb.h>; debugfs is found where it is mounted.  Reads and
 * writes return a negative errno, so that the caller can tell the
 * kernel's answer (EINVAL, EBUSY, ...) to the user.
 *
 * ctl_device_holds() says what a device holds that is in use, which
 * attaching it would pull from under its users (the module rebinds a
 * bound driver: remove, then probe again).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctl.h"

/**
 * ctl_path() - format a path into a CTL_PATH_MAX buffer
 * @buf: CTL_PATH_MAX bytes
 * @fmt: printf format
 *
 * Return: 0, or -ENAMETOOLONG if it does not fit.
 */
int ctl_path(char *buf, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, CTL_PATH_MAX, fmt, ap);
	va_end(ap);
	return len < 0 || len >= CTL_PATH_MAX ? -ENAMETOOLONG : 0;
}

/**
 * ctl_read() - read a small file whole
 * @path: the file
 * @buf: receives its contents, NUL-terminated (cut to @size - 1 bytes)
 * @size: size of @buf
 *
 * Return: 0 or a negative errno.
 */
int ctl_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return err;
}

/**
 * ctl_write() - write a value to a sysfs file in one write()
 * @path: the file
 * @val: the value, written as is (sysfs takes one trailing newline)
 *
 * Return: 0, or the negative errno of open() or of the kernel's store.
 */
int ctl_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/**
 * ctl_chomp() - remove trailing newlines
 * @s: the string, changed in place
 */
void ctl_chomp(char *s)
{
	size_t len = strlen(s);

	while (len && s[len - 1] == '\n')
		s[--len] = '\0';
}

/**
 * ctl_need_root() - refuse to go on unless run as root
 * @cmd: the command, for the message
 *
 * The module's files are root-only and loading a module needs
 * CAP_SYS_MODULE: say so at once rather than after a first EACCES.
 *
 * Return: 0, or CTL_EXIT_PERM.
 */
int ctl_need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	return ctl_msg(CTL_EXIT_PERM, "%s: must be run as root", cmd);
}

/**
 * ctl_need_loaded() - refuse to go on unless the module is loaded
 *
 * Return: 0, or CTL_EXIT_MODULE.
 */
int ctl_need_loaded(void)
{
	struct stat st;

	if (!stat(CTL_SYSFS_ROOT, &st))
		return 0;
	if (errno == EACCES)
		return ctl_fail(errno, "%s", CTL_SYSFS_ROOT);
	return ctl_msg(CTL_EXIT_MODULE,
		       "%s is not loaded (load it with: dynswiotlbctl load)",
		       DSW_MODULE_NAME);
}

/**
 * ctl_name_valid() - can a name be a device's, and a file name?
 * @name: the name, from the command line or from the kernel log
 *
 * The characters of devices= (no '/'), at most DSW_DEV_NAME_MAX of them,
 * and neither "." nor "..", so that it can be used to build a path.
 *
 * Return: true if it can.
 */
bool ctl_name_valid(const char *name)
{
	static const char allowed[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
	size_t len = strlen(name);

	return len && len <= DSW_DEV_NAME_MAX && strspn(name, allowed) == len &&
		strcmp(name, ".") && strcmp(name, "..");
}

/**
 * ctl_check_name() - refuse a device name that cannot be a file name
 * @name: the name given on the command line
 *
 * The module checks names itself (attach, detach); this only keeps a name
 * used to build a path inside its directory (ctl_name_valid()).
 *
 * Return: 0, or CTL_EXIT_USAGE.
 */
int ctl_check_name(const char *name)
{
	if (ctl_name_valid(name))
		return 0;
	return ctl_usage_error(NULL, "'%s' is not a device name", name);
}

/**
 * ctl_device_dir() - the sysfs directory of an attached device's knobs
 * @buf: CTL_PATH_MAX bytes, receives the path
 * @name: the device
 *
 * Return: 0, CTL_EXIT_USAGE (malformed name) or CTL_EXIT_NODEV (not
 * attached).
 */
int ctl_device_dir(char *buf, const char *name)
{
	struct stat st;
	int ret;

	ret = ctl_check_name(name);
	if (ret)
		return ret;
	if (ctl_path(buf, "%s/%s", CTL_SYSFS_DEVICES, name))
		return ctl_msg(CTL_EXIT_USAGE, "'%s': name too long", name);
	if (!stat(buf, &st))
		return 0;
	return ctl_msg(CTL_EXIT_NODEV,
		       "%s: not attached (dynswiotlbctl status lists the selected devices)",
		       name);
}

/**
 * ctl_debugfs() - the module's debugfs directory
 * @buf: CTL_PATH_MAX bytes, receives the path
 *
 * debugfs is taken where /proc/self/mounts says it is mounted.
 *
 * Return: 0, CTL_EXIT_DEBUGFS (not mounted, with the command that mounts
 * it), CTL_EXIT_PERM or CTL_EXIT_OTHER.
 */
int ctl_debugfs(char *buf)
{
	struct mntent *m;
	struct stat st;
	FILE *f;
	int ret = -ENOENT;

	f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return ctl_fail(errno, "/proc/self/mounts");
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "debugfs")) {
			ret = ctl_path(buf, "%s/%s", m->mnt_dir, DSW_DEBUGFS_DIR);
			break;
		}
	}
	endmntent(f);
	if (ret == -ENOENT)
		return ctl_msg(CTL_EXIT_DEBUGFS,
			       "debugfs is not mounted; mount it with: mount -t debugfs none /sys/kernel/debug");
	if (ret)
		return ctl_fail(-ret, "debugfs");
	if (stat(buf, &st))
		return ctl_fail(errno, "%s", buf);
	return 0;
}

static int ctl_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/**
 * ctl_list_dir() - the names of the regular files in a directory, sorted
 * @dir: the directory
 * @names: receives an array of @return names, for ctl_free_list()
 *
 * Return: the number of names, or a negative errno.
 */
int ctl_list_dir(const char *dir, char ***names)
{
	struct dirent *de;
	char **v = NULL, **nv;
	struct stat st;
	int n = 0, err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, 0) || !S_ISREG(st.st_mode))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv)
			v = nv;
		if (nv)
			v[n] = strdup(de->d_name);
		if (!nv || !v[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (err) {
		ctl_free_list(v, n);
		return err;
	}
	qsort(v, n, sizeof(*v), ctl_cmp_names);
	*names = v;
	return n;
}

/**
 * ctl_free_list() - free what ctl_list_dir() returned
 * @names: the array
 * @n: its length
 */
void ctl_free_list(char **names, int n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* A mounted file system: the device of its superblock, and of its source. */
struct ctl_mnt {
	dev_t dev, src;		/* src: 0 unless the source is a block device */
	char *dir;		/* the mount point, unescaped */
};

/* The tables ctl_device_holds() looks block devices up in. */
struct ctl_use {
	struct ctl_mnt *mnt;
	int nmnt;
	dev_t *swap;
	int nswap;
	char *what;		/* the description, items separated by ", " */
	size_t size, len;
};

/* Undo the octal escapes of /proc/self/mountinfo and /proc/swaps (\040). */
static void ctl_unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = '\0';
}

/* The device number of the block device file @path, or 0. */
static dev_t ctl_blkdev(const char *path)
{
	struct stat st;

	if (!strncmp(path, "/dev/", 5) && !stat(path, &st) &&
	    S_ISBLK(st.st_mode))
		return st.st_rdev;
	return 0;
}

/*
 * Read the mount table: "ID PARENT MAJ:MIN ROOT DIR OPTS [TAGS] - TYPE
 * SOURCE SUPEROPTS" (a btrfs superblock has a device number of its own:
 * the source tells its device).
 */
static void ctl_read_mounts(struct ctl_use *u)
{
	char *line = NULL, *save, *w[5], *sep, *src;
	unsigned int maj, min;
	struct ctl_mnt *nv;
	size_t cap = 0;
	FILE *f;
	int i;

	f = fopen(CTL_MOUNTINFO, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - ");
		for (i = 0; i < 5; i++)
			w[i] = strtok_r(i ? NULL : line, "\n ", &save);
		if (!sep || !w[4] || sscanf(w[2], "%u:%u", &maj, &min) != 2)
			continue;
		nv = realloc(u->mnt, (u->nmnt + 1) * sizeof(*nv));
		if (!nv)
			break;
		u->mnt = nv;
		nv[u->nmnt].dir = strdup(w[4]);
		if (!nv[u->nmnt].dir)
			break;
		ctl_unescape(nv[u->nmnt].dir);
		nv[u->nmnt].dev = makedev(maj, min);
		/* After the separator: the type, then the source. */
		src = strtok_r(sep + 3, "\n ", &save);
		src = src ? strtok_r(NULL, "\n ", &save) : NULL;
		if (src)
			ctl_unescape(src);
		nv[u->nmnt].src = src ? ctl_blkdev(src) : 0;
		u->nmnt++;
	}
	free(line);
	fclose(f);
}

/* Read the active swap areas that are block devices. */
static void ctl_read_swaps(struct ctl_use *u)
{
	char *line = NULL, *save, *name;
	size_t cap = 0;
	dev_t dev, *nv;
	FILE *f;

	f = fopen(CTL_SWAPS, "re");
	if (!f)
		return;
	/* The first line is the header. */
	while (getline(&line, &cap, f) > 0) {
		name = strtok_r(line, "\t\n ", &save);
		if (!name || *name != '/')
			continue;
		ctl_unescape(name);
		dev = ctl_blkdev(name);
		if (!dev)
			continue;
		nv = realloc(u->swap, (u->nswap + 1) * sizeof(*nv));
		if (!nv)
			break;
		u->swap = nv;
		nv[u->nswap++] = dev;
	}
	free(line);
	fclose(f);
}

/* Add one item to the description; one that does not fit ends it "...". */
static __printf(2, 3) void ctl_use_add(struct ctl_use *u, const char *fmt, ...)
{
	size_t left = u->size - u->len;
	va_list ap;
	int n;

	if (left < 5 || (u->len >= 3 && !strcmp(u->what + u->len - 3, "...")))
		return;
	if (u->len) {
		n = snprintf(u->what + u->len, left, ", ");
		u->len += n;
		left -= n;
	}
	va_start(ap, fmt);
	n = vsnprintf(u->what + u->len, left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= left) {
		u->len = u->size - 4;
		memcpy(u->what + u->len, "...", 4);
		u->len += 3;
		return;
	}
	u->len += n;
}

/*
 * What the block device @name (of /sys/class/block) has in use: mounts,
 * swap, and through its holders (dm, md) theirs.  @base is the block
 * device of the device itself that @name is stacked on.  Returns a mask
 * of enum ctl_holds.
 */
static int ctl_blk_use(struct ctl_use *u, const char *name, const char *base,
		       int depth)
{
	char path[CTL_PATH_MAX], label[2 * CTL_PATH_MAX], num[32];
	const char *dir = NULL;
	unsigned int maj, min;
	struct dirent *de;
	int i, n = 0, found = 0, sub;
	dev_t dev;
	DIR *d;

	if (strcmp(name, base))
		snprintf(label, sizeof(label), "%s on %s", name, base);
	else
		snprintf(label, sizeof(label), "%s", name);
	if (!ctl_path(path, "%s/%s/dev", CTL_SYS_BLOCK, name) &&
	    !ctl_read(path, num, sizeof(num)) &&
	    sscanf(num, "%u:%u", &maj, &min) == 2) {
		dev = makedev(maj, min);
		for (i = 0; i < u->nmnt; i++) {
			if (u->mnt[i].dev != dev && u->mnt[i].src != dev)
				continue;
			/* Of bind mounts, the shortest path: "/" before "/srv". */
			if (!dir || strlen(u->mnt[i].dir) < strlen(dir))
				dir = u->mnt[i].dir;
			n++;
		}
		if (n == 1)
			ctl_use_add(u, "%s (%s mounted)", dir, label);
		else if (n > 1)
			ctl_use_add(u, "%s and %d more mount point%s (%s mounted)",
				    dir, n - 1, n == 2 ? "" : "s", label);
		if (n)
			found |= CTL_HOLDS_MOUNT;
		for (i = 0; i < u->nswap; i++) {
			if (u->swap[i] == dev) {
				ctl_use_add(u, "swap (%s)", label);
				found |= CTL_HOLDS_SWAP;
				break;
			}
		}
	}
	if (ctl_path(path, "%s/%s/holders", CTL_SYS_BLOCK, name))
		return found;
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !ctl_name_valid(de->d_name))
			continue;
		sub = depth < 8 ? ctl_blk_use(u, de->d_name, base, depth + 1) : 0;
		/* Say "held by" only where nothing further up is in use. */
		if (!sub)
			ctl_use_add(u, "%s (held by %s)", label, de->d_name);
		found |= CTL_HOLDS_HELD | sub;
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * Is the block device @name below the sysfs directory @real (its length
 * @len), or a disk of NVMe multipath whose path (multipath/) is?
 */
static bool ctl_blk_below(const char *name, const char *real, size_t len)
{
	char path[CTL_PATH_MAX], *blk;
	struct dirent *de;
	bool below;
	DIR *d;

	if (ctl_path(path, "%s/%s", CTL_SYS_BLOCK, name))
		return false;
	blk = realpath(path, NULL);
	below = blk && !strncmp(blk, real, len) && blk[len] == '/';
	free(blk);
	/* The disk is under the subsystem, its paths under the controllers. */
	if (below || ctl_path(path, "%s/%s/multipath", CTL_SYS_BLOCK, name))
		return below;
	d = opendir(path);
	while (d && !below && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    ctl_path(path, "%s/%s/multipath/%s", CTL_SYS_BLOCK, name,
			     de->d_name))
			continue;
		blk = realpath(path, NULL);
		below = blk && !strncmp(blk, real, len) && blk[len] == '/';
		free(blk);
	}
	if (d)
		closedir(d);
	return below;
}

/**
 * ctl_device_holds() - what a device holds that is in use
 * @dir: the device's sysfs directory (ctl_find_device())
 * @what: receives what is in use, as "/ (vda1 mounted), swap (vda2)", or
 *	"" if nothing is
 * @size: size of @what
 *
 * The block devices of a device are those of /sys/class/block whose sysfs
 * directory is under the device's (its disks and their partitions, and the
 * NVMe multipath disks with a path through it); one is
 * in use if a file system is mounted from it (CTL_MOUNTINFO), it is active
 * swap (CTL_SWAPS) or it has holders (device mapper, md).  Only the mounts
 * of this process's mount namespace are seen.
 *
 * Return: a mask of enum ctl_holds, 0 if nothing is in use.
 */
int ctl_device_holds(const char *dir, char *what, size_t size)
{
	struct ctl_use u = { .what = what, .size = size };
	int found = 0, i;
	char *real;
	struct dirent *de;
	size_t len;
	DIR *d;

	if (size)
		*what = '\0';
	real = realpath(dir, NULL);
	d = real && size >= 8 ? opendir(CTL_SYS_BLOCK) : NULL;
	if (!d) {
		free(real);
		return 0;
	}
	len = strlen(real);
	ctl_read_mounts(&u);
	ctl_read_swaps(&u);
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' && ctl_blk_below(de->d_name, real, len))
			found |= ctl_blk_use(&u, de->d_name, de->d_name, 0);
	}
	closedir(d);
	for (i = 0; i < u.nmnt; i++)
		free(u.mnt[i].dir);
	free(u.mnt);
	free(u.swap);
	free(real);
	return found;
}

/**
 * ctl_holds_under() - what attaching would rebind a driver under
 * @holds: what ctl_device_holds() returned, not 0
 *
 * Return: "the mounted filesystem" and the like, for a sentence.
 */
const char *ctl_holds_under(int holds)
{
	if (holds & CTL_HOLDS_MOUNT)
		return "the mounted filesystem";
	if (holds & CTL_HOLDS_SWAP)
		return "the active swap";
	return "the devices stacked on it";
}
