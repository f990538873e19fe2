/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynswiotlbctl: declarations shared by its files.
 *
 * dynswiotlbctl.c	command line, messages, exit codes
 * files.c		paths of the module's sysfs and debugfs files, reading
 *			and writing them, the checks every command shares; what
 *			a device holds that is in use (block devices mounted,
 *			swap, holders)
 * module.c		load and unload (libkmod)
 * knobs.c		attach, detach, set, get (sysfs)
 * view.c		status, buffers, top (debugfs)
 * diagnose.c		diagnose: which devices run out of the swiotlb pool
 *			(kernel log, swiotlb debugfs files, tracefs)
 * persist.c		persist, unpersist (modprobe.d, modules-load.d); the
 *			driver module of a device (sysfs, libkmod)
 *
 * Every name of the module's interface comes from <linux/dynswiotlb.h>.
 */
#ifndef DSW_CTL_H
#define DSW_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/dynswiotlb.h>

/*
 * Exit codes, one per failure class (documented in dynswiotlbctl.8 and by
 * --help).
 */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_OTHER = 1,	/* anything not below */
	CTL_EXIT_USAGE = 2,	/* bad command line: command, option, knob */
	CTL_EXIT_PERM = 3,	/* not root, EACCES, EPERM */
	CTL_EXIT_MODULE = 4,	/* module not found (load) or not loaded */
	CTL_EXIT_NODEV = 5,	/* no such device, or not attached (ENODEV) */
	CTL_EXIT_VALUE = 6,	/* the kernel refused a value (EINVAL) */
	CTL_EXIT_BUSY = 7,	/* EBUSY: mapped buffers, module in use */
	CTL_EXIT_REFUSED = 8,	/* EEXIST, EOPNOTSUPP, ENOSPC */
	CTL_EXIT_DEBUGFS = 9,	/* debugfs is not mounted */
};

/* The module's sysfs files ("/sys/kernel/" is the kernel's kernel_kobj). */
#define CTL_SYSFS_ROOT		"/sys/kernel/" DSW_SYSFS_DIR
#define CTL_SYSFS_ATTACH	CTL_SYSFS_ROOT "/" DSW_SYSFS_ATTACH
#define CTL_SYSFS_DETACH	CTL_SYSFS_ROOT "/" DSW_SYSFS_DETACH
#define CTL_SYSFS_DEVICES	CTL_SYSFS_ROOT "/" DSW_SYSFS_DEVICES
#define CTL_SYSFS_MODULE	"/sys/module/" DSW_MODULE_NAME
/*
 * The buses the module selects devices on: BUS/devices, BUS/drivers.  This
 * and the paths below can be overridden at build time, for tests only.
 */
#ifndef CTL_SYS_BUS
#define CTL_SYS_BUS		"/sys/bus"
#endif
/* What a device holds: its block devices, and where they are in use. */
#ifndef CTL_SYS_BLOCK
#define CTL_SYS_BLOCK		"/sys/class/block"
#endif
#ifndef CTL_MOUNTINFO
#define CTL_MOUNTINFO		"/proc/self/mountinfo"
#endif
#ifndef CTL_SWAPS
#define CTL_SWAPS		"/proc/swaps"
#endif
/* The modules: loaded (/sys/module/M/initstate), and their files. */
#ifndef CTL_SYS_MODULES
#define CTL_SYS_MODULES		"/sys/module"
#endif
#ifndef CTL_MODULES_DIR
#define CTL_MODULES_DIR		NULL	/* libkmod's: /lib/modules/$(uname -r) */
#endif

/*
 * The files of persist (fixed paths: the defines can be overridden at build
 * time only, for tests).  Each starts with CTL_PERSIST_HEADER; a file
 * without it is never changed.
 */
#ifndef CTL_PERSIST_CONF
#define CTL_PERSIST_CONF	"/etc/modprobe.d/" DSW_MODULE_NAME ".conf"
#endif
#ifndef CTL_PERSIST_LOAD
#define CTL_PERSIST_LOAD	"/etc/modules-load.d/" DSW_MODULE_NAME ".conf"
#endif
#define CTL_PERSIST_HEADER \
	"# Written by dynswiotlbctl persist; dynswiotlbctl unpersist removes it."
