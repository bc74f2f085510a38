// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime and concurrency with layers chimney does not own (written, as
 * in util.c, against the public header only): device removal and
 * unregister with connections live, refused and partial terminates,
 * events of one connection on both CPUs, events racing a terminate, and
 * the contexts the header promises each op. Races are driven by kthreads
 * on both CPUs; KASAN and lockdep watch.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "device.h"
#include "host.h"
#include "offload.h"
#include "stack.h"
#include "stats.h"
#include "target.h"
#include "util.h"

static s64 ct_rule(enum chimney_rule rule)
{
	return chimney_stats_read(chimney_global_stats, rules[rule]);
}

/* Run @fn(@data) on a kthread bound to @cpu; NULL if it could not start. */
static struct task_struct *ct_run_on(int cpu, int (*fn)(void *), void *data,
				     const char *name)
{
	struct task_struct *t = kthread_create(fn, data, "%s/%d", name, cpu);

	if (IS_ERR(t))
		return NULL;
	kthread_bind(t, cpu);
	wake_up_process(t);
	return t;
}

/* @fn(@data, cpu) on a kthread bound to one CPU, and its end. */
struct ct_worker {
	int (*fn)(void *data, int cpu);
	void *data;
	int cpu;
	struct completion done;
};

static int ct_worker_thread(void *arg)
{
	struct ct_worker *w = arg;

	w->fn(w->data, w->cpu);
	complete(&w->done);
	return 0;
}

/* Start @fn on CPU 0 and on CPU 1 at once. */
static struct ct_worker *ct_workers_start(struct kunit *test,
					  int (*fn)(void *data, int cpu),
					  void *data)
{
	struct ct_worker *w = kunit_kcalloc(test, 2, sizeof(*w), GFP_KERNEL);
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, w);
	for (cpu = 0; cpu < 2; cpu++) {
		w[cpu].fn = fn;
		w[cpu].data = data;
		w[cpu].cpu = cpu;
		init_completion(&w[cpu].done);
		if (!ct_run_on(cpu, ct_worker_thread, &w[cpu], "ct_worker"))
			complete(&w[cpu].done);
	}
	return w;
}

static bool ct_workers_wait(struct ct_worker *w, unsigned int secs)
{
	return wait_for_completion_timeout(&w[0].done, secs * HZ) &&
	       wait_for_completion_timeout(&w[1].done, secs * HZ);
}

/*
 * Racers on both CPUs until one of them sets @stop (store-release, read
 * with load-acquire), and the errors no rule explains.
 */
struct ct_race {
	struct ct_worker *w;
	bool stop;
	bool joined;		/* the workers were waited for already */
	int unexpected;
	int last_err;
};

/* On any exit of the test: let the racers go before their data does. */
static void ct_race_stop(void *data)
{
	struct ct_race *race = data;

	WRITE_ONCE(race->stop, true);
	/* A completion is consumed by its wait: once only. */
	if (!race->joined)
		ct_workers_wait(race->w, 60);
}

/* @fn(@data, cpu) on CPU 0 and 1 until both return. */
static void ct_race_run(struct kunit *test, struct ct_race *race,
			int (*fn)(void *data, int cpu), void *data)
{
	race->w = ct_workers_start(test, fn, data);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_race_stop, race), 0);
	race->joined = ct_workers_wait(race->w, 300);
	KUNIT_ASSERT_TRUE(test, race->joined);
}

static void ct_race_unexpected(struct ct_race *race, int err)
{
	race->unexpected++;
	race->last_err = err;
}

/* --- device removal ---------------------------------------------------- */

struct ct_unreg {
	struct net_device *dev;
	struct completion done;
};

static int ct_unreg_thread(void *data)
{
	struct ct_unreg *u = data;

	unregister_netdev(u->dev);
	complete(&u->done);
	return 0;
}

/* unregister_netdev() on another thread, bounded: it must not hang. */
static bool ct_unregister_within(struct kunit *test, struct net_device *dev,
				 unsigned int secs)
{
	struct ct_unreg *u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	struct task_struct *t;

	KUNIT_ASSERT_NOT_NULL(test, u);
	u->dev = dev;
	init_completion(&u->done);
	t = kthread_run(ct_unreg_thread, u, "ct_unreg");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	return wait_for_completion_timeout(&u->done, secs * HZ);
}

/*
 * Issue item 3: a stack of layers from another module (protocol, two
 * intermediates, target) with connections live; removing the device
 * uploads every connection through its layers, unbinds every layer and
 * lets the device go.
 */
