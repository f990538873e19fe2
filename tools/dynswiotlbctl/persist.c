// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: persist and unpersist, the module's selection at every boot.
 *
 * persist writes the devices into the modprobe configuration
 * (CTL_PERSIST_CONF):
 *
 *	# Written by dynswiotlbctl persist; dynswiotlbctl unpersist removes it.
 *	options dynswiotlb devices=A,B,...
 *	softdep <module> pre: dynswiotlb	(one per driver module)
 *
 * The softdep makes modprobe load the module before the driver, so that the
 * device is attached before the driver probes it.  kmod uses the first
 * softdep line of a module only, so the module's softdep elsewhere (another
 * file, depmod's modules.softdep) is merged into ours, which is checked
 * afterwards not to be hidden by one read before it.  A driver built into
 * the kernel probes before any module is loaded, and a device whose driver
 * is not known cannot have a softdep: for those, CTL_PERSIST_LOAD has
 * modules-load.d(5) load the module at boot, which attaches the device then
 * (rebinding a bound driver) or when it appears.  Rebinding a driver under
 * a mounted file system is destructive: a device given whose driver is
 * built in and which holds something in use (ctl_device_holds()) is
 * refused unless --force.
 *
 * The module of a device is its driver's (the sysfs driver/module link), or
 * for an unbound device the one its modalias names (libkmod); for
 * pci:VVVV:DDDD that of every device present with the ID, or of the ID's
 * modalias; for driver:NAME the module of the registered driver NAME, or
 * the module called NAME.
 *
 * Files are only changed if their first line is the header above, and are
 * replaced whole (a temporary file, fsync, rename); a modules-load.d file
 * without it is left as it is while it need not be written.  Lines the
 * tool does not write, and the other parameters of its options line, are
 * kept.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libkmod.h>

#include "ctl.h"

/* The PCI base class of bridges, which the selector all leaves out. */
#define CTL_PCI_CLASS_BRIDGE	0x06

/* Room for why the initramfs could not be listed. */
#define CTL_WHY_MAX		(2 * CTL_PATH_MAX)

/* Characters of a driver name after "driver:" (module/select.c). */
#define CTL_DRIVER_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

/* A growable array of strings. */
struct ctl_strv {
	char **v;
	int n;
};

static int ctl_strv_add(struct ctl_strv *s, const char *str, size_t len)
{
	char **nv, *copy;

	copy = strndup(str, len);
	nv = copy ? realloc(s->v, (s->n + 1) * sizeof(*s->v)) : NULL;
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	s->v = nv;
	s->v[s->n++] = copy;
	return 0;
}

static void ctl_strv_del(struct ctl_strv *s, int i)
{
	free(s->v[i]);
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

static void ctl_strv_free(struct ctl_strv *s)
{
	while (s->n > 0)
		free(s->v[--s->n]);
	free(s->v);
	s->v = NULL;
}

/* Module and driver names compare as modprobe does: '-' and '_' are one. */
static bool ctl_dash_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		if (*a != *b && !((*a == '-' || *a == '_') &&
				  (*b == '-' || *b == '_')))
			return false;
	}
	return *a == *b;
}

static bool ctl_str_eq(const char *a, const char *b)
{
	return !strcmp(a, b);
}

/* Do two canonical device names select the same (as the module says)? */
static bool ctl_same_dev(const char *a, const char *b)
{
	size_t n = strlen(DSW_SELECT_DRIVER);

	if (!strncmp(a, DSW_SELECT_DRIVER, n) &&
	    !strncmp(b, DSW_SELECT_DRIVER, n))
		return ctl_dash_eq(a + n, b + n);
	return !strcmp(a, b);
}

/* The index of @name in @s (compared by @eq), or -1. */
static int ctl_strv_find(const struct ctl_strv *s, const char *name,
			 bool (*eq)(const char *, const char *))
{
	int i;

	for (i = 0; i < s->n; i++)
		if (eq(s->v[i], name))
			return i;
	return -1;
}

/* Add @name to @s unless it is there: 0 or -ENOMEM. */
static int ctl_strv_merge(struct ctl_strv *s, const char *name,
			  bool (*eq)(const char *, const char *))
{
	if (ctl_strv_find(s, name, eq) >= 0)
		return 0;
	return ctl_strv_add(s, name, strlen(name));
}

/* Does @s match @layout, 'x' standing for a hex digit? */
static bool ctl_layout(const char *s, const char *layout)
{
	for (; *s && *layout; s++, layout++) {
		if (*layout == 'x' ? !isxdigit((unsigned char)*s) : *s != *layout)
			return false;
	}
	return !*s && !*layout;
}

/* Has @s a ':' and a '.', and nothing but letters, digits, ':' and '.'? */
static bool ctl_pci_like(const char *s)
{
	return strchr(s, ':') && strchr(s, '.') &&
		strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:.") ==
		strlen(s);
}

/*
 * Check a DEV of the command line as the module checks devices=
 * (module/params.c) and store its canonical form (PCI addresses and IDs in
 * lower case) in @out, DSW_DEV_NAME_MAX + 1 bytes.  Returns 0 or
 * CTL_EXIT_USAGE, with the module's reason.
 */
static int ctl_parse_dev(const char *cmd, const char *dev, char *out)
{
	size_t len = strlen(dev), i, n;
	const char *why = NULL;

	if (!len)
		return ctl_usage_error(cmd, "empty device name");
	if (len > DSW_DEV_NAME_MAX)
		return ctl_usage_error(cmd, "'%.*s...': name longer than %d characters",
				       DSW_DEV_NAME_MAX, dev, DSW_DEV_NAME_MAX);
	for (i = 0; i <= len; i++)
		out[i] = dev[i];
	if (!strcasecmp(dev, DSW_SELECT_ALL)) {
		memcpy(out, DSW_SELECT_ALL, sizeof(DSW_SELECT_ALL));
	} else if (!strncmp(dev, DSW_SELECT_PCI, strlen(DSW_SELECT_PCI))) {
		n = strlen(DSW_SELECT_PCI);
		if (!ctl_layout(dev + n, "xxxx:xxxx"))
			why = "not a valid PCI ID (pci:VVVV:DDDD)";
		for (i = n; i < len; i++)
			out[i] = tolower((unsigned char)dev[i]);
	} else if (!strncmp(dev, DSW_SELECT_DRIVER, strlen(DSW_SELECT_DRIVER))) {
		n = strlen(DSW_SELECT_DRIVER);
		if (len == n || strspn(dev + n, CTL_DRIVER_CHARS) != len - n)
			why = "not a valid driver name (driver:NAME; A-Z a-z 0-9 _ . -)";
	} else if (ctl_pci_like(dev)) {
		if (!ctl_layout(dev, "xxxx:xx:xx.x") ||
		    (dev[8] != '0' && dev[8] != '1') || dev[11] < '0' ||
		    dev[11] > '7')
			why = "not a valid PCI address (DDDD:BB:SS.F)";
		for (i = 0; i < len; i++)
			out[i] = tolower((unsigned char)dev[i]);
	} else if (strchr(dev, ',')) {
		why = "one device per argument (no ',')";
	} else {
		return ctl_check_name(dev);
	}
	if (why)
		return ctl_usage_error(cmd, "'%s': %s", dev, why);
	return 0;
}

static void ctl_kmod_quiet(void *data __maybe_unused,
			   int priority __maybe_unused,
			   const char *file __maybe_unused,
			   int line __maybe_unused, const char *fn __maybe_unused,
			   const char *format __maybe_unused,
			   va_list args __maybe_unused)
{
	/* A module that cannot be found is an answer, not an error. */
}

/**
 * ctl_kmod_new() - a libkmod context for looking modules up, quiet
 *
 * Return: the context (kmod_unref() it), or NULL.
 */
struct kmod_ctx *ctl_kmod_new(void)
{
	struct kmod_ctx *ctx = kmod_new(CTL_MODULES_DIR, NULL);

