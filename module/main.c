// SPDX-License-Identifier: GPL-2.0
/*
 * chimney: emulation of the Windows NDIS TCP chimney offload event path.
 * Module entry: brings the parts up in dependency order and tears them
 * down in exactly the reverse order.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/utsname.h>
#include <generated/utsrelease.h>

#include "debugfs.h"
#include "device.h"
#include "notify.h"
#include "offload.h"
#include "sock_target.h"
#include "stack.h"
#include "target.h"
#include "ulp.h"
#include "version.h"

static int __init chimney_init(void)
{
	int err;

	err = chimney_table_init();
	if (err)
		goto err_table;
	err = chimney_target_init();
	if (err)
		goto err_target;
	err = chimney_sock_target_init();
	if (err)
		goto err_sock_target;
	err = chimney_offload_init();
	if (err)
		goto err_offload;
	err = chimney_debugfs_init();
	if (err)
		goto err_debugfs;
	err = chimney_notify_init();
	if (err)
		goto err_notify;
	err = chimney_ulp_init();
	if (err)
		goto err_ulp;

	pr_info("version %s loaded (built for %s)\n", CHIMNEY_VERSION,
		UTS_RELEASE);
	return 0;

err_ulp:
	/* As chimney_exit(): the notifiers may have attached devices. */
	chimney_notify_exit();
	chimney_devices_exit();
	chimney_stack_exit();
	rcu_barrier();
	rcu_barrier();
err_notify:
	chimney_debugfs_exit();
err_debugfs:
	chimney_offload_exit();
err_offload:
	chimney_sock_target_exit();
err_sock_target:
	chimney_target_exit();
err_target:
	chimney_table_exit();
err_table:
	return err;
}

static void __exit chimney_exit(void)
{
	chimney_ulp_exit();
	chimney_notify_exit();
	chimney_devices_exit();
	chimney_debugfs_exit();
	chimney_offload_exit();
	chimney_sock_target_exit();
	chimney_target_exit();
	chimney_stack_exit();
	/*
	 * The RCU frees of connections run before their cache goes, and the
	 * stacks' after them: a connection's free may drop the last
	 * reference on its stack, whose free is one more grace period away.
	 */
	rcu_barrier();
	rcu_barrier();
	chimney_table_exit();
	pr_info("unloaded\n");
}

module_init(chimney_init);
module_exit(chimney_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("chimney developers");
MODULE_DESCRIPTION("Emulation of the NDIS TCP chimney offload event path");
MODULE_VERSION(CHIMNEY_VERSION);
