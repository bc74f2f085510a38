// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device stacks of layers: registration order, the rules that keep a
 * connection's view of its layers stable (NDIS rebinds only after
 * everything offloaded through a binding has been uploaded), and the
 * framework's power to upload everything itself: when a layer leaves with
 * connections live, and when the device goes away, whichever module
 * registered the layers.
 *
 * Locking: chimney_stacks_lock (a mutex) guards the stack list, every
 * stack's layer list and layer->stack; it is never held across a layer's
 * op. A stack's conns_lock guards its connection list. Status upcalls run
 * in chimney_layer_srcu, so a layer that leaves its stack is not freed
 * under one.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>

#include "compat.h"
#include "conn.h"
#include "offload.h"
#include "stack.h"

DEFINE_MUTEX(chimney_stacks_lock);
LIST_HEAD(chimney_stacks);
DEFINE_STATIC_SRCU(chimney_layer_srcu);

/*
 * Layers the device-removal path took off their stack and has not yet
 * told (or is telling) through their unbind op. chimney_layer_unregister()
 * from another thread waits for them, since the owner may free the layer
 * as soon as that call returns.
 */
struct chimney_unbind_batch {
	struct list_head node;		/* chimney_unbind_batches */
	struct list_head layers;	/* still to be told */
	struct chimney_layer *current_layer;
	struct task_struct *task;
};

static LIST_HEAD(chimney_unbind_batches);
static DECLARE_WAIT_QUEUE_HEAD(chimney_unbind_wq);
static unsigned long chimney_unbind_seq;

struct chimney_stack *chimney_stack_find(const struct net_device *dev)
{
	struct chimney_stack *stack;

	lockdep_assert_held(&chimney_stacks_lock);
	list_for_each_entry(stack, &chimney_stacks, node)
		if (stack->dev == dev)
			return stack;
	return NULL;
}

static struct chimney_layer *chimney_stack_layer(struct chimney_stack *stack,
						 unsigned int depth)
{
	struct chimney_layer *layer;

	list_for_each_entry(layer, &stack->layers, node)
		if (layer->depth == depth)
			return layer;
	return NULL;
}

static bool chimney_ops_valid(const struct chimney_layer_ops *ops,
			      enum chimney_layer_role role)
{
	bool upper = role != CHIMNEY_LAYER_TARGET;
	bool lower = role != CHIMNEY_LAYER_PROTOCOL;

	if (!ops)
		return false;
	if (upper && (!ops->event || !ops->initiate_complete ||
		      !ops->terminate_complete))
		return false;
	if (lower && (!ops->initiate || !ops->terminate))
		return false;
	return true;
}

/* Only while the stack carries no connection: see chimney_conn_layer(). */
static void chimney_stack_renumber(struct chimney_stack *stack)
{
	struct chimney_layer *layer;
	unsigned int depth = 0;

	list_for_each_entry(layer, &stack->layers, node) {
		WRITE_ONCE(stack->layer_at[depth], layer);
		layer->depth = depth++;
	}
	stack->depth = depth;
	while (depth < CHIMNEY_MAX_DEPTH)
		WRITE_ONCE(stack->layer_at[depth++], NULL);
}

static struct chimney_stack *chimney_stack_create(struct net_device *dev)
{
	struct chimney_stack *stack;

	stack = kzalloc(sizeof(*stack), GFP_KERNEL);
	if (!stack)
		return NULL;
	stack->stats = alloc_percpu(struct chimney_stats);
	if (!stack->stats) {
		kfree(stack);
		return NULL;
	}
	stack->dev = dev;
	netdev_hold(dev, &stack->dev_tracker, GFP_KERNEL);
	refcount_set(&stack->ref, 1);
	INIT_LIST_HEAD(&stack->layers);
	spin_lock_init(&stack->conns_lock);
	mutex_init(&stack->drain_lock);
	list_add_tail(&stack->node, &chimney_stacks);
	return stack;
}

static void chimney_stack_free(struct rcu_head *rcu)
{
	struct chimney_stack *stack = container_of(rcu, struct chimney_stack, rcu);

	free_percpu(stack->stats);
	kfree(stack);
}

/* Connections pin their stack too: this may run from their RCU free. */
void chimney_stack_put(struct chimney_stack *stack)
{
	if (!refcount_dec_and_test(&stack->ref))
		return;
	mutex_destroy(&stack->drain_lock);
	/* debugfs readers look at connections' stacks under RCU. */
	call_rcu(&stack->rcu, chimney_stack_free);
}

