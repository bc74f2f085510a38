/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chimney: emulation of the Windows NDIS TCP chimney offload event path.
 *
 * A device carries a stack of layers: one protocol layer on top (the host
 * stack), any number of intermediate layers, and one offload target at the
 * bottom. Every layer owns one struct chimney_offload_handle per offloaded
 * connection, exactly as every NDIS driver owns an NDIS_OFFLOAD_HANDLE: the
 * layer below writes its own context into the handle's @lower_context, and
 * the framework keeps routing state in @chimney_reserved. Events travel up
 * the stack one hop at a time; each layer sees only its own handle.
 *
 * Contexts and concurrency, for any layer in any module:
 *  - Every call may come from any CPU at any time its kernel-doc allows;
 *    the framework serialises nothing per connection beyond what the NDIS
 *    contract orders (initiate completion before events, every upcall
 *    returned before terminate_complete, none after). Ops documented as
 *    process context are called with no framework lock held and may
 *    sleep; the event op runs with BH disabled and must not.
 *  - A handle's memory belongs to its layer and must stay valid until the
 *    framework forgets it: after a failed initiate_complete or after
 *    terminate_complete has returned. Calls the framework finds on a
 *    stale or foreign handle are rejected and counted, never followed.
 *  - Device removal (and a move to another namespace) always leads to
 *    termination: every connection of the device's stack is terminated
 *    through its layers (the protocol layer gets terminate_complete), then
 *    every layer is taken off the stack and told through its unbind op,
 *    whichever module registered it. chimney_layer_unregister() with
 *    connections live uploads them the same way and waits, so a module
 *    may leave from its exit function at any time.
 */
#ifndef _CHIMNEY_CHIMNEY_H
#define _CHIMNEY_CHIMNEY_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/types.h>

struct net_device;

/**
 * enum chimney_event_type - TCP_OFFLOAD_EVENT_TYPE, with the WDK values
 * @CHIMNEY_EVENT_SEND_BACKLOG_CHANGE: info is the optimum number of send
 *	bytes the host should keep outstanding at the target
 * @CHIMNEY_EVENT_DISCONNECT: graceful remote close (FIN); info is unused
 * @CHIMNEY_EVENT_RETRIEVE: upload request; info is an enum chimney_upload_reason
 * @CHIMNEY_EVENT_ABORT: acceptable RST received; info is unused
 *
 * There is no event 0: the documentation lists the events in a different
 * order than the header numbers them, and the header is what counts.
 */
enum chimney_event_type {
	CHIMNEY_EVENT_SEND_BACKLOG_CHANGE = 1,
	CHIMNEY_EVENT_DISCONNECT = 2,
	CHIMNEY_EVENT_RETRIEVE = 3,
	CHIMNEY_EVENT_ABORT = 4,
};

/* Highest valid enum chimney_event_type. */
#define CHIMNEY_EVENT_MAX	CHIMNEY_EVENT_ABORT

/**
 * enum chimney_upload_reason - TCP_UPLOAD_REASON, with the WDK values
 * @CHIMNEY_UPLOAD_LOW_ACTIVITY: too little traffic (optional)
 * @CHIMNEY_UPLOAD_HIGH_DROP_RATE: too many dropped segments (optional)
 * @CHIMNEY_UPLOAD_SMALL_IO: posted receive buffers too small (optional)
 * @CHIMNEY_UPLOAD_NO_BUFFER_PREPOSTING: no receive buffers (optional)
 * @CHIMNEY_UPLOAD_NO_BUFFER_PROPOSTING: the WDK 7600 spelling of the above
 * @CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA: URG segment arrived (mandatory)
 * @CHIMNEY_UPLOAD_HIGH_FRAGMENTATION: too many IP fragments (optional)
 * @CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS: too much reordering (optional)
 * @CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION: a TCP timer expired (mandatory)
 * @CHIMNEY_UPLOAD_INVALID_STATE: a dependent state object was invalidated
 *	(mandatory)
 * @CHIMNEY_UPLOAD_UPLOAD_REQUESTED: unspecified, or target short of
 *	resources (mandatory)
 * @CHIMNEY_UPLOAD_HARDWARE_FAILURE: hardware state corrupt (mandatory)
 * @CHIMNEY_UPLOAD_REASON_MAX: sentinel, not a valid reason
 */
