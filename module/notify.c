// SPDX-License-Identifier: GPL-2.0
/*
 * Device events drive the offload targets, the fake one and the socket
 * target alike, as a NIC's link and configuration do on Windows (spec
 * section e: UPLOAD_ALL and invalidation).
 *
 * What runs where: the notifier callbacks run under RTNL (the IPv6 address
 * chain even in atomic context), so they only record the event, with a
 * tracked reference on the device, and queue it. An ordered workqueue
 * then does the heavy part (uploading or invalidating up to millions of
 * connections, attach and detach) without RTNL, in the order the events
 * happened, so a namespace move (unregister, then register in the new
 * namespace) detaches before it re-attaches.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/glob.h>
#include <linux/inetdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/addrconf.h>

#include "compat.h"
#include "debugfs.h"
#include "host.h"
#include "device.h"
#include "notify.h"
#include "offload.h"
#include "sock_target.h"
#include "stack.h"
#include "target.h"

#define CHIMNEY_PATTERNS_MAX 256

static DEFINE_SPINLOCK(chimney_patterns_lock);
static char chimney_patterns[CHIMNEY_PATTERNS_MAX];
static unsigned int chimney_capacity = CHIMNEY_TARGET_DEFAULT_CAPACITY;
static struct workqueue_struct *chimney_notify_wq;

enum chimney_devev_kind {
	CHIMNEY_DEVEV_ATTACH,
	CHIMNEY_DEVEV_UP,
	CHIMNEY_DEVEV_DOWN,
	CHIMNEY_DEVEV_INVALIDATE,
	CHIMNEY_DEVEV_INVALIDATE_ADDR,
	CHIMNEY_DEVEV_RENAME,
	CHIMNEY_DEVEV_DETACH,
};

struct chimney_devev {
	struct work_struct work;
	struct net_device *dev;
	netdevice_tracker tracker;
	enum chimney_devev_kind kind;
	u16 family;
	union chimney_addr addr;
};

static void chimney_devev_queue(struct net_device *dev,
				enum chimney_devev_kind kind, u16 family,
				const union chimney_addr *addr, gfp_t gfp);

/* Does @name match one of the comma-separated glob patterns? */
bool chimney_notify_match(const char *name)
{
	char buf[CHIMNEY_PATTERNS_MAX], *s, *pat;
	bool match = false;

	spin_lock(&chimney_patterns_lock);
	strscpy(buf, chimney_patterns, sizeof(buf));
	spin_unlock(&chimney_patterns_lock);
	s = buf;
	while (!match && (pat = strsep(&s, ",")))
		match = *pat && glob_match(pat, name);
	return match;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_notify_match);