/* Off the list, and the device is free to go; chimney_stacks_lock held. */
static void chimney_stack_unlink(struct chimney_stack *stack)
{
	lockdep_assert_held(&chimney_stacks_lock);
	list_del(&stack->node);
	netdev_put(stack->dev, &stack->dev_tracker);
	chimney_stack_put(stack);
}

/* Hold new initiates off and pin @stack; chimney_stacks_lock held. */
static void chimney_stack_drain_begin(struct chimney_stack *stack)
{
	lockdep_assert_held(&chimney_stacks_lock);
	refcount_inc(&stack->ref);
	spin_lock_bh(&stack->conns_lock);
	stack->draining++;
	spin_unlock_bh(&stack->conns_lock);
}

/* Undo chimney_stack_drain_begin(); chimney_stacks_lock held. */
static void chimney_stack_drain_end(struct chimney_stack *stack)
{
	lockdep_assert_held(&chimney_stacks_lock);
	spin_lock_bh(&stack->conns_lock);
	stack->draining--;
	spin_unlock_bh(&stack->conns_lock);
}

/* Connections a drain pass takes references on per RCU section. */
#define CHIMNEY_DRAIN_BATCH	32

/* @conn, referenced, if it is an offloaded connection of @stack. */
static void *chimney_stack_drain_take(struct chimney_conn *conn, void *stack)
{
	if (conn->key.stack == stack &&
	    chimney_conn_state(conn) == CHIMNEY_CONN_OFFLOADED &&
	    refcount_inc_not_zero(&conn->ref))
		return conn;
	return NULL;
}

/*
 * One pass: start the terminate of every connection of @stack offloaded
 * now. The id index is walked in order, a batch of references at a time
 * under RCU, the terminates running in between in process context: O(N)
 * whatever the completions do meanwhile, and no lock held while a layer
 * is called. Return: how many a layer refused.
 */
static unsigned int chimney_stack_drain_pass(struct chimney_stack *stack)
{
	void *batch[CHIMNEY_DRAIN_BATCH];
	unsigned long slot = 0;
	unsigned int refused = 0, n, i;
	int err;

	while (slot != CHIMNEY_WALK_DONE) {
		n = chimney_conn_gather(&slot, batch, ARRAY_SIZE(batch),
					chimney_stack_drain_take, stack);
		for (i = 0; i < n; i++) {
			err = chimney_conn_terminate(batch[i]);
			if (err && err != -EALREADY && err != -EBUSY)
				refused++;
			chimney_conn_put(batch[i]);
		}
		cond_resched();
	}
	return refused;
}

static bool chimney_stack_drain_done(struct chimney_stack *stack)
{
	return !READ_ONCE(stack->nr_conns) || READ_ONCE(stack->drain_kick);
}

/*
 * Upload everything on @stack, whatever its protocol layer thinks, and
 * wait until the last connection is gone. Initiates still pending are
 * waited for and then terminated; a terminate a layer refuses is retried
 * with a back-off (it said "not now", not "never"). No global lock is
 * held, so other devices and debugfs go on meanwhile.
 */
static void chimney_stack_drain(struct chimney_stack *stack)
{
	unsigned long backoff = 0, warned = jiffies;
	unsigned int refused;

	might_sleep();
	mutex_lock(&stack->drain_lock);
	for (;;) {
		WRITE_ONCE(stack->drain_kick, false);
		refused = chimney_stack_drain_pass(stack);
		backoff = refused ? clamp(backoff * 2, 1UL, (unsigned long)HZ) : 0;
		/*
		 * Our own refusals kicked us: the back-off decides when to try
		 * again (and picks up any other kick with them).
		 */
		if (refused)
			WRITE_ONCE(stack->drain_kick, false);
		wait_var_event_timeout(&stack->nr_conns,
				       chimney_stack_drain_done(stack),
				       refused ? backoff : 10 * HZ);
		if (!READ_ONCE(stack->nr_conns))
			break;
		if (time_after(jiffies, warned + 10 * HZ)) {
			warned = jiffies;
			netdev_warn(stack->dev, "chimney: waiting for %u connection(s) to terminate (%u refused)\n",
				    READ_ONCE(stack->nr_conns), refused);
		}
	}
	mutex_unlock(&stack->drain_lock);
}

/* Is a device removal still to tell @layer, or telling it, it is unbound? */
static bool chimney_unbind_pending(struct chimney_layer *layer)
{
	struct chimney_unbind_batch *b;
	struct chimney_layer *pos;

	lockdep_assert_held(&chimney_stacks_lock);
	list_for_each_entry(b, &chimney_unbind_batches, node) {
		if (b->task == current)
			continue;
		if (b->current_layer == layer)
			return true;
		list_for_each_entry(pos, &b->layers, node)
			if (pos == layer)
				return true;
	}
	return false;
}

