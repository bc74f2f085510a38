// SPDX-License-Identifier: GPL-2.0
/*
 * The rules the framework enforces (spec section c and f): each illegal
 * indication or completion is rejected with an error, counted under its
 * rule, and changes nothing; API misuse gets a clear errno.
 */

#include <kunit/test.h>
#include <linux/irq_work.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "offload.h"
#include "stats.h"
#include "util.h"

static s64 ct_rule(enum chimney_rule rule)
{
	return chimney_stats_read(chimney_global_stats, rules[rule]);
}

/* Raise from the target on @tc and expect @err, counted under @rule. */
static void ct_expect_rejected(struct kunit *test, struct ct_stack *st,
			       struct chimney_offload_handle *upper, u32 type,
			       u32 info, int err, enum chimney_rule rule)
{
	s64 before = ct_rule(rule);
	int n = st->nr_log;

	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&st->target.layer, upper,
						     type, info), err);
	KUNIT_EXPECT_EQ_MSG(test, ct_rule(rule), before + 1, "rule %s",
			    chimney_rule_name(rule));
	KUNIT_EXPECT_EQ(test, st->nr_log, n);
}

struct ct_fixture {
	struct ct_stack *st;
	struct ct_tcb *tcb;
	struct ct_tconn *tc;
};

static void ct_fixture(struct kunit *test, struct ct_fixture *f, int nr_im)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");

	f->st = ct_stack_create(test, dev, nr_im);
	f->tcb = kunit_kzalloc(test, sizeof(*f->tcb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->tcb);
	KUNIT_ASSERT_EQ(test, ct_offload(f->st, f->tcb, 2000), 0);
	f->tc = f->st->last_tconn;
	KUNIT_ASSERT_NOT_NULL(test, f->tc);
}

static void ct_fixture_end(struct kunit *test, struct ct_fixture *f)
{
	int err = chimney_offload_terminate(&f->st->top.layer, &f->tcb->handle);

	KUNIT_EXPECT_EQ(test, err, 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, f->tcb->terminated);
}

static void chimney_rule_bad_type(struct kunit *test)
{
	struct ct_fixture f;

	ct_fixture(test, &f, 0);
	ct_expect_rejected(test, f.st, f.tc->upper, 0, 0, -EINVAL,
			   CHIMNEY_RULE_BAD_TYPE);
	ct_expect_rejected(test, f.st, f.tc->upper, 5, 0, -EINVAL,
			   CHIMNEY_RULE_BAD_TYPE);
	ct_expect_rejected(test, f.st, f.tc->upper, U32_MAX, 0, -EINVAL,
			   CHIMNEY_RULE_BAD_TYPE);
	ct_fixture_end(test, &f);
}

static void chimney_rule_bad_reason(struct kunit *test)
{
	struct ct_fixture f;

	ct_fixture(test, &f, 0);
	ct_expect_rejected(test, f.st, f.tc->upper, CHIMNEY_EVENT_RETRIEVE, 0,
			   -EINVAL, CHIMNEY_RULE_BAD_REASON);
	ct_expect_rejected(test, f.st, f.tc->upper, CHIMNEY_EVENT_RETRIEVE,
			   CHIMNEY_UPLOAD_REASON_MAX, -EINVAL,
			   CHIMNEY_RULE_BAD_REASON);
	/* The connection is untouched: a valid retrieve still goes through. */
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer,
						     f.tc->upper,
						     CHIMNEY_EVENT_RETRIEVE,
						     CHIMNEY_UPLOAD_SMALL_IO), 0);
	ct_fixture_end(test, &f);
}

/* Before the initiate completion has returned, nothing is legal. */
static void chimney_rule_before_initiate_complete(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct ct_tconn *tc;
	u32 type;

	st->async = true;
	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 2001), 0);
	tc = st->pending_initiate;
	KUNIT_ASSERT_NOT_NULL(test, tc);
	for (type = 1; type <= CHIMNEY_EVENT_MAX; type++)
		ct_expect_rejected(test, st, tc->upper, type,
				   type == CHIMNEY_EVENT_RETRIEVE ?
				   CHIMNEY_UPLOAD_UPLOAD_REQUESTED : 0,
				   -EPROTO, CHIMNEY_RULE_NOT_OFFLOADED);
	/* Terminating a connection still being offloaded is refused. */
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), -EBUSY);

	KUNIT_ASSERT_EQ(test, ct_target_complete_initiate(st, 0), 0);
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&st->target.layer,
						     tc->upper,
						     CHIMNEY_EVENT_ABORT, 0), 0);
	st->async = false;
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, tcb->terminated);
}

