// SPDX-License-Identifier: GPL-2.0
/* A use-after-free: KASAN must report it. */
#include <linux/module.h>
#include <linux/slab.h>

static int __init st_uaf_init(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("st_uaf: read %d\n", READ_ONCE(p[8]));
	return 0;
}
module_init(st_uaf_init);

static void __exit st_uaf_exit(void)
{
}
module_exit(st_uaf_exit);

MODULE_DESCRIPTION("chimney harness self-test: use-after-free");
MODULE_LICENSE("GPL");
