// SPDX-License-Identifier: GPL-2.0
/*
 * Initiate and terminate of one connection through the stack, and the
 * completions travelling back up (NdisInitiateOffload, NdisTerminateOffload
 * and the NdisM*Complete calls of the spec, sections c and d).
 *
 * Each layer's handle gets chimney_reserved pointed at the connection,
 * tagged with the layer's hop index, when it is handed down; that is how a
 * completion or an event on a handle finds its connection and the layer
 * owning the handle. Every entry point that goes from a handle to its
 * connection takes a reference inside an RCU read section
 * (chimney_handle_get()), so a connection completed by another thread in
 * between cannot be freed under it.
 *
 * Terminate completions go up in process context: the layers above free
 * their handles while handling them, and the first one must wait until no
 * upcall runs on the connection (rundown). The API lets a lower layer
 * complete from any context but hard interrupt, so a completion never
 * calls the layer above itself. It is recorded, and delivered by the
 * thread that owns the connection's terminate (term_busy): the framework
 * call that started the terminate once the layer's op has returned, or
 * complete_work. The common case, a target completing inside its
 * terminate op, so costs no work item per connection.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "offload.h"
#include "trace.h"

static struct workqueue_struct *chimney_wq;

static void chimney_conn_unlink(struct chimney_conn *conn)
{
	struct chimney_stack *stack = conn->key.stack;
	bool empty;

	spin_lock_bh(&stack->conns_lock);
	chimney_table_remove(conn);
	empty = !--stack->nr_conns;
	chimney_stats_add(stack->stats, live, -1);
	spin_unlock_bh(&stack->conns_lock);
	/* Wakes chimney_stack_drain(); only the address is used. */
	if (empty) {
		smp_mb();	/* the waiter's prepare_to_wait() */
		wake_up_var(&stack->nr_conns);
	}
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

/*
 * The connection @handle routes to, referenced, with the index of the hop
 * that owns @handle in *@index; or NULL. The RCU section covers the window
 * between loading the tag and taking the reference: connections are freed
 * a grace period after their last reference is gone.
 */
static struct chimney_conn *chimney_handle_get(const struct chimney_offload_handle *handle,
					       unsigned int *index)
{
	struct chimney_conn *conn = NULL;
	void *tag;

	if (!handle)
		return NULL;
	rcu_read_lock();
	/* Pairs with smp_store_release() in chimney_bind_handle(). */
	tag = smp_load_acquire(&handle->chimney_reserved);
	if (tag) {
		conn = chimney_tag_conn(tag);
		*index = chimney_tag_index(tag);
		if (!refcount_inc_not_zero(&conn->ref))
			conn = NULL;
	}
	rcu_read_unlock();
	return conn;
}

/* Like chimney_handle_get(), checked to sit directly above @lower. */
static struct chimney_conn *chimney_handle_get_above(struct chimney_offload_handle *handle,
						     struct chimney_layer *lower,
						     unsigned int *index)
{
	struct chimney_conn *conn;

	if (!lower)
		return NULL;
	conn = chimney_handle_get(handle, index);
	if (conn && (*index + 1 >= conn->nr_hops ||
		     chimney_conn_layer(conn, *index + 1) != lower)) {
		chimney_conn_put(conn);
		conn = NULL;
	}
	return conn;
}

/* Hand @upper (the handle of hop @index - 1) to the layer of hop @index. */
static int chimney_pass_initiate(struct chimney_conn *conn, unsigned int index,
				 struct chimney_offload_handle *upper)
{
	struct chimney_layer *lower = chimney_conn_layer(conn, index);
	struct chimney_conn_info info = {
		.id = conn->id,
		.dev = conn->key.stack->dev,
	};

	chimney_conn_tuple(conn, &info.tuple);
	trace_chimney_initiate(conn->key.stack->dev, lower->name, conn->id, 0, index,
			       "");
	return lower->ops->initiate(lower, upper, &info);
}

