/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_HOST_H
#define _CHIMNEY_HOST_H

#include <linux/atomic.h>
#include <linux/limits.h>
#include <linux/llist.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <chimney/chimney.h>

#include "stats.h"

/* Where the host reads the target's capacity (at RESUME). */
typedef unsigned int (*chimney_host_capacity_fn)(void *arg);

struct chimney_host_pcpu {
	u64 events[CHIMNEY_EVENT_MAX + 1];
	u64 reasons[CHIMNEY_UPLOAD_REASON_MAX];
	u64 declined;
};

/* The sum over CPUs of one of the host's per-CPU counters. */
#define chimney_host_read(host, field) chimney_pcpu_sum((host)->pcpu, field)

/* The emulated host stack: the protocol layer on top of every device. */
struct chimney_host {
	struct chimney_layer layer;
	spinlock_t lock;		/* all below up to the counters */
	unsigned int nr_tcbs;		/* not yet let go of by the framework */
	struct llist_head term_queue;	/* TCBs to upload */
	struct delayed_work term_work;
	unsigned long decline;		/* optional reasons declined, by bit */
	/*
	 * Why new offloads are refused until OFFLOAD_RESUME: 0, -EAGAIN after
	 * OFFLOAD_PAUSE, -ENETDOWN after UPLOAD_ALL.
	 */
	int blocked;
	unsigned int capacity;		/* the target's, as read at RESUME */
	chimney_host_capacity_fn capacity_fn;
	void *capacity_arg;

	/* Counted on the event path: per CPU. */
	struct chimney_host_pcpu __percpu *pcpu;
	atomic64_t terminate_errors;
	atomic64_t upload_all;
	atomic64_t pause;
	atomic64_t resume;
	atomic64_t refused_full;
};

struct chimney_host *chimney_host_create(struct net_device *dev);
void chimney_host_destroy(struct chimney_host *host);
int chimney_host_offload(struct chimney_host *host,
			 const struct chimney_tuple *tuple, u64 *id);
int chimney_host_set_policy(struct chimney_host *host, u32 reason, bool accept);
bool chimney_host_accepts(struct chimney_host *host, u32 reason);
void chimney_host_flush(struct chimney_host *host);
void chimney_host_set_capacity_source(struct chimney_host *host,
				      chimney_host_capacity_fn fn, void *arg);

/* Host-side per-connection flags (u16). */
#define CHIMNEY_HOST_OFFLOADED	BIT(0)
#define CHIMNEY_HOST_RX_CLOSED	BIT(1)	/* disconnect: EOF to the app */
#define CHIMNEY_HOST_UPLOADING	BIT(2)	/* terminate queued or running */
#define CHIMNEY_HOST_UPLOAD_ALL	BIT(3)	/* initiate pending at UPLOAD_ALL */
#define CHIMNEY_HOST_COMPLETED	BIT(4)	/* the initiate completed, with status */
#define CHIMNEY_HOST_QUEUED	BIT(5)	/* on host->term_queue */
#define CHIMNEY_HOST_GONE	BIT(6)	/* the framework has let go of it */

#endif
