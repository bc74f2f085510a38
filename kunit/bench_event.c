// SPDX-License-Identifier: GPL-2.0
/*
 * Event path figures, through the public API only: a bench target raising
 * chimney_indicate_event() at the bottom, intermediate layers forwarding
 * from their event op, a protocol layer counting on top. Baselines, raised
 * by the same loop over the same connections: a chain of plain indirect
 * calls of the same depth (each hop loads the next function pointer with
 * READ_ONCE() and calls it, so nothing can be inlined or devirtualised),
 * and atomic_notifier_call_chain() with one subscriber.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/notifier.h>
#include <linux/slab.h>

#include "bench.h"

/* Events are raised this many at a time with BH disabled (softirq-like). */
#define CB_BATCH	256

/*
 * Run @stmt @n times, CB_BATCH at a time with BH disabled, @c going round
 * robin over [0, @count) and @i counting the events; evaluates to the
 * picoseconds per event. A macro, not a function taking a callback: an
 * indirect call per event would sit inside every figure and its baseline.
 */
#define cb_time_events(n, count, c, i, stmt)				\
({									\
	unsigned int __n = (n), __count = (count), __end;		\
	u64 __t0 = cb_clock();						\
									\
	for ((i) = 0, (c) = 0; (i) < __n;) {				\
		__end = min(__n, (i) + CB_BATCH);			\
		local_bh_disable();					\
		for (; (i) < __end; (i)++) {				\
			stmt;						\
			if (++(c) == __count)				\
				(c) = 0;				\
		}							\
		local_bh_enable();					\
		cond_resched();						\
	}								\
	cb_ps(cb_clock() - __t0, __n);					\
})
#define CB_MAX_IM	(CHIMNEY_MAX_DEPTH - 2)

static const unsigned int cb_depths[] = { 2, 3, 5, 9 };
#define CB_NR_DEPTHS	ARRAY_SIZE(cb_depths)
#define CB_MAX_ROUNDS	32

struct cb_stack;

struct cb_layer {
	struct chimney_layer layer;
	struct cb_stack *st;
	bool registered;
};

/* An intermediate layer's per-connection entry. */
struct cb_entry {
	struct chimney_offload_handle own;
	struct chimney_offload_handle *upper;
};

/* The bench target's per-connection context. */
struct cb_tconn {
	struct chimney_offload_handle *upper;
};

struct cb_stack {
	struct net_device *dev;
	unsigned int depth;
	struct cb_layer top;
	struct cb_layer im[CB_MAX_IM];
	struct cb_layer target;
	unsigned int nr_conns;
	unsigned int nr_tconns;		/* initiates the target took */
	unsigned int terminated;	/* terminates the target took */
	struct cb_tcb *tcbs;
	struct cb_tconn *tconns;	/* in initiate order */
};

static struct cb_layer *to_cb(struct chimney_layer *layer)
{
	return container_of(layer, struct cb_layer, layer);
}

/* Protocol layer: counts, per connection (no shared cache line). */

static void cb_top_event(struct chimney_layer *layer,
			 struct chimney_offload_handle *own, u32 type, u32 info)
{
	container_of(own, struct cb_tcb, handle)->events++;
}

static void cb_top_initiate_complete(struct chimney_layer *layer,
				     struct chimney_offload_handle *own,
				     int status)
{
	container_of(own, struct cb_tcb, handle)->status = status;
}

static void cb_top_terminate_complete(struct chimney_layer *layer,
				      struct chimney_offload_handle *own,
				      int status)
{
	container_of(own, struct cb_tcb, handle)->terminated = true;
}

static const struct chimney_layer_ops cb_top_ops = {
	.event = cb_top_event,
	.initiate_complete = cb_top_initiate_complete,
	.terminate_complete = cb_top_terminate_complete,
};

/* Intermediate layer: forwards everything unchanged. */

static void cb_im_event(struct chimney_layer *layer,
			struct chimney_offload_handle *own, u32 type, u32 info)
{
	struct cb_entry *e = container_of(own, struct cb_entry, own);

	chimney_indicate_event(layer, e->upper, type, info);
}

static int cb_im_initiate(struct chimney_layer *layer,
			  struct chimney_offload_handle *upper,
			  const struct chimney_conn_info *info)
{
	struct cb_entry *e = kzalloc(sizeof(*e), GFP_KERNEL);
	int err;

	if (!e)
		return -ENOMEM;
	e->upper = upper;
	err = chimney_offload_forward_initiate(layer, upper, &e->own);
	if (err)
		kfree(e);
	return err;
}