static void chimney_bind_handle(struct chimney_conn *conn, unsigned int index,
				struct chimney_offload_handle *handle)
{
	WRITE_ONCE(conn->hops[index], handle);
	handle->lower_context = NULL;
	/* Publishes the connection to lock-free indications on this handle. */
	smp_store_release(&handle->chimney_reserved,
			  chimney_hop_tag(conn, index));
}

/*
 * Before the owner of @handle hears that it may free it: the handle no
 * longer leads to the connection, nor the connection to the handle. Under
 * conn->lock, so chimney_conn_lower_context() never reads a handle whose
 * owner was told. A walker of the id index that read the handle's address
 * without the lock did so inside an RCU section begun before the owner
 * could free it: an owner freeing its handle after a grace period may be
 * found that way (the host's UPLOAD_ALL does).
 */
static void chimney_unbind_handle(struct chimney_conn *conn, unsigned int index,
				  struct chimney_offload_handle *handle)
{
	lockdep_assert_held(&conn->lock);
	WRITE_ONCE(conn->hops[index], NULL);
	WRITE_ONCE(handle->chimney_reserved, NULL);
	handle->lower_context = NULL;
}

/**
 * chimney_conn_lower_context() - the bottom layer's context of a connection
 * @conn: a connection from the id index, under RCU
 * @bottom: the layer asking; must be the bottom of @conn's stack
 *
 * What @bottom wrote into the lower_context of the handle it received,
 * while that handle is bound: from the initiate until the layer above is
 * told that the initiate failed or the terminate completed. A bottom
 * layer that clears the field under a lock of its own before it frees its
 * context, and calls this under that lock, finds its live contexts by id
 * without an index of its own (the fake target does).
 *
 * Return: the context, or NULL.
 */
void *chimney_conn_lower_context(struct chimney_conn *conn,
				 const struct chimney_layer *bottom)
{
	struct chimney_offload_handle *upper;
	void *context = NULL;

	if (chimney_conn_layer(conn, conn->nr_hops - 1) != bottom)
		return NULL;
	spin_lock_bh(&conn->lock);
	upper = conn->hops[conn->nr_hops - 2];
	if (upper)
		context = READ_ONCE(upper->lower_context);
	spin_unlock_bh(&conn->lock);
	return context;
}

static void chimney_complete_work(struct work_struct *work);
static void chimney_complete_run(struct chimney_conn *conn, bool from_work);

static void chimney_bad_completion(struct chimney_layer *layer,
				   struct chimney_conn *conn, const char *what)
{
	chimney_stats_rule(conn ? conn->key.stack->stats : NULL,
			   CHIMNEY_RULE_BAD_COMPLETION);
	trace_chimney_violation(conn ? conn->key.stack->dev : NULL,
				layer ? layer->name : "?", conn ? conn->id : 0,
				0, 0, chimney_rule_name(CHIMNEY_RULE_BAD_COMPLETION));
	pr_warn_ratelimited("%s: ignored %s on connection %llu\n",
			    layer ? layer->name : "?", what,
			    conn ? conn->id : 0);
}

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
 * while the stack is being torn down or unbound, -EEXIST for a duplicate
 * key, -ENOMEM, or the error the layer below refused the initiate with.
 */
int chimney_offload_initiate(struct chimney_layer *top,
			     const struct chimney_tuple *tuple,
			     struct chimney_offload_handle *own)
{
	struct chimney_layer *bottom;
	struct chimney_stack *stack;
	struct chimney_conn *conn;
	bool done;
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
	conn = chimney_conn_alloc(stack->depth);
	if (!conn) {
		err = -ENOMEM;
		goto unlock;
	}
	/* Pinned until the connection is freed: its layers are the stack's. */
	refcount_inc(&stack->ref);
	chimney_conn_key_init(&conn->key, stack, tuple);
	refcount_set(&conn->ref, 1);
	spin_lock_init(&conn->lock);
	atomic64_set(&conn->ev, CHIMNEY_CONN_OFFLOADING);
	conn->term_pending = -1;
	INIT_WORK(&conn->complete_work, chimney_complete_work);
	err = chimney_table_reserve(conn);
	if (err) {
		chimney_conn_put(conn);
		goto unlock;
	}

