// SPDX-License-Identifier: GPL-2.0
/* rcu_dereference() outside rcu_read_lock(): PROVE_RCU must complain. */
#include <linux/module.h>
#include <linux/rcupdate.h>

static int st_rcu_value = 42;
static int __rcu *st_rcu_ptr = (int __rcu *)&st_rcu_value;

static int __init st_rcu_init(void)
{
	int *p = rcu_dereference(st_rcu_ptr);

	pr_info("st_rcu: value %d\n", *p);
	return 0;
}
module_init(st_rcu_init);

static void __exit st_rcu_exit(void)
{
}
module_exit(st_rcu_exit);

MODULE_DESCRIPTION("chimney harness self-test: suspicious RCU usage");
MODULE_LICENSE("GPL");
