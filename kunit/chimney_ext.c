// SPDX-License-Identifier: GPL-2.0
/*
 * chimney_ext: a layer module that is not part of chimney. It includes
 * nothing of chimney but <chimney/chimney.h>, and proves that a third party
 * can write a protocol layer (ext_top), intermediate layers (ext_im<N>) and
 * an offload target (ext_target) against the public API that survive
 * device removal, their own unload with connections live, link changes and
 * concurrent events from every CPU.
 *
 * Driven through /sys/kernel/debug/chimney_ext/command (one verb per write,
 * key=value arguments) and inspected through .../stats ("name value"
 * lines: global counters, then "<dev>.<name>" per device). The vm tests in
 * scripts/vmtests/4*-ext-*.sh use it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/ratelimit.h>
#include <linux/refcount.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include <chimney/chimney.h>

#define EXT_MAX_IM		8
#define EXT_CMD_MAX		256
#define EXT_MAX_OFFLOAD		4096
#define EXT_MAX_STORM		1000000
#define EXT_MAX_ASYNC_MS	60000
/* Storm events carry their raiser in the top byte of the backlog value. */
#define EXT_STORM_TAG_SHIFT	24
#define EXT_STORM_SEQ_MASK	(BIT(EXT_STORM_TAG_SHIFT) - 1)

/* Counters, per device and summed over all devices. */
enum ext_stat {
	EXT_top_live,
	EXT_initiate_ok,
	EXT_initiate_failed,
	EXT_terminate_requested,
	EXT_terminate_complete,
	EXT_terminate_unrequested,
	EXT_terminate_lost_state,
	EXT_terminate_errors,
	EXT_declined,
	EXT_received_backlog,
	EXT_received_disconnect,
	EXT_received_retrieve,
	EXT_received_abort,
	EXT_received_storm,
	EXT_status_upload_all,
	EXT_status_pause,
	EXT_status_resume,
	EXT_im_initiate,
	EXT_im_terminate_complete,
	EXT_im_forwarded,
	EXT_im_forward_failed,
	EXT_im_status,
	EXT_im_concurrency_max,
	EXT_target_live,
	EXT_target_initiate,
	EXT_target_terminate,
	EXT_target_async_terminate,
	EXT_raised_ok,
	EXT_raised_refused,
	EXT_storm_ok,
	EXT_storm_refused,
	EXT_storm_skipped,
	EXT_storm_lost,
	EXT_unbind,
	EXT_unregistered,
	EXT_unregister_fallback,
	EXT_errors,
	EXT_NR_STATS
};

static const char * const ext_stat_names[EXT_NR_STATS] = {
	[EXT_top_live] = "top_live",
	[EXT_initiate_ok] = "initiate_ok",
	[EXT_initiate_failed] = "initiate_failed",
	[EXT_terminate_requested] = "terminate_requested",
	[EXT_terminate_complete] = "terminate_complete",
	[EXT_terminate_unrequested] = "terminate_unrequested",
	[EXT_terminate_lost_state] = "terminate_lost_state",
	[EXT_terminate_errors] = "terminate_errors",
	[EXT_declined] = "declined",
	[EXT_received_backlog] = "received_backlog",
	[EXT_received_disconnect] = "received_disconnect",
	[EXT_received_retrieve] = "received_retrieve",
	[EXT_received_abort] = "received_abort",
	[EXT_received_storm] = "received_storm",
	[EXT_status_upload_all] = "status_upload_all",
	[EXT_status_pause] = "status_pause",
	[EXT_status_resume] = "status_resume",
	[EXT_im_initiate] = "im_initiate",
	[EXT_im_terminate_complete] = "im_terminate_complete",
	[EXT_im_forwarded] = "im_forwarded",
	[EXT_im_forward_failed] = "im_forward_failed",
	[EXT_im_status] = "im_status",
	[EXT_im_concurrency_max] = "im_concurrency_max",
	[EXT_target_live] = "target_live",
	[EXT_target_initiate] = "target_initiate",
	[EXT_target_terminate] = "target_terminate",
	[EXT_target_async_terminate] = "target_async_terminate",
	[EXT_raised_ok] = "raised_ok",
	[EXT_raised_refused] = "raised_refused",
	[EXT_storm_ok] = "storm_ok",
	[EXT_storm_refused] = "storm_refused",
	[EXT_storm_skipped] = "storm_skipped",
	[EXT_storm_lost] = "storm_lost",
	[EXT_unbind] = "unbind",
	[EXT_unregistered] = "unregistered",
	[EXT_unregister_fallback] = "unregister_fallback",
	[EXT_errors] = "errors",
};

struct ext_dev;

/* One registered layer; EXT_LAYER_BOUND while chimney holds it. */
struct ext_layer {
	struct chimney_layer layer;
	struct ext_dev *ed;
	unsigned long flags;
	atomic_t inflight;		/* event ops running now (ext_im) */
	char name[16];
};

#define EXT_LAYER_BOUND		0

/* ext_top's per-connection state: the TCB of the NDIS model. */
struct ext_tcb {
	struct chimney_offload_handle handle;
	struct list_head node;		/* ed->tcbs */
	refcount_t ref;
	unsigned int flags;
};

#define EXT_TCB_OFFLOADED	BIT(0)
#define EXT_TCB_UPLOAD_WANTED	BIT(1)
#define EXT_TCB_TERMINATE_ASKED	BIT(2)
#define EXT_TCB_RX_CLOSED	BIT(3)

/* An ext_im's per-connection entry (spec section d): own handle first. */
struct ext_entry {
	struct chimney_offload_handle own;
	struct chimney_offload_handle *upper;
};

/* ext_target's per-connection context. */
struct ext_tconn {
	struct ext_dev *ed;
	struct chimney_offload_handle *upper;
	struct list_head node;		/* ed->tconns */
	refcount_t ref;
	u64 id;
	bool offloaded;			/* initiate completed: may raise */
	bool dead;			/* terminate taken: raise no more */
	unsigned int raising;		/* raisers using @upper right now */
	struct delayed_work dwork;	/* asynchronous terminate completion */
};

struct ext_dev {
	struct list_head node;		/* ext_devs, under ext_lock */
	struct net_device *dev;
	netdevice_tracker tracker;
	refcount_t ref;			/* ext_devs membership + users */
	atomic_t nr_bound;		/* layers chimney holds */
	struct mutex cmd_lock;		/* registrations on this device */

	struct ext_layer top;
	struct ext_layer target;
	struct ext_layer im[EXT_MAX_IM];
	unsigned int nr_im;

