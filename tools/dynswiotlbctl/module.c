// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: load and unload the module with libkmod, as modprobe does.
 *
 * load finds the module through /lib/modules/$(uname -r)/modules.dep,
 * applies the modprobe configuration (options, softdep and install lines of
 * /etc/modprobe.d and the like) and appends the parameters given on the
 * command line, which the kernel applies last, so they win.  Parameter
 * names are checked against the module's modinfo first: the kernel would
 * only log an unknown one and load anyway.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libkmod.h>

#include "ctl.h"

static void ctl_kmod_log(void *data __maybe_unused, int priority __maybe_unused,
			 const char *file __maybe_unused,
			 int line __maybe_unused, const char *fn __maybe_unused,
			 const char *format __maybe_unused,
			 va_list args __maybe_unused)
{
	/* Quiet: every failure is reported once, by the command. */
}

/*
 * For command @cmd, run as root: a libkmod context and the module; returns
 * 0 or an exit code.
 */
static int ctl_kmod_open(const char *cmd, struct kmod_ctx **ctx,
			 struct kmod_module **mod)
{
	int err;

	err = ctl_need_root(cmd);
	if (err)
		return err;
	*ctx = kmod_new(NULL, NULL);
	if (!*ctx)
		return ctl_msg(CTL_EXIT_OTHER,
			       "libkmod: cannot read the module configuration");
	kmod_set_log_fn(*ctx, ctl_kmod_log, NULL);
	/* Without the indexes, libkmod reads the text files: not an error. */
	kmod_load_resources(*ctx);
	err = kmod_module_new_from_name(*ctx, DSW_MODULE_NAME, mod);
	if (err < 0) {
		kmod_unref(*ctx);
		return ctl_fail(-err, "libkmod: %s", DSW_MODULE_NAME);
	}
	return 0;
}

static void ctl_kmod_close(struct kmod_ctx *ctx, struct kmod_module *mod)
{
	kmod_module_unref(mod);
	kmod_unref(ctx);
}

/* Does modinfo (@info) list a parameter named by the @len bytes of @name? */
static bool ctl_has_param(struct kmod_list *info, const char *name, size_t len)
{
	struct kmod_list *l;
	const char *val;

	kmod_list_foreach(l, info) {
		if (strcmp(kmod_module_info_get_key(l), "parmtype"))
			continue;
		val = kmod_module_info_get_value(l);
		if (val && !strncmp(val, name, len) && val[len] == ':')
			return true;
	}
	return false;
}

/*
 * Check the PARAM=VALUE words and join them into *@opts (to be freed).
 * Returns 0 or an exit code.
 */
static int ctl_load_options(struct kmod_module *mod, int argc, char **argv,
			    char **opts)
{
	struct kmod_list *info = NULL;
	size_t len = 1;
	bool check;
	char *eq;
	int i, ret = 0;

	check = kmod_module_get_info(mod, &info) > 0;
	for (i = 1; i < argc && !ret; i++) {
		eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i])
			ret = ctl_usage_error("load", "'%s' is not PARAM=VALUE",
					      argv[i]);
		else if (strpbrk(argv[i], " \t\n\"'"))
			ret = ctl_usage_error("load", "'%s': no spaces or quotes in a parameter",
					      argv[i]);
		else if (check && !ctl_has_param(info, argv[i], eq - argv[i]))
			ret = ctl_usage_error("load", "no parameter '%.*s' (modinfo %s)",
					      (int)(eq - argv[i]), argv[i],
					      DSW_MODULE_NAME);
		len += strlen(argv[i]) + 1;
	}
	kmod_module_info_free_list(info);
	if (ret)
		return ret;
	*opts = calloc(1, len);
	if (!*opts)
		return ctl_fail(ENOMEM, "load");
	for (i = 1; i < argc; i++) {
		if (i > 1)
			strcat(*opts, " ");
		strcat(*opts, argv[i]);
	}
	return 0;
}

/* Why a load failed, beyond the errno. */
static const char *ctl_load_hint(int err)
{
	switch (err) {
	case EINVAL:
		return "the module refused a parameter; the kernel log (dmesg) says which and why";
	case ENOEXEC:
	case EKEYREJECTED:
		return "the module file does not fit this kernel (rebuild it: dkms autoinstall)";
	case EEXIST:
		return "it is loaded already";
	default:
		return NULL;
	}
}

