/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_CONN_H
#define _CHIMNEY_CONN_H

#include <linux/rhashtable-types.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <chimney/chimney.h>

struct chimney_stack;
struct net;

/*
 * Lifecycle of one connection, as the framework sees it (spec section c).
 * Events are legal in OFFLOADED, and in TERMINATING until the target has
 * been asked to terminate (its terminate op returned, or it completed);
 * TERMINATING starts when a terminate is started from the top (or, after
 * an intermediate layer failed an initiate that succeeded below it, from
 * that layer) and ends when the last layer has been told it completed.
 */
enum chimney_conn_state {
	CHIMNEY_CONN_OFFLOADING,
	CHIMNEY_CONN_OFFLOADED,
	CHIMNEY_CONN_TERMINATING,
	CHIMNEY_CONN_TERMINATED,
};

/* Sub-flags of OFFLOADED, set when the event that implies them is accepted. */
#define CHIMNEY_CONN_RX_CLOSED		BIT(0)	/* disconnect indicated */
#define CHIMNEY_CONN_ABORTED		BIT(1)	/* abort indicated */
#define CHIMNEY_CONN_UPLOAD_REQUESTED	BIT(2)	/* retrieve indicated */

/* The table key; zero-filled before use so padding hashes the same. */
struct chimney_conn_key {
	const struct net *net;
	int ifindex;
	u16 family;
	__be16 sport;
	__be16 dport;
	u16 pad;
	union chimney_addr saddr;
	union chimney_addr daddr;
};

/*
 * One layer's view of a connection: chimney_reserved of that layer's
 * handle points here, which is how an indication on a handle finds the
 * connection and the layer that owns the handle.
 */
struct chimney_hop {
	struct chimney_conn *conn;
	struct chimney_layer *layer;
	struct chimney_offload_handle *handle;
	unsigned int index;
	bool initiate_done;		/* the layer below completed it */
	bool initiate_ok;
	bool terminate_done;
};

struct chimney_conn {
	struct rhash_head key_node;
	struct rhash_head id_node;
	struct chimney_conn_key key;
	u64 id;
	struct chimney_stack *stack;
	struct list_head stack_node;	/* stack->conns, RCU */
	refcount_t ref;
	bool in_table;

	spinlock_t lock;		/* everything below but drain_next */
	enum chimney_conn_state state;
	unsigned long flags;
	unsigned int inflight;		/* target-originated upcalls running */
	u32 backlog;			/* last send backlog indicated */
	u64 nr_events;			/* events accepted from the target */
	bool target_asked;		/* the target was asked to terminate */

	/*
	 * Terminate completions travel up in process context, delivered by
	 * whoever owns term_busy: the thread that started the terminate once
	 * its call returns, or complete_work.
	 */
	struct work_struct complete_work;
	int term_status;
	int term_top;			/* hop told last: 0, or a failing layer */
	int term_pending;		/* hop index to complete, or -1 */
	int partial_top;		/* >0: initiate failed above this hop */
	bool term_busy;
	bool term_start;		/* complete_work starts a partial terminate */
	bool drained;			/* rundown done: no upcall can start */

	struct chimney_conn *drain_next; /* stack->drain_lock */
	struct rcu_head rcu;
	unsigned int nr_hops;
	struct chimney_hop hops[] __counted_by(nr_hops);
};

int chimney_table_init(void);
void chimney_table_exit(void);
void chimney_conn_key_init(struct chimney_conn_key *key,
			   const struct net *net, int ifindex,
			   const struct chimney_tuple *tuple);
int chimney_table_insert(struct chimney_conn *conn);
void chimney_table_remove(struct chimney_conn *conn);
struct chimney_conn *chimney_conn_lookup(const struct chimney_conn_key *key);
struct chimney_conn *chimney_conn_lookup_id(u64 id);
struct chimney_conn *chimney_conn_get_id(u64 id);
unsigned int chimney_table_count(void);
u64 chimney_conn_next_id(void);

static inline void chimney_conn_get(struct chimney_conn *conn)
{
	refcount_inc(&conn->ref);
}

void chimney_conn_put(struct chimney_conn *conn);

static inline const char *chimney_conn_state_name(enum chimney_conn_state s)
{
	static const char * const names[] = {
		[CHIMNEY_CONN_OFFLOADING] = "offloading",
		[CHIMNEY_CONN_OFFLOADED] = "offloaded",
		[CHIMNEY_CONN_TERMINATING] = "terminating",
		[CHIMNEY_CONN_TERMINATED] = "terminated",
	};

	return (unsigned int)s < ARRAY_SIZE(names) ? names[s] : "?";
}

#endif
