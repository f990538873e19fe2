/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_PARAMS_H
#define DSW_PARAMS_H

#include <linux/types.h>

int dsw_params_check(void);
int dsw_params_refuse(void);
bool dsw_params_at_load(void);
unsigned int dsw_params_nr_devices(void);
const char *dsw_params_device(unsigned int idx);
int dsw_params_parse_name(const char *what, const char *buf, size_t len,
			  char *out);

#endif /* DSW_PARAMS_H */
