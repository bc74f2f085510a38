// SPDX-License-Identifier: GPL-2.0
/*
 * Device events with real net devices: attach by pattern, up and down,
 * MTU and hardware-address changes, rename, unregister with live
 * connections, and local address removal (IPv4 and IPv6); a socket
 * target's link, and which of its sockets an address removal concerns
 * (the sockets themselves are scripts/vmtests/55-sock-link.sh's).
 */

#include <kunit/test.h>
#include <linux/etherdevice.h>
#include <linux/inetdevice.h>
#include <linux/rtnetlink.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "device.h"
#include "host.h"
#include "notify.h"
#include "offload.h"
#include "sock_target.h"
#include "stack.h"
#include "target.h"
#include "util.h"

static void ct_patterns_reset(void *unused)
{
	chimney_notify_set_patterns("");
}

static void ct_patterns(struct kunit *test, const char *p)
{
	KUNIT_ASSERT_EQ(test, chimney_notify_set_patterns(p), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_patterns_reset,
							NULL), 0);
}

static struct chimney_device *ct_find(struct net_device *dev)
{
	struct chimney_device *cdev;

	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	mutex_unlock(&chimney_devices_lock);
	return cdev;
}

/* Let every queued reaction (notifier work, host uploads) finish. */
static void ct_settle(struct chimney_device *cdev)
{
	chimney_notify_flush();
	if (cdev)
		chimney_host_flush(cdev->host);
	chimney_flush();
}


static int ct_nfy_offload(struct chimney_device *cdev, u32 saddr, u16 port)
{
	struct chimney_tuple t;
	u64 id;

	ct_tuple4(&t, saddr, port, 0xc0a80002, 80);
	return chimney_host_offload(cdev->host, &t, &id);
}

static unsigned int ct_live(struct chimney_device *cdev)
{
	return READ_ONCE(cdev->target->layer.stack->nr_conns);
}

static void chimney_notify_attach_on_register(struct kunit *test)
{
	struct net_device *yes, *no;

	ct_patterns(test, "ctnfyx*,ctother9*");
	yes = ct_netdev(test, "ctnfyx%d");
	no = ct_netdev(test, "ctother%d");
	ct_settle(NULL);
	KUNIT_EXPECT_NOT_NULL(test, ct_find(yes));
	KUNIT_EXPECT_NULL(test, ct_find(no));
	KUNIT_EXPECT_TRUE(test, chimney_notify_match("ctnfyx7"));
	KUNIT_EXPECT_FALSE(test, chimney_notify_match("ctnfy"));
	/* Never loopback, whatever the patterns say. */
	KUNIT_EXPECT_EQ(test, chimney_device_attach(init_net.loopback_dev, 8),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(yes), 0);
}

/* Devices that exist before the pattern (or the module) are picked up. */
static void chimney_notify_preexisting(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctpre%d");

	ct_settle(NULL);
	KUNIT_EXPECT_NULL(test, ct_find(dev));
	ct_patterns(test, "ctpre*");
	chimney_notify_rescan();
	ct_settle(NULL);
	KUNIT_EXPECT_NOT_NULL(test, ct_find(dev));
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static void chimney_notify_down_up(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100 + i), 0);
	rtnl_lock();
	dev_close(dev);
	rtnl_unlock();
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->upload_all), 1);
	KUNIT_EXPECT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 200), -ENETDOWN);
	rtnl_lock();
	KUNIT_EXPECT_EQ(test, dev_open(dev, NULL), 0);
	rtnl_unlock();
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 200), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static void chimney_notify_mtu_invalidates(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	int i, err;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100 + i), 0);
	rtnl_lock();
	err = dev_set_mtu(dev, 1400);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 0U);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, reasons[CHIMNEY_UPLOAD_INVALID_STATE]), 3);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static void chimney_notify_hwaddr_invalidates(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	struct sockaddr sa = { .sa_family = dev->type };
	int err;

	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100), 0);
	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 101), 0);
	eth_random_addr((u8 *)sa.sa_data);
	rtnl_lock();
	err = dev_set_mac_address(dev, &sa, NULL);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 0U);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, reasons[CHIMNEY_UPLOAD_INVALID_STATE]), 2);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static void chimney_notify_rename(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	char old[IFNAMSIZ];
	int err;

	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100), 0);
	/*
	 * dev_change_name() is not exported: rename the way it does, as far
	 * as chimney can tell, and put the name back before unregistering
	 * (the shell test renames for real with ip link).
	 */
	strscpy(old, dev->name, sizeof(old));
	rtnl_lock();
	strscpy(dev->name, "ctrenamed0", IFNAMSIZ);
	err = notifier_to_errno(call_netdevice_notifiers(NETDEV_CHANGENAME, dev));
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	ct_settle(cdev);
	mutex_lock(&chimney_devices_lock);
	KUNIT_EXPECT_PTR_EQ(test, chimney_device_find_name(&init_net, "ctrenamed0"),
			    cdev);
	mutex_unlock(&chimney_devices_lock);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cdev->debugfs);
	KUNIT_EXPECT_STREQ(test, cdev->debugfs->d_name.name, "ctrenamed0");
	/* Renaming is not a reason to upload. */
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 1U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
	rtnl_lock();
	strscpy(dev->name, old, IFNAMSIZ);
	rtnl_unlock();
}

