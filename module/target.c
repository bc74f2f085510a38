// SPDX-License-Identifier: GPL-2.0
/*
 * The fake offload target: the bottom layer of a device's stack, standing
 * in for a chimney-capable NIC. It owns the offloaded connections' state,
 * enforces its capacity, completes initiate and terminate now or after a
 * delay, raises events on demand, emulates the send backlog from the path's
 * rate and RTT, and runs the hardware-failure sequence of the spec.
 *
 * The target lock is held across the upcalls it raises: that orders every
 * event against the terminate completion, which removes the connection
 * under the same lock, so the target never indicates on a handle whose
 * terminate has already completed.
 *
 * Device-wide status (spec section e) follows a NIC: link down raises
 * UPLOAD_ALL and refuses initiates with -ENETDOWN, link up raises
 * OFFLOAD_RESUME, and a capacity change is bracketed by OFFLOAD_PAUSE and
 * OFFLOAD_RESUME, since capabilities only change between the two.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/netdevice.h>
#include <net/ipv6.h>
#include <linux/slab.h>

#include "backlog.h"
#include "compat.h"
#include "conn.h"
#include "offload.h"
#include "target.h"

/*
 * 40 bytes, from its own cache: there may be a million of them. The id and
 * the 4-tuple stay with the framework (chimney_handle_conn_info()), and so
 * does the index by id: the context is found as the lower_context of the
 * handle above (chimney_conn_lower_context()), which is set at the
 * initiate and cleared under t->lock before the context is freed.
 */
struct chimney_target_conn {
	struct chimney_offload_handle *upper;
	struct list_head pending_node;	/* t->backlog_pending, or empty */
	u32 backlog_at;			/* low 32 bits of jiffies, last indication */
	u32 backlog;			/* last indicated; 0: none yet */
	u32 backlog_pending;		/* rate-limited, sent by backlog_work */
	u8 family;			/* index into stats[] */
	bool offloaded;			/* initiate completed */
	bool terminating;
	bool hw_failed;
};

static struct kmem_cache *chimney_target_conn_cache;

struct chimney_target_op {
	struct list_head node;
	struct chimney_target_conn *tc;
	unsigned long due;
	int status;
	bool terminate;
};

const char * const chimney_target_knob_names[__CHIMNEY_KNOB_MAX] = {
	[CHIMNEY_KNOB_CAPACITY] = "capacity",
	[CHIMNEY_KNOB_INITIATE_DELAY] = "initiate_delay_ms",
	[CHIMNEY_KNOB_TERMINATE_DELAY] = "terminate_delay_ms",
	[CHIMNEY_KNOB_FAIL_NEXT_INITIATE] = "fail_next_initiate",
	[CHIMNEY_KNOB_FAIL_NEXT_TERMINATE] = "fail_next_terminate",
	[CHIMNEY_KNOB_FAIL_INITIATE] = "fail_initiate",
	[CHIMNEY_KNOB_FAIL_TERMINATE] = "fail_terminate",
	[CHIMNEY_KNOB_BACKLOG_INTERVAL] = "backlog_interval_ms",
};
EXPORT_SYMBOL_IF_KUNIT(chimney_target_knob_names);

/* Connections handled per hold of t->lock in a walk of all of them. */
#define CHIMNEY_TARGET_BATCH	64

static struct chimney_target *to_target(struct chimney_layer *layer)
{
	return container_of(layer, struct chimney_target, layer);
}

/*
 * Have @dw run at @due unless a run is already queued for earlier or in
 * progress (*@armed; it rescans under t->lock before it re-arms). Only
 * ever moving the timer earlier keeps a stream of new operations from
 * pushing back the ones already due. t->lock held.
 */
static void chimney_target_arm(struct delayed_work *dw, bool *armed,
			       unsigned long *at, unsigned long due)
{
	if (*armed && !time_before(due, *at))
		return;
	*armed = true;
	*at = due;
	mod_delayed_work(system_wq, dw,
			 time_after(due, jiffies) ? due - jiffies : 0);
}

