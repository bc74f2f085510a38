// SPDX-License-Identifier: GPL-2.0
/*
 * Test net devices and test layers for the chimney suites. The layers use
 * only the public header: they prove a layer can be written from another
 * module with nothing else.
 */

#include <kunit/test.h>
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "conn.h"
#include "device.h"
#include "util.h"

static netdev_tx_t ct_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops ct_netdev_ops = {
	.ndo_start_xmit = ct_xmit,
	.ndo_set_mac_address = eth_mac_addr,
};

static void ct_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &ct_netdev_ops;
	dev->needs_free_netdev = true;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	dev->min_mtu = 68;
	dev->max_mtu = 9000;
}

static void ct_netdev_release(void *data)
{
	/* Frees it too (needs_free_netdev). */
	unregister_netdev(data);
}

/* A registered, up, Ethernet-like device; the test unregisters it. */
struct net_device *ct_netdev_unmanaged(struct kunit *test, const char *name)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, name, NET_NAME_USER, ct_setup);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	eth_hw_addr_random(dev);
	err = register_netdev(dev);
	if (err)
		free_netdev(dev);
	KUNIT_ASSERT_EQ(test, err, 0);
	/* Offloads need the link up. */
	rtnl_lock();
	err = dev_open(dev, NULL);
	rtnl_unlock();
	KUNIT_EXPECT_EQ(test, err, 0);
	return dev;
}

/* Like ct_netdev_unmanaged(), unregistered when the test ends. */
struct net_device *ct_netdev(struct kunit *test, const char *name)
{
	struct net_device *dev = ct_netdev_unmanaged(test, name);

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_netdev_release,
							dev), 0);
	return dev;
}

/* chimney's own host and fake target on @dev (not public API). */
struct chimney_device *ct_attach(struct kunit *test, struct net_device *dev,
				 unsigned int capacity)
{
	struct chimney_device *cdev;

	KUNIT_ASSERT_EQ(test, chimney_device_attach(dev, capacity), 0);
	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	mutex_unlock(&chimney_devices_lock);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	return cdev;
}

static struct ct_layer *to_ct(struct chimney_layer *layer)
{
	return container_of(layer, struct ct_layer, layer);
}

static void ct_log(struct ct_layer *l, struct chimney_offload_handle *h,
		   u32 type, u32 info)
{
	struct ct_stack *st = l->st;

	spin_lock(&st->lock);
	if (st->nr_log < CT_LOG_MAX)
		st->log[st->nr_log++] = (struct ct_hop){ l->index, h, type, info };
	spin_unlock(&st->lock);
}

void ct_log_reset(struct ct_stack *st)
{
	spin_lock_bh(&st->lock);
	st->nr_log = 0;
	spin_unlock_bh(&st->lock);
}

/* Protocol layer. */

static void ct_top_event(struct chimney_layer *layer,
			 struct chimney_offload_handle *own, u32 type, u32 info)
{
	struct ct_layer *l = to_ct(layer);

	ct_log(l, own, type, info);
	atomic_inc(&l->st->top_events);
	if (l->st->top_hook)
		l->st->top_hook(l->st);
}

/* A process-context op: may it sleep, as the header promises? */
static void ct_check_process(struct ct_stack *st)
{
	if (preempt_count() || irqs_disabled() || rcu_preempt_depth())
		st->top_atomic = true;
	might_sleep();
}

static void ct_unbind(struct chimney_layer *layer)
{
	ct_check_process(to_ct(layer)->st);
	to_ct(layer)->unbinds++;
}

static void ct_top_initiate_complete(struct chimney_layer *layer,
				     struct chimney_offload_handle *own,
				     int status)
{
	struct ct_tcb *tcb = container_of(own, struct ct_tcb, handle);

	tcb->initiate_status = status;
	tcb->initiated = !status;
	to_ct(layer)->st->initiate_completes++;
}

static void ct_top_terminate_complete(struct chimney_layer *layer,
				      struct chimney_offload_handle *own,
				      int status)
{
	struct ct_tcb *tcb = container_of(own, struct ct_tcb, handle);

	ct_check_process(to_ct(layer)->st);
	tcb->terminated = true;
	tcb->terminate_status = status;
	to_ct(layer)->st->terminate_completes++;
}

static const struct chimney_layer_ops ct_top_ops = {
	.event = ct_top_event,
	.initiate_complete = ct_top_initiate_complete,
	.terminate_complete = ct_top_terminate_complete,
	.unbind = ct_unbind,
};

/* Intermediate layer: forwards everything, as the MUX sample does. */

static void ct_im_event(struct chimney_layer *layer,
			struct chimney_offload_handle *own, u32 type, u32 info)
{
	struct ct_entry *e = container_of(own, struct ct_entry, own);
	struct ct_layer *l = to_ct(layer);

	ct_log(l, own, type, info);
	if (l->event_hook)
		l->event_hook(l, type, info);
	if (chimney_indicate_event(layer, e->upper, type,
				   l->change_forward ? info + 1 : info))
		atomic_inc(&l->forward_errors);
	if (l->event_hook_after)
		l->event_hook_after(l, type, info);
}