/* From the terminate request on, and after it completed, nothing is legal. */
static void chimney_rule_after_terminate(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");
	struct ct_stack *st = ct_stack_create(test, dev, 0);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct chimney_offload_handle *upper;
	struct ct_tconn *tc;

	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 2002), 0);
	tc = st->last_tconn;
	upper = tc->upper;
	st->async = true;
	KUNIT_ASSERT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), 0);
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle),
			-EALREADY);
	ct_expect_rejected(test, st, upper, CHIMNEY_EVENT_DISCONNECT, 0,
			   -EPROTO, CHIMNEY_RULE_TERMINATING);
	KUNIT_ASSERT_EQ(test, ct_target_complete_terminate(st, 0), 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, tcb->terminated);
	/* The stale handle (memory still ours) is recognised, not followed. */
	ct_expect_rejected(test, st, upper, CHIMNEY_EVENT_ABORT, 0, -ENOENT,
			   CHIMNEY_RULE_UNKNOWN_HANDLE);
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), -EINVAL);
}

static void chimney_rule_state_flags(struct kunit *test)
{
	struct ct_fixture f;
	struct chimney_offload_handle *up;

	ct_fixture(test, &f, 0);
	up = f.tc->upper;
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer, up,
						     CHIMNEY_EVENT_DISCONNECT,
						     0), 0);
	ct_expect_rejected(test, f.st, up, CHIMNEY_EVENT_DISCONNECT, 0,
			   -EPROTO, CHIMNEY_RULE_DUPLICATE_DISCONNECT);
	/* Half closed: optional retrieve barred, mandatory allowed. */
	ct_expect_rejected(test, f.st, up, CHIMNEY_EVENT_RETRIEVE,
			   CHIMNEY_UPLOAD_LOW_ACTIVITY, -EPROTO,
			   CHIMNEY_RULE_HALF_CLOSED_RETRIEVE);
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer, up,
						     CHIMNEY_EVENT_RETRIEVE,
						     CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION),
			0);
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer, up,
						     CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
						     4096), 0);
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer, up,
						     CHIMNEY_EVENT_ABORT, 0), 0);
	/* After abort: nothing more. */
	ct_expect_rejected(test, f.st, up, CHIMNEY_EVENT_RETRIEVE,
			   CHIMNEY_UPLOAD_HARDWARE_FAILURE, -EPROTO,
			   CHIMNEY_RULE_AFTER_ABORT);
	ct_expect_rejected(test, f.st, up, CHIMNEY_EVENT_ABORT, 0, -EPROTO,
			   CHIMNEY_RULE_AFTER_ABORT);
	ct_fixture_end(test, &f);
}

static void chimney_rule_wrong_layer(struct kunit *test)
{
	struct ct_fixture f;

	ct_fixture(test, &f, 1);
	/* The target may only indicate on the handle of the layer above it. */
	ct_expect_rejected(test, f.st, &f.tcb->handle, CHIMNEY_EVENT_ABORT, 0,
			   -EINVAL, CHIMNEY_RULE_WRONG_LAYER);
	/* An intermediate layer may only forward from inside its upcall. */
	{
		s64 before = ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH);

		KUNIT_EXPECT_EQ(test,
				chimney_indicate_event(&f.st->im[0].layer,
						       &f.tcb->handle,
						       CHIMNEY_EVENT_ABORT, 0),
				-EPROTO);
		KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH),
				before + 1);
	}
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(NULL, f.tc->upper,
						     CHIMNEY_EVENT_ABORT, 0),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer, NULL,
						     CHIMNEY_EVENT_ABORT, 0),
			-ENOENT);
	ct_fixture_end(test, &f);
}

/*
 * Inside its upcall, an intermediate layer forwards the event it handles
 * once, unchanged, on the connection it arrived on, as itself: a changed
 * type, another connection's handle, another layer, a second forward are
 * each refused and leave the upcall's frame to the one right forward. The
 * top, with nobody above it, forwards nothing, not even on its own handle.
 */
struct ct_frame_probe {
	struct ct_stack *st;
	struct chimney_offload_handle *fwd;	/* connection A, hop above */
	struct chimney_offload_handle *other;	/* connection B, same hop */
	struct chimney_offload_handle *top_own;	/* connection A, hop 0 */
	int changed_type;
	int other_conn;
	int other_layer;
	int twice;
	int top;
};

static struct ct_frame_probe *ct_frame_probe;