enum chimney_upload_reason {
	CHIMNEY_UPLOAD_LOW_ACTIVITY = 1,
	CHIMNEY_UPLOAD_HIGH_DROP_RATE = 2,
	CHIMNEY_UPLOAD_SMALL_IO = 3,
	CHIMNEY_UPLOAD_NO_BUFFER_PREPOSTING = 4,
	CHIMNEY_UPLOAD_NO_BUFFER_PROPOSTING = CHIMNEY_UPLOAD_NO_BUFFER_PREPOSTING,
	CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA = 5,
	CHIMNEY_UPLOAD_HIGH_FRAGMENTATION = 6,
	CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS = 7,
	CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION = 8,
	CHIMNEY_UPLOAD_INVALID_STATE = 9,
	CHIMNEY_UPLOAD_UPLOAD_REQUESTED = 10,
	CHIMNEY_UPLOAD_HARDWARE_FAILURE = 11,
	CHIMNEY_UPLOAD_REASON_MAX = 12,
};

/**
 * chimney_upload_reason_valid() - is @reason a defined upload reason
 * @reason: value carried in the info of a retrieve event
 *
 * Return: true for 1..11.
 */
static inline bool chimney_upload_reason_valid(u32 reason)
{
	return reason >= CHIMNEY_UPLOAD_LOW_ACTIVITY &&
	       reason < CHIMNEY_UPLOAD_REASON_MAX;
}

/**
 * chimney_upload_reason_mandatory() - must the host upload for @reason
 * @reason: a valid upload reason
 *
 * Mandatory reasons (5, 8, 9, 10, 11) always lead to termination, and the
 * target stops processing the connection. For the optional ones the host may
 * decline and the target then keeps running the connection.
 *
 * Return: true if @reason is mandatory.
 */
static inline bool chimney_upload_reason_mandatory(u32 reason)
{
	switch (reason) {
	case CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA:
	case CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION:
	case CHIMNEY_UPLOAD_INVALID_STATE:
	case CHIMNEY_UPLOAD_UPLOAD_REQUESTED:
	case CHIMNEY_UPLOAD_HARDWARE_FAILURE:
		return true;
	default:
		return false;
	}
}

/*
 * Status indications a target raises for the whole device (NDIS_STATUS_*),
 * with chimney_indicate_status(), and what the protocol layer does on each
 * (spec section e):
 *  - OFFLOAD_PAUSE: offload nothing new until OFFLOAD_RESUME; what is in
 *    flight may still complete.
 *  - UPLOAD_ALL: terminate every offloaded connection, and each initiate
 *    still pending as soon as it completes; offload nothing new until
 *    OFFLOAD_RESUME.
 *  - OFFLOAD_RESUME: offload again, after re-reading the target's
 *    capabilities (its capacity may have changed: capabilities only change
 *    between a PAUSE and a RESUME).
 * Link down is the target's business, as on a NIC: a target is expected to
 * raise UPLOAD_ALL and refuse initiates (-ENETDOWN) while the link is down,
 * and OFFLOAD_RESUME when it comes back up. chimney's own target does.
 */
#define CHIMNEY_STATUS_OFFLOAD_PAUSE	0x40020001
#define CHIMNEY_STATUS_UPLOAD_ALL	0x40020002
#define CHIMNEY_STATUS_OFFLOAD_RESUME	0x40020003

/* Most layers one device's stack may hold (protocol + intermediates + target). */
#define CHIMNEY_MAX_DEPTH	16

/* SendBacklogSize value meaning "the target does not compute a backlog". */
#define CHIMNEY_BACKLOG_UNSUPPORTED	0xffffffffU