static void cb_im_initiate_complete(struct chimney_layer *layer,
				    struct chimney_offload_handle *own,
				    int status)
{
	struct cb_entry *e = container_of(own, struct cb_entry, own);
	struct chimney_offload_handle *upper = e->upper;

	if (!status)
		upper->lower_context = e;
	else
		kfree(e);
	chimney_initiate_offload_complete(layer, upper, status);
}

static int cb_im_terminate(struct chimney_layer *layer, void *context)
{
	struct cb_entry *e = context;

	return chimney_offload_forward_terminate(layer, &e->own);
}

static void cb_im_terminate_complete(struct chimney_layer *layer,
				     struct chimney_offload_handle *own,
				     int status)
{
	struct cb_entry *e = container_of(own, struct cb_entry, own);
	struct chimney_offload_handle *upper = e->upper;

	kfree(e);
	chimney_terminate_offload_complete(layer, upper, status);
}

static const struct chimney_layer_ops cb_im_ops = {
	.event = cb_im_event,
	.initiate = cb_im_initiate,
	.initiate_complete = cb_im_initiate_complete,
	.terminate = cb_im_terminate,
	.terminate_complete = cb_im_terminate_complete,
};

/* Target: completes at once; its contexts are one array, in initiate order. */

static int cb_target_initiate(struct chimney_layer *layer,
			      struct chimney_offload_handle *upper,
			      const struct chimney_conn_info *info)
{
	struct cb_stack *st = to_cb(layer)->st;
	struct cb_tconn *tc;

	if (st->nr_tconns >= st->nr_conns)
		return -ENOSPC;
	tc = &st->tconns[st->nr_tconns++];
	tc->upper = upper;
	upper->lower_context = tc;
	chimney_initiate_offload_complete(layer, upper, 0);
	return 0;
}

static int cb_target_terminate(struct chimney_layer *layer, void *context)
{
	struct cb_tconn *tc = context;

	to_cb(layer)->st->terminated++;
	chimney_terminate_offload_complete(layer, tc->upper, 0);
	return 0;
}

static const struct chimney_layer_ops cb_target_ops = {
	.initiate = cb_target_initiate,
	.terminate = cb_target_terminate,
};

static void cb_stack_release(void *data)
{
	struct cb_stack *st = data;
	int i;

	/* The protocol layer first: that uploads every connection. */
	if (st->top.registered)
		chimney_layer_unregister(&st->top.layer);
	for (i = 0; i < CB_MAX_IM; i++)
		if (st->im[i].registered)
			chimney_layer_unregister(&st->im[i].layer);
	if (st->target.registered)
		chimney_layer_unregister(&st->target.layer);
	kvfree(st->tconns);
	kvfree(st->tcbs);
}

static void cb_register(struct kunit *test, struct cb_stack *st,
			struct cb_layer *l, const char *name,
			const struct chimney_layer_ops *ops,
			enum chimney_layer_role role)
{
	l->st = st;
	l->layer.name = name;
	l->layer.ops = ops;
	KUNIT_ASSERT_EQ(test, chimney_layer_register(st->dev, &l->layer, role), 0);
	l->registered = true;
}

/*
 * A stack of @depth layers (target, depth - 2 intermediates, protocol) on a
 * device of its own, with @nr_conns connections offloaded through it.
 */
