/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the chimney KUnit suites: real net devices for the tests, and
 * layers written against nothing but <chimney/chimney.h>, as another module
 * would write them.
 */
#ifndef _CHIMNEY_KUNIT_UTIL_H
#define _CHIMNEY_KUNIT_UTIL_H

#include <kunit/test.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <chimney/chimney.h>

#include "conn.h"

#define CT_MAX_LAYERS	12
#define CT_LOG_MAX	256

/* One upcall as a layer saw it. */
struct ct_hop {
	int layer;			/* index in the stack, 0 = top */
	struct chimney_offload_handle *handle;
	u32 type;
	u32 info;
};

struct ct_stack;

struct ct_layer {
	struct chimney_layer layer;
	struct ct_stack *st;
	int index;			/* 0 = top */

	/* Behaviour knobs of an intermediate layer (misbehaving on purpose). */
	unsigned long refuse_terminate_until; /* jiffies: refuse before it */
	bool fail_up;			/* fail upwards an initiate that succeeded */
	bool change_forward;		/* forward with info + 1 */
	void (*event_hook)(struct ct_layer *l, u32 type, u32 info);
	void (*event_hook_after)(struct ct_layer *l, u32 type, u32 info);
	void (*terminate_hook)(struct ct_layer *l);

	atomic_t terminate_calls;
	atomic_t terminate_completes;
	atomic_t forward_errors;
	int unbinds;
};

/* An intermediate layer's per-connection entry (spec section d). */
struct ct_entry {
	struct chimney_offload_handle own;
	struct chimney_offload_handle *upper;
	bool failed_up;			/* initiate failed upwards: no upper */
};

/* The test target's per-connection context. */
struct ct_tconn {
	struct chimney_offload_handle *upper;
	u64 id;
};

/* The test protocol layer's per-connection state. */
struct ct_tcb {
	struct chimney_offload_handle handle;
	int initiate_status;		/* 1 until completed */
	bool initiated;
	bool terminated;
	int terminate_status;
};

struct ct_stack {
	struct kunit *test;
	struct net_device *dev;
	int nr_im;
	struct ct_layer top;
	struct ct_layer im[CT_MAX_LAYERS];
	struct ct_layer target;

	bool async;			/* target completes only when told */
	bool complete_in_rcu;		/* target completes inside rcu_read_lock() */
	atomic_t tconns;		/* contexts the target holds */
	atomic_t top_events;		/* events the top received */
	atomic_t top_nested_refused;	/* -ELOOP seen by ct_nested_raise() */
	bool top_atomic;		/* a process-context op ran atomic */
	struct ct_tconn *pending_initiate;
	struct ct_tconn *pending_terminate;
	struct ct_tconn *last_tconn;

	/* Top-layer upcall hook (rundown test); runs in the event op. */
	void (*top_hook)(struct ct_stack *st);

	spinlock_t lock;
	struct ct_hop log[CT_LOG_MAX];
	int nr_log;
	int initiate_completes;
	int terminate_completes;
};

struct net_device *ct_netdev(struct kunit *test, const char *name);
struct net_device *ct_netdev_unmanaged(struct kunit *test, const char *name);
struct chimney_device;
struct chimney_device *ct_attach(struct kunit *test, struct net_device *dev,
				 unsigned int capacity);
struct ct_stack *ct_stack_create(struct kunit *test, struct net_device *dev,
				 int nr_im);
struct ct_stack *ct_im_only(struct kunit *test, struct net_device *dev,
			    int nr_im);
int ct_offload(struct ct_stack *st, struct ct_tcb *tcb, u16 sport);
enum chimney_conn_state ct_conn_state(u64 id);
void ct_tuple4(struct chimney_tuple *t, u32 saddr, u16 sport, u32 daddr,
	       u16 dport);
int ct_target_complete_initiate(struct ct_stack *st, int status);
int ct_target_complete_terminate(struct ct_stack *st, int status);
void ct_log_reset(struct ct_stack *st);

#endif
