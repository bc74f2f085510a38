// SPDX-License-Identifier: GPL-2.0
/*
 * Table figures, on a device carrying chimney's own host and fake target:
 * lookups by 4-tuple and by id against a bare rhashtable_lookup_fast() on
 * a private rhashtable holding the same keys (same key size, same default
 * hash), at every size of lookup_conns; fill and drain of the largest;
 * UPLOAD_ALL against plain removals from a private rhashtable, and against
 * the storage work of an upload without the handshake; and the held fill
 * the memory figure is measured around (bench_main.c).
 *
 * Only chimney_conn_key_init(), chimney_conn_lookup(),
 * chimney_conn_lookup_id() and conn->id reach into the table, so the
 * figures survive a change of the connection's layout.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "bench.h"
#include "conn.h"
#include "device.h"
#include "host.h"
#include "target.h"

#define CB_MAX_ROUNDS	32
/* Storage layouts the upload-all figure is set against (cb_layouts). */
#define CB_NR_LAYOUTS	3
/* A prime: i * CB_STRIDE mod n visits distinct connections in a scattered order. */
#define CB_STRIDE	1000003ULL

/* The private table's object: the same keys, for the baseline. */
struct cb_obj {
	struct rhash_head key_node;
	struct rhash_head id_node;
	struct chimney_conn_key key;
	u64 id;
};

static const struct rhashtable_params cb_key_params = {
	.key_len = sizeof(struct chimney_conn_key),
	.key_offset = offsetof(struct cb_obj, key),
	.head_offset = offsetof(struct cb_obj, key_node),
	.automatic_shrinking = true,
};

static const struct rhashtable_params cb_id_params = {
	.key_len = sizeof(u64),
	.key_offset = offsetof(struct cb_obj, id),
	.head_offset = offsetof(struct cb_obj, id_node),
	.automatic_shrinking = true,
};

static unsigned int cb_nr_rounds(void)
{
	return clamp_t(unsigned int, cb_rounds, 1, CB_MAX_ROUNDS);
}

/* chimney's host and fake target on @dev, the device with capacity @cap. */
static struct chimney_device *cb_attach(struct net_device *dev,
					unsigned int cap)
{
	struct chimney_device *cdev;

	if (chimney_device_attach(dev, cap))
		return NULL;
	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	mutex_unlock(&chimney_devices_lock);
	return cdev;
}

static void cb_detach_action(void *data)
{
	/* -ENODEV when the test detached already. */
	chimney_device_detach(data);
}

/* Wait until the table holds @count connections; false after 5 minutes. */
static bool cb_wait_count(unsigned int count)
{
	unsigned long deadline = jiffies + 300 * HZ;

	while (chimney_table_count() != count) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(100, 200);
	}
	return true;
}

/* Offload connections [from, to) through chimney's host; 0 or an errno. */
static int cb_fill(struct chimney_device *cdev, unsigned int from,
		   unsigned int to, u64 *ids)
{
	struct chimney_tuple t;
	unsigned int i;
	u64 id;
	int err;

	for (i = from; i < to; i++) {
		cb_tuple(&t, i);
		err = chimney_host_offload(cdev->host, &t, ids ? &ids[i] : &id);
		if (err)
			return err;
		if (!(i & 1023))
			cond_resched();
	}
	return 0;
}

struct cb_lookup_set {
	unsigned int n;
	struct chimney_conn_key *keys;
	u64 *ids;
};

/* ps per lookup of the whole set, and how many found the right connection. */
static u64 cb_lookup_chimney_key(struct cb_lookup_set *s, unsigned int *hits)
{
	struct chimney_conn *conn;
	unsigned int i, h = 0;
	u64 t0;

	t0 = cb_clock();
	for (i = 0; i < s->n; i++) {
		rcu_read_lock();
		conn = chimney_conn_lookup(&s->keys[i]);
		h += conn && conn->id == s->ids[i];
		rcu_read_unlock();
	}
	t0 = cb_clock() - t0;
	*hits = h;
	return cb_ps(t0, s->n);
}