/**
 * struct chimney_offload_handle - one layer's handle for one connection
 * @chimney_reserved: owned by the framework (NdisReserved[0]): routes an
 *	indication on this handle to the layer that owns it. Never touch it.
 * @lower_context: owned by the layer below (MiniportOffloadContext): that
 *	layer writes its own per-connection context here before it completes
 *	the initiate, and clears nothing; the framework clears it when the
 *	terminate completes.
 *
 * A layer embeds this in its own per-connection state and finds that state
 * again with container_of() when an event arrives on it.
 */
struct chimney_offload_handle {
	void *chimney_reserved;
	void *lower_context;
};

/**
 * union chimney_addr - an IPv4 or IPv6 address in network byte order
 * @ip: IPv4 address
 * @in6: IPv6 address
 */
union chimney_addr {
	__be32 ip;
	struct in6_addr in6;
};

/**
 * struct chimney_tuple - the TCP 4-tuple of an offloaded connection
 * @family: AF_INET or AF_INET6
 * @saddr: local address
 * @daddr: remote address
 * @sport: local port, network byte order
 * @dport: remote port, network byte order
 *
 * Together with the device's network namespace and ifindex this is the key
 * of the connection table; two connections with the same key are refused.
 */
struct chimney_tuple {
	u16 family;
	union chimney_addr saddr;
	union chimney_addr daddr;
	__be16 sport;
	__be16 dport;
};

/**
 * struct chimney_conn_info - what a lower layer learns about a new offload
 * @id: stable 64-bit connection id (as shown in debugfs)
 * @dev: the device whose stack carries the connection
 * @tuple: the connection's 4-tuple
 */
struct chimney_conn_info {
	u64 id;
	struct net_device *dev;
	struct chimney_tuple tuple;
};

struct chimney_layer;

/**
 * struct chimney_layer_ops - what a layer implements
 * @event: ProtocolTcpOffloadEvent. Called with BH disabled (the emulation of
 *	DISPATCH_LEVEL), must not sleep. @own is this layer's own handle. An
 *	intermediate layer forwards the event unchanged, once, with
 *	chimney_indicate_event() on the upper handle it stored at initiate,
 *	from inside this op (that is how the framework tells a forward from a
 *	new event). NDIS does not serialise events per connection: this op may
 *	run on several CPUs at once for the same @own. Required for every
 *	layer above the target.
 * @status: optional; a device-wide status indication (CHIMNEY_STATUS_*)
 *	travelling up. Process context, no framework lock held; the layer is
 *	kept registered until it returns. An intermediate layer forwards it
 *	with chimney_indicate_status().
 * @initiate: MiniportInitiateOffload, required below the top. @upper is the
 *	handle of the layer above. An intermediate layer allocates its entry,
 *	remembers @upper and calls chimney_offload_forward_initiate() with the
 *	handle it owns; the target stores @upper and completes, now or later,
 *	with chimney_initiate_offload_complete(). Return 0 when the operation
 *	was taken (completed or pending) or a negative errno when it was
 *	refused outright, in which case nothing must be completed.
 *	Process context. A target must eventually complete every initiate it
 *	took: device removal and chimney_layer_unregister() wait for it.
 * @initiate_complete: the initiate of the connection on @own finished with
 *	@status (0 or negative errno). On success @own->lower_context holds the
 *	lower layer's context. An intermediate layer writes its entry into its
 *	upper handle's lower_context (on success) and completes upwards. If it
 *	fails upwards an initiate that succeeded below it (@status 0 here), it
 *	must keep @own: the framework then terminates the connection below it
 *	and @terminate_complete arrives on @own, for which the layer completes
 *	nothing upwards (its upper handle is gone). Any context except hard
 *	interrupt; must not sleep. Required for every layer above the target.
 * @terminate: MiniportTerminateOffload, required below the top. @context is
 *	what this layer wrote into the upper handle's lower_context. Complete
 *	it, now or later, with chimney_terminate_offload_complete(). Return 0
 *	when taken, or a negative errno to refuse (the connection then stays
 *	offloaded; a terminate the framework started itself, on device removal
 *	or unregister, is retried with a back-off and a warning). Process
 *	context, no framework lock held.
 * @terminate_complete: the terminate of the connection on @own finished;
 *	no upcall on any layer of it is in flight and none will start. @status
 *	is 0, or -EIO when the lower layer lost the delegated state. Process
 *	context, no framework lock held; it may run before the call that
 *	started the terminate returns, on the same thread. The protocol layer
 *	also gets it for terminates it did not ask for (device removal, a
 *	layer unregistering with connections live). After it returns the
 *	framework forgets @own.
 * @unbind: optional; the device is going away (NETDEV_UNREGISTER, including
 *	a move to another network namespace) and the framework has terminated
 *	every connection of the stack through its layers and removed @layer
 *	from it. Called once, process context, no framework lock held. From
 *	now on chimney_layer_unregister() on @layer returns -ENODEV (it waits
 *	for this op to return when called from another thread); the owner may
 *	free @layer in here or later, or register it on another device.
 */
