// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table: keyed lookups, ids, duplicates, per-device
 * iteration racing with removal, and a million connections on one device.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/rtnetlink.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "device.h"
#include "host.h"
#include "offload.h"
#include "stack.h"
#include "target.h"
#include "util.h"


static void ct_tuple6(struct chimney_tuple *t, u16 sport)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET6;
	t->saddr.in6.s6_addr[0] = 0x20;
	t->saddr.in6.s6_addr[15] = 1;
	t->daddr.in6.s6_addr[0] = 0x20;
	t->daddr.in6.s6_addr[15] = 2;
	t->sport = htons(sport);
	t->dport = htons(443);
}

static void chimney_table_insert_lookup_remove(struct kunit *test)
{
	struct net_device *a = ct_netdev(test, "cttable%d");
	struct net_device *b = ct_netdev(test, "cttable%d");
	struct chimney_device *ca = ct_attach(test, a, 16);
	struct chimney_device *cb = ct_attach(test, b, 16);
	unsigned int before = chimney_table_count();
	struct chimney_conn_key key;
	struct chimney_tuple t4, t6;
	struct chimney_conn *conn;
	u64 id4, id6, idb;

	ct_tuple4(&t4, 0x0a000001, 4000, 0x0a000002, 80);
	ct_tuple6(&t6, 4000);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(ca->host, &t4, &id4), 0);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(ca->host, &t6, &id6), 0);
	/* Same tuple, other device: a different key. */
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cb->host, &t4, &idb), 0);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + 3);
	KUNIT_EXPECT_NE(test, id4, id6);
	KUNIT_EXPECT_NE(test, id4, idb);
	/* Duplicate key: refused, nothing added. */
	KUNIT_EXPECT_EQ(test, chimney_host_offload(ca->host, &t4, &id4), -EEXIST);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + 3);

	chimney_conn_key_init(&key, ca->host->layer.stack, &t6);
	rcu_read_lock();
	conn = chimney_conn_lookup(&key);
	KUNIT_EXPECT_NOT_NULL(test, conn);
	if (conn)
		KUNIT_EXPECT_EQ(test, conn->id, id6);
	KUNIT_EXPECT_PTR_EQ(test, chimney_conn_lookup_id(id6), conn);
	rcu_read_unlock();

	conn = chimney_conn_get_id(id6);
	KUNIT_ASSERT_NOT_NULL(test, conn);
	KUNIT_EXPECT_EQ(test, chimney_conn_terminate(conn), 0);
	chimney_conn_put(conn);
	chimney_flush();
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup(&key));
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup_id(id6));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + 2);

	KUNIT_EXPECT_EQ(test, chimney_device_detach(a), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(b), 0);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(b), -ENODEV);
}

struct ct_walker {
	struct chimney_stack *stack;
	atomic_t stop;
	unsigned long walks;
	u64 seen;
};

static int ct_walk_thread(void *data)
{
	struct ct_walker *w = data;
	struct chimney_conn *conn;
	unsigned long slot;

	while (!atomic_read(&w->stop)) {
		rcu_read_lock();
		for (slot = 0; (conn = chimney_conn_lookup_next(&slot)); slot++)
			w->seen += conn->key.stack == w->stack;
		rcu_read_unlock();
		w->walks++;
		cond_resched();
	}
	return 0;
}

/*
 * A connection takes the lowest free slot of the id index, so the index
 * stays as shallow as the live connections allow; its id still grows, and
 * the id of one gone before finds nothing once a newer one has its slot.
 */
