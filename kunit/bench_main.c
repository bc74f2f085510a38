// SPDX-License-Identifier: GPL-2.0
/*
 * chimney_bench.ko: the KUnit suite chimney_bench (issue 10's benchmark),
 * its parameters and helpers, and the debugfs file the memory figure is
 * driven through.
 *
 * Figures are reported, never asserted: each case prints "figure:" lines
 * (ratio to a baseline measured in the same run, median of cb_rounds
 * rounds) and fails only when an operation fails or a count is wrong.
 * The memory figure needs /proc/slabinfo, so userspace measures it
 * (scripts/bench/vmtests/10-memory.sh) around a fill held through
 * /sys/kernel/debug/chimney_bench/hold: write N to offload N connections
 * on a device of its own with chimney's host and target, 0 to upload them
 * all; reading it returns "conns N fill_ns F drain_ns D".
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rtnetlink.h>
#include <linux/seq_file.h>
#include <linux/sort.h>
#include <linux/timex.h>

#include "bench.h"

unsigned int cb_rounds = 9;
module_param_named(rounds, cb_rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "rounds per measurement, the median is reported (default 9)");

unsigned int cb_events = 200000;
module_param_named(events, cb_events, uint, 0444);
MODULE_PARM_DESC(events, "events per round and per stack (default 200000)");

unsigned int cb_event_conns = 1024;
module_param_named(event_conns, cb_event_conns, uint, 0444);
MODULE_PARM_DESC(event_conns, "connections per stack the events cycle over (default 1024)");

unsigned int cb_lookup_conns[4] = { 1000, 100000, 1000000 };
unsigned int cb_nr_lookup_conns = 3;
module_param_array_named(lookup_conns, cb_lookup_conns, uint,
			 &cb_nr_lookup_conns, 0444);
MODULE_PARM_DESC(lookup_conns, "table sizes of the lookup figures, ascending (default 1000,100000,1000000)");

unsigned int cb_lookups = 65536;
module_param_named(lookups, cb_lookups, uint, 0444);
MODULE_PARM_DESC(lookups, "lookups per round (default 65536)");

unsigned int cb_upload_conns = 100000;
module_param_named(upload_conns, cb_upload_conns, uint, 0444);
MODULE_PARM_DESC(upload_conns, "connections of the upload-all figure (default 100000)");

unsigned int cb_upload_rounds = 3;
module_param_named(upload_rounds, cb_upload_rounds, uint, 0444);
MODULE_PARM_DESC(upload_rounds, "rounds of the upload-all figure (default 3)");

static unsigned int cb_hold_conns = 1000000;
module_param_named(hold_conns, cb_hold_conns, uint, 0444);
MODULE_PARM_DESC(hold_conns, "connections the memory figure holds (read by the vm test; default 1000000)");

struct cb_num cb_fix2(s64 num, s64 den)
{
	struct cb_num n;
	bool neg = (num < 0) != (den < 0);
	u64 a = num < 0 ? -num : num;
	u64 b = den < 0 ? -den : den;
	u64 q;

	if (!b) {
		strscpy(n.s, "inf", sizeof(n.s));
		return n;
	}
	q = div64_u64(a * 100 + b / 2, b);
	snprintf(n.s, sizeof(n.s), "%s%llu.%02llu", neg && q ? "-" : "",
		 q / 100, q % 100);
	return n;
}

u64 cb_cycles_per_ms;

u64 cb_clock(void)
{
	return cb_cycles_per_ms ? get_cycles() : ktime_get_ns();
}

/* Picoseconds per operation: @delta of cb_clock() over @n operations. */
u64 cb_ps(u64 delta, u64 n)
{
	if (!n)
		return 0;
	if (cb_cycles_per_ms)
		return mul_u64_u64_div_u64(delta, 1000000000ULL,
					   cb_cycles_per_ms * n);
	return div64_u64(delta * 1000, n);
}

/* Nanoseconds: @delta of cb_clock(). */
u64 cb_ns(u64 delta)
{
	if (cb_cycles_per_ms)
		return mul_u64_u64_div_u64(delta, NSEC_PER_MSEC, cb_cycles_per_ms);
	return delta;
}

/* Between two jiffies edges a second apart: cycles per ms of kernel time. */
static void cb_clock_init(void)
{
	u64 c0, c1, t0, t1;
	unsigned long j;

	j = jiffies;
	while (!time_after(jiffies, j))
		cpu_relax();
	c0 = get_cycles();
	t0 = ktime_get_ns();
	msleep(1000);
	j = jiffies;
	while (!time_after(jiffies, j))
		cpu_relax();
	c1 = get_cycles();
	t1 = ktime_get_ns();
	if (c1 > c0 && t1 > t0)
		cb_cycles_per_ms = mul_u64_u64_div_u64(c1 - c0, NSEC_PER_MSEC,
						       t1 - t0);
	if (cb_cycles_per_ms)
		pr_info("clock: cycle counter, %llu cycles per ms (calibrated over %llu ms)\n",
			cb_cycles_per_ms, div_u64(t1 - t0, NSEC_PER_MSEC));
	else
		pr_info("clock: ktime_get_ns() (no cycle counter)\n");
}