/**
 * chimney_layer_register() - bind a layer into a device's stack
 * @dev: the device, registered (not going away)
 * @layer: the layer, with @layer->name and @layer->ops set
 * @role: where it goes: top, bottom or in between
 *
 * The stack may not carry any offloaded connection while its layers change.
 * Process context.
 *
 * Return: 0, -EINVAL for a missing device, name or required op, -EBUSY if
 * the layer is already registered, the role is taken or connections are
 * offloaded on @dev (or being uploaded), -ENODEV if @dev is being
 * unregistered, -ENOSPC beyond CHIMNEY_MAX_DEPTH layers, -ENOMEM.
 */
int chimney_layer_register(struct net_device *dev, struct chimney_layer *layer,
			   enum chimney_layer_role role)
{
	struct chimney_stack *stack;
	struct chimney_layer *pos;
	int err = 0;

	might_sleep();
	if (!dev || !layer || !layer->name || role > CHIMNEY_LAYER_TARGET ||
	    !chimney_ops_valid(layer->ops, role))
		return -EINVAL;

	mutex_lock(&chimney_stacks_lock);
	if (layer->stack || chimney_unbind_pending(layer)) {
		err = -EBUSY;
		goto out;
	}
	/*
	 * Read under the lock the removal path takes after the device left
	 * NETREG_REGISTERED: either it finds this stack, or we see the state.
	 */
	if (READ_ONCE(dev->reg_state) != NETREG_REGISTERED) {
		err = -ENODEV;
		goto out;
	}
	stack = chimney_stack_find(dev);
	if (!stack) {
		stack = chimney_stack_create(dev);
		if (!stack) {
			err = -ENOMEM;
			goto out;
		}
	}

	spin_lock_bh(&stack->conns_lock);
	if (stack->nr_conns || stack->draining) {
		err = -EBUSY;
		goto unlock;
	}
	if (stack->depth >= CHIMNEY_MAX_DEPTH) {
		err = -ENOSPC;
		goto unlock;
	}
	list_for_each_entry(pos, &stack->layers, node) {
		if (role != CHIMNEY_LAYER_INTERMEDIATE && pos->role == role) {
			err = -EBUSY;
			goto unlock;
		}
	}
	layer->role = role;
	layer->stack = stack;
	layer->unregistering = false;
	layer->unbound = false;
	switch (role) {
	case CHIMNEY_LAYER_PROTOCOL:
		list_add(&layer->node, &stack->layers);
		break;
	case CHIMNEY_LAYER_TARGET:
		list_add_tail(&layer->node, &stack->layers);
		break;
	case CHIMNEY_LAYER_INTERMEDIATE:
		/* Newest intermediate binds right below the protocol. */
		pos = list_first_entry_or_null(&stack->layers,
					       struct chimney_layer, node);
		if (pos && pos->role == CHIMNEY_LAYER_PROTOCOL)
			list_add(&layer->node, &pos->node);
		else
			list_add(&layer->node, &stack->layers);
		break;
	}
	chimney_stack_renumber(stack);
unlock:
	spin_unlock_bh(&stack->conns_lock);
	if (list_empty(&stack->layers))
		chimney_stack_unlink(stack);
out:
	mutex_unlock(&chimney_stacks_lock);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_layer_register);

/**
 * chimney_layer_unregister() - unbind a layer from its device's stack
 * @layer: a registered layer
 *
 * Connections offloaded through the stack are uploaded first, through all
 * its layers (the protocol layer gets terminate_complete for each), and
 * new initiates are refused meanwhile; the call returns once the last one
 * is gone. Safe with connections live, e.g. from a module's exit.
 * Process context; not from inside a layer op.
 *
 * Return: 0, -EINVAL if @layer is not registered, -ENODEV if the device's
 * removal unbound it (its unbind op has returned).
 */