static void chimney_table_id_slots(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "cttable%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	struct chimney_conn *conn;
	struct chimney_tuple t;
	u64 ids[32], old, id;
	unsigned long slot;
	int i;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		ct_tuple4(&t, 0x0a000001, 6000 + i, 0x0a000002, 80);
		KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &ids[i]), 0);
		KUNIT_EXPECT_LE(test, chimney_id_slot(ids[i]), chimney_table_count());
		if (i)
			KUNIT_EXPECT_GT(test, ids[i], ids[i - 1]);
	}

	/* Upload one in the middle; the next offload takes its slot. */
	old = ids[ARRAY_SIZE(ids) / 2];
	conn = chimney_conn_get_id(old);
	KUNIT_ASSERT_NOT_NULL(test, conn);
	slot = chimney_conn_slot(conn);
	KUNIT_EXPECT_EQ(test, chimney_conn_terminate(conn), 0);
	chimney_conn_put(conn);
	chimney_flush();
	KUNIT_EXPECT_NULL(test, chimney_conn_get_id(old));

	ct_tuple4(&t, 0x0a000001, 7000, 0x0a000002, 80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	KUNIT_EXPECT_EQ(test, chimney_id_slot(id), slot);
	KUNIT_EXPECT_GT(test, id, ids[ARRAY_SIZE(ids) - 1]);
	rcu_read_lock();
	conn = chimney_conn_lookup_id(id);
	KUNIT_EXPECT_NOT_NULL(test, conn);
	if (conn)
		KUNIT_EXPECT_EQ(test, chimney_conn_slot(conn), slot);
	/* The stale id names the slot, not the connection now in it. */
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup_id(old));
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup_id(slot));
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup_id(0));
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup_id(U64_MAX));
	KUNIT_EXPECT_NULL(test, chimney_conn_lookup_id(id + (1ULL << 32)));
	rcu_read_unlock();
	KUNIT_EXPECT_NULL(test, chimney_conn_get_id(old));
	KUNIT_EXPECT_EQ(test, chimney_target_raise(cdev->target, old,
						   CHIMNEY_EVENT_DISCONNECT, 0),
			-ENOENT);

	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

/*
 * The exit checks of the id indexes ask for entries, not for an empty
 * tree: an insert failed for memory may leave empty nodes behind, which
 * xa_empty() counts and xa_destroy() frees. A reserved slot (as empty as
 * such a node, to a lookup) stands in for them here.
 */
static void chimney_table_exit_check(struct kunit *test)
{
	struct xarray xa;
	int v;

	xa_init_flags(&xa, XA_FLAGS_ALLOC1);
	KUNIT_EXPECT_FALSE(test, chimney_xa_holds_entries(&xa));
	KUNIT_ASSERT_EQ(test, xa_reserve(&xa, 1ULL << 20, GFP_KERNEL), 0);
	KUNIT_EXPECT_FALSE(test, xa_empty(&xa));
	KUNIT_EXPECT_FALSE(test, chimney_xa_holds_entries(&xa));
	KUNIT_EXPECT_NULL(test, xa_store(&xa, 3, &v, GFP_KERNEL));
	KUNIT_EXPECT_TRUE(test, chimney_xa_holds_entries(&xa));
	xa_erase(&xa, 3);
	KUNIT_EXPECT_FALSE(test, chimney_xa_holds_entries(&xa));
	xa_destroy(&xa);
	KUNIT_EXPECT_TRUE(test, xa_empty(&xa));
}

/* Lock-free readers walk a device's connections while they are removed. */
static void chimney_table_iterate_while_removing(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "cttable%d");
	struct chimney_device *cdev = ct_attach(test, dev, 512);
	struct ct_walker *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	struct task_struct *task;
	struct chimney_tuple t;
	u64 id;
	int i;

	for (i = 0; i < 500; i++) {
		ct_tuple4(&t, 0x0a000001, 5000 + i, 0x0a000002, 80);
		KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	}
	/* The stack outlives the walk: the walker is stopped before detach. */
	w->stack = cdev->target->layer.stack;
	task = kthread_run(ct_walk_thread, w, "ct_walk");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	get_task_struct(task);
	/* The walker is running before anything is removed. */
	for (i = 0; i < 10000 && !READ_ONCE(w->walks); i++)
		usleep_range(1000, 2000);
	KUNIT_ASSERT_GT(test, READ_ONCE(w->walks), 0UL);

	/* Upload-all through the host removes them under the walker. */
	chimney_device_upload_all(cdev);
	chimney_host_flush(cdev->host);
	chimney_flush();
	atomic_set(&w->stop, 1);
	kthread_stop(task);
	put_task_struct(task);

	KUNIT_EXPECT_EQ(test, READ_ONCE(w->stack->nr_conns), 0);
	KUNIT_EXPECT_GT(test, w->walks, 0UL);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