	/* ext_top */
	spinlock_t top_lock;
	struct list_head tcbs;
	bool paused;			/* PAUSE or UPLOAD_ALL until RESUME */
	bool upload_all;		/* terminate whatever completes */
	struct work_struct upload_work;
	u16 next_port;

	/* ext_target */
	spinlock_t target_lock;
	struct list_head tconns;
	unsigned int async_ms;

	atomic64_t stats[EXT_NR_STATS];
};

static DEFINE_MUTEX(ext_lock);
static LIST_HEAD(ext_devs);
static atomic64_t ext_gstats[EXT_NR_STATS];
static struct workqueue_struct *ext_wq;
static struct dentry *ext_debugfs;

static void ext_add(struct ext_dev *ed, enum ext_stat s, s64 v)
{
	atomic64_add(v, &ed->stats[s]);
	atomic64_add(v, &ext_gstats[s]);
}

static void ext_inc(struct ext_dev *ed, enum ext_stat s)
{
	ext_add(ed, s, 1);
}

static void ext_max(atomic64_t *a, s64 v)
{
	s64 old = atomic64_read(a);

	while (old < v && !atomic64_try_cmpxchg(a, &old, v))
		;
}

/*
 * A broken promise of the header (wrong context, unknown handle...): count
 * it where the vm tests look and say it once in a while, instead of a WARN
 * that panic_on_warn would turn into a lost VM.
 */
#define ext_error(ed, fmt, ...) do {					\
	ext_inc(ed, EXT_errors);					\
	pr_err_ratelimited("%s: " fmt, netdev_name((ed)->dev),		\
			   ##__VA_ARGS__);				\
} while (0)

static struct ext_layer *to_ext(struct chimney_layer *layer)
{
	return container_of(layer, struct ext_layer, layer);
}

/* Events run with BH disabled (DISPATCH_LEVEL) and never in hard IRQ. */
static void ext_check_event_context(struct ext_dev *ed, const char *who)
{
	if (!in_softirq() || in_hardirq())
		ext_error(ed, "%s: event op called with BH enabled or in hard IRQ\n",
			  who);
}

/* --- lifetime of the per-device state ------------------------------------ */

static void ext_dev_free(struct ext_dev *ed)
{
	/*
	 * Every layer is gone, so no op can queue more work; what is queued
	 * may still be in its tail after completing to chimney.
	 */
	cancel_work_sync(&ed->upload_work);
	flush_workqueue(ext_wq);
	if (!list_empty(&ed->tcbs) || !list_empty(&ed->tconns))
		ext_error(ed, "freed with connections still listed\n");
	netdev_put(ed->dev, &ed->tracker);
	kfree(ed);
}

static void ext_dev_put(struct ext_dev *ed)
{
	if (refcount_dec_and_test(&ed->ref))
		ext_dev_free(ed);
}

static bool ext_dev_listed(struct ext_dev *ed)
{
	bool listed;

	mutex_lock(&ext_lock);
	listed = !list_empty(&ed->node);
	mutex_unlock(&ext_lock);
	return listed;
}

/* Drop the list's reference once no layer of @ed is bound any more. */
static void ext_dev_retire(struct ext_dev *ed)
{
	bool put = false;

	mutex_lock(&ext_lock);
	if (!list_empty(&ed->node) && !atomic_read(&ed->nr_bound)) {
		list_del_init(&ed->node);
		put = true;
	}
	mutex_unlock(&ext_lock);
	if (put)
		ext_dev_put(ed);
}

/*
 * A layer left chimney, by unregister or by unbind (both may race on
 * device removal: whoever clears the bit accounts for it).
 */
static void ext_layer_gone(struct ext_layer *l)
{
	struct ext_dev *ed = l->ed;

	if (!test_and_clear_bit(EXT_LAYER_BOUND, &l->flags))
		return;
	if (atomic_dec_and_test(&ed->nr_bound))
		ext_dev_retire(ed);
}

static int ext_layer_register(struct ext_dev *ed, struct ext_layer *l,
			      enum chimney_layer_role role)
{
	int err;

	/* Bound before chimney can call unbind on it. */
	atomic_inc(&ed->nr_bound);
	set_bit(EXT_LAYER_BOUND, &l->flags);
	err = chimney_layer_register(ed->dev, &l->layer, role);
	if (err) {
		clear_bit(EXT_LAYER_BOUND, &l->flags);
		atomic_dec(&ed->nr_bound);
	}
	return err;
}

/* Returns 0 once @l is no longer in chimney (or never was). */
static int ext_layer_unregister(struct ext_layer *l)
{
	int err;

	if (!test_bit(EXT_LAYER_BOUND, &l->flags))
		return 0;
	err = chimney_layer_unregister(&l->layer);
	/* -ENODEV: the device went away and unbind ran (or runs) instead. */
	if (err && err != -ENODEV)
		return err;
	if (!err)
		ext_inc(l->ed, EXT_unregistered);
	ext_layer_gone(l);
	return 0;
}

static void ext_unbind(struct chimney_layer *layer)
{
	struct ext_layer *l = to_ext(layer);

	might_sleep();
	ext_inc(l->ed, EXT_unbind);
	/* May free the device state: touch nothing of it afterwards. */
	ext_layer_gone(l);
}

/* --- ext_top: the protocol layer ----------------------------------------- */

static void ext_tcb_put(struct ext_tcb *tcb)
{
	if (refcount_dec_and_test(&tcb->ref))
		kfree(tcb);
}

static struct ext_dev *top_dev(struct chimney_layer *layer)
{
	return to_ext(layer)->ed;
}

/* Must not sleep: called from the event op too. */
static void ext_top_want_upload(struct ext_dev *ed, struct ext_tcb *tcb)
{
	lockdep_assert_held(&ed->top_lock);
	if (!(tcb->flags & EXT_TCB_TERMINATE_ASKED)) {
		tcb->flags |= EXT_TCB_UPLOAD_WANTED;
		queue_work(ext_wq, &ed->upload_work);
	}
}

static void ext_top_event(struct chimney_layer *layer,
			  struct chimney_offload_handle *own, u32 type, u32 info)
{
	struct ext_tcb *tcb = container_of(own, struct ext_tcb, handle);
	struct ext_dev *ed = top_dev(layer);
	u32 tag;