/**
 * ctl_cmd_load() - dynswiotlbctl load [PARAM=VALUE...]
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Return: an exit code.
 */
int ctl_cmd_load(int argc, char **argv)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	const char *hint;
	char *opts = NULL;
	int ret, err;

	ret = ctl_kmod_open("load", &ctx, &mod);
	if (ret)
		return ret;

	switch (kmod_module_get_initstate(mod)) {
	case KMOD_MODULE_LIVE:
	case KMOD_MODULE_COMING:
		if (argc > 1)
			ret = ctl_msg(CTL_EXIT_REFUSED,
				      "%s is loaded already: parameters not applied (unload it first, or use: dynswiotlbctl set --global KNOB=VALUE)",
				      DSW_MODULE_NAME);
		else
			ctl_msg(CTL_EXIT_OK, "%s is loaded already", DSW_MODULE_NAME);
		goto out;
	case KMOD_MODULE_GOING:
		ret = ctl_msg(CTL_EXIT_BUSY, "%s is being unloaded", DSW_MODULE_NAME);
		goto out;
	case KMOD_MODULE_BUILTIN:
		ret = ctl_msg(CTL_EXIT_REFUSED, "%s is built into the kernel",
			      DSW_MODULE_NAME);
		goto out;
	}
	if (!kmod_module_get_path(mod)) {
		ret = ctl_msg(CTL_EXIT_MODULE,
			      "module %s not found in %s (install it: make dkms-install)",
			      DSW_MODULE_NAME, kmod_get_dirname(ctx));
		goto out;
	}
	ret = ctl_load_options(mod, argc, argv, &opts);
	if (ret)
		goto out;

	err = kmod_module_probe_insert_module(mod, 0, opts, NULL, NULL, NULL);
	if (err < 0) {
		ret = ctl_fail(-err, "load %s%s%s", DSW_MODULE_NAME,
			       *opts ? " " : "", opts);
		if (err == -ENOENT)
			ret = CTL_EXIT_MODULE;
		hint = ctl_load_hint(-err);
		if (hint)
			ctl_msg(0, "%s", hint);
	} else if (err > 0) {
		ret = ctl_msg(CTL_EXIT_REFUSED,
			      "%s is blacklisted in the modprobe configuration",
			      DSW_MODULE_NAME);
	}
out:
	free(opts);
	ctl_kmod_close(ctx, mod);
	return ret;
}

/* Say who holds the module. */
static int ctl_in_use(struct kmod_module *mod)
{
	struct kmod_list *holders, *l;

	ctl_msg(0, "%s is in use (%d references): a driver is bound to an attached device",
		DSW_MODULE_NAME, kmod_module_get_refcnt(mod));
	holders = kmod_module_get_holders(mod);
	kmod_list_foreach(l, holders) {
		struct kmod_module *h = kmod_module_get_module(l);

		ctl_msg(0, "used by module %s", kmod_module_get_name(h));
		kmod_module_unref(h);
	}
	kmod_module_unref_list(holders);
	return ctl_msg(CTL_EXIT_BUSY,
		       "detach the devices first (dynswiotlbctl status lists them)");
}

/**
 * ctl_cmd_unload() - dynswiotlbctl unload
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Return: an exit code.
 */
int ctl_cmd_unload(int argc, char **argv)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	int ret, err;

	if (argc > 1)
		return ctl_usage_error("unload", "unexpected '%s'", argv[1]);
	ret = ctl_kmod_open("unload", &ctx, &mod);
	if (ret)
		return ret;

	err = kmod_module_get_initstate(mod);
	if (err == KMOD_MODULE_BUILTIN) {
		ret = ctl_msg(CTL_EXIT_REFUSED, "%s is built into the kernel",
			      DSW_MODULE_NAME);
	} else if (err < 0) {
		ret = ctl_msg(CTL_EXIT_MODULE, "%s is not loaded", DSW_MODULE_NAME);
	} else {
		err = kmod_module_remove_module(mod, 0);
		if (err == -EAGAIN || err == -EBUSY)
			ret = ctl_in_use(mod);
		else if (err == -ENOENT)
			ret = ctl_msg(CTL_EXIT_MODULE, "%s is not loaded",
				      DSW_MODULE_NAME);
		else if (err < 0)
			ret = ctl_fail(-err, "unload %s", DSW_MODULE_NAME);
	}
	ctl_kmod_close(ctx, mod);
	return ret;
}
