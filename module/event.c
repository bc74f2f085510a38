// SPDX-License-Identifier: GPL-2.0
/*
 * Event indication (NdisTcpOffloadEventHandler): a lower layer raises one of
 * the four events on the handle of the layer right above it, and that
 * layer's event op runs with BH disabled, the emulation of DISPATCH_LEVEL.
 *
 * The legality table of the spec (section c) is enforced here, when the
 * target originates an event; the hops an intermediate layer forwards are
 * only checked to be the same event, from inside its own upcall. Every
 * rejection is counted per rule, traced and reported rate-limited, and
 * changes nothing.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/wait_bit.h>

#include "conn.h"
#include "stack.h"
#include "trace.h"

#define CHIMNEY_RULE_NONE __CHIMNEY_RULE_MAX

static int chimney_rule_errno(enum chimney_rule rule)
{
	switch (rule) {
	case CHIMNEY_RULE_BAD_TYPE:
	case CHIMNEY_RULE_BAD_REASON:
	case CHIMNEY_RULE_WRONG_LAYER:
		return -EINVAL;
	case CHIMNEY_RULE_UNKNOWN_HANDLE:
		return -ENOENT;
	case CHIMNEY_RULE_HARDIRQ:
		return -EPERM;
	default:
		return -EPROTO;
	}
}

static int chimney_reject(struct chimney_layer *layer, struct chimney_conn *conn,
			  enum chimney_rule rule, u32 type, u32 info)
{
	struct net_device *dev = conn ? conn->stack->dev : NULL;

	chimney_stats_rule(conn ? &conn->stack->stats : NULL, rule);
	trace_chimney_violation(dev, layer ? layer->name : "?",
				conn ? conn->id : 0, type, info,
				chimney_rule_name(rule));
	pr_warn_ratelimited("%s: rejected %s event (type %u info %u) on connection %llu: %s\n",
			    layer ? layer->name : "?", chimney_event_name(type),
			    type, info, conn ? conn->id : 0,
			    chimney_rule_name(rule));
	return chimney_rule_errno(rule);
}

/* Called with conn->lock held. @hop owns the handle the event is for. */
static enum chimney_rule chimney_event_check(struct chimney_conn *conn,
					     struct chimney_hop *hop,
					     struct chimney_layer *layer,
					     u32 type, u32 info)
{
	struct chimney_hop *from;

	/* State first: once terminated, the hop's layers may be gone. */
	if (conn->state == CHIMNEY_CONN_OFFLOADING)
		return CHIMNEY_RULE_NOT_OFFLOADED;
	if (conn->state != CHIMNEY_CONN_OFFLOADED)
		return CHIMNEY_RULE_TERMINATING;
	if (hop->index + 1 >= conn->nr_hops ||
	    conn->hops[hop->index + 1].layer != layer)
		return CHIMNEY_RULE_WRONG_LAYER;

	from = &conn->hops[hop->index + 1];
	if (layer->role != CHIMNEY_LAYER_TARGET) {
		/* An intermediate layer passes on what it is handling, as is. */
		if (!from->active ||
		    (from->active == 1 &&
		     (from->cur_type != type || from->cur_info != info)))
			return CHIMNEY_RULE_FORWARD_MISMATCH;
		return CHIMNEY_RULE_NONE;
	}

	if (conn->flags & CHIMNEY_CONN_ABORTED)
		return CHIMNEY_RULE_AFTER_ABORT;
	if (type == CHIMNEY_EVENT_DISCONNECT &&
	    (conn->flags & CHIMNEY_CONN_RX_CLOSED))
		return CHIMNEY_RULE_DUPLICATE_DISCONNECT;
	/*
	 * The spec bars the target from starting the upload of a half-closed
	 * connection, yet documents FIN_WAIT_2 expiry as a retrieve: the safe
	 * reading bars the optional reasons only.
	 */
	if (type == CHIMNEY_EVENT_RETRIEVE &&
	    !chimney_upload_reason_mandatory(info) &&
	    (conn->flags & CHIMNEY_CONN_RX_CLOSED))
		return CHIMNEY_RULE_HALF_CLOSED_RETRIEVE;
	return CHIMNEY_RULE_NONE;
}

