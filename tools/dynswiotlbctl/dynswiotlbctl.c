// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: load, configure and watch the dynswiotlb module.
 *
 * This file holds the command line, the messages and the exit codes; the
 * commands live in module.c, knobs.c, view.c, diagnose.c and persist.c
 * (see ctl.h).  Every message goes to stderr as one line
 * "dynswiotlbctl: ...", and every failure class has its own exit code
 * (enum ctl_exit).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#ifndef DSW_CTL_VERSION
#error "DSW_CTL_VERSION must be defined (the Makefile takes it from dkms.conf)"
#endif

static const char ctl_name[] = "dynswiotlbctl";

struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "load", ctl_cmd_load, "[PARAM=VALUE...]",
	  "load the module (modprobe configuration applies)" },
	{ "unload", ctl_cmd_unload, "",
	  "unload the module" },
	{ "attach", ctl_cmd_attach, "DEV",
	  "attach a device (a bound driver is rebound)" },
	{ "detach", ctl_cmd_detach, "DEV",
	  "detach a device and forget it" },
	{ "set", ctl_cmd_set, "DEV|--global KNOB=VALUE...",
	  "set a device's knobs, or the module's parameters" },
	{ "get", ctl_cmd_get, "DEV|--global [KNOB]",
	  "show knobs" },
	{ "status", ctl_cmd_status, "[--bytes | --json]",
	  "one line per selected device" },
	{ "buffers", ctl_cmd_buffers, "DEV",
	  "the device's live dynamic buffers" },
	{ "top", ctl_cmd_top, "[-d SECONDS] [-n ITERATIONS] [--bytes]",
	  "status, refreshed, with rates" },
	{ "diagnose", ctl_cmd_diagnose, "[-w|--watch SECONDS]",
	  "which devices run out of the swiotlb pool, and how to attach them" },
	{ "persist", ctl_cmd_persist, "[-f|--force] DEV...",
	  "select devices at every boot (modprobe.d options and softdeps)" },
	{ "unpersist", ctl_cmd_unpersist, "[DEV...]",
	  "undo persist for these devices, or for all" },
};

static const char *const ctl_exit_help[] = {
	[CTL_EXIT_OK] = "success",
	[CTL_EXIT_OTHER] = "any other failure",
	[CTL_EXIT_USAGE] = "usage error: bad command, option, knob or parameter name",
	[CTL_EXIT_PERM] = "permission denied: not root (EACCES, EPERM)",
	[CTL_EXIT_MODULE] = "module not found (load) or not loaded",
	[CTL_EXIT_NODEV] = "unknown device: no such device, or not attached (ENODEV)",
	[CTL_EXIT_VALUE] = "bad value: the kernel refused it (EINVAL)",
	[CTL_EXIT_BUSY] = "busy: buffers mapped, module in use (EBUSY)",
	[CTL_EXIT_REFUSED] = "refused: exists, unsupported, too many (EEXIST, EOPNOTSUPP, ENOSPC)",
	[CTL_EXIT_DEBUGFS] = "debugfs is not mounted",
};

static void ctl_vmsg(const char *fmt, va_list ap, int err)
{
	fprintf(stderr, "%s: ", ctl_name);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s (%s)", strerror(err), ctl_errname(err));
	fputc('\n', stderr);
}

/**
 * ctl_msg() - print a message on stderr
 * @code: returned as is
 * @fmt: printf format of the message, without the newline
 *
 * Return: @code, so that a command can "return ctl_msg(CTL_EXIT_..., ...)".
 */
int ctl_msg(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmsg(fmt, ap, 0);
	va_end(ap);
	return code;
}

/**
 * ctl_fail() - print a message and the text and name of an errno on stderr
 * @err: positive errno
 * @fmt: printf format of what failed
 *
 * Return: the exit code of @err's failure class (ctl_exit_for()).
 */
int ctl_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmsg(fmt, ap, err);
	va_end(ap);
	return ctl_exit_for(err);
}

/**
 * ctl_usage_error() - report a bad command line
 * @cmd: the command, or NULL
 * @fmt: printf format of what is wrong
 *
 * Return: CTL_EXIT_USAGE.
 */
int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	size_t i;

	va_start(ap, fmt);
	ctl_vmsg(fmt, ap, 0);
	va_end(ap);
	for (i = 0; cmd && i < ARRAY_SIZE(ctl_cmds); i++) {
		if (!strcmp(cmd, ctl_cmds[i].name)) {
			fprintf(stderr, "Usage: %s %s%s%s\n", ctl_name, cmd,
				*ctl_cmds[i].args ? " " : "", ctl_cmds[i].args);
			return CTL_EXIT_USAGE;
		}
	}
	fprintf(stderr, "Try '%s --help'.\n", ctl_name);
	return CTL_EXIT_USAGE;
}

/**
 * ctl_exit_for() - the failure class of an errno
 * @err: positive errno, as returned by a sysfs write or libkmod
 *
 * Return: the exit code.
 */
