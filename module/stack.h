/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_STACK_H
#define _CHIMNEY_STACK_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "stats.h"

/*
 * The layers bound to one net_device, top to bottom, and how many
 * connections are offloaded through them (the connections themselves are
 * found through the table's id index). The layer list only changes while
 * the stack carries no connection (a drain holds new initiates off), so a
 * connection can record its layers once.
 *
 * Lifetime: chimney_stacks holds one reference and the device reference,
 * dropped together when the last layer leaves or the device goes away;
 * a drainer holds another while it waits without chimney_stacks_lock.
 */
struct chimney_stack {
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	struct list_head node;		/* chimney_stacks */
	struct list_head layers;	/* top to bottom */
	/* The same, by depth: a connection's hop i is layer_at[i]. */
	struct chimney_layer *layer_at[CHIMNEY_MAX_DEPTH];
	unsigned int depth;
	refcount_t ref;

	spinlock_t conns_lock;		/* nr_conns, draining */
	unsigned int nr_conns;
	unsigned int draining;		/* drains under way: no new initiates */
	bool drain_kick;		/* a connection became offloaded */
	struct mutex drain_lock;	/* one drain pass at a time */

	struct chimney_stats __percpu *stats;
	struct rcu_head rcu;
};

extern struct mutex chimney_stacks_lock;
extern struct list_head chimney_stacks;

/*
 * The layer that owns hop @index of @conn. A live connection's stack keeps
 * its layers; one already gone may read another layer or NULL, which the
 * callers only ever compare.
 */
static inline struct chimney_layer *chimney_conn_layer(const struct chimney_conn *conn,
						       unsigned int index)
{
	return READ_ONCE(conn->key.stack->layer_at[index]);
}

struct chimney_stack *chimney_stack_find(const struct net_device *dev);
void chimney_stack_put(struct chimney_stack *stack);
void chimney_stack_remove(struct net_device *dev);
void chimney_stack_exit(void);

#endif
