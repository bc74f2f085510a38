// SPDX-License-Identifier: GPL-2.0
/*
 * Initiate and terminate of one connection through the stack, and the
 * completions travelling back up (NdisInitiateOffload, NdisTerminateOffload
 * and the NdisM*Complete calls of the spec, section c and d).
 *
 * Each layer's handle gets chimney_reserved pointed at that layer's hop in
 * the connection when it is handed down; that is how a completion or an
 * event on a handle finds its connection and the layer owning the handle.
 *
 * Terminate completions are delivered from a workqueue: the first one
 * waits until no upcall is running on the connection (rundown), and the
 * layers above free their handles while handling it, so it must be able to
 * sleep whatever context the target completed from.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "offload.h"
#include "trace.h"

static struct workqueue_struct *chimney_wq;

static void chimney_conn_unlink(struct chimney_conn *conn)
{
	struct chimney_stack *stack = conn->stack;

	spin_lock_bh(&stack->conns_lock);
	chimney_table_remove(conn);
	list_del_rcu(&conn->stack_node);
	stack->nr_conns--;
	chimney_stats_add(&stack->stats, live, -1);
	spin_unlock_bh(&stack->conns_lock);
	/* Wakes chimney_stack_drain(); only the address is used. */
	wake_up_var(&stack->nr_conns);
	chimney_conn_put(conn);
}

void chimney_conn_tuple(const struct chimney_conn *conn,
			struct chimney_tuple *tuple)
{
	memset(tuple, 0, sizeof(*tuple));
	tuple->family = conn->key.family;
	tuple->saddr = conn->key.saddr;
	tuple->daddr = conn->key.daddr;
	tuple->sport = conn->key.sport;
	tuple->dport = conn->key.dport;
}

/* The handle @owner holds for @conn, or NULL if it holds none. */
struct chimney_offload_handle *chimney_conn_handle(struct chimney_conn *conn,
						   struct chimney_layer *owner)
{
	unsigned int i;

	for (i = 0; i < conn->nr_hops; i++)
		if (conn->hops[i].layer == owner)
			return conn->hops[i].handle;
	return NULL;
}

/* Hand @upper (the handle of hop @index - 1) to the layer of hop @index. */
static int chimney_pass_initiate(struct chimney_conn *conn, unsigned int index,
				 struct chimney_offload_handle *upper)
{
	struct chimney_layer *lower = conn->hops[index].layer;
	struct chimney_conn_info info = {
		.id = conn->id,
		.dev = conn->stack->dev,
	};

	chimney_conn_tuple(conn, &info.tuple);
	trace_chimney_initiate(conn->stack->dev, lower->name, conn->id, 0, index,
			       "");
	return lower->ops->initiate(lower, upper, &info);
}

static void chimney_bind_handle(struct chimney_hop *hop,
				struct chimney_offload_handle *handle)
{
	hop->handle = handle;
	handle->lower_context = NULL;
	/* Publishes the hop to lock-free indications on this handle. */
	smp_store_release(&handle->chimney_reserved, hop);
}

static void chimney_complete_work(struct work_struct *work);
static void chimney_complete_deliver(struct chimney_conn *conn);

/**
 * chimney_offload_initiate() - offload a connection through a device's stack
 * @top: the protocol layer of the stack
 * @tuple: the connection's 4-tuple
 * @own: @top's handle for the connection, zeroed
 *
 * Creates the connection in the table (state offloading) and hands @own to
 * the layer below. The completion arrives through @top's initiate_complete,
 * possibly before this returns. No event is legal on the connection until
 * that completion has returned. Process context.
 *
 * Return: 0 when the initiate is under way or done; -EINVAL for a bad
 * argument or a @top that is not a registered protocol layer,
 * -EAFNOSUPPORT for a family other than AF_INET/AF_INET6, -EBUSY if @own is
 * already in use, -EOPNOTSUPP if the stack has no offload target, -ENETDOWN
 * while the device uploads everything, -EEXIST for a duplicate key,
 * -ENOMEM, or the error the layer below refused the initiate with.
 */
int chimney_offload_initiate(struct chimney_layer *top,
			     const struct chimney_tuple *tuple,
			     struct chimney_offload_handle *own)
{
	struct chimney_layer *layer, *bottom;
	struct chimney_stack *stack;
	struct chimney_conn *conn;
	unsigned int i = 0;
	int err;

	might_sleep();
	if (!top || !tuple || !own || top->role != CHIMNEY_LAYER_PROTOCOL)
		return -EINVAL;
	if (tuple->family != AF_INET && tuple->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!tuple->sport || !tuple->dport)
		return -EINVAL;
	if (READ_ONCE(own->chimney_reserved))
		return -EBUSY;