	spin_lock_bh(&stack->conns_lock);
	err = stack->draining ? -ENETDOWN : chimney_table_insert(conn);
	if (!err) {
		stack->nr_conns++;
		chimney_stats_add(stack->stats, live, 1);
	}
	spin_unlock_bh(&stack->conns_lock);
	mutex_unlock(&chimney_stacks_lock);
	if (err) {
		chimney_table_unreserve(conn);
		chimney_conn_put(conn);
		return err;
	}

	chimney_bind_handle(conn, 0, own);
	err = chimney_pass_initiate(conn, 1, own);
	if (!err)
		return 0;

	spin_lock_bh(&conn->lock);
	done = conn->initiate_done & BIT(0);
	/* Refused outright: nothing was completed, nothing to undo below. */
	if (!done)
		chimney_unbind_handle(conn, 0, own);
	spin_unlock_bh(&conn->lock);
	if (done) {
		/* Completed and refused at once: the completion stands. */
		chimney_bad_completion(chimney_conn_layer(conn, 1), conn,
				       "refusal of a completed initiate");
		return 0;
	}
	chimney_stats_add(stack->stats, offload_failed, 1);
	chimney_conn_unlink(conn);
	return err;

unlock:
	mutex_unlock(&chimney_stacks_lock);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_offload_initiate);

/**
 * chimney_offload_forward_initiate() - pass an initiate further down
 * @layer: an intermediate layer, inside its initiate op
 * @upper: the handle its initiate op received
 * @own: @layer's own handle for the connection, zeroed
 *
 * Process context.
 *
 * Return: 0, -EINVAL if @layer is not the layer right below @upper's owner,
 * -EBUSY if the connection is not being initiated or @layer already
 * forwarded it, or the error the layer below refused it with.
 */
int chimney_offload_forward_initiate(struct chimney_layer *layer,
				     struct chimney_offload_handle *upper,
				     struct chimney_offload_handle *own)
{
	struct chimney_conn *conn;
	unsigned int up, index;
	bool done;
	int err = 0;

	might_sleep();
	if (!own || !layer || layer->role != CHIMNEY_LAYER_INTERMEDIATE)
		return -EINVAL;
	conn = chimney_handle_get_above(upper, layer, &up);
	if (!conn)
		return -EINVAL;
	index = up + 1;

	spin_lock_bh(&conn->lock);
	/* Once, also after a failed completion has given the hop back. */
	if (chimney_conn_state(conn) != CHIMNEY_CONN_OFFLOADING ||
	    conn->hops[index] || (conn->initiate_done & BIT(index)))
		err = -EBUSY;
	else
		WRITE_ONCE(conn->hops[index], own);
	spin_unlock_bh(&conn->lock);
	if (err)
		goto out;

	chimney_bind_handle(conn, index, own);
	err = chimney_pass_initiate(conn, index + 1, own);
	if (!err)
		goto out;
	spin_lock_bh(&conn->lock);
	done = conn->initiate_done & BIT(index);
	if (!done)
		chimney_unbind_handle(conn, index, own);
	spin_unlock_bh(&conn->lock);
	if (done) {
		chimney_bad_completion(chimney_conn_layer(conn, index + 1), conn,
				       "refusal of a completed initiate");
		err = 0;
	}
out:
	chimney_conn_put(conn);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_offload_forward_initiate);

/**
 * chimney_initiate_offload_complete() - NdisMInitiateOffloadComplete
 * @layer: the layer completing (right below @upper's owner)
 * @upper: the handle @layer's initiate op received
 * @status: 0, or a negative errno if the offload failed
 *
 * On success @layer has written its context into @upper->lower_context.
 * An intermediate layer failing upwards an initiate that succeeded below
 * it keeps its own handle: the framework terminates the connection below
 * it. Any context except hard interrupt. A completion that does not match
 * an initiate in progress is counted as a bad_completion and ignored.
 */
