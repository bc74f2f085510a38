// SPDX-License-Identifier: GPL-2.0
/*
 * The socket target: a second offload target beside the fake one, whose
 * connections are live TCP sockets. A socket is offloaded through the
 * stack of the device its route leaves by (attached with target=sock): the
 * host layer initiates, and the target takes the socket the offload is
 * for, wraps its sk_state_change, sk_data_ready and sk_error_report and
 * raises the chimney events from what really happens on it:
 *
 *  - a FIN received when all data before it was read: Disconnect (if data
 *    was still unread, a work item polls until the application read it);
 *  - an acceptable RST (the socket closes with ECONNRESET or EPIPE): Abort;
 *  - a TCP timer gave up on the connection (retransmissions, zero-window
 *    probes or keepalives exhausted: tcp_write_err() closes the socket with
 *    ETIMEDOUT or the soft error seen meanwhile):
 *    Retrieve(TimeoutExpiration);
 *  - urgent data: Retrieve(ReceivedUrgentData);
 *  - the socket destroyed while offloaded: Retrieve(UploadRequested), so
 *    the host uploads what is left of it.
 *
 * The data path stays Linux TCP's: offload and upload only wrap and
 * restore the callbacks, so the connection keeps running and no byte is
 * lost, duplicated or reordered across any number of cycles.
 *
 * The device's own events (notify.c) reach it as they reach the fake
 * target, a NIC's: its link going down raises UPLOAD_ALL and refuses
 * initiates until it is up again (OFFLOAD_RESUME); an MTU or
 * hardware-address change, or a local address removed, raises
 * Retrieve(InvalidState) on the offloaded sockets it concerns.
 *
 * Events are recorded and raised inside the callbacks (softirq with the
 * socket spinlock held, or process context from release_sock()) under the
 * context's lock, which the terminate takes before it restores the
 * callbacks: nothing is raised once the target was asked to terminate.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/tcp.h>

#include "backlog.h"
#include "compat.h"
#include "conn.h"
#include "device.h"
#include "host.h"
#include "sock_target.h"

/* Which callbacks of the socket are ours (chimney_sock.wrapped). */
#define CHIMNEY_SOCK_CB_STATE	BIT(0)
#define CHIMNEY_SOCK_CB_DATA	BIT(1)
#define CHIMNEY_SOCK_CB_ERROR	BIT(2)

/*
 * Socket-backed connections by the slot of their id, for the listings (RCU
 * lookups): dense like the framework's index. An entry lives from the
 * initiate to the terminate op, inside its connection's hold of the slot.
 */
static DEFINE_XARRAY(chimney_sock_conns);

/* Runs fin_work and the samplers; destroyed (drained) at module exit. */
static struct workqueue_struct *chimney_sock_wq;

/* How often a FIN waiting for the application's reads is looked at. */
#define CHIMNEY_SOCK_FIN_POLL_MS	20

static struct chimney_sock_target *to_sock_target(struct chimney_layer *layer)
{
	return container_of(layer, struct chimney_sock_target, layer);
}

static struct chimney_sock *chimney_sock_of(const struct sock *sk)
{
	return (__force struct chimney_sock *)inet_csk(sk)->icsk_ulp_data;
}

static void chimney_sock_fin_work(struct work_struct *work);

struct chimney_sock *chimney_sock_alloc(struct sock *sk)
{
	struct chimney_sock *cs = kzalloc(sizeof(*cs), GFP_KERNEL);

	if (!cs)
		return NULL;
	spin_lock_init(&cs->lock);
	INIT_DELAYED_WORK(&cs->fin_work, chimney_sock_fin_work);
	INIT_LIST_HEAD(&cs->node);
	cs->sk = sk;
	refcount_set(&cs->ref, 1);
	return cs;
}

void chimney_sock_put(struct chimney_sock *cs)
{
	if (refcount_dec_and_test(&cs->ref))
		kfree_rcu(cs, rcu);
}

const char *chimney_sock_state_name(enum chimney_sock_state state)
{
	static const char * const names[] = {
		[CHIMNEY_SOCK_UPLOADED] = "uploaded",
		[CHIMNEY_SOCK_OFFLOADED] = "offloaded",
		[CHIMNEY_SOCK_TERMINATING] = "terminating",
	};

	return (unsigned int)state < ARRAY_SIZE(names) ? names[state] : "?";
}

/* All data before the FIN was read: only the FIN's sequence number is left. */
static bool chimney_sock_rx_consumed(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq) <= 1;
}

static void chimney_sock_count(struct chimney_sock_target *st, u64 *counter)
{
	spin_lock_bh(&st->lock);
	(*counter)++;
	spin_unlock_bh(&st->lock);
}