int chimney_notify_set_patterns(const char *patterns)
{
	size_t len = strcspn(patterns, "\n");

	if (len >= CHIMNEY_PATTERNS_MAX)
		return -ENAMETOOLONG;
	spin_lock(&chimney_patterns_lock);
	memcpy(chimney_patterns, patterns, len);
	chimney_patterns[len] = '\0';
	spin_unlock(&chimney_patterns_lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_notify_set_patterns);

unsigned int chimney_notify_capacity(void)
{
	return READ_ONCE(chimney_capacity);
}

/* Should the patterns give @dev an offload target? Never loopback. */
static bool chimney_notify_wants(const struct net_device *dev)
{
	return !(dev->flags & IFF_LOOPBACK) && chimney_notify_match(dev->name);
}

/*
 * Attach every existing device that matches the patterns now: what the
 * notifier's replay does at load, for a pattern changed at run time.
 * The namespace list is net_rwsem's, each device list RTNL's.
 */
void chimney_notify_rescan(void)
{
	struct net_device *dev;
	struct net *net;

	if (!READ_ONCE(chimney_notify_wq))
		return;
	rtnl_lock();
	down_read(&net_rwsem);
	for_each_net(net)
		for_each_netdev(net, dev)
			if (chimney_notify_wants(dev))
				chimney_devev_queue(dev, CHIMNEY_DEVEV_ATTACH, 0,
						    NULL, GFP_KERNEL);
	up_read(&net_rwsem);
	rtnl_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(chimney_notify_rescan);

static int chimney_param_set_devices(const char *val,
				     const struct kernel_param *kp)
{
	int err = chimney_notify_set_patterns(val);

	if (!err)
		chimney_notify_rescan();
	return err;
}

static int chimney_param_get_devices(char *buf, const struct kernel_param *kp)
{
	int n;

	spin_lock(&chimney_patterns_lock);
	n = sysfs_emit(buf, "%s\n", chimney_patterns);
	spin_unlock(&chimney_patterns_lock);
	return n;
}

static const struct kernel_param_ops chimney_devices_ops = {
	.set = chimney_param_set_devices,
	.get = chimney_param_get_devices,
};

module_param_cb(devices, &chimney_devices_ops, NULL, 0644);
MODULE_PARM_DESC(devices,
		 "comma-separated glob patterns of devices that get an offload target, e.g. dummy*,veth* (never loopback)");
module_param_named(capacity, chimney_capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "offload capacity of each attached device");

/* The device's link, to whichever target it carries. */
static void chimney_devev_link(struct chimney_device *cdev, bool up)
{
	if (cdev->target)
		chimney_target_set_link(cdev->target, up);
	else
		chimney_sock_target_set_link(cdev->sock, up);
}

/* Invalidation (@addr removed, or the whole device if NULL), likewise. */
static void chimney_devev_invalidate(struct chimney_device *cdev, u16 family,
				     const union chimney_addr *addr)
{
	if (cdev->target)
		chimney_target_invalidate(cdev->target, family, addr);
	else
		chimney_sock_target_invalidate(cdev->sock, family, addr);
}

static void chimney_devev_work(struct work_struct *work)
{
	struct chimney_devev *ev = container_of(work, struct chimney_devev,
						work);
	struct net_device *dev = ev->dev;
	struct chimney_device *cdev;

	if (ev->kind == CHIMNEY_DEVEV_ATTACH) {
		/* Re-checked here: the device may be gone again already. */
		if (dev->reg_state == NETREG_REGISTERED &&
		    chimney_notify_wants(dev))
			chimney_device_attach(dev, chimney_notify_capacity());
		goto out;
	}
	if (ev->kind == CHIMNEY_DEVEV_DETACH) {
		/*
		 * chimney's own layers first (the target is quiesced so its
		 * delayed completions do not hold the device), then whatever
		 * other modules registered: every connection is uploaded and
		 * every layer unbound, and the device reference dropped.
		 */
		chimney_device_detach(dev);
		chimney_stack_remove(dev);
		goto out;
	}

	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	if (!cdev)
		goto unlock;
	switch (ev->kind) {
	case CHIMNEY_DEVEV_UP:
		chimney_devev_link(cdev, true);
		break;
	case CHIMNEY_DEVEV_DOWN:
		/*
		 * The target's business, as on a NIC: it raises UPLOAD_ALL and
		 * refuses offloads until the link is back. Nothing waits here:
		 * an initiate the target completes late must not hold up the
		 * events queued behind this one.
		 */
		chimney_devev_link(cdev, false);
		break;
	case CHIMNEY_DEVEV_INVALIDATE:
		chimney_devev_invalidate(cdev, 0, NULL);
		break;
	case CHIMNEY_DEVEV_INVALIDATE_ADDR:
		chimney_devev_invalidate(cdev, ev->family, &ev->addr);
		break;
	case CHIMNEY_DEVEV_RENAME:
		chimney_debugfs_device_rename(cdev);
		break;
	default:
		break;
	}
unlock:
	mutex_unlock(&chimney_devices_lock);
out:
	netdev_put(dev, &ev->tracker);
	kfree(ev);
}

static void chimney_devev_queue(struct net_device *dev,
				enum chimney_devev_kind kind, u16 family,
				const union chimney_addr *addr, gfp_t gfp)
{
	struct workqueue_struct *wq;
	struct chimney_devev *ev;

	/* Never after chimney_notify_exit() took the workqueue away. */
	wq = READ_ONCE(chimney_notify_wq);
	if (!wq)
		return;
	ev = kzalloc(sizeof(*ev), gfp);
	/* The allocator already warned: the device event is lost. */
	if (!ev)
		return;
	INIT_WORK(&ev->work, chimney_devev_work);
	ev->dev = dev;
	ev->kind = kind;
	ev->family = family;
	if (addr)
		ev->addr = *addr;
	netdev_hold(dev, &ev->tracker, gfp);
	queue_work(wq, &ev->work);
}

VISIBLE_IF_KUNIT int chimney_netdev_event(struct notifier_block *nb,
					  unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	/*
	 * chimney never attaches loopback, but another module's layers may
	 * sit on it: its removal (a namespace going away) must unbind them.
	 */
	if ((dev->flags & IFF_LOOPBACK) && event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	switch (event) {
	case NETDEV_REGISTER:
		if (chimney_notify_wants(dev))
			chimney_devev_queue(dev, CHIMNEY_DEVEV_ATTACH, 0, NULL,
					    GFP_KERNEL);
		break;
	case NETDEV_UP:
		chimney_devev_queue(dev, CHIMNEY_DEVEV_UP, 0, NULL, GFP_KERNEL);
		break;
	case NETDEV_GOING_DOWN:
		chimney_devev_queue(dev, CHIMNEY_DEVEV_DOWN, 0, NULL,
				    GFP_KERNEL);
		break;
	case NETDEV_CHANGEMTU:
	case NETDEV_CHANGEADDR:
		chimney_devev_queue(dev, CHIMNEY_DEVEV_INVALIDATE, 0, NULL,
				    GFP_KERNEL);
		break;
	case NETDEV_CHANGENAME:
		chimney_devev_queue(dev, CHIMNEY_DEVEV_RENAME, 0, NULL,
				    GFP_KERNEL);
		break;
	case NETDEV_UNREGISTER:
		/*
		 * netdev_wait_allrefs_any() rebroadcasts UNREGISTER every
		 * second while references remain, with the device already
		 * NETREG_UNREGISTERED: the first one was queued, and queueing
		 * again would only take one more reference.
		 */
		if (dev->reg_state == NETREG_UNREGISTERED)
			break;
		chimney_devev_queue(dev, CHIMNEY_DEVEV_DETACH, 0, NULL,
				    GFP_KERNEL);
		break;
	}
	return NOTIFY_DONE;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_netdev_event);

VISIBLE_IF_KUNIT int chimney_inetaddr_event(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct in_ifaddr *ifa = ptr;
	union chimney_addr addr = { .ip = ifa->ifa_local };

	if (event == NETDEV_DOWN)
		chimney_devev_queue(ifa->ifa_dev->dev,
				    CHIMNEY_DEVEV_INVALIDATE_ADDR, AF_INET,
				    &addr, GFP_KERNEL);
	return NOTIFY_DONE;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_inetaddr_event);

/* The IPv6 address chain is atomic: allocate accordingly. */
VISIBLE_IF_KUNIT int chimney_inet6addr_event(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct inet6_ifaddr *ifa = ptr;
	union chimney_addr addr = { .in6 = ifa->addr };

	if (event == NETDEV_DOWN)
		chimney_devev_queue(ifa->idev->dev,
				    CHIMNEY_DEVEV_INVALIDATE_ADDR, AF_INET6,
				    &addr, GFP_ATOMIC);
	return NOTIFY_DONE;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_inet6addr_event);

static struct notifier_block chimney_netdev_nb = {
	.notifier_call = chimney_netdev_event,
};

static struct notifier_block chimney_inetaddr_nb = {
	.notifier_call = chimney_inetaddr_event,
};

static struct notifier_block chimney_inet6addr_nb = {
	.notifier_call = chimney_inet6addr_event,
};

/* Wait until every device event seen so far has been acted on. */
void chimney_notify_flush(void)
{
	struct workqueue_struct *wq = READ_ONCE(chimney_notify_wq);

	if (wq)
		flush_workqueue(wq);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_notify_flush);

int chimney_notify_init(void)
{
	int err;

	if (!chimney_capacity || chimney_capacity > CHIMNEY_TARGET_MAX_CAPACITY) {
		pr_err("capacity must be 1..%u\n", CHIMNEY_TARGET_MAX_CAPACITY);
		return -EINVAL;
	}
	chimney_notify_wq = alloc_ordered_workqueue("chimney_notify", 0);
	if (!chimney_notify_wq)
		return -ENOMEM;
	err = register_inetaddr_notifier(&chimney_inetaddr_nb);
	if (err)
		goto err_inet;
	err = register_inet6addr_notifier(&chimney_inet6addr_nb);
	if (err)
		goto err_inet6;
	/* Replays NETDEV_REGISTER/UP for devices that already exist. */
	err = register_netdevice_notifier(&chimney_netdev_nb);
	if (err)
		goto err_netdev;
	return 0;

err_netdev:
	unregister_inet6addr_notifier(&chimney_inet6addr_nb);
err_inet6:
	unregister_inetaddr_notifier(&chimney_inetaddr_nb);
err_inet:
	destroy_workqueue(chimney_notify_wq);
	return err;
}

void chimney_notify_exit(void)
{
	struct workqueue_struct *wq;

	/* Replays DOWN/UNREGISTER: every attached device gets detached. */
	unregister_netdevice_notifier(&chimney_netdev_nb);
	unregister_inet6addr_notifier(&chimney_inet6addr_nb);
	unregister_inetaddr_notifier(&chimney_inetaddr_nb);
	/*
	 * The devices parameter's sysfs file outlives module_exit (it goes in
	 * free_module()), and its writes run under the parameter lock: once
	 * the pointer is cleared under that lock, no write can queue again.
	 */
	kernel_param_lock(THIS_MODULE);
	wq = chimney_notify_wq;
	WRITE_ONCE(chimney_notify_wq, NULL);
	kernel_param_unlock(THIS_MODULE);
	destroy_workqueue(wq);
}