struct chimney_layer_ops {
	void (*event)(struct chimney_layer *layer,
		      struct chimney_offload_handle *own, u32 type, u32 info);
	void (*status)(struct chimney_layer *layer, u32 status);
	int (*initiate)(struct chimney_layer *layer,
			struct chimney_offload_handle *upper,
			const struct chimney_conn_info *info);
	void (*initiate_complete)(struct chimney_layer *layer,
				  struct chimney_offload_handle *own,
				  int status);
	int (*terminate)(struct chimney_layer *layer, void *context);
	void (*terminate_complete)(struct chimney_layer *layer,
				   struct chimney_offload_handle *own,
				   int status);
	void (*unbind)(struct chimney_layer *layer);
};

/**
 * enum chimney_layer_role - where a layer sits in a device's stack
 * @CHIMNEY_LAYER_PROTOCOL: the top (host stack); at most one per device
 * @CHIMNEY_LAYER_INTERMEDIATE: between; a newly registered intermediate
 *	layer binds directly below the protocol layer, above earlier ones
 * @CHIMNEY_LAYER_TARGET: the bottom (offload target); at most one per device
 */
enum chimney_layer_role {
	CHIMNEY_LAYER_PROTOCOL,
	CHIMNEY_LAYER_INTERMEDIATE,
	CHIMNEY_LAYER_TARGET,
};

/**
 * struct chimney_layer - a registered layer; embed it in the layer's state
 * @name: shown in debugfs and tracepoints; must outlive the registration
 * @ops: the layer's operations
 * @priv: free for the layer's owner
 *
 * The members after @priv are private to the framework.
 */
struct chimney_layer {
	const char *name;
	const struct chimney_layer_ops *ops;
	void *priv;
	/* private: */
	struct chimney_stack *stack;
	struct list_head node;
	enum chimney_layer_role role;
	unsigned int depth;
	bool unregistering;
	bool unbound;
};

int chimney_layer_register(struct net_device *dev, struct chimney_layer *layer,
			   enum chimney_layer_role role);
int chimney_layer_unregister(struct chimney_layer *layer);

int chimney_offload_initiate(struct chimney_layer *top,
			     const struct chimney_tuple *tuple,
			     struct chimney_offload_handle *own);
int chimney_offload_forward_initiate(struct chimney_layer *layer,
				     struct chimney_offload_handle *upper,
				     struct chimney_offload_handle *own);
void chimney_initiate_offload_complete(struct chimney_layer *layer,
				       struct chimney_offload_handle *upper,
				       int status);
int chimney_offload_terminate(struct chimney_layer *top,
			      struct chimney_offload_handle *own);
int chimney_offload_forward_terminate(struct chimney_layer *layer,
				      struct chimney_offload_handle *own);
void chimney_terminate_offload_complete(struct chimney_layer *layer,
					struct chimney_offload_handle *upper,
					int status);

int chimney_indicate_event(struct chimney_layer *layer,
			   struct chimney_offload_handle *upper,
			   u32 type, u32 info);
void chimney_indicate_status(struct chimney_layer *layer, u32 status);

u64 chimney_handle_conn_id(const struct chimney_offload_handle *handle);
int chimney_handle_conn_info(const struct chimney_offload_handle *handle,
			     struct chimney_conn_info *info);

#endif /* _CHIMNEY_CHIMNEY_H */
