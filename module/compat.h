/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels chimney supports (Debian 12's
 * 6.1 and 6.12, and the 6.12 test kernel), in one place. Prefer a feature
 * check; LINUX_VERSION_CODE only where the kernel offers nothing to test.
 */
#ifndef _CHIMNEY_COMPAT_H
#define _CHIMNEY_COMPAT_H

#include <linux/compiler.h>
#include <linux/version.h>

/*
 * <kunit/visibility.h> appeared in 6.2 (Debian's 6.1 has it backported).
 * Without it there are no KUnit-only exports: everything stays static.
 */
#if __has_include(<kunit/visibility.h>)
#include <kunit/visibility.h>
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

/* __counted_by() is 6.6+ (and stable backports); it is only a hint. */
#ifndef __counted_by
#define __counted_by(member)
#endif

/*
 * 6.10 dropped __assign_str()'s source argument (it is taken from
 * __string()); nothing but the version says which form the kernel has.
 * Expanded only inside TP_fast_assign(), where __assign_str() is defined.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define chimney_assign_str(dst, src) __assign_str(dst)
#else
#define chimney_assign_str(dst, src) __assign_str(dst, src)
#endif

#endif /* _CHIMNEY_COMPAT_H */
