// SPDX-License-Identifier: GPL-2.0
/*
 * The host stack (protocol driver) at the top of every device's stack. It
 * carries out what the spec (section e) asks of the host per event:
 *
 *  - mandatory retrieve and abort: terminate as soon as possible;
 *  - optional retrieve: terminate unless the device's policy declines the
 *    reason (then the target keeps running the connection);
 *  - disconnect: the receive half is closed and the emulated application,
 *    seeing EOF, closes; the connection is then terminated;
 *  - send backlog change: counted; the framework keeps the last one of
 *    each connection (debugfs), the send pipeline depth to use;
 *  - UPLOAD_ALL: terminate everything offloaded on the device, and each
 *    initiate still pending as soon as it completes; offload nothing new
 *    (-ENETDOWN) until OFFLOAD_RESUME;
 *  - OFFLOAD_PAUSE: offload nothing new (-EAGAIN) until OFFLOAD_RESUME;
 *  - OFFLOAD_RESUME: re-read the target's capacity, offload again. The
 *    host refuses offloads beyond that capacity itself (-ENOSPC).
 *
 * Events arrive with BH disabled, so terminates are queued to a work item.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/slab.h>

#include "compat.h"
#include "host.h"
#include "stack.h"

/*
 * 32 bytes, in kmalloc-32 (a cache of its own would turn a TCB leaked on
 * an error path into SLUB's complaint at rmmod instead of kmemleak's
 * report, which the harness self-test's failnth_leak case relies on). The
 * last send backlog indicated is the framework's to keep (debugfs), and
 * the host keeps no list of its TCBs: UPLOAD_ALL finds them through the
 * framework's id index, as hop 0 of each of its stack's connections, under
 * RCU. So a TCB is freed a grace period after its last reference, with
 * ref left at zero for such a walker and chimney_reserved left NULL (for a
 * layer below raising on a handle it must no longer use): the RCU head
 * takes the two words nobody reads by then.
 */
struct chimney_host_tcb {
	union {
		struct {
			struct chimney_offload_handle handle;
			struct llist_node term_node;	/* host->term_queue if QUEUED */
		};
		struct {
			void *reserved;		/* handle.chimney_reserved */
			struct rcu_head rcu;
		};
	};
	refcount_t ref;
	u16 flags;			/* CHIMNEY_HOST_*, host->lock */
	s16 status;			/* of the initiate (an errno), once completed */
};
static_assert(sizeof(struct chimney_host_tcb) == 32);
static_assert(offsetof(struct chimney_host_tcb, reserved) ==
	      offsetof(struct chimney_host_tcb, handle.chimney_reserved));

static struct chimney_host *to_host(struct chimney_layer *layer)
{
	return container_of(layer, struct chimney_host, layer);
}

static struct chimney_host_tcb *to_tcb(struct chimney_offload_handle *h)
{
	return container_of(h, struct chimney_host_tcb, handle);
}

static void chimney_tcb_put(struct chimney_host_tcb *tcb)
{
	if (refcount_dec_and_test(&tcb->ref))
		kfree_rcu(tcb, rcu);
}

/*
 * Put @tcb on the terminate queue unless it is there; the queue holds a
 * reference, so a TCB forgotten meanwhile stays until the worker has
 * looked at it. Return: whether the queue was empty. host->lock held.
 */
static bool chimney_host_enqueue(struct chimney_host *host,
				 struct chimney_host_tcb *tcb)
{
	if (tcb->flags & CHIMNEY_HOST_QUEUED)
		return false;
	tcb->flags |= CHIMNEY_HOST_QUEUED;
	refcount_inc(&tcb->ref);
	return llist_add(&tcb->term_node, &host->term_queue);
}

/* host->lock held. */
static void chimney_host_queue_terminate(struct chimney_host *host,
					 struct chimney_host_tcb *tcb)
{
	tcb->flags |= CHIMNEY_HOST_UPLOADING;
	/*
	 * The worker takes the whole queue each run, so only the entry that
	 * finds it empty wakes it: an UPLOAD_ALL queues a million without
	 * touching the workqueue's locks again.
	 */
	if (chimney_host_enqueue(host, tcb))
		mod_delayed_work(system_wq, &host->term_work, 0);
}