static u64 cb_lookup_chimney_id(struct cb_lookup_set *s, unsigned int *hits)
{
	struct chimney_conn *conn;
	unsigned int i, h = 0;
	u64 t0;

	t0 = cb_clock();
	for (i = 0; i < s->n; i++) {
		rcu_read_lock();
		conn = chimney_conn_lookup_id(s->ids[i]);
		h += conn && conn->id == s->ids[i];
		rcu_read_unlock();
	}
	t0 = cb_clock() - t0;
	*hits = h;
	return cb_ps(t0, s->n);
}

static u64 cb_lookup_bare_key(struct rhashtable *ht, struct cb_lookup_set *s,
			      unsigned int *hits)
{
	struct cb_obj *obj;
	unsigned int i, h = 0;
	u64 t0;

	t0 = cb_clock();
	for (i = 0; i < s->n; i++) {
		obj = rhashtable_lookup_fast(ht, &s->keys[i], cb_key_params);
		h += obj && obj->id == s->ids[i];
	}
	t0 = cb_clock() - t0;
	*hits = h;
	return cb_ps(t0, s->n);
}

static u64 cb_lookup_bare_id(struct rhashtable *ht, struct cb_lookup_set *s,
			     unsigned int *hits)
{
	struct cb_obj *obj;
	unsigned int i, h = 0;
	u64 t0;

	t0 = cb_clock();
	for (i = 0; i < s->n; i++) {
		obj = rhashtable_lookup_fast(ht, &s->ids[i], cb_id_params);
		h += obj && obj->id == s->ids[i];
	}
	t0 = cb_clock() - t0;
	*hits = h;
	return cb_ps(t0, s->n);
}

struct cb_lookup_state {
	struct net_device *dev;
	struct chimney_device *cdev;
	unsigned int before;		/* chimney_table_count() before the fill */
	u64 fill_ns;
	struct rhashtable by_key;
	struct rhashtable by_id;
	bool tables;
	struct cb_obj **objs;
	unsigned int nr_objs;
	struct cb_lookup_set set;
	u64 *ids;			/* chimney's id of each connection */
	u64 med[4][4];			/* per size: cb_lookup_measure() */
	u64 up[CB_MAX_ROUNDS];		/* chimney_bench_upload_all() */
	u64 rm[CB_MAX_ROUNDS];
	u64 st[CB_NR_LAYOUTS][CB_MAX_ROUNDS];	/* cb_storage_work() */
	void **parts;			/* and its objects */
};

static void cb_lookup_release(void *data)
{
	struct cb_lookup_state *ls = data;
	unsigned int i;

	if (ls->tables) {
		rhashtable_destroy(&ls->by_id);
		rhashtable_destroy(&ls->by_key);
	}
	for (i = 0; i < ls->nr_objs; i++)
		kfree(ls->objs[i]);
	kvfree(ls->objs);
	kvfree(ls->parts);
	kvfree(ls->set.keys);
	kvfree(ls->set.ids);
	kvfree(ls->ids);
}

/* The private tables and @nr_objs object slots, released when the test ends. */
static struct cb_lookup_state *cb_state_create(struct kunit *test,
					       unsigned int nr_objs)
{
	struct cb_lookup_state *ls;
	int err;

	ls = kunit_kzalloc(test, sizeof(*ls), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ls);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cb_lookup_release,
							ls), 0);
	ls->objs = kvcalloc(nr_objs, sizeof(*ls->objs), GFP_KERNEL);
	ls->ids = kvcalloc(nr_objs, sizeof(*ls->ids), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ls->objs);
	KUNIT_ASSERT_NOT_NULL(test, ls->ids);
	err = rhashtable_init(&ls->by_key, &cb_key_params);
	KUNIT_ASSERT_EQ(test, err, 0);
	err = rhashtable_init(&ls->by_id, &cb_id_params);
	if (err)
		rhashtable_destroy(&ls->by_key);
	KUNIT_ASSERT_EQ(test, err, 0);
	ls->tables = true;
	return ls;
}