int ctl_exit_for(int err)
{
	switch (err) {
	case 0:
		return CTL_EXIT_OK;
	case EACCES:
	case EPERM:
		return CTL_EXIT_PERM;
	case ENODEV:
	case ENXIO:
		return CTL_EXIT_NODEV;
	case EINVAL:
	case ERANGE:
		return CTL_EXIT_VALUE;
	case EBUSY:
	case EAGAIN:
		return CTL_EXIT_BUSY;
	case EEXIST:
	case EOPNOTSUPP:
	case ENOSPC:
		return CTL_EXIT_REFUSED;
	default:
		return CTL_EXIT_OTHER;
	}
}

#define CTL_ERR(e) { e, #e }
/* strerrorname_np() is glibc 2.32 and later; Debian 11 has 2.31. */
static const struct {
	int err;
	const char *name;
} ctl_errnames[] = {
	CTL_ERR(EPERM), CTL_ERR(ENOENT), CTL_ERR(ESRCH), CTL_ERR(EINTR),
	CTL_ERR(EIO), CTL_ERR(ENXIO), CTL_ERR(E2BIG), CTL_ERR(ENOEXEC),
	CTL_ERR(EBADF), CTL_ERR(EAGAIN), CTL_ERR(ENOMEM), CTL_ERR(EACCES),
	CTL_ERR(EFAULT), CTL_ERR(EBUSY), CTL_ERR(EEXIST), CTL_ERR(ENODEV),
	CTL_ERR(ENOTDIR), CTL_ERR(EISDIR), CTL_ERR(EINVAL), CTL_ERR(ENFILE),
	CTL_ERR(EMFILE), CTL_ERR(ENOTTY), CTL_ERR(EFBIG), CTL_ERR(ENOSPC),
	CTL_ERR(EROFS), CTL_ERR(ERANGE), CTL_ERR(ENAMETOOLONG),
	CTL_ERR(EOPNOTSUPP), CTL_ERR(ETIMEDOUT), CTL_ERR(ENOKEY),
	CTL_ERR(EKEYREJECTED),
};

/**
 * ctl_errname() - the symbolic name of an errno
 * @err: positive errno
 *
 * Return: "EBUSY" and the like, or "errno N" for one not in the table.
 */
const char *ctl_errname(int err)
{
	static char buf[24];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ctl_errnames); i++)
		if (ctl_errnames[i].err == err)
			return ctl_errnames[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static void ctl_help(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s COMMAND [ARGS...]\n"
		"       %s --help | --version\n\n"
		"Load, configure and watch the %s module (root only but get, diagnose,\n"
		"--help, --version).\n\n"
		"Commands:\n", ctl_name, ctl_name, DSW_MODULE_NAME);
	for (i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
		fprintf(f, "  %s%s%s\n      %s\n", ctl_cmds[i].name,
			*ctl_cmds[i].args ? " " : "", ctl_cmds[i].args,
			ctl_cmds[i].help);
	fprintf(f, "\nDEV is a name from /sys/bus/pci/devices or /sys/bus/platform/devices;\n"
		"persist and unpersist also take the selectors %sVVVV:DDDD, %sNAME\n"
		"and all (every PCI device but bridges).\n"
		"KNOB is a file of %s/DEV\n(--global: of %s).\n"
		"top: -d delay between refreshes in seconds (default 1), -n number of\n"
		"refreshes (default: until q or interrupt); without a terminal it prints\n"
		"one snapshot after another.\n"
		"diagnose: reads the kernel log and the swiotlb's debugfs files; --watch\n"
		"also counts bounces per device for SECONDS (tracefs).\n"
		"persist writes %s\n(and %s for a built-in driver);\n"
		"it refuses a device whose driver is built in and which holds a mounted\n"
		"file system, swap or a device-mapper/md device, unless --force.\n"
		"\nExit status:\n",
		DSW_SELECT_PCI, DSW_SELECT_DRIVER, CTL_SYSFS_DEVICES,
		DSW_SYSFS_PARAMS_DIR, CTL_PERSIST_CONF, CTL_PERSIST_LOAD);
	for (i = 0; i < ARRAY_SIZE(ctl_exit_help); i++)
		fprintf(f, "  %zu  %s\n", i, ctl_exit_help[i]);
	fprintf(f, "  128+N  diagnose --watch stopped by signal N\n"
		"\nSee dynswiotlbctl(8).\n");
}

static int ctl_version(void)
{
	char ver[64];

	printf("%s %s\n", ctl_name, DSW_CTL_VERSION);
	if (!ctl_read(CTL_SYSFS_MODULE "/version", ver, sizeof(ver))) {
		ctl_chomp(ver);
		printf("%s module %s (loaded)\n", DSW_MODULE_NAME, ver);
	}
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return ctl_usage_error(NULL, "no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		ctl_help(stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return ctl_version();
	if (argv[1][0] == '-')
		return ctl_usage_error(NULL, "unknown option '%s'", argv[1]);

	for (i = 0; i < ARRAY_SIZE(ctl_cmds); i++) {
		if (!strcmp(argv[1], ctl_cmds[i].name))
			return ctl_cmds[i].run(argc - 1, argv + 1);
	}
	return ctl_usage_error(NULL, "unknown command '%s'", argv[1]);
}
