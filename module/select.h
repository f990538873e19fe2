/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_SELECT_H
#define DSW_SELECT_H

#include <linux/types.h>

struct device;

bool dsw_select_prefixed(const char *item, size_t len);
bool dsw_select_is_selector(const char *name);
const char *dsw_select_parse(const char *item, size_t len, char *out);
bool dsw_select_same(const char *a, const char *b);
bool dsw_select_by_device(const char *sel);
bool dsw_select_matches(const char *sel, struct device *dev);

#endif /* DSW_SELECT_H */