static int ct_im_initiate(struct chimney_layer *layer,
			  struct chimney_offload_handle *upper,
			  const struct chimney_conn_info *info)
{
	struct ct_entry *e = kzalloc(sizeof(*e), GFP_KERNEL);
	int err;

	ct_check_process(to_ct(layer)->st);
	if (!e)
		return -ENOMEM;
	e->upper = upper;
	err = chimney_offload_forward_initiate(layer, upper, &e->own);
	if (err)
		kfree(e);
	return err;
}

static void ct_im_initiate_complete(struct chimney_layer *layer,
				    struct chimney_offload_handle *own,
				    int status)
{
	struct ct_entry *e = container_of(own, struct ct_entry, own);
	struct chimney_offload_handle *upper = e->upper;

	if (!status && to_ct(layer)->fail_up) {
		/*
		 * Fails upwards what succeeded below: keeps its entry, the
		 * framework terminates below it (header, initiate_complete).
		 */
		e->failed_up = true;
		e->upper = NULL;
		chimney_initiate_offload_complete(layer, upper, -ENOMEM);
		return;
	}
	if (!status)
		upper->lower_context = e;
	else
		kfree(e);
	chimney_initiate_offload_complete(layer, upper, status);
}

static int ct_im_terminate(struct chimney_layer *layer, void *context)
{
	struct ct_layer *l = to_ct(layer);
	struct ct_entry *e = context;

	ct_check_process(l->st);
	atomic_inc(&l->terminate_calls);
	if (l->refuse_terminate_until &&
	    time_before(jiffies, l->refuse_terminate_until))
		return -EAGAIN;
	if (l->terminate_hook)
		l->terminate_hook(l);
	return chimney_offload_forward_terminate(layer, &e->own);
}

static void ct_im_terminate_complete(struct chimney_layer *layer,
				     struct chimney_offload_handle *own,
				     int status)
{
	struct ct_entry *e = container_of(own, struct ct_entry, own);
	struct chimney_offload_handle *upper = e->upper;
	bool failed_up = e->failed_up;

	ct_check_process(to_ct(layer)->st);
	atomic_inc(&to_ct(layer)->terminate_completes);
	kfree(e);
	if (!failed_up)
		chimney_terminate_offload_complete(layer, upper, status);
}

static const struct chimney_layer_ops ct_im_ops = {
	.event = ct_im_event,
	.initiate = ct_im_initiate,
	.initiate_complete = ct_im_initiate_complete,
	.terminate = ct_im_terminate,
	.terminate_complete = ct_im_terminate_complete,
	.unbind = ct_unbind,
};

/* Target: completes at once, or when the test says so (async). */

static int ct_target_initiate(struct chimney_layer *layer,
			      struct chimney_offload_handle *upper,
			      const struct chimney_conn_info *info)
{
	struct ct_stack *st = to_ct(layer)->st;
	struct ct_tconn *tc = kzalloc(sizeof(*tc), GFP_KERNEL);

	ct_check_process(st);
	if (!tc)
		return -ENOMEM;
	atomic_inc(&st->tconns);
	tc->upper = upper;
	tc->id = info->id;
	st->last_tconn = tc;
	if (st->async) {
		st->pending_initiate = tc;
		return 0;
	}
	upper->lower_context = tc;
	chimney_initiate_offload_complete(layer, upper, 0);
	return 0;
}

static int ct_target_terminate(struct chimney_layer *layer, void *context)
{
	struct ct_stack *st = to_ct(layer)->st;
	struct ct_tconn *tc = context;
	struct chimney_offload_handle *upper = tc->upper;

	ct_check_process(st);
	if (st->async) {
		st->pending_terminate = tc;
		return 0;
	}
	if (st->last_tconn == tc)
		st->last_tconn = NULL;
	kfree(tc);
	atomic_dec(&st->tconns);
	/* Completing from an atomic context is allowed: "any context". */
	if (st->complete_in_rcu) {
		rcu_read_lock();
		chimney_terminate_offload_complete(layer, upper, 0);
		rcu_read_unlock();
	} else {
		chimney_terminate_offload_complete(layer, upper, 0);
	}
	return 0;
}

static const struct chimney_layer_ops ct_target_ops = {
	.initiate = ct_target_initiate,
	.terminate = ct_target_terminate,
	.unbind = ct_unbind,
};

int ct_target_complete_initiate(struct ct_stack *st, int status)
{
	struct ct_tconn *tc = st->pending_initiate;

	if (!tc)
		return -ENOENT;
	st->pending_initiate = NULL;
	if (!status)
		tc->upper->lower_context = tc;
	chimney_initiate_offload_complete(&st->target.layer, tc->upper, status);
	if (status) {
		if (st->last_tconn == tc)
			st->last_tconn = NULL;
		kfree(tc);
		atomic_dec(&st->tconns);
	}
	return 0;
}

