/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_DEVICE_H
#define _CHIMNEY_DEVICE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>

struct chimney_host;
struct chimney_sock_target;
struct chimney_target;
struct dentry;

/*
 * A net_device chimney emulates an offload NIC on: the host, and the fake
 * target or (attached target=sock) the socket target.
 */
struct chimney_device {
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	struct list_head node;		/* chimney_devices */
	struct chimney_host *host;
	struct chimney_target *target;	/* NULL with the socket target */
	struct chimney_sock_target *sock;
	struct dentry *debugfs;
	void *debugfs_knobs;
};

extern struct mutex chimney_devices_lock;
extern struct list_head chimney_devices;

int chimney_device_attach(struct net_device *dev, unsigned int capacity);
int chimney_device_attach_sock(struct net_device *dev);
int chimney_device_detach(struct net_device *dev);
struct chimney_device *chimney_device_find(const struct net_device *dev);
struct chimney_device *chimney_device_find_name(const struct net *net,
						const char *name);
int chimney_device_upload_all(struct chimney_device *cdev);
void chimney_devices_exit(void);

#endif
