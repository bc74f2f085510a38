// SPDX-License-Identifier: GPL-2.0
/* An init without an exit: the module cannot be unloaded, rmmod fails. */
#include <linux/module.h>

static int __init st_no_exit_init(void)
{
	return 0;
}
module_init(st_no_exit_init);

MODULE_DESCRIPTION("chimney harness self-test: rmmod refused");
MODULE_LICENSE("GPL");
