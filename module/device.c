// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching the emulation to a net_device: a stack made of the host layer
 * on top and the fake target at the bottom (intermediate layers from other
 * modules bind in between), and its teardown, which uploads every
 * connection through the stack before the layers go away.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/slab.h>

#include "compat.h"
#include "debugfs.h"
#include "device.h"
#include "host.h"
#include "offload.h"
#include "sock_target.h"
#include "stack.h"
#include "target.h"

/* DEFINE_MUTEX() spelled out: checkpatch misreads it as the first statement. */
struct mutex chimney_devices_lock = __MUTEX_INITIALIZER(chimney_devices_lock);
EXPORT_SYMBOL_IF_KUNIT(chimney_devices_lock);
LIST_HEAD(chimney_devices);
EXPORT_SYMBOL_IF_KUNIT(chimney_devices);

struct chimney_device *chimney_device_find(const struct net_device *dev)
{
	struct chimney_device *cdev;

	lockdep_assert_held(&chimney_devices_lock);
	list_for_each_entry(cdev, &chimney_devices, node)
		if (cdev->dev == dev)
			return cdev;
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_find);

struct chimney_device *chimney_device_find_name(const struct net *net,
						const char *name)
{
	struct chimney_device *cdev;

	lockdep_assert_held(&chimney_devices_lock);
	list_for_each_entry(cdev, &chimney_devices, node)
		if ((!net || net_eq(dev_net(cdev->dev), net)) &&
		    !strcmp(cdev->dev->name, name))
			return cdev;
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_find_name);

/* The host, and the fake target (capacity) or the socket target (0). */
static int __chimney_device_attach(struct net_device *dev,
				   unsigned int capacity)
{
	struct chimney_device *cdev;
	int err;

	if (dev->flags & IFF_LOOPBACK)
		return -EINVAL;
	if (capacity > CHIMNEY_TARGET_MAX_CAPACITY)
		return -EINVAL;
	mutex_lock(&chimney_devices_lock);
	if (chimney_device_find(dev)) {
		err = -EEXIST;
		goto unlock;
	}
	cdev = kzalloc(sizeof(*cdev), GFP_KERNEL);
	if (!cdev) {
		err = -ENOMEM;
		goto unlock;
	}
	cdev->dev = dev;
	cdev->host = chimney_host_create(dev);
	if (IS_ERR(cdev->host)) {
		err = PTR_ERR(cdev->host);
		goto err_free;
	}
	if (!capacity) {
		cdev->sock = chimney_sock_target_create(dev);
		if (IS_ERR(cdev->sock)) {
			err = PTR_ERR(cdev->sock);
			goto err_host;
		}
		goto attached;
	}
	cdev->target = chimney_target_create(dev, capacity);
	if (IS_ERR(cdev->target)) {
		err = PTR_ERR(cdev->target);
		goto err_host;
	}
	/* The host reads the capacity now and again at every RESUME. */
	chimney_host_set_capacity_source(cdev->host, chimney_target_read_capacity,
					 cdev->target);
	/* The target refuses offloads while the link is down (UP/DOWN follow). */
	chimney_target_init_link(cdev->target, netif_running(dev));
attached:
	netdev_hold(dev, &cdev->dev_tracker, GFP_KERNEL);
	list_add_tail(&cdev->node, &chimney_devices);
	chimney_debugfs_device_add(cdev);
	mutex_unlock(&chimney_devices_lock);
	if (capacity)
		netdev_info(dev, "chimney offload target attached (capacity %u)\n",
			    capacity);
	else
		netdev_info(dev, "chimney socket target attached\n");
	return 0;

err_host:
	chimney_host_destroy(cdev->host);
err_free:
	kfree(cdev);
unlock:
	mutex_unlock(&chimney_devices_lock);
	return err;
}

/**
 * chimney_device_attach() - emulate an offload NIC on @dev
 * @dev: the device; never loopback
 * @capacity: the target's TcpConnectionOffloadCapacity
 *
 * Return: 0, -EINVAL for loopback or a bad capacity, -EEXIST if attached.
 */
int chimney_device_attach(struct net_device *dev, unsigned int capacity)
{
	if (!capacity)
		return -EINVAL;
	return __chimney_device_attach(dev, capacity);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_attach);

/**
 * chimney_device_attach_sock() - the host and the socket target on @dev
 * @dev: the device; never loopback
 *
 * Live TCP sockets whose route leaves by @dev are offloaded on it (ulp.c).
 *
 * Return: 0, -EINVAL for loopback, -EEXIST if attached.
 */
int chimney_device_attach_sock(struct net_device *dev)
{
	return __chimney_device_attach(dev, 0);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_attach_sock);

/*
 * NDIS_STATUS_UPLOAD_ALL: the target asks the host to upload everything.
 * The host queues the terminates; they run asynchronously, and it offloads
 * nothing new until the target's OFFLOAD_RESUME.
 */
int chimney_device_upload_all(struct chimney_device *cdev)
{
	if (!cdev->target)
		return -EOPNOTSUPP;
	return chimney_target_status(cdev->target, CHIMNEY_STATUS_UPLOAD_ALL);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_upload_all);

/*
 * Off chimney_devices and out of debugfs, under chimney_devices_lock: from
 * now on no command or device event can reach @cdev, so the rest of the
 * teardown runs without the lock and a slow upload holds nobody up.
 */
static void chimney_device_unlink(struct chimney_device *cdev)
{
	lockdep_assert_held(&chimney_devices_lock);
	chimney_debugfs_device_remove(cdev);
	list_del(&cdev->node);
}

static void chimney_device_teardown(struct chimney_device *cdev)
{
	/*
	 * Delayed completions run now and no failure is injected, so the
	 * upload of everything below finishes at once; unregistering the
	 * host uploads every connection of the stack, through whatever
	 * layers other modules bound in between.
	 */
	if (cdev->target)
		chimney_target_quiesce(cdev->target);
	chimney_host_destroy(cdev->host);
	if (cdev->target)
		chimney_target_destroy(cdev->target);
	else
		chimney_sock_target_destroy(cdev->sock);
	netdev_put(cdev->dev, &cdev->dev_tracker);
	kfree(cdev);
}

/**
 * chimney_device_detach() - upload everything on @dev and remove the stack
 * @dev: an attached device
 *
 * Layers other modules registered on @dev stay bound. Process context.
 *
 * Return: 0, or -ENODEV if @dev is not attached.
 */
int chimney_device_detach(struct net_device *dev)
{
	struct chimney_device *cdev;

	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	if (cdev)
		chimney_device_unlink(cdev);
	mutex_unlock(&chimney_devices_lock);
	if (!cdev)
		return -ENODEV;
	netdev_info(dev, "chimney offload target detached\n");
	chimney_device_teardown(cdev);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_detach);

void chimney_devices_exit(void)
{
	struct chimney_device *cdev, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&chimney_devices_lock);
	list_for_each_entry_safe(cdev, tmp, &chimney_devices, node) {
		chimney_device_unlink(cdev);
		list_add_tail(&cdev->node, &gone);
	}
	mutex_unlock(&chimney_devices_lock);
	list_for_each_entry_safe(cdev, tmp, &gone, node)
		chimney_device_teardown(cdev);
}