	ext_check_event_context(ed, "ext_top");
	switch (type) {
	case CHIMNEY_EVENT_SEND_BACKLOG_CHANGE:
		tag = info >> EXT_STORM_TAG_SHIFT;
		if (tag == 1 || tag == 2)
			ext_inc(ed, EXT_received_storm);
		else
			ext_inc(ed, EXT_received_backlog);
		return;
	case CHIMNEY_EVENT_DISCONNECT:
		/*
		 * The application keeps its send half open and closes later:
		 * no upload now, the connection stays offloaded.
		 */
		ext_inc(ed, EXT_received_disconnect);
		spin_lock(&ed->top_lock);
		tcb->flags |= EXT_TCB_RX_CLOSED;
		spin_unlock(&ed->top_lock);
		return;
	case CHIMNEY_EVENT_RETRIEVE:
		ext_inc(ed, EXT_received_retrieve);
		if (!chimney_upload_reason_mandatory(info)) {
			ext_inc(ed, EXT_declined);
			return;
		}
		break;
	case CHIMNEY_EVENT_ABORT:
		ext_inc(ed, EXT_received_abort);
		break;
	default:
		ext_error(ed, "ext_top: event type %u got through\n", type);
		return;
	}
	/* Terminating sleeps: not from here (BH disabled). */
	spin_lock(&ed->top_lock);
	ext_top_want_upload(ed, tcb);
	spin_unlock(&ed->top_lock);
}

static void ext_top_status(struct chimney_layer *layer, u32 status)
{
	struct ext_dev *ed = top_dev(layer);
	struct ext_tcb *tcb;

	might_sleep();
	spin_lock_bh(&ed->top_lock);
	switch (status) {
	case CHIMNEY_STATUS_UPLOAD_ALL:
		ext_inc(ed, EXT_status_upload_all);
		ed->paused = true;
		ed->upload_all = true;
		list_for_each_entry(tcb, &ed->tcbs, node)
			if (tcb->flags & EXT_TCB_OFFLOADED)
				ext_top_want_upload(ed, tcb);
		break;
	case CHIMNEY_STATUS_OFFLOAD_PAUSE:
		ext_inc(ed, EXT_status_pause);
		ed->paused = true;
		break;
	case CHIMNEY_STATUS_OFFLOAD_RESUME:
		ext_inc(ed, EXT_status_resume);
		ed->paused = false;
		ed->upload_all = false;
		break;
	default:
		spin_unlock_bh(&ed->top_lock);
		ext_error(ed, "ext_top: unknown status %#x\n", status);
		return;
	}
	spin_unlock_bh(&ed->top_lock);
}

static void ext_top_initiate_complete(struct chimney_layer *layer,
				      struct chimney_offload_handle *own,
				      int status)
{
	struct ext_tcb *tcb = container_of(own, struct ext_tcb, handle);
	struct ext_dev *ed = top_dev(layer);

	if (in_hardirq())
		ext_error(ed, "ext_top: initiate_complete in hard IRQ\n");
	spin_lock_bh(&ed->top_lock);
	if (status) {
		/* chimney forgets @own: so do we. */
		list_del_init(&tcb->node);
		spin_unlock_bh(&ed->top_lock);
		ext_inc(ed, EXT_initiate_failed);
		ext_tcb_put(tcb);
		return;
	}
	tcb->flags |= EXT_TCB_OFFLOADED;
	/* UPLOAD_ALL covers the initiates that were still pending. */
	if (ed->upload_all)
		ext_top_want_upload(ed, tcb);
	spin_unlock_bh(&ed->top_lock);
	ext_inc(ed, EXT_initiate_ok);
	ext_inc(ed, EXT_top_live);
}

static void ext_top_terminate_complete(struct chimney_layer *layer,
				       struct chimney_offload_handle *own,
				       int status)
{
	struct ext_tcb *tcb = container_of(own, struct ext_tcb, handle);
	struct ext_dev *ed = top_dev(layer);
	bool asked;

	might_sleep();
	spin_lock_bh(&ed->top_lock);
	asked = tcb->flags & EXT_TCB_TERMINATE_ASKED;
	list_del_init(&tcb->node);
	spin_unlock_bh(&ed->top_lock);
	ext_inc(ed, EXT_terminate_complete);
	/* Device removal or an unregister: chimney uploaded it for us. */
	if (!asked)
		ext_inc(ed, EXT_terminate_unrequested);
	if (status)
		ext_inc(ed, EXT_terminate_lost_state);
	ext_add(ed, EXT_top_live, -1);
	ext_tcb_put(tcb);
}

/* Terminates every connection marked for upload; process context. */
static void ext_top_upload_work(struct work_struct *work)
{
	struct ext_dev *ed = container_of(work, struct ext_dev, upload_work);
	struct ext_tcb *tcb, *pos;
	int err;

	for (;;) {
		tcb = NULL;
		spin_lock_bh(&ed->top_lock);
		list_for_each_entry(pos, &ed->tcbs, node) {
			if (!(pos->flags & EXT_TCB_UPLOAD_WANTED))
				continue;
			pos->flags &= ~EXT_TCB_UPLOAD_WANTED;
			pos->flags |= EXT_TCB_TERMINATE_ASKED;
			/* The completion may free it under our call. */
			refcount_inc(&pos->ref);
			tcb = pos;
			break;
		}
		spin_unlock_bh(&ed->top_lock);
		if (!tcb)
			return;
		err = chimney_offload_terminate(&ed->top.layer, &tcb->handle);
		/*
		 * -EALREADY / -EINVAL: chimney is uploading it, or has, on its
		 * own (device removal, unregister).
		 */
		if (!err)
			ext_inc(ed, EXT_terminate_requested);
		else if (err != -EALREADY && err != -EINVAL)
			ext_error(ed, "ext_top: terminate failed: %d\n", err);
		ext_tcb_put(tcb);
		cond_resched();
	}
}

/* Mark everything for upload and wait until the list is empty or @timeout. */
static bool ext_top_upload_sync(struct ext_dev *ed, unsigned long timeout)
{
	unsigned long end = jiffies + timeout;
	struct ext_tcb *tcb;
	bool empty;

	for (;;) {
		spin_lock_bh(&ed->top_lock);
		list_for_each_entry(tcb, &ed->tcbs, node)
			if (tcb->flags & EXT_TCB_OFFLOADED)
				ext_top_want_upload(ed, tcb);
		empty = list_empty(&ed->tcbs);
		spin_unlock_bh(&ed->top_lock);
		flush_work(&ed->upload_work);
		if (empty || time_after(jiffies, end))
			return empty;
		msleep(20);
	}
}

static const struct chimney_layer_ops ext_top_ops = {
	.event = ext_top_event,
	.status = ext_top_status,
	.initiate_complete = ext_top_initiate_complete,
	.terminate_complete = ext_top_terminate_complete,
	.unbind = ext_unbind,
};

/* --- ext_im: intermediate layers, forwarding as the MUX sample does -------- */

