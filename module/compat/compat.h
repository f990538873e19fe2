/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels dynswiotlb builds for lives here.
 *
 * Kbuild force-includes this file (-include) into every source file, after
 * the kernel's own forced includes, so CONFIG_* symbols are visible but no
 * kernel header has been included yet.  Differences are detected by the
 * feature probes in compat/Kbuild.include (-DDSW_HAVE_*), never by
 * LINUX_VERSION_CODE: distribution kernels backport features.
 */
#ifndef DSW_COMPAT_H
#define DSW_COMPAT_H

#ifndef CONFIG_PCI
#error "dynswiotlb requires CONFIG_PCI"
#endif

/*
 * Newer kernels (6.12 here, not 5.10 or 6.1) take const struct bus_type
 * pointers in the driver-core bus API (bus_register_notifier(),
 * bus_find_device(), ...) and define pci_bus_type and platform_bus_type as
 * const.  Declare bus pointers as "dsw_const_bus struct bus_type *".
 */
#ifdef DSW_HAVE_CONST_BUS_TYPE
#define dsw_const_bus const
#else
#define dsw_const_bus
#endif

#endif /* DSW_COMPAT_H */
