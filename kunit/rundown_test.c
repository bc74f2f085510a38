// SPDX-License-Identifier: GPL-2.0
/*
 * Rundown (spec section f, item 10): the terminate completion reaches no
 * layer while an upcall on the connection is running on another CPU, and
 * no upcall starts once the terminate has begun. With intermediate layers
 * a wrong order would free an entry under a running upcall, which KASAN
 * reports.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <chimney/chimney.h>

#include "offload.h"
#include "util.h"

struct ct_rundown {
	struct ct_stack *st;
	struct ct_tconn *tc;
	atomic_t in_upcall;
	atomic_t release;
	struct completion done;
	int err;
};

static struct ct_rundown *ct_rd;

/* Runs in the top layer's event op, BH disabled: spin, never sleep. */
static void ct_rundown_hook(struct ct_stack *st)
{
	atomic_set(&ct_rd->in_upcall, 1);
	while (!atomic_read(&ct_rd->release))
		cpu_relax();
}

static int ct_rundown_thread(void *data)
{
	struct ct_rundown *rd = data;

	rd->err = chimney_indicate_event(&rd->st->target.layer, rd->tc->upper,
					 CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
					 8192);
	complete(&rd->done);
	return 0;
}

static const int ct_rundown_depths[] = { 0, 2 };

static void ct_rundown_desc(const int *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%d intermediate", *p);
}

KUNIT_ARRAY_PARAM(ct_rundown, ct_rundown_depths, ct_rundown_desc);

static void chimney_rundown_waits_for_upcall(struct kunit *test)
{
	const int *nr_im = test->param_value;
	struct net_device *dev;
	struct ct_tcb *tcb;
	struct task_struct *task;
	struct ct_rundown *rd;
	int i;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");

	dev = ct_netdev(test, "ctrundown%d");
	rd = kunit_kzalloc(test, sizeof(*rd), GFP_KERNEL);
	tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rd);
	rd->st = ct_stack_create(test, dev, *nr_im);
	init_completion(&rd->done);
	KUNIT_ASSERT_EQ(test, ct_offload(rd->st, tcb, 3000), 0);
	rd->tc = rd->st->last_tconn;
	ct_rd = rd;
	rd->st->top_hook = ct_rundown_hook;

	task = kthread_run(ct_rundown_thread, rd, "ct_rundown");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	for (i = 0; i < 10000 && !atomic_read(&rd->in_upcall); i++)
		usleep_range(1000, 2000);
	KUNIT_ASSERT_EQ(test, atomic_read(&rd->in_upcall), 1);

	/* The target completes the terminate at once, mid-upcall. */
	KUNIT_EXPECT_EQ(test, chimney_offload_terminate(&rd->st->top.layer,
							&tcb->handle), 0);
	msleep(200);
	KUNIT_EXPECT_FALSE(test, tcb->terminated);
	KUNIT_EXPECT_EQ(test, rd->st->terminate_completes, 0);

	atomic_set(&rd->release, 1);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&rd->done, 10 * HZ));
	KUNIT_EXPECT_EQ(test, rd->err, 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, tcb->terminated);
	KUNIT_EXPECT_EQ(test, rd->st->terminate_completes, 1);
	rd->st->top_hook = NULL;
	ct_rd = NULL;
}

/* Once the terminate started, a new upcall is refused, not delivered. */
static void chimney_rundown_no_new_upcalls(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctrundown%d");
	struct ct_stack *st = ct_stack_create(test, dev, 1);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct chimney_offload_handle *upper;

	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 3001), 0);
	upper = st->last_tconn->upper;
	st->async = true;
	KUNIT_ASSERT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), 0);
	KUNIT_EXPECT_EQ(test, chimney_indicate_event(&st->target.layer, upper,
						     CHIMNEY_EVENT_ABORT, 0),
			-EPROTO);
	KUNIT_EXPECT_EQ(test, st->nr_log, 0);
	KUNIT_ASSERT_EQ(test, ct_target_complete_terminate(st, 0), 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, tcb->terminated);
}

static struct kunit_case chimney_rundown_cases[] = {
	KUNIT_CASE_PARAM(chimney_rundown_waits_for_upcall, ct_rundown_gen_params),
	KUNIT_CASE(chimney_rundown_no_new_upcalls),
	{}
};

static struct kunit_suite chimney_rundown_suite = {
	.name = "chimney_rundown",
	.test_cases = chimney_rundown_cases,
};

kunit_test_suite(chimney_rundown_suite);
