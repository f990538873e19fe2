/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_SYSFS_H
#define DSW_SYSFS_H

struct kobject;

int dsw_sysfs_init(void);
void dsw_sysfs_enable(void);
struct kobject *dsw_sysfs_devices(void);
void dsw_sysfs_disable(void);
void dsw_sysfs_exit(void);

#endif /* DSW_SYSFS_H */