void chimney_initiate_offload_complete(struct chimney_layer *layer,
				       struct chimney_offload_handle *upper,
				       int status)
{
	struct chimney_stack *stack;
	struct chimney_conn *conn;
	struct chimney_layer *above;
	unsigned int index, mine;
	bool bad, partial = false;

	conn = chimney_handle_get_above(upper, layer, &index);
	if (!conn) {
		chimney_bad_completion(layer, NULL, "initiate completion");
		return;
	}
	stack = conn->key.stack;
	above = chimney_conn_layer(conn, index);
	if (status > 0)
		status = -EIO;
	mine = index + 1;
	spin_lock_bh(&conn->lock);
	bad = chimney_conn_state(conn) != CHIMNEY_CONN_OFFLOADING ||
	      (conn->initiate_done & BIT(index));
	if (!bad) {
		conn->initiate_done |= BIT(index);
		if (!status)
			conn->initiate_ok |= BIT(index);
		/* @layer holds a context below it that must be terminated. */
		if (status && mine + 1 < conn->nr_hops &&
		    (conn->initiate_done & conn->initiate_ok & BIT(mine))) {
			conn->partial_top = mine;
			partial = true;
		}
		/* On failure the owner frees its handle in the callback. */
		if (status)
			chimney_unbind_handle(conn, index, upper);
	}
	spin_unlock_bh(&conn->lock);
	if (bad) {
		chimney_bad_completion(layer, conn, "initiate completion");
		goto out;
	}
	if (partial)
		pr_warn_ratelimited("%s: failed initiate of connection %llu that succeeded below it; terminating it there\n",
				    layer->name, conn->id);

	trace_chimney_initiate_complete(stack->dev, above->name, conn->id,
					0, status, "");
	above->ops->initiate_complete(above, upper, status);
	if (index)
		goto out;

	/* The top's completion has returned: events are legal from now on. */
	if (!status) {
		spin_lock_bh(&conn->lock);
		chimney_conn_set_state(conn, CHIMNEY_CONN_OFFLOADED);
		spin_unlock_bh(&conn->lock);
		chimney_stats_add(stack->stats, offloaded, 1);
		/* A drain that already passed this one must look again. */
		if (READ_ONCE(stack->draining)) {
			WRITE_ONCE(stack->drain_kick, true);
			smp_mb();	/* the drainer's prepare_to_wait() */
			wake_up_var(&stack->nr_conns);
		}
		goto out;
	}
	chimney_stats_add(stack->stats, offload_failed, 1);
	spin_lock_bh(&conn->lock);
	partial = conn->partial_top > 0;
	if (partial) {
		/* Terminate below the failing layer, from process context. */
		chimney_conn_set_state(conn, CHIMNEY_CONN_TERMINATING);
		/* Nobody is left above to deliver an event to. */
		atomic64_or(CHIMNEY_EV_CLOSED, &conn->ev);
		conn->term_top = conn->partial_top;
		conn->term_start = true;
		conn->term_busy = true;
	}
	spin_unlock_bh(&conn->lock);
	if (partial)
		queue_work(chimney_wq, &conn->complete_work);
	else
		chimney_conn_unlink(conn);
out:
	chimney_conn_put(conn);
}
EXPORT_SYMBOL_GPL(chimney_initiate_offload_complete);

/* Ask the layer of hop @index to terminate; process context. */
static int chimney_pass_terminate(struct chimney_conn *conn, unsigned int index)
{
	struct chimney_layer *lower = chimney_conn_layer(conn, index);
	void *context = conn->hops[index - 1]->lower_context;
	int err;

	err = lower->ops->terminate(lower, context);
	/* From now on the target may raise nothing on it. */
	if (!err && index == conn->nr_hops - 1)
		atomic64_or(CHIMNEY_EV_CLOSED, &conn->ev);
	return err;
}

