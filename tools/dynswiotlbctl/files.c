// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: the module's files.  Paths are built from the names of
 * <linux/dynswiotlb.h>; debugfs is found where it is mounted.  Reads and
 * writes return a negative errno, so that the caller can tell the
 * kernel's answer (EINVAL, EBUSY, ...) to the user.
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
 * ctl_check_name() - refuse a device name that cannot be a file name
 * @name: the name given on the command line
 *
 * The module checks names itself (attach, detach); this only keeps a name
 * used to build a path inside its directory.  Same characters as devices=.
 *
 * Return: 0, or CTL_EXIT_USAGE.
 */
int ctl_check_name(const char *name)
{
	static const char allowed[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
	size_t len = strlen(name);

	if (len && len <= DSW_DEV_NAME_MAX && strspn(name, allowed) == len &&
	    strcmp(name, ".") && strcmp(name, ".."))
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
