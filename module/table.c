// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table: an rhashtable keyed by (stack, family, 4-tuple)
 * for the duplicate check and lookups from the data path, and an xarray
 * of id slots for lookups by the stable 64-bit id (debugfs, the fake
 * target) and ordered walks. Lookups are lock-free under RCU; rhashtable
 * does per-bucket locking for writers and resizes itself, so lookup cost
 * stays flat up to millions of entries. Connections come from their own
 * cache.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "compat.h"
#include "conn.h"
#include "stack.h"

static const struct rhashtable_params chimney_key_params = {
	.key_len = sizeof(struct chimney_conn_key),
	.key_offset = offsetof(struct chimney_conn, key),
	.head_offset = offsetof(struct chimney_conn, key_node),
	.automatic_shrinking = true,
};

static struct rhashtable chimney_by_key;
/*
 * The id index: a connection takes the lowest free slot, so the tree is as
 * shallow as the live connections allow (two levels up to 4,096) whatever
 * number of connections came and went before, and costs about a pointer
 * per connection. The id is the slot under a sequence number taken in
 * allocation order (chimney_conn_slot()): ids still only grow, and a stale
 * id whose slot a newer connection took finds nothing. Walks go in slot
 * order and resume where they stopped in O(log N). The top slot stays
 * free so that a walker's next slot never wraps.
 */
static DEFINE_XARRAY_ALLOC1(chimney_by_id);
#define CHIMNEY_ID_SLOTS	XA_LIMIT(1, U32_MAX - 1)
static atomic_t chimney_id_seq;
static struct kmem_cache *chimney_conn_cache;

/* Sized for the usual two-layer stack; deeper stacks take kmalloc. */
#define CHIMNEY_CACHED_HOPS	2
#define CHIMNEY_CACHED_HANDLES	(CHIMNEY_CACHED_HOPS - 1)

int chimney_table_init(void)
{
	struct chimney_conn *conn = NULL;
	int err;

	/* The alignment leaves room for the hop index in a handle's tag. */
	chimney_conn_cache = kmem_cache_create("chimney_conn",
					       struct_size(conn, hops, CHIMNEY_CACHED_HANDLES),
					       CHIMNEY_CONN_ALIGN, 0, NULL);
	if (!chimney_conn_cache)
		return -ENOMEM;
	err = rhashtable_init(&chimney_by_key, &chimney_key_params);
	if (err)
		kmem_cache_destroy(chimney_conn_cache);
	return err;
}

void chimney_table_exit(void)
{
	/* Every connection is gone by now; an entry left here is a bug. */
	WARN_ON(atomic_read(&chimney_by_key.nelems));
	WARN_ON(chimney_xa_holds_entries(&chimney_by_id));
	xa_destroy(&chimney_by_id);
	rhashtable_destroy(&chimney_by_key);
	/* The caller's two rcu_barrier()s ran every chimney_conn_free(). */
	kmem_cache_destroy(chimney_conn_cache);
}

/*
 * A zeroed connection for a stack of @nr_hops layers (at least two, the
 * caller checks), with room for the handles of all but the bottom one.
 */
struct chimney_conn *chimney_conn_alloc(unsigned int nr_hops)
{
	struct chimney_conn *conn;

	if (nr_hops <= CHIMNEY_CACHED_HOPS)
		conn = kmem_cache_zalloc(chimney_conn_cache, GFP_KERNEL);
	else	/* kmalloc aligns power-of-two sizes naturally */
		conn = kzalloc(roundup_pow_of_two(struct_size(conn, hops, nr_hops - 1)),
			       GFP_KERNEL);
	if (!conn)
		return NULL;
	conn->nr_hops = nr_hops;
	conn->nr_handles = nr_hops - 1;
	return conn;
}

static void chimney_conn_free(struct rcu_head *rcu)
{
	struct chimney_conn *conn = container_of(rcu, struct chimney_conn, rcu);

	chimney_stack_put(conn->key.stack);
	if (conn->nr_hops <= CHIMNEY_CACHED_HOPS)
		kmem_cache_free(chimney_conn_cache, conn);
	else
		kfree(conn);
}

void chimney_conn_key_init(struct chimney_conn_key *key,
			   struct chimney_stack *stack,
			   const struct chimney_tuple *tuple)
{
	memset(key, 0, sizeof(*key));
	key->stack = stack;
	key->family = tuple->family;
	key->sport = tuple->sport;
	key->dport = tuple->dport;
	if (tuple->family == AF_INET) {
		key->saddr.ip = tuple->saddr.ip;
		key->daddr.ip = tuple->daddr.ip;
	} else {
		key->saddr.in6 = tuple->saddr.in6;
		key->daddr.in6 = tuple->daddr.in6;
	}
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_key_init);

/*
 * Reserve a slot for @conn and give it its id: process context, before
 * chimney_table_insert(). The sequence wraps after 2^32 connections; only
 * a stale id of the same slot from that long ago could then match.
 */