static struct cb_stack *cb_stack_create(struct kunit *test, unsigned int depth,
					unsigned int nr_conns)
{
	struct chimney_tuple t;
	struct cb_stack *st;
	unsigned int i;

	KUNIT_ASSERT_GE(test, depth, 2);
	KUNIT_ASSERT_LE(test, depth - 2, CB_MAX_IM);
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->dev = cb_netdev(test, "cbench%d");
	st->depth = depth;
	st->nr_conns = nr_conns;
	st->tcbs = kvcalloc(nr_conns, sizeof(*st->tcbs), GFP_KERNEL);
	st->tconns = kvcalloc(nr_conns, sizeof(*st->tconns), GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cb_stack_release,
							st), 0);
	KUNIT_ASSERT_NOT_NULL(test, st->tcbs);
	KUNIT_ASSERT_NOT_NULL(test, st->tconns);

	cb_register(test, st, &st->target, "cb_target", &cb_target_ops,
		    CHIMNEY_LAYER_TARGET);
	cb_register(test, st, &st->top, "cb_top", &cb_top_ops,
		    CHIMNEY_LAYER_PROTOCOL);
	for (i = 0; i < depth - 2; i++)
		cb_register(test, st, &st->im[i], "cb_im", &cb_im_ops,
			    CHIMNEY_LAYER_INTERMEDIATE);

	for (i = 0; i < nr_conns; i++) {
		cb_tuple(&t, i);
		st->tcbs[i].status = 1;
		KUNIT_ASSERT_EQ(test, chimney_offload_initiate(&st->top.layer, &t,
							       &st->tcbs[i].handle), 0);
		KUNIT_ASSERT_EQ(test, st->tcbs[i].status, 0);
	}
	KUNIT_ASSERT_EQ(test, st->nr_tconns, nr_conns);
	return st;
}

static u64 cb_stack_events(struct cb_stack *st)
{
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < st->nr_conns; i++)
		sum += st->tcbs[i].events;
	return sum;
}

/*
 * @n events from the bench target on connections [first, first + count),
 * round robin. Return: picoseconds per event; *@errs gets every error.
 */
static u64 cb_raise(struct cb_stack *st, unsigned int first,
		    unsigned int count, unsigned int n, int *errs)
{
	struct chimney_layer *target = &st->target.layer;
	struct cb_tconn *tc = st->tconns + first;
	unsigned int i, c;
	int err = 0;
	u64 ps;

	ps = cb_time_events(n, count, c, i,
			    err |= chimney_indicate_event(target, tc[c].upper,
							  CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
							  i));
	*errs |= err;
	return ps;
}

/* --- baseline: a chain of plain indirect calls ----------------------------------- */

/* One hop of a chain: the function a level calls. */
struct cb_hop {
	int (*fn)(const struct cb_hop *row, unsigned int level,
		  struct chimney_offload_handle *h, u32 type, u32 info);
};

/* Row d: the chain of depth d; [1..d-2] forward, [d-1] is the top. */
static struct cb_hop cb_chains[CHIMNEY_MAX_DEPTH][CHIMNEY_MAX_DEPTH];

static noinline int cb_chain_forward(const struct cb_hop *row, unsigned int level,
				     struct chimney_offload_handle *h,
				     u32 type, u32 info)
{
	int (*next)(const struct cb_hop *row, unsigned int level,
		    struct chimney_offload_handle *h, u32 type, u32 info);
	int ret;

	next = READ_ONCE(row[level + 1].fn);
	ret = next(row, level + 1, h, type, info);
	/* Keeps it a real call and return, like a layer's forward. */
	barrier();
	return ret;
}

static noinline int cb_chain_top(const struct cb_hop *row, unsigned int level,
				 struct chimney_offload_handle *h,
				 u32 type, u32 info)
{
	container_of(h, struct cb_tcb, handle)->events++;
	return 0;
}

static void cb_chain_init(unsigned int depth)
{
	unsigned int i;

	for (i = 1; i < depth - 1; i++)
		WRITE_ONCE(cb_chains[depth][i].fn, cb_chain_forward);
	WRITE_ONCE(cb_chains[depth][depth - 1].fn, cb_chain_top);
}

/*
 * As cb_raise(), through the chain of the stack's depth (depth - 1 calls),
 * on the protocol layer's connections [first, first + count).
 */
static u64 cb_chain_raise(struct cb_stack *st, unsigned int first,
			  unsigned int count, unsigned int n, int *errs)
{
	const struct cb_hop *row = cb_chains[st->depth];
	struct cb_tcb *tcbs = st->tcbs + first;
	unsigned int i, c;
	int err = 0;
	u64 ps;

	ps = cb_time_events(n, count, c, i,
			    err |= READ_ONCE(row[1].fn)(row, 1, &tcbs[c].handle,
							CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
							i));
	*errs |= err;
	return ps;
}

/* --- floor: the handle model's routing, with no check -------------------------- */

/*
 * What any implementation of the public API does per hop, with none of
 * chimney's checks: the layer below calls the framework (a direct call)
 * with the upper handle; the framework reads the owner from the handle's
 * routing word and calls its event op through its ops (two dependent
 * loads and an indirect call); a forwarding layer finds its entry and
 * calls the framework again with its own upper handle. The figures are
 * set against it to show how much of a hop is the API's shape and how
 * much chimney's checks.
 */
