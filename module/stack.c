// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device stacks of layers: registration order and the rules that keep
 * a connection's view of its layers stable (NDIS rebinds only after
 * everything offloaded through a binding has been uploaded).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "compat.h"
#include "conn.h"
#include "stack.h"

DEFINE_MUTEX(chimney_stacks_lock);
LIST_HEAD(chimney_stacks);

struct chimney_stack *chimney_stack_find(const struct net_device *dev)
{
	struct chimney_stack *stack;

	lockdep_assert_held(&chimney_stacks_lock);
	list_for_each_entry(stack, &chimney_stacks, node)
		if (stack->dev == dev)
			return stack;
	return NULL;
}

struct chimney_layer *chimney_stack_layer(struct chimney_stack *stack,
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

static void chimney_stack_renumber(struct chimney_stack *stack)
{
	struct chimney_layer *layer;
	unsigned int depth = 0;

	list_for_each_entry(layer, &stack->layers, node)
		layer->depth = depth++;
	stack->depth = depth;
}

static struct chimney_stack *chimney_stack_create(struct net_device *dev)
{
	struct chimney_stack *stack;

	stack = kzalloc(sizeof(*stack), GFP_KERNEL);
	if (!stack)
		return NULL;
	stack->dev = dev;
	netdev_hold(dev, &stack->dev_tracker, GFP_KERNEL);
	INIT_LIST_HEAD(&stack->layers);
	INIT_LIST_HEAD(&stack->conns);
	spin_lock_init(&stack->conns_lock);
	list_add_tail(&stack->node, &chimney_stacks);
	return stack;
}

static void chimney_stack_destroy(struct chimney_stack *stack)
{
	list_del(&stack->node);
	netdev_put(stack->dev, &stack->dev_tracker);
	/* debugfs and trace readers walk stacks under RCU. */
	kfree_rcu(stack, rcu);
}

/**
 * chimney_layer_register() - bind a layer into a device's stack
 * @dev: the device
 * @layer: the layer, with @layer->name and @layer->ops set
 * @role: where it goes: top, bottom or in between
 *
 * The stack may not carry any offloaded connection while its layers change.
 * Process context.
 *
 * Return: 0, -EINVAL for a missing device, name or required op, -EBUSY if
 * the layer is already registered, the role is taken or connections are
 * offloaded on @dev, -ENOMEM.
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
	if (layer->stack)
		return -EBUSY;

	mutex_lock(&chimney_stacks_lock);
	stack = chimney_stack_find(dev);
	if (!stack) {
		stack = chimney_stack_create(dev);
		if (!stack) {
			err = -ENOMEM;
			goto out;
		}
	}

	spin_lock_bh(&stack->conns_lock);
	if (stack->nr_conns) {
		err = -EBUSY;
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
		chimney_stack_destroy(stack);
out:
	mutex_unlock(&chimney_stacks_lock);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_layer_register);

/**
 * chimney_layer_unregister() - unbind a layer from its device's stack
 * @layer: a registered layer
 *
 * Refused while any connection is offloaded through the stack: terminate
 * them first (or let the device's upload-all do it). Process context.
 *
 * Return: 0, -EINVAL if @layer is not registered, -EBUSY while
 * connections are offloaded.
 */
int chimney_layer_unregister(struct chimney_layer *layer)
{
	struct chimney_stack *stack;
	int err = 0;

	might_sleep();
	if (!layer)
		return -EINVAL;
	mutex_lock(&chimney_stacks_lock);
	stack = layer->stack;
	if (!stack) {
		err = -EINVAL;
		goto out;
	}
	spin_lock_bh(&stack->conns_lock);
	if (stack->nr_conns) {
		spin_unlock_bh(&stack->conns_lock);
		err = -EBUSY;
		goto out;
	}
	list_del(&layer->node);
	layer->stack = NULL;
	chimney_stack_renumber(stack);
	spin_unlock_bh(&stack->conns_lock);
	if (list_empty(&stack->layers))
		chimney_stack_destroy(stack);
out:
	mutex_unlock(&chimney_stacks_lock);
	return err;
}
EXPORT_SYMBOL_GPL(chimney_layer_unregister);

void chimney_stack_set_closing(struct chimney_stack *stack, bool closing)
{
	spin_lock_bh(&stack->conns_lock);
	stack->closing = closing;
	spin_unlock_bh(&stack->conns_lock);
}

void chimney_stack_exit(void)
{
	/* Owners unregister their layers before the module can unload. */
	WARN_ON(!list_empty(&chimney_stacks));
}