/* The initramfs of the running kernel is CTL_INITRD_PREFIX $(uname -r). */
#ifndef CTL_INITRD_PREFIX
#define CTL_INITRD_PREFIX	"/boot/initrd.img-"
#endif
/*
 * The modprobe.d directories, in the order of kmod (of a file name, the
 * first directory's file is read); CTL_PERSIST_CONF is in one of them.
 */
#ifndef CTL_MODPROBE_DIRS
#define CTL_MODPROBE_DIRS	"/etc/modprobe.d", "/run/modprobe.d", \
				"/usr/local/lib/modprobe.d", "/lib/modprobe.d", \
				"/usr/lib/modprobe.d"
#endif

/*
 * What the kernel's <linux/compiler.h> gives its code.  checkpatch runs on
 * this file with PREFER_DEFINED_ATTRIBUTE_MACRO off (selftests/qemu/style.sh):
 * these are the definitions it would point to.
 */
#define __maybe_unused		__attribute__((unused))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* Room for a path, and for the contents of one small sysfs/debugfs file. */
#define CTL_PATH_MAX		512
#define CTL_FILE_MAX		4096

/* dynswiotlbctl.c */
__printf(2, 3) int ctl_msg(int code, const char *fmt, ...);
__printf(2, 3) int ctl_fail(int err, const char *fmt, ...);
int ctl_exit_for(int err);
const char *ctl_errname(int err);
__printf(2, 3) int ctl_usage_error(const char *cmd, const char *fmt, ...);

/* files.c */
__printf(2, 3) int ctl_path(char *buf, const char *fmt, ...);
int ctl_read(const char *path, char *buf, size_t size);
int ctl_write(const char *path, const char *val);
void ctl_chomp(char *s);
int ctl_need_root(const char *cmd);
int ctl_need_loaded(void);
bool ctl_name_valid(const char *name);
int ctl_check_name(const char *name);
int ctl_device_dir(char *buf, const char *name);
int ctl_debugfs(char *buf);
int ctl_list_dir(const char *dir, char ***names);
void ctl_free_list(char **names, int n);

/* What ctl_device_holds() found in use. */
enum ctl_holds {
	CTL_HOLDS_MOUNT = 1,	/* a file system is mounted from it */
	CTL_HOLDS_SWAP = 2,	/* active swap */
	CTL_HOLDS_HELD = 4,	/* holders: dm, md, LVM, bcache... */
};

int ctl_device_holds(const char *dir, char *what, size_t size);
const char *ctl_holds_under(int holds);

/* module.c */
int ctl_cmd_load(int argc, char **argv);
int ctl_cmd_unload(int argc, char **argv);

/* knobs.c */
int ctl_cmd_attach(int argc, char **argv);
int ctl_cmd_detach(int argc, char **argv);
int ctl_cmd_set(int argc, char **argv);
int ctl_cmd_get(int argc, char **argv);

/* view.c */
int ctl_cmd_status(int argc, char **argv);
int ctl_cmd_buffers(int argc, char **argv);
int ctl_cmd_top(int argc, char **argv);

/* diagnose.c */
int ctl_cmd_diagnose(int argc, char **argv);

/* persist.c */
#define CTL_MOD_NAME_MAX	64

enum ctl_mod_kind {
	CTL_MOD_UNKNOWN,	/* no driver bound, none found for it */
	CTL_MOD_LOADABLE,	/* the driver is in a module file */
	CTL_MOD_BUILTIN,	/* the driver is built into the kernel */
};

/* A device's driver and the module it is in (ctl_device_driver()). */
struct ctl_drv {
	char driver[CTL_MOD_NAME_MAX];	/* bound driver, "" if none */
	char module[CTL_MOD_NAME_MAX];	/* its module, "" if not known */
	enum ctl_mod_kind kind;
};

struct kmod_ctx;
struct kmod_ctx *ctl_kmod_new(void);
const char *ctl_find_device(const char *name, char *dir);
enum ctl_mod_kind ctl_device_driver(struct kmod_ctx *ctx, const char *dir,
				    struct ctl_drv *d);
bool ctl_persisted(const char *dev);
int ctl_cmd_persist(int argc, char **argv);
int ctl_cmd_unpersist(int argc, char **argv);

#endif /* DSW_CTL_H */