	if (ctx) {
		kmod_set_log_fn(ctx, ctl_kmod_quiet, NULL);
		/* Without the indexes, libkmod reads the text files. */
		kmod_load_resources(ctx);
	}
	return ctx;
}

/**
 * ctl_find_device() - the sysfs directory of a device (PCI or platform)
 * @name: the device's name, as under /sys/bus/pci/devices
 * @dir: CTL_PATH_MAX bytes, receives /sys/bus/BUS/devices/@name
 *
 * Return: "pci" or "platform", or NULL if there is no such device now.
 */
const char *ctl_find_device(const char *name, char *dir)
{
	static const char *const buses[] = { "pci", "platform" };
	size_t i;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(buses); i++) {
		if (!ctl_path(dir, "%s/%s/devices/%s", CTL_SYS_BUS, buses[i],
			      name) && !access(dir, F_OK))
			return buses[i];
	}
	return NULL;
}

/* The last component of the target of the symlink @link, into @buf. */
static int ctl_link_name(const char *link, char *buf, size_t size)
{
	char target[CTL_PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if ((size_t)snprintf(buf, size, "%s", base) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * The module a driver's sysfs directory @drvdir links to, into @mod: a
 * module that is loaded has an initstate; a driver built in has no link
 * (CONFIG_MODULES=n) or links to a /sys/module directory without one.
 */
static enum ctl_mod_kind ctl_driver_dir_module(const char *drvdir, char *mod)
{
	char path[CTL_PATH_MAX];

	if (ctl_path(path, "%s/module", drvdir) ||
	    ctl_link_name(path, mod, CTL_MOD_NAME_MAX)) {
		*mod = '\0';
		return CTL_MOD_BUILTIN;
	}
	if (ctl_path(path, "%s/%s/initstate", CTL_SYS_MODULES, mod) ||
	    access(path, F_OK))
		return CTL_MOD_BUILTIN;
	return CTL_MOD_LOADABLE;
}

/* The first module that libkmod finds for @alias (a modalias or a name). */
static enum ctl_mod_kind ctl_kmod_lookup(struct kmod_ctx *ctx,
					 const char *alias, char *mod)
{
	enum ctl_mod_kind kind = CTL_MOD_UNKNOWN, k;
	struct kmod_list *list = NULL, *l;
	struct kmod_module *m;

	*mod = '\0';
	if (!ctx || kmod_module_new_from_lookup(ctx, alias, &list) < 0)
		return CTL_MOD_UNKNOWN;
	kmod_list_foreach(l, list) {
		m = kmod_module_get_module(l);
		k = CTL_MOD_UNKNOWN;
		if (kmod_module_get_initstate(m) == KMOD_MODULE_BUILTIN)
			k = CTL_MOD_BUILTIN;
		else if (kmod_module_get_path(m))
			k = CTL_MOD_LOADABLE;
		if (k != CTL_MOD_UNKNOWN && kind == CTL_MOD_UNKNOWN) {
			kind = k;
			snprintf(mod, CTL_MOD_NAME_MAX, "%s",
				 kmod_module_get_name(m));
		}
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return kind;
}

/**
 * ctl_device_driver() - the driver of a device and the module it is in
 * @ctx: libkmod context (ctl_kmod_new()), or NULL not to look modaliases up
 * @dir: the device's sysfs directory (ctl_find_device())
 * @d: receives the bound driver's name ("" if none) and the module of the
 *	bound driver, or of the driver its modalias names if none is bound
 *
 * Return: @d->kind: CTL_MOD_LOADABLE (@d->module is a module file),
 * CTL_MOD_BUILTIN (the driver is built into the kernel; @d->module may be
 * empty) or CTL_MOD_UNKNOWN (no driver known).
 */
enum ctl_mod_kind ctl_device_driver(struct kmod_ctx *ctx, const char *dir,
				    struct ctl_drv *d)
{
	char path[CTL_PATH_MAX], alias[CTL_FILE_MAX];

	memset(d, 0, sizeof(*d));
	if (!ctl_path(path, "%s/driver", dir) &&
	    !ctl_link_name(path, d->driver, sizeof(d->driver))) {
		d->kind = ctl_driver_dir_module(path, d->module);
		return d->kind;
	}
	d->driver[0] = '\0';
	if (ctl_path(path, "%s/modalias", dir) ||
	    ctl_read(path, alias, sizeof(alias)))
		return d->kind;
	ctl_chomp(alias);
	d->kind = ctl_kmod_lookup(ctx, alias, d->module);
	return d->kind;
}

/* Where the modules of persisted devices are collected. */
struct ctl_plan {
	struct ctl_strv mods;	/* softdeps to write */
	struct ctl_strv busy;	/* of those, modules of devices holding */
	bool load;		/* modules-load.d is needed */
	bool say;		/* explain devices that need modules-load.d */
	bool force;		/* persist --force */
	int refused;		/* devices refused (holding, driver built in) */
};

/*
 * A device whose driver is built in and which holds something in use
 * (@holding, @holds: ctl_device_holds()) can only be taken over at boot
 * by rebinding its driver: refused, unless --force.
 */
static void ctl_plan_holding(struct ctl_plan *p, const char *what,
			     const struct ctl_drv *d, const char *holding,
			     int holds)
{
	if (!p->force) {
		ctl_msg(0, "persist: refused: %s holds %s, and its driver %s is built in: at boot %s could take it over only by rebinding the driver under %s (%s loads it after the driver has bound); nothing written (--force writes it anyway)",
			what, holding, d->driver, DSW_MODULE_NAME,
			ctl_holds_under(holds), CTL_PERSIST_LOAD);
		p->refused++;
		return;
	}
	ctl_msg(0, "persist: --force: %s holds %s, and its driver %s is built in: at boot %s takes it over by rebinding the driver under %s",
		what, holding, d->driver, DSW_MODULE_NAME, ctl_holds_under(holds));
}

/*
 * Account a device @dev whose driver is @d, from @dev's name @what; @dir
 * is its sysfs directory if it is present, or NULL.
 */
static int ctl_plan_add(struct ctl_plan *p, const char *what, const char *dir,
			const struct ctl_drv *d)
{
	const char *drv = *d->driver ? d->driver : d->module;
	char holding[CTL_FILE_MAX];
	int holds = 0, err;

	/* Only a bound driver is rebound; the devices of this run only. */
	if (p->say && dir && *d->driver)
		holds = ctl_device_holds(dir, holding, sizeof(holding));
	switch (d->kind) {
	case CTL_MOD_LOADABLE:
		err = holds ? ctl_strv_merge(&p->busy, d->module, ctl_dash_eq) : 0;
		return err ? err : ctl_strv_merge(&p->mods, d->module, ctl_dash_eq);
	case CTL_MOD_BUILTIN:
		if (holds)
			ctl_plan_holding(p, what, d, holding, holds);
		else if (p->say)
			ctl_msg(0, "%s: driver %s is built in, so no softdep: %s loads %s at boot",
				what, *drv ? drv : "(unnamed)", CTL_PERSIST_LOAD,
				DSW_MODULE_NAME);
		break;
	default:
		if (p->say)
			ctl_msg(0, "%s: no driver module known now, so no softdep: %s loads %s at boot",
				what, CTL_PERSIST_LOAD, DSW_MODULE_NAME);
		break;
	}
	p->load = true;
	return 0;
}

/*
 * Does the PCI selector @sel (pci:VVVV:DDDD, or all: every function but
 * bridges) select the device of sysfs directory @dir?
 */
static bool ctl_pci_selects(const char *sel, const char *dir)
{
	const char *ven = sel + strlen(DSW_SELECT_PCI), *dev = ven + 5;
	char path[CTL_PATH_MAX], id[2][16];

	if (!strcmp(sel, DSW_SELECT_ALL))
		return !ctl_path(path, "%s/class", dir) &&
		       !ctl_read(path, id[0], sizeof(id[0])) &&
		       (strtoul(id[0], NULL, 16) >> 16) != CTL_PCI_CLASS_BRIDGE;
	return !ctl_path(path, "%s/vendor", dir) &&
	       !ctl_read(path, id[0], sizeof(id[0])) &&
	       !ctl_path(path, "%s/device", dir) &&
	       !ctl_read(path, id[1], sizeof(id[1])) &&
	       strtoul(id[0], NULL, 16) == strtoul(ven, NULL, 16) &&
	       strtoul(id[1], NULL, 16) == strtoul(dev, NULL, 16);
}

/*
 * pci:VVVV:DDDD or all: every device present it selects; with none, the
 * modalias a device with the ID would have (all: nothing to plan).
 */
static int ctl_plan_pci(struct kmod_ctx *ctx, struct ctl_plan *p,
			const char *sel)
{
	char dir[CTL_PATH_MAX], path[CTL_PATH_MAX], alias[64];
	const char *ven = sel + strlen(DSW_SELECT_PCI), *dev = ven + 5;
	struct ctl_drv d;
	struct dirent *de;
	int found = 0, err = 0;
	DIR *dd;

	dd = opendir(CTL_SYS_BUS "/pci/devices");
	while (dd && (de = readdir(dd)) && !err) {
		if (de->d_name[0] == '.' ||
		    ctl_path(dir, "%s/pci/devices/%s", CTL_SYS_BUS, de->d_name) ||
		    !ctl_pci_selects(sel, dir))
			continue;
		found++;
		ctl_device_driver(ctx, dir, &d);
		snprintf(path, sizeof(path), "%s (%s)", sel, de->d_name);
		err = ctl_plan_add(p, path, dir, &d);
	}
	if (dd)
		closedir(dd);
	if (found || err)
		return err;
	memset(&d, 0, sizeof(d));
	if (strcmp(sel, DSW_SELECT_ALL)) {
		snprintf(alias, sizeof(alias), "pci:v0000%04lXd0000%04lXsv*sd*bc*sc*i*",
			 strtoul(ven, NULL, 16), strtoul(dev, NULL, 16));
		d.kind = ctl_kmod_lookup(ctx, alias, d.module);
	}
	return ctl_plan_add(p, sel, NULL, &d);
}

/*
 * driver:NAME, whose driver is @d, registered with sysfs directory
 * @drvdir: the devices bound to it are checked for what they hold.
 */
static int ctl_plan_bound(struct ctl_plan *p, const char *sel,
			  const char *drvdir, const struct ctl_drv *d)
{
	char dev[CTL_PATH_MAX], path[CTL_PATH_MAX], what[CTL_PATH_MAX];
	char holding[CTL_FILE_MAX];
	struct dirent *de;
	int holds, err = 0;
	struct stat st;
	DIR *dd;

	dd = p->say ? opendir(drvdir) : NULL;
	while (dd && (de = readdir(dd)) && !err) {
		/* A device's link, not bind, unbind, module, new_id... */
		if (de->d_type != DT_LNK || !strcmp(de->d_name, "module") ||
		    ctl_path(dev, "%s/%s", drvdir, de->d_name) ||
		    ctl_path(path, "%s/driver", dev) || lstat(path, &st))
			continue;
		holds = ctl_device_holds(dev, holding, sizeof(holding));
		snprintf(what, sizeof(what), "%s (%s)", sel, de->d_name);
		if (holds && d->kind == CTL_MOD_BUILTIN)
			ctl_plan_holding(p, what, d, holding, holds);
		else if (holds && d->kind == CTL_MOD_LOADABLE)
			err = ctl_strv_merge(&p->busy, d->module, ctl_dash_eq);
	}
	if (dd)
		closedir(dd);
	return err ? err : ctl_plan_add(p, sel, NULL, d);
}

/* driver:NAME: the module of the registered driver, or the module NAME. */
static int ctl_plan_driver(struct kmod_ctx *ctx, struct ctl_plan *p,
			   const char *sel)
{
	static const char *const buses[] = { "pci", "platform" };
	char dir[CTL_PATH_MAX], name[DSW_DEV_NAME_MAX + 1];
	const char *drv = sel + strlen(DSW_SELECT_DRIVER);
	struct ctl_drv d;
	size_t i, v;
	char *c;

	memset(&d, 0, sizeof(d));
	snprintf(d.driver, sizeof(d.driver), "%s", drv);
	/* As given, then with '_' for '-', then with '-' for '_'. */
	for (v = 0; v < 3; v++) {
		snprintf(name, sizeof(name), "%s", drv);
		for (c = name; v && *c; c++)
			if (*c == (v == 1 ? '-' : '_'))
				*c = v == 1 ? '_' : '-';
		for (i = 0; i < ARRAY_SIZE(buses); i++) {
			if (ctl_path(dir, "%s/%s/drivers/%s", CTL_SYS_BUS,
				     buses[i], name) || access(dir, F_OK))
				continue;
			snprintf(d.driver, sizeof(d.driver), "%s", name);
			d.kind = ctl_driver_dir_module(dir, d.module);
			return ctl_plan_bound(p, sel, dir, &d);
		}
	}
	snprintf(name, sizeof(name), "%s", drv);
	for (c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	d.kind = ctl_kmod_lookup(ctx, name, d.module);
	return ctl_plan_add(p, sel, NULL, &d);
}

/* Account the driver module(s) of the device or selector @dev. */
static int ctl_plan_dev(struct kmod_ctx *ctx, struct ctl_plan *p,
			const char *dev)
{
	char dir[CTL_PATH_MAX];
	struct ctl_drv d;
	bool present;

	if (!strncmp(dev, DSW_SELECT_PCI, strlen(DSW_SELECT_PCI)) ||
	    !strcmp(dev, DSW_SELECT_ALL))
		return ctl_plan_pci(ctx, p, dev);
	if (!strncmp(dev, DSW_SELECT_DRIVER, strlen(DSW_SELECT_DRIVER)))
		return ctl_plan_driver(ctx, p, dev);
	memset(&d, 0, sizeof(d));
	present = ctl_find_device(dev, dir);
	if (present)
		ctl_device_driver(ctx, dir, &d);
	return ctl_plan_add(p, dev, present ? dir : NULL, &d);
}

/* One of the two files, as read and as it is to be written. */
struct ctl_conf {
	const char *path;
	bool modprobe;		/* CTL_PERSIST_CONF, else CTL_PERSIST_LOAD */
	bool exists;
	char *text;		/* the contents read, NULL if none */
	struct ctl_strv devs;	/* devices= of "options dynswiotlb" */
	struct ctl_strv opts;	/* the other words of those lines */
	struct ctl_strv softdeps; /* "softdep M pre: dynswiotlb ..." lines: M */
	struct ctl_strv sdread;	/* those lines, as read */
	struct ctl_strv sdlines; /* the softdep lines to write (ctl_sd_plan()) */
	bool load;		/* the "dynswiotlb" line of modules-load.d */
	struct ctl_strv other;	/* any other line, kept as it is */
};

static void ctl_conf_free(struct ctl_conf *c)
{
	free(c->text);
	ctl_strv_free(&c->devs);
	ctl_strv_free(&c->opts);
	ctl_strv_free(&c->softdeps);
	ctl_strv_free(&c->sdread);
	ctl_strv_free(&c->sdlines);
	ctl_strv_free(&c->other);
}

/* Read a file whole into *@text (to free): 0 or a negative errno. */
static int ctl_slurp(const char *path, char **text)
{
	size_t len = 0, size = 0;
	char *buf = NULL, *nb;
	int fd, err = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (size - len < 2) {
			size = size ? size * 2 : 4096;
			nb = realloc(buf, size);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*text = buf;
	return 0;
}

/*
 * Split @line (changed in place) into at most @max words @w; returns their
 * number, or -1 if there are more.
 */
static int ctl_words(char *line, char **w, int max)
{
	char *save, *word;
	int n = 0;

	for (word = strtok_r(line, " \t\r", &save); word;
	     word = strtok_r(NULL, " \t\r", &save)) {
		if (n == max)
			return -1;
		w[n++] = word;
	}
	return n;
}

/* Take in one line (not the header) of a file. */
static int ctl_conf_line(struct ctl_conf *c, const char *line)
{
	char copy[CTL_FILE_MAX], *w[64], *val, *item, *save;
	int n, i, err = 0;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", line) >= sizeof(copy))
		return ctl_strv_add(&c->other, line, strlen(line));
	n = ctl_words(copy, w, ARRAY_SIZE(w));
	if (!c->modprobe) {
		if (n == 1 && !strcmp(w[0], DSW_MODULE_NAME)) {
			c->load = true;
			return 0;
		}
	} else if (n >= 2 && !strcmp(w[0], "options") &&
		   !strcmp(w[1], DSW_MODULE_NAME)) {
		for (i = 2; i < n && !err; i++) {
			if (strncmp(w[i], DSW_PARAM_DEVICES "=",
				    strlen(DSW_PARAM_DEVICES) + 1)) {
				err = ctl_strv_merge(&c->opts, w[i], ctl_str_eq);
				continue;
			}
			val = w[i] + strlen(DSW_PARAM_DEVICES) + 1;
			for (item = strtok_r(val, ",\"", &save); item && !err;
			     item = strtok_r(NULL, ",\"", &save))
				err = ctl_strv_merge(&c->devs, item, ctl_same_dev);
		}
		return err;
	} else if (n >= 4 && !strcmp(w[0], "softdep") &&
		   !strcmp(w[2], "pre:") && !strcmp(w[3], DSW_MODULE_NAME)) {
		/* Ours, with the module's other softdeps merged in. */
		err = ctl_strv_merge(&c->softdeps, w[1], ctl_dash_eq);
		return err ? err : ctl_strv_add(&c->sdread, line, strlen(line));
	}
	return ctl_strv_add(&c->other, line, strlen(line));
}

/* Say that @cmd could not @what @path (errno @err): returns an exit code. */
static int ctl_file_failed(const char *cmd, const char *what,
			   const char *path, int err)
{
	int ret = ctl_fail(err, "%s: cannot %s %s", cmd, what, path);

	if ((err == EACCES || err == EPERM) && geteuid())
		ctl_msg(0, "%s: run as root", cmd);
	return ret;
}

/*
 * Read and parse @c->path, if it exists: 0, -EBADMSG if its first line is
 * not the header, or another negative errno.
 */
static int ctl_conf_parse(struct ctl_conf *c)
{
	size_t hlen = strlen(CTL_PERSIST_HEADER);
	char *line, *next;
	int err;

	err = ctl_slurp(c->path, &c->text);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	c->exists = true;
	if (strncmp(c->text, CTL_PERSIST_HEADER, hlen) ||
	    (c->text[hlen] && !strchr("\r\n", c->text[hlen])))
		return -EBADMSG;
	line = strchr(c->text, '\n');
	for (line = line ? line + 1 : NULL; line && *line && !err; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		err = ctl_conf_line(c, line);
		if (!next)
			break;
		*next++ = '\n';
	}
	return err;
}

/* Refuse a file without the header: returns CTL_EXIT_REFUSED. */
static int ctl_conf_foreign(const char *cmd, const struct ctl_conf *c)
{
	return ctl_msg(CTL_EXIT_REFUSED,
		       "%s: %s was not written by dynswiotlbctl persist (its first line is not \"%s\"): not touching it; %s by hand or move it aside, then run %s again",
		       cmd, c->path, CTL_PERSIST_HEADER,
		       strcmp(cmd, "persist") ? "edit it" : "merge its lines",
		       cmd);
}

/*
 * Read @c->path, if it exists, refusing one without the header unless
 * @foreign is given: then *@foreign says whether it has none.  Returns 0
 * or an exit code.
 */
static int ctl_conf_read(const char *cmd, struct ctl_conf *c, bool *foreign)
{
	int err = ctl_conf_parse(c);

	if (err == -EBADMSG && foreign) {
		*foreign = true;
		return 0;
	}
	if (err == -EBADMSG)
		return ctl_conf_foreign(cmd, c);
	return err ? ctl_file_failed(cmd, "read", c->path, -err) : 0;
}

/* Is there a line in @s that is neither blank nor a comment? */
static bool ctl_has_content(const struct ctl_strv *s)
{
	const char *p;
	int i;

	for (i = 0; i < s->n; i++) {
		p = s->v[i] + strspn(s->v[i], " \t\r");
		if (*p && *p != '#' && *p != ';')
			return true;
	}
	return false;
}

static int ctl_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What @c is to hold (to free), or NULL if it is to be removed. */
static char *ctl_conf_render(struct ctl_conf *c)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	int i;

	if (c->modprobe ? !c->devs.n && !c->opts.n && !ctl_has_content(&c->other) :
	    !c->load && !ctl_has_content(&c->other))
		return NULL;
	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	fprintf(f, "%s\n", CTL_PERSIST_HEADER);
	if (c->modprobe && (c->devs.n || c->opts.n)) {
		fprintf(f, "options %s", DSW_MODULE_NAME);
		for (i = 0; i < c->devs.n; i++)
			fprintf(f, "%s%s", i ? "," : " " DSW_PARAM_DEVICES "=",
				c->devs.v[i]);
		for (i = 0; i < c->opts.n; i++)
			fprintf(f, " %s", c->opts.v[i]);
		fputc('\n', f);
	}
	if (c->modprobe && c->devs.n) {
		for (i = 0; i < c->sdlines.n; i++)
			fprintf(f, "%s\n", c->sdlines.v[i]);
	}
	if (!c->modprobe && c->load)
		fprintf(f, "%s\n", DSW_MODULE_NAME);
	for (i = 0; i < c->other.n; i++)
		fprintf(f, "%s\n", c->other.v[i]);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* fsync the directory of @path, so that a rename or unlink is on disk. */
static void ctl_sync_dir(const char *path)
{
	char dir[CTL_PATH_MAX], *slash;
	int fd;

	if (ctl_path(dir, "%s", path))
		return;
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*(slash == dir ? slash + 1 : slash) = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Replace @path by @text: a temporary file beside it, fsync, rename. */
static int ctl_write_atomic(const char *path, const char *text)
{
	char tmp[CTL_PATH_MAX], dir[CTL_PATH_MAX], *slash;
	size_t len = strlen(text), off = 0;
	int fd, err = 0;
	ssize_t n;

	if (ctl_path(dir, "%s", path))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -EINVAL;
	*slash = '\0';
	if (ctl_path(tmp, "%s/.%s.XXXXXX", dir, slash + 1))
		return -ENAMETOOLONG;
	/* /etc/modules-load.d is systemd's: create it where it is missing. */
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644))
		err = -errno;
	while (!err && off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else
			off += n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		ctl_sync_dir(path);
	return err;
}

/* Print a file's new contents, indented. */
static void ctl_show(const char *what, const char *path, const char *text)
{
	const char *end;

	printf("%s %s:\n", what, path);
	for (; *text; text = end + 1) {
		end = strchrnul(text, '\n');
		printf("    %.*s\n", (int)(end - text), text);
		if (!*end)
			break;
	}
}

/* Write @c as rendered, or remove it; say what was done. */
static int ctl_conf_apply(const char *cmd, struct ctl_conf *c)
{
	char *text = ctl_conf_render(c);
	int err;

	if (!text) {
		if (!c->exists)
			return 0;
		if (unlink(c->path))
			return ctl_file_failed(cmd, "remove", c->path, errno);
		ctl_sync_dir(c->path);
		printf("removed %s\n", c->path);
		return 0;
	}
	if (c->text && !strcmp(text, c->text)) {
		ctl_show("unchanged", c->path, text);
		free(text);
		return 0;
	}
	err = ctl_write_atomic(c->path, text);
	if (err) {
		free(text);
		return ctl_file_failed(cmd, "write", c->path, -err);
	}
	ctl_show("wrote", c->path, text);
	free(text);
	return 0;
}

/* Where lsinitramfs is, into @exe (CTL_PATH_MAX): 0, or -ENOENT. */
static int ctl_which(const char *prog, char *exe)
{
	const char *path = getenv("PATH"), *p, *end;

	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end > p && !ctl_path(exe, "%.*s/%s", (int)(end - p), p, prog) &&
		    !access(exe, X_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * The file list of this kernel's initramfs, by lsinitramfs (to free), or
 * NULL if there is no lsinitramfs (initramfs-tools), no initramfs where
 * it puts it, or it cannot be listed: @why (CTL_WHY_MAX) says which.
 */
static char *ctl_initramfs_list(char *why)
{
	char img[CTL_PATH_MAX], exe[CTL_PATH_MAX], *buf = NULL, *nb;
	size_t len = 0, size = 0;
	struct utsname u;
	int fds[2], status, null;
	ssize_t n;
	pid_t pid;

	if (uname(&u) || ctl_path(img, "%s%s", CTL_INITRD_PREFIX, u.release)) {
		snprintf(why, CTL_WHY_MAX, "uname: %s", strerror(errno));
		return NULL;
	}
	if (access(img, R_OK)) {
		snprintf(why, CTL_WHY_MAX, "%s: %s", img, strerror(errno));
		return NULL;
	}
	if (ctl_which("lsinitramfs", exe)) {
		snprintf(why, CTL_WHY_MAX, "no lsinitramfs (initramfs-tools) in PATH");
		return NULL;
	}
	snprintf(why, CTL_WHY_MAX, "lsinitramfs %s failed", img);
	if (pipe2(fds, O_CLOEXEC))
		return NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (dup2(fds[1], STDOUT_FILENO) < 0 || null < 0 ||
		    dup2(null, STDIN_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
			_exit(127);
		execl(exe, "lsinitramfs", img, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0) {
		if (size - len < 2) {
			size = size ? size * 2 : 65536;
			nb = realloc(buf, size);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(fds[0], buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || !buf) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Does the file list @list hold the module @mod (.ko, .ko.xz, ...)? */
static bool ctl_list_has_module(const char *list, const char *mod)
{
	static const char *const ext[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	char name[CTL_MOD_NAME_MAX + 8];
	const char *line, *end, *base;
	size_t i, len, elen;

	for (line = list; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		for (base = end; base > line && base[-1] != '/'; base--)
			;
		len = end - base;
		for (i = 0; i < ARRAY_SIZE(ext); i++) {
			elen = strlen(ext[i]);
			if (len <= elen || len - elen >= sizeof(name) ||
			    strncmp(end - elen, ext[i], elen))
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(len - elen), base);
			if (ctl_dash_eq(name, mod))
				return true;
		}
	}
	return false;
}

/* Does the file list @list hold @path (absolute)? */
static bool ctl_list_has_path(const char *list, const char *path)
{
	const char *line, *end, *p;

	path += strspn(path, "/");
	for (line = list; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		p = line;
		if (!strncmp(p, "./", 2))
			p += 2;
		p += strspn(p, "/");
		if ((size_t)(end - p) == strlen(path) && !strncmp(p, path, end - p))
			return true;
	}
	return false;
}

/*
 * After persist: a driver module that the initramfs loads binds its
 * devices there, before the root file system's modprobe.d is read, unless
 * the initramfs is made again with the softdep (@mods: the softdeps;
 * @busy: those of devices persisted now that hold something in use).
 */
static void ctl_initramfs_persist(const struct ctl_strv *mods,
				  const struct ctl_strv *busy)
{
	char why[CTL_WHY_MAX], names[CTL_FILE_MAX] = "";
	size_t len = 0;
	char *list;
	int i;

	if (!mods->n)
		return;
	list = ctl_initramfs_list(why);
	if (!list) {
		for (i = 0; i < mods->n && len < sizeof(names); i++)
			len += snprintf(names + len, sizeof(names) - len, "%s%s",
					i ? ", " : "", mods->v[i]);
		ctl_msg(0, "persist: cannot check whether the initramfs loads %s (%s): if it does, making it again is required, before the reboot: update-initramfs -u (initramfs-tools) or dracut -f (dracut)",
			names, why);
		return;
	}
	for (i = 0; i < mods->n; i++) {
		if (!ctl_list_has_module(list, mods->v[i]))
			continue;
		ctl_msg(0, "persist: %s is in the initramfs: update-initramfs -u is REQUIRED (before the reboot) for the selection to apply before %s binds; without it %s binds its devices first, and they are attached only when %s loads later, by rebinding %s%s",
			mods->v[i], mods->v[i], mods->v[i], DSW_MODULE_NAME,
			mods->v[i],
			ctl_strv_find(busy, mods->v[i], ctl_dash_eq) >= 0 ?
			" under what they hold in use" : "");
	}
	free(list);
}

/* After unpersist: the initramfs may hold a copy of the old file. */
static void ctl_initramfs_unpersist(void)
{
	char why[CTL_WHY_MAX], *list = ctl_initramfs_list(why);

	if (!list)
		ctl_msg(0, "unpersist: cannot check whether the initramfs has a copy of %s (%s): if it has, make it again: update-initramfs -u (initramfs-tools) or dracut -f (dracut)",
			CTL_PERSIST_CONF, why);
	else if (ctl_list_has_path(list, CTL_PERSIST_CONF))
		ctl_msg(0, "unpersist: the initramfs has a copy of %s: run update-initramfs -u",
			CTL_PERSIST_CONF);
	free(list);
}

/*
 * The modprobe configuration as kmod reads it (libkmod-config.c): the
 * *.conf files of CTL_MODPROBE_DIRS (a file of an earlier directory hides
 * one of the same name in a later one), in the order of their names, with
 * depmod's modules.softdep (the softdeps that modules declare themselves)
 * among them by its name.  Of the softdep lines that match a module, kmod
 * uses the first only (kmod_module_get_softdeps(): "find only the first");
 * of its options lines, all, in that order, and then the kernel command
 * line's: of a parameter given twice, the module takes the last.
 */

static const char *ctl_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int ctl_cmp_base(const void *a, const void *b)
{
	return strcmp(ctl_base(*(char *const *)a), ctl_base(*(char *const *)b));
}

/* A module name or pattern as kmod compares them: '_' for '-' but in []. */
static void ctl_underscores(char *dst, const char *src, size_t size)
{
	bool bracket = false;
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++) {
		if (src[i] == '[')
			bracket = true;
		else if (src[i] == ']')
			bracket = false;
		dst[i] = src[i] == '-' && !bracket ? '_' : src[i];
	}
	dst[i] = '\0';
}

/* depmod's modules.softdep, of the modules libkmod uses, into @path. */
static int ctl_softdep_index(char *path)
{
	const char *dir = CTL_MODULES_DIR;
	struct utsname u;

	if (dir)
		return ctl_path(path, "%s/modules.softdep", dir);
	if (uname(&u))
		return -errno;
	return ctl_path(path, "/lib/modules/%s/modules.softdep", u.release);
}

/*
 * The files kmod reads, in its order, into @files: without CTL_PERSIST_CONF
 * unless @ours, with modules.softdep if @index.  0 or -ENOMEM.
 */
static int ctl_modprobe_files(struct ctl_strv *files, bool ours, bool index)
{
	static const char *const dirs[] = { CTL_MODPROBE_DIRS };
	char path[CTL_PATH_MAX];
	struct dirent *de;
	struct stat st;
	int j, err = 0;
	size_t i, len;
	DIR *d;

	for (i = 0; i < ARRAY_SIZE(dirs) && !err; i++) {
		d = opendir(dirs[i]);
		while (d && (de = readdir(d)) && !err) {
			len = strlen(de->d_name);
			if (de->d_name[0] == '.' || len < 6 ||
			    strcmp(de->d_name + len - 5, ".conf") ||
			    ctl_path(path, "%s/%s", dirs[i], de->d_name) ||
			    stat(path, &st) || S_ISDIR(st.st_mode))
				continue;
			for (j = 0; j < files->n; j++)
				if (!strcmp(ctl_base(files->v[j]), de->d_name))
					break;
			if (j == files->n)
				err = ctl_strv_add(files, path, strlen(path));
		}
		if (d)
			closedir(d);
	}
	/* Ours still hides a dynswiotlb.conf of a later directory. */
	j = ctl_strv_find(files, CTL_PERSIST_CONF, ctl_str_eq);
	if (!ours && j >= 0)
		ctl_strv_del(files, j);
	if (!err && index && !ctl_softdep_index(path) && !access(path, R_OK))
		err = ctl_strv_add(files, path, strlen(path));
	qsort(files->v, files->n, sizeof(*files->v), ctl_cmp_base);
	return err;
}

/*
 * A libkmod context that reads the files of ctl_modprobe_files(@ours)
 * (and, by itself, modules.softdep), or NULL.
 */
static struct kmod_ctx *ctl_kmod_conf(bool ours)
{
	struct ctl_strv files = { 0 };
	struct kmod_ctx *ctx = NULL;
	const char **paths;
	int i;

	if (ctl_modprobe_files(&files, ours, false))
		goto out;
	paths = calloc(files.n + 1, sizeof(*paths));
	if (!paths)
		goto out;
	for (i = 0; i < files.n; i++)
		paths[i] = files.v[i];
	/* Named files are read as they are (conf_files_list()). */
	ctx = kmod_new(CTL_MODULES_DIR, paths);
	free(paths);
	if (ctx)
		kmod_set_log_fn(ctx, ctl_kmod_quiet, NULL);
out:
	ctl_strv_free(&files);
	return ctx;
}

/*
 * The softdep of module @mod that kmod uses (the first that matches) in
 * @ctx, as "pre: A B post: C" (to free), or NULL if there is none.
 */
static char *ctl_kmod_softdep(struct kmod_ctx *ctx, const char *mod)
{
	char name[CTL_MOD_NAME_MAX];
	struct kmod_config_iter *it;
	const char *val;
	char *ret = NULL;

	ctl_underscores(name, mod, sizeof(name));
	it = kmod_config_get_softdeps(ctx);
	while (it && kmod_config_iter_next(it)) {
		if (fnmatch(kmod_config_iter_get_key(it), name, 0))
			continue;
		val = kmod_config_iter_get_value(it);
		ret = strdup(val ? val : "");
		break;
	}
	if (it)
		kmod_config_iter_free_iter(it);
	return ret;
}

/*
 * Split a softdep's "pre: A B post: C" into @pre and @post, leaving out
 * @skip if not NULL.  libkmod 30 writes "pre: A Bpost: C" (its
 * softdep_to_char()); a module name has no ':'.  0 or -ENOMEM.
 */
static int ctl_sd_split(const char *val, const char *skip,
			struct ctl_strv *pre, struct ctl_strv *post)
{
	struct ctl_strv *to = NULL;
	char *copy, *w, *save;
	size_t len;
	int err = 0;

	copy = strdup(val);
	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, " \t", &save); w && !err;
	     w = strtok_r(NULL, " \t", &save)) {
		len = strlen(w);
		if (!strcmp(w, "pre:")) {
			to = pre;
			continue;
		}
		if (len >= 5 && !strcmp(w + len - 5, "post:")) {
			w[len - 5] = '\0';
			if (*w && to && (!skip || !ctl_dash_eq(w, skip)))
				err = ctl_strv_merge(to, w, ctl_dash_eq);
			to = post;
			continue;
		}
		if (to && (!skip || !ctl_dash_eq(w, skip)))
			err = ctl_strv_merge(to, w, ctl_dash_eq);
	}
	free(copy);
	return err;
}

/*
 * Call @fn with the words of each line of the modprobe.d file @path (lines
 * ending in '\' continued, comments left out) until it returns true.
 * Returns what @fn returned last.
 */
static bool ctl_each_line(const char *path,
			  bool (*fn)(char **w, int n, void *data), void *data)
{
	char *text, *line, *next, *p, *w[64], *save;
	bool done = false;
	int n;

	if (ctl_slurp(path, &text))
		return false;
	/* Join continued lines: "\\\n" becomes "  ". */
	for (p = text; (p = strstr(p, "\\\n")); p += 2)
		memset(p, ' ', 2);
	for (line = text; line && !done; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n = 0;
		for (p = strtok_r(line, " \t\r", &save); p && n < 64;
		     p = strtok_r(NULL, " \t\r", &save))
			w[n++] = p;
		if (n && w[0][0] != '#')
			done = fn(w, n, data);
	}
	free(text);
	return done;
}

/* Is a line "softdep PATTERN ..." whose pattern matches the module @data? */
static bool ctl_softdep_of(char **w, int n, void *data)
{
	char pat[CTL_MOD_NAME_MAX];

	if (n < 2 || strcmp(w[0], "softdep"))
		return false;
	ctl_underscores(pat, w[1], sizeof(pat));
	return !fnmatch(pat, data, 0);
}

/*
 * The file that has the softdep of @mod that kmod uses, from the files of
 * ctl_modprobe_files(@ours, true), into @where; "" if none.
 */
static void ctl_sd_where(const char *mod, bool ours, char *where)
{
	struct ctl_strv files = { 0 };
	char name[CTL_MOD_NAME_MAX];
	int i;

	*where = '\0';
	ctl_underscores(name, mod, sizeof(name));
	if (!ctl_modprobe_files(&files, ours, true)) {
		for (i = 0; i < files.n; i++) {
			if (ctl_each_line(files.v[i], ctl_softdep_of, name)) {
				ctl_path(where, "%s", files.v[i]);
				break;
			}
		}
	}
	ctl_strv_free(&files);
}

/* The line of @c->sdread for the module @mod, or NULL. */
static const char *ctl_sd_read(const struct ctl_conf *c, const char *mod)
{
	char name[CTL_MOD_NAME_MAX];
	int i;

	for (i = 0; i < c->sdread.n; i++) {
		if (sscanf(c->sdread.v[i], "softdep %63s", name) == 1 &&
		    ctl_dash_eq(name, mod))
			return c->sdread.v[i];
	}
	return NULL;
}

/* "softdep @mod pre: dynswiotlb @pre... [post: @post...]" (to free). */
static char *ctl_sd_line(const char *mod, const struct ctl_strv *pre,
			 const struct ctl_strv *post)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	int i;

	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	fprintf(f, "softdep %s pre: %s", mod, DSW_MODULE_NAME);
	for (i = 0; i < pre->n; i++)
		fprintf(f, " %s", pre->v[i]);
	if (post->n)
		fputs(" post:", f);
	for (i = 0; i < post->n; i++)
		fprintf(f, " %s", post->v[i]);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * The softdep lines of @c->softdeps, into @c->sdlines: each module's
 * "softdep M pre: dynswiotlb", with the softdep of M that kmod would use
 * without our file merged in, since ours, read first, hides it (and one
 * read before ours hides ours: ctl_sd_check()).  0 or -ENOMEM.
 */
static int ctl_sd_plan(const char *cmd, struct ctl_conf *c)
{
	struct ctl_strv pre = { 0 }, post = { 0 };
	char where[CTL_PATH_MAX], *val, *line;
	const char *old, *mod;
	struct kmod_ctx *ctx;
	int i, err = 0;

	ctl_strv_free(&c->sdlines);
	qsort(c->softdeps.v, c->softdeps.n, sizeof(char *), ctl_cmp_str);
	ctx = c->softdeps.n ? ctl_kmod_conf(false) : NULL;
	for (i = 0; i < c->softdeps.n && !err; i++) {
		mod = c->softdeps.v[i];
		old = ctl_sd_read(c, mod);
		val = ctx ? ctl_kmod_softdep(ctx, mod) : NULL;
		if (val)
			err = ctl_sd_split(val, DSW_MODULE_NAME, &pre, &post);
		/* Without libkmod, the line as it was. */
		line = !ctx && old ? strdup(old) : ctl_sd_line(mod, &pre, &post);
		if (!err && !line)
			err = -ENOMEM;
		/* One read before ours hides ours: ctl_sd_check() says so. */
		if (!err && (pre.n || post.n) && (!old || strcmp(old, line))) {
			ctl_sd_where(mod, false, where);
			if (!*where || strcmp(ctl_base(where),
					      ctl_base(CTL_PERSIST_CONF)) > 0)
				ctl_msg(0, "%s: %s has a softdep of its own%s%s, which ours would hide (kmod uses the first softdep line of a module only): merged into ours, \"%s\"",
					cmd, mod, *where ? " in " : "", where,
					line);
		}
		if (!err)
			err = ctl_strv_add(&c->sdlines, line, strlen(line));
		free(line);
		free(val);
		ctl_strv_free(&pre);
		ctl_strv_free(&post);
	}
	if (ctx)
		kmod_unref(ctx);
	return err;
}

/*
 * After writing @c: does kmod, reading every file, load dynswiotlb before
 * each module of @c->softdeps?  Not if another file's softdep line for the
 * module is read before ours: say so.
 */
static void ctl_sd_check(const char *cmd, const struct ctl_conf *c)
{
	struct ctl_strv pre = { 0 }, post = { 0 };
	char where[CTL_PATH_MAX], *val;
	struct kmod_ctx *ctx;
	int i;

	if (!c->devs.n || !c->softdeps.n)
		return;
	ctx = ctl_kmod_conf(true);
	if (!ctx)
		return;
	for (i = 0; i < c->softdeps.n; i++) {
		val = ctl_kmod_softdep(ctx, c->softdeps.v[i]);
		if (val && !ctl_sd_split(val, NULL, &pre, &post) &&
		    ctl_strv_find(&pre, DSW_MODULE_NAME, ctl_dash_eq) >= 0)
			goto next;
		ctl_sd_where(c->softdeps.v[i], true, where);
		if (val && *where && strcmp(where, CTL_PERSIST_CONF))
			ctl_msg(0, "%s: warning: the softdep of %s that kmod uses is in %s, read before ours, which it hides (kmod uses the first softdep line of a module only): modprobe %s does not load %s first; put %s first in that line's pre: list",
				cmd, c->softdeps.v[i], where, c->softdeps.v[i],
				DSW_MODULE_NAME, DSW_MODULE_NAME);
		else
			ctl_msg(0, "%s: warning: kmod does not see %s in the softdep of %s (%s): modprobe %s does not load it first",
				cmd, DSW_MODULE_NAME, c->softdeps.v[i],
				val ? val : "none", c->softdeps.v[i]);
next:
		free(val);
		ctl_strv_free(&pre);
		ctl_strv_free(&post);
	}
	kmod_unref(ctx);
}

/* What an "options dynswiotlb" line of another file sets. */
struct ctl_opts_seen {
	bool options, devices;
};

static bool ctl_options_of(char **w, int n, void *data)
{
	struct ctl_opts_seen *o = data;
	char name[CTL_MOD_NAME_MAX];
	int i;

	if (n < 2 || strcmp(w[0], "options"))
		return false;
	ctl_underscores(name, w[1], sizeof(name));
	if (strcmp(name, DSW_MODULE_NAME))
		return false;
	o->options = true;
	for (i = 2; i < n; i++)
		if (!strncmp(w[i], DSW_PARAM_DEVICES "=",
			     strlen(DSW_PARAM_DEVICES) + 1))
			o->devices = true;
	return false;
}

/*
 * After persist: other files (and the kernel command line) with options
 * of dynswiotlb, applied with ours; the last devices= is the one taken.
 */
static void ctl_options_elsewhere(void)
{
	const char *ours = ctl_base(CTL_PERSIST_CONF);
	char cmdline[CTL_FILE_MAX], *w, *save;
	struct ctl_strv files = { 0 };
	struct ctl_opts_seen o;
	bool after;
	int i;

	if (!ctl_modprobe_files(&files, false, false)) {
		for (i = 0; i < files.n; i++) {
			memset(&o, 0, sizeof(o));
			ctl_each_line(files.v[i], ctl_options_of, &o);
			if (!o.options)
				continue;
			after = strcmp(ctl_base(files.v[i]), ours) > 0;
			ctl_msg(0, "persist: warning: %s has \"options %s\" too, applied %s ours: %s",
				files.v[i], DSW_MODULE_NAME,
				after ? "after" : "before",
				!o.devices ? "its parameters are added to ours (of one set in both, the last is taken)" :
				after ? "its " DSW_PARAM_DEVICES "= replaces ours (the last is taken): remove it, or merge it into ours" :
				"ours replaces its " DSW_PARAM_DEVICES "= (the last is taken)");
		}
	}
	ctl_strv_free(&files);
	if (ctl_read("/proc/cmdline", cmdline, sizeof(cmdline)))
		return;
	for (w = strtok_r(cmdline, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(w, DSW_MODULE_NAME ".", strlen(DSW_MODULE_NAME) + 1))
			ctl_msg(0, "persist: warning: the kernel command line has %s, which modprobe applies after (so over) the options of modprobe.d",
				w);
	}
}

/*
 * Both files, read (and checked: their headers).  A modules-load.d file
 * without the header is only refused if it is to be written.
 */
struct ctl_files {
	struct ctl_conf conf;
	struct ctl_conf load;
	bool load_foreign;	/* CTL_PERSIST_LOAD has no header: left */
};

static int ctl_files_read(const char *cmd, struct ctl_files *f)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->conf.path = CTL_PERSIST_CONF;
	f->conf.modprobe = true;
	f->load.path = CTL_PERSIST_LOAD;
	ret = ctl_conf_read(cmd, &f->conf, NULL);
	if (!ret)
		ret = ctl_conf_read(cmd, &f->load, &f->load_foreign);
	return ret;
}

static void ctl_files_free(struct ctl_files *f)
{
	ctl_conf_free(&f->conf);
	ctl_conf_free(&f->load);
}

/*
 * Write both files as planned (the softdep lines merged: ctl_sd_plan());
 * 0 or an exit code.
 */
static int ctl_files_apply(const char *cmd, struct ctl_files *f)
{
	int ret, err;

	if (f->load_foreign && f->load.load)
		return ctl_conf_foreign(cmd, &f->load);
	err = ctl_sd_plan(cmd, &f->conf);
	if (err)
		return ctl_fail(-err, "%s", cmd);
	ret = ctl_conf_apply(cmd, &f->conf);
	if (ret)
		return ret;
	ctl_sd_check(cmd, &f->conf);
	if (!f->load_foreign)
		return ctl_conf_apply(cmd, &f->load);
	ctl_msg(0, "%s: %s was not written by dynswiotlbctl persist: left as it is",
		cmd, CTL_PERSIST_LOAD);
	return 0;
}

/**
 * ctl_persisted() - is a device in the persisted selection?
 * @dev: a canonical device name or selector
 *
 * Return: true if CTL_PERSIST_CONF, written by persist, has it in devices=.
 */
bool ctl_persisted(const char *dev)
{
	struct ctl_conf c = { .path = CTL_PERSIST_CONF, .modprobe = true };
	bool found = false;

	/* Quietly: a file that is not ours, or not there, has no device. */
	if (!ctl_conf_parse(&c))
		found = ctl_strv_find(&c.devs, dev, ctl_same_dev) >= 0;
	ctl_conf_free(&c);
	return found;
}

/*
 * The canonical DEVs of the command line, into @devs; --force (-f) sets
 * *@force if @force is not NULL.
 */
static int ctl_parse_devs(const char *cmd, int argc, char **argv,
			  struct ctl_strv *devs, bool *force)
{
	char name[DSW_DEV_NAME_MAX + 1];
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (force && (!strcmp(argv[i], "--force") ||
			      !strcmp(argv[i], "-f"))) {
			*force = true;
			continue;
		}
		if (argv[i][0] == '-')
			return ctl_usage_error(cmd, "unknown option '%s'", argv[i]);
		ret = ctl_parse_dev(cmd, argv[i], name);
		if (ret)
			return ret;
		if (ctl_strv_merge(devs, name, ctl_same_dev))
			return ctl_fail(ENOMEM, "%s", cmd);
	}
	return 0;
}

/**
 * ctl_cmd_persist() - dynswiotlbctl persist [--force] DEV...
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Adds the devices to CTL_PERSIST_CONF, with a softdep for each driver
 * module of the devices in it, and writes CTL_PERSIST_LOAD if a driver is
 * built in or not known.  A device given whose driver is built in and
 * which holds something in use (ctl_device_holds()) is refused without
 * --force: at boot the module could only take it over by rebinding.
 *
 * Return: an exit code.
 */
int ctl_cmd_persist(int argc, char **argv)
{
	struct ctl_plan plan = { .say = true };
	struct ctl_strv devs = { 0 };
	struct kmod_ctx *ctx = NULL;
	struct ctl_files f;
	int i, ret, err = 0;

	ret = ctl_parse_devs("persist", argc, argv, &devs, &plan.force);
	if (!ret && !devs.n)
		ret = ctl_usage_error("persist", "no device given");
	if (!ret)
		ret = ctl_files_read("persist", &f);
	else
		memset(&f, 0, sizeof(f));
	if (ret)
		goto out;

	for (i = 0; i < devs.n && !err; i++)
		err = ctl_strv_merge(&f.conf.devs, devs.v[i], ctl_same_dev);
	if (!err && f.conf.devs.n > DSW_MAX_DEVICES) {
		ret = ctl_msg(CTL_EXIT_REFUSED,
			      "persist: %d devices in all: the module takes at most %d",
			      f.conf.devs.n, DSW_MAX_DEVICES);
		goto out;
	}
	ctx = ctl_kmod_new();
	/* The softdeps already written stay: a device may be absent now. */
	for (i = 0; i < f.conf.softdeps.n && !err; i++)
		err = ctl_strv_merge(&plan.mods, f.conf.softdeps.v[i], ctl_dash_eq);
	for (i = 0; i < f.conf.devs.n && !err; i++) {
		plan.say = ctl_strv_find(&devs, f.conf.devs.v[i], ctl_same_dev) >= 0;
		err = ctl_plan_dev(ctx, &plan, f.conf.devs.v[i]);
	}
	if (err) {
		ret = ctl_fail(-err, "persist");
		goto out;
	}
	if (plan.refused) {
		ret = CTL_EXIT_REFUSED;
		goto out;
	}
	ctl_strv_free(&f.conf.softdeps);
	f.conf.softdeps = plan.mods;
	plan.mods = (struct ctl_strv){ 0 };
	f.load.load = f.load.load || plan.load;
	ret = ctl_files_apply("persist", &f);
	if (!ret) {
		ctl_options_elsewhere();
		ctl_initramfs_persist(&f.conf.softdeps, &plan.busy);
	}
out:
	if (ctx)
		kmod_unref(ctx);
	ctl_strv_free(&plan.mods);
	ctl_strv_free(&plan.busy);
	ctl_strv_free(&devs);
	ctl_files_free(&f);
	return ret;
}

/* unpersist without DEV: remove both files. */
static int ctl_unpersist_all(struct ctl_files *f)
{
	struct ctl_conf *c[] = { &f->conf, &f->load };
	size_t i;

	if (!f->conf.exists && (!f->load.exists || f->load_foreign)) {
		ctl_msg(0, "unpersist: nothing to remove (no %s, no %s of persist)",
			CTL_PERSIST_CONF, CTL_PERSIST_LOAD);
		return CTL_EXIT_OK;
	}
	if (f->load_foreign)
		ctl_msg(0, "unpersist: %s was not written by dynswiotlbctl persist: left as it is",
			CTL_PERSIST_LOAD);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		if (!c[i]->exists || (c[i] == &f->load && f->load_foreign))
			continue;
		if (unlink(c[i]->path))
			return ctl_file_failed("unpersist", "remove", c[i]->path,
					       errno);
		ctl_sync_dir(c[i]->path);
		printf("removed %s\n", c[i]->path);
	}
	ctl_initramfs_unpersist();
	return CTL_EXIT_OK;
}

/**
 * ctl_cmd_unpersist() - dynswiotlbctl unpersist [DEV...]
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Without DEV, removes both files; with DEVs, removes them from
 * CTL_PERSIST_CONF and recomputes the softdeps and CTL_PERSIST_LOAD for
 * the devices left (a file with no device left is removed).
 *
 * Return: an exit code.
 */
int ctl_cmd_unpersist(int argc, char **argv)
{
	struct ctl_plan gone = { 0 }, left = { 0 };
	struct ctl_strv devs = { 0 };
	struct kmod_ctx *ctx = NULL;
	struct ctl_files f;
	int i, j, ret, err = 0, removed = 0;

	ret = ctl_parse_devs("unpersist", argc, argv, &devs, NULL);
	if (!ret)
		ret = ctl_files_read("unpersist", &f);
	else
		memset(&f, 0, sizeof(f));
	if (ret)
		goto out;
	if (!devs.n) {
		ret = ctl_unpersist_all(&f);
		goto out;
	}

	ctx = ctl_kmod_new();
	for (i = 0; i < devs.n && !err; i++) {
		j = ctl_strv_find(&f.conf.devs, devs.v[i], ctl_same_dev);
		if (j < 0) {
			ctl_msg(0, "unpersist: %s is not in %s", devs.v[i],
				CTL_PERSIST_CONF);
			continue;
		}
		err = ctl_plan_dev(ctx, &gone, f.conf.devs.v[j]);
		ctl_strv_del(&f.conf.devs, j);
		removed++;
	}
	if (!removed && !err) {
		ret = CTL_EXIT_NODEV;
		goto out;
	}
	for (i = 0; i < f.conf.devs.n && !err; i++)
		err = ctl_plan_dev(ctx, &left, f.conf.devs.v[i]);
	/*
	 * A softdep stays unless it was for a device removed: the devices
	 * left may not all be present to say which modules they need.
	 */
	for (i = 0; i < f.conf.softdeps.n && !err; i++) {
		if (ctl_strv_find(&gone.mods, f.conf.softdeps.v[i],
				  ctl_dash_eq) < 0)
			err = ctl_strv_merge(&left.mods, f.conf.softdeps.v[i],
					     ctl_dash_eq);
	}
	if (err) {
		ret = ctl_fail(-err, "unpersist");
		goto out;
	}
	ctl_strv_free(&f.conf.softdeps);
	f.conf.softdeps = left.mods;
	left.mods = (struct ctl_strv){ 0 };
	/* One that persist did not write is left as it is. */
	f.load.load = f.conf.devs.n && left.load && !f.load_foreign;
	ret = ctl_files_apply("unpersist", &f);
	if (!ret)
		ctl_initramfs_unpersist();
out:
	if (ctx)
		kmod_unref(ctx);
	ctl_strv_free(&gone.mods);
	ctl_strv_free(&gone.busy);
	ctl_strv_free(&left.mods);
	ctl_strv_free(&left.busy);
	ctl_strv_free(&devs);
	ctl_files_free(&f);
	return ret;
}