/* Lookup medians at one size: [0] chimney key, [1] bare key, [2] chimney id, [3] bare id. */
static void cb_lookup_measure(struct kunit *test, struct cb_lookup_state *ls,
			      unsigned int n, u64 med[4])
{
	struct cb_lookup_set *s = &ls->set;
	unsigned int rounds = cb_nr_rounds(), r, i, k, hits;
	u64 (*v)[CB_MAX_ROUNDS];

	v = kunit_kcalloc(test, 4, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	s->n = min(n, cb_lookups);
	for (i = 0; i < s->n; i++) {
		k = (u32)(i * CB_STRIDE % n);
		s->keys[i] = ls->objs[k]->key;
		s->ids[i] = ls->objs[k]->id;
	}
	for (r = 0; r < rounds; r++) {
		v[0][r] = cb_lookup_chimney_key(s, &hits);
		KUNIT_ASSERT_EQ(test, hits, s->n);
		v[1][r] = cb_lookup_bare_key(&ls->by_key, s, &hits);
		KUNIT_ASSERT_EQ(test, hits, s->n);
		v[2][r] = cb_lookup_chimney_id(s, &hits);
		KUNIT_ASSERT_EQ(test, hits, s->n);
		v[3][r] = cb_lookup_bare_id(&ls->by_id, s, &hits);
		KUNIT_ASSERT_EQ(test, hits, s->n);
		cond_resched();
	}
	for (i = 0; i < 4; i++)
		med[i] = cb_median(v[i], rounds);
	kunit_kfree(test, v);
}

/* Connections [from, to) into the private tables, with chimney's ids. */
static void cb_private_add(struct kunit *test, struct cb_lookup_state *ls,
			   unsigned int from, unsigned int to)
{
	struct chimney_tuple t;
	struct cb_obj *obj;
	unsigned int i;

	for (i = from; i < to; i++) {
		obj = kzalloc(sizeof(*obj), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj);
		ls->objs[ls->nr_objs++] = obj;
		cb_tuple(&t, i);
		chimney_conn_key_init(&obj->key, ls->cdev->host->layer.stack,
				      &t);
		obj->id = ls->ids[i];
		KUNIT_ASSERT_EQ(test, rhashtable_insert_fast(&ls->by_key,
							     &obj->key_node,
							     cb_key_params), 0);
		KUNIT_ASSERT_EQ(test, rhashtable_insert_fast(&ls->by_id,
							     &obj->id_node,
							     cb_id_params), 0);
		if (!(i & 1023))
			cond_resched();
	}
}

/* Fill up to @to connections, add them to the private tables, measure. */
static void cb_lookup_at(struct kunit *test, struct cb_lookup_state *ls,
			 unsigned int from, unsigned int to, u64 med[4])
{
	u64 t0 = cb_clock();

	KUNIT_ASSERT_EQ(test, cb_fill(ls->cdev, from, to, ls->ids), 0);
	ls->fill_ns += cb_ns(cb_clock() - t0);
	KUNIT_ASSERT_EQ(test, chimney_table_count(), ls->before + to);
	cb_private_add(test, ls, from, to);
	cb_lookup_measure(test, ls, to, med);
	kunit_info(test, "figure: lookup_key_%u: chimney %s ns, rhashtable_lookup_fast() %s ns, ratio %sx (goal <= 1.10x)\n",
		   to, cb_fix2(med[0], 1000).s, cb_fix2(med[1], 1000).s,
		   cb_fix2(med[0], med[1]).s);
	kunit_info(test, "figure: lookup_id_%u: chimney %s ns, rhashtable_lookup_fast() %s ns, ratio %sx (goal <= 1.10x)\n",
		   to, cb_fix2(med[2], 1000).s, cb_fix2(med[3], 1000).s,
		   cb_fix2(med[2], med[3]).s);
}

/* Upload all @n connections (the device's removal from chimney), timed. */
static void cb_lookup_drain(struct kunit *test, struct cb_lookup_state *ls,
			    unsigned int n)
{
	u64 t0 = cb_clock(), drain_ns;

	KUNIT_EXPECT_EQ(test, chimney_device_detach(ls->dev), 0);
	KUNIT_EXPECT_TRUE(test, cb_wait_count(ls->before));
	drain_ns = cb_ns(cb_clock() - t0);
	kunit_info(test, "figure: fill_drain: %u connections on one device: fill %s us/conn (%llu ms), drain %s us/conn (%llu ms)\n",
		   n, cb_fix2(ls->fill_ns, (u64)n * 1000).s,
		   div_u64(ls->fill_ns, NSEC_PER_MSEC),
		   cb_fix2(drain_ns, (u64)n * 1000).s,
		   div_u64(drain_ns, NSEC_PER_MSEC));
}

/*
 * Figures: lookup by 4-tuple and by id against a bare
 * rhashtable_lookup_fast() at each size of lookup_conns (the table filled
 * up to it, then measured, then filled further), the cost at the largest
 * size against the smallest, and fill and drain of the largest.
 */
void chimney_bench_lookup(struct kunit *test)
{
	unsigned int nsizes = min(cb_nr_lookup_conns, 4U), max, i;
	struct cb_lookup_state *ls;
	u64 (*med)[4];

	KUNIT_ASSERT_GE(test, nsizes, 1);
	for (i = 1; i < nsizes; i++)
		KUNIT_ASSERT_GT(test, cb_lookup_conns[i], cb_lookup_conns[i - 1]);
	max = cb_lookup_conns[nsizes - 1];
	KUNIT_ASSERT_GE(test, cb_lookup_conns[0], 1);
	KUNIT_ASSERT_LE(test, max, 1U << 20);

	ls = cb_state_create(test, max);
	med = ls->med;
	ls->set.keys = kvcalloc(min(max, cb_lookups), sizeof(*ls->set.keys),
				GFP_KERNEL);
	ls->set.ids = kvcalloc(min(max, cb_lookups), sizeof(*ls->set.ids),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ls->set.keys);
	KUNIT_ASSERT_NOT_NULL(test, ls->set.ids);
	ls->dev = cb_netdev(test, "cblook%d");
	ls->cdev = cb_attach(ls->dev, max);
	KUNIT_ASSERT_NOT_NULL(test, ls->cdev);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cb_detach_action,
							ls->dev), 0);
	ls->before = chimney_table_count();

	for (i = 0; i < nsizes; i++)
		cb_lookup_at(test, ls, i ? cb_lookup_conns[i - 1] : 0,
			     cb_lookup_conns[i], med[i]);
	i = nsizes - 1;
	kunit_info(test, "figure: lookup_key_scale: %u vs %u connections: chimney %sx, rhashtable_lookup_fast() %sx (goal <= 1.50x)\n",
		   max, cb_lookup_conns[0], cb_fix2(med[i][0], med[0][0]).s,
		   cb_fix2(med[i][1], med[0][1]).s);
	kunit_info(test, "figure: lookup_id_scale: %u vs %u connections: chimney %sx, rhashtable_lookup_fast() %sx (goal <= 1.50x)\n",
		   max, cb_lookup_conns[0], cb_fix2(med[i][2], med[0][2]).s,
		   cb_fix2(med[i][3], med[0][3]).s);
	cb_lookup_drain(test, ls, max);
}

