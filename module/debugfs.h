/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_DEBUGFS_H
#define DSW_DEBUGFS_H

void dsw_debugfs_init(void);
void dsw_debugfs_exit(void);

#endif /* DSW_DEBUGFS_H */