/* Raise @type on @cs; cs->lock held, cs offloaded. */
static int chimney_sock_raise(struct chimney_sock *cs, u32 type, u32 info,
			      u64 *counter)
{
	int err;

	err = chimney_indicate_event(&cs->st->layer, cs->upper, type, info);
	if (err)
		pr_warn_ratelimited("socket connection %llu: event %u (%u) refused: %d\n",
				    cs->id, type, info, err);
	else
		chimney_sock_count(cs->st, counter);
	return err;
}

/*
 * The peer's FIN arrived: Disconnect if the application has read all that
 * came before it, else poll until it has. cs->lock held, cs offloaded.
 */
static void chimney_sock_fin(struct chimney_sock *cs, struct sock *sk)
{
	if (chimney_sock_rx_consumed(sk)) {
		cs->rx_closed = true;
		chimney_sock_raise(cs, CHIMNEY_EVENT_DISCONNECT, 0,
				   &cs->st->disconnects);
	} else if (!cs->fin_polling) {
		cs->fin_polling = true;
		refcount_inc(&cs->ref);		/* fin_work's */
		queue_delayed_work(chimney_sock_wq, &cs->fin_work,
				   msecs_to_jiffies(CHIMNEY_SOCK_FIN_POLL_MS));
	}
}

static void chimney_sock_fin_work(struct work_struct *work)
{
	struct chimney_sock *cs = container_of(to_delayed_work(work),
					       struct chimney_sock, fin_work);
	bool again = false;

	spin_lock_bh(&cs->lock);
	cs->fin_polling = false;
	if (cs->sk && cs->state == CHIMNEY_SOCK_OFFLOADED && !cs->aborted &&
	    !cs->rx_closed) {
		if (chimney_sock_rx_consumed(cs->sk)) {
			cs->rx_closed = true;
			chimney_sock_raise(cs, CHIMNEY_EVENT_DISCONNECT, 0,
					   &cs->st->disconnects);
		} else {
			/* Still unread: again later, with this reference. */
			cs->fin_polling = true;
			again = true;
			queue_delayed_work(chimney_sock_wq, &cs->fin_work,
					   msecs_to_jiffies(CHIMNEY_SOCK_FIN_POLL_MS));
		}
	}
	spin_unlock_bh(&cs->lock);
	if (!again)
		chimney_sock_put(cs);
}

/**
 * chimney_sock_loss() - @sk entered TCP_CA_Loss
 * @cs: its ULP context
 * @sk: the socket, locked (spinlock or owner)
 *
 * A retransmission timeout, or the retransmit after a path MTU drop:
 * Retrieve(TimeoutExpiration), mandatory, once per offload (a timer
 * giving up later raises nothing more).
 */
void chimney_sock_loss(struct chimney_sock *cs, struct sock *sk)
{
	spin_lock_bh(&cs->lock);
	if (cs->sk == sk && cs->state == CHIMNEY_SOCK_OFFLOADED &&
	    !cs->aborted && !cs->timed_out) {
		cs->timed_out = true;
		chimney_sock_raise(cs, CHIMNEY_EVENT_RETRIEVE,
				   CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION,
				   &cs->st->rtos);
	}
	spin_unlock_bh(&cs->lock);
}

/*
 * What happened on @sk since the last look, raised: called from each
 * wrapped callback, with the socket locked (spinlock or owner).
 */
