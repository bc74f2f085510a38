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
	case CHIMNEY_RULE_TOO_DEEP:
		return -ELOOP;
	default:
		return -EPROTO;
	}
}

static int chimney_reject(struct chimney_layer *layer, struct chimney_conn *conn,
			  enum chimney_rule rule, u32 type, u32 info)
{
	struct net_device *dev = conn ? conn->key.stack->dev : NULL;

	chimney_stats_rule(conn ? conn->key.stack->stats : NULL, rule);
	trace_chimney_violation(dev, layer ? layer->name : "?",
				conn ? conn->id : 0, type, info,
				chimney_rule_name(rule));
	pr_warn_ratelimited("%s: rejected %s event (type %u info %u) on connection %llu: %s\n",
			    layer ? layer->name : "?", chimney_event_name(type),
			    type, info, conn ? conn->id : 0,
			    chimney_rule_name(rule));
	return chimney_rule_errno(rule);
}

/*
 * The upcalls running on this CPU, innermost last. An intermediate
 * layer's forward happens inside its event op, on the CPU and with BH
 * disabled: the innermost frame is the upcall it is forwarding, so every
 * forward is checked against its own event, however many events of the
 * same connection are in flight on other CPUs (NDIS does not serialise
 * them). Hard interrupts and NMIs never indicate, so nothing else pushes
 * frames here while BH is off.
 */
struct chimney_upcall {
	void *forward;			/* the tag the forward's handle carries */
	u64 event;			/* type and info; 0 once forwarded */
	struct chimney_layer *layer;	/* the receiving layer */
};

struct chimney_upcalls {
	unsigned int depth;
	struct chimney_upcall frame[CHIMNEY_MAX_DEPTH];
};

static DEFINE_PER_CPU(struct chimney_upcalls, chimney_upcalls);

/* May the target raise @type on a connection whose word is @ev? */
static enum chimney_rule chimney_event_check(s64 ev, u32 type, u32 info)
{
	enum chimney_conn_state state = ev & CHIMNEY_EV_STATE;

	/* The usual case in one branch: offloaded, not aborted, not closed. */
	if ((ev & (CHIMNEY_EV_STATE | CHIMNEY_CONN_ABORTED |
		   CHIMNEY_CONN_RX_CLOSED)) == CHIMNEY_CONN_OFFLOADED)
		return CHIMNEY_RULE_NONE;
	if (state == CHIMNEY_CONN_OFFLOADING)
		return CHIMNEY_RULE_NOT_OFFLOADED;
	/*
	 * A terminate under way bars the target only once it has been asked
	 * to terminate: until then it cannot know, and what it raises is
	 * delivered before the terminate completes (rundown). A connection
	 * whose initiate failed above the target has nobody to deliver to.
	 * Both set CHIMNEY_EV_CLOSED.
	 */
	if (state != CHIMNEY_CONN_OFFLOADED &&
	    (state != CHIMNEY_CONN_TERMINATING || (ev & CHIMNEY_EV_CLOSED)))
		return CHIMNEY_RULE_TERMINATING;
	if (ev & CHIMNEY_CONN_ABORTED)
		return CHIMNEY_RULE_AFTER_ABORT;
	if (type == CHIMNEY_EVENT_DISCONNECT && (ev & CHIMNEY_CONN_RX_CLOSED))
		return CHIMNEY_RULE_DUPLICATE_DISCONNECT;
	/*
	 * The spec bars the target from starting the upload of a half-closed
	 * connection, yet documents FIN_WAIT_2 expiry as a retrieve: the safe
	 * reading bars the optional reasons only.
	 */
	if (type == CHIMNEY_EVENT_RETRIEVE &&
	    !chimney_upload_reason_mandatory(info) &&
	    (ev & CHIMNEY_CONN_RX_CLOSED))
		return CHIMNEY_RULE_HALF_CLOSED_RETRIEVE;
	return CHIMNEY_RULE_NONE;
}

/*
 * The tag of the handle a forward from the upcall to hop @index carries:
 * the hop above's. The top's (hop 0) is the tag of hop CHIMNEY_MAX_DEPTH
 * - 1 of the connection 16 bytes below, which no handle carries: a stack
 * of CHIMNEY_MAX_DEPTH layers has handles down to hop CHIMNEY_MAX_DEPTH - 2.
 * No branch: under TCG each one ends a translation block.
 */
static_assert(CHIMNEY_CONN_ALIGN == CHIMNEY_MAX_DEPTH);

static inline void *chimney_forward_tag(struct chimney_conn *conn,
					unsigned int index)
{
	return (void *)((unsigned long)conn + index - 1);
}

