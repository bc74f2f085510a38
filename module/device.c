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

/**
 * chimney_device_attach() - emulate an offload NIC on @dev
 * @dev: the device; never loopback
 * @capacity: the target's TcpConnectionOffloadCapacity
 *
 * Return: 0, -EINVAL for loopback or a bad capacity, -EEXIST if attached.
 */
int chimney_device_attach(struct net_device *dev, unsigned int capacity)
{
	struct chimney_device *cdev;
	int err;

	if (dev->flags & IFF_LOOPBACK)
		return -EINVAL;
	if (!capacity || capacity > CHIMNEY_TARGET_MAX_CAPACITY)
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
	cdev->target = chimney_target_create(dev, capacity);
	if (IS_ERR(cdev->target)) {
		err = PTR_ERR(cdev->target);
		goto err_host;
	}
	/* Offloads are allowed while the link is up (NETDEV_UP/DOWN follow). */
	if (!netif_running(dev))
		chimney_stack_set_closing(cdev->target->layer.stack, true);
	netdev_hold(dev, &cdev->dev_tracker, GFP_KERNEL);
	list_add_tail(&cdev->node, &chimney_devices);
	chimney_debugfs_device_add(cdev);
	mutex_unlock(&chimney_devices_lock);
	netdev_info(dev, "chimney offload target attached (capacity %u)\n",
		    capacity);
	return 0;

err_host:
	chimney_host_destroy(cdev->host);
err_free:
	kfree(cdev);
unlock:
	mutex_unlock(&chimney_devices_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_attach);

/*
 * NDIS_STATUS_UPLOAD_ALL: the target asks the host to upload everything.
 * The host queues the terminates; they run asynchronously.
 */
int chimney_device_upload_all(struct chimney_device *cdev)
{
	chimney_indicate_status(&cdev->target->layer, CHIMNEY_STATUS_UPLOAD_ALL);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_upload_all);

static void chimney_device_teardown(struct chimney_device *cdev)
{
	struct chimney_stack *stack = cdev->target->layer.stack;

	chimney_debugfs_device_remove(cdev);
	list_del(&cdev->node);
	/*
	 * The device is going: the framework uploads everything itself rather
	 * than asking the host (UPLOAD_ALL), which could decline nothing but
	 * would double the work for a million connections.
	 */
	chimney_target_quiesce(cdev->target);
	chimney_stack_drain(stack);
	chimney_host_flush(cdev->host);
	chimney_host_destroy(cdev->host);
	chimney_target_destroy(cdev->target);
	netdev_put(cdev->dev, &cdev->dev_tracker);
	kfree(cdev);
}

/**
 * chimney_device_detach() - upload everything on @dev and remove the stack
 * @dev: an attached device
 *
 * Return: 0, or -ENODEV if @dev is not attached.
 */
int chimney_device_detach(struct net_device *dev)
{
	struct chimney_device *cdev;

	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	if (cdev) {
		netdev_info(dev, "chimney offload target detached\n");
		chimney_device_teardown(cdev);
	}
	mutex_unlock(&chimney_devices_lock);
	return cdev ? 0 : -ENODEV;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_device_detach);

void chimney_devices_exit(void)
{
	struct chimney_device *cdev, *tmp;

	mutex_lock(&chimney_devices_lock);
	list_for_each_entry_safe(cdev, tmp, &chimney_devices, node)
		chimney_device_teardown(cdev);
	mutex_unlock(&chimney_devices_lock);
}