/*
 * 50000 under the debug kernel of `make check` (KASAN, lockdep and kmemleak
 * under TCG cost about a millisecond per connection there). A million on
 * the non-debug kernel is `make bench`'s (chimney_bench.ko: fill_drain,
 * memory_per_conn); scale_conns=1000000 still works for a run by hand.
 */
static unsigned int ct_scale = 50000;
module_param_named(scale_conns, ct_scale, uint, 0444);
MODULE_PARM_DESC(scale_conns, "connections in chimney_table_scale (default 50000)");

/*
 * One device, scale_conns offloaded connections: fill, spot-check lookups,
 * then upload everything. Times and memory go to the log as a "figure"
 * line (README, "Figures").
 */
static void chimney_table_scale(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctscale%d");
	struct chimney_device *cdev = ct_attach(test, dev, ct_scale);
	unsigned int before = chimney_table_count();
	struct chimney_conn_key key;
	struct chimney_tuple t;
	unsigned long slab0, slab1;
	ktime_t t0, t1, t2;
	u64 id;
	int i, err = 0;

	slab0 = global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
	t0 = ktime_get();
	for (i = 0; i < ct_scale && !err; i++) {
		/* 16 local addresses x 62500 ports. */
		ct_tuple4(&t, 0x0a000000 + (i & 15), 1024 + (i >> 4),
			  0xc0a80001, 443);
		err = chimney_host_offload(cdev->host, &t, &id);
		if (!(i & 1023))
			cond_resched();
	}
	KUNIT_ASSERT_EQ(test, err, 0);
	t1 = ktime_get();
	slab1 = global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + ct_scale);

	/* One more does not fit: the target's capacity is a million. */
	ct_tuple4(&t, 0x0b000000, 1, 0xc0a80001, 443);
	KUNIT_EXPECT_EQ(test, chimney_host_offload(cdev->host, &t, &id), -ENOSPC);

	for (i = 0; i < ct_scale; i += 99991) {
		ct_tuple4(&t, 0x0a000000 + (i & 15), 1024 + (i >> 4),
			  0xc0a80001, 443);
		chimney_conn_key_init(&key, cdev->host->layer.stack, &t);
		rcu_read_lock();
		KUNIT_EXPECT_NOT_NULL(test, chimney_conn_lookup(&key));
		rcu_read_unlock();
	}

	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
	t2 = ktime_get();
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
	kunit_info(test, "figure: %u connections on one device: fill %lld ms, drain %lld ms, slab %lu MiB (%lu bytes per connection)\n",
		   ct_scale, ktime_ms_delta(t1, t0), ktime_ms_delta(t2, t1),
		   ((slab1 - slab0) << PAGE_SHIFT) >> 20,
		   ((slab1 - slab0) << PAGE_SHIFT) / ct_scale);
}

static struct kunit_case chimney_table_cases[] = {
	KUNIT_CASE(chimney_table_insert_lookup_remove),
	KUNIT_CASE(chimney_table_id_slots),
	KUNIT_CASE(chimney_table_exit_check),
	KUNIT_CASE(chimney_table_iterate_while_removing),
	KUNIT_CASE_SLOW(chimney_table_scale),
	{}
};

static struct kunit_suite chimney_table_suite = {
	.name = "chimney_table",
	.test_cases = chimney_table_cases,
};

kunit_test_suite(chimney_table_suite);
