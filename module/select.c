// SPDX-License-Identifier: GPL-2.0
/*
 * Selectors: names in devices= (and the attach file) that select devices by
 * what stays true when a card moves to another slot, rather than by the
 * address it has today.
 *
 *   pci:VVVV:DDDD	every PCI device with that vendor and device ID
 *			(four hex digits each; stored in lower case)
 *   driver:NAME	every device whose driver is called NAME, on the PCI
 *			or platform bus; '-' and '_' match each other, as for
 *			module names (driver:sdhci-pci is driver:sdhci_pci)
 *   all		every PCI device but bridges, which do no DMA of their
 *			own: the shape of a confidential guest, where every
 *			device bounces (platform devices are left out: on x86
 *			every one has a DMA mask, DMA-capable or not)
 *
 * attach.c matches them when a device is added (pci: and all, which depend
 * on the device alone: dsw_select_by_device()) and when a driver is
 * about to probe (both), and once against every device present when a
 * selector is added; this file only parses and compares.
 */

#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <uapi/linux/dynswiotlb.h>

#include "select.h"

/* Prefixes in any case: "PCI:..." is a selector, never a device name. */
static bool dsw_has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !strncasecmp(s, prefix, n);
}

/* "all", in any case: a whole item, never a prefix. */
static bool dsw_is_all(const char *s, size_t len)
{
	return len == strlen(DSW_SELECT_ALL) &&
	       !strncasecmp(s, DSW_SELECT_ALL, len);
}

/**
 * dsw_select_prefixed() - does an item start like a selector?
 * @item: the item, not NUL-terminated
 * @len: its length
 *
 * Return: true if @item starts with "pci:" or "driver:", in any case, or
 * is "all"; it is then a selector or malformed (dsw_select_parse() says
 * which).
 */
bool dsw_select_prefixed(const char *item, size_t len)
{
	return dsw_has_prefix(item, len, DSW_SELECT_PCI) ||
	       dsw_has_prefix(item, len, DSW_SELECT_DRIVER) ||
	       dsw_is_all(item, len);
}

/**
 * dsw_select_is_selector() - is a canonical name a selector?
 * @name: NUL-terminated name, as stored by the parameter parser
 *
 * Return: true for "pci:...", "driver:..." and "all".
 */
bool dsw_select_is_selector(const char *name)
{
	return dsw_select_prefixed(name, strlen(name));
}

static bool dsw_is_driver_char(char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/**
 * dsw_select_parse() - check a selector and store its canonical form
 * @item: an item for which dsw_select_prefixed() is true, not
 *	NUL-terminated
 * @len: its length, at most DSW_DEV_NAME_MAX
 * @out: room for DSW_DEV_NAME_MAX + 1 bytes
 *
 * Return: NULL if @item is a valid selector (@out holds it, its prefix, the
 * PCI ID and "all" in lower case), else the reason it is not, for the caller's
 * log line.
 */
const char *dsw_select_parse(const char *item, size_t len, char *out)
{
	static const char id[] = "xxxx:xxxx";
	size_t n, i;

	if (dsw_is_all(item, len)) {
		strscpy(out, DSW_SELECT_ALL, DSW_DEV_NAME_MAX + 1);
		return NULL;
	}
	if (dsw_has_prefix(item, len, DSW_SELECT_PCI)) {
		n = strlen(DSW_SELECT_PCI);
		if (len - n != sizeof(id) - 1)
			return "not a valid PCI ID (pci:VVVV:DDDD)";
		for (i = n; i < len; i++) {
			if (id[i - n] == 'x' ? !isxdigit(item[i]) :
					       item[i] != id[i - n])
				return "not a valid PCI ID (pci:VVVV:DDDD)";
			out[i] = tolower(item[i]);
		}
		memcpy(out, DSW_SELECT_PCI, n);
		out[len] = '\0';
		return NULL;
	}
	if (dsw_has_prefix(item, len, DSW_SELECT_DRIVER)) {
		n = strlen(DSW_SELECT_DRIVER);
		if (len == n)
			return "not a valid driver name (driver:NAME; A-Z a-z 0-9 _ . -)";
		for (i = n; i < len; i++) {
			if (!dsw_is_driver_char(item[i]))
				return "not a valid driver name (driver:NAME; A-Z a-z 0-9 _ . -)";
		}
		memcpy(out, item, len);
		memcpy(out, DSW_SELECT_DRIVER, n);
		out[len] = '\0';
		return NULL;
	}
	return "not a selector";
}

/* Driver names compare as module names do: '-' and '_' are one. */
static bool dsw_driver_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		if (*a != *b && !((*a == '-' || *a == '_') &&
				  (*b == '-' || *b == '_')))
			return false;
	}
	return *a == *b;
}

/**
 * dsw_select_same() - do two canonical names select the same thing?
 * @a: a name as stored by the parameter parser
 * @b: another one
 *
 * Return: true if they are equal, driver selectors compared with '-' and
 * '_' as one character.
 */
bool dsw_select_same(const char *a, const char *b)
{
	size_t n = strlen(DSW_SELECT_DRIVER);

	if (!strncmp(a, DSW_SELECT_DRIVER, n) &&
	    !strncmp(b, DSW_SELECT_DRIVER, n))
		return dsw_driver_name_eq(a + n, b + n);
	return !strcmp(a, b);
}

static int dsw_hex4(const char *s)
{
	char buf[5];
	u16 v;

	memcpy(buf, s, 4);
	buf[4] = '\0';
	return kstrtou16(buf, 16, &v) ? -1 : v;
}

/**
 * dsw_select_by_device() - is a selector decided by the device alone?
 * @sel: a canonical selector (dsw_select_is_selector())
 *
 * Return: true for "pci:..." and "all", which can be matched as soon as
 * the device is added; a driver selector needs the driver that probes.
 */
bool dsw_select_by_device(const char *sel)
{
	return !strncmp(sel, DSW_SELECT_PCI, strlen(DSW_SELECT_PCI)) ||
	       !strcmp(sel, DSW_SELECT_ALL);
}

/**
 * dsw_select_matches() - does a selector select a device?
 * @sel: a canonical selector (dsw_select_is_selector())
 * @dev: the device; for a driver selector its driver is read, so the
 *	caller holds device_lock() or is the driver core's binding notifier
 *
 * Return: true if @dev is a PCI device of that ID, or its driver has that
 * name, or (all) it is a PCI device but a bridge.
 */
bool dsw_select_matches(const char *sel, struct device *dev)
{
	size_t n = strlen(DSW_SELECT_PCI);

	if (!strcmp(sel, DSW_SELECT_ALL))
		return dev_is_pci(dev) &&
		       (to_pci_dev(dev)->class >> 16) != PCI_BASE_CLASS_BRIDGE;
	if (!strncmp(sel, DSW_SELECT_PCI, n)) {
		if (!dev_is_pci(dev))
			return false;
		return to_pci_dev(dev)->vendor == dsw_hex4(sel + n) &&
		       to_pci_dev(dev)->device == dsw_hex4(sel + n + 5);
	}
	n = strlen(DSW_SELECT_DRIVER);
	if (!strncmp(sel, DSW_SELECT_DRIVER, n))
		return dev->driver && dsw_driver_name_eq(sel + n, dev->driver->name);
	return false;
}
