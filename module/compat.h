/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels chimney supports (Debian 12's
 * 6.1 and 6.12, and the 6.12 test kernel), in one place. Prefer a feature
 * check; LINUX_VERSION_CODE only where the kernel offers nothing to test.
 *
 * Checked and needing nothing here: <kunit/visibility.h> (6.2, and 6.1.y
 * stable has it), __counted_by() (defined empty by 6.1.y when the compiler
 * lacks it), MODULE_IMPORT_NS() taking a bare namespace (until 6.13),
 * debugfs_create_file_unsafe(), netdev_hold()/netdev_put(), sysfs_emit(),
 * strscpy(). Sparse (0.6.4) cannot parse __has_include, so no feature test
 * may use it.
 */
#ifndef _CHIMNEY_COMPAT_H
#define _CHIMNEY_COMPAT_H

#include <linux/version.h>
#include <kunit/visibility.h>

/*
 * 6.10 dropped __assign_str()'s source argument (it is taken from
 * __string()); nothing but the version says which form the kernel has.
 * Expanded only inside TP_fast_assign(), where __assign_str() is defined.
 */
#if KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
#define chimney_assign_str(dst, src)	do {	\
	(void)(src);				\
	__assign_str(dst);			\
} while (0)
#else
#define chimney_assign_str(dst, src) __assign_str(dst, src)
#endif

#endif /* _CHIMNEY_COMPAT_H */