/* Has any layer from hop @from down completed the terminate? */
static bool chimney_term_started(struct chimney_conn *conn, int from)
{
	return conn->terminate_done & GENMASK(conn->nr_hops - 2, from);
}

/**
 * chimney_conn_terminate() - start the terminate of @conn from its top
 * @conn: a connection
 *
 * What the protocol layer's chimney_offload_terminate() does, also used by
 * the framework itself (device removal, unregister, debugfs). Process
 * context; the completions may be delivered before this returns.
 *
 * Return: 0, -EBUSY while the initiate is pending, -EALREADY if a
 * terminate is under way or done, or the error the layer below refused it
 * with (the connection then stays offloaded).
 */
int chimney_conn_terminate(struct chimney_conn *conn)
{
	bool deliver;
	int err;

	might_sleep();
	spin_lock_bh(&conn->lock);
	switch (chimney_conn_state(conn)) {
	case CHIMNEY_CONN_OFFLOADING:
		err = -EBUSY;
		break;
	case CHIMNEY_CONN_OFFLOADED:
		chimney_conn_set_state(conn, CHIMNEY_CONN_TERMINATING);
		conn->term_top = 0;
		conn->term_busy = true;
		err = 0;
		break;
	default:
		err = -EALREADY;
	}
	spin_unlock_bh(&conn->lock);
	if (err)
		return err;

	trace_chimney_terminate(conn->key.stack->dev, chimney_conn_layer(conn, 0)->name,
				conn->id, 0, 0, "");
	err = chimney_pass_terminate(conn, 1);

	spin_lock_bh(&conn->lock);
	if (err && !chimney_term_started(conn, 0)) {
		/* Refused before anything completed: still offloaded. */
		chimney_conn_set_state(conn, CHIMNEY_CONN_OFFLOADED);
		atomic64_andnot(CHIMNEY_EV_CLOSED, &conn->ev);
		/* A drain that saw it terminating must look again. */
		WRITE_ONCE(conn->key.stack->drain_kick, true);
	} else if (err) {
		/* Refused but completed below: the completion stands. */
		err = 0;
	}
	deliver = conn->term_pending >= 0;
	if (!deliver)
		conn->term_busy = false;
	spin_unlock_bh(&conn->lock);
	if (deliver)
		chimney_complete_run(conn, false);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_conn_terminate);

/**
 * chimney_offload_terminate() - upload a connection (NdisTerminateOffload)
 * @top: the protocol layer
 * @own: @top's handle for the connection
 *
 * From now on the connection is being terminated: the target may still
 * raise events until it has been asked to terminate, and events already
 * on their way up are delivered. The completion arrives through @top's
 * terminate_complete, in process context, after every upcall that was
 * running on the connection has returned, possibly before this returns.
 * Process context.
 *
 * Return: 0, -EINVAL if @own is not @top's handle of a live connection,
 * -EBUSY while the initiate has not completed, -EALREADY if a terminate is
 * under way, or the error the layer below refused the terminate with (the
 * connection then stays offloaded).
 */
int chimney_offload_terminate(struct chimney_layer *top,
			      struct chimney_offload_handle *own)
{
	struct chimney_conn *conn;
	unsigned int index;
	int err;

	might_sleep();
	if (!top || !own || top->role != CHIMNEY_LAYER_PROTOCOL)
		return -EINVAL;
	conn = chimney_handle_get(own, &index);
	if (!conn)
		return -EINVAL;
	if (index || chimney_conn_layer(conn, 0) != top)
		err = -EINVAL;
	else
		err = chimney_conn_terminate(conn);
	chimney_conn_put(conn);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_offload_terminate);

/**
 * chimney_offload_forward_terminate() - pass a terminate further down
 * @layer: an intermediate layer, inside its terminate op (or later)
 * @own: @layer's own handle for the connection
 *
 * Process context.
 *
 * Return: 0, -EINVAL if @own is not @layer's handle of a connection being
 * terminated, or the error the layer below refused it with.
 */