	mutex_lock(&chimney_stacks_lock);
	stack = top->stack;
	if (!stack) {
		err = -EINVAL;
		goto unlock;
	}
	bottom = list_last_entry(&stack->layers, struct chimney_layer, node);
	if (stack->depth < 2 || bottom->role != CHIMNEY_LAYER_TARGET) {
		err = -EOPNOTSUPP;
		goto unlock;
	}
	conn = kzalloc(struct_size(conn, hops, stack->depth), GFP_KERNEL);
	if (!conn) {
		err = -ENOMEM;
		goto unlock;
	}
	conn->nr_hops = stack->depth;
	list_for_each_entry(layer, &stack->layers, node) {
		conn->hops[i].conn = conn;
		conn->hops[i].layer = layer;
		conn->hops[i].index = i;
		i++;
	}
	chimney_conn_key_init(&conn->key, dev_net(stack->dev),
			      stack->dev->ifindex, tuple);
	conn->id = chimney_conn_next_id();
	conn->stack = stack;
	refcount_set(&conn->ref, 1);
	spin_lock_init(&conn->lock);
	conn->state = CHIMNEY_CONN_OFFLOADING;
	conn->term_pending = -1;
	INIT_WORK(&conn->complete_work, chimney_complete_work);

	spin_lock_bh(&stack->conns_lock);
	err = stack->closing ? -ENETDOWN : chimney_table_insert(conn);
	if (!err) {
		list_add_tail_rcu(&conn->stack_node, &stack->conns);
		stack->nr_conns++;
		chimney_stats_add(&stack->stats, live, 1);
	}
	spin_unlock_bh(&stack->conns_lock);
	mutex_unlock(&chimney_stacks_lock);
	if (err) {
		kfree(conn);
		return err;
	}

	chimney_bind_handle(&conn->hops[0], own);
	err = chimney_pass_initiate(conn, 1, own);
	if (err) {
		/* Refused outright: nothing was completed, nothing to undo below. */
		WRITE_ONCE(own->chimney_reserved, NULL);
		chimney_stats_add(&stack->stats, offload_failed, 1);
		chimney_conn_unlink(conn);
	}
	return err;

unlock:
	mutex_unlock(&chimney_stacks_lock);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_offload_initiate);

/* The hop owning @handle, checked to sit directly above @lower. */
static struct chimney_hop *chimney_hop_above(struct chimney_offload_handle *handle,
					     struct chimney_layer *lower)
{
	struct chimney_hop *hop;

	if (!handle || !lower)
		return NULL;
	/* Pairs with smp_store_release() in chimney_bind_handle(). */
	hop = smp_load_acquire(&handle->chimney_reserved);
	if (!hop || hop->index + 1 >= hop->conn->nr_hops ||
	    hop->conn->hops[hop->index + 1].layer != lower)
		return NULL;
	return hop;
}

/**
 * chimney_offload_forward_initiate() - pass an initiate further down
 * @layer: an intermediate layer, inside its initiate op
 * @upper: the handle its initiate op received
 * @own: @layer's own handle for the connection, zeroed
 *
 * Return: 0, -EINVAL if @layer is not the layer right below @upper's owner,
 * -EBUSY if the connection is not being initiated or @layer already
 * forwarded it, or the error the layer below refused it with.
 */
int chimney_offload_forward_initiate(struct chimney_layer *layer,
				     struct chimney_offload_handle *upper,
				     struct chimney_offload_handle *own)
{
	struct chimney_hop *up, *hop;
	struct chimney_conn *conn;
	int err = 0;

	might_sleep();
	if (!own || !layer || layer->role != CHIMNEY_LAYER_INTERMEDIATE)
		return -EINVAL;
	up = chimney_hop_above(upper, layer);
	if (!up)
		return -EINVAL;
	conn = up->conn;
	hop = &conn->hops[up->index + 1];

	spin_lock_bh(&conn->lock);
	if (conn->state != CHIMNEY_CONN_OFFLOADING || hop->handle)
		err = -EBUSY;
	else
		hop->handle = own;
	spin_unlock_bh(&conn->lock);
	if (err)
		return err;

	chimney_bind_handle(hop, own);
	err = chimney_pass_initiate(conn, hop->index + 1, own);
	if (err) {
		WRITE_ONCE(own->chimney_reserved, NULL);
		spin_lock_bh(&conn->lock);
		hop->handle = NULL;
		spin_unlock_bh(&conn->lock);
	}
	return err;
}
EXPORT_SYMBOL_GPL(chimney_offload_forward_initiate);

