// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: attach, detach, set and get, on the module's sysfs files.
 *
 * attach and detach write a device name to the module's attach and detach
 * files and explain the kernel's errno as docs/sysfs-ABI.md does.
 *
 * set and get work on the files of one directory: an attached device's
 * knobs (/sys/kernel/dynswiotlb/devices/DEV/) or, with --global, the
 * module's parameters (the defaults of devices attached later, and the
 * global cap max_total_kb).  A knob is whatever file the directory has, so
 * the tool follows the module without a list of its own.  set is all or
 * nothing: the values are written in the order given and, if the kernel
 * refuses one, those already written are put back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"

/* What an errno of the attach or detach file means. */
struct ctl_why {
	int err;
	const char *why;
};

static const struct ctl_why ctl_attach_why[] = {
	{ EINVAL, "a malformed name, a PCI bridge, or a device without a DMA mask" },
	{ EEXIST, "the device is selected already" },
	{ ENOSPC, "too many devices are selected" },
	{ ENODEV, "there is no such device" },
	{ EOPNOTSUPP,
	  "its DMA cannot go through the module (IOMMU, global DMA ops, restricted pool)" },
	/* ... or, before 0.2.0, CONFIG_SWIOTLB_DYNAMIC: the log says which. */
	{ ENOMEM, "no memory for the device's reserve" },
	{ 0, NULL }
};

static const struct ctl_why ctl_detach_why[] = {
	{ EINVAL, "a malformed name" },
	{ ENODEV, "the device is not selected" },
	{ EBUSY, "the device has dynamic buffers mapped (dynswiotlbctl buffers lists them)" },
	{ 0, NULL }
};

/* Write the one device name of the command line to @file. */
static int ctl_name_cmd(int argc, char **argv, const char *file,
			const struct ctl_why *why)
{
	const char *cmd = argv[0];
	int ret, err;

	if (argc != 2)
		return ctl_usage_error(cmd, "%s", argc < 2 ? "no device given" :
				       "one device at a time");
	if (!argv[1][0])	/* an empty write would not reach the module */
		return ctl_usage_error(cmd, "empty device name");
	ret = ctl_need_root(cmd);
	if (!ret)
		ret = ctl_need_loaded();
	if (ret)
		return ret;
	err = ctl_write(file, argv[1]);
	if (!err)
		return CTL_EXIT_OK;
	ret = ctl_fail(-err, "%s %s", cmd, argv[1]);
	for (; why->err; why++) {
		if (why->err == -err) {
			ctl_msg(0, "%s: %s (the kernel log has the details)",
				argv[1], why->why);
			break;
		}
	}
	return ret;
}

/**
 * ctl_cmd_attach() - dynswiotlbctl attach DEV
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Return: an exit code.
 */
int ctl_cmd_attach(int argc, char **argv)
{
	return ctl_name_cmd(argc, argv, CTL_SYSFS_ATTACH, ctl_attach_why);
}

/**
 * ctl_cmd_detach() - dynswiotlbctl detach DEV
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Return: an exit code.
 */
int ctl_cmd_detach(int argc, char **argv)
{
	return ctl_name_cmd(argc, argv, CTL_SYSFS_DETACH, ctl_detach_why);
}

/* The directory of set and get, from the command line. */
struct ctl_target {
	const char *dev;	/* NULL: --global */
	const char *what;	/* for messages: the device, or "global" */
	char dir[CTL_PATH_MAX];
};

/*
 * Take "DEV" or "-g|--global" from @argv[1]; returns the index of the next
 * word, or 0 after a usage error.
 */
static int ctl_parse_target(int argc, char **argv, struct ctl_target *t)
{
	if (argc < 2) {
		ctl_usage_error(argv[0], "no device (or --global) given");
		return 0;
	}
	t->dev = argv[1];
	t->what = argv[1];
	if (!strcmp(argv[1], "-g") || !strcmp(argv[1], "--global")) {
		t->dev = NULL;
		t->what = "global";
	} else if (argv[1][0] == '-') {
		ctl_usage_error(argv[0], "unknown option '%s'", argv[1]);
		return 0;
	}
	return 2;
}

/* Find the target's directory: 0 or an exit code. */
static int ctl_target_dir(struct ctl_target *t)
{
	int ret = ctl_need_loaded();

	if (ret)
		return ret;
	if (t->dev)
		return ctl_device_dir(t->dir, t->dev);
	return ctl_path(t->dir, "%s", DSW_SYSFS_PARAMS_DIR) ?
		ctl_msg(CTL_EXIT_OTHER, "path too long") : 0;
}

static int ctl_unknown_knob(struct ctl_target *t, const char *cmd,
			    const char *knob)
{
	char list[CTL_FILE_MAX] = "";
	char **names;
	size_t len = 0;
	int i, n;

	n = ctl_list_dir(t->dir, &names);
	for (i = 0; i < n && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, " %s", names[i]);
	if (n > 0)
		ctl_free_list(names, n);
	return ctl_usage_error(cmd, "%s: unknown knob '%s' (knobs:%s)", t->what,
			       knob, list);
}

/*
 * The file of @knob in the target's directory, into @path (CTL_PATH_MAX);
 * for set, it must be writable.  Returns 0 or an exit code.
 */
static int ctl_knob_path(struct ctl_target *t, const char *cmd,
			 const char *knob, char *path)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
	struct stat st;

	if (!*knob || strspn(knob, chars) != strlen(knob) ||
	    ctl_path(path, "%s/%s", t->dir, knob) || stat(path, &st) ||
	    !S_ISREG(st.st_mode))
		return ctl_unknown_knob(t, cmd, knob);
	if (!strcmp(cmd, "set") && !(st.st_mode & 0222))
		return ctl_usage_error(cmd, "%s: %s is read-only", t->what, knob);
	return 0;
}

