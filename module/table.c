// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table: an rhashtable keyed by (stack, family, 4-tuple)
 * for the duplicate check and lookups from the data path, and an xarray
 * keyed by the stable 64-bit id for debugfs, the fake target and
 * ordered walks. Lookups are lock-free under RCU; rhashtable does
 * per-bucket locking for writers and resizes itself, so lookup cost stays
 * flat up to millions of entries. Connections come from their own cache.
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
 * The id index: ids only grow, so the live ones sit densely at the top of
 * the range and the xarray costs about a pointer per connection. It is
 * ordered, so a listing resumes where it stopped in O(log N).
 */
static DEFINE_XARRAY(chimney_by_id);
static atomic64_t chimney_last_id;
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
	WARN_ON(!xa_empty(&chimney_by_id));
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

u64 chimney_conn_next_id(void)
{
	return atomic64_inc_return(&chimney_last_id);
}

/* Reserve @conn's id slot: process context, before chimney_table_insert(). */
int chimney_table_reserve(struct chimney_conn *conn)
{
	return xa_reserve(&chimney_by_id, conn->id, GFP_KERNEL);
}

/* Give back a slot chimney_table_insert() did not fill. */
void chimney_table_unreserve(struct chimney_conn *conn)
{
	xa_release(&chimney_by_id, conn->id);
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
	xa_store(&chimney_by_id, conn->id, conn, GFP_NOWAIT);
	conn->in_table = true;
	return 0;
}

void chimney_table_remove(struct chimney_conn *conn)
{
	if (!conn->in_table)
		return;
	xa_erase(&chimney_by_id, conn->id);
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

struct chimney_conn *chimney_conn_lookup_id(u64 id)
{
	return xa_load(&chimney_by_id, id);
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
 * The connection with the lowest id at or above *@id, with *@id set to its
 * id; NULL when there is none. Caller holds rcu_read_lock(). O(log N) per
 * call, so a walk of the table costs O(N) in total whatever it holds
 * between steps.
 */
struct chimney_conn *chimney_conn_lookup_next(u64 *id)
{
	unsigned long index = *id;
	struct chimney_conn *conn;

	if (*id > ULONG_MAX)
		return NULL;
	conn = xa_find(&chimney_by_id, &index, ULONG_MAX, XA_PRESENT);
	*id = index;
	return conn;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_lookup_next);

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