static void chimney_bad_completion(struct chimney_layer *layer,
				   struct chimney_conn *conn, const char *what)
{
	chimney_stats_rule(conn ? &conn->stack->stats : NULL,
			   CHIMNEY_RULE_BAD_COMPLETION);
	trace_chimney_violation(conn ? conn->stack->dev : NULL,
				layer ? layer->name : "?", conn ? conn->id : 0,
				0, 0, chimney_rule_name(CHIMNEY_RULE_BAD_COMPLETION));
	pr_warn_ratelimited("%s: ignored %s completion on connection %llu\n",
			    layer ? layer->name : "?", what,
			    conn ? conn->id : 0);
}

/**
 * chimney_initiate_offload_complete() - NdisMInitiateOffloadComplete
 * @layer: the layer completing (right below @upper's owner)
 * @upper: the handle @layer's initiate op received
 * @status: 0, or a negative errno if the offload failed
 *
 * On success @layer has written its context into @upper->lower_context.
 * Any context except hard interrupt. A completion that does not match an
 * initiate in progress is counted as a bad_completion and ignored.
 */
void chimney_initiate_offload_complete(struct chimney_layer *layer,
				       struct chimney_offload_handle *upper,
				       int status)
{
	struct chimney_hop *hop = chimney_hop_above(upper, layer);
	struct chimney_conn *conn = hop ? hop->conn : NULL;
	bool bad;

	if (!conn) {
		chimney_bad_completion(layer, NULL, "initiate");
		return;
	}
	spin_lock_bh(&conn->lock);
	bad = conn->state != CHIMNEY_CONN_OFFLOADING || hop->initiate_done;
	hop->initiate_done = true;
	spin_unlock_bh(&conn->lock);
	if (bad) {
		chimney_bad_completion(layer, conn, "initiate");
		return;
	}
	if (status > 0)
		status = -EIO;
	/* On failure the owner frees its handle in the callback. */
	if (status)
		WRITE_ONCE(upper->chimney_reserved, NULL);

	trace_chimney_initiate_complete(conn->stack->dev, hop->layer->name,
					conn->id, 0, status, "");
	hop->layer->ops->initiate_complete(hop->layer, upper, status);
	if (hop->index)
		return;

	/* The top's completion has returned: events are legal from now on. */
	if (!status) {
		spin_lock_bh(&conn->lock);
		conn->state = CHIMNEY_CONN_OFFLOADED;
		spin_unlock_bh(&conn->lock);
		chimney_stats_add(&conn->stack->stats, offloaded, 1);
	} else {
		chimney_stats_add(&conn->stack->stats, offload_failed, 1);
		chimney_conn_unlink(conn);
	}
}
EXPORT_SYMBOL_GPL(chimney_initiate_offload_complete);

static int chimney_pass_terminate(struct chimney_conn *conn, unsigned int index)
{
	struct chimney_layer *lower = conn->hops[index].layer;
	void *context = conn->hops[index - 1].handle->lower_context;

	return lower->ops->terminate(lower, context);
}

/* Start the terminate of @conn through its stack, on behalf of its top. */
int chimney_conn_terminate(struct chimney_conn *conn)
{
	int err;

	spin_lock_bh(&conn->lock);
	switch (conn->state) {
	case CHIMNEY_CONN_OFFLOADING:
		err = -EBUSY;
		break;
	case CHIMNEY_CONN_OFFLOADED:
		conn->state = CHIMNEY_CONN_TERMINATING;
		err = 0;
		break;
	default:
		err = -EALREADY;
	}
	spin_unlock_bh(&conn->lock);
	if (err)
		return err;

	trace_chimney_terminate(conn->stack->dev, conn->hops[0].layer->name,
				conn->id, 0, 0, "");
	err = chimney_pass_terminate(conn, 1);
	if (err) {
		/* Refused before anything completed: still offloaded. */
		spin_lock_bh(&conn->lock);
		if (!conn->hops[conn->nr_hops - 2].terminate_done)
			conn->state = CHIMNEY_CONN_OFFLOADED;
		spin_unlock_bh(&conn->lock);
	}
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_terminate);

/**
 * chimney_offload_terminate() - upload a connection (NdisTerminateOffload)
 * @top: the protocol layer
 * @own: @top's handle for the connection
 *
 * From now on no event reaches any layer of the connection. The completion
 * arrives through @top's terminate_complete, from process context, after
 * every upcall that was running on the connection has returned. Process
 * context.
 *
 * Return: 0, -EINVAL if @own is not @top's handle of a live connection,
 * -EBUSY while the initiate has not completed, -EALREADY if a terminate is
 * under way, or the error the layer below refused the terminate with (the
 * connection then stays offloaded).
 */
