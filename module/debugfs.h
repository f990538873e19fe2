/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_DEBUGFS_H
#define DSW_DEBUGFS_H

struct dentry;
struct dsw_shim;

void dsw_debugfs_init(void);
void dsw_debugfs_exit(void);
struct dentry *dsw_debugfs_add_dev(const char *name, struct dsw_shim *shim);
void dsw_debugfs_remove_dev(struct dentry *dir);

#endif /* DSW_DEBUGFS_H */