static void chimney_target_finish_initiate(struct chimney_target *t,
					   struct chimney_target_conn *tc,
					   int status)
{
	spin_lock_bh(&t->lock);
	if (!status) {
		tc->offloaded = true;
		t->stats[tc->family].currently_established++;
	} else {
		WRITE_ONCE(tc->upper->lower_context, NULL);
		list_del_init(&tc->pending_node);
		t->nr_conns--;
	}
	spin_unlock_bh(&t->lock);
	chimney_initiate_offload_complete(&t->layer, tc->upper, status);
	if (status)
		kmem_cache_free(chimney_target_conn_cache, tc);
}

static void chimney_target_finish_terminate(struct chimney_target *t,
					    struct chimney_target_conn *tc,
					    int status)
{
	struct chimney_offload_handle *upper = tc->upper;

	spin_lock_bh(&t->lock);
	/* Not found by id any more: freed below, before we complete. */
	WRITE_ONCE(upper->lower_context, NULL);
	list_del_init(&tc->pending_node);
	t->nr_conns--;
	t->stats[tc->family].currently_established--;
	spin_unlock_bh(&t->lock);
	/* Our context is gone once we complete: free it first. */
	kmem_cache_free(chimney_target_conn_cache, tc);
	chimney_terminate_offload_complete(&t->layer, upper, status);
}

static void chimney_target_op_run(struct chimney_target *t,
				  struct chimney_target_op *op)
{
	if (op->terminate)
		chimney_target_finish_terminate(t, op->tc, op->status);
	else
		chimney_target_finish_initiate(t, op->tc, op->status);
	kfree(op);
}

static void chimney_target_ops_work(struct work_struct *work)
{
	struct chimney_target *t = container_of(to_delayed_work(work),
						struct chimney_target, ops_work);
	struct chimney_target_op *op, *found;
	unsigned long next;

	for (;;) {
		found = NULL;
		next = 0;
		spin_lock_bh(&t->lock);
		list_for_each_entry(op, &t->ops, node) {
			if (t->dying || time_after_eq(jiffies, op->due)) {
				found = op;
				break;
			}
			if (!next || time_before(op->due, next))
				next = op->due;
		}
		if (found) {
			list_del(&found->node);
		} else {
			/* Decided under the lock new operations are queued under. */
			t->ops_armed = false;
			if (next)
				chimney_target_arm(&t->ops_work, &t->ops_armed,
						   &t->ops_due, next);
		}
		spin_unlock_bh(&t->lock);
		if (!found)
			break;
		chimney_target_op_run(t, found);
	}
}

/* Complete now, or after @delay_ms from the ops work. */
static void chimney_target_complete(struct chimney_target *t,
				    struct chimney_target_conn *tc, int status,
				    bool terminate, unsigned int delay_ms)
{
	struct chimney_target_op *op = NULL;

	if (delay_ms)
		op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (op) {
		op->tc = tc;
		op->status = status;
		op->terminate = terminate;
		op->due = jiffies + msecs_to_jiffies(delay_ms);
		spin_lock_bh(&t->lock);
		if (!t->dying) {
			list_add_tail(&op->node, &t->ops);
			chimney_target_arm(&t->ops_work, &t->ops_armed,
					   &t->ops_due, op->due);
			spin_unlock_bh(&t->lock);
			return;
		}
		spin_unlock_bh(&t->lock);
		kfree(op);
	}
	if (terminate)
		chimney_target_finish_terminate(t, tc, status);
	else
		chimney_target_finish_initiate(t, tc, status);
}