int chimney_offload_terminate(struct chimney_layer *top,
			      struct chimney_offload_handle *own)
{
	struct chimney_hop *hop;

	might_sleep();
	if (!top || !own || top->role != CHIMNEY_LAYER_PROTOCOL)
		return -EINVAL;
	/* Pairs with smp_store_release() in chimney_bind_handle(). */
	hop = smp_load_acquire(&own->chimney_reserved);
	if (!hop || hop->index || hop->layer != top)
		return -EINVAL;
	return chimney_conn_terminate(hop->conn);
}
EXPORT_SYMBOL_GPL(chimney_offload_terminate);

/**
 * chimney_offload_forward_terminate() - pass a terminate further down
 * @layer: an intermediate layer, inside its terminate op
 * @own: @layer's own handle for the connection
 *
 * Return: 0, -EINVAL if @own is not @layer's handle of a connection being
 * terminated, or the error the layer below refused it with.
 */
int chimney_offload_forward_terminate(struct chimney_layer *layer,
				      struct chimney_offload_handle *own)
{
	struct chimney_hop *hop;

	might_sleep();
	if (!layer || !own || layer->role != CHIMNEY_LAYER_INTERMEDIATE)
		return -EINVAL;
	/* Pairs with smp_store_release() in chimney_bind_handle(). */
	hop = smp_load_acquire(&own->chimney_reserved);
	if (!hop || hop->layer != layer ||
	    READ_ONCE(hop->conn->state) != CHIMNEY_CONN_TERMINATING)
		return -EINVAL;
	return chimney_pass_terminate(hop->conn, hop->index + 1);
}
EXPORT_SYMBOL_GPL(chimney_offload_forward_terminate);

/**
 * chimney_terminate_offload_complete() - NdisMTerminateOffloadComplete
 * @layer: the layer completing (right below @upper's owner)
 * @upper: the handle whose lower_context @layer's terminate op received
 * @status: 0, or -EIO if @layer lost the connection's delegated state
 *
 * @layer must not use its context of the connection after this. Completions
 * must come bottom-up, one per layer. Any context except hard interrupt;
 * the layer above is called from process context. A completion that does
 * not match a terminate in progress is counted and ignored.
 */
void chimney_terminate_offload_complete(struct chimney_layer *layer,
					struct chimney_offload_handle *upper,
					int status)
{
	struct chimney_hop *hop = chimney_hop_above(upper, layer);
	struct chimney_conn *conn = hop ? hop->conn : NULL;
	bool can_sleep = preemptible();
	bool bad, direct = false;

	if (!conn) {
		chimney_bad_completion(layer, NULL, "terminate");
		return;
	}
	spin_lock_bh(&conn->lock);
	/* Bottom-up: the hop right above the last completed one. */
	bad = conn->state != CHIMNEY_CONN_TERMINATING || hop->terminate_done ||
	      conn->term_pending >= 0 ||
	      (hop->index + 2 < conn->nr_hops &&
	       !conn->hops[hop->index + 1].terminate_done);
	if (!bad) {
		hop->terminate_done = true;
		conn->term_pending = hop->index;
		if (status)
			conn->term_status = status > 0 ? -EIO : status;
		/*
		 * Completed from a context that may sleep, with no upcall
		 * running: deliver now instead of paying a work item per
		 * connection (a million of them on device removal).
		 */
		direct = can_sleep && (conn->drained || !conn->inflight);
		if (direct)
			conn->drained = true;
	}
	spin_unlock_bh(&conn->lock);
	if (bad) {
		chimney_bad_completion(layer, conn, "terminate");
		return;
	}
	if (direct)
		chimney_complete_deliver(conn);
	else
		queue_work(chimney_wq, &conn->complete_work);
}
EXPORT_SYMBOL_GPL(chimney_terminate_offload_complete);

static bool chimney_conn_idle(struct chimney_conn *conn)
{
	bool idle;

	spin_lock_bh(&conn->lock);
	idle = !conn->inflight;
	spin_unlock_bh(&conn->lock);
	return idle;
}