/* Unregistering with live connections: all torn down, refs dropped. */
static void chimney_notify_unregister(struct kunit *test)
{
	struct net_device *dev = ct_netdev_unmanaged(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	unsigned int before = chimney_table_count();
	int i;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100 + i), 0);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + 5);
	/* Returns only once every reference on the device is gone. */
	unregister_netdev(dev);
	ct_settle(NULL);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
}

/*
 * A move to another namespace, as chimney's notifier sees it: unregister
 * in the old namespace, then register in the new one (what
 * dev_change_net_namespace() sends). KUnit cannot create a namespace; the
 * shell test moves a veth end for real with ip link set netns.
 */
static void chimney_notify_netns_move(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctns%d");
	struct netdev_notifier_info info = { .dev = dev };
	unsigned int before = chimney_table_count();
	struct chimney_device *cdev;
	int i;

	ct_patterns(test, "ctns*");
	chimney_notify_rescan();
	ct_settle(NULL);
	cdev = ct_find(dev);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100 + i), 0);

	chimney_netdev_event(NULL, NETDEV_UNREGISTER, &info);
	chimney_netdev_event(NULL, NETDEV_REGISTER, &info);
	ct_settle(NULL);
	/* Torn down, references dropped, and attached afresh: empty. */
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
	cdev = ct_find(dev);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 0U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static void chimney_notify_inet_addr(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	struct in_device *in_dev = kunit_kzalloc(test, sizeof(*in_dev), GFP_KERNEL);
	struct in_ifaddr ifa = { .ifa_local = htonl(0x0a000001) };

	KUNIT_ASSERT_NOT_NULL(test, in_dev);
	in_dev->dev = dev;
	ifa.ifa_dev = in_dev;

	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100), 0);
	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 101), 0);
	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000009, 100), 0);
	/* An address going up, or another device's, touches nothing. */
	chimney_inetaddr_event(NULL, NETDEV_UP, &ifa);
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 3U);
	chimney_inetaddr_event(NULL, NETDEV_DOWN, &ifa);
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 1U);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, reasons[CHIMNEY_UPLOAD_INVALID_STATE]), 2);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static void chimney_notify_inet6_addr(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	struct inet6_dev *idev = kunit_kzalloc(test, sizeof(*idev), GFP_KERNEL);
	struct inet6_ifaddr *ifa = kunit_kzalloc(test, sizeof(*ifa), GFP_KERNEL);
	struct chimney_tuple t = { .family = AF_INET6 };
	u64 id;

	KUNIT_ASSERT_NOT_NULL(test, idev);
	KUNIT_ASSERT_NOT_NULL(test, ifa);
	idev->dev = dev;
	ifa->idev = idev;

	t.saddr.in6.s6_addr[0] = 0x20;
	t.saddr.in6.s6_addr[15] = 1;
	t.daddr.in6.s6_addr[0] = 0x20;
	t.daddr.in6.s6_addr[15] = 2;
	t.sport = htons(100);
	t.dport = htons(80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	t.saddr.in6.s6_addr[15] = 3;
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	/* An IPv4 connection is never hit by an IPv6 address. */
	KUNIT_ASSERT_EQ(test, ct_nfy_offload(cdev, 0x0a000001, 100), 0);

	ifa->addr = t.saddr.in6;
	chimney_inet6addr_event(NULL, NETDEV_DOWN, ifa);
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, ct_live(cdev), 2U);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, reasons[CHIMNEY_UPLOAD_INVALID_STATE]), 1);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