static void chimney_lifetime_device_removal(struct kunit *test)
{
	struct net_device *dev = ct_netdev_unmanaged(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 2);
	struct ct_tcb *tcb = kunit_kcalloc(test, 8, sizeof(*tcb), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, tcb);
	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_EQ(test, ct_offload(st, &tcb[i], 4000 + i), 0);
	KUNIT_ASSERT_EQ(test, atomic_read(&st->tconns), 8);

	KUNIT_ASSERT_TRUE_MSG(test, ct_unregister_within(test, dev, 20),
			      "unregister_netdev() hangs with layers registered");
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, tcb[i].terminated);
	KUNIT_EXPECT_EQ(test, st->terminate_completes, 8);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->tconns), 0);
	KUNIT_EXPECT_EQ(test, st->top.unbinds, 1);
	KUNIT_EXPECT_EQ(test, st->im[0].unbinds, 1);
	KUNIT_EXPECT_EQ(test, st->im[1].unbinds, 1);
	KUNIT_EXPECT_EQ(test, st->target.unbinds, 1);
	KUNIT_EXPECT_FALSE(test, st->top_atomic);
	/* Unbound: unregister says so, and nothing is left to do. */
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&st->top.layer), -ENODEV);
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&st->target.layer), -ENODEV);
}

/*
 * Issue item 9: chimney's own target with a 25 s initiate delay and one
 * initiate pending: removal quiesces the target instead of waiting.
 */
static void chimney_lifetime_removal_pending_initiate(struct kunit *test)
{
	struct net_device *dev = ct_netdev_unmanaged(test, "ctlife%d");
	struct chimney_device *cdev = ct_attach(test, dev, 16);
	struct chimney_tuple t;
	unsigned long start;
	u64 id = 0;

	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      25000), 0);
	ct_tuple4(&t, 0x0a000001, 4100, 0x0a000002, 80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);

	start = jiffies;
	KUNIT_ASSERT_TRUE_MSG(test, ct_unregister_within(test, dev, 20),
			      "unregister_netdev() waited out the delayed initiate");
	KUNIT_EXPECT_LT(test, jiffies_to_msecs(jiffies - start), 10000U);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), 0U);
}

/*
 * Issue item 3: an intermediate layer leaving a stack with connections
 * live uploads them (the protocol layer is told) and returns; the stack
 * carries on without it.
 */
static void chimney_lifetime_unregister_live(struct kunit *test)
{
	/* Before the stack: a live connection's handle must outlive it. */
	struct ct_tcb *tcb = kunit_kcalloc(test, 5, sizeof(*tcb), GFP_KERNEL);
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, tcb);
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, ct_offload(st, &tcb[i], 4200 + i), 0);
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&st->im[0].layer), 0);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, tcb[i].terminated);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->tconns), 0);
	KUNIT_EXPECT_EQ(test, st->im[0].unbinds, 0);
	KUNIT_EXPECT_EQ(test, chimney_layer_unregister(&st->im[0].layer), -EINVAL);
	/* Not left closed: the stack offloads again, now without the layer. */
	KUNIT_EXPECT_EQ(test, ct_offload(st, &tcb[4], 4204), 0);
	KUNIT_EXPECT_TRUE(test, tcb[4].initiated);
	KUNIT_EXPECT_FALSE(test, st->top_atomic);
}

/*
 * Issue item 3, last sentence: a stack that survives a detach (another
 * module's intermediate layer keeps it) must not stay closed.
 */
static void chimney_lifetime_detach_reattach(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct chimney_device *cdev = ct_attach(test, dev, 16);
	struct ct_stack *im = ct_im_only(test, dev, 1);
	struct chimney_tuple t;
	u64 id = 0;

	ct_tuple4(&t, 0x0a000001, 4300, 0x0a000002, 80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	KUNIT_ASSERT_EQ(test, chimney_device_detach(dev), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&im->im[0].terminate_completes), 1);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), 0U);

	cdev = ct_attach(test, dev, 16);
	KUNIT_EXPECT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	KUNIT_EXPECT_NE(test, id, 0ULL);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

/* --- refused and partial terminates -------------------------------------- */

/*
 * Issue item 6: an intermediate layer refuses the terminates of a device
 * removal for half a second. The upload waits it out with a back-off,
 * not a spin, and then completes.
 */