/* Deliver the pending terminate completion to the layer above. */
static void chimney_complete_deliver(struct chimney_conn *conn)
{
	struct chimney_offload_handle *handle;
	struct chimney_hop *hop;
	int index, status;

	spin_lock_bh(&conn->lock);
	index = conn->term_pending;
	conn->term_pending = -1;
	status = conn->term_status;
	if (!index)
		conn->state = CHIMNEY_CONN_TERMINATED;
	spin_unlock_bh(&conn->lock);
	if (WARN_ON_ONCE(index < 0))
		return;

	hop = &conn->hops[index];
	handle = hop->handle;
	WRITE_ONCE(handle->chimney_reserved, NULL);
	handle->lower_context = NULL;
	trace_chimney_terminate_complete(conn->stack->dev, hop->layer->name,
					 conn->id, 0, status, "");
	hop->layer->ops->terminate_complete(hop->layer, handle, status);
	if (index)
		return;

	chimney_stats_add(&conn->stack->stats, terminated, 1);
	chimney_conn_unlink(conn);
}

static void chimney_complete_work(struct work_struct *work)
{
	struct chimney_conn *conn = container_of(work, struct chimney_conn,
						 complete_work);

	/*
	 * Rundown: TERMINATING already refuses new upcalls; wait for the ones
	 * that started before, since the layers free their handles below.
	 */
	if (!conn->drained) {
		wait_var_event(&conn->inflight, chimney_conn_idle(conn));
		conn->drained = true;
	}
	chimney_complete_deliver(conn);
}

/**
 * chimney_indicate_status() - a device-wide status indication going up
 * @layer: the indicating layer (the target, or an intermediate forwarding)
 * @status: CHIMNEY_STATUS_UPLOAD_ALL, _OFFLOAD_PAUSE or _OFFLOAD_RESUME
 *
 * Delivered to the nearest layer above that has a status op. Process
 * context.
 */
void chimney_indicate_status(struct chimney_layer *layer, u32 status)
{
	struct chimney_layer *above = NULL;
	struct chimney_stack *stack;
	unsigned int depth;

	might_sleep();
	if (!layer)
		return;
	mutex_lock(&chimney_stacks_lock);
	stack = layer->stack;
	for (depth = layer->depth; stack && depth > 0; depth--) {
		above = chimney_stack_layer(stack, depth - 1);
		if (above && above->ops->status)
			break;
		above = NULL;
	}
	mutex_unlock(&chimney_stacks_lock);
	if (above)
		above->ops->status(above, status);
}
EXPORT_SYMBOL_GPL(chimney_indicate_status);

/**
 * chimney_handle_conn_id() - the connection id behind a handle
 * @handle: a layer's handle
 *
 * Return: the stable id of the live connection @handle belongs to, or 0.
 */
u64 chimney_handle_conn_id(const struct chimney_offload_handle *handle)
{
	struct chimney_hop *hop;
	u64 id = 0;

	if (!handle)
		return 0;
	rcu_read_lock();
	hop = READ_ONCE(handle->chimney_reserved);
	if (hop)
		id = hop->conn->id;
	rcu_read_unlock();
	return id;
}
EXPORT_SYMBOL_GPL(chimney_handle_conn_id);

/*
 * Upload everything on @stack, whatever its protocol layer thinks: the
 * device is going away. Terminates in batches so a million connections
 * cost one pass, and waits for asynchronous completions.
 */
int chimney_stack_drain(struct chimney_stack *stack)
{
	struct chimney_conn *batch[64], *conn;
	unsigned int n, i;

	might_sleep();
	chimney_stack_set_closing(stack, true);
	for (;;) {
		n = 0;
		spin_lock_bh(&stack->conns_lock);
		list_for_each_entry(conn, &stack->conns, stack_node) {
			if (READ_ONCE(conn->state) != CHIMNEY_CONN_OFFLOADED)
				continue;
			chimney_conn_get(conn);
			batch[n++] = conn;
			if (n == ARRAY_SIZE(batch))
				break;
		}
		spin_unlock_bh(&stack->conns_lock);

		for (i = 0; i < n; i++) {
			chimney_conn_terminate(batch[i]);
			chimney_conn_put(batch[i]);
		}
		if (!n) {
			flush_workqueue(chimney_wq);
			/* Only initiates/terminates still pending below. */
			if (wait_var_event_timeout(&stack->nr_conns,
						   !READ_ONCE(stack->nr_conns),
						   HZ / 10))
				break;
		}
		cond_resched();
	}
	return 0;
}

void chimney_flush(void)
{
	flush_workqueue(chimney_wq);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_flush);

int chimney_offload_init(void)
{
	chimney_wq = alloc_workqueue("chimney", WQ_UNBOUND, 0);
	return chimney_wq ? 0 : -ENOMEM;
}

void chimney_offload_exit(void)
{
	destroy_workqueue(chimney_wq);
}
