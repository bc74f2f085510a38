// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table: two rhashtables over the same objects, one keyed by
 * (netns, ifindex, family, 4-tuple) for the duplicate check and lookups from
 * the data path, one keyed by the stable 64-bit id for debugfs and the fake
 * target. Lookups are lock-free under RCU; rhashtable does per-bucket
 * locking for writers and resizes itself, so lookup cost stays flat up to
 * millions of entries.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rhashtable.h>
#include <linux/slab.h>

#include "compat.h"
#include "conn.h"
#include "stack.h"

static const struct rhashtable_params chimney_key_params = {
	.key_len = sizeof(struct chimney_conn_key),
	.key_offset = offsetof(struct chimney_conn, key),
	.head_offset = offsetof(struct chimney_conn, key_node),
	.automatic_shrinking = true,
};

static const struct rhashtable_params chimney_id_params = {
	.key_len = sizeof(u64),
	.key_offset = offsetof(struct chimney_conn, id),
	.head_offset = offsetof(struct chimney_conn, id_node),
	.automatic_shrinking = true,
};

static struct rhashtable chimney_by_key;
static struct rhashtable chimney_by_id;
static atomic64_t chimney_last_id;

int chimney_table_init(void)
{
	int err;

	err = rhashtable_init(&chimney_by_key, &chimney_key_params);
	if (err)
		return err;
	err = rhashtable_init(&chimney_by_id, &chimney_id_params);
	if (err)
		rhashtable_destroy(&chimney_by_key);
	return err;
}

void chimney_table_exit(void)
{
	/* Every connection is gone by now; an entry left here is a bug. */
	WARN_ON(atomic_read(&chimney_by_key.nelems));
	rhashtable_destroy(&chimney_by_id);
	rhashtable_destroy(&chimney_by_key);
}

void chimney_conn_key_init(struct chimney_conn_key *key,
			   const struct net *net, int ifindex,
			   const struct chimney_tuple *tuple)
{
	memset(key, 0, sizeof(*key));
	key->net = net;
	key->ifindex = ifindex;
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

/* Caller holds the stack's conns_lock, which orders this against removal. */
int chimney_table_insert(struct chimney_conn *conn)
{
	int err;

	err = rhashtable_lookup_insert_fast(&chimney_by_key, &conn->key_node,
					    chimney_key_params);
	if (err)
		return err;
	err = rhashtable_insert_fast(&chimney_by_id, &conn->id_node,
				     chimney_id_params);
	if (err) {
		rhashtable_remove_fast(&chimney_by_key, &conn->key_node,
				       chimney_key_params);
		return err;
	}
	conn->in_table = true;
	return 0;
}

void chimney_table_remove(struct chimney_conn *conn)
{
	if (!conn->in_table)
		return;
	rhashtable_remove_fast(&chimney_by_id, &conn->id_node,
			       chimney_id_params);
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
	return rhashtable_lookup(&chimney_by_id, &id, chimney_id_params);
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

unsigned int chimney_table_count(void)
{
	return atomic_read(&chimney_by_key.nelems);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_table_count);

void chimney_conn_put(struct chimney_conn *conn)
{
	/* Lock-free readers may still hold the pointer: free after a GP. */
	if (refcount_dec_and_test(&conn->ref))
		kfree_rcu(conn, rcu);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_put);