static int chimney_target_initiate(struct chimney_layer *layer,
				   struct chimney_offload_handle *upper,
				   const struct chimney_conn_info *info)
{
	struct chimney_target *t = to_target(layer);
	struct chimney_target_conn *tc;
	unsigned int delay;
	int status;

	tc = kmem_cache_zalloc(chimney_target_conn_cache, GFP_KERNEL);
	if (!tc)
		return -ENOMEM;
	tc->upper = upper;
	tc->family = info->tuple.family == AF_INET6;
	INIT_LIST_HEAD(&tc->pending_node);

	spin_lock_bh(&t->lock);
	if (!t->link_up) {
		t->refused_down++;
		spin_unlock_bh(&t->lock);
		kmem_cache_free(chimney_target_conn_cache, tc);
		return -ENETDOWN;
	}
	if (t->nr_conns >= t->knobs.capacity) {
		t->refused_full++;
		spin_unlock_bh(&t->lock);
		kmem_cache_free(chimney_target_conn_cache, tc);
		return -ENOSPC;
	}
	t->nr_conns++;
	status = t->knobs.fail_next_initiate;
	t->knobs.fail_next_initiate = 0;
	if (!status && t->knobs.fail_initiate)
		status = -EIO;
	delay = t->dying ? 0 : t->knobs.initiate_delay_ms;
	spin_unlock_bh(&t->lock);

	/*
	 * The context is in place before the completion, as NDIS requires,
	 * and found by id from now on (a failing one too, until it fails).
	 */
	WRITE_ONCE(upper->lower_context, tc);
	chimney_target_complete(t, tc, status, false, delay);
	return 0;
}

static int chimney_target_terminate(struct chimney_layer *layer, void *context)
{
	struct chimney_target *t = to_target(layer);
	struct chimney_target_conn *tc = context;
	unsigned int delay;
	int status;

	if (!tc)
		return -EINVAL;
	spin_lock_bh(&t->lock);
	if (tc->terminating) {
		spin_unlock_bh(&t->lock);
		return -EALREADY;
	}
	tc->terminating = true;
	status = t->dying ? 0 : t->knobs.fail_next_terminate;
	t->knobs.fail_next_terminate = 0;
	if (!status && !t->dying && t->knobs.fail_terminate)
		status = -EIO;
	if (tc->hw_failed)
		status = -EIO;
	delay = t->dying ? 0 : t->knobs.terminate_delay_ms;
	spin_unlock_bh(&t->lock);

	chimney_target_complete(t, tc, status, true, delay);
	return 0;
}

static const struct chimney_layer_ops chimney_target_ops = {
	.initiate = chimney_target_initiate,
	.terminate = chimney_target_terminate,
};

/*
 * Connection @id of @t, from its initiate until its failure or its
 * terminate completes. t->lock held: the finishers clear the context
 * under it before they free it.
 */
static struct chimney_target_conn *chimney_target_find(struct chimney_target *t,
						       u64 id, int *err)
{
	struct chimney_target_conn *tc = NULL;
	struct chimney_conn *conn;

	rcu_read_lock();
	conn = chimney_conn_lookup_id(id);
	if (conn)
		tc = chimney_conn_lower_context(conn, &t->layer);
	rcu_read_unlock();
	*err = tc ? 0 : -ENOENT;
	return tc;
}

/*
 * Raise @type on connection @id exactly as asked, legal or not: the
 * framework decides, and its verdict is the return value.
 */