struct cb_rlayer;

struct cb_rhandle {
	struct cb_rlayer *owner;	/* the routing word */
	struct cb_rhandle *upper;	/* a forwarding owner's upper handle */
	atomic64_t word;		/* the connection's word (rundown) */
	u64 events;			/* counted by the top */
};

struct cb_rops {
	void (*event)(struct cb_rlayer *l, struct cb_rhandle *own, u32 type,
		      u32 info);
};

struct cb_rlayer {
	const struct cb_rops *ops;
};

static noinline void cb_route(struct cb_rhandle *upper, u32 type, u32 info)
{
	struct cb_rlayer *l = READ_ONCE(upper->owner);

	READ_ONCE(l->ops)->event(l, upper, type, info);
}

/*
 * cb_route() inside the rundown chimney's terminate needs: one
 * compare-and-exchange on the connection's word to enter the upcall (the
 * state check rides on it), one fully ordered subtraction to leave it.
 */
static noinline void cb_route_rundown(struct cb_rhandle *upper, u32 type,
				      u32 info)
{
	struct cb_rlayer *l = READ_ONCE(upper->owner);
	s64 ev = atomic64_read(&upper->word);

	while (!atomic64_try_cmpxchg(&upper->word, &ev, ev + 1))
		;
	READ_ONCE(l->ops)->event(l, upper, type, info);
	atomic64_sub_return(1, &upper->word);
}

static void cb_rforward(struct cb_rlayer *l, struct cb_rhandle *own, u32 type,
			u32 info)
{
	cb_route(own->upper, type, info);
}

static void cb_rtop(struct cb_rlayer *l, struct cb_rhandle *own, u32 type,
		    u32 info)
{
	own->events++;
}

static const struct cb_rops cb_rforward_ops = { .event = cb_rforward };
static const struct cb_rops cb_rtop_ops = { .event = cb_rtop };
static struct cb_rlayer cb_rlayers[CHIMNEY_MAX_DEPTH - 1];

/* @nr_conns connections of @depth layers: depth - 1 handles each, top first. */
struct cb_route_set {
	unsigned int depth;
	unsigned int nr_conns;
	struct cb_rhandle *h;
};

static void cb_route_release(void *data)
{
	kvfree(data);
}

static void cb_route_create(struct kunit *test, struct cb_route_set *rs,
			    unsigned int depth, unsigned int nr_conns)
{
	unsigned int nh = depth - 1, c, k;

	for (k = 0; k < ARRAY_SIZE(cb_rlayers); k++)
		cb_rlayers[k].ops = k ? &cb_rforward_ops : &cb_rtop_ops;
	rs->depth = depth;
	rs->nr_conns = nr_conns;
	rs->h = kvcalloc((size_t)nr_conns * nh, sizeof(*rs->h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rs->h);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cb_route_release,
							rs->h), 0);
	for (c = 0; c < nr_conns; c++) {
		for (k = 0; k < nh; k++) {
			rs->h[c * nh + k].owner = &cb_rlayers[k];
			if (k)
				rs->h[c * nh + k].upper = &rs->h[c * nh + k - 1];
		}
	}
}

static u64 cb_route_events(struct cb_route_set *rs)
{
	unsigned int nh = rs->depth - 1, c;
	u64 sum = 0;

	for (c = 0; c < rs->nr_conns; c++)
		sum += rs->h[c * nh].events;
	return sum;
}

/* As cb_raise(), through the routing alone (@rundown: with its atomics). */
static u64 cb_route_raise(struct cb_route_set *rs, unsigned int n,
			  bool rundown)
{
	unsigned int nh = rs->depth - 1, i, c;
	struct cb_rhandle *bottom = rs->h + nh - 1;

	if (rundown)
		return cb_time_events(n, rs->nr_conns, c, i,
				      cb_route_rundown(&bottom[c * nh],
						       CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
						       i));
	return cb_time_events(n, rs->nr_conns, c, i,
			      cb_route(&bottom[c * nh],
				       CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, i));
}

static unsigned int cb_nr_rounds(void)
{
	return clamp_t(unsigned int, cb_rounds, 1, CB_MAX_ROUNDS);
}