static void chimney_host_event(struct chimney_layer *layer,
			       struct chimney_offload_handle *own,
			       u32 type, u32 info)
{
	struct chimney_host *host = to_host(layer);
	struct chimney_host_tcb *tcb = to_tcb(own);

	this_cpu_inc(host->pcpu->events[type]);
	if (type == CHIMNEY_EVENT_RETRIEVE)
		this_cpu_inc(host->pcpu->reasons[info]);
	/* The common event touches nothing the host shares. */
	if (type == CHIMNEY_EVENT_SEND_BACKLOG_CHANGE)
		return;

	spin_lock(&host->lock);
	switch (type) {
	case CHIMNEY_EVENT_DISCONNECT:
		/* EOF to the application, which closes: upload and close. */
		tcb->flags |= CHIMNEY_HOST_RX_CLOSED;
		chimney_host_queue_terminate(host, tcb);
		break;
	case CHIMNEY_EVENT_RETRIEVE:
		if (chimney_upload_reason_mandatory(info) ||
		    !test_bit(info, &host->decline))
			chimney_host_queue_terminate(host, tcb);
		else
			this_cpu_inc(host->pcpu->declined);
		break;
	case CHIMNEY_EVENT_ABORT:
		chimney_host_queue_terminate(host, tcb);
		break;
	}
	spin_unlock(&host->lock);
}

/* TCBs the host worker takes from its queue per hold of host->lock. */
#define CHIMNEY_HOST_TERM_BATCH	32

static void chimney_host_term_work(struct work_struct *work)
{
	struct chimney_host *host = container_of(to_delayed_work(work),
						 struct chimney_host,
						 term_work);
	struct chimney_host_tcb *batch[CHIMNEY_HOST_TERM_BATCH], *tcb;
	struct llist_node *node;
	unsigned int n, i;
	bool busy = false;
	int err;

	/* Oldest first: an llist is a stack. */
	node = llist_reverse_order(llist_del_all(&host->term_queue));
	while (node) {
		/* Off the queue (an event may queue it again from now on). */
		spin_lock_bh(&host->lock);
		for (n = 0; node && n < CHIMNEY_HOST_TERM_BATCH; n++) {
			tcb = llist_entry(node, struct chimney_host_tcb,
					  term_node);
			node = node->next;
			tcb->flags &= ~CHIMNEY_HOST_QUEUED;
			batch[n] = tcb;		/* with the queue's reference */
		}
		spin_unlock_bh(&host->lock);
		for (i = 0; i < n; i++) {
			tcb = batch[i];
			/* -EINVAL: forgotten, its terminate completed under us. */
			err = chimney_offload_terminate(&host->layer,
							&tcb->handle);
			if (err == -EBUSY) {
				/*
				 * Queued from our initiate completion
				 * (upload-all), which the framework has not
				 * seen return yet: the connection is
				 * offloaded in a moment. Looked at again a
				 * tick later, not in a busy loop.
				 */
				spin_lock_bh(&host->lock);
				if (!(tcb->flags & CHIMNEY_HOST_GONE))
					chimney_host_enqueue(host, tcb);
				spin_unlock_bh(&host->lock);
				busy = true;
			} else if (err && err != -EALREADY && err != -EINVAL) {
				atomic64_inc(&host->terminate_errors);
				pr_warn_ratelimited("%s: terminate of connection %llu failed: %d\n",
						    netdev_name(host->layer.stack->dev),
						    chimney_handle_conn_id(&tcb->handle),
						    err);
				spin_lock_bh(&host->lock);
				tcb->flags &= ~CHIMNEY_HOST_UPLOADING;
				spin_unlock_bh(&host->lock);
			}
			chimney_tcb_put(tcb);
			cond_resched();
		}
	}
	if (busy)
		queue_delayed_work(system_wq, &host->term_work, 1);
}

static void chimney_host_forget(struct chimney_host *host,
				struct chimney_host_tcb *tcb)
{
	spin_lock_bh(&host->lock);
	tcb->flags |= CHIMNEY_HOST_GONE;
	host->nr_tcbs--;
	spin_unlock_bh(&host->lock);
	chimney_tcb_put(tcb);
}

static void chimney_host_initiate_complete(struct chimney_layer *layer,
					   struct chimney_offload_handle *own,
					   int status)
{
	struct chimney_host *host = to_host(layer);
	struct chimney_host_tcb *tcb = to_tcb(own);

	spin_lock_bh(&host->lock);
	tcb->flags |= CHIMNEY_HOST_COMPLETED;
	tcb->status = status;
	if (!status) {
		tcb->flags |= CHIMNEY_HOST_OFFLOADED;
		/*
		 * Pending when UPLOAD_ALL came: upload it now. One that the
		 * walk did not see yet (not in the id index when it passed)
		 * has not been resumed since either.
		 */
		if ((tcb->flags & CHIMNEY_HOST_UPLOAD_ALL) ||
		    host->blocked == -ENETDOWN)
			chimney_host_queue_terminate(host, tcb);
	}
	spin_unlock_bh(&host->lock);
	if (status)
		chimney_host_forget(host, tcb);
}