int chimney_target_raise(struct chimney_target *t, u64 id, u32 type, u32 info)
{
	struct chimney_target_conn *tc;
	int err;

	spin_lock_bh(&t->lock);
	tc = chimney_target_find(t, id, &err);
	if (tc)
		err = chimney_indicate_event(&t->layer, tc->upper, type, info);
	if (!err && type == CHIMNEY_EVENT_ABORT)
		t->stats[tc->family].reset_established++;
	spin_unlock_bh(&t->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_raise);

/*
 * The spec's hardware-corruption sequence: retrieve(HardwareFailure), then
 * abort, back to back; the terminate that follows reports the state lost.
 */
int chimney_target_hw_failure(struct chimney_target *t, u64 id)
{
	struct chimney_target_conn *tc;
	int err;

	spin_lock_bh(&t->lock);
	tc = chimney_target_find(t, id, &err);
	if (tc) {
		err = chimney_indicate_event(&t->layer, tc->upper,
					     CHIMNEY_EVENT_RETRIEVE,
					     CHIMNEY_UPLOAD_HARDWARE_FAILURE);
		if (!err) {
			tc->hw_failed = true;
			err = chimney_indicate_event(&t->layer, tc->upper,
						     CHIMNEY_EVENT_ABORT, 0);
		}
		if (!err)
			t->stats[tc->family].reset_established++;
	}
	spin_unlock_bh(&t->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_hw_failure);

/*
 * When the rate limit next lets @tc indicate (now, if it does already).
 * backlog_at keeps the low 32 bits of jiffies, 4 bytes a connection
 * fewer: the time since wraps after 2^32 jiffies, which can only shorten
 * a hold, never make one longer than the interval. t->lock held.
 */
static unsigned long chimney_target_backlog_due(const struct chimney_target *t,
						const struct chimney_target_conn *tc)
{
	unsigned long interval = msecs_to_jiffies(t->knobs.backlog_interval_ms);
	unsigned long now = jiffies;
	u32 since = (u32)now - tc->backlog_at;

	return since >= interval ? now : now + (interval - since);
}

/* Deliver the backlog values the rate limit held back, once it allows. */
static void chimney_target_backlog_work(struct work_struct *work)
{
	struct chimney_target *t = container_of(to_delayed_work(work),
						struct chimney_target,
						backlog_work);
	struct chimney_target_conn *tc;
	unsigned long due, next = 0;
	unsigned int batch = 0;
	LIST_HEAD(scan);

	/*
	 * The list is taken aside and walked in batches, BH being off under
	 * t->lock: what is not due yet goes back. Whatever happens to an
	 * entry meanwhile (list_del_init() by set_path or a terminate) works
	 * on whichever list it is on.
	 */
	spin_lock_bh(&t->lock);
	list_splice_init(&t->backlog_pending, &scan);
	while ((tc = list_first_entry_or_null(&scan, struct chimney_target_conn,
					      pending_node))) {
		if (++batch % CHIMNEY_TARGET_BATCH == 0) {
			/* What set_path adds meanwhile, it arms a run for. */
			t->backlog_armed = false;
			spin_unlock_bh(&t->lock);
			cond_resched();
			spin_lock_bh(&t->lock);
			continue;
		}
		due = chimney_target_backlog_due(t, tc);
		if (!t->dying && time_before(jiffies, due)) {
			if (!next || time_before(due, next))
				next = due;
			list_move_tail(&tc->pending_node, &t->backlog_pending);
			continue;
		}
		list_del_init(&tc->pending_node);
		if (t->dying || tc->terminating)
			continue;
		/* BH is off under the lock, as every event requires. */
		if (!chimney_indicate_event(&t->layer, tc->upper,
					    CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
					    tc->backlog_pending)) {
			tc->backlog = tc->backlog_pending;
			tc->backlog_at = (u32)jiffies;
			t->backlog_indicated++;
			t->backlog_trailing++;
		}
	}
	/* Armed since the last unlock: only ever moved earlier from here. */
	if (batch < CHIMNEY_TARGET_BATCH)
		t->backlog_armed = false;
	if (next)
		chimney_target_arm(&t->backlog_work, &t->backlog_armed,
				   &t->backlog_due, next);
	spin_unlock_bh(&t->lock);
}

/*
 * rate x rtt / 1 s, saturated: mul_u64_u32_div() traps when the quotient
 * does not fit 64 bits, and rate is whatever a user wrote.
 */
static u64 chimney_target_bdp(u64 rate, u32 rtt_us)
{
	if (rate > div_u64(U64_MAX, rtt_us))
		return U64_MAX;
	return div_u64(rate * rtt_us, USEC_PER_SEC);
}

/*
 * Send-backlog emulation: the best amount to keep outstanding is the
 * path's bandwidth-delay product. Indicate it when it moved enough
 * (chimney_backlog_moved()) and not more often than backlog_interval_ms,
 * so a jittery path does not turn into an indication storm. A change the
 * rate limit holds back is not lost: the latest one is indicated when the
 * interval has passed (trailing edge). A change too small to matter is
 * dropped, and cancels a held-back one, since the path is back near what
 * the host already knows.
 *
 * Return: 1 if indicated, 0 if suppressed or deferred, or a negative errno
 * (-EINVAL for a zero rate or an rtt outside 1..CHIMNEY_TARGET_MAX_RTT_US).
 */
int chimney_target_set_path(struct chimney_target *t, u64 id, u64 rate,
			    u32 rtt_us)
{
	struct chimney_target_conn *tc;
	unsigned long due;
	u32 backlog;
	int err;

	if (!rate || !rtt_us || rtt_us > CHIMNEY_TARGET_MAX_RTT_US)
		return -EINVAL;
	backlog = clamp_t(u64, chimney_target_bdp(rate, rtt_us), 1,
			  CHIMNEY_BACKLOG_UNSUPPORTED - 1);

	spin_lock_bh(&t->lock);
	tc = chimney_target_find(t, id, &err);
	if (!tc)
		goto unlock;
	if (tc->backlog) {
		if (!chimney_backlog_moved(tc->backlog, backlog)) {
			list_del_init(&tc->pending_node);
			t->backlog_suppressed++;
			goto unlock;
		}
		due = chimney_target_backlog_due(t, tc);
		if (time_before(jiffies, due)) {
			tc->backlog_pending = backlog;
			if (list_empty(&tc->pending_node))
				list_add_tail(&tc->pending_node,
					      &t->backlog_pending);
			chimney_target_arm(&t->backlog_work, &t->backlog_armed,
					   &t->backlog_due, due);
			t->backlog_suppressed++;
			goto unlock;
		}
	}
	err = chimney_indicate_event(&t->layer, tc->upper,
				     CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, backlog);
	if (!err) {
		list_del_init(&tc->pending_node);
		tc->backlog = backlog;
		tc->backlog_at = (u32)jiffies;
		t->backlog_indicated++;
		err = 1;
	}
unlock:
	spin_unlock_bh(&t->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_set_path);

static bool chimney_target_uses(struct chimney_target_conn *tc, u16 family,
				const union chimney_addr *addr)
{
	struct chimney_conn_info info;

	if (!addr)
		return true;
	if (chimney_handle_conn_info(tc->upper, &info) ||
	    info.tuple.family != family)
		return false;
	if (family == AF_INET)
		return info.tuple.saddr.ip == addr->ip;
	return ipv6_addr_equal(&info.tuple.saddr.in6, &addr->in6);
}

/*
 * Invalidation (spec section c, INVALIDATED): a state object the
 * connections depend on changed, so each of them gets a mandatory
 * retrieve(InvalidState). @addr limits it to connections on that local
 * address; NULL means every connection on the device.
 *
 * Return: the number of connections the retrieve was delivered on.
 */
int chimney_target_invalidate(struct chimney_target *t, u16 family,
			      const union chimney_addr *addr)
{
	struct chimney_target_conn *tc;
	struct chimney_conn *conn;
	unsigned int batch;
	bool more = true;
	unsigned long slot = 0;
	int n = 0;

	/*
	 * The framework's id index, in batches, resuming from the next id:
	 * BH is off under t->lock, and there may be millions of connections.
	 */
	while (more) {
		spin_lock_bh(&t->lock);
		rcu_read_lock();
		for (batch = 0; batch < CHIMNEY_TARGET_BATCH; batch++) {
			conn = chimney_conn_lookup_next(&slot);
			if (!conn) {
				more = false;
				break;
			}
			slot++;
			tc = chimney_conn_lower_context(conn, &t->layer);
			if (tc && tc->offloaded && !tc->terminating &&
			    chimney_target_uses(tc, family, addr) &&
			    !chimney_indicate_event(&t->layer, tc->upper,
						    CHIMNEY_EVENT_RETRIEVE,
						    CHIMNEY_UPLOAD_INVALID_STATE))
				n++;
		}
		rcu_read_unlock();
		spin_unlock_bh(&t->lock);
		cond_resched();
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_invalidate);

/* Account segments the emulated NIC moved for connection @id. */
int chimney_target_traffic(struct chimney_target *t, u64 id, u32 in_segs,
			   u32 out_segs, u32 retrans)
{
	struct chimney_target_conn *tc;
	int err;

	spin_lock_bh(&t->lock);
	tc = chimney_target_find(t, id, &err);
	if (tc) {
		t->stats[tc->family].in_segments += in_segs;
		t->stats[tc->family].out_segments += out_segs;
		t->stats[tc->family].retransmitted_segments += retrans;
	}
	spin_unlock_bh(&t->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_traffic);

int chimney_target_conn_backlog(struct chimney_target *t, u64 id, u32 *backlog)
{
	struct chimney_target_conn *tc;
	int err;

	spin_lock_bh(&t->lock);
	tc = chimney_target_find(t, id, &err);
	if (tc)
		*backlog = tc->backlog;
	spin_unlock_bh(&t->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_conn_backlog);

/*
 * Errnos that already mean something on the offload path: a completion
 * failing with one of them would be taken for that meaning (-EINPROGRESS
 * for "still pending", -EAGAIN for a paused host, ...), and the kernel's
 * internal ones (ERESTARTSYS and up) must never reach user space.
 */
static bool chimney_target_errno_reserved(s64 err)
{
	switch (err) {
	case -EINPROGRESS:	/* the initiate is still pending */
	case -EAGAIN:		/* the host is paused */
	case -ENETDOWN:		/* link down, or upload-all */
	case -ENOSPC:		/* the target is full */
	case -EEXIST:		/* duplicate 4-tuple */
		return true;
	}
	return err <= -ERESTARTSYS;
}

/* The status a fail_next_* write stands for: an errno, as -5 or 5. */
static int chimney_target_knob_errno(s64 value, int *err)
{
	if (value < -MAX_ERRNO || value > MAX_ERRNO)
		return -EINVAL;
	value = value > 0 ? -value : value;
	if (chimney_target_errno_reserved(value))
		return -EINVAL;
	*err = value;
	return 0;
}

/* A capacity change, bracketed by PAUSE and RESUME if offloads run. */
static int chimney_target_set_capacity(struct chimney_target *t, s64 value)
{
	bool running;

	if (value < 1 || value > CHIMNEY_TARGET_MAX_CAPACITY)
		return -EINVAL;
	mutex_lock(&t->status_lock);
	spin_lock_bh(&t->lock);
	running = t->link_up && !t->suspended &&
		  t->knobs.capacity != value;
	if (!running)
		t->knobs.capacity = value;
	spin_unlock_bh(&t->lock);
	if (running) {
		/*
		 * Otherwise the RESUME that ends the pause or the link-down
		 * makes the host read the new capacity.
		 */
		chimney_indicate_status(&t->layer, CHIMNEY_STATUS_OFFLOAD_PAUSE);
		spin_lock_bh(&t->lock);
		t->knobs.capacity = value;
		spin_unlock_bh(&t->lock);
		chimney_indicate_status(&t->layer,
					CHIMNEY_STATUS_OFFLOAD_RESUME);
	}
	mutex_unlock(&t->status_lock);
	return 0;
}

/**
 * chimney_target_set_knob() - set one knob, and only that one
 * @t: the target
 * @knob: which
 * @value: capacity 1..CHIMNEY_TARGET_MAX_CAPACITY; delays and the backlog
 *	interval 0..CHIMNEY_TARGET_MAX_DELAY_MS; fail_next_* an errno (-5 or
 *	5, 0 clears) other than the reserved ones; fail_* 0 or 1
 *
 * Validated and written under the target lock, so concurrent writers of
 * different knobs do not undo each other, and a fail_next_* consumed in
 * between is never written back. Process context (a capacity change
 * raises PAUSE and RESUME).
 *
 * Return: 0, or -EINVAL for a value out of range.
 */
int chimney_target_set_knob(struct chimney_target *t,
			    enum chimney_target_knob knob, s64 value)
{
	struct chimney_target_knobs *k = &t->knobs;
	bool flag = value == 1;
	int err = 0;

	switch (knob) {
	case CHIMNEY_KNOB_CAPACITY:
		return chimney_target_set_capacity(t, value);
	case CHIMNEY_KNOB_FAIL_NEXT_INITIATE:
	case CHIMNEY_KNOB_FAIL_NEXT_TERMINATE:
		if (chimney_target_knob_errno(value, &err))
			return -EINVAL;
		break;
	case CHIMNEY_KNOB_FAIL_INITIATE:
	case CHIMNEY_KNOB_FAIL_TERMINATE:
		if (value != 0 && value != 1)
			return -EINVAL;
		break;
	case CHIMNEY_KNOB_INITIATE_DELAY:
	case CHIMNEY_KNOB_TERMINATE_DELAY:
	case CHIMNEY_KNOB_BACKLOG_INTERVAL:
		if (value < 0 || value > CHIMNEY_TARGET_MAX_DELAY_MS)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	spin_lock_bh(&t->lock);
	switch (knob) {
	case CHIMNEY_KNOB_INITIATE_DELAY:
		k->initiate_delay_ms = value;
		break;
	case CHIMNEY_KNOB_TERMINATE_DELAY:
		k->terminate_delay_ms = value;
		break;
	case CHIMNEY_KNOB_FAIL_NEXT_INITIATE:
		k->fail_next_initiate = err;
		break;
	case CHIMNEY_KNOB_FAIL_NEXT_TERMINATE:
		k->fail_next_terminate = err;
		break;
	case CHIMNEY_KNOB_FAIL_INITIATE:
		k->fail_initiate = flag;
		break;
	case CHIMNEY_KNOB_FAIL_TERMINATE:
		k->fail_terminate = flag;
		break;
	default:
		k->backlog_interval_ms = value;
		/* Held-back values are due by the new interval. */
		if (!list_empty(&t->backlog_pending))
			chimney_target_arm(&t->backlog_work, &t->backlog_armed,
					   &t->backlog_due, jiffies);
		break;
	}
	spin_unlock_bh(&t->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_set_knob);

s64 chimney_target_get_knob(struct chimney_target *t,
			    enum chimney_target_knob knob)
{
	struct chimney_target_knobs k;

	chimney_target_get_knobs(t, &k);
	switch (knob) {
	case CHIMNEY_KNOB_CAPACITY:
		return k.capacity;
	case CHIMNEY_KNOB_INITIATE_DELAY:
		return k.initiate_delay_ms;
	case CHIMNEY_KNOB_TERMINATE_DELAY:
		return k.terminate_delay_ms;
	case CHIMNEY_KNOB_FAIL_NEXT_INITIATE:
		return k.fail_next_initiate;
	case CHIMNEY_KNOB_FAIL_NEXT_TERMINATE:
		return k.fail_next_terminate;
	case CHIMNEY_KNOB_FAIL_INITIATE:
		return k.fail_initiate;
	case CHIMNEY_KNOB_FAIL_TERMINATE:
		return k.fail_terminate;
	default:
		return k.backlog_interval_ms;
	}
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_get_knob);

void chimney_target_get_knobs(struct chimney_target *t,
			      struct chimney_target_knobs *knobs)
{
	spin_lock_bh(&t->lock);
	*knobs = t->knobs;
	spin_unlock_bh(&t->lock);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_get_knobs);

/**
 * chimney_target_read_capacity() - the target's TcpConnectionOffloadCapacity
 * @target: a struct chimney_target (void: the host's capacity source)
 *
 * Return: the capacity now.
 */
unsigned int chimney_target_read_capacity(void *target)
{
	struct chimney_target *t = target;
	unsigned int cap;

	spin_lock_bh(&t->lock);
	cap = t->knobs.capacity;
	spin_unlock_bh(&t->lock);
	return cap;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_read_capacity);

/*
 * The link state at attach, before anyone offloads through the target:
 * a device attached while down has nothing to upload, so nothing is
 * raised (the host only hears of the link when it changes).
 */
void chimney_target_init_link(struct chimney_target *t, bool up)
{
	spin_lock_bh(&t->lock);
	t->link_up = up;
	spin_unlock_bh(&t->lock);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_init_link);

/**
 * chimney_target_set_link() - the emulated NIC's link went up or down
 * @t: the target
 * @up: the new link state
 *
 * Down: initiates are refused with -ENETDOWN and UPLOAD_ALL is raised. Up:
 * OFFLOAD_RESUME is raised, unless a PAUSE or UPLOAD_ALL asked for with
 * chimney_target_status() still waits for its RESUME. Telling the target
 * the state it already has raises nothing (a new target's link is up).
 * Process context.
 */
void chimney_target_set_link(struct chimney_target *t, bool up)
{
	u32 status = 0;

	might_sleep();
	mutex_lock(&t->status_lock);
	spin_lock_bh(&t->lock);
	if (t->link_up != up) {
		t->link_up = up;
		if (!up)
			status = CHIMNEY_STATUS_UPLOAD_ALL;
		else if (!t->suspended)
			status = CHIMNEY_STATUS_OFFLOAD_RESUME;
	}
	spin_unlock_bh(&t->lock);
	if (status)
		chimney_indicate_status(&t->layer, status);
	mutex_unlock(&t->status_lock);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_set_link);

/**
 * chimney_target_status() - raise a device-wide status on demand
 * @t: the target
 * @status: CHIMNEY_STATUS_OFFLOAD_PAUSE, _UPLOAD_ALL or _OFFLOAD_RESUME
 *
 * PAUSE and UPLOAD_ALL hold until a RESUME (a link coming up does not end
 * them); RESUME is refused while the link is down. Process context.
 *
 * Return: 0, -ENETDOWN for RESUME with the link down, -EINVAL for another
 * status.
 */
int chimney_target_status(struct chimney_target *t, u32 status)
{
	int err = 0;

	might_sleep();
	if (status != CHIMNEY_STATUS_OFFLOAD_PAUSE &&
	    status != CHIMNEY_STATUS_UPLOAD_ALL &&
	    status != CHIMNEY_STATUS_OFFLOAD_RESUME)
		return -EINVAL;
	mutex_lock(&t->status_lock);
	spin_lock_bh(&t->lock);
	if (status != CHIMNEY_STATUS_OFFLOAD_RESUME)
		t->suspended = true;
	else if (!t->link_up)
		err = -ENETDOWN;
	else
		t->suspended = false;
	spin_unlock_bh(&t->lock);
	if (!err)
		chimney_indicate_status(&t->layer, status);
	mutex_unlock(&t->status_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_status);

struct chimney_target *chimney_target_create(struct net_device *dev,
					     unsigned int capacity)
{
	struct chimney_target *t;
	int err;

	if (!capacity || capacity > CHIMNEY_TARGET_MAX_CAPACITY)
		return ERR_PTR(-EINVAL);
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&t->lock);
	INIT_LIST_HEAD(&t->ops);
	INIT_DELAYED_WORK(&t->ops_work, chimney_target_ops_work);
	INIT_LIST_HEAD(&t->backlog_pending);
	INIT_DELAYED_WORK(&t->backlog_work, chimney_target_backlog_work);
	mutex_init(&t->status_lock);
	t->link_up = true;
	t->knobs.capacity = capacity;
	t->layer.name = "chimney_target";
	t->layer.ops = &chimney_target_ops;
	err = chimney_layer_register(dev, &t->layer, CHIMNEY_LAYER_TARGET);
	if (err) {
		kfree(t);
		return ERR_PTR(err);
	}
	return t;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_create);

/*
 * The device is going away: from now on every initiate and terminate
 * completes at once, without injected failures, and delayed completions
 * are run now, so an upload-all can finish.
 */
void chimney_target_quiesce(struct chimney_target *t)
{
	spin_lock_bh(&t->lock);
	t->dying = true;
	spin_unlock_bh(&t->lock);
	mod_delayed_work(system_wq, &t->ops_work, 0);
	flush_delayed_work(&t->ops_work);
	mod_delayed_work(system_wq, &t->backlog_work, 0);
	flush_delayed_work(&t->backlog_work);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_quiesce);

/* After the host: the stack carries no connection any more. */
void chimney_target_destroy(struct chimney_target *t)
{
	chimney_target_quiesce(t);
	cancel_delayed_work_sync(&t->ops_work);
	cancel_delayed_work_sync(&t->backlog_work);
	/* -ENODEV: the device's removal already unbound it. */
	WARN_ON(chimney_layer_unregister(&t->layer) == -EINVAL);
	WARN_ON(t->nr_conns);
	mutex_destroy(&t->status_lock);
	kfree(t);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_target_destroy);

int chimney_target_init(void)
{
	chimney_target_conn_cache = KMEM_CACHE(chimney_target_conn, 0);
	return chimney_target_conn_cache ? 0 : -ENOMEM;
}

void chimney_target_exit(void)
{
	kmem_cache_destroy(chimney_target_conn_cache);
}