static void chimney_lifetime_drain_refused(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct chimney_device *cdev = ct_attach(test, dev, 16);
	struct ct_stack *im = ct_im_only(test, dev, 1);
	struct chimney_tuple t;
	unsigned long start;
	u64 id = 0;
	int calls;

	ct_tuple4(&t, 0x0a000001, 4400, 0x0a000002, 80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	im->im[0].refuse_terminate_until = jiffies + msecs_to_jiffies(500);
	start = jiffies;
	KUNIT_ASSERT_EQ(test, chimney_device_detach(dev), 0);
	calls = atomic_read(&im->im[0].terminate_calls);
	kunit_info(test, "detach took %u ms, %d terminate calls",
		   jiffies_to_msecs(jiffies - start), calls);
	KUNIT_EXPECT_GE(test, jiffies_to_msecs(jiffies - start), 450U);
	/* 1, 2, 4 ... jiffies between tries: a handful, not thousands. */
	KUNIT_EXPECT_LE(test, calls, 20);
	KUNIT_EXPECT_EQ(test, atomic_read(&im->im[0].terminate_completes), 1);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), 0U);
}

/*
 * Issue item 7: an intermediate layer fails upwards an initiate the
 * target completed. The framework terminates it at the target, the layer
 * gets terminate_complete on the entry it kept, nothing is left.
 */
static void chimney_lifetime_fail_after_success(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 2);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct chimney_offload_handle *stale;
	struct ct_layer *low = &st->im[0];	/* right above the target */

	KUNIT_ASSERT_NOT_NULL(test, tcb);
	KUNIT_ASSERT_EQ(test, low->index, 2);
	low->fail_up = true;
	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 4500), 0);
	KUNIT_EXPECT_EQ(test, tcb->initiate_status, -ENOMEM);
	chimney_flush();
	/* The target was told: it forgot its context. */
	stale = st->last_tconn ? st->last_tconn->upper : NULL;
	KUNIT_EXPECT_EQ(test, atomic_read(&st->tconns), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&low->terminate_completes), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->im[1].terminate_completes), 0);
	KUNIT_EXPECT_FALSE(test, tcb->terminated);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), 0U);
	KUNIT_EXPECT_NULL(test, stale);
	KUNIT_EXPECT_FALSE(test, st->top_atomic);
}

/* --- API entries from a handle race a terminate ----------------------------- */

struct ct_term_race {
	struct ct_stack *st;
	struct ct_tcb *tcb;
	struct ct_worker *w;
	u64 id;
	int round;
	atomic_t finished;
	int result[2];
	int iterations;
};

/* CPU 0: the protocol layer terminates; CPU 1: debugfs does. */
static int ct_term_racer(void *data, int me)
{
	struct ct_term_race *r = data;
	struct chimney_conn *conn;
	int round;

	for (round = 1; round <= r->iterations; round++) {
		/* Pairs with the store-release that publishes the round. */
		while (smp_load_acquire(&r->round) < round)
			cpu_relax();
		if (READ_ONCE(r->round) == INT_MAX)
			break;
		if (!me) {
			r->result[0] = chimney_offload_terminate(&r->st->top.layer,
								 &r->tcb->handle);
		} else {
			conn = chimney_conn_get_id(READ_ONCE(r->id));
			r->result[1] = conn ? chimney_conn_terminate(conn) : -ENOENT;
			if (conn)
				chimney_conn_put(conn);
		}
		atomic_inc(&r->finished);
	}
	return 0;
}

/* On any exit of the test: let the racers go before their data does. */
static void ct_term_race_stop(void *data)
{
	struct ct_term_race *r = data;

	/* Pairs with the racers' load-acquire. */
	smp_store_release(&r->round, INT_MAX);
	ct_workers_wait(r->w, 10);
}

/*
 * Issue item 2: chimney_offload_terminate() on one CPU while the same
 * connection completes through another path on the other: the handle is
 * followed under RCU with a reference, never into freed memory.
 */
static void chimney_lifetime_terminate_race(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_term_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	int i, wins;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->tcb = kunit_kzalloc(test, sizeof(*r->tcb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->tcb);
	r->st = ct_stack_create(test, dev, 1);
	r->iterations = 300;
	r->w = ct_workers_start(test, ct_term_racer, r);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_term_race_stop,
							r), 0);

	for (i = 1; i <= r->iterations; i++) {
		memset(r->tcb, 0, sizeof(*r->tcb));
		KUNIT_ASSERT_EQ(test, ct_offload(r->st, r->tcb, 4600), 0);
		WRITE_ONCE(r->id, chimney_handle_conn_id(&r->tcb->handle));
		atomic_set(&r->finished, 0);
		/* The connection and id are set up before the round starts. */
		smp_store_release(&r->round, i);
		while (atomic_read(&r->finished) < 2)
			cpu_relax();
		chimney_flush();
		/* Exactly one of the two started it; it completed once. */
		wins = !r->result[0] + !r->result[1];
		KUNIT_ASSERT_EQ_MSG(test, wins, 1, "round %d: %d and %d", i,
				    r->result[0], r->result[1]);
		KUNIT_ASSERT_TRUE(test, r->tcb->terminated);
	}
	KUNIT_EXPECT_EQ(test, r->st->terminate_completes, r->iterations);
}

