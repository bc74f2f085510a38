// SPDX-License-Identifier: GPL-2.0
/*
 * A then B, later B then A: lockdep reports the inversion from the order
 * it records, no second thread or real deadlock needed.
 */
#include <linux/module.h>
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(st_lock_a);
static DEFINE_SPINLOCK(st_lock_b);

static int __init st_lockdep_init(void)
{
	spin_lock(&st_lock_a);
	spin_lock(&st_lock_b);
	spin_unlock(&st_lock_b);
	spin_unlock(&st_lock_a);

	spin_lock(&st_lock_b);
	spin_lock(&st_lock_a);
	spin_unlock(&st_lock_a);
	spin_unlock(&st_lock_b);
	return 0;
}
module_init(st_lockdep_init);

static void __exit st_lockdep_exit(void)
{
}
module_exit(st_lockdep_exit);

MODULE_DESCRIPTION("chimney harness self-test: ABBA lock order");
MODULE_LICENSE("GPL");
