// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters.
 *
 * devices=<name>[,<name>...]
 *
 *   Devices to select, by the name they have under /sys/bus/pci/devices or
 *   /sys/bus/platform/devices, or by a selector: pci:VVVV:DDDD (a PCI
 *   vendor:device ID), driver:NAME or all (every PCI device but bridges;
 *   select.c).  The parameter is
 *   read-only (0444) once the module is loaded.
 *
 *   Parsing: one trailing newline is ignored, then the value is split at
 *   every ','.  An empty value selects no device.  There is no whitespace
 *   trimming: a space is an invalid character.  Items are checked from left
 *   to right; the first item that breaks a rule is reported, with the first
 *   rule it breaks, in this order:
 *
 *   1. At most DSW_MAX_DEVICES (32) items.
 *        reason: "too many devices (at most 32)"
 *   2. No item is empty (",a", "a,,b" and "a," are malformed).
 *        reason: "empty name"
 *   3. An item is at most DSW_DEV_NAME_MAX (63) characters long.
 *        reason: "name longer than 63 characters"
 *   4. An item that starts with "pci:" or "driver:" is a selector
 *      (select.c): "pci:" must be followed by exactly VVVV:DDDD, a 4-digit
 *      hex vendor and device ID (stored in lower case), "driver:" by a
 *      driver name of at least one character from A-Z a-z 0-9 '_' '.' '-'.
 *        reasons: "not a valid PCI ID (pci:VVVV:DDDD)",
 *                 "not a valid driver name (driver:NAME; A-Z a-z 0-9 _ . -)"
 *      The item "all", in any case, is a selector too (stored as "all").
 *      Any other item that contains at least one ':' and one '.' and nothing but
 *      letters, digits, ':' and '.' is taken as a PCI address and must be
 *      exactly DDDD:BB:SS.F: a 4-digit hex domain, a 2-digit hex bus, a slot
 *      from 00 to 1f and a function from 0 to 7.  (Letters beyond a-f are
 *      allowed in this test so that a mistyped address such as 0000:00:1g.0
 *      is reported as one.)  Hex digits may be given in upper case; the name
 *      is stored in lower case, as the kernel names PCI devices.
 *        reason: "not a valid PCI address (DDDD:BB:SS.F)"
 *   5. Any other item consists only of A-Z a-z 0-9 '_' '.' ':' '-'.
 *        reason: "invalid character (allowed: A-Z a-z 0-9 _ . : -)"
 *   6. An item (after lower-casing a PCI address or ID, and with '-' and
 *      '_' as one in a driver name) appears only once.
 *        reason: "duplicate name"
 *
 *   A malformed value makes the module load fail with -EINVAL and logs
 *   exactly one line:
 *
 *	dynswiotlb: devices: "<item>": <reason>
 *
 *   <item> is printed with non-printable characters escaped (%*pE); an item
 *   longer than DSW_DEV_NAME_MAX is cut to its first DSW_DEV_NAME_MAX
 *   characters followed by "...".  To keep it to that one line, .set logs
 *   the error and records it but returns 0, and dsw_params_check() fails the
 *   module's initialisation: an error returned by .set would make the
 *   kernel's parse_args() log a second, vaguer line ("`<value>' invalid for
 *   parameter `devices'").  A malformed value fails the load even if
 *   devices= is given again with a valid one.  The policy parameters
 *   (policy.c) do the same at load time, and fail with -EINVAL when written
 *   later through /sys/module/dynswiotlb/parameters.
 *
 *   Reading the parameter back gives the accepted names joined by ',' and
 *   followed by a newline.
 */

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <uapi/linux/dynswiotlb.h>

#include "params.h"
#include "select.h"

struct dsw_devlist {
	unsigned int nr;
	char names[DSW_MAX_DEVICES][DSW_DEV_NAME_MAX + 1];
};

/*
 * Written only by the parameter's .set, which runs while the module is being
 * loaded (the parameter is 0444), so readers need no locking.
 */
static struct dsw_devlist dsw_devices;
/* A parameter given at load time was malformed (see the top of this file). */
static bool dsw_params_malformed;
/* Set once the load-time values have been checked. */
static bool dsw_params_checked;

static bool dsw_is_pci_like(const char *s, size_t len)
{
	bool colon = false, dot = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colon = true;
		else if (s[i] == '.')
			dot = true;
		else if (!isalnum(s[i]))
			return false;
	}
	return colon && dot;
}

/* Strict DDDD:BB:SS.F. */
static bool dsw_is_pci_bdf(const char *s, size_t len)
{
	static const char layout[] = "xxxx:xx:xx.x";
	size_t i;

	if (len != sizeof(layout) - 1)
		return false;
	for (i = 0; i < len; i++) {
		if (layout[i] == 'x' ? !isxdigit(s[i]) : s[i] != layout[i])
			return false;
	}
	/* slot 00-1f, function 0-7 */
	return (s[8] == '0' || s[8] == '1') && s[11] >= '0' && s[11] <= '7';
}

static bool dsw_is_name_char(char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
}

/*
 * Check one item (rules 3-5) and store its canonical form in @out, which has
 * room for DSW_DEV_NAME_MAX + 1 bytes.
 *
 * Return: NULL if the item is valid, else the reason it is not.
 */
static const char *dsw_parse_name(const char *item, size_t len, char *out)
{
	size_t i;

	if (len > DSW_DEV_NAME_MAX)
		return "name longer than " __stringify(DSW_DEV_NAME_MAX) " characters";

	if (dsw_select_prefixed(item, len))
		return dsw_select_parse(item, len, out);
	if (dsw_is_pci_like(item, len)) {
		if (!dsw_is_pci_bdf(item, len))
			return "not a valid PCI address (DDDD:BB:SS.F)";
		for (i = 0; i < len; i++)
			out[i] = tolower(item[i]);
	} else {
		for (i = 0; i < len; i++) {
			if (!dsw_is_name_char(item[i]))
				return "invalid character (allowed: A-Z a-z 0-9 _ . : -)";
			out[i] = item[i];
		}
	}
	out[len] = '\0';
	return NULL;
}

static const char *dsw_parse_item(struct dsw_devlist *list, const char *item,
				  size_t len)
{
	const char *reason;
	unsigned int i;

	if (list->nr == DSW_MAX_DEVICES)
		return "too many devices (at most " __stringify(DSW_MAX_DEVICES) ")";
	if (!len)
		return "empty name";

	reason = dsw_parse_name(item, len, list->names[list->nr]);
	if (reason)
		return reason;

	for (i = 0; i < list->nr; i++) {
		if (dsw_select_same(list->names[i], list->names[list->nr]))
			return "duplicate name";
	}
	list->nr++;
	return NULL;
}

/* Parse the @len bytes at @val into @list; log and fail if malformed. */
static int dsw_parse_list(struct dsw_devlist *list, const char *val, size_t len)
{
	const char *end = val + len, *item = val, *comma, *reason;
	bool cut;

	if (!len)
		return 0;	/* an empty value selects no device */

	for (;;) {
		comma = memchr(item, ',', end - item);
		len = (comma ?: end) - item;
		reason = dsw_parse_item(list, item, len);
		if (reason)
			break;
		if (!comma)
			return 0;
		item = comma + 1;
	}

	cut = len > DSW_DEV_NAME_MAX;
	pr_err("devices: \"%*pE%s\": %s\n", cut ? DSW_DEV_NAME_MAX : (int)len,
	       item, cut ? "..." : "", reason);
	return -EINVAL;
}

static int dsw_devices_set(const char *val, const struct kernel_param *kp)
{
	struct dsw_devlist *list;
	size_t len = strlen(val);

	if (len && val[len - 1] == '\n')
		len--;

	list = kzalloc(sizeof(*list), GFP_KERNEL);
	if (!list)
		return -ENOMEM;

	if (dsw_parse_list(list, val, len))
		dsw_params_malformed = true;	/* see the top of this file */
	else
		memcpy(kp->arg, list, sizeof(*list));
	kfree(list);
	return 0;
}

static int dsw_devices_get(char *buffer, const struct kernel_param *kp)
{
	const struct dsw_devlist *list = kp->arg;
	unsigned int i;
	int len = 0;

	for (i = 0; i < list->nr; i++)
		len += scnprintf(buffer + len, PAGE_SIZE - len, "%s%s",
				 i ? "," : "", list->names[i]);
	return len + scnprintf(buffer + len, PAGE_SIZE - len, "\n");
}

static const struct kernel_param_ops dsw_devices_ops = {
	.set = dsw_devices_set,
	.get = dsw_devices_get,
};

module_param_cb(devices, &dsw_devices_ops, &dsw_devices, 0444);
__MODULE_PARM_TYPE(devices, "charp");
MODULE_PARM_DESC(devices,
		 "Devices to select: comma-separated names from /sys/bus/{pci,platform}/devices (PCI: DDDD:BB:SS.F) or selectors pci:VVVV:DDDD and driver:NAME, at most "
		 __stringify(DSW_MAX_DEVICES) " names of at most " __stringify(DSW_DEV_NAME_MAX)
		 " characters [A-Za-z0-9_.:-], no duplicates; absent devices are selected when they appear; empty (default) selects none");

/**
 * dsw_params_check() - refuse malformed parameter values
 *
 * The parameter parsers log a malformed value and record it rather than
 * fail (see the top of params.c); the module's initialisation fails here.
 *
 * Return: 0, or -EINVAL if a value given at load time was malformed.
 */
int __init dsw_params_check(void)
{
	WRITE_ONCE(dsw_params_checked, true);
	return dsw_params_malformed ? -EINVAL : 0;
}

/**
 * dsw_params_refuse() - the result of a parameter write that was refused
 *
 * The policy parameters are writable at run time too.  A write at run time
 * fails with -EINVAL; a value given at load time, already logged by its
 * parser, is recorded instead so that dsw_params_check() fails the load
 * with one log line (see the top of params.c).
 *
 * Return: what the parameter's .set must return.
 */
int dsw_params_refuse(void)
{
	if (!dsw_params_at_load())
		return -EINVAL;
	dsw_params_malformed = true;
	return 0;
}

/**
 * dsw_params_at_load() - are parameters being parsed for the module's load?
 *
 * Return: true until dsw_params_check() has run.
 */
bool dsw_params_at_load(void)
{
	return !READ_ONCE(dsw_params_checked);
}

/**
 * dsw_params_nr_devices() - number of devices named in devices=
 *
 * Return: the number of names accepted by the devices= parameter.
 */
unsigned int dsw_params_nr_devices(void)
{
	return dsw_devices.nr;
}

/**
 * dsw_params_device() - one device name from devices=
 * @idx: index in the list, below dsw_params_nr_devices()
 *
 * Return: the canonical name, a NUL-terminated string that stays valid
 * while the module is loaded.
 */
const char *dsw_params_device(unsigned int idx)
{
	return dsw_devices.names[idx];
}

/**
 * dsw_params_parse_name() - check and canonicalise one device name
 * @what: what the name was given to, for the log line (e.g. "attach")
 * @buf: the name, not NUL-terminated; one trailing newline is ignored
 * @len: its length
 * @out: room for DSW_DEV_NAME_MAX + 1 bytes, receives the canonical name
 *
 * Applies the rules of devices= to a single name and, if it breaks one,
 * logs one line "<what>: \"<name>\": <reason>".
 *
 * Return: 0, or -EINVAL.
 */
int dsw_params_parse_name(const char *what, const char *buf, size_t len,
			  char *out)
{
	const char *reason;
	bool cut;

	if (len && buf[len - 1] == '\n')
		len--;
	reason = len ? dsw_parse_name(buf, len, out) : "empty name";
	if (!reason)
		return 0;
	cut = len > DSW_DEV_NAME_MAX;
	pr_err("%s: \"%*pE%s\": %s\n", what, cut ? DSW_DEV_NAME_MAX : (int)len,
	       buf, cut ? "..." : "", reason);
	return -EINVAL;
}