/* Read a knob's value, without the newline: 0 or an exit code. */
static int ctl_knob_read(struct ctl_target *t, const char *knob,
			 const char *path, char *val, size_t size)
{
	int err = ctl_read(path, val, size);

	if (err)
		return err == -ENOENT && t->dev ?
			ctl_msg(CTL_EXIT_NODEV, "%s: detached", t->dev) :
			ctl_fail(-err, "%s: %s", t->what, knob);
	ctl_chomp(val);
	return 0;
}

/* One KNOB=VALUE of set, and the value it had. */
struct ctl_setting {
	const char *knob;
	const char *val;
	char path[CTL_PATH_MAX];
	char old[CTL_FILE_MAX];
};

/* Put back the first @n settings, last first. */
static void ctl_restore(struct ctl_target *t, struct ctl_setting *s, int n)
{
	int err;

	while (n-- > 0) {
		err = ctl_write(s[n].path, s[n].old);
		if (err)
			ctl_fail(-err, "%s: could not restore %s=%s", t->what,
				 s[n].knob, s[n].old);
	}
}

/* Write the @n settings, all or nothing: 0 or an exit code. */
static int ctl_apply(struct ctl_target *t, struct ctl_setting *s, int n)
{
	int i, err = 0, ret;

	for (i = 0; i < n && !err; i++)
		err = ctl_write(s[i].path, s[i].val);
	if (!err)
		return CTL_EXIT_OK;
	i--;
	if (err == -ENOENT && t->dev)
		ret = ctl_msg(CTL_EXIT_NODEV, "%s: detached", t->dev);
	else
		ret = ctl_fail(-err, "%s: %s=%s", t->what, s[i].knob, s[i].val);
	if (err == -EINVAL)
		ctl_msg(0, "the kernel log (dmesg) says why; the values are in docs/sysfs-ABI.md");
	ctl_restore(t, s, i);
	if (i)
		ctl_msg(0, "%s: the %d value%s set before it %s restored", t->what,
			i, i > 1 ? "s" : "", i > 1 ? "were" : "was");
	return ret;
}

/**
 * ctl_cmd_set() - dynswiotlbctl set DEV|--global KNOB=VALUE...
 * @argc: number of words, the command included
 * @argv: the words (the '=' of each KNOB=VALUE is overwritten)
 *
 * Return: an exit code.
 */
int ctl_cmd_set(int argc, char **argv)
{
	struct ctl_setting *s;
	struct ctl_target t;
	int first, i, n, ret = 0;
	char *eq;

	first = ctl_parse_target(argc, argv, &t);
	if (!first)
		return CTL_EXIT_USAGE;
	n = argc - first;
	if (n < 1)
		return ctl_usage_error("set", "no KNOB=VALUE given");
	s = calloc(n, sizeof(*s));
	if (!s)
		return ctl_fail(ENOMEM, "set");
	for (i = 0; i < n && !ret; i++) {
		eq = strchr(argv[first + i], '=');
		if (!eq) {
			ret = ctl_usage_error("set", "'%s' is not KNOB=VALUE",
					      argv[first + i]);
			break;
		}
		*eq = '\0';
		s[i].knob = argv[first + i];
		s[i].val = eq + 1;
		if (!*s[i].val)	/* an empty write would change nothing */
			ret = ctl_msg(CTL_EXIT_VALUE, "%s: %s: empty value",
				      t.what, s[i].knob);
	}
	if (!ret)
		ret = ctl_need_root("set");
	if (!ret)
		ret = ctl_target_dir(&t);
	for (i = 0; i < n && !ret; i++)
		ret = ctl_knob_path(&t, "set", s[i].knob, s[i].path);
	for (i = 0; i < n && !ret; i++)
		ret = ctl_knob_read(&t, s[i].knob, s[i].path, s[i].old,
				    sizeof(s[i].old));
	if (!ret)
		ret = ctl_apply(&t, s, n);
	free(s);
	return ret;
}

/**
 * ctl_cmd_get() - dynswiotlbctl get DEV|--global [KNOB]
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Prints the value of KNOB, or "KNOB VALUE" for every knob.
 *
 * Return: an exit code.
 */
int ctl_cmd_get(int argc, char **argv)
{
	char path[CTL_PATH_MAX], val[CTL_FILE_MAX];
	struct ctl_target t;
	int first, i, n, ret, width = 0;
	char **names;

	first = ctl_parse_target(argc, argv, &t);
	if (!first)
		return CTL_EXIT_USAGE;
	if (argc > first + 1)
		return ctl_usage_error("get", "one knob at a time");
	ret = ctl_target_dir(&t);
	if (ret)
		return ret;
	if (argc == first + 1) {
		ret = ctl_knob_path(&t, "get", argv[first], path);
		if (!ret)
			ret = ctl_knob_read(&t, argv[first], path, val, sizeof(val));
		if (!ret)
			printf("%s\n", val);
		return ret;
	}

	n = ctl_list_dir(t.dir, &names);
	if (n < 0)
		return ctl_fail(-n, "%s", t.dir);
	for (i = 0; i < n; i++)
		if ((int)strlen(names[i]) > width)
			width = strlen(names[i]);
	for (i = 0; i < n && !ret; i++) {
		if (ctl_path(path, "%s/%s", t.dir, names[i]))
			continue;
		ret = ctl_knob_read(&t, names[i], path, val, sizeof(val));
		if (!ret)
			printf("%-*s %s\n", width, names[i], val);
	}
	ctl_free_list(names, n);
	return ret;
}