/* A socket device's link: UPLOAD_ALL down, OFFLOAD_RESUME up, as a NIC's. */
static void chimney_notify_sock_link(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctnfy%d");
	struct chimney_device *cdev;
	int err;

	KUNIT_ASSERT_EQ(test, chimney_device_attach_sock(dev), 0);
	cdev = ct_find(dev);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	rtnl_lock();
	err = dev_set_mtu(dev, 1400);
	dev_close(dev);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->upload_all), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->blocked), -ENETDOWN);
	/* No socket offloaded: nothing to invalidate. */
	KUNIT_EXPECT_EQ(test, cdev->sock->invalidations, 0ULL);
	rtnl_lock();
	KUNIT_EXPECT_EQ(test, dev_open(dev, NULL), 0);
	rtnl_unlock();
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->resume), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->blocked), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);

	/* Attached while down: nothing to upload, RESUME once up. */
	rtnl_lock();
	dev_close(dev);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, chimney_device_attach_sock(dev), 0);
	cdev = ct_find(dev);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	ct_settle(cdev);
	rtnl_lock();
	KUNIT_EXPECT_EQ(test, dev_open(dev, NULL), 0);
	rtnl_unlock();
	ct_settle(cdev);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->upload_all), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->resume), 1);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

/* Which socket-backed connections a local address removal concerns. */
static void chimney_notify_sock_uses_addr(struct kunit *test)
{
	union chimney_addr a4 = { .ip = htonl(0x0a000001) };
	union chimney_addr other = { .ip = htonl(0x0a000009) };
	union chimney_addr a6 = { }, mapped = { };
	struct chimney_tuple t4, t6 = { .family = AF_INET6 };

	ct_tuple4(&t4, 0x0a000001, 100, 0x0a000002, 80);
	t6.saddr.in6.s6_addr[0] = 0x20;
	t6.saddr.in6.s6_addr[15] = 1;
	a6.in6 = t6.saddr.in6;
	KUNIT_EXPECT_TRUE(test, chimney_sock_uses_addr(&t4, AF_INET, &a4));
	KUNIT_EXPECT_FALSE(test, chimney_sock_uses_addr(&t4, AF_INET, &other));
	KUNIT_EXPECT_TRUE(test, chimney_sock_uses_addr(&t6, AF_INET6, &a6));
	/* A device-wide change concerns every one. */
	KUNIT_EXPECT_TRUE(test, chimney_sock_uses_addr(&t4, AF_INET, NULL));
	KUNIT_EXPECT_TRUE(test, chimney_sock_uses_addr(&t6, AF_INET6, NULL));
	/* The other family never, whatever the bytes say. */
	KUNIT_EXPECT_FALSE(test, chimney_sock_uses_addr(&t4, AF_INET6, &a6));
	t6.saddr.in6.s6_addr32[0] = a4.ip;
	KUNIT_EXPECT_FALSE(test, chimney_sock_uses_addr(&t6, AF_INET, &a4));
	/*
	 * A v4-mapped socket's tuple is IPv4 (chimney_sock_tuple()): its
	 * IPv4 address going concerns it, an IPv6 ::ffff:a.b.c.d cannot.
	 */
	ipv6_addr_set_v4mapped(a4.ip, &mapped.in6);
	KUNIT_EXPECT_FALSE(test, chimney_sock_uses_addr(&t4, AF_INET6, &mapped));
}

static struct kunit_case chimney_notify_cases[] = {
	KUNIT_CASE(chimney_notify_attach_on_register),
	KUNIT_CASE(chimney_notify_preexisting),
	KUNIT_CASE(chimney_notify_down_up),
	KUNIT_CASE(chimney_notify_mtu_invalidates),
	KUNIT_CASE(chimney_notify_hwaddr_invalidates),
	KUNIT_CASE(chimney_notify_rename),
	KUNIT_CASE(chimney_notify_unregister),
	KUNIT_CASE(chimney_notify_netns_move),
	KUNIT_CASE(chimney_notify_inet_addr),
	KUNIT_CASE(chimney_notify_inet6_addr),
	KUNIT_CASE(chimney_notify_sock_link),
	KUNIT_CASE(chimney_notify_sock_uses_addr),
	{}
};

static struct kunit_suite chimney_notify_suite = {
	.name = "chimney_notify",
	.test_cases = chimney_notify_cases,
};

kunit_test_suite(chimney_notify_suite);