/*
 * Figure: cost of one extra layer hop against one plain indirect call.
 * Per round and depth d: chimney t(d) and chain b(d), per event; per extra
 * hop (t(d) - t(2)) / (d - 2), the same for the chain (one indirect call
 * plus a forward's own few instructions). Medians over the rounds of the
 * per-round estimates.
 */
void chimney_bench_hop(struct kunit *test)
{
	struct cb_stack *st[CB_NR_DEPTHS];
	struct {
		u64 t[CB_NR_DEPTHS][CB_MAX_ROUNDS];
		u64 b[CB_NR_DEPTHS][CB_MAX_ROUNDS];
		u64 f[CB_NR_DEPTHS][CB_MAX_ROUNDS];
		s64 th[CB_MAX_ROUNDS];
		s64 bh[CB_MAX_ROUNDS];
		s64 fh[CB_MAX_ROUNDS];
		struct cb_route_set rs[CB_NR_DEPTHS];
	} *m;
	unsigned int rounds = cb_nr_rounds(), r, d, hops;
	u64 raised = 0, seen = 0, routed = 0;
	int errs = 0;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	if (cb_cycles_per_ms)
		kunit_info(test, "bench: clock: cycle counter, %llu cycles per ms\n",
			   cb_cycles_per_ms);
	else
		kunit_info(test, "bench: clock: ktime_get_ns()\n");
	for (d = 0; d < CB_NR_DEPTHS; d++) {
		st[d] = cb_stack_create(test, cb_depths[d], cb_event_conns);
		cb_chain_init(cb_depths[d]);
		cb_route_create(test, &m->rs[d], cb_depths[d], cb_event_conns);
	}
	for (r = 0; r < rounds; r++) {
		for (d = 0; d < CB_NR_DEPTHS; d++) {
			m->t[d][r] = cb_raise(st[d], 0, st[d]->nr_conns, cb_events,
					   &errs);
			m->b[d][r] = cb_chain_raise(st[d], 0, st[d]->nr_conns,
						    cb_events, &errs);
			m->f[d][r] = cb_route_raise(&m->rs[d], cb_events,
						    false);
			raised += 2ULL * cb_events;
		}
	}
	KUNIT_EXPECT_EQ(test, errs, 0);
	for (d = 0; d < CB_NR_DEPTHS; d++) {
		seen += cb_stack_events(st[d]);
		routed += cb_route_events(&m->rs[d]);
	}
	KUNIT_EXPECT_EQ(test, seen, raised);
	KUNIT_EXPECT_EQ(test, routed, raised / 2);

	for (d = 0; d < CB_NR_DEPTHS; d++) {
		kunit_info(test, "bench: depth %u: chimney %s ns/event, indirect-call chain %s ns/event (median of %u x %u events)\n",
			   cb_depths[d],
			   cb_fix2(cb_median(m->t[d], rounds), 1000).s,
			   cb_fix2(cb_median(m->b[d], rounds), 1000).s,
			   rounds, cb_events);
	}
	for (d = 1; d < CB_NR_DEPTHS; d++) {
		hops = cb_depths[d] - 2;
		for (r = 0; r < rounds; r++) {
			m->th[r] = div_s64((s64)m->t[d][r] - (s64)m->t[0][r], hops);
			m->bh[r] = div_s64((s64)m->b[d][r] - (s64)m->b[0][r], hops);
		}
		kunit_info(test, "%s: depth 2..%u: per extra hop %s ns, one indirect call %s ns, ratio %sx (goal <= 2.00x)\n",
			   cb_depths[d] == 9 ? "figure: hop_vs_indirect" :
			   "bench: hop_vs_indirect",
			   cb_depths[d],
			   cb_fix2(cb_median_s(m->th, rounds), 1000).s,
			   cb_fix2(cb_median_s(m->bh, rounds), 1000).s,
			   cb_fix2(cb_median_s(m->th, rounds),
				   cb_median_s(m->bh, rounds)).s);
	}
	/* The API's shape alone, over the same depths as the figure. */
	d = CB_NR_DEPTHS - 1;
	hops = cb_depths[d] - 2;
	for (r = 0; r < rounds; r++) {
		m->th[r] = div_s64((s64)m->t[d][r] - (s64)m->t[0][r], hops);
		m->bh[r] = div_s64((s64)m->b[d][r] - (s64)m->b[0][r], hops);
		m->fh[r] = div_s64((s64)m->f[d][r] - (s64)m->f[0][r], hops);
	}
	kunit_info(test, "bench: hop_floor: depth 2..%u: the handle model's routing alone (no check) per extra hop %s ns, %sx one indirect call; chimney %sx this (depth 2: %s ns, depth %u: %s ns)\n",
		   cb_depths[d], cb_fix2(cb_median_s(m->fh, rounds), 1000).s,
		   cb_fix2(cb_median_s(m->fh, rounds),
			   cb_median_s(m->bh, rounds)).s,
		   cb_fix2(cb_median_s(m->th, rounds),
			   cb_median_s(m->fh, rounds)).s,
		   cb_fix2(cb_median(m->f[0], rounds), 1000).s, cb_depths[d],
		   cb_fix2(cb_median(m->f[d], rounds), 1000).s);
}