/* Freed a grace period after its removal, as chimney frees two objects. */
struct cb_rcu_obj {
	struct rcu_head rcu;
};

/*
 * The storage an upload releases per connection, in three layouts: today's
 * (chimney's connection, the target's context and the host's TCB, the
 * first and last freed after a grace period), the suggested one
 * (the layers' contexts embedded in one allocation, freed after a grace
 * period), and none (the two index removals alone).
 */
struct cb_layout {
	const char *name;
	unsigned int nr_parts;
	size_t size[3];
	unsigned long rcu;		/* bit k: part k is freed with kfree_rcu() */
};

static const struct cb_layout cb_layouts[] = {
	{ "three allocations", 3, { 144, 40, 32 }, BIT(0) | BIT(2) },
	{ "one allocation", 1, { 144 + 40 + 32 }, BIT(0) },
	{ "indexes only", 0, { }, 0 },
};

static_assert(ARRAY_SIZE(cb_layouts) == CB_NR_LAYOUTS);

static void cb_parts_free(void **parts, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		kfree(parts[i]);
}

/*
 * What uploading @n connections costs without the handshake, in layout
 * @lo: per connection, a removal from a private rhashtable of the same
 * keys and one from an xarray of slots, and the frees of @lo. Return: the
 * time of that, in ns; the setup (the insertions and allocations) is not
 * timed.
 */