/* --- status upcalls against unregister ------------------------------------ */

struct ct_status_layer {
	struct chimney_layer layer;
	u64 seen;
};

static void ct_status_op(struct chimney_layer *layer, u32 status)
{
	struct ct_status_layer *l = container_of(layer, struct ct_status_layer,
						 layer);

	/* Long enough for an unregister on the other CPU to overtake us. */
	udelay(20);
	WRITE_ONCE(l->seen, l->seen + 1);
}

static void ct_status_event(struct chimney_layer *layer,
			    struct chimney_offload_handle *own, u32 t, u32 i)
{
}

static void ct_status_complete(struct chimney_layer *layer,
			       struct chimney_offload_handle *own, int status)
{
}

static const struct chimney_layer_ops ct_status_ops = {
	.event = ct_status_event,
	.status = ct_status_op,
	.initiate_complete = ct_status_complete,
	.terminate_complete = ct_status_complete,
};

struct ct_status_race {
	struct ct_stack *st;
	struct net_device *dev;
	atomic_t stop;
	struct completion done[2];
	int registered;
};

static int ct_status_indicator(void *data)
{
	struct ct_status_race *r = data;

	while (!atomic_read(&r->stop))
		chimney_indicate_status(&r->st->target.layer,
					CHIMNEY_STATUS_OFFLOAD_PAUSE);
	complete(&r->done[0]);
	return 0;
}

static int ct_status_churn(void *data)
{
	struct ct_status_race *r = data;
	struct ct_status_layer *l;
	int i;

	for (i = 0; i < 400; i++) {
		l = kzalloc(sizeof(*l), GFP_KERNEL);
		if (!l)
			break;
		l->layer.name = "ct_status";
		l->layer.ops = &ct_status_ops;
		if (!chimney_layer_register(r->dev, &l->layer,
					    CHIMNEY_LAYER_PROTOCOL)) {
			r->registered++;
			usleep_range(10, 50);
			chimney_layer_unregister(&l->layer);
		}
		/* After unregister returns the owner may free it at once. */
		kfree(l);
	}
	atomic_set(&r->stop, 1);
	complete(&r->done[1]);
	return 0;
}

/*
 * Issue item 5: a status upcall runs on one CPU while its receiver
 * unregisters and frees itself on the other: unregister waits for the
 * upcall, so KASAN sees no use after free.
 */
static void chimney_lifetime_status_race(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_status_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->dev = dev;
	r->st = ct_stack_create(test, dev, 0);
	/* Only the target stays: the churned layer is the protocol layer. */
	KUNIT_ASSERT_EQ(test, chimney_layer_unregister(&r->st->top.layer), 0);
	init_completion(&r->done[0]);
	init_completion(&r->done[1]);
	KUNIT_ASSERT_NOT_NULL(test, ct_run_on(0, ct_status_indicator, r, "ct_status"));
	if (!ct_run_on(1, ct_status_churn, r, "ct_churn")) {
		atomic_set(&r->stop, 1);
		complete(&r->done[1]);
	}
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&r->done[1], 120 * HZ));
	atomic_set(&r->stop, 1);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&r->done[0], 10 * HZ));
	KUNIT_EXPECT_EQ(test, r->registered, 400);
}

/* --- events of one connection on both CPUs ------------------------------------ */

struct ct_storm {
	struct ct_stack *st;
	struct chimney_offload_handle *upper;
	int per_cpu;
	atomic_t errors;
	atomic_t go;
};

static void ct_storm_dawdle(struct ct_layer *l, u32 type, u32 info)
{
	/* Keep the layer busy so the two CPUs overlap inside it. */
	udelay(2);
}

static int ct_storm_raise(void *data, int cpu)
{
	struct ct_storm *s = data;
	int i;

	while (!atomic_read(&s->go))
		cpu_relax();
	for (i = 0; i < s->per_cpu; i++)
		if (chimney_indicate_event(&s->st->target.layer, s->upper,
					   CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
					   2 * i + cpu))
			atomic_inc(&s->errors);
	return 0;
}

static void ct_storm_run(struct kunit *test, struct ct_storm *s)
{
	struct ct_worker *w = ct_workers_start(test, ct_storm_raise, s);

	atomic_set(&s->go, 1);
	KUNIT_ASSERT_TRUE(test, ct_workers_wait(w, 60));
}