static void ct_frame_before(struct ct_layer *l, u32 type, u32 info)
{
	struct ct_frame_probe *p = ct_frame_probe;

	p->changed_type = chimney_indicate_event(&l->layer, p->fwd,
						 CHIMNEY_EVENT_DISCONNECT,
						 info);
	p->other_conn = chimney_indicate_event(&l->layer, p->other, type, info);
	p->other_layer = chimney_indicate_event(&p->st->im[1].layer, p->fwd,
						type, info);
}

static void ct_frame_after(struct ct_layer *l, u32 type, u32 info)
{
	struct ct_frame_probe *p = ct_frame_probe;

	p->twice = chimney_indicate_event(&l->layer, p->fwd, type, info);
}

/* The top has no layer above: its own handle is no forward either. */
static void ct_frame_top(struct ct_stack *st)
{
	struct ct_frame_probe *p = ct_frame_probe;

	p->top = chimney_indicate_event(&st->top.layer, p->top_own,
					CHIMNEY_EVENT_ABORT, 0);
}

static struct chimney_offload_handle *ct_im_upper(struct ct_tconn *tc)
{
	return container_of(tc->upper, struct ct_entry, own)->upper;
}

static void chimney_rule_forward_frame(struct kunit *test)
{
	s64 mismatch = ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH);
	s64 wrong = ct_rule(CHIMNEY_RULE_WRONG_LAYER);
	struct ct_frame_probe *p;
	struct ct_tcb *tcb_b;
	struct ct_fixture f;

	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	tcb_b = kunit_kzalloc(test, sizeof(*tcb_b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, tcb_b);
	/* top, im[1], im[0], target: im[0] forwards to im[1]'s handle. */
	ct_fixture(test, &f, 2);
	KUNIT_ASSERT_EQ(test, ct_offload(f.st, tcb_b, 2001), 0);
	p->st = f.st;
	p->fwd = ct_im_upper(f.tc);
	p->other = ct_im_upper(f.st->last_tconn);
	KUNIT_ASSERT_PTR_NE(test, p->fwd, p->other);
	p->top_own = &f.tcb->handle;
	ct_frame_probe = p;
	f.st->im[0].event_hook = ct_frame_before;
	f.st->im[0].event_hook_after = ct_frame_after;
	f.st->top_hook = ct_frame_top;

	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&f.st->target.layer,
						     f.tc->upper,
						     CHIMNEY_EVENT_ABORT, 0),
			0);
	f.st->im[0].event_hook = NULL;
	f.st->im[0].event_hook_after = NULL;
	f.st->top_hook = NULL;

	KUNIT_EXPECT_EQ(test, p->changed_type, -EPROTO);
	KUNIT_EXPECT_EQ(test, p->other_conn, -EPROTO);
	KUNIT_EXPECT_EQ(test, p->other_layer, -EINVAL);
	KUNIT_EXPECT_EQ(test, p->twice, -EPROTO);
	KUNIT_EXPECT_EQ(test, p->top, -EINVAL);
	/* The right forward, after three refusals, still went through. */
	KUNIT_EXPECT_EQ(test, atomic_read(&f.st->im[0].forward_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f.st->im[1].forward_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f.st->top_events), 1);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH),
			mismatch + 3);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_WRONG_LAYER), wrong + 2);
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&f.st->top.layer,
							&tcb_b->handle), 0);
	ct_fixture_end(test, &f);
	KUNIT_EXPECT_TRUE(test, tcb_b->terminated);
}

static void chimney_rule_bad_completion(struct kunit *test)
{
	struct ct_fixture f;
	s64 before;

	ct_fixture(test, &f, 0);
	before = ct_rule(CHIMNEY_RULE_BAD_COMPLETION);
	/* A second initiate completion, and a terminate nobody asked for. */
	chimney_initiate_offload_complete(&f.st->target.layer, f.tc->upper, 0);
	chimney_terminate_offload_complete(&f.st->target.layer, f.tc->upper, 0);
	chimney_initiate_offload_complete(&f.st->top.layer, &f.tcb->handle, 0);
	chimney_terminate_offload_complete(NULL, NULL, 0);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_BAD_COMPLETION), before + 4);
	KUNIT_EXPECT_EQ(test, f.st->initiate_completes, 1);
	KUNIT_EXPECT_EQ(test, f.st->terminate_completes, 0);
	KUNIT_EXPECT_FALSE(test, f.tcb->terminated);
	ct_fixture_end(test, &f);
}