static int cb_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int cb_cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n values (the lower one for an even @n); @v is not changed. */
u64 cb_median(const u64 *v, unsigned int n)
{
	u64 tmp[32];

	if (!n)
		return 0;
	n = min_t(unsigned int, n, ARRAY_SIZE(tmp));
	memcpy(tmp, v, n * sizeof(*v));
	sort(tmp, n, sizeof(*tmp), cb_cmp_u64, NULL);
	return tmp[(n - 1) / 2];
}

s64 cb_median_s(const s64 *v, unsigned int n)
{
	s64 tmp[32];

	if (!n)
		return 0;
	n = min_t(unsigned int, n, ARRAY_SIZE(tmp));
	memcpy(tmp, v, n * sizeof(*v));
	sort(tmp, n, sizeof(*tmp), cb_cmp_s64, NULL);
	return tmp[(n - 1) / 2];
}

static netdev_tx_t cb_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops cb_netdev_ops = {
	.ndo_start_xmit = cb_xmit,
};

static void cb_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &cb_netdev_ops;
	dev->needs_free_netdev = true;
}

/* A registered Ethernet-like device, up (offloads need the link). */
struct net_device *cb_netdev_create(const char *name)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, name, NET_NAME_USER, cb_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	eth_hw_addr_random(dev);
	err = register_netdev(dev);
	if (err) {
		free_netdev(dev);
		return ERR_PTR(err);
	}
	rtnl_lock();
	err = dev_open(dev, NULL);
	rtnl_unlock();
	if (err) {
		unregister_netdev(dev);
		return ERR_PTR(err);
	}
	return dev;
}

void cb_netdev_destroy(struct net_device *dev)
{
	/* Frees it too (needs_free_netdev). */
	unregister_netdev(dev);
}

static void cb_netdev_release(void *data)
{
	cb_netdev_destroy(data);
}

/* Like cb_netdev_create(), unregistered when the test ends. */
struct net_device *cb_netdev(struct kunit *test, const char *name)
{
	struct net_device *dev = cb_netdev_create(name);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cb_netdev_release,
							dev), 0);
	return dev;
}

/*
 * The @i-th connection's tuple: 16 local addresses x ports 1024..65535,
 * then the next remote address (1,032,192 connections per remote).
 */
void cb_tuple(struct chimney_tuple *t, unsigned int i)
{
	unsigned int ports = 65536 - 1024;

	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->saddr.ip = htonl(0x0a000000 + (i & 15));
	t->daddr.ip = htonl(0xc0a80001 + ((i >> 4) / ports << 8));
	t->sport = htons(1024 + (i >> 4) % ports);
	t->dport = htons(443);
}

/* --- the memory figure's held fill, driven from userspace ------------------------ */

static DEFINE_MUTEX(cb_hold_lock);
static unsigned int cb_held;
static u64 cb_hold_fill_ns;
static u64 cb_hold_drain_ns;
static struct dentry *cb_debugfs;

static int cb_hold_show(struct seq_file *m, void *v)
{
	mutex_lock(&cb_hold_lock);
	seq_printf(m, "conns %u fill_ns %llu drain_ns %llu\n", cb_held,
		   cb_hold_fill_ns, cb_hold_drain_ns);
	mutex_unlock(&cb_hold_lock);
	return 0;
}

static int cb_hold_open(struct inode *inode, struct file *file)
{
	return single_open(file, cb_hold_show, NULL);
}

static ssize_t cb_hold_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	unsigned int n;
	int err;

	err = kstrtouint_from_user(buf, len, 0, &n);
	if (err)
		return err;
	mutex_lock(&cb_hold_lock);
	if (!n && cb_held) {
		err = cb_hold_drain(&cb_hold_drain_ns);
		if (!err)
			cb_held = 0;
	} else if (n && !cb_held) {
		cb_hold_drain_ns = 0;
		err = cb_hold_fill(n, &cb_hold_fill_ns);
		if (!err)
			cb_held = n;
	} else if (n) {
		err = -EBUSY;
	}
	mutex_unlock(&cb_hold_lock);
	return err ? err : len;
}

static const struct file_operations cb_hold_fops = {
	.owner = THIS_MODULE,
	.open = cb_hold_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = cb_hold_write,
};

/* --- the suite ------------------------------------------------------------------ */

static struct kunit_case chimney_bench_cases[] = {
	KUNIT_CASE_SLOW(chimney_bench_hop),
	KUNIT_CASE_SLOW(chimney_bench_notifier),
	KUNIT_CASE_SLOW(chimney_bench_two_cpus),
	KUNIT_CASE_SLOW(chimney_bench_upload_all),
	KUNIT_CASE_SLOW(chimney_bench_lookup),
	{}
};

static struct kunit_suite chimney_bench_suite = {
	.name = "chimney_bench",
	.test_cases = chimney_bench_cases,
};

kunit_test_suite(chimney_bench_suite);

static int __init cb_init(void)
{
	cb_clock_init();
	cb_debugfs = debugfs_create_dir("chimney_bench", NULL);
	debugfs_create_file("hold", 0600, cb_debugfs, NULL, &cb_hold_fops);
	return 0;
}

static void __exit cb_exit(void)
{
	debugfs_remove_recursive(cb_debugfs);
	mutex_lock(&cb_hold_lock);
	if (cb_held && !cb_hold_drain(&cb_hold_drain_ns))
		cb_held = 0;
	mutex_unlock(&cb_hold_lock);
}

module_init(cb_init);
module_exit(cb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("chimney benchmark: the figures of issue 10 against kernel baselines");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