static struct ct_storm *ct_storm_setup(struct kunit *test, bool change)
{
	/* Before the stack: the live connection's handle must outlive it. */
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_storm *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, tcb);
	s->st = ct_stack_create(test, dev, 2);
	for (i = 0; i < 2; i++)
		s->st->im[i].event_hook = ct_storm_dawdle;
	s->st->im[1].change_forward = change;
	KUNIT_ASSERT_EQ(test, ct_offload(s->st, tcb, 4700), 0);
	s->upper = s->st->last_tconn->upper;
	s->per_cpu = 3000;
	return s;
}

/*
 * Issue item 10: one intermediate layer handles events of the same
 * connection on both CPUs at once; each forward is checked against its
 * own event, so every one of them reaches the top.
 */
static void chimney_lifetime_concurrent_forwards(struct kunit *test)
{
	s64 before = ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH);
	struct ct_storm *s;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	s = ct_storm_setup(test, false);
	ct_storm_run(test, s);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->st->im[0].forward_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->st->im[1].forward_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->st->top_events), 2 * s->per_cpu);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH), before);
}

/* ... and a changed forward is refused every time, even two at once. */
static void chimney_lifetime_changed_forwards(struct kunit *test)
{
	s64 before = ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH);
	struct ct_storm *s;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	s = ct_storm_setup(test, true);
	ct_storm_run(test, s);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->st->top_events), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->st->im[1].forward_errors),
			2 * s->per_cpu);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_FORWARD_MISMATCH),
			before + 2 * s->per_cpu);
}

/* --- events racing a terminate --------------------------------------------------- */

struct ct_gate {
	struct completion entered;
	struct completion release;
	atomic_t in_event;
	atomic_t release_event;
};

static struct ct_gate *ct_gate;

static void ct_gate_wait(void)
{
	complete(&ct_gate->entered);
	wait_for_completion(&ct_gate->release);
}

static void ct_gate_terminate(struct ct_layer *l)
{
	ct_gate_wait();
}

struct ct_call {
	struct ct_stack *st;
	struct ct_tcb *tcb;
	struct chimney_offload_handle *upper;
	int err;
	struct completion done;
};

static int ct_terminate_thread(void *data)
{
	struct ct_call *c = data;

	c->err = chimney_offload_terminate(&c->st->top.layer, &c->tcb->handle);
	complete(&c->done);
	return 0;
}

static void ct_gate_init(struct kunit *test)
{
	ct_gate = kunit_kzalloc(test, sizeof(*ct_gate), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ct_gate);
	init_completion(&ct_gate->entered);
	init_completion(&ct_gate->release);
}

/*
 * Issue item 11: the protocol layer asked for the terminate, but an
 * intermediate layer has not passed it down yet: the target cannot know,
 * so what it raises meanwhile is delivered, not counted as a violation.
 */
static void chimney_lifetime_event_before_target_asked(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	struct ct_call *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	s64 before = ct_rule(CHIMNEY_RULE_TERMINATING);

	KUNIT_ASSERT_NOT_NULL(test, c);
	c->tcb = kunit_kzalloc(test, sizeof(*c->tcb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->tcb);
	c->st = st;
	init_completion(&c->done);
	ct_gate_init(test);
	KUNIT_ASSERT_EQ(test, ct_offload(st, c->tcb, 4800), 0);
	c->upper = st->last_tconn->upper;
	st->im[0].terminate_hook = ct_gate_terminate;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(ct_terminate_thread, c,
						    "ct_term")));
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&ct_gate->entered,
							    10 * HZ));
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&st->target.layer, c->upper,
						     CHIMNEY_EVENT_RETRIEVE,
						     CHIMNEY_UPLOAD_LOW_ACTIVITY),
			0);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->top_events), 1);
	complete(&ct_gate->release);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&c->done, 10 * HZ));
	KUNIT_EXPECT_EQ(test, c->err, 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, c->tcb->terminated);
	/* Asked and done: now it is a violation. */
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_TERMINATING), before);
	st->im[0].terminate_hook = NULL;
}

/* In an event op (BH disabled): spin, never sleep. */
static void ct_gate_event(struct ct_layer *l, u32 type, u32 info)
{
	atomic_set(&ct_gate->in_event, 1);
	while (!atomic_read(&ct_gate->release_event))
		cpu_relax();
}

static int ct_raise_thread(void *data)
{
	struct ct_call *c = data;

	c->err = chimney_indicate_event(&c->st->target.layer, c->upper,
					CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 777);
	complete(&c->done);
	return 0;
}

/*
 * Issue item 11: an event accepted from the target and being forwarded
 * when the terminate starts still reaches the top (no layer drops it),
 * and the terminate completes only after it has.
 */