/* An upcall's event as its frame keeps it: never 0, as no type is. */
static inline u64 chimney_upcall_event(u32 type, u32 info)
{
	return (u64)type << 32 | info;
}

/* What accepting @type adds to the word: its flag, one upcall, one event. */
static s64 chimney_event_mark(u32 type)
{
	static const s64 flag[CHIMNEY_EVENT_MAX + 1] = {
		[CHIMNEY_EVENT_DISCONNECT] = CHIMNEY_CONN_RX_CLOSED,
		[CHIMNEY_EVENT_RETRIEVE] = CHIMNEY_CONN_UPLOAD_REQUESTED,
		[CHIMNEY_EVENT_ABORT] = CHIMNEY_CONN_ABORTED,
	};

	return flag[type] | CHIMNEY_EV_INFLIGHT | CHIMNEY_EV_EVENT;
}

/*
 * Run the event op of hop @index's layer inside a frame of this CPU's
 * @up. Inlined: under BH off every call and return on the event path
 * counts.
 */
static __always_inline void chimney_upcall(struct chimney_upcalls *up,
					   struct chimney_conn *conn,
					   unsigned int index,
					   struct chimney_offload_handle *upper,
					   u32 type, u32 info)
{
	struct chimney_layer *layer = chimney_conn_layer(conn, index);
	struct chimney_upcall *f = &up->frame[up->depth++];

	f->forward = chimney_forward_tag(conn, index);
	f->event = chimney_upcall_event(type, info);
	f->layer = layer;
	/* The key first: the arguments cost four loads when nobody traces. */
	if (trace_chimney_event_enabled())
		trace_chimney_event(conn->key.stack->dev, layer->name, conn->id,
				    type, info, "");
	layer->ops->event(layer, upper, type, info);
	up->depth--;
}

/*
 * An intermediate layer passes on, once, exactly the event it is handling,
 * from inside its event op. BH is disabled.
 */
static enum chimney_rule chimney_forward_check(struct chimney_upcalls *up,
					       struct chimney_conn *conn,
					       unsigned int index,
					       u32 type, u32 info)
{
	struct chimney_upcall *f;

	if (!up->depth)
		return CHIMNEY_RULE_FORWARD_MISMATCH;
	if (up->depth >= CHIMNEY_MAX_DEPTH)
		return CHIMNEY_RULE_TOO_DEEP;
	f = &up->frame[up->depth - 1];
	if (f->forward != chimney_hop_tag(conn, index) ||
	    f->event != chimney_upcall_event(type, info))
		return CHIMNEY_RULE_FORWARD_MISMATCH;
	f->event = 0;
	return CHIMNEY_RULE_NONE;
}

/*
 * The forward of an intermediate layer from inside its event op, where BH
 * is already off: the innermost upcall frame of this CPU is the event it
 * handles, and that upcall keeps the connection alive, so the handle is
 * only compared with the frame before anything behind it is read. A frame
 * on this CPU outside hard interrupt means BH is off: nothing can preempt
 * an upcall. The compares are or-ed into one branch. Return false for the
 * full path to check (and reject) whatever does not match.
 */
