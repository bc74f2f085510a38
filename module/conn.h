/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_CONN_H
#define _CHIMNEY_CONN_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/rhashtable-types.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <chimney/chimney.h>

struct chimney_stack;

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

/*
 * conn->ev, the one word the event path reads and writes: the state, the
 * sub-flags of OFFLOADED the accepted events imply, whether the target may
 * still raise anything, how many target-originated upcalls are running
 * (the rundown waits for none), and how many events were accepted. One
 * compare-and-exchange accepts an event, one subtraction ends its upcall:
 * no lock, and nothing shared with other connections.
 */
#define CHIMNEY_EV_STATE		GENMASK_ULL(1, 0)
#define CHIMNEY_CONN_RX_CLOSED		BIT_ULL(2)	/* disconnect indicated */
#define CHIMNEY_CONN_ABORTED		BIT_ULL(3)	/* abort indicated */
#define CHIMNEY_CONN_UPLOAD_REQUESTED	BIT_ULL(4)	/* retrieve indicated */
#define CHIMNEY_CONN_FLAGS		GENMASK_ULL(4, 2)
/* The target was asked to terminate, or nobody is left to deliver to. */
#define CHIMNEY_EV_CLOSED		BIT_ULL(5)
#define CHIMNEY_EV_INFLIGHT_SHIFT	8
#define CHIMNEY_EV_INFLIGHT		BIT_ULL(CHIMNEY_EV_INFLIGHT_SHIFT)
#define CHIMNEY_EV_INFLIGHT_MASK	GENMASK_ULL(23, 8)
#define CHIMNEY_EV_EVENTS_SHIFT		24
#define CHIMNEY_EV_EVENT		BIT_ULL(CHIMNEY_EV_EVENTS_SHIFT)

/*
 * The table key; zero-filled before use so padding hashes the same. The
 * stack stands for the device and its namespace (a device leaving either
 * takes its connections with it) and is the connection's stack.
 */
struct chimney_conn_key {
	struct chimney_stack *stack;
	u16 family;
	__be16 sport;
	__be16 dport;
	u16 pad;
	union chimney_addr saddr;
	union chimney_addr daddr;
};

/*
 * Each hop of a connection is the handle of the layer at that depth of
 * its stack; the bottom layer (the target) owns none, so a connection
 * stores one handle fewer than its stack has layers. The handle carries,
 * in chimney_reserved, the connection's address tagged with the hop's
 * index (connections are CHIMNEY_CONN_ALIGN aligned): that is how an
 * indication on a handle finds the connection and the layer that owns the
 * handle. The layers themselves are the
 * stack's: they cannot change while it carries connections, and every
 * connection pins its stack.
 */
#define CHIMNEY_CONN_ALIGN	CHIMNEY_MAX_DEPTH
static_assert(!(CHIMNEY_CONN_ALIGN & (CHIMNEY_CONN_ALIGN - 1)));

/*
 * Sized for a million of them: one allocation per connection from a
 * dedicated cache, per-hop state in bitmasks, the event path on one word.
 */
struct chimney_conn {
	struct rhash_head key_node;
	struct chimney_conn_key key;
	u64 id;
	refcount_t ref;
	u32 backlog;			/* last send backlog indicated */
	atomic64_t ev;			/* CHIMNEY_EV_* and CHIMNEY_CONN_* */

	spinlock_t lock;		/* the terminate bookkeeping below */
	int term_status;
	u16 initiate_done;		/* per hop: the layer below completed */
	u16 initiate_ok;
	u16 terminate_done;
	u8 nr_hops;			/* the stack's depth */
	u8 nr_handles;			/* nr_hops - 1: the bottom owns none */
	u8 term_top;			/* hop told last: 0, or a failing layer */
	s8 term_pending;		/* hop index to complete, or -1 */
	u8 partial_top;			/* >0: initiate failed above this hop */
	/*
	 * Terminate completions travel up in process context, delivered by
	 * whoever owns term_busy: the thread that started the terminate once
	 * its call returns, or complete_work.
	 */
	bool term_busy;
	bool term_start;		/* complete_work starts a partial terminate */
	bool drained;			/* rundown done: no upcall can start */
	bool in_table;
	/*
	 * complete_work is never queued once the last reference can go
	 * (the connection is unlinked only after the last completion), and
	 * the free waits for a grace period: one may reuse the other.
	 */
	union {
		struct work_struct complete_work;
		struct rcu_head rcu;
	};
	struct chimney_offload_handle *hops[] __counted_by(nr_handles);
};

/* What a handle's chimney_reserved holds: the connection and the hop index. */
static inline void *chimney_hop_tag(struct chimney_conn *conn,
				    unsigned int index)
{
	return (void *)((unsigned long)conn | index);
}

static inline struct chimney_conn *chimney_tag_conn(const void *tag)
{
	return (struct chimney_conn *)((unsigned long)tag &
				       ~(unsigned long)(CHIMNEY_CONN_ALIGN - 1));
}

static inline unsigned int chimney_tag_index(const void *tag)
{
	return (unsigned long)tag & (CHIMNEY_CONN_ALIGN - 1);
}

static inline enum chimney_conn_state chimney_conn_state(struct chimney_conn *conn)
{
	return atomic64_read(&conn->ev) & CHIMNEY_EV_STATE;
}

/* Replace the state, keeping the rest of the word. */
static inline void chimney_conn_set_state(struct chimney_conn *conn,
					  enum chimney_conn_state state)
{
	s64 old = atomic64_read(&conn->ev);

	while (!atomic64_try_cmpxchg(&conn->ev, &old,
				     (old & ~CHIMNEY_EV_STATE) | state))
		;
}

int chimney_table_init(void);
void chimney_table_exit(void);
void chimney_conn_key_init(struct chimney_conn_key *key,
			   struct chimney_stack *stack,
			   const struct chimney_tuple *tuple);
int chimney_table_reserve(struct chimney_conn *conn);
void chimney_table_unreserve(struct chimney_conn *conn);
int chimney_table_insert(struct chimney_conn *conn);
void chimney_table_remove(struct chimney_conn *conn);
struct chimney_conn *chimney_conn_lookup(const struct chimney_conn_key *key);
struct chimney_conn *chimney_conn_lookup_id(u64 id);
struct chimney_conn *chimney_conn_get_id(u64 id);
struct chimney_conn *chimney_conn_lookup_next(unsigned long *slot);
/* Past every slot (U32_MAX is never allocated): the walk is over. */
#define CHIMNEY_WALK_DONE	ULONG_MAX
unsigned int chimney_conn_gather(unsigned long *slot, void **batch,
				 unsigned int max,
				 void *(*take)(struct chimney_conn *conn, void *arg),
				 void *arg);
struct chimney_conn *chimney_conn_alloc(unsigned int nr_hops);
unsigned int chimney_table_count(void);

/* Where the connection with @id sits in the id index: the id's low half. */
static inline unsigned long chimney_id_slot(u64 id)
{
	return lower_32_bits(id);
}

static inline unsigned long chimney_conn_slot(const struct chimney_conn *conn)
{
	return chimney_id_slot(conn->id);
}

/*
 * Whether @xa still holds an entry. Not xa_empty(): an insert that failed
 * for memory may leave empty nodes behind (xa_destroy() frees them).
 */
static inline bool chimney_xa_holds_entries(struct xarray *xa)
{
	unsigned long index = 0;

	return xa_find(xa, &index, ULONG_MAX, XA_PRESENT);
}

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