static void chimney_lifetime_forward_across_terminate(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	struct ct_call *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	int i;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->tcb = kunit_kzalloc(test, sizeof(*c->tcb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->tcb);
	c->st = st;
	init_completion(&c->done);
	ct_gate_init(test);
	KUNIT_ASSERT_EQ(test, ct_offload(st, c->tcb, 4900), 0);
	c->upper = st->last_tconn->upper;
	st->im[0].event_hook = ct_gate_event;
	KUNIT_ASSERT_NOT_NULL(test, ct_run_on(1, ct_raise_thread, c, "ct_raise"));
	for (i = 0; i < 1000 && !atomic_read(&ct_gate->in_event); i++)
		usleep_range(10000, 20000);
	KUNIT_ASSERT_EQ(test, atomic_read(&ct_gate->in_event), 1);
	st->async = true;
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&c->tcb->handle), 0);
	KUNIT_ASSERT_EQ(test, ct_target_complete_terminate(st, 0), 0);
	msleep(100);
	KUNIT_EXPECT_FALSE(test, c->tcb->terminated);
	atomic_set(&ct_gate->release_event, 1);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&c->done, 10 * HZ));
	KUNIT_EXPECT_EQ(test, c->err, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->im[0].forward_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->top_events), 1);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, c->tcb->terminated);
	st->im[0].event_hook = NULL;
}

/* Retrieve(HardwareFailure) is forwarded, then the layer dawdles. */
static void ct_slow_after_retrieve(struct ct_layer *l, u32 type, u32 info)
{
	if (type == CHIMNEY_EVENT_RETRIEVE)
		mdelay(5);
}

/*
 * Issue item 11: the hardware-failure sequence (Retrieve(HardwareFailure)
 * then Abort, back to back) holds while the host's terminate worker runs
 * between the two on the other CPU.
 */
static void chimney_lifetime_hw_failure_vs_terminate(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct chimney_device *cdev = ct_attach(test, dev, 64);
	struct ct_stack *im = ct_im_only(test, dev, 1);
	struct chimney_tuple t;
	int i, err;
	u64 id;

	im->im[0].event_hook_after = ct_slow_after_retrieve;
	for (i = 0; i < 20; i++) {
		ct_tuple4(&t, 0x0a000001, 5000 + i, 0x0a000002, 80);
		KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
		err = chimney_target_hw_failure(cdev->target, id);
		KUNIT_EXPECT_EQ_MSG(test, err, 0, "round %d", i);
	}
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, chimney_table_count(), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&im->im[0].forward_errors), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

/* --- contexts ------------------------------------------------------------------- */

/* Issue item 12: with interrupts disabled an indication is refused. */
static void chimney_lifetime_irqs_disabled(struct kunit *test)
{
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 0);
	s64 before = ct_rule(CHIMNEY_RULE_HARDIRQ);
	unsigned long flags;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, tcb);
	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 5100), 0);
	local_irq_save(flags);
	err = chimney_indicate_event(&st->target.layer, st->last_tconn->upper,
				     CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 1);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, err, -EPERM);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_HARDIRQ), before + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->top_events), 0);
}

/*
 * A target raising from inside the upcall of its own event (the top's op
 * drives it, as a host that answers an event synchronously could): the
 * nesting is bounded by CHIMNEY_MAX_DEPTH per CPU, not by the frames
 * overflowing. Found in the lean-data-path rework: nothing bounded it.
 */
static void ct_nested_raise(struct ct_stack *st)
{
	int err = chimney_indicate_event(&st->target.layer,
					 st->last_tconn->upper,
					 CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 1);

	if (err == -ELOOP)
		atomic_inc(&st->top_nested_refused);
}

static void chimney_lifetime_nested_events(struct kunit *test)
{
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	s64 before = ct_rule(CHIMNEY_RULE_TOO_DEEP);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, tcb);
	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 5150), 0);
	st->top_hook = ct_nested_raise;
	err = chimney_indicate_event(&st->target.layer, st->last_tconn->upper,
				     CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 1);
	st->top_hook = NULL;
	KUNIT_EXPECT_EQ(test, err, 0);
	/* Two frames per level (target to im, im to top): 8 levels fit. */
	KUNIT_EXPECT_EQ(test, atomic_read(&st->top_events), CHIMNEY_MAX_DEPTH / 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->top_nested_refused), 1);
	KUNIT_EXPECT_EQ(test, ct_rule(CHIMNEY_RULE_TOO_DEEP), before + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->im[0].forward_errors), 0);
}

/*
 * Issue item 13: a target completing its terminate from inside an RCU
 * read section (an atomic context the API allows): the layers above are
 * still called in process context.
 */
