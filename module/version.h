/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DSW_VERSION_H
#define DSW_VERSION_H

/* Kbuild passes -DDSW_VERSION from "git describe" when built from git. */
#ifndef DSW_VERSION
#define DSW_VERSION "0.2.0"
#endif

#endif /* DSW_VERSION_H */