static void chimney_sock_check(struct chimney_sock *cs, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int err;

	spin_lock_bh(&cs->lock);
	if (cs->state != CHIMNEY_SOCK_OFFLOADED || cs->aborted)
		goto unlock;
	err = READ_ONCE(sk->sk_err);
	if (READ_ONCE(sk->sk_state) == TCP_CLOSE &&
	    (err == ECONNRESET || err == EPIPE)) {
		/* tcp_reset(): an acceptable RST arrived. */
		cs->aborted = true;
		chimney_sock_raise(cs, CHIMNEY_EVENT_ABORT, 0,
				   &cs->st->aborts);
		goto unlock;
	}
	if (READ_ONCE(sk->sk_state) == TCP_CLOSE && err && !cs->timed_out) {
		/* tcp_write_err(): a timer gave up. Mandatory. */
		cs->timed_out = true;
		chimney_sock_raise(cs, CHIMNEY_EVENT_RETRIEVE,
				   CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION,
				   &cs->st->timeouts);
		goto unlock;
	}
	if (!cs->urgent && (READ_ONCE(tp->urg_data) & TCP_URG_VALID)) {
		/* Mandatory: the host uploads, and TCP delivers the byte. */
		cs->urgent = true;
		chimney_sock_raise(cs, CHIMNEY_EVENT_RETRIEVE,
				   CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA,
				   &cs->st->urgents);
	}
	/* tcp_fin() sets SOCK_DONE; a local shutdown(SHUT_RD) does not. */
	if (!cs->rx_closed && sock_flag(sk, SOCK_DONE) &&
	    (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
		chimney_sock_fin(cs, sk);
unlock:
	spin_unlock_bh(&cs->lock);
}

static void chimney_sock_state_change(struct sock *sk)
{
	struct chimney_sock *cs = chimney_sock_of(sk);

	chimney_sock_check(cs, sk);
	cs->state_change(sk);
}

static void chimney_sock_data_ready(struct sock *sk)
{
	struct chimney_sock *cs = chimney_sock_of(sk);

	chimney_sock_check(cs, sk);
	cs->data_ready(sk);
}

static void chimney_sock_error_report(struct sock *sk)
{
	struct chimney_sock *cs = chimney_sock_of(sk);

	chimney_sock_check(cs, sk);
	cs->error_report(sk);
}

/* Put our callbacks in; the socket is locked by the caller. */
static void chimney_sock_wrap(struct chimney_sock *cs, struct sock *sk)
{
	write_lock_bh(&sk->sk_callback_lock);
	/* One still ours from the last offload (not restorable) stays. */
	if (!(cs->wrapped & CHIMNEY_SOCK_CB_STATE)) {
		cs->state_change = sk->sk_state_change;
		WRITE_ONCE(sk->sk_state_change, chimney_sock_state_change);
	}
	if (!(cs->wrapped & CHIMNEY_SOCK_CB_DATA)) {
		cs->data_ready = sk->sk_data_ready;
		WRITE_ONCE(sk->sk_data_ready, chimney_sock_data_ready);
	}
	if (!(cs->wrapped & CHIMNEY_SOCK_CB_ERROR)) {
		cs->error_report = sk->sk_error_report;
		WRITE_ONCE(sk->sk_error_report, chimney_sock_error_report);
	}
	cs->wrapped = CHIMNEY_SOCK_CB_STATE | CHIMNEY_SOCK_CB_DATA |
		      CHIMNEY_SOCK_CB_ERROR;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Give the socket its callbacks back, each only where it is still ours:
 * someone who wrapped ours in turn keeps calling it, and it keeps calling
 * what it wrapped (it raises nothing once uploaded).
 */
static void chimney_sock_unwrap(struct chimney_sock *cs, struct sock *sk)
{
	write_lock_bh(&sk->sk_callback_lock);
	if ((cs->wrapped & CHIMNEY_SOCK_CB_STATE) &&
	    sk->sk_state_change == chimney_sock_state_change) {
		WRITE_ONCE(sk->sk_state_change, cs->state_change);
		cs->wrapped &= ~CHIMNEY_SOCK_CB_STATE;
	}
	if ((cs->wrapped & CHIMNEY_SOCK_CB_DATA) &&
	    sk->sk_data_ready == chimney_sock_data_ready) {
		WRITE_ONCE(sk->sk_data_ready, cs->data_ready);
		cs->wrapped &= ~CHIMNEY_SOCK_CB_DATA;
	}
	if ((cs->wrapped & CHIMNEY_SOCK_CB_ERROR) &&
	    sk->sk_error_report == chimney_sock_error_report) {
		WRITE_ONCE(sk->sk_error_report, cs->error_report);
		cs->wrapped &= ~CHIMNEY_SOCK_CB_ERROR;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * The initiate of the socket chimney_sock_offload() is offloading, on
 * this thread with the socket locked: anything else (an "offload dev="
 * command has no socket behind it) is refused.
 */
static int chimney_sock_target_initiate(struct chimney_layer *layer,
					struct chimney_offload_handle *upper,
					const struct chimney_conn_info *info)
{
	struct chimney_sock_target *st = to_sock_target(layer);
	struct chimney_sock *cs = st->pending;
	int err;

	if (!cs || st->pending_task != current) {
		chimney_sock_count(st, &st->refused);
		return -EOPNOTSUPP;
	}
	/* A NIC without link (set under chimney_devices_lock, held here). */
	if (!st->link_up)
		return -ENETDOWN;
	err = xa_insert(&chimney_sock_conns, chimney_id_slot(info->id), cs,
			GFP_KERNEL);
	if (err)
		return err;

	spin_lock_bh(&cs->lock);
	cs->st = st;
	cs->upper = upper;
	cs->id = info->id;
	cs->tuple = info->tuple;
	cs->state = CHIMNEY_SOCK_OFFLOADED;
	cs->rx_closed = false;
	cs->aborted = false;
	cs->timed_out = false;
	cs->invalidated = false;
	/* Urgent data of an earlier offload is not news. */
	cs->urgent = READ_ONCE(tcp_sk(cs->sk)->urg_data) & TCP_URG_VALID;
	/* The rates' windows start at the offload, with nothing lost before. */
	chimney_sock_sample_base(cs->sk, &cs->last);
	cs->wanted = 0;
	cs->backlog = 0;
	cs->offloads++;
	refcount_inc(&cs->ref);		/* the offload's */
	spin_unlock_bh(&cs->lock);

	spin_lock_bh(&st->lock);
	st->nr_conns++;
	/*
	 * Listed before the completion, so a terminate right after it finds
	 * the entry to take off; the sampler raises nothing before the
	 * completion, as tcp_get_info() waits for the socket's owner (us).
	 */
	list_add_tail(&cs->node, &st->conns);
	/* A no-op while the sampler is queued; it re-arms itself. */
	if (st->knobs.sample_ms)
		queue_delayed_work(chimney_sock_wq, &st->sample_work,
				   msecs_to_jiffies(st->knobs.sample_ms));
	spin_unlock_bh(&st->lock);

	/* The socket is locked: no callback runs before the completion. */
	chimney_sock_wrap(cs, cs->sk);
	upper->lower_context = cs;
	chimney_initiate_offload_complete(layer, upper, 0);
	return 0;
}

/*
 * Upload: the callbacks go back and the socket is plain Linux TCP again;
 * it never stopped running, so there is no state to hand back. A socket
 * already destroyed has nothing left to restore.
 */
static int chimney_sock_target_terminate(struct chimney_layer *layer,
					 void *context)
{
	struct chimney_sock_target *st = to_sock_target(layer);
	struct chimney_offload_handle *upper;
	struct chimney_sock *cs = context;
	struct sock *sk;

	if (!cs)
		return -EINVAL;
	spin_lock_bh(&cs->lock);
	if (cs->state != CHIMNEY_SOCK_OFFLOADED) {
		spin_unlock_bh(&cs->lock);
		return -EALREADY;
	}
	cs->state = CHIMNEY_SOCK_TERMINATING;
	sk = cs->sk;
	if (sk)
		sock_hold(sk);
	spin_unlock_bh(&cs->lock);

	if (sk) {
		chimney_sock_unwrap(cs, sk);
		sock_put(sk);
	}
	xa_erase(&chimney_sock_conns, chimney_id_slot(cs->id));

	spin_lock_bh(&cs->lock);
	upper = cs->upper;
	cs->upper = NULL;
	cs->st = NULL;
	cs->state = CHIMNEY_SOCK_UPLOADED;
	cs->uploads++;
	spin_unlock_bh(&cs->lock);

	spin_lock_bh(&st->lock);
	st->nr_conns--;
	list_del_init(&cs->node);
	spin_unlock_bh(&st->lock);

	chimney_terminate_offload_complete(layer, upper, 0);
	chimney_sock_put(cs);		/* the offload's */
	return 0;
}

/*
 * One look at @cs (sock_sample.c says what is judged): the socket is
 * sampled unlocked, tcp_get_info() locking it, and the outcome raised under
 * cs->lock only if the same offload is still on.
 */
static void chimney_sock_sample_one(struct chimney_sock_target *st,
				    struct chimney_sock *cs,
				    const struct chimney_sock_knobs *k)
{
	struct chimney_sock_sample now;
	unsigned long due;
	struct sock *sk;
	u32 offloads, wants;
	unsigned int reason;

	spin_lock_bh(&cs->lock);
	sk = cs->st == st && cs->state == CHIMNEY_SOCK_OFFLOADED ? cs->sk : NULL;
	if (sk)
		sock_hold(sk);
	offloads = cs->offloads;
	spin_unlock_bh(&cs->lock);
	if (!sk)
		return;

	chimney_sock_sample_take(sk, &now);

	spin_lock_bh(&cs->lock);
	/* Uploaded meanwhile, or events that end it raised: nothing to add. */
	if (cs->sk != sk || cs->offloads != offloads ||
	    cs->state != CHIMNEY_SOCK_OFFLOADED || cs->aborted ||
	    cs->timed_out || cs->rx_closed ||
	    READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		goto unlock;
	wants = chimney_sock_sample_judge(k, &cs->last, &now) & ~cs->wanted;
	if (wants) {
		/* One reason per look, each once per offload (declined ones too). */
		reason = __ffs(wants);
		cs->wanted |= CHIMNEY_SOCK_WANTS(reason);
		chimney_sock_raise(cs, CHIMNEY_EVENT_RETRIEVE, reason,
				   &st->retrieves[reason]);
		goto unlock;
	}
	due = cs->backlog_at + msecs_to_jiffies(k->backlog_interval_ms);
	if (chimney_backlog_moved(cs->backlog, now.pipe) &&
	    (!cs->backlog || !time_before(jiffies, due)) &&
	    !chimney_sock_raise(cs, CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, now.pipe,
				&st->backlogs)) {
		cs->backlog = now.pipe;
		cs->backlog_at = jiffies;
	}
unlock:
	spin_unlock_bh(&cs->lock);
	/* Not under cs->lock: the last reference releases the ULP. */
	sock_put(sk);
}

/*
 * Every knobs.sample_ms while connections are offloaded: one look at each.
 * The list is taken aside and walked one entry per hold of st->lock; a
 * terminate meanwhile takes its entry off whichever list it is on, and the
 * offload's reference keeps a listed entry alive until we hold our own.
 */
static void chimney_sock_sample_work(struct work_struct *work)
{
	struct chimney_sock_target *st = container_of(to_delayed_work(work),
						      struct chimney_sock_target,
						      sample_work);
	struct chimney_sock_knobs k;
	struct chimney_sock *cs;
	LIST_HEAD(scan);

	spin_lock_bh(&st->lock);
	k = st->knobs;
	list_splice_init(&st->conns, &scan);
	while ((cs = list_first_entry_or_null(&scan, struct chimney_sock,
					      node))) {
		list_move_tail(&cs->node, &st->conns);
		refcount_inc(&cs->ref);
		st->samples++;
		spin_unlock_bh(&st->lock);
		chimney_sock_sample_one(st, cs, &k);
		chimney_sock_put(cs);
		cond_resched();
		spin_lock_bh(&st->lock);
	}
	if (st->nr_conns && st->knobs.sample_ms)
		queue_delayed_work(chimney_sock_wq, &st->sample_work,
				   msecs_to_jiffies(st->knobs.sample_ms));
	spin_unlock_bh(&st->lock);
}

/**
 * chimney_sock_target_set_knob() - set one sampler knob
 * @st: the socket target
 * @knob: which
 * @value: in chimney_sock_knob_check()'s range
 *
 * A new sampling period takes effect at once.
 *
 * Return: 0, or -EINVAL for a value out of range.
 */
int chimney_sock_target_set_knob(struct chimney_sock_target *st,
				 enum chimney_sock_knob knob, s64 value)
{
	struct chimney_sock_knobs *k = &st->knobs;
	int err;

	err = chimney_sock_knob_check(knob, value);
	if (err)
		return err;
	spin_lock_bh(&st->lock);
	switch (knob) {
	case CHIMNEY_SOCK_KNOB_SAMPLE:
		k->sample_ms = value;
		if (value && st->nr_conns)
			mod_delayed_work(chimney_sock_wq, &st->sample_work,
					 msecs_to_jiffies(value));
		break;
	case CHIMNEY_SOCK_KNOB_MIN_SEGS:
		k->min_segs = value;
		break;
	case CHIMNEY_SOCK_KNOB_OOO:
		k->ooo_permille = value;
		break;
	case CHIMNEY_SOCK_KNOB_DROP:
		k->drop_permille = value;
		break;
	case CHIMNEY_SOCK_KNOB_IDLE:
		k->idle_ms = value;
		break;
	case CHIMNEY_SOCK_KNOB_BACKLOG_INTERVAL:
		k->backlog_interval_ms = value;
		break;
	default:
		err = -EINVAL;
	}
	spin_unlock_bh(&st->lock);
	return err;
}

s64 chimney_sock_target_get_knob(struct chimney_sock_target *st,
				 enum chimney_sock_knob knob)
{
	const struct chimney_sock_knobs *k = &st->knobs;
	s64 value;

	spin_lock_bh(&st->lock);
	switch (knob) {
	case CHIMNEY_SOCK_KNOB_SAMPLE:
		value = k->sample_ms;
		break;
	case CHIMNEY_SOCK_KNOB_MIN_SEGS:
		value = k->min_segs;
		break;
	case CHIMNEY_SOCK_KNOB_OOO:
		value = k->ooo_permille;
		break;
	case CHIMNEY_SOCK_KNOB_DROP:
		value = k->drop_permille;
		break;
	case CHIMNEY_SOCK_KNOB_IDLE:
		value = k->idle_ms;
		break;
	case CHIMNEY_SOCK_KNOB_BACKLOG_INTERVAL:
		value = k->backlog_interval_ms;
		break;
	default:
		value = -EINVAL;
	}
	spin_unlock_bh(&st->lock);
	return value;
}

/**
 * chimney_sock_uses_addr() - does a connection use a local address
 * @t: the connection's 4-tuple (a v4-mapped IPv6 socket's is IPv4)
 * @family: AF_INET or AF_INET6, the family of @addr
 * @addr: the local address; NULL matches every connection
 *
 * Return: true if @addr is @t's local address.
 */
bool chimney_sock_uses_addr(const struct chimney_tuple *t, u16 family,
			    const union chimney_addr *addr)
{
	if (!addr)
		return true;
	if (t->family != family)
		return false;
	if (family == AF_INET)
		return t->saddr.ip == addr->ip;
	return ipv6_addr_equal(&t->saddr.in6, &addr->in6);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_sock_uses_addr);

/**
 * chimney_sock_target_invalidate() - a state the sockets depend on changed
 * @st: the socket target
 * @family: the family of @addr
 * @addr: a local address removed from the device; NULL for a change of
 *	the device itself (MTU, hardware address)
 *
 * Retrieve(InvalidState), mandatory, on each socket offloaded on @st that
 * uses @addr (every one if NULL): once per offload, and none once an
 * Abort or a timeout was raised or the socket was destroyed (the host is
 * uploading it already). The host uploads them; each goes on as plain
 * Linux TCP. Process context, under chimney_devices_lock, which every
 * socket offload holds: no initiate is halfway, so an offloaded socket
 * seen here may be raised on.
 *
 * The walk is by id through the listing's xarray, not st->conns, which the
 * sampler takes aside while it looks: a reference on each entry taken
 * under RCU (the offload's keeps it until its id is erased), one socket
 * per BH-disabled section, and whether it is still offloaded on @st is
 * read under its lock.
 *
 * Return: the number of sockets the Retrieve was raised on.
 */
unsigned int chimney_sock_target_invalidate(struct chimney_sock_target *st,
					    u16 family,
					    const union chimney_addr *addr)
{
	struct chimney_sock *cs;
	unsigned long id;
	unsigned int n = 0;

	lockdep_assert_held(&chimney_devices_lock);
	rcu_read_lock();
	xa_for_each(&chimney_sock_conns, id, cs) {
		if (!refcount_inc_not_zero(&cs->ref))
			continue;
		rcu_read_unlock();

		spin_lock_bh(&cs->lock);
		if (cs->st == st && cs->state == CHIMNEY_SOCK_OFFLOADED &&
		    cs->sk && !cs->aborted && !cs->timed_out &&
		    !cs->invalidated &&
		    chimney_sock_uses_addr(&cs->tuple, family, addr)) {
			cs->invalidated = true;
			if (!chimney_sock_raise(cs, CHIMNEY_EVENT_RETRIEVE,
						CHIMNEY_UPLOAD_INVALID_STATE,
						&st->invalidations))
				n++;
		}
		spin_unlock_bh(&cs->lock);
		chimney_sock_put(cs);
		cond_resched();
		rcu_read_lock();
	}
	rcu_read_unlock();
	return n;
}

/**
 * chimney_sock_target_set_link() - the device's link went up or down
 * @st: the socket target
 * @up: the new link state (administrative: a carrier loss is the path's,
 *	and TCP's retransmission timeout reports it)
 *
 * As a NIC: down raises UPLOAD_ALL (the host uploads every offloaded
 * socket, each going on as plain Linux TCP) and initiates are refused with
 * -ENETDOWN until up raises OFFLOAD_RESUME. The state it already has
 * raises nothing. Process context, under chimney_devices_lock, which
 * orders the indications.
 */
void chimney_sock_target_set_link(struct chimney_sock_target *st, bool up)
{
	lockdep_assert_held(&chimney_devices_lock);
	if (st->link_up == up)
		return;
	st->link_up = up;
	chimney_indicate_status(&st->layer, up ? CHIMNEY_STATUS_OFFLOAD_RESUME :
					     CHIMNEY_STATUS_UPLOAD_ALL);
}

static const struct chimney_layer_ops chimney_sock_target_ops = {
	.initiate = chimney_sock_target_initiate,
	.terminate = chimney_sock_target_terminate,
};

/* The device @sk's route leaves by, referenced; the socket is locked. */
static struct net_device *chimney_sock_route_dev(struct sock *sk)
{
	struct net_device *dev = NULL;
	struct dst_entry *dst;

	/* Checks the cached route, routes again if it is gone or stale. */
	if (inet_csk(sk)->icsk_af_ops->rebuild_header(sk))
		return NULL;
	rcu_read_lock();
	dst = __sk_dst_get(sk);
	if (dst && dst->dev) {
		dev = dst->dev;
		dev_hold(dev);
	}
	rcu_read_unlock();
	return dev;
}

static void chimney_sock_tuple(const struct sock *sk, struct chimney_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->sport = inet_sk(sk)->inet_sport;
	t->dport = inet_sk(sk)->inet_dport;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		t->family = AF_INET6;
		t->saddr.in6 = sk->sk_v6_rcv_saddr;
		t->daddr.in6 = sk->sk_v6_daddr;
		return;
	}
#endif
	t->family = AF_INET;
	t->saddr.ip = sk->sk_rcv_saddr;
	t->daddr.ip = sk->sk_daddr;
}

/**
 * chimney_sock_offload() - offload a live TCP connection
 * @cs: the socket's ULP context, uploaded
 * @sk: the socket, locked by the caller (process context)
 * @id: set to the connection's id on success
 *
 * The host layer of the device @sk's route leaves by initiates the
 * offload; that device must be attached with target=sock.
 *
 * Return: 0, -ENOTCONN unless ESTABLISHED, -EALREADY if offloaded,
 * -EHOSTUNREACH without a route, -ENODEV if the route's device is not
 * attached, -EOPNOTSUPP if it is attached with the fake target, or the
 * error the host or the stack refused the offload with (-EEXIST, -EAGAIN,
 * -ENETDOWN, -ENOSPC, ...).
 */
int chimney_sock_offload(struct chimney_sock *cs, struct sock *sk, u64 *id)
{
	struct chimney_sock_target *st;
	struct chimney_device *cdev;
	struct chimney_tuple tuple;
	struct net_device *dev;
	int err;

	might_sleep();
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	if (READ_ONCE(cs->state) != CHIMNEY_SOCK_UPLOADED)
		return -EALREADY;
	dev = chimney_sock_route_dev(sk);
	if (!dev)
		return -EHOSTUNREACH;
	chimney_sock_tuple(sk, &tuple);

	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	if (!cdev) {
		err = -ENODEV;
		goto unlock;
	}
	st = cdev->sock;
	if (!st) {
		err = -EOPNOTSUPP;
		goto unlock;
	}
	mutex_lock(&st->offload_lock);
	st->pending = cs;
	st->pending_task = current;
	err = chimney_host_offload(cdev->host, &tuple, id);
	st->pending = NULL;
	st->pending_task = NULL;
	mutex_unlock(&st->offload_lock);
unlock:
	mutex_unlock(&chimney_devices_lock);
	dev_put(dev);
	return err;
}

/**
 * chimney_sock_release() - the socket is being destroyed
 * @cs: its ULP context
 * @sk: the socket (locked, possibly in softirq: must not sleep)
 * @raise: false when the ULP's init failed (nothing was offloaded)
 *
 * Offloaded, the target asks the host to upload what is left of the
 * connection (a mandatory Retrieve(UploadRequested)) and the terminate
 * completes without the socket. The socket's reference goes.
 */
void chimney_sock_release(struct chimney_sock *cs, struct sock *sk,
			  bool raise)
{
	bool cancelled;

	spin_lock_bh(&cs->lock);
	if (raise && cs->state == CHIMNEY_SOCK_OFFLOADED && !cs->aborted &&
	    !cs->timed_out)
		chimney_sock_raise(cs, CHIMNEY_EVENT_RETRIEVE,
				   CHIMNEY_UPLOAD_UPLOAD_REQUESTED,
				   &cs->st->closed);
	cs->sk = NULL;
	/* A FIN poll pending goes (one running sees no socket and ends). */
	cancelled = cs->fin_polling && cancel_delayed_work(&cs->fin_work);
	if (cancelled)
		cs->fin_polling = false;
	spin_unlock_bh(&cs->lock);
	chimney_sock_unwrap(cs, sk);
	if (cancelled)
		chimney_sock_put(cs);
	chimney_sock_put(cs);
}

/**
 * chimney_sock_conn_show() - the socket column of a connections line
 * @m: the listing
 * @id: a connection id
 *
 * Under rcu_read_lock().
 *
 * Return: true if @id is socket-backed (" sock:<tcp state>" printed).
 */
bool chimney_sock_conn_show(struct seq_file *m, u64 id)
{
	static const char * const tcp_states[] = {
		[TCP_ESTABLISHED] = "established", [TCP_SYN_SENT] = "syn_sent",
		[TCP_SYN_RECV] = "syn_recv", [TCP_FIN_WAIT1] = "fin_wait1",
		[TCP_FIN_WAIT2] = "fin_wait2", [TCP_TIME_WAIT] = "time_wait",
		[TCP_CLOSE] = "close", [TCP_CLOSE_WAIT] = "close_wait",
		[TCP_LAST_ACK] = "last_ack", [TCP_LISTEN] = "listen",
		[TCP_CLOSING] = "closing",
	};
	struct chimney_sock *cs;
	const char *name = "gone";
	unsigned int state;

	cs = xa_load(&chimney_sock_conns, chimney_id_slot(id));
	if (!cs)
		return false;
	spin_lock_bh(&cs->lock);
	/* Just taken off, or not yet told its new id: not this one. */
	if (cs->id != id) {
		spin_unlock_bh(&cs->lock);
		return false;
	}
	if (cs->sk) {
		state = READ_ONCE(cs->sk->sk_state);
		name = state < ARRAY_SIZE(tcp_states) && tcp_states[state] ?
		       tcp_states[state] : "?";
	}
	spin_unlock_bh(&cs->lock);
	seq_printf(m, " sock:%s", name);
	return true;
}

void chimney_sock_target_stats_show(struct seq_file *m,
				    struct chimney_sock_target *st)
{
	u64 disconnects, aborts, urgents, timeouts, rtos, closed, refused;
	u64 invalidations;
	u64 samples, backlogs, idle, drops, ooo;
	unsigned int live;

	spin_lock_bh(&st->lock);
	live = st->nr_conns;
	samples = st->samples;
	backlogs = st->backlogs;
	idle = st->retrieves[CHIMNEY_UPLOAD_LOW_ACTIVITY];
	drops = st->retrieves[CHIMNEY_UPLOAD_HIGH_DROP_RATE];
	ooo = st->retrieves[CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS];
	disconnects = st->disconnects;
	aborts = st->aborts;
	urgents = st->urgents;
	timeouts = st->timeouts;
	rtos = st->rtos;
	closed = st->closed;
	refused = st->refused;
	invalidations = st->invalidations;
	spin_unlock_bh(&st->lock);
	seq_printf(m, "target_connections %u\n", live);
	seq_printf(m, "sock_disconnects %llu\nsock_aborts %llu\n", disconnects,
		   aborts);
	seq_printf(m, "sock_urgent %llu\nsock_timeouts %llu\nsock_rtos %llu\n",
		   urgents, timeouts, rtos);
	seq_printf(m, "sock_closed %llu\n", closed);
	seq_printf(m, "sock_invalidated %llu\n", invalidations);
	seq_printf(m, "sock_refused %llu\n", refused);
	seq_printf(m, "sock_samples %llu\nsock_backlogs %llu\n", samples,
		   backlogs);
	seq_printf(m, "sock_low_activity %llu\nsock_high_drop_rate %llu\n",
		   idle, drops);
	seq_printf(m, "sock_high_out_of_order %llu\n", ooo);
}

struct chimney_sock_target *chimney_sock_target_create(struct net_device *dev)
{
	struct chimney_sock_target *st;
	int err;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return ERR_PTR(-ENOMEM);
	mutex_init(&st->offload_lock);
	spin_lock_init(&st->lock);
	INIT_LIST_HEAD(&st->conns);
	chimney_sock_knobs_init(&st->knobs);
	INIT_DELAYED_WORK(&st->sample_work, chimney_sock_sample_work);
	/* Up and down follow (notify.c); attached while down, nothing to upload. */
	st->link_up = netif_running(dev);
	st->layer.name = "chimney_sock_target";
	st->layer.ops = &chimney_sock_target_ops;
	err = chimney_layer_register(dev, &st->layer, CHIMNEY_LAYER_TARGET);
	if (err) {
		mutex_destroy(&st->offload_lock);
		kfree(st);
		return ERR_PTR(err);
	}
	return st;
}

/* After the host: the stack carries no connection any more. */
void chimney_sock_target_destroy(struct chimney_sock_target *st)
{
	/* -ENODEV: the device's removal already unbound it. */
	WARN_ON(chimney_layer_unregister(&st->layer) == -EINVAL);
	WARN_ON(st->nr_conns);
	/* It re-arms only while connections are offloaded. */
	cancel_delayed_work_sync(&st->sample_work);
	mutex_destroy(&st->offload_lock);
	kfree(st);
}

int chimney_sock_target_init(void)
{
	chimney_sock_wq = alloc_workqueue("chimney_sock", 0, 0);
	return chimney_sock_wq ? 0 : -ENOMEM;
}

/* After the last socket released the ULP: a FIN poll may still run. */
void chimney_sock_target_exit(void)
{
	destroy_workqueue(chimney_sock_wq);
	WARN_ON(chimney_xa_holds_entries(&chimney_sock_conns));
	xa_destroy(&chimney_sock_conns);
}