static void ext_im_event(struct chimney_layer *layer,
			 struct chimney_offload_handle *own, u32 type, u32 info)
{
	struct ext_entry *e = container_of(own, struct ext_entry, own);
	struct ext_layer *l = to_ext(layer);
	struct ext_dev *ed = l->ed;
	int n, err;

	ext_check_event_context(ed, l->name);
	/* NDIS does not serialise events: count how many run at once. */
	n = atomic_inc_return(&l->inflight);
	ext_max(&ed->stats[EXT_im_concurrency_max], n);
	ext_max(&ext_gstats[EXT_im_concurrency_max], n);
	/* Unchanged, once, from inside this op: that is a forward. */
	err = chimney_indicate_event(layer, e->upper, type, info);
	atomic_dec(&l->inflight);
	if (err) {
		ext_inc(ed, EXT_im_forward_failed);
		pr_err_ratelimited("%s: %s: forwarding event %u info %#x failed: %d\n",
				   netdev_name(ed->dev), l->name, type, info, err);
	} else {
		ext_inc(ed, EXT_im_forwarded);
	}
}

static void ext_im_status(struct chimney_layer *layer, u32 status)
{
	might_sleep();
	ext_inc(to_ext(layer)->ed, EXT_im_status);
	chimney_indicate_status(layer, status);
}

static int ext_im_initiate(struct chimney_layer *layer,
			   struct chimney_offload_handle *upper,
			   const struct chimney_conn_info *info)
{
	struct ext_entry *e;
	int err;

	might_sleep();
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->upper = upper;
	ext_inc(to_ext(layer)->ed, EXT_im_initiate);
	err = chimney_offload_forward_initiate(layer, upper, &e->own);
	if (err)
		kfree(e);
	return err;
}

static void ext_im_initiate_complete(struct chimney_layer *layer,
				     struct chimney_offload_handle *own,
				     int status)
{
	struct ext_entry *e = container_of(own, struct ext_entry, own);
	struct chimney_offload_handle *upper = e->upper;

	if (in_hardirq())
		ext_error(to_ext(layer)->ed, "%s: initiate_complete in hard IRQ\n",
			  to_ext(layer)->name);
	if (!status)
		upper->lower_context = e;
	else
		kfree(e);
	chimney_initiate_offload_complete(layer, upper, status);
}

static int ext_im_terminate(struct chimney_layer *layer, void *context)
{
	struct ext_entry *e = context;

	might_sleep();
	return chimney_offload_forward_terminate(layer, &e->own);
}

static void ext_im_terminate_complete(struct chimney_layer *layer,
				      struct chimney_offload_handle *own,
				      int status)
{
	struct ext_entry *e = container_of(own, struct ext_entry, own);
	struct chimney_offload_handle *upper = e->upper;

	might_sleep();
	ext_inc(to_ext(layer)->ed, EXT_im_terminate_complete);
	/* No event can use the entry any more (spec section d, 7). */
	kfree(e);
	chimney_terminate_offload_complete(layer, upper, status);
}

static const struct chimney_layer_ops ext_im_ops = {
	.event = ext_im_event,
	.status = ext_im_status,
	.initiate = ext_im_initiate,
	.initiate_complete = ext_im_initiate_complete,
	.terminate = ext_im_terminate,
	.terminate_complete = ext_im_terminate_complete,
	.unbind = ext_unbind,
};

/* --- ext_target: the offload target --------------------------------------- */

static void ext_tconn_put(struct ext_tconn *tc)
{
	if (refcount_dec_and_test(&tc->ref))
		kfree(tc);
}

static bool ext_tconn_idle(struct ext_tconn *tc)
{
	bool idle;

	spin_lock_bh(&tc->ed->target_lock);
	idle = !tc->raising;
	spin_unlock_bh(&tc->ed->target_lock);
	return idle;
}

/*
 * Raise one event on @tc unless its terminate was taken: @tc->upper belongs
 * to the layer above and is freed once our terminate completes, so the
 * completion waits for the raisers (ext_tconn_idle()).
 */
static int ext_target_raise(struct ext_tconn *tc, u32 type, u32 info)
{
	struct ext_dev *ed = tc->ed;
	bool wake;
	int err;

	spin_lock_bh(&ed->target_lock);
	if (tc->dead || !tc->offloaded) {
		spin_unlock_bh(&ed->target_lock);
		return -ESHUTDOWN;
	}
	tc->raising++;
	spin_unlock_bh(&ed->target_lock);

	err = chimney_indicate_event(&ed->target.layer, tc->upper, type, info);

	spin_lock_bh(&ed->target_lock);
	wake = !--tc->raising && tc->dead;
	spin_unlock_bh(&ed->target_lock);
	if (wake)
		wake_up_var(&tc->raising);
	ext_inc(ed, err ? EXT_raised_refused : EXT_raised_ok);
	return err;
}

static void ext_target_finish(struct ext_tconn *tc)
{
	struct ext_dev *ed = tc->ed;

	might_sleep();
	wait_var_event(&tc->raising, ext_tconn_idle(tc));
	spin_lock_bh(&ed->target_lock);
	list_del_init(&tc->node);
	spin_unlock_bh(&ed->target_lock);
	ext_add(ed, EXT_target_live, -1);
	chimney_terminate_offload_complete(&ed->target.layer, tc->upper, 0);
	ext_tconn_put(tc);
}

static void ext_target_async_work(struct work_struct *work)
{
	struct ext_tconn *tc = container_of(to_delayed_work(work),
					    struct ext_tconn, dwork);

	ext_inc(tc->ed, EXT_target_async_terminate);
	ext_target_finish(tc);
}

static int ext_target_initiate(struct chimney_layer *layer,
			       struct chimney_offload_handle *upper,
			       const struct chimney_conn_info *info)
{
	struct ext_dev *ed = to_ext(layer)->ed;
	struct ext_tconn *tc;

	might_sleep();
	/* As a NIC would: nothing is offloaded while the link is down. */
	if (!netif_running(info->dev) || !netif_carrier_ok(info->dev))
		return -ENETDOWN;
	tc = kzalloc(sizeof(*tc), GFP_KERNEL);
	if (!tc)
		return -ENOMEM;
	tc->ed = ed;
	tc->upper = upper;
	tc->id = info->id;
	/* The list's reference, and ours until the completion returned. */
	refcount_set(&tc->ref, 2);
	INIT_DELAYED_WORK(&tc->dwork, ext_target_async_work);
	spin_lock_bh(&ed->target_lock);
	list_add_tail(&tc->node, &ed->tconns);
	spin_unlock_bh(&ed->target_lock);
	ext_inc(ed, EXT_target_initiate);
	ext_inc(ed, EXT_target_live);

	upper->lower_context = tc;
	chimney_initiate_offload_complete(layer, upper, 0);
	spin_lock_bh(&ed->target_lock);
	tc->offloaded = true;
	spin_unlock_bh(&ed->target_lock);
	ext_tconn_put(tc);
	return 0;
}