static u64 cb_storage_work(struct kunit *test, struct cb_lookup_state *ls,
			   unsigned int n, const struct cb_layout *lo)
{
	unsigned int i, k, nr = 0;
	void **parts = ls->parts;
	struct xarray xa;
	u32 slot = 0;
	int err = 0;
	u64 t0;

	xa_init_flags(&xa, XA_FLAGS_ALLOC1);
	for (i = 0; i < n && !err; i++) {
		for (k = 0; k < lo->nr_parts && !err; k++) {
			parts[nr] = kzalloc(lo->size[k], GFP_KERNEL);
			err = parts[nr] ? 0 : -ENOMEM;
			nr += !err;
		}
		if (!err)
			err = xa_alloc(&xa, &slot,
				       lo->nr_parts ? parts[nr - lo->nr_parts] :
						      ls->objs[i],
				       xa_limit_32b, GFP_KERNEL);
		ls->ids[i] = slot;
		if (!err)
			err = rhashtable_insert_fast(&ls->by_key,
						     &ls->objs[i]->key_node,
						     cb_key_params);
		if (!(i & 1023))
			cond_resched();
	}
	if (err) {
		cb_parts_free(parts, nr);
		xa_destroy(&xa);
		KUNIT_FAIL(test, "storage work setup (%s): %d", lo->name, err);
		return 0;
	}

	t0 = cb_clock();
	for (i = 0; i < n; i++, parts += lo->nr_parts) {
		xa_erase(&xa, ls->ids[i]);
		rhashtable_remove_fast(&ls->by_key, &ls->objs[i]->key_node,
				       cb_key_params);
		for (k = 0; k < lo->nr_parts; k++) {
			if (lo->rcu & BIT(k))
				kfree_rcu((struct cb_rcu_obj *)parts[k], rcu);
			else
				kfree(parts[k]);
		}
	}
	t0 = cb_ns(cb_clock() - t0);
	KUNIT_EXPECT_TRUE(test, xa_empty(&xa));
	xa_destroy(&xa);
	return t0;
}

/*
 * Figure: UPLOAD_ALL of upload_conns connections (the target's status
 * indication until the table no longer holds any of them: the host
 * terminates each through the stack) against as many plain removals from
 * a private rhashtable of the same keys. Median over upload_rounds.
 */