static void ct_nop_event(struct chimney_layer *l,
			 struct chimney_offload_handle *h, u32 t, u32 i)
{
}

static void ct_nop_complete(struct chimney_layer *l,
			    struct chimney_offload_handle *h, int s)
{
}

static const struct chimney_layer_ops ct_partial_ops = {
	.event = ct_nop_event,
	.initiate_complete = ct_nop_complete,
};

static const struct chimney_layer_ops ct_top_like_ops = {
	.event = ct_nop_event,
	.initiate_complete = ct_nop_complete,
	.terminate_complete = ct_nop_complete,
};

static int ct_nop_initiate(struct chimney_layer *l,
			   struct chimney_offload_handle *u,
			   const struct chimney_conn_info *i)
{
	return -EOPNOTSUPP;
}

static int ct_nop_terminate(struct chimney_layer *l, void *c)
{
	return -EOPNOTSUPP;
}

static const struct chimney_layer_ops ct_im_like_ops = {
	.event = ct_nop_event,
	.initiate = ct_nop_initiate,
	.initiate_complete = ct_nop_complete,
	.terminate = ct_nop_terminate,
	.terminate_complete = ct_nop_complete,
};

/* Registration misuse: clear errors, and the stack stays as it was. */
static void chimney_rule_registration(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");
	struct chimney_layer bad = { .name = "bad", .ops = &ct_partial_ops };
	struct chimney_layer top2 = { .name = "top2", .ops = &ct_top_like_ops };
	struct chimney_layer noname = { .ops = &ct_top_like_ops };
	struct chimney_layer im = { .name = "im", .ops = &ct_im_like_ops };
	struct ct_fixture f;

	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &bad,
						     CHIMNEY_LAYER_PROTOCOL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &noname,
						     CHIMNEY_LAYER_PROTOCOL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_layer_register(NULL, &top2,
						     CHIMNEY_LAYER_PROTOCOL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &top2, 7), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&top2), -EINVAL);

	f.st = ct_stack_create(test, dev, 0);
	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &top2,
						     CHIMNEY_LAYER_PROTOCOL),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &f.st->top.layer,
						     CHIMNEY_LAYER_PROTOCOL),
			-EBUSY);
	f.tcb = kunit_kzalloc(test, sizeof(*f.tcb), GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ct_offload(f.st, f.tcb, 2003), 0);
	/* Layers are frozen while a connection is offloaded. */
	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &im,
						     CHIMNEY_LAYER_INTERMEDIATE),
			-EBUSY);
	KUNIT_EXPECT_NULL(test, im.stack);
	/* Leaving with connections live uploads them first. */
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&f.st->target.layer), 0);
	KUNIT_EXPECT_TRUE(test, f.tcb->terminated);
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&f.st->target.layer),
			-EINVAL);
}

/* A stack holds at most CHIMNEY_MAX_DEPTH layers (the per-CPU upcall frames). */
static void chimney_rule_max_depth(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");
	struct chimney_layer *im;
	int i;

	im = kunit_kcalloc(test, CHIMNEY_MAX_DEPTH + 1, sizeof(*im), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, im);
	for (i = 0; i <= CHIMNEY_MAX_DEPTH; i++) {
		im[i].name = "im";
		im[i].ops = &ct_im_like_ops;
	}
	for (i = 0; i < CHIMNEY_MAX_DEPTH; i++)
		KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &im[i],
							     CHIMNEY_LAYER_INTERMEDIATE),
				0);
	KUNIT_EXPECT_EQ(test, chimney_layer_register(dev, &im[i],
						     CHIMNEY_LAYER_INTERMEDIATE),
			-ENOSPC);
	for (i = 0; i < CHIMNEY_MAX_DEPTH; i++)
		KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&im[i]), 0);
}

/* Initiate misuse from a protocol layer. */
static void chimney_rule_initiate_misuse(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");
	struct ct_stack *st = ct_stack_create(test, dev, 0);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct ct_tcb *dup = kunit_kzalloc(test, sizeof(*dup), GFP_KERNEL);
	struct chimney_tuple t;
	unsigned int before = chimney_table_count();

	ct_tuple4(&t, 1, 1, 2, 2);
	t.family = AF_UNIX;
	KUNIT_EXPECT_EQ(test, chimney_offload_initiate(&st->top.layer, &t,
						       &dup->handle),
			-EAFNOSUPPORT);
	ct_tuple4(&t, 1, 0, 2, 2);
	KUNIT_EXPECT_EQ(test, chimney_offload_initiate(&st->top.layer, &t,
						       &dup->handle), -EINVAL);
	ct_tuple4(&t, 1, 1, 2, 2);
	KUNIT_EXPECT_EQ(test, chimney_offload_initiate(&st->target.layer, &t,
						       &dup->handle), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_offload_initiate(NULL, &t, &dup->handle),
			-EINVAL);

	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 2004), 0);
	/* Same 4-tuple on the same device: refused, table unchanged. */
	KUNIT_EXPECT_EQ(test, ct_offload(st, dup, 2004), -EEXIST);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + 1);
	/* A handle already in use. */
	KUNIT_EXPECT_EQ(test, ct_offload(st, tcb, 2005), -EBUSY);
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&dup->handle), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), 0);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
}