static int ext_target_terminate(struct chimney_layer *layer, void *context)
{
	struct ext_tconn *tc = context;
	struct ext_dev *ed = to_ext(layer)->ed;
	unsigned int ms;

	might_sleep();
	if (!tc || tc->ed != ed) {
		ext_error(ed, "ext_target: terminate with a context not ours\n");
		return -EINVAL;
	}
	spin_lock_bh(&ed->target_lock);
	tc->dead = true;
	ms = READ_ONCE(ed->async_ms);
	spin_unlock_bh(&ed->target_lock);
	ext_inc(ed, EXT_target_terminate);
	if (ms) {
		queue_delayed_work(ext_wq, &tc->dwork, msecs_to_jiffies(ms));
		return 0;
	}
	ext_target_finish(tc);
	return 0;
}

static const struct chimney_layer_ops ext_target_ops = {
	.initiate = ext_target_initiate,
	.terminate = ext_target_terminate,
	.unbind = ext_unbind,
};

/*
 * The target's offloaded connections (all, or the one with id @id), each
 * with a reference: the caller raises on them without the lock, so raisers
 * on both CPUs really run concurrently.
 */
static int ext_target_snapshot(struct ext_dev *ed, u64 id,
			       struct ext_tconn ***out)
{
	struct ext_tconn **arr, *tc;
	unsigned int n = 0, max = 0;

	spin_lock_bh(&ed->target_lock);
	list_for_each_entry(tc, &ed->tconns, node)
		max++;
	spin_unlock_bh(&ed->target_lock);
	if (!max)
		return 0;
	arr = kcalloc(max, sizeof(*arr), GFP_KERNEL);
	if (!arr)
		return -ENOMEM;
	spin_lock_bh(&ed->target_lock);
	list_for_each_entry(tc, &ed->tconns, node) {
		if (n == max)
			break;
		if (!tc->offloaded || tc->dead || (id && tc->id != id))
			continue;
		refcount_inc(&tc->ref);
		arr[n++] = tc;
	}
	spin_unlock_bh(&ed->target_lock);
	if (!n)
		kfree(arr);
	else
		*out = arr;
	return n;
}

static void ext_target_snapshot_put(struct ext_tconn **arr, int n)
{
	while (n-- > 0)
		ext_tconn_put(arr[n]);
	kfree(arr);
}

/* --- the storm: two CPUs raising on the same connections ------------------ */

struct ext_storm;

struct ext_storm_thread {
	struct ext_storm *storm;
	struct task_struct *task;
	struct completion done;
	u32 tag;
	u64 ok, refused, skipped;
};

struct ext_storm {
	struct ext_dev *ed;
	struct ext_tconn **conns;
	int nr;
	u32 events;
	struct completion go;
	struct ext_storm_thread th[2];
};

static int ext_storm_fn(void *data)
{
	struct ext_storm_thread *th = data;
	struct ext_storm *s = th->storm;
	u32 i;
	int err;

	wait_for_completion(&s->go);
	for (i = 0; i < s->events; i++) {
		/* Distinct infos: who raised it, and which one. */
		u32 info = th->tag << EXT_STORM_TAG_SHIFT |
			   (i & EXT_STORM_SEQ_MASK);

		err = ext_target_raise(s->conns[i % s->nr],
				       CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, info);
		if (!err)
			th->ok++;
		else if (err == -ESHUTDOWN)
			th->skipped++;
		else
			th->refused++;
		if (!(i & 255))
			cond_resched();
	}
	complete(&th->done);
	return 0;
}

static int ext_storm(struct ext_dev *ed, u32 events)
{
	struct ext_storm *s;
	s64 rx0, rx, ok = 0, lost;
	int i, n, cpu, err = 0;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	n = ext_target_snapshot(ed, 0, &s->conns);
	if (n <= 0) {
		kfree(s);
		return n ? n : -ENOENT;
	}
	s->ed = ed;
	s->nr = n;
	s->events = events;
	init_completion(&s->go);
	rx0 = atomic64_read(&ed->stats[EXT_received_storm]);

	for (i = 0; i < 2; i++) {
		struct ext_storm_thread *th = &s->th[i];

		th->storm = s;
		th->tag = i + 1;
		init_completion(&th->done);
		th->task = kthread_create(ext_storm_fn, th, "chimney_ext_storm/%d", i);
		if (IS_ERR(th->task)) {
			err = PTR_ERR(th->task);
			th->task = NULL;
			break;
		}
		/* Kept until kthread_stop(), even if the thread is done. */
		get_task_struct(th->task);
		/* CPU 0 and CPU 1 when both are online. */
		cpu = cpumask_nth(i % num_online_cpus(), cpu_online_mask);
		kthread_bind(th->task, cpu);
		wake_up_process(th->task);
	}
	complete_all(&s->go);
	for (i = 0; i < 2; i++) {
		if (!s->th[i].task)
			continue;
		/*
		 * A kthread_stop() that comes before the thread first runs
		 * stops it without running it (a busy host can keep a vCPU
		 * from scheduling it for that long): wait for the work.
		 */
		wait_for_completion(&s->th[i].done);
		kthread_stop(s->th[i].task);
		put_task_struct(s->th[i].task);
		ok += s->th[i].ok;
		ext_add(ed, EXT_storm_ok, s->th[i].ok);
		ext_add(ed, EXT_storm_refused, s->th[i].refused);
		ext_add(ed, EXT_storm_skipped, s->th[i].skipped);
	}
	ext_target_snapshot_put(s->conns, n);
	if (err) {
		kfree(s);
		return err;
	}

	/* Every event the target got accepted has reached ext_top. */
	rx = atomic64_read(&ed->stats[EXT_received_storm]) - rx0;
	lost = ok - rx;
	if (lost) {
		ext_add(ed, EXT_storm_lost, lost);
		pr_err_ratelimited("%s: storm: %lld events accepted, %lld reached ext_top\n",
				   netdev_name(ed->dev), ok, rx);
		err = -EIO;
	}
	kfree(s);
	return err;
}

/* --- commands -------------------------------------------------------------- */

enum ext_key {
	EXT_K_DEV, EXT_K_IM, EXT_K_N, EXT_K_COUNT, EXT_K_EVENT, EXT_K_INFO,
	EXT_K_ID, EXT_K_EVENTS, EXT_K_ASYNC_MS, EXT_K_STATUS, EXT_NR_KEYS
};