static void chimney_lifetime_complete_in_rcu(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctlife%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, tcb);
	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 5200), 0);
	st->complete_in_rcu = true;
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, tcb->terminated);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->im[0].terminate_completes), 1);
	KUNIT_EXPECT_FALSE(test, st->top_atomic);
}

/* --- the host's UPLOAD_ALL walks the id index while TCBs come and go ------- */

struct ct_ua_race {
	struct ct_race race;
	struct chimney_device *cdev;
	int rounds;
	int offloaded;
};

/*
 * CPU 0: RESUME, a few offloads, UPLOAD_ALL, over and over. CPU 1:
 * offloads, one in three aborted at once (the host's worker terminates
 * it), so the walk meets TCBs being created, queued, terminated and freed.
 */
static int ct_ua_racer(void *data, int me)
{
	struct ct_ua_race *r = data;
	struct chimney_target *t = r->cdev->target;
	struct chimney_tuple tuple;
	u16 port = 6000;
	int i, err;
	u64 id;

	if (!me) {
		for (i = 0; i < r->rounds; i++) {
			int seen = READ_ONCE(r->offloaded);
			unsigned long end = jiffies + msecs_to_jiffies(20);

			chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME);
			/* A few offloads in, some of them being aborted. */
			while (READ_ONCE(r->offloaded) < seen + 8 &&
			       time_before(jiffies, end))
				usleep_range(50, 100);
			chimney_target_status(t, CHIMNEY_STATUS_UPLOAD_ALL);
		}
		/* Pairs with the load-acquire below. */
		smp_store_release(&r->race.stop, true);
		return 0;
	}
	/* Pairs with the store-release above. */
	while (!smp_load_acquire(&r->race.stop)) {
		ct_tuple4(&tuple, 0x0a000001, port, 0x0a000002, 80);
		port = port == 60000 ? 6000 : port + 1;
		err = chimney_host_offload(r->cdev->host, &tuple, &id);
		if (!err) {
			WRITE_ONCE(r->offloaded, r->offloaded + 1);
			if (!(port % 3))
				chimney_target_raise(t, id, CHIMNEY_EVENT_ABORT, 0);
		} else if (err != -ENETDOWN && err != -ENOSPC && err != -EEXIST) {
			ct_race_unexpected(&r->race, err);
		}
		cond_resched();
	}
	return 0;
}

/*
 * The host keeps no list of its TCBs: UPLOAD_ALL finds them as hop 0 of
 * its connections in the id index, under RCU, while they are offloaded,
 * aborted, uploaded and freed on the other CPU (KASAN watches the TCBs,
 * freed a grace period after their last reference). The last UPLOAD_ALL
 * leaves nothing behind.
 */
static void chimney_lifetime_upload_all_race(struct kunit *test)
{
	struct ct_ua_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct chimney_host *host;
	struct chimney_stack *stack;
	unsigned int tcbs, conns;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cdev = ct_attach(test, ct_netdev(test, "ctlife%d"), 32);
	host = r->cdev->host;
	stack = host->layer.stack;
	/* Half the initiates complete from the target's work, later. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(r->cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      1), 0);
	r->rounds = 300;
	ct_race_run(test, &r->race, ct_ua_racer, r);
	kunit_info(test, "%d UPLOAD_ALLs against %d offloads", r->rounds,
		   r->offloaded);

	KUNIT_EXPECT_GT(test, r->offloaded, 0);
	KUNIT_EXPECT_EQ_MSG(test, r->race.unexpected, 0, "last error %d",
			    r->race.last_err);
	KUNIT_EXPECT_EQ(test, atomic64_read(&host->upload_all), r->rounds);
	KUNIT_EXPECT_EQ(test, atomic64_read(&host->terminate_errors), 0);
	/*
	 * The last word was an UPLOAD_ALL: once the initiates in flight
	 * have landed, nothing is left, not even one the walk could not see
	 * yet (its completion catches it).
	 */
	msleep(50);
	chimney_host_flush(host);
	chimney_flush();
	tcbs = READ_ONCE(host->nr_tcbs);
	conns = READ_ONCE(stack->nr_conns);
	KUNIT_EXPECT_EQ(test, tcbs, 0U);
	KUNIT_EXPECT_EQ(test, conns, 0U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(r->cdev->dev), 0);
}

/* --- the fake target finds by id what another CPU terminates ------------- */

struct ct_find_race {
	struct ct_race race;
	struct chimney_device *cdev;
	u64 id;
	int rounds;
	int found;
	int gone;
};

static void ct_find_count(struct ct_find_race *r, int err, bool event)
{
	if (err >= 0)
		r->found++;
	else if (err == -ENOENT)
		r->gone++;
	else if (!(event && err == -EPROTO))	/* an event its state refuses */
		ct_race_unexpected(&r->race, err);
}

