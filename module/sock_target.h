/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_SOCK_TARGET_H
#define _CHIMNEY_SOCK_TARGET_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <chimney/chimney.h>

#include "sock_sample.h"

struct net_device;
struct seq_file;
struct sock;

/* Where a socket holding the chimney ULP stands. */
enum chimney_sock_state {
	CHIMNEY_SOCK_UPLOADED,		/* plain Linux TCP: never offloaded, or uploaded */
	CHIMNEY_SOCK_OFFLOADED,		/* its events go to the device's stack */
	CHIMNEY_SOCK_TERMINATING,	/* the target was asked to upload it */
};

/*
 * The ULP's context of one socket (icsk_ulp_data), and the socket
 * target's context of its connection while offloaded. Two references: the
 * socket's, until the ULP is released, and the offload's, from the
 * initiate to the terminate completion. Freed a grace period after the
 * last (inet_diag and the listings read it under RCU).
 */
struct chimney_sock {
	spinlock_t lock;		/* all below but the saved callbacks */
	struct sock *sk;		/* NULL once the ULP was released */
	struct chimney_sock_target *st;	/* while offloaded */
	struct chimney_offload_handle *upper;
	u64 id;				/* the connection's, while offloaded */
	struct chimney_tuple tuple;	/* its 4-tuple, while offloaded */
	enum chimney_sock_state state;
	bool rx_closed;			/* Disconnect raised on this offload */
	bool aborted;			/* Abort raised */
	bool urgent;			/* Retrieve(ReceivedUrgentData) raised */
	bool timed_out;			/* Retrieve(TimeoutExpiration) raised */
	bool invalidated;		/* Retrieve(InvalidState) raised */
	bool fin_polling;		/* fin_work queued: FIN in, data unread */
	u8 wrapped;			/* CHIMNEY_SOCK_CB_*: ours in the socket */
	/* The sampler's, reset by each initiate. */
	u32 wanted;			/* CHIMNEY_SOCK_WANTS() of reasons raised */
	struct chimney_sock_sample last; /* where the rates' windows start */
	u32 backlog;			/* last indicated; 0: none yet */
	unsigned long backlog_at;
	struct list_head node;		/* in st->conns while offloaded */
	u32 offloads;
	u32 uploads;
	/* The socket's callbacks we wrap; set while wrapped, kept after. */
	void (*state_change)(struct sock *sk);
	void (*data_ready)(struct sock *sk);
	void (*error_report)(struct sock *sk);
	/* Disconnect once the application has read up to the FIN. */
	struct delayed_work fin_work;
	refcount_t ref;			/* the socket's, the offload's, fin_work's */
	struct rcu_head rcu;
};

/* The socket target: the bottom layer of a device attached target=sock. */
struct chimney_sock_target {
	struct chimney_layer layer;
	/* One socket offload at a time: @pending is its socket. */
	struct mutex offload_lock;
	struct chimney_sock *pending;
	struct task_struct *pending_task;
	bool link_up;			/* the device's; chimney_devices_lock */
	spinlock_t lock;		/* the counters, @conns, @knobs */
	unsigned int nr_conns;
	struct list_head conns;		/* chimney_sock.node, offloaded */
	struct chimney_sock_knobs knobs;
	/* Looks at every offloaded socket each knobs.sample_ms. */
	struct delayed_work sample_work;
	u64 samples;
	u64 backlogs;			/* SendBacklogChange raised */
	u64 retrieves[CHIMNEY_UPLOAD_REASON_MAX]; /* optional ones, by reason */
	u64 disconnects;
	u64 aborts;
	u64 urgents;
	u64 timeouts;			/* a TCP timer gave up */
	u64 rtos;			/* retransmission timeouts (TCP_CA_Loss) */
	u64 closed;			/* sockets destroyed while offloaded */
	u64 invalidations;		/* Retrieve(InvalidState) raised */
	u64 refused;			/* initiates with no socket behind them */
};

struct chimney_sock *chimney_sock_alloc(struct sock *sk);
void chimney_sock_put(struct chimney_sock *cs);
int chimney_sock_offload(struct chimney_sock *cs, struct sock *sk,
			 u64 *id);
void chimney_sock_release(struct chimney_sock *cs, struct sock *sk,
			  bool raise);
void chimney_sock_loss(struct chimney_sock *cs, struct sock *sk);
const char *chimney_sock_state_name(enum chimney_sock_state state);
bool chimney_sock_conn_show(struct seq_file *m, u64 id);

struct chimney_sock_target *chimney_sock_target_create(struct net_device *dev);
void chimney_sock_target_destroy(struct chimney_sock_target *st);
void chimney_sock_target_stats_show(struct seq_file *m,
				    struct chimney_sock_target *st);
int chimney_sock_target_set_knob(struct chimney_sock_target *st,
				 enum chimney_sock_knob knob, s64 value);
s64 chimney_sock_target_get_knob(struct chimney_sock_target *st,
				 enum chimney_sock_knob knob);
void chimney_sock_target_set_link(struct chimney_sock_target *st, bool up);
unsigned int chimney_sock_target_invalidate(struct chimney_sock_target *st,
					    u16 family,
					    const union chimney_addr *addr);
bool chimney_sock_uses_addr(const struct chimney_tuple *t, u16 family,
			    const union chimney_addr *addr);

int chimney_sock_target_init(void);
void chimney_sock_target_exit(void);

#endif