/* The target's event is accepted: record what it implies. */
static void chimney_event_apply(struct chimney_conn *conn, u32 type, u32 info)
{
	conn->nr_events++;
	switch (type) {
	case CHIMNEY_EVENT_SEND_BACKLOG_CHANGE:
		conn->backlog = info;
		break;
	case CHIMNEY_EVENT_DISCONNECT:
		conn->flags |= CHIMNEY_CONN_RX_CLOSED;
		break;
	case CHIMNEY_EVENT_RETRIEVE:
		conn->flags |= CHIMNEY_CONN_UPLOAD_REQUESTED;
		break;
	case CHIMNEY_EVENT_ABORT:
		conn->flags |= CHIMNEY_CONN_ABORTED;
		break;
	}
}

/**
 * chimney_indicate_event() - raise an event on the layer above
 * @layer: the indicating layer: the target, or an intermediate layer
 *	forwarding from inside its event op
 * @upper: the handle of the layer above, as received at initiate
 * @type: an enum chimney_event_type
 * @info: event-specific information (the reason for a retrieve, the byte
 *	count for a backlog change, unused otherwise)
 *
 * Callable from process, softirq or BH-disabled context; the handler runs
 * with BH disabled. Events are legal only between the end of the
 * initiate and the start of the terminate, and only as the spec's
 * legality table allows; anything else is rejected and counted.
 *
 * Return: 0 when delivered; -EINVAL for a bad type, reason or layer,
 * -ENOENT for a handle with no live connection, -EPROTO for an event the
 * connection's state does not allow, -EPERM from hard interrupt context.
 */
int chimney_indicate_event(struct chimney_layer *layer,
			   struct chimney_offload_handle *upper,
			   u32 type, u32 info)
{
	enum chimney_rule rule = CHIMNEY_RULE_NONE;
	struct chimney_conn *conn = NULL;
	struct chimney_hop *hop;
	bool origin, wake;

	if (in_hardirq() || in_nmi())
		return chimney_reject(layer, NULL, CHIMNEY_RULE_HARDIRQ, type, info);
	if (!type || type > CHIMNEY_EVENT_MAX)
		return chimney_reject(layer, NULL, CHIMNEY_RULE_BAD_TYPE, type, info);
	if (type == CHIMNEY_EVENT_RETRIEVE && !chimney_upload_reason_valid(info))
		return chimney_reject(layer, NULL, CHIMNEY_RULE_BAD_REASON, type, info);
	if (!layer || !upper)
		return chimney_reject(layer, NULL, CHIMNEY_RULE_UNKNOWN_HANDLE,
				      type, info);

	/* BH off is the RCU read side that keeps a connection's memory. */
	local_bh_disable();
	/* Pairs with smp_store_release() in chimney_bind_handle(). */
	hop = smp_load_acquire(&upper->chimney_reserved);
	if (!hop) {
		local_bh_enable();
		return chimney_reject(layer, NULL, CHIMNEY_RULE_UNKNOWN_HANDLE,
				      type, info);
	}
	conn = hop->conn;
	origin = layer->role == CHIMNEY_LAYER_TARGET;

	spin_lock(&conn->lock);
	rule = chimney_event_check(conn, hop, layer, type, info);
	if (rule == CHIMNEY_RULE_NONE) {
		if (origin)
			chimney_event_apply(conn, type, info);
		conn->inflight++;
		hop->active++;
		hop->cur_type = type;
		hop->cur_info = info;
	}
	spin_unlock(&conn->lock);
	if (rule != CHIMNEY_RULE_NONE) {
		int err = chimney_reject(layer, conn, rule, type, info);

		local_bh_enable();
		return err;
	}

	if (origin)
		chimney_stats_event(&conn->stack->stats, type, info);
	trace_chimney_event(conn->stack->dev, hop->layer->name, conn->id,
			    type, info, "");
	hop->layer->ops->event(hop->layer, upper, type, info);

	spin_lock(&conn->lock);
	hop->active--;
	conn->inflight--;
	wake = !conn->inflight && conn->state != CHIMNEY_CONN_OFFLOADED;
	spin_unlock(&conn->lock);
	if (wake) {
		/* Pairs with the waiter's prepare_to_wait() in the rundown. */
		smp_mb();
		wake_up_var(&conn->inflight);
	}
	local_bh_enable();
	return 0;
}
EXPORT_SYMBOL_GPL(chimney_indicate_event);