static void chimney_host_terminate_complete(struct chimney_layer *layer,
					    struct chimney_offload_handle *own,
					    int status)
{
	chimney_host_forget(to_host(layer), to_tcb(own));
}

/* The capacity the host allows itself: the target's, or unbounded. */
static unsigned int chimney_host_read_capacity(struct chimney_host *host)
{
	return host->capacity_fn ? host->capacity_fn(host->capacity_arg) :
				   UINT_MAX;
}

/* TCBs an UPLOAD_ALL takes references on per RCU section. */
#define CHIMNEY_HOST_WALK_BATCH	32

/* The host's TCB of @conn, referenced, if it is hop 0 of @conn. */
static void *chimney_host_walk_take(struct chimney_conn *conn, void *arg)
{
	struct chimney_host *host = arg;
	struct chimney_offload_handle *own;
	struct chimney_host_tcb *tcb;

	if (chimney_conn_layer(conn, 0) != &host->layer)
		return NULL;
	/* Cleared before the framework lets go of it. */
	own = READ_ONCE(conn->hops[0]);
	if (!own)
		return NULL;
	tcb = to_tcb(own);
	return refcount_inc_not_zero(&tcb->ref) ? tcb : NULL;
}

/*
 * Every TCB of the host, found as hop 0 of its stack's connections in the
 * id index, a batch of references at a time: O(N) in all, BH off for one
 * batch at a time. A connection offloaded meanwhile is refused (blocked)
 * or, already past that check, caught by its completion.
 */
static void chimney_host_upload_all(struct chimney_host *host)
{
	void *batch[CHIMNEY_HOST_WALK_BATCH];
	struct chimney_host_tcb *tcb;
	unsigned long slot = 0;
	unsigned int n, i;

	atomic64_inc(&host->upload_all);
	spin_lock_bh(&host->lock);
	WRITE_ONCE(host->blocked, -ENETDOWN);
	spin_unlock_bh(&host->lock);
	while (slot != CHIMNEY_WALK_DONE) {
		n = chimney_conn_gather(&slot, batch, ARRAY_SIZE(batch),
					chimney_host_walk_take, host);
		spin_lock_bh(&host->lock);
		for (i = 0; i < n; i++) {
			tcb = batch[i];
			if (tcb->flags & CHIMNEY_HOST_GONE)
				continue;
			if (!(tcb->flags & CHIMNEY_HOST_COMPLETED))
				tcb->flags |= CHIMNEY_HOST_UPLOAD_ALL;
			else if (tcb->flags & CHIMNEY_HOST_OFFLOADED)
				chimney_host_queue_terminate(host, tcb);
		}
		spin_unlock_bh(&host->lock);
		for (i = 0; i < n; i++)
			chimney_tcb_put(batch[i]);
		cond_resched();
	}
}

static void chimney_host_status(struct chimney_layer *layer, u32 status)
{
	struct chimney_host *host = to_host(layer);
	unsigned int cap;

	switch (status) {
	case CHIMNEY_STATUS_UPLOAD_ALL:
		chimney_host_upload_all(host);
		break;
	case CHIMNEY_STATUS_OFFLOAD_PAUSE:
		atomic64_inc(&host->pause);
		spin_lock_bh(&host->lock);
		/* A pause does not lift an upload-all's stronger refusal. */
		if (!host->blocked)
			WRITE_ONCE(host->blocked, -EAGAIN);
		spin_unlock_bh(&host->lock);
		break;
	case CHIMNEY_STATUS_OFFLOAD_RESUME:
		atomic64_inc(&host->resume);
		/* Capabilities may have changed while paused: re-read them. */
		cap = chimney_host_read_capacity(host);
		spin_lock_bh(&host->lock);
		WRITE_ONCE(host->capacity, cap);
		WRITE_ONCE(host->blocked, 0);
		spin_unlock_bh(&host->lock);
		break;
	}
}

static const struct chimney_layer_ops chimney_host_ops = {
	.event = chimney_host_event,
	.status = chimney_host_status,
	.initiate_complete = chimney_host_initiate_complete,
	.terminate_complete = chimney_host_terminate_complete,
};

/*
 * Offload a connection as the host stack would. Return: 0 with *@id set
 * (the initiate may still be pending when the target completes late),
 * -EAGAIN while paused, -ENETDOWN after UPLOAD_ALL (both until RESUME),
 * -ENOSPC at the target's capacity, or the error the stack refused or
 * failed the initiate with.
 */