static const char * const ext_key_names[EXT_NR_KEYS] = {
	"dev", "im", "n", "count", "event", "info", "id", "events", "async_ms",
	"status",
};

struct ext_args {
	unsigned long seen;
	char dev[IFNAMSIZ];
	u32 im, n, count, event, info, events, async_ms, status;
	u64 id;
};

enum ext_verb {
	EXT_V_STACK, EXT_V_IM, EXT_V_OFFLOAD, EXT_V_RAISE, EXT_V_STORM,
	EXT_V_STATUS, EXT_V_SET, EXT_V_UPLOAD, EXT_V_UNREGISTER,
};

static const struct ext_verb_def {
	const char *name;
	unsigned long required, optional;
} ext_verbs[] = {
	[EXT_V_STACK] = { "stack", BIT(EXT_K_DEV),
			  BIT(EXT_K_IM) | BIT(EXT_K_ASYNC_MS) },
	[EXT_V_IM] = { "im", BIT(EXT_K_DEV) | BIT(EXT_K_N), 0 },
	[EXT_V_OFFLOAD] = { "offload", BIT(EXT_K_DEV) | BIT(EXT_K_COUNT), 0 },
	[EXT_V_RAISE] = { "raise", BIT(EXT_K_DEV) | BIT(EXT_K_EVENT),
			  BIT(EXT_K_INFO) | BIT(EXT_K_ID) },
	[EXT_V_STORM] = { "storm", BIT(EXT_K_DEV) | BIT(EXT_K_EVENTS), 0 },
	[EXT_V_STATUS] = { "status", BIT(EXT_K_DEV) | BIT(EXT_K_STATUS), 0 },
	[EXT_V_SET] = { "set", BIT(EXT_K_DEV) | BIT(EXT_K_ASYNC_MS), 0 },
	[EXT_V_UPLOAD] = { "upload", BIT(EXT_K_DEV), 0 },
	[EXT_V_UNREGISTER] = { "unregister", BIT(EXT_K_DEV), 0 },
};