/* --- baseline: an atomic notifier chain with one subscriber ------------------------ */

static int cb_nb_call(struct notifier_block *nb, unsigned long type, void *data)
{
	container_of(data, struct cb_tcb, handle)->events++;
	return NOTIFY_OK;
}

static u64 cb_notifier_raise(struct atomic_notifier_head *nh,
			     struct cb_stack *st, unsigned int n)
{
	struct cb_tcb *tcbs = st->tcbs;
	unsigned int i, c;

	return cb_time_events(n, st->nr_conns, c, i,
			      atomic_notifier_call_chain(nh,
							 CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
							 &tcbs[c].handle));
}

/* Figure: a depth-2 event (target -> protocol) against a notifier chain. */
void chimney_bench_notifier(struct kunit *test)
{
	struct cb_stack *st = cb_stack_create(test, 2, cb_event_conns);
	struct notifier_block nb = { .notifier_call = cb_nb_call };
	unsigned int rounds = cb_nr_rounds(), r;
	u64 *t, *b, *f, *fr, tm, bm, fm, frm;
	struct atomic_notifier_head nh;
	struct cb_route_set *rs;
	int errs = 0;

	t = kunit_kcalloc(test, 4 * CB_MAX_ROUNDS, sizeof(*t), GFP_KERNEL);
	rs = kunit_kzalloc(test, sizeof(*rs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_NOT_NULL(test, rs);
	b = t + CB_MAX_ROUNDS;
	f = b + CB_MAX_ROUNDS;
	fr = f + CB_MAX_ROUNDS;
	cb_route_create(test, rs, 2, cb_event_conns);
	ATOMIC_INIT_NOTIFIER_HEAD(&nh);
	KUNIT_ASSERT_EQ(test, atomic_notifier_chain_register(&nh, &nb), 0);
	for (r = 0; r < rounds; r++) {
		t[r] = cb_raise(st, 0, st->nr_conns, cb_events, &errs);
		b[r] = cb_notifier_raise(&nh, st, cb_events);
		f[r] = cb_route_raise(rs, cb_events, false);
		fr[r] = cb_route_raise(rs, cb_events, true);
	}
	atomic_notifier_chain_unregister(&nh, &nb);
	KUNIT_EXPECT_EQ(test, errs, 0);
	KUNIT_EXPECT_EQ(test, cb_stack_events(st), 2ULL * rounds * cb_events);
	KUNIT_EXPECT_EQ(test, cb_route_events(rs), 2ULL * rounds * cb_events);
	tm = cb_median(t, rounds);
	bm = cb_median(b, rounds);
	fm = cb_median(f, rounds);
	frm = cb_median(fr, rounds);
	kunit_info(test, "figure: depth2_vs_notifier: chimney %s ns/event, atomic_notifier_call_chain() %s ns/event, ratio %sx (goal <= 1.00x)\n",
		   cb_fix2(tm, 1000).s, cb_fix2(bm, 1000).s, cb_fix2(tm, bm).s);
	kunit_info(test, "bench: depth2_floor: the handle model's routing alone (no check) %s ns/event, %sx the notifier; with the rundown's two atomics on the connection's word %s ns/event, %sx the notifier; chimney %sx this\n",
		   cb_fix2(fm, 1000).s, cb_fix2(fm, bm).s,
		   cb_fix2(frm, 1000).s, cb_fix2(frm, bm).s,
		   cb_fix2(tm, frm).s);
}

/* --- one CPU against two ------------------------------------------------------------ */

struct cb_worker {
	struct cb_stack *st;
	bool chain;			/* the baseline instead of chimney */
	unsigned int first;
	unsigned int count;
	unsigned int n;
	struct completion *go;
	struct completion done;
	u64 start;
	u64 end;
	int errs;
};

static int cb_worker_fn(void *data)
{
	struct cb_worker *w = data;

	wait_for_completion(w->go);
	w->start = cb_clock();
	if (w->chain)
		cb_chain_raise(w->st, w->first, w->count, w->n, &w->errs);
	else
		cb_raise(w->st, w->first, w->count, w->n, &w->errs);
	w->end = cb_clock();
	complete(&w->done);
	/* kthread_stop() needs us alive until it is called. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/*
 * @n events on each of @nr workers (CPU i, connections of half i), through
 * chimney or (@chain) through the indirect-call chain of the same depth.
 * Return: events per second over the whole run (first start, last end).
 */
static u64 cb_run_workers(struct kunit *test, struct cb_stack *st,
			  unsigned int nr, bool chain, unsigned int n,
			  int *errs)
{
	struct task_struct *task[2];
	struct cb_worker w[2] = {};
	DECLARE_COMPLETION_ONSTACK(go);
	unsigned int half = st->nr_conns / 2, i;
	u64 start = U64_MAX, end = 0;

	for (i = 0; i < nr; i++) {
		w[i].st = st;
		w[i].chain = chain;
		w[i].first = i * half;
		w[i].count = half;
		w[i].n = n;
		w[i].go = &go;
		init_completion(&w[i].done);
		task[i] = kthread_create_on_cpu(cb_worker_fn, &w[i], i, "cbench/%u");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, task[i]);
		wake_up_process(task[i]);
	}
	complete_all(&go);
	for (i = 0; i < nr; i++) {
		wait_for_completion(&w[i].done);
		kthread_stop(task[i]);
		start = min(start, w[i].start);
		end = max(end, w[i].end);
		*errs |= w[i].errs;
	}
	/* Events per second: a million over the picoseconds per event. */
	return div64_u64(1000000000000ULL,
			 max(cb_ps(end - start, (u64)nr * n), 1ULL));
}

/*
 * Figure: events per second of two CPUs raising on different connections
 * (kthreads bound to CPU 0 and 1, one half of a depth-3 stack's
 * connections each) against one CPU (CPU 0, the first half). The same
 * with the indirect-call chain of depth 3 shows what the machine itself
 * gives two CPUs (under TCG the vCPUs share the host's cores with whatever
 * else runs there); it runs 8 times the events, being that much cheaper.
 */
void chimney_bench_two_cpus(struct kunit *test)
{
	unsigned int rounds = cb_nr_rounds(), r, nb = 8 * cb_events;
	u64 *v, om, tm, obm, tbm;
	struct cb_stack *st;
	int errs = 0;

	if (!cpu_online(0) || !cpu_online(1))
		kunit_skip(test, "needs CPUs 0 and 1 online");
	v = kunit_kcalloc(test, 4 * CB_MAX_ROUNDS, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	st = cb_stack_create(test, 3, 2 * cb_event_conns);
	cb_chain_init(3);
	for (r = 0; r < rounds; r++) {
		v[r] = cb_run_workers(test, st, 1, false, cb_events, &errs);
		v[CB_MAX_ROUNDS + r] = cb_run_workers(test, st, 2, false,
						      cb_events, &errs);
		v[2 * CB_MAX_ROUNDS + r] = cb_run_workers(test, st, 1, true, nb,
							  &errs);
		v[3 * CB_MAX_ROUNDS + r] = cb_run_workers(test, st, 2, true, nb,
							  &errs);
	}
	KUNIT_EXPECT_EQ(test, errs, 0);
	KUNIT_EXPECT_EQ(test, cb_stack_events(st),
			3ULL * rounds * cb_events + 3ULL * rounds * nb);
	om = cb_median(v, rounds);
	tm = cb_median(v + CB_MAX_ROUNDS, rounds);
	obm = cb_median(v + 2 * CB_MAX_ROUNDS, rounds);
	tbm = cb_median(v + 3 * CB_MAX_ROUNDS, rounds);
	kunit_info(test, "figure: two_cpus_vs_one: depth 3, one CPU %llu events/s, two CPUs %llu events/s, ratio %sx (goal >= 1.70x); indirect-call chain: %sx (%llu, %llu events/s)\n",
		   om, tm, cb_fix2(tm, om).s, cb_fix2(tbm, obm).s, obm, tbm);
}
