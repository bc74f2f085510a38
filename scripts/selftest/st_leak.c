// SPDX-License-Identifier: GPL-2.0
/* A kmalloc whose only pointer is dropped: kmemleak must report it. */
#include <linux/module.h>
#include <linux/slab.h>

static int __init st_leak_init(void)
{
	void *p = kmalloc(128, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 128);
	/* Hide the value from the optimiser, then forget it. */
	OPTIMIZER_HIDE_VAR(p);
	p = NULL;
	return 0;
}
module_init(st_leak_init);

static void __exit st_leak_exit(void)
{
}
module_exit(st_leak_exit);

MODULE_DESCRIPTION("chimney harness self-test: memory leak");
MODULE_LICENSE("GPL");