static int ext_parse_u32(const char *s, u32 min, u32 max, u32 *out)
{
	u32 v;

	if (kstrtou32(s, 10, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int ext_parse_named(const char *s, const char * const *names,
			   unsigned int nr, u32 min, u32 max, u32 *out)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	return ext_parse_u32(s, min, max, out);
}

static const char * const ext_event_names[] = {
	NULL, "backlog", "disconnect", "retrieve", "abort",
};

static int ext_parse_status(const char *s, u32 *out)
{
	if (!strcmp(s, "upload_all"))
		*out = CHIMNEY_STATUS_UPLOAD_ALL;
	else if (!strcmp(s, "pause"))
		*out = CHIMNEY_STATUS_OFFLOAD_PAUSE;
	else if (!strcmp(s, "resume"))
		*out = CHIMNEY_STATUS_OFFLOAD_RESUME;
	else
		return -EINVAL;
	return 0;
}

static int ext_parse_arg(struct ext_args *a, enum ext_key k, const char *v,
			 const char **why)
{
	switch (k) {
	case EXT_K_DEV:
		if (strlen(v) >= IFNAMSIZ || !dev_valid_name(v)) {
			*why = "bad device name";
			return -EINVAL;
		}
		strscpy(a->dev, v, sizeof(a->dev));
		return 0;
	case EXT_K_IM:
		return ext_parse_u32(v, 0, EXT_MAX_IM, &a->im);
	case EXT_K_N:
		return ext_parse_u32(v, 1, EXT_MAX_IM, &a->n);
	case EXT_K_COUNT:
		return ext_parse_u32(v, 1, EXT_MAX_OFFLOAD, &a->count);
	case EXT_K_EVENT:
		return ext_parse_named(v, ext_event_names,
				       ARRAY_SIZE(ext_event_names),
				       CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
				       CHIMNEY_EVENT_MAX, &a->event);
	case EXT_K_INFO:
		return kstrtou32(v, 0, &a->info) ? -EINVAL : 0;
	case EXT_K_ID:
		return kstrtou64(v, 10, &a->id) || !a->id ? -EINVAL : 0;
	case EXT_K_EVENTS:
		return ext_parse_u32(v, 1, EXT_MAX_STORM, &a->events);
	case EXT_K_ASYNC_MS:
		return ext_parse_u32(v, 0, EXT_MAX_ASYNC_MS, &a->async_ms);
	case EXT_K_STATUS:
		return ext_parse_status(v, &a->status);
	default:
		return -EINVAL;
	}
}

/*
 * "verb key=value ...\n": printable ASCII, single spaces, one newline at
 * the end, every key known to the verb, none repeated, required ones
 * present. Modifies @line.
 */
static int ext_parse(char *line, size_t len, enum ext_verb *verb,
		     struct ext_args *a, const char **why)
{
	char *tok, *val, *p = line;
	unsigned long allowed;
	unsigned int i, k;
	size_t j;

	if (!len || line[len - 1] != '\n') {
		*why = "no newline at the end";
		return -EINVAL;
	}
	line[--len] = '\0';
	for (j = 0; j < len; j++) {
		if (line[j] < 0x20 || line[j] > 0x7e) {
			*why = "not printable ASCII";
			return -EINVAL;
		}
	}
	tok = strsep(&p, " ");
	for (i = 0; i < ARRAY_SIZE(ext_verbs); i++)
		if (!strcmp(tok, ext_verbs[i].name))
			break;
	if (i == ARRAY_SIZE(ext_verbs)) {
		*why = "unknown verb";
		return -EINVAL;
	}
	*verb = i;
	allowed = ext_verbs[i].required | ext_verbs[i].optional;

	while (p) {
		tok = strsep(&p, " ");
		val = strchr(tok, '=');
		if (!val || val == tok || !val[1]) {
			*why = "expected key=value";
			return -EINVAL;
		}
		*val++ = '\0';
		for (k = 0; k < EXT_NR_KEYS; k++)
			if (!strcmp(tok, ext_key_names[k]))
				break;
		if (k == EXT_NR_KEYS || !(allowed & BIT(k))) {
			*why = "unknown key for this verb";
			return -EINVAL;
		}
		if (a->seen & BIT(k)) {
			*why = "repeated key";
			return -EINVAL;
		}
		a->seen |= BIT(k);
		*why = "bad value";
		if (ext_parse_arg(a, k, val, why))
			return -EINVAL;
	}
	if ((a->seen & ext_verbs[i].required) != ext_verbs[i].required) {
		*why = "missing key";
		return -EINVAL;
	}
	return 0;
}

/* The state of @dev, with a reference; created if @create. */
static struct ext_dev *ext_dev_get(struct net_device *dev, bool create)
{
	struct ext_dev *ed, *found = NULL;
	int i;

	mutex_lock(&ext_lock);
	list_for_each_entry(ed, &ext_devs, node) {
		if (ed->dev == dev) {
			refcount_inc(&ed->ref);
			found = ed;
			break;
		}
	}
	if (found || !create)
		goto out;
	ed = kzalloc(sizeof(*ed), GFP_KERNEL);
	if (!ed)
		goto out;
	ed->dev = dev;
	netdev_hold(dev, &ed->tracker, GFP_KERNEL);
	/* The list's reference and the caller's. */
	refcount_set(&ed->ref, 2);
	mutex_init(&ed->cmd_lock);
	spin_lock_init(&ed->top_lock);
	spin_lock_init(&ed->target_lock);
	INIT_LIST_HEAD(&ed->tcbs);
	INIT_LIST_HEAD(&ed->tconns);
	INIT_WORK(&ed->upload_work, ext_top_upload_work);
	ed->next_port = 1024;

	ed->top.ed = ed;
	strscpy(ed->top.name, "ext_top", sizeof(ed->top.name));
	ed->top.layer.ops = &ext_top_ops;
	ed->target.ed = ed;
	strscpy(ed->target.name, "ext_target", sizeof(ed->target.name));
	ed->target.layer.ops = &ext_target_ops;
	for (i = 0; i < EXT_MAX_IM; i++) {
		ed->im[i].ed = ed;
		snprintf(ed->im[i].name, sizeof(ed->im[i].name), "ext_im%d", i);
		ed->im[i].layer.ops = &ext_im_ops;
	}
	ed->top.layer.name = ed->top.name;
	ed->target.layer.name = ed->target.name;
	for (i = 0; i < EXT_MAX_IM; i++)
		ed->im[i].layer.name = ed->im[i].name;
	list_add_tail(&ed->node, &ext_devs);
	found = ed;
out:
	mutex_unlock(&ext_lock);
	return found;
}

/* Unregister every layer of @ed, top first; the first error stops it. */
static int ext_dev_unregister(struct ext_dev *ed)
{
	int i, err;

	err = ext_layer_unregister(&ed->top);
	for (i = ed->nr_im - 1; !err && i >= 0; i--)
		err = ext_layer_unregister(&ed->im[i]);
	if (!err)
		err = ext_layer_unregister(&ed->target);
	return err;
}

/* All @n or none: a refused command changes nothing. */
static int ext_add_ims(struct ext_dev *ed, u32 n)
{
	unsigned int nr0 = ed->nr_im;
	int err = 0;

	if (ed->nr_im + n > EXT_MAX_IM)
		return -ENOSPC;
	while (n--) {
		err = ext_layer_register(ed, &ed->im[ed->nr_im],
					 CHIMNEY_LAYER_INTERMEDIATE);
		if (err)
			break;
		ed->nr_im++;
	}
	/* No connection can exist yet below a layer just registered. */
	while (err && ed->nr_im > nr0)
		ext_layer_unregister(&ed->im[--ed->nr_im]);
	return err;
}

static int ext_cmd_stack(struct ext_dev *ed, const struct ext_args *a)
{
	int err;

	if (test_bit(EXT_LAYER_BOUND, &ed->top.flags) ||
	    test_bit(EXT_LAYER_BOUND, &ed->target.flags))
		return -EEXIST;
	/* Target, protocol, then each intermediate right below the protocol. */
	err = ext_layer_register(ed, &ed->target, CHIMNEY_LAYER_TARGET);
	if (err)
		return err;
	err = ext_layer_register(ed, &ed->top, CHIMNEY_LAYER_PROTOCOL);
	if (!err)
		err = ext_add_ims(ed, a->im);
	if (err) {
		ext_layer_unregister(&ed->top);
		ext_layer_unregister(&ed->target);
		return err;
	}
	WRITE_ONCE(ed->async_ms, a->async_ms);
	return 0;
}

static int ext_cmd_offload(struct ext_dev *ed, u32 count)
{
	struct chimney_tuple t;
	struct ext_tcb *tcb;
	int err = 0, ret = 0;
	bool paused;

	if (!test_bit(EXT_LAYER_BOUND, &ed->top.flags))
		return -EOPNOTSUPP;
	while (count--) {
		tcb = kzalloc(sizeof(*tcb), GFP_KERNEL);
		if (!tcb)
			return -ENOMEM;
		/* The list's reference and ours across the initiate. */
		refcount_set(&tcb->ref, 2);
		memset(&t, 0, sizeof(t));
		t.family = AF_INET;
		t.saddr.ip = htonl(0x0a4d0001 | (ed->dev->ifindex & 0xff) << 8);
		t.daddr.ip = htonl(0x0a4d0002);
		t.dport = htons(80);

		spin_lock_bh(&ed->top_lock);
		paused = ed->paused;
		t.sport = htons(ed->next_port);
		ed->next_port = ed->next_port == U16_MAX ? 1024 : ed->next_port + 1;
		if (!paused)
			list_add_tail(&tcb->node, &ed->tcbs);
		spin_unlock_bh(&ed->top_lock);
		if (paused) {
			kfree(tcb);
			return -ENETDOWN;
		}
		err = chimney_offload_initiate(&ed->top.layer, &t, &tcb->handle);
		if (err) {
			/* Refused outright: nothing completed. */
			spin_lock_bh(&ed->top_lock);
			list_del_init(&tcb->node);
			spin_unlock_bh(&ed->top_lock);
			ext_tcb_put(tcb);
			ret = ret ?: err;
		}
		ext_tcb_put(tcb);
		/* A duplicate port after a wrap is not a reason to stop. */
		if (err && err != -EEXIST)
			return err;
	}
	return ret;
}

static int ext_cmd_raise(struct ext_dev *ed, const struct ext_args *a)
{
	struct ext_tconn **arr;
	u32 info = a->info;
	int i, n, err, ret = 0;

	if (!(a->seen & BIT(EXT_K_INFO))) {
		if (a->event == CHIMNEY_EVENT_SEND_BACKLOG_CHANGE)
			info = 65536;
		else if (a->event == CHIMNEY_EVENT_RETRIEVE)
			info = CHIMNEY_UPLOAD_UPLOAD_REQUESTED;
	}
	if (!test_bit(EXT_LAYER_BOUND, &ed->target.flags))
		return -EOPNOTSUPP;
	n = ext_target_snapshot(ed, a->id, &arr);
	if (n <= 0)
		return n ? n : -ENOENT;
	for (i = 0; i < n; i++) {
		err = ext_target_raise(arr[i], a->event, info);
		ret = ret ?: err;
	}
	ext_target_snapshot_put(arr, n);
	return ret;
}

static int ext_run(enum ext_verb verb, const struct ext_args *a)
{
	struct net_device *dev;
	struct ext_dev *ed;
	int err;

	dev = dev_get_by_name(current->nsproxy->net_ns, a->dev);
	if (!dev)
		return -ENODEV;
	ed = ext_dev_get(dev, verb == EXT_V_STACK || verb == EXT_V_IM);
	dev_put(dev);
	if (!ed)
		return verb == EXT_V_STACK || verb == EXT_V_IM ? -ENOMEM : -ENODEV;

	mutex_lock(&ed->cmd_lock);
	/* Its device went away (unbind) or a failed command dropped it. */
	if (!ext_dev_listed(ed)) {
		err = -ENODEV;
		goto unlock;
	}
	switch (verb) {
	case EXT_V_STACK:
		err = ext_cmd_stack(ed, a);
		break;
	case EXT_V_IM:
		err = ext_add_ims(ed, a->n);
		break;
	case EXT_V_OFFLOAD:
		err = ext_cmd_offload(ed, a->count);
		break;
	case EXT_V_RAISE:
		err = ext_cmd_raise(ed, a);
		break;
	case EXT_V_STORM:
		err = test_bit(EXT_LAYER_BOUND, &ed->target.flags) &&
		      test_bit(EXT_LAYER_BOUND, &ed->top.flags) ?
		      ext_storm(ed, a->events) : -EOPNOTSUPP;
		break;
	case EXT_V_STATUS:
		if (test_bit(EXT_LAYER_BOUND, &ed->target.flags)) {
			chimney_indicate_status(&ed->target.layer, a->status);
			err = 0;
		} else {
			err = -EOPNOTSUPP;
		}
		break;
	case EXT_V_SET:
		WRITE_ONCE(ed->async_ms, a->async_ms);
		err = 0;
		break;
	case EXT_V_UPLOAD:
		err = !test_bit(EXT_LAYER_BOUND, &ed->top.flags) ? -EOPNOTSUPP :
		      ext_top_upload_sync(ed, 10 * HZ) ? 0 : -ETIMEDOUT;
		break;
	case EXT_V_UNREGISTER:
		/* With connections live: chimney uploads them and waits. */
		err = ext_dev_unregister(ed);
		break;
	default:
		err = -EINVAL;
	}
unlock:
	mutex_unlock(&ed->cmd_lock);
	/* A device that never got a layer (a failed stack or im) goes. */
	if (!atomic_read(&ed->nr_bound))
		ext_dev_retire(ed);
	ext_dev_put(ed);
	return err;
}

static ssize_t ext_command_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	const char *why = NULL;
	struct ext_args a = {};
	enum ext_verb verb;
	char *line;
	int err;

	if (len > EXT_CMD_MAX) {
		pr_warn_ratelimited("command refused: longer than %d bytes\n",
				    EXT_CMD_MAX);
		return -EINVAL;
	}
	line = memdup_user_nul(ubuf, len);
	if (IS_ERR(line))
		return PTR_ERR(line);
	if (strlen(line) != len) {
		why = "embedded NUL";
		err = -EINVAL;
	} else {
		err = ext_parse(line, len, &verb, &a, &why);
	}
	kfree(line);
	if (err) {
		pr_warn_ratelimited("command refused: %s\n", why ?: "malformed");
		return err;
	}
	err = ext_run(verb, &a);
	return err ?: len;
}

static const struct file_operations ext_command_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = ext_command_write,
	.llseek = noop_llseek,
};

