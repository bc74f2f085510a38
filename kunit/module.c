// SPDX-License-Identifier: GPL-2.0
/* Module glue of the chimney KUnit suites. */

#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for chimney");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
