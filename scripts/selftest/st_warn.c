// SPDX-License-Identifier: GPL-2.0
/* WARN_ON at init: with panic_on_warn the VM dies, the harness must say so. */
#include <linux/module.h>
#include <linux/bug.h>

static int __init st_warn_init(void)
{
	WARN_ON(1);
	return 0;
}
module_init(st_warn_init);

static void __exit st_warn_exit(void)
{
}
module_exit(st_warn_exit);

MODULE_DESCRIPTION("chimney harness self-test: WARN_ON");
MODULE_LICENSE("GPL");