int chimney_offload_forward_terminate(struct chimney_layer *layer,
				      struct chimney_offload_handle *own)
{
	struct chimney_conn *conn;
	unsigned int index;
	bool ok;
	int err;

	might_sleep();
	if (!layer || !own || layer->role != CHIMNEY_LAYER_INTERMEDIATE)
		return -EINVAL;
	conn = chimney_handle_get(own, &index);
	if (!conn)
		return -EINVAL;
	spin_lock_bh(&conn->lock);
	ok = chimney_conn_layer(conn, index) == layer &&
	     chimney_conn_state(conn) == CHIMNEY_CONN_TERMINATING &&
	     index >= conn->term_top && index + 1 < conn->nr_hops;
	spin_unlock_bh(&conn->lock);
	err = ok ? chimney_pass_terminate(conn, index + 1) : -EINVAL;
	chimney_conn_put(conn);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_offload_forward_terminate);

/**
 * chimney_terminate_offload_complete() - NdisMTerminateOffloadComplete
 * @layer: the layer completing (right below @upper's owner)
 * @upper: the handle whose lower_context @layer's terminate op received
 * @status: 0, or -EIO if @layer lost the connection's delegated state
 *
 * @layer must not use its context of the connection after this. Completions
 * must come bottom-up, one per layer. Any context except hard interrupt:
 * the completion is only recorded here, and the layer above is called
 * later from process context. A completion that does not match a
 * terminate in progress is counted and ignored.
 */
void chimney_terminate_offload_complete(struct chimney_layer *layer,
					struct chimney_offload_handle *upper,
					int status)
{
	struct chimney_conn *conn;
	unsigned int index;
	bool bad, queue = false;

	conn = chimney_handle_get_above(upper, layer, &index);
	if (!conn) {
		chimney_bad_completion(layer, NULL, "terminate completion");
		return;
	}
	spin_lock_bh(&conn->lock);
	/* Bottom-up: the hop right above the last completed one. */
	bad = chimney_conn_state(conn) != CHIMNEY_CONN_TERMINATING ||
	      (conn->terminate_done & BIT(index)) ||
	      conn->term_pending >= 0 || index < conn->term_top ||
	      (index + 2 < conn->nr_hops &&
	       !(conn->terminate_done & BIT(index + 1)));
	if (!bad) {
		conn->terminate_done |= BIT(index);
		conn->term_pending = index;
		if (status)
			conn->term_status = status > 0 ? -EIO : status;
		if (index + 2 == conn->nr_hops)
			atomic64_or(CHIMNEY_EV_CLOSED, &conn->ev);
		queue = !conn->term_busy;
		conn->term_busy = true;
	}
	spin_unlock_bh(&conn->lock);
	if (bad)
		chimney_bad_completion(layer, conn, "terminate completion");
	else if (queue)
		queue_work(chimney_wq, &conn->complete_work);
	chimney_conn_put(conn);
}
EXPORT_SYMBOL_GPL(chimney_terminate_offload_complete);

static bool chimney_conn_idle(struct chimney_conn *conn)
{
	return !(atomic64_read(&conn->ev) & CHIMNEY_EV_INFLIGHT_MASK);
}

/*
 * Start the terminate below a layer that failed an initiate which
 * succeeded below it; the framework asked, so a refusal is retried.
 */
static void chimney_partial_start(struct chimney_conn *conn)
{
	unsigned int delay = 1;
	int err;

	while ((err = chimney_pass_terminate(conn, conn->term_top + 1))) {
		pr_warn_ratelimited("%s refused to terminate connection %llu (%d); retrying\n",
				    chimney_conn_layer(conn, conn->term_top + 1)->name,
				    conn->id, err);
		msleep(delay);
		delay = min(delay * 2, 1000U);
	}
}

/*
 * Deliver the recorded terminate completions up the stack, in process
 * context, until the top one; the caller owns term_busy.
 */