static int ext_stats_show(struct seq_file *m, void *v)
{
	struct ext_dev *ed;
	int i;

	for (i = 0; i < EXT_NR_STATS; i++)
		seq_printf(m, "%s %lld\n", ext_stat_names[i],
			   atomic64_read(&ext_gstats[i]));
	mutex_lock(&ext_lock);
	list_for_each_entry(ed, &ext_devs, node) {
		seq_printf(m, "%s.layers %d\n", netdev_name(ed->dev),
			   atomic_read(&ed->nr_bound));
		for (i = 0; i < EXT_NR_STATS; i++)
			seq_printf(m, "%s.%s %lld\n", netdev_name(ed->dev),
				   ext_stat_names[i],
				   atomic64_read(&ed->stats[i]));
	}
	mutex_unlock(&ext_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ext_stats);

static int __init ext_init(void)
{
	ext_wq = alloc_workqueue("chimney_ext", WQ_UNBOUND, 0);
	if (!ext_wq)
		return -ENOMEM;
	ext_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("command", 0200, ext_debugfs, NULL,
			    &ext_command_fops);
	debugfs_create_file("stats", 0444, ext_debugfs, NULL,
			    &ext_stats_fops);
	return 0;
}

/*
 * Unload with connections live: unregistering a layer uploads them (the
 * header's contract). A core that refuses instead gets ext_top's own
 * uploads, said loudly so a test can tell; a foreign protocol layer is
 * waited for.
 */
static void ext_dev_shutdown(struct ext_dev *ed)
{
	unsigned int tries = 0;
	int err;

	mutex_lock(&ed->cmd_lock);
	while ((err = ext_dev_unregister(ed))) {
		if (!tries++) {
			ext_inc(ed, EXT_unregister_fallback);
			pr_warn("%s: chimney_layer_unregister() refused with connections live (%d), uploading them first\n",
				netdev_name(ed->dev), err);
		}
		if (test_bit(EXT_LAYER_BOUND, &ed->top.flags))
			ext_top_upload_sync(ed, HZ);
		else
			msleep(100);
		if (!(tries % 50))
			pr_warn("%s: still waiting to unregister (%d)\n",
				netdev_name(ed->dev), err);
	}
	mutex_unlock(&ed->cmd_lock);
}

static void __exit ext_exit(void)
{
	struct ext_dev *ed;

	/* No command runs from here on: debugfs waits for the writers. */
	debugfs_remove_recursive(ext_debugfs);
	for (;;) {
		mutex_lock(&ext_lock);
		ed = list_first_entry_or_null(&ext_devs, struct ext_dev, node);
		if (ed)
			refcount_inc(&ed->ref);
		mutex_unlock(&ext_lock);
		if (!ed)
			break;
		ext_dev_shutdown(ed);
		/* The last layer gone took it off the list; or this does. */
		ext_dev_retire(ed);
		ext_dev_put(ed);
	}
	destroy_workqueue(ext_wq);
	pr_info("unloaded\n");
}

module_init(ext_init);
module_exit(ext_exit);
MODULE_DESCRIPTION("chimney: a third-party layer module, written against the public header only");
MODULE_LICENSE("GPL");
