// SPDX-License-Identifier: GPL-2.0
/* An init that fails: insmod returns an error the harness must record. */
#include <linux/module.h>

static int __init st_init_fail_init(void)
{
	return -ENODEV;
}
module_init(st_init_fail_init);

MODULE_DESCRIPTION("chimney harness self-test: init fails");
MODULE_LICENSE("GPL");
