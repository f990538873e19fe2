/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_PARAMS_H
#define DSW_PARAMS_H

int dsw_params_check(void);
unsigned int dsw_params_nr_devices(void);
const char *dsw_params_device(unsigned int idx);

#endif /* DSW_PARAMS_H */