int chimney_table_reserve(struct chimney_conn *conn)
{
	u32 slot;
	int err;

	/* A NULL entry is stored reserved: lookups and walks skip it. */
	err = xa_alloc(&chimney_by_id, &slot, NULL, CHIMNEY_ID_SLOTS, GFP_KERNEL);
	if (err)
		return err == -EBUSY ? -ENOSPC : err;
	conn->id = (u64)(u32)atomic_inc_return(&chimney_id_seq) << 32 | slot;
	return 0;
}

/* Give back a slot chimney_table_insert() did not fill. */
void chimney_table_unreserve(struct chimney_conn *conn)
{
	xa_release(&chimney_by_id, chimney_conn_slot(conn));
}

/*
 * Caller holds the stack's conns_lock, which orders this against removal,
 * and reserved the id slot, so nothing here allocates.
 */
int chimney_table_insert(struct chimney_conn *conn)
{
	int err;

	err = rhashtable_lookup_insert_fast(&chimney_by_key, &conn->key_node,
					    chimney_key_params);
	if (err)
		return err;
	xa_store(&chimney_by_id, chimney_conn_slot(conn), conn, GFP_NOWAIT);
	conn->in_table = true;
	return 0;
}

void chimney_table_remove(struct chimney_conn *conn)
{
	if (!conn->in_table)
		return;
	xa_erase(&chimney_by_id, chimney_conn_slot(conn));
	rhashtable_remove_fast(&chimney_by_key, &conn->key_node,
			       chimney_key_params);
	conn->in_table = false;
}

/* Caller holds rcu_read_lock(); the result is valid until it drops it. */
struct chimney_conn *chimney_conn_lookup(const struct chimney_conn_key *key)
{
	return rhashtable_lookup(&chimney_by_key, key, chimney_key_params);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_lookup);

/*
 * Caller holds rcu_read_lock(); the result is valid until it drops it.
 * xa_load() without its own RCU section: the lookup is on the data path.
 */
struct chimney_conn *chimney_conn_lookup_id(u64 id)
{
	XA_STATE(xas, &chimney_by_id, chimney_id_slot(id));
	struct chimney_conn *conn;

	do {
		conn = xas_load(&xas);
		/* A reserved slot: its connection is not in the table yet. */
		if (xa_is_zero(conn))
			return NULL;
	} while (xas_retry(&xas, conn));
	return conn && conn->id == id ? conn : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_lookup_id);

/* A referenced connection by id, or NULL; drop it with chimney_conn_put(). */
struct chimney_conn *chimney_conn_get_id(u64 id)
{
	struct chimney_conn *conn;

	rcu_read_lock();
	conn = chimney_conn_lookup_id(id);
	if (conn && !refcount_inc_not_zero(&conn->ref))
		conn = NULL;
	rcu_read_unlock();
	return conn;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_get_id);

/*
 * The connection in the lowest slot at or above *@slot, with *@slot set to
 * its slot; NULL when there is none. Caller holds rcu_read_lock(). O(log N)
 * per call, so a walk of the table costs O(N) in total whatever it holds
 * between steps. A connection offloaded during a walk may land behind it.
 */
struct chimney_conn *chimney_conn_lookup_next(unsigned long *slot)
{
	return xa_find(&chimney_by_id, slot, ULONG_MAX, XA_PRESENT);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_lookup_next);

/**
 * chimney_conn_gather() - take a batch of the id index under RCU
 * @slot: where to start; set past the last connection looked at, or to
 *	CHIMNEY_WALK_DONE at the end of the index
 * @batch: what @take returned non-NULL, at most @max of them
 * @max: how many to take in this RCU section
 * @take: under rcu_read_lock(): what to keep of @conn, with the reference
 *	that keeps it past the section, or NULL to pass it by
 * @arg: for @take
 *
 * A walk of the whole index in batches costs O(N) in total; its caller
 * works on each batch outside the RCU section (and may sleep there).
 *
 * Return: how many entries of @batch were filled.
 */
unsigned int chimney_conn_gather(unsigned long *slot, void **batch,
				 unsigned int max,
				 void *(*take)(struct chimney_conn *conn, void *arg),
				 void *arg)
{
	struct chimney_conn *conn;
	unsigned int n = 0;
	void *got;

	rcu_read_lock();
	while (n < max) {
		conn = chimney_conn_lookup_next(slot);
		if (!conn) {
			*slot = CHIMNEY_WALK_DONE;
			break;
		}
		++*slot;
		got = take(conn, arg);
		if (got)
			batch[n++] = got;
	}
	rcu_read_unlock();
	return n;
}

unsigned int chimney_table_count(void)
{
	return atomic_read(&chimney_by_key.nelems);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_table_count);

void chimney_conn_put(struct chimney_conn *conn)
{
	/* Lock-free readers may still hold the pointer: free after a GP. */
	if (refcount_dec_and_test(&conn->ref))
		call_rcu(&conn->rcu, chimney_conn_free);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_put);
