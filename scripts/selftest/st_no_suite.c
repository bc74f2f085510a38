// SPDX-License-Identifier: GPL-2.0
/* A module with no KUnit suite: a run without KTAP must not pass. */
#include <linux/module.h>

static int __init st_no_suite_init(void)
{
	return 0;
}
module_init(st_no_suite_init);

static void __exit st_no_suite_exit(void)
{
}
module_exit(st_no_suite_exit);

MODULE_DESCRIPTION("chimney harness self-test: no KUnit suite");
MODULE_LICENSE("GPL");
