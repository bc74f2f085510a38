/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_TARGET_H
#define _CHIMNEY_TARGET_H

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <chimney/chimney.h>

/*
 * TCP_OFFLOAD_STATS, kept per address family as the spec asks. The
 * counters wrap like their SNMP Counter32/Counter64 counterparts.
 */
struct chimney_target_stats {
	u64 in_segments;
	u64 out_segments;
	u32 currently_established;
	u32 reset_established;
	u32 retransmitted_segments;
	u32 in_errors;
	u32 out_resets;
};

/* Knobs in the netdevsim style; written through debugfs or by tests. */
struct chimney_target_knobs {
	unsigned int capacity;		/* TcpConnectionOffloadCapacity */
	unsigned int initiate_delay_ms;	/* 0: complete inside initiate */
	unsigned int terminate_delay_ms;
	int fail_next_initiate;		/* one-shot errno for the completion */
	int fail_next_terminate;	/* one-shot errno for the completion */
	bool fail_initiate;		/* sticky: every initiate fails -EIO */
	bool fail_terminate;		/* sticky: every terminate loses state */
	unsigned int backlog_interval_ms; /* at most one backlog per interval */
};

/* One knob; each is set on its own (chimney_target_set_knob()). */
enum chimney_target_knob {
	CHIMNEY_KNOB_CAPACITY,
	CHIMNEY_KNOB_INITIATE_DELAY,
	CHIMNEY_KNOB_TERMINATE_DELAY,
	CHIMNEY_KNOB_FAIL_NEXT_INITIATE,
	CHIMNEY_KNOB_FAIL_NEXT_TERMINATE,
	CHIMNEY_KNOB_FAIL_INITIATE,
	CHIMNEY_KNOB_FAIL_TERMINATE,
	CHIMNEY_KNOB_BACKLOG_INTERVAL,
	__CHIMNEY_KNOB_MAX,
};

extern const char * const chimney_target_knob_names[__CHIMNEY_KNOB_MAX];

struct chimney_target {
	struct chimney_layer layer;
	spinlock_t lock;		/* all below but status_lock; held across upcalls */
	unsigned int nr_conns;		/* including initiates in flight */
	struct chimney_target_knobs knobs;
	struct chimney_target_stats stats[2];	/* [0] IPv4, [1] IPv6 */
	u64 backlog_indicated;
	u64 backlog_suppressed;
	u64 backlog_trailing;		/* delivered late by backlog_work */
	u64 refused_full;
	u64 refused_down;
	bool dying;
	bool link_up;			/* refuse initiates while down */
	bool suspended;			/* PAUSE/UPLOAD_ALL raised, no RESUME yet */
	struct list_head ops;		/* delayed completions, FIFO */
	struct delayed_work ops_work;
	bool ops_armed;			/* ops_work queued or running */
	unsigned long ops_due;		/* when it is queued to run */
	struct list_head backlog_pending; /* conns with a deferred backlog */
	struct delayed_work backlog_work;
	bool backlog_armed;
	unsigned long backlog_due;
	/* Orders status indications with the state they report. */
	struct mutex status_lock;
};

#define CHIMNEY_TARGET_DEFAULT_CAPACITY	1024
#define CHIMNEY_TARGET_MAX_CAPACITY	(4U << 20)
#define CHIMNEY_TARGET_MAX_DELAY_MS	60000
/* Longest path RTT the backlog emulation takes: 60 s, in microseconds. */
#define CHIMNEY_TARGET_MAX_RTT_US	60000000U

struct chimney_target *chimney_target_create(struct net_device *dev,
					     unsigned int capacity);
void chimney_target_destroy(struct chimney_target *t);
void chimney_target_quiesce(struct chimney_target *t);
int chimney_target_raise(struct chimney_target *t, u64 id, u32 type, u32 info);
int chimney_target_hw_failure(struct chimney_target *t, u64 id);
int chimney_target_set_path(struct chimney_target *t, u64 id, u64 rate,
			    u32 rtt_us);
int chimney_target_invalidate(struct chimney_target *t, u16 family,
			      const union chimney_addr *addr);
int chimney_target_traffic(struct chimney_target *t, u64 id, u32 in_segs,
			   u32 out_segs, u32 retrans);
int chimney_target_set_knob(struct chimney_target *t,
			    enum chimney_target_knob knob, s64 value);
s64 chimney_target_get_knob(struct chimney_target *t,
			    enum chimney_target_knob knob);
void chimney_target_get_knobs(struct chimney_target *t,
			      struct chimney_target_knobs *knobs);
int chimney_target_conn_backlog(struct chimney_target *t, u64 id, u32 *backlog);
void chimney_target_init_link(struct chimney_target *t, bool up);
void chimney_target_set_link(struct chimney_target *t, bool up);
int chimney_target_status(struct chimney_target *t, u32 status);
unsigned int chimney_target_read_capacity(void *target);

int chimney_target_init(void);
void chimney_target_exit(void);

#endif