static __always_inline bool chimney_forward_fast(struct chimney_layer *layer,
						 struct chimney_offload_handle *upper,
						 u32 type, u32 info)
{
	struct chimney_upcalls *up = this_cpu_ptr(&chimney_upcalls);
	unsigned int depth = up->depth;
	struct chimney_upcall *f;
	void *tag;

	/* No upcall (depth 0 wraps) and a full stack of frames, in one test. */
	if (depth - 1 >= CHIMNEY_MAX_DEPTH - 1 || !upper)
		return false;
	f = &up->frame[depth - 1];
	/* Only followed if it is the frame's connection, published long ago. */
	tag = READ_ONCE(upper->chimney_reserved);
	if ((tag != f->forward) | (f->layer != layer) |
	    (f->event != chimney_upcall_event(type, info)))
		return false;
	f->event = 0;
	chimney_upcall(up, chimney_tag_conn(tag), chimney_tag_index(tag), upper,
		       type, info);
	return true;
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
 * Callable from process, softirq or BH-disabled context with interrupts
 * enabled, on any CPU, concurrently for the same connection; the handler
 * runs with BH disabled. The target may raise events between the end of
 * the initiate and the moment it is asked to terminate, as the spec's
 * legality table allows; an intermediate layer forwards, once and
 * unchanged, the event its event op is handling. Anything else is
 * rejected and counted.
 *
 * Return: 0 when delivered; -EINVAL for a bad type, reason or layer,
 * -ENOENT for a handle with no live connection, -EPROTO for an event the
 * connection's state does not allow or a forward that is not the event
 * being handled, -EPERM from hard interrupt or NMI context or with
 * interrupts disabled, -ELOOP for indications nested CHIMNEY_MAX_DEPTH
 * deep on one CPU (a target raising from inside the upcalls of its own
 * events).
 */
int chimney_indicate_event(struct chimney_layer *layer,
			   struct chimney_offload_handle *upper,
			   u32 type, u32 info)
{
	struct chimney_upcalls *up;
	enum chimney_rule rule;
	struct chimney_conn *conn;
	unsigned int index;
	bool bh;
	s64 ev;
	void *tag;
	int err;

	/* local_bh_enable() must not run with interrupts off. */
	if (in_hardirq() | in_nmi() | irqs_disabled())
		return chimney_reject(layer, NULL, CHIMNEY_RULE_HARDIRQ, type, info);
	/*
	 * The usual forward first: it only matches a frame whose event the
	 * target's indication checked; anything else takes the full path.
	 */
	if (chimney_forward_fast(layer, upper, type, info))
		return 0;
	if (!type || type > CHIMNEY_EVENT_MAX)
		return chimney_reject(layer, NULL, CHIMNEY_RULE_BAD_TYPE, type, info);
	if (type == CHIMNEY_EVENT_RETRIEVE && !chimney_upload_reason_valid(info))
		return chimney_reject(layer, NULL, CHIMNEY_RULE_BAD_REASON, type, info);
	if (!layer || !upper)
		return chimney_reject(layer, NULL, CHIMNEY_RULE_UNKNOWN_HANDLE,
				      type, info);

	/*
	 * BH off is the RCU read side that keeps a connection's memory; a
	 * target raising from softirq (the usual case, as from a NIC's
	 * NAPI poll) has it already.
	 */
	bh = !softirq_count();
	if (bh)
		local_bh_disable();
	up = this_cpu_ptr(&chimney_upcalls);
	/* Pairs with smp_store_release() in chimney_bind_handle(). */
	tag = smp_load_acquire(&upper->chimney_reserved);
	if (!tag) {
		if (bh)
			local_bh_enable();
		return chimney_reject(layer, NULL, CHIMNEY_RULE_UNKNOWN_HANDLE,
				      type, info);
	}
	conn = chimney_tag_conn(tag);
	index = chimney_tag_index(tag);
	if (index + 1 >= conn->nr_hops || chimney_conn_layer(conn, index + 1) != layer) {
		rule = CHIMNEY_RULE_WRONG_LAYER;
		goto reject;
	}

	if (layer->role != CHIMNEY_LAYER_TARGET) {
		/*
		 * A forward runs inside the upcall that carries it, which
		 * holds the connection's rundown: no state to check.
		 */
		rule = chimney_forward_check(up, conn, index, type, info);
		if (rule != CHIMNEY_RULE_NONE)
			goto reject;
		chimney_upcall(up, conn, index, upper, type, info);
		if (bh)
			local_bh_enable();
		return 0;
	}

	/*
	 * A target may raise from inside an upcall (a layer's event op that
	 * drives it): bounded, or the frames of this CPU would overflow.
	 */
	if (up->depth >= CHIMNEY_MAX_DEPTH) {
		rule = CHIMNEY_RULE_TOO_DEEP;
		goto reject;
	}

	/* Check, record and enter the upcall in one step. */
	ev = atomic64_read(&conn->ev);
	do {
		rule = chimney_event_check(ev, type, info);
		if (rule != CHIMNEY_RULE_NONE)
			goto reject;
	} while (!atomic64_try_cmpxchg(&conn->ev, &ev,
				       ev + chimney_event_mark(type)));
	if (type == CHIMNEY_EVENT_SEND_BACKLOG_CHANGE)
		WRITE_ONCE(conn->backlog, info);

	chimney_stats_event(conn->key.stack->stats, type, info);
	chimney_upcall(up, conn, index, upper, type, info);

	/* Fully ordered: pairs with the rundown's wait_var_event(). */
	ev = atomic64_sub_return(CHIMNEY_EV_INFLIGHT, &conn->ev);
	if (!(ev & CHIMNEY_EV_INFLIGHT_MASK) &&
	    (ev & CHIMNEY_EV_STATE) != CHIMNEY_CONN_OFFLOADED)
		wake_up_var(&conn->ev);
	if (bh)
		local_bh_enable();
	return 0;

reject:
	err = chimney_reject(layer, conn, rule, type, info);
	if (bh)
		local_bh_enable();
	return err;
}
EXPORT_SYMBOL_GPL(chimney_indicate_event);