static void chimney_complete_run(struct chimney_conn *conn, bool from_work)
{
	struct chimney_offload_handle *handle;
	struct chimney_layer *layer;
	bool last = false, start;
	int index, status;

	for (;;) {
		spin_lock_bh(&conn->lock);
		start = conn->term_start;
		conn->term_start = false;
		index = conn->term_pending;
		if (!start && index < 0) {
			conn->term_busy = false;
			spin_unlock_bh(&conn->lock);
			return;
		}
		if (!start && !conn->drained && !chimney_conn_idle(conn)) {
			spin_unlock_bh(&conn->lock);
			/*
			 * Rundown: the target has finished, so no upcall can
			 * start; those still running must return first, since
			 * the layers free their handles below. The caller of
			 * a terminate is not made to wait for them: the work
			 * item takes over (term_busy goes with it).
			 */
			if (!from_work) {
				queue_work(chimney_wq, &conn->complete_work);
				return;
			}
			wait_var_event(&conn->ev, chimney_conn_idle(conn));
			continue;
		}
		if (!start) {
			conn->drained = true;
			conn->term_pending = -1;
			last = index == conn->term_top;
			if (last)
				chimney_conn_set_state(conn, CHIMNEY_CONN_TERMINATED);
			handle = conn->hops[index];
			chimney_unbind_handle(conn, index, handle);
		}
		status = conn->term_status;
		spin_unlock_bh(&conn->lock);

		if (start) {
			chimney_partial_start(conn);
			continue;
		}
		layer = chimney_conn_layer(conn, index);
		trace_chimney_terminate_complete(conn->key.stack->dev, layer->name,
						 conn->id, 0, status, "");
		layer->ops->terminate_complete(layer, handle, status);
		if (last)
			break;
	}
	/* Only a full terminate counts; a failed initiate already did. */
	if (!conn->term_top)
		chimney_stats_add(conn->key.stack->stats, terminated, 1);
	chimney_conn_unlink(conn);
}

static void chimney_complete_work(struct work_struct *work)
{
	chimney_complete_run(container_of(work, struct chimney_conn,
					  complete_work), true);
}

/**
 * chimney_handle_conn_id() - the connection id behind a handle
 * @handle: a layer's handle
 *
 * Any context.
 *
 * Return: the stable id of the live connection @handle belongs to, or 0.
 */
u64 chimney_handle_conn_id(const struct chimney_offload_handle *handle)
{
	void *tag;
	u64 id = 0;

	if (!handle)
		return 0;
	rcu_read_lock();
	tag = READ_ONCE(handle->chimney_reserved);
	if (tag)
		id = chimney_tag_conn(tag)->id;
	rcu_read_unlock();
	return id;
}
EXPORT_SYMBOL_GPL(chimney_handle_conn_id);

/**
 * chimney_handle_conn_info() - what the framework keeps of a handle's connection
 * @handle: a layer's own handle, or the upper handle a lower layer received
 *	at initiate
 * @info: filled in on success: the id, the device and the 4-tuple, as the
 *	initiate op was given them
 *
 * A layer need not copy what the framework keeps for the connection's
 * whole life. Any context.
 *
 * Return: 0, or -ENOENT when @handle belongs to no live connection (@info
 * is then left alone).
 */
int chimney_handle_conn_info(const struct chimney_offload_handle *handle,
			     struct chimney_conn_info *info)
{
	struct chimney_conn *conn;
	void *tag;
	int err = -ENOENT;

	if (!handle || !info)
		return -ENOENT;
	rcu_read_lock();
	tag = READ_ONCE(handle->chimney_reserved);
	if (tag) {
		conn = chimney_tag_conn(tag);
		info->id = conn->id;
		info->dev = conn->key.stack->dev;
		chimney_conn_tuple(conn, &info->tuple);
		err = 0;
	}
	rcu_read_unlock();
	return err;
}
EXPORT_SYMBOL_GPL(chimney_handle_conn_info);

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