int chimney_host_offload(struct chimney_host *host,
			 const struct chimney_tuple *tuple, u64 *id)
{
	struct chimney_host_tcb *tcb;
	int err;

	tcb = kzalloc(sizeof(*tcb), GFP_KERNEL);
	if (!tcb)
		return -ENOMEM;
	/* The framework's until it lets go of the handle, and ours. */
	refcount_set(&tcb->ref, 2);
	spin_lock_bh(&host->lock);
	err = host->blocked;
	if (!err && host->nr_tcbs >= host->capacity) {
		atomic64_inc(&host->refused_full);
		err = -ENOSPC;
	}
	if (!err)
		host->nr_tcbs++;
	spin_unlock_bh(&host->lock);
	if (err) {
		kfree(tcb);
		return err;
	}

	err = chimney_offload_initiate(&host->layer, tuple, &tcb->handle);
	if (err) {
		chimney_host_forget(host, tcb);
		chimney_tcb_put(tcb);
		return err;
	}
	*id = chimney_handle_conn_id(&tcb->handle);
	spin_lock_bh(&host->lock);
	err = (tcb->flags & CHIMNEY_HOST_COMPLETED) ? tcb->status : 0;
	spin_unlock_bh(&host->lock);
	chimney_tcb_put(tcb);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_offload);

int chimney_host_set_policy(struct chimney_host *host, u32 reason, bool accept)
{
	if (!chimney_upload_reason_valid(reason))
		return -EINVAL;
	/* The host has no say over mandatory reasons. */
	if (chimney_upload_reason_mandatory(reason))
		return accept ? 0 : -EPERM;
	spin_lock_bh(&host->lock);
	if (accept)
		__clear_bit(reason, &host->decline);
	else
		__set_bit(reason, &host->decline);
	spin_unlock_bh(&host->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_set_policy);

bool chimney_host_accepts(struct chimney_host *host, u32 reason)
{
	return chimney_upload_reason_mandatory(reason) ||
	       !test_bit(reason, &host->decline);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_accepts);

static bool chimney_host_term_idle(struct chimney_host *host)
{
	return llist_empty(&host->term_queue);
}

/* Wait until every terminate the host queued has been started. */
void chimney_host_flush(struct chimney_host *host)
{
	/* A run may requeue itself (see chimney_host_term_work()). */
	do {
		flush_delayed_work(&host->term_work);
	} while (!chimney_host_term_idle(host));
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_flush);

/**
 * chimney_host_set_capacity_source() - where the host reads the capacity
 * @host: the host
 * @fn: returns the target's TcpConnectionOffloadCapacity (process
 *	context, may take the target's locks), or NULL for unbounded
 * @arg: passed to @fn; must stay valid until chimney_host_destroy()
 *
 * Read now, and again at every OFFLOAD_RESUME (spec section e: the host
 * re-queries the capabilities); in between the host refuses offloads
 * beyond the copy it read with -ENOSPC.
 */
void chimney_host_set_capacity_source(struct chimney_host *host,
				      chimney_host_capacity_fn fn, void *arg)
{
	unsigned int cap;

	spin_lock_bh(&host->lock);
	host->capacity_fn = fn;
	host->capacity_arg = arg;
	spin_unlock_bh(&host->lock);
	cap = chimney_host_read_capacity(host);
	WRITE_ONCE(host->capacity, cap);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_set_capacity_source);

struct chimney_host *chimney_host_create(struct net_device *dev)
{
	struct chimney_host *host;
	int err;

	host = kzalloc(sizeof(*host), GFP_KERNEL);
	if (!host)
		return ERR_PTR(-ENOMEM);
	host->pcpu = alloc_percpu(struct chimney_host_pcpu);
	if (!host->pcpu) {
		kfree(host);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock_init(&host->lock);
	init_llist_head(&host->term_queue);
	INIT_DELAYED_WORK(&host->term_work, chimney_host_term_work);
	host->capacity = UINT_MAX;
	host->layer.name = "chimney_host";
	host->layer.ops = &chimney_host_ops;
	err = chimney_layer_register(dev, &host->layer, CHIMNEY_LAYER_PROTOCOL);
	if (err) {
		free_percpu(host->pcpu);
		kfree(host);
		return ERR_PTR(err);
	}
	return host;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_create);

/* Process context; connections still offloaded are uploaded first. */
void chimney_host_destroy(struct chimney_host *host)
{
	struct chimney_host_tcb *tcb, *next;

	/*
	 * Uploads whatever the stack still carries, through every layer;
	 * -ENODEV: the device's removal already did and unbound us.
	 */
	WARN_ON(chimney_layer_unregister(&host->layer) == -EINVAL);
	cancel_delayed_work_sync(&host->term_work);
	/* Queued, then terminated by the unregister: the queue's references. */
	llist_for_each_entry_safe(tcb, next, llist_del_all(&host->term_queue),
				  term_node)
		chimney_tcb_put(tcb);
	WARN_ON(host->nr_tcbs);
	free_percpu(host->pcpu);
	kfree(host);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_host_destroy);