/*
 * CPU 1 offloads a connection, publishes its id and terminates it, over
 * and over (the terminate completes a millisecond later, from the
 * target's work). CPU 0 works on whatever id is published through every
 * by-id entry of the target and walks it with invalidates that match no
 * address.
 */
static int ct_find_racer(void *data, int me)
{
	struct ct_find_race *r = data;
	struct chimney_target *t = r->cdev->target;
	union chimney_addr none = { .ip = htonl(0x0a0000fe) };
	struct chimney_conn *conn;
	struct chimney_tuple tuple;
	u32 backlog;
	u64 id;
	int i;

	if (me) {
		for (i = 0; i < r->rounds; i++) {
			ct_tuple4(&tuple, 0x0a000001, 7000 + i % 1000, 0x0a000002, 80);
			if (chimney_host_offload(r->cdev->host, &tuple, &id))
				continue;
			WRITE_ONCE(r->id, id);
			conn = chimney_conn_get_id(id);
			if (conn) {
				chimney_conn_terminate(conn);
				chimney_conn_put(conn);
			}
			cond_resched();
		}
		/* Pairs with the load-acquire below. */
		smp_store_release(&r->race.stop, true);
		return 0;
	}
	/* Pairs with the store-release above. */
	for (i = 0; !smp_load_acquire(&r->race.stop); i++) {
		id = READ_ONCE(r->id);
		ct_find_count(r, chimney_target_set_path(t, id, 125000000,
							 1000 + i % 4000), true);
		ct_find_count(r, chimney_target_traffic(t, id, 1, 1, 0), false);
		ct_find_count(r, chimney_target_conn_backlog(t, id, &backlog), false);
		ct_find_count(r, chimney_target_raise(t, id,
						      CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
						      4096 + i), true);
		if (!(i % 8))
			chimney_target_invalidate(t, AF_INET, &none);
		cond_resched();
	}
	return 0;
}

/*
 * The fake target keeps no index: by id it reads its context out of the
 * framework's (the lower_context of the handle above it), which it clears
 * under its lock before freeing the context. Every by-id entry and the
 * invalidate walk race the terminate of the very connection they look up
 * (KASAN watches the contexts and the handles), and the connection is
 * either found or -ENOENT.
 */
static void chimney_lifetime_target_find_race(struct kunit *test)
{
	struct ct_find_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cdev = ct_attach(test, ct_netdev(test, "ctlife%d"), 64);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(r->cdev->target,
						      CHIMNEY_KNOB_TERMINATE_DELAY,
						      1), 0);
	r->rounds = 1000;
	ct_race_run(test, &r->race, ct_find_racer, r);
	kunit_info(test, "%d lookups found their connection, %d came too late",
		   r->found, r->gone);
	KUNIT_EXPECT_GT(test, r->found, 0);
	KUNIT_EXPECT_EQ_MSG(test, r->race.unexpected, 0, "last error %d",
			    r->race.last_err);
	msleep(20);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, r->cdev->target->nr_conns, 0U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(r->cdev->dev), 0);
}

static struct kunit_case chimney_lifetime_cases[] = {
	KUNIT_CASE(chimney_lifetime_device_removal),
	KUNIT_CASE(chimney_lifetime_removal_pending_initiate),
	KUNIT_CASE(chimney_lifetime_unregister_live),
	KUNIT_CASE(chimney_lifetime_detach_reattach),
	KUNIT_CASE(chimney_lifetime_drain_refused),
	KUNIT_CASE(chimney_lifetime_fail_after_success),
	KUNIT_CASE(chimney_lifetime_terminate_race),
	KUNIT_CASE(chimney_lifetime_status_race),
	KUNIT_CASE(chimney_lifetime_concurrent_forwards),
	KUNIT_CASE(chimney_lifetime_changed_forwards),
	KUNIT_CASE(chimney_lifetime_event_before_target_asked),
	KUNIT_CASE(chimney_lifetime_forward_across_terminate),
	KUNIT_CASE(chimney_lifetime_hw_failure_vs_terminate),
	KUNIT_CASE(chimney_lifetime_irqs_disabled),
	KUNIT_CASE(chimney_lifetime_nested_events),
	KUNIT_CASE(chimney_lifetime_complete_in_rcu),
	KUNIT_CASE_SLOW(chimney_lifetime_upload_all_race),
	KUNIT_CASE(chimney_lifetime_target_find_race),
	{}
};

static struct kunit_suite chimney_lifetime_suite = {
	.name = "chimney_lifetime",
	.test_cases = chimney_lifetime_cases,
};

kunit_test_suite(chimney_lifetime_suite);
