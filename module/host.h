/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_HOST_H
#define _CHIMNEY_HOST_H

#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <chimney/chimney.h>

/* The emulated host stack: the protocol layer on top of every device. */
struct chimney_host {
	struct chimney_layer layer;
	spinlock_t lock;		/* tcbs, term_queue, decline */
	struct list_head tcbs;
	unsigned int nr_tcbs;
	struct list_head term_queue;	/* connections to upload */
	struct work_struct term_work;
	unsigned long decline;		/* optional reasons declined, by bit */

	atomic64_t events[CHIMNEY_EVENT_MAX + 1];
	atomic64_t reasons[CHIMNEY_UPLOAD_REASON_MAX];
	atomic64_t declined;
	atomic64_t terminate_errors;
	atomic64_t upload_all;
};

struct chimney_host *chimney_host_create(struct net_device *dev);
void chimney_host_destroy(struct chimney_host *host);
int chimney_host_offload(struct chimney_host *host,
			 const struct chimney_tuple *tuple, u64 *id);
int chimney_host_set_policy(struct chimney_host *host, u32 reason, bool accept);
bool chimney_host_accepts(struct chimney_host *host, u32 reason);
void chimney_host_flush(struct chimney_host *host);

/* Host-side per-connection flags, as shown in debugfs. */
#define CHIMNEY_HOST_OFFLOADED	BIT(0)
#define CHIMNEY_HOST_RX_CLOSED	BIT(1)	/* disconnect: EOF to the app */
#define CHIMNEY_HOST_UPLOADING	BIT(2)	/* terminate queued or running */

#endif