int chimney_layer_unregister(struct chimney_layer *layer)
{
	struct chimney_stack *stack;
	unsigned long seq;
	int err = 0;

	might_sleep();
	if (!layer)
		return -EINVAL;
	mutex_lock(&chimney_stacks_lock);
	while (!layer->stack && chimney_unbind_pending(layer)) {
		seq = chimney_unbind_seq;
		mutex_unlock(&chimney_stacks_lock);
		wait_event(chimney_unbind_wq, READ_ONCE(chimney_unbind_seq) != seq);
		mutex_lock(&chimney_stacks_lock);
	}
	stack = layer->stack;
	if (!stack) {
		err = layer->unbound ? -ENODEV : -EINVAL;
		mutex_unlock(&chimney_stacks_lock);
		return err;
	}
	layer->unregistering = true;
	chimney_stack_drain_begin(stack);
	mutex_unlock(&chimney_stacks_lock);

	chimney_stack_drain(stack);

	mutex_lock(&chimney_stacks_lock);
	/* The device's removal may have taken it off meanwhile: same result. */
	if (layer->stack == stack) {
		list_del(&layer->node);
		layer->stack = NULL;
		chimney_stack_renumber(stack);
		if (list_empty(&stack->layers))
			chimney_stack_unlink(stack);
	}
	layer->unregistering = false;
	chimney_stack_drain_end(stack);
	mutex_unlock(&chimney_stacks_lock);
	/* A status upcall that found the layer before it left has returned. */
	synchronize_srcu(&chimney_layer_srcu);
	chimney_stack_put(stack);
	return 0;
}
EXPORT_SYMBOL_GPL(chimney_layer_unregister);

/**
 * chimney_stack_remove() - the device is going away: unbind every layer
 * @dev: a device being unregistered or moved to another namespace
 *
 * Uploads every connection through its layers, takes every layer off the
 * stack, releases the device, then tells each layer through its unbind op
 * (NDIS: device removal always leads to termination). Process context.
 */
void chimney_stack_remove(struct net_device *dev)
{
	struct chimney_unbind_batch batch = {
		.layers = LIST_HEAD_INIT(batch.layers),
		.task = current,
	};
	struct chimney_layer *layer, *tmp;
	struct chimney_stack *stack;

	might_sleep();
	mutex_lock(&chimney_stacks_lock);
	stack = chimney_stack_find(dev);
	if (!stack) {
		mutex_unlock(&chimney_stacks_lock);
		return;
	}
	chimney_stack_drain_begin(stack);
	mutex_unlock(&chimney_stacks_lock);

	chimney_stack_drain(stack);

	mutex_lock(&chimney_stacks_lock);
	list_for_each_entry_safe(layer, tmp, &stack->layers, node) {
		list_del(&layer->node);
		layer->stack = NULL;
		/* Its own chimney_layer_unregister() is finishing the job. */
		if (layer->unregistering)
			continue;
		layer->unbound = true;
		list_add_tail(&layer->node, &batch.layers);
	}
	chimney_stack_renumber(stack);
	chimney_stack_unlink(stack);
	chimney_stack_drain_end(stack);
	list_add(&batch.node, &chimney_unbind_batches);
	mutex_unlock(&chimney_stacks_lock);
	synchronize_srcu(&chimney_layer_srcu);

	for (;;) {
		mutex_lock(&chimney_stacks_lock);
		layer = list_first_entry_or_null(&batch.layers,
						 struct chimney_layer, node);
		if (layer)
			list_del_init(&layer->node);
		batch.current_layer = layer;
		chimney_unbind_seq++;
		if (!layer)
			list_del(&batch.node);
		mutex_unlock(&chimney_stacks_lock);
		wake_up_all(&chimney_unbind_wq);
		if (!layer)
			break;
		netdev_info(dev, "chimney: layer %s unbound\n", layer->name);
		/* May free @layer: not touched after this. */
		if (layer->ops->unbind)
			layer->ops->unbind(layer);
	}
	chimney_stack_put(stack);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_stack_remove);

/**
 * chimney_indicate_status() - a device-wide status indication going up
 * @layer: the indicating layer (the target, or an intermediate forwarding)
 * @status: CHIMNEY_STATUS_UPLOAD_ALL, _OFFLOAD_PAUSE or _OFFLOAD_RESUME
 *
 * Delivered to the nearest layer above that has a status op, which stays
 * registered until its op returns. Process context, not holding anything
 * the receiving op may take.
 */
void chimney_indicate_status(struct chimney_layer *layer, u32 status)
{
	struct chimney_layer *above = NULL;
	struct chimney_stack *stack;
	unsigned int depth;
	int idx;

	might_sleep();
	if (!layer)
		return;
	/* Entered before the lookup: unregister waits for us from then on. */
	idx = srcu_read_lock(&chimney_layer_srcu);
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
	srcu_read_unlock(&chimney_layer_srcu, idx);
}
EXPORT_SYMBOL_GPL(chimney_indicate_status);

void chimney_stack_exit(void)
{
	/* Owners unregister their layers before the module can unload. */
	WARN_ON(!list_empty(&chimney_stacks));
}