int ct_target_complete_terminate(struct ct_stack *st, int status)
{
	struct ct_tconn *tc = st->pending_terminate;
	struct chimney_offload_handle *upper;

	if (!tc)
		return -ENOENT;
	st->pending_terminate = NULL;
	upper = tc->upper;
	if (st->last_tconn == tc)
		st->last_tconn = NULL;
	kfree(tc);
	atomic_dec(&st->tconns);
	chimney_terminate_offload_complete(&st->target.layer, upper, status);
	return 0;
}

static void ct_stack_release(void *data)
{
	struct ct_stack *st = data;
	int i;

	chimney_layer_unregister(&st->top.layer);
	for (i = 0; i < st->nr_im; i++)
		chimney_layer_unregister(&st->im[i].layer);
	chimney_layer_unregister(&st->target.layer);
}

static void ct_layer_init(struct ct_stack *st, struct ct_layer *l, int index,
			  const char *name, const struct chimney_layer_ops *ops)
{
	l->st = st;
	l->index = index;
	l->layer.name = name;
	l->layer.ops = ops;
}

static struct ct_stack *ct_stack_alloc(struct kunit *test,
				       struct net_device *dev, int nr_im)
{
	struct ct_stack *st;

	KUNIT_ASSERT_LE(test, nr_im, CT_MAX_LAYERS);
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->test = test;
	st->dev = dev;
	st->nr_im = nr_im;
	spin_lock_init(&st->lock);
	return st;
}

/*
 * protocol, @nr_im intermediates and a target on @dev, registered in an
 * order that exercises the binding rule: target, protocol, then each
 * intermediate, which binds right below the protocol.
 */
struct ct_stack *ct_stack_create(struct kunit *test, struct net_device *dev,
				 int nr_im)
{
	static const char * const im_names[CT_MAX_LAYERS] = {
		"ct_im0", "ct_im1", "ct_im2", "ct_im3", "ct_im4", "ct_im5",
		"ct_im6", "ct_im7", "ct_im8", "ct_im9", "ct_im10", "ct_im11",
	};
	struct ct_stack *st = ct_stack_alloc(test, dev, nr_im);
	int i;

	ct_layer_init(st, &st->top, 0, "ct_top", &ct_top_ops);
	ct_layer_init(st, &st->target, nr_im + 1, "ct_target", &ct_target_ops);
	for (i = 0; i < nr_im; i++)
		ct_layer_init(st, &st->im[i], nr_im - i, im_names[i],
			      &ct_im_ops);

	KUNIT_ASSERT_EQ(test, chimney_layer_register(dev, &st->target.layer,
						     CHIMNEY_LAYER_TARGET), 0);
	KUNIT_ASSERT_EQ(test, chimney_layer_register(dev, &st->top.layer,
						     CHIMNEY_LAYER_PROTOCOL), 0);
	for (i = 0; i < nr_im; i++)
		KUNIT_ASSERT_EQ(test,
				chimney_layer_register(dev, &st->im[i].layer,
						       CHIMNEY_LAYER_INTERMEDIATE),
				0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_stack_release,
							st), 0);
	return st;
}

/*
 * Only @nr_im intermediate layers, bound into a stack someone else owns
 * (chimney's own host and target, for instance).
 */
struct ct_stack *ct_im_only(struct kunit *test, struct net_device *dev,
			    int nr_im)
{
	struct ct_stack *st = ct_stack_alloc(test, dev, nr_im);
	int i;

	for (i = 0; i < nr_im; i++) {
		ct_layer_init(st, &st->im[i], nr_im - i, "ct_im", &ct_im_ops);
		KUNIT_ASSERT_EQ(test,
				chimney_layer_register(dev, &st->im[i].layer,
						       CHIMNEY_LAYER_INTERMEDIATE),
				0);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_stack_release,
							st), 0);
	return st;
}

/* The state of connection @id, TERMINATED once it is gone. */
enum chimney_conn_state ct_conn_state(u64 id)
{
	struct chimney_conn *conn = chimney_conn_get_id(id);
	enum chimney_conn_state s;

	if (!conn)
		return CHIMNEY_CONN_TERMINATED;
	s = chimney_conn_state(conn);
	chimney_conn_put(conn);
	return s;
}

void ct_tuple4(struct chimney_tuple *t, u32 saddr, u16 sport, u32 daddr,
	       u16 dport)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->saddr.ip = htonl(saddr);
	t->daddr.ip = htonl(daddr);
	t->sport = htons(sport);
	t->dport = htons(dport);
}

/*
 * Upload what is left before the test's memory goes: registered after
 * @tcb was allocated, so it runs before @tcb is freed (KUnit runs actions
 * in reverse order), and the protocol layer's handles are still there.
 */
static void ct_stack_upload(void *data)
{
	struct ct_stack *st = data;

	chimney_layer_unregister(&st->top.layer);
}

int ct_offload(struct ct_stack *st, struct ct_tcb *tcb, u16 sport)
{
	struct chimney_tuple t;

	kunit_add_action(st->test, ct_stack_upload, st);
	ct_tuple4(&t, 0x0a000001, sport, 0x0a000002, 80);
	tcb->initiate_status = 1;
	return chimney_offload_initiate(&st->top.layer, &t, &tcb->handle);
}