void chimney_bench_upload_all(struct kunit *test)
{
	unsigned int n = cb_upload_conns, rounds, r, i, k, before;
	u64 *up, *rm, t0, um, bm, sm[CB_NR_LAYOUTS];
	struct chimney_device *cdev;
	struct cb_lookup_state *ls;
	struct net_device *dev;
	struct chimney_tuple t;

	rounds = clamp_t(unsigned int, cb_upload_rounds, 1, CB_MAX_ROUNDS);
	KUNIT_ASSERT_GE(test, n, 1);
	KUNIT_ASSERT_LE(test, n, 1U << 20);
	ls = cb_state_create(test, n);
	up = ls->up;
	rm = ls->rm;
	ls->parts = kvcalloc(n * cb_layouts[0].nr_parts, sizeof(*ls->parts),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ls->parts);

	dev = cb_netdev(test, "cbup%d");
	cdev = cb_attach(dev, n);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cb_detach_action,
							dev), 0);
	for (i = 0; i < n; i++) {
		ls->objs[i] = kzalloc(sizeof(*ls->objs[i]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, ls->objs[i]);
		ls->nr_objs++;
		cb_tuple(&t, i);
		chimney_conn_key_init(&ls->objs[i]->key,
				      cdev->host->layer.stack, &t);
	}
	before = chimney_table_count();

	for (r = 0; r < rounds; r++) {
		KUNIT_ASSERT_EQ(test, cb_fill(cdev, 0, n, NULL), 0);
		KUNIT_ASSERT_EQ(test, chimney_table_count(), before + n);
		t0 = cb_clock();
		KUNIT_ASSERT_EQ(test, chimney_device_upload_all(cdev), 0);
		KUNIT_ASSERT_TRUE(test, cb_wait_count(before));
		up[r] = cb_ns(cb_clock() - t0);
		/* Offload again after the next fill: the target resumes. */
		KUNIT_ASSERT_EQ(test, chimney_target_status(cdev->target,
							    CHIMNEY_STATUS_OFFLOAD_RESUME),
				0);

		for (i = 0; i < n; i++) {
			KUNIT_ASSERT_EQ(test, rhashtable_insert_fast(&ls->by_key,
								     &ls->objs[i]->key_node,
								     cb_key_params), 0);
			if (!(i & 1023))
				cond_resched();
		}
		t0 = cb_clock();
		for (i = 0; i < n; i++)
			rhashtable_remove_fast(&ls->by_key, &ls->objs[i]->key_node,
					       cb_key_params);
		rm[r] = cb_ns(cb_clock() - t0);
		KUNIT_ASSERT_EQ(test, atomic_read(&ls->by_key.nelems), 0);

		for (k = 0; k < CB_NR_LAYOUTS; k++) {
			ls->st[k][r] = cb_storage_work(test, ls, n,
						       &cb_layouts[k]);
			KUNIT_ASSERT_EQ(test,
					atomic_read(&ls->by_key.nelems), 0);
		}
	}
	um = cb_median(up, rounds);
	bm = cb_median(rm, rounds);
	for (k = 0; k < CB_NR_LAYOUTS; k++)
		sm[k] = cb_median(ls->st[k], rounds);
	kunit_info(test, "figure: upload_all_vs_removals: %u connections: UPLOAD_ALL %llu ms (%s us/conn), rhashtable_remove_fast() %llu ms, ratio %sx (goal <= 3.00x)\n",
		   n, div_u64(um, NSEC_PER_MSEC), cb_fix2(um, (u64)n * 1000).s,
		   div_u64(bm, NSEC_PER_MSEC), cb_fix2(um, bm).s);
	/*
	 * What an upload costs without the handshake, per layout: today's
	 * first, whose ratio to UPLOAD_ALL is the handshake's share.
	 */
	for (k = 0; k < CB_NR_LAYOUTS; k++)
		kunit_info(test, "bench: upload_all_storage: %u connections, %s: rhashtable and xarray removal and the frees alone %llu ms, %sx the removals; UPLOAD_ALL %sx this\n",
			   n, cb_layouts[k].name,
			   div_u64(sm[k], NSEC_PER_MSEC),
			   cb_fix2(sm[k], bm).s, cb_fix2(um, sm[k]).s);
}

/* --- the memory figure's held fill (bench_main.c) ---------------------------------- */

static struct net_device *cb_hold_dev;

int cb_hold_fill(unsigned int conns, u64 *fill_ns)
{
	struct chimney_device *cdev;
	struct net_device *dev;
	u64 t0;
	int err;

	if (conns > CHIMNEY_TARGET_MAX_CAPACITY || conns > (1U << 20))
		return -EINVAL;
	dev = cb_netdev_create("cbhold%d");
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	cdev = cb_attach(dev, conns);
	if (!cdev) {
		cb_netdev_destroy(dev);
		return -ENODEV;
	}
	cb_hold_dev = dev;
	t0 = cb_clock();
	err = cb_fill(cdev, 0, conns, NULL);
	*fill_ns = cb_ns(cb_clock() - t0);
	if (err) {
		pr_warn("hold: offload failed with %u connections in the table: %d\n",
			chimney_table_count(), err);
		cb_hold_drain(&t0);
	}
	return err;
}

int cb_hold_drain(u64 *drain_ns)
{
	u64 t0 = cb_clock();
	int err;

	if (!cb_hold_dev)
		return -ENODEV;
	err = chimney_device_detach(cb_hold_dev);
	*drain_ns = cb_ns(cb_clock() - t0);
	cb_netdev_destroy(cb_hold_dev);
	cb_hold_dev = NULL;
	return err;
}
