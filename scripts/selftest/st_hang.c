// SPDX-License-Identifier: GPL-2.0
/* An init that never returns: only the harness timeout ends the run. */
#include <linux/module.h>
#include <linux/delay.h>

static int __init st_hang_init(void)
{
	for (;;)
		msleep(1000);
	return 0;
}
module_init(st_hang_init);

MODULE_DESCRIPTION("chimney harness self-test: init hangs");
MODULE_LICENSE("GPL");