/* A stack without a target cannot offload (NDIS_STATUS_NOT_SUPPORTED). */
static void chimney_rule_no_target(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrules%d");
	struct chimney_layer top = { .name = "lonely", .ops = &ct_top_like_ops };
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct chimney_tuple t;

	ct_tuple4(&t, 1, 1, 2, 2);
	KUNIT_ASSERT_EQ(test, chimney_layer_register(dev, &top,
						     CHIMNEY_LAYER_PROTOCOL), 0);
	KUNIT_EXPECT_EQ(test, chimney_offload_initiate(&top, &t, &tcb->handle),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&top), 0);
}

struct ct_irq {
	struct irq_work work;
	struct ct_fixture *f;
	int err;
	bool hardirq;
};

static void ct_irq_raise(struct irq_work *work)
{
	struct ct_irq *ci = container_of(work, struct ct_irq, work);

	ci->hardirq = in_hardirq();
	ci->err = chimney_indicate_event(&ci->f->st->target.layer,
					 ci->f->tc->upper, CHIMNEY_EVENT_ABORT, 0);
}

/* Hard interrupt context is above DISPATCH_LEVEL: refused, not delivered. */
static void chimney_rule_hardirq(struct kunit *test)
{
	struct ct_irq *ci = kunit_kzalloc(test, sizeof(*ci), GFP_KERNEL);
	struct ct_fixture f;
	s64 before;

	KUNIT_ASSERT_NOT_NULL(test, ci);
	ct_fixture(test, &f, 0);
	ci->f = &f;
	init_irq_work(&ci->work, ct_irq_raise);
	before = ct_rule(CHIMNEY_RULE_HARDIRQ);
	KUNIT_ASSERT_TRUE(test, irq_work_queue(&ci->work));
	irq_work_sync(&ci->work);
	if (!ci->hardirq)
		kunit_skip(test, "irq_work did not run in hard interrupt context");
	KUNIT_EXPECT_EQ(test, ci->err, -EPERM);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_HARDIRQ), before + 1);
	KUNIT_EXPECT_EQ(test, f.st->nr_log, 0);
	ct_fixture_end(test, &f);
}

static void chimney_rule_status_routing(struct kunit *test)
{
	struct ct_fixture f;

	ct_fixture(test, &f, 2);
	/* No layer has a status op: delivered nowhere, and harmless. */
	chimney_indicate_status(&f.st->target.layer, CHIMNEY_STATUS_UPLOAD_ALL);
	chimney_indicate_status(NULL, CHIMNEY_STATUS_UPLOAD_ALL);
	KUNIT_EXPECT_FALSE(test, f.tcb->terminated);
	ct_fixture_end(test, &f);
}

static struct kunit_case chimney_rules_cases[] = {
	KUNIT_CASE(chimney_rule_bad_type),
	KUNIT_CASE(chimney_rule_bad_reason),
	KUNIT_CASE(chimney_rule_before_initiate_complete),
	KUNIT_CASE(chimney_rule_after_terminate),
	KUNIT_CASE(chimney_rule_state_flags),
	KUNIT_CASE(chimney_rule_wrong_layer),
	KUNIT_CASE(chimney_rule_forward_frame),
	KUNIT_CASE(chimney_rule_bad_completion),
	KUNIT_CASE(chimney_rule_registration),
	KUNIT_CASE(chimney_rule_max_depth),
	KUNIT_CASE(chimney_rule_initiate_misuse),
	KUNIT_CASE(chimney_rule_no_target),
	KUNIT_CASE(chimney_rule_status_routing),
	KUNIT_CASE(chimney_rule_hardirq),
	{}
};

static struct kunit_suite chimney_rules_suite = {
	.name = "chimney_rules",
	.test_cases = chimney_rules_cases,
};

kunit_test_suite(chimney_rules_suite);
