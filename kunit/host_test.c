// SPDX-License-Identifier: GPL-2.0
/*
 * The host stack's obligations per event (spec section e): mandatory
 * retrieve and abort terminate, optional retrieve follows the device's
 * policy, disconnect closes and terminates, backlog is remembered,
 * UPLOAD_ALL terminates everything (pending initiates too) and stops
 * offloads until RESUME, PAUSE stops offloads until RESUME, RESUME
 * re-reads the capacity.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "device.h"
#include "host.h"
#include "offload.h"
#include "stack.h"
#include "target.h"
#include "util.h"


static u64 ct_host_conn(struct kunit *test, struct chimney_device *cdev,
			u16 port)
{
	struct chimney_tuple t;
	u64 id = 0;

	ct_tuple4(&t, 0x0a000001, port, 0x0a000002, 80);
	KUNIT_EXPECT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);
	return id;
}

/* Is connection @id out of the table? */
static bool ct_gone(u64 id)
{
	struct chimney_conn *conn = chimney_conn_get_id(id);

	if (conn)
		chimney_conn_put(conn);
	return !conn;
}

/* Has the host uploaded connection @id (after its queued work ran)? */
static bool ct_uploaded(struct chimney_device *cdev, u64 id)
{
	chimney_host_flush(cdev->host);
	chimney_flush();
	return ct_gone(id);
}

struct ct_reason_case {
	u32 reason;
	bool decline;
	bool uploaded;
};

static const struct ct_reason_case ct_reason_cases[] = {
	{ CHIMNEY_UPLOAD_LOW_ACTIVITY, false, true },
	{ CHIMNEY_UPLOAD_LOW_ACTIVITY, true, false },
	{ CHIMNEY_UPLOAD_HIGH_DROP_RATE, true, false },
	{ CHIMNEY_UPLOAD_SMALL_IO, true, false },
	{ CHIMNEY_UPLOAD_NO_BUFFER_PREPOSTING, true, false },
	{ CHIMNEY_UPLOAD_HIGH_FRAGMENTATION, true, false },
	{ CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS, true, false },
	{ CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS, false, true },
	/* Mandatory: uploaded whatever the policy says. */
	{ CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA, true, true },
	{ CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION, true, true },
	{ CHIMNEY_UPLOAD_INVALID_STATE, true, true },
	{ CHIMNEY_UPLOAD_UPLOAD_REQUESTED, true, true },
	{ CHIMNEY_UPLOAD_HARDWARE_FAILURE, true, true },
};

static void ct_reason_desc(const struct ct_reason_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "reason %u, policy %s", c->reason,
		 c->decline ? "decline" : "accept");
}

KUNIT_ARRAY_PARAM(ct_reason, ct_reason_cases, ct_reason_desc);

static void chimney_host_retrieve_policy(struct kunit *test)
{
	const struct ct_reason_case *c = test->param_value;
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);
	int err;
	u64 id;

	err = chimney_host_set_policy(cdev->host, c->reason, !c->decline);
	if (chimney_upload_reason_mandatory(c->reason) && c->decline)
		KUNIT_EXPECT_EQ(test, err, -EPERM);
	else
		KUNIT_EXPECT_EQ(test, err, 0);
	id = ct_host_conn(test, cdev, 1000);
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_RETRIEVE,
						   c->reason), 0);
	KUNIT_EXPECT_EQ(test, ct_uploaded(cdev, id), c->uploaded);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, reasons[c->reason]), 1);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, declined),
			c->uploaded ? 0 : 1);
	if (!c->uploaded) {
		/* Declined: the target keeps running it; events still flow. */
		KUNIT_EXPECT_EQ(test, chimney_target_raise(cdev->target, id,
							   CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
							   1000), 0);
		KUNIT_EXPECT_EQ(test, chimney_target_raise(cdev->target, id,
							   CHIMNEY_EVENT_ABORT,
							   0), 0);
		KUNIT_EXPECT_TRUE(test, ct_uploaded(cdev, id));
	}
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static void chimney_host_abort_and_disconnect(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);
	u64 a = ct_host_conn(test, cdev, 1100);
	u64 d = ct_host_conn(test, cdev, 1101);

	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, a,
						   CHIMNEY_EVENT_ABORT, 0), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, d,
						   CHIMNEY_EVENT_DISCONNECT, 0), 0);
	KUNIT_EXPECT_TRUE(test, ct_uploaded(cdev, a));
	KUNIT_EXPECT_TRUE(test, ct_uploaded(cdev, d));
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_ABORT]), 1);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_DISCONNECT]), 1);
	KUNIT_EXPECT_EQ(test, cdev->host->nr_tcbs, 0U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static void chimney_host_backlog_remembered(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);
	u64 id = ct_host_conn(test, cdev, 1200);
	struct chimney_conn *conn;

	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
						   123456), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_SEND_BACKLOG_CHANGE,
						   CHIMNEY_BACKLOG_UNSUPPORTED), 0);
	KUNIT_EXPECT_FALSE(test, ct_uploaded(cdev, id));
	conn = chimney_conn_get_id(id);
	KUNIT_ASSERT_NOT_NULL(test, conn);
	KUNIT_EXPECT_EQ(test, conn->backlog, CHIMNEY_BACKLOG_UNSUPPORTED);
	KUNIT_EXPECT_EQ(test, (u64)atomic64_read(&conn->ev) >> CHIMNEY_EV_EVENTS_SHIFT, 2ULL);
	chimney_conn_put(conn);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]), 2);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

/*
 * The host's terminate queue holds a reference on each TCB on it: one
 * whose connection something else terminated first (the framework here,
 * the device's removal below) is still there when the worker gets to it,
 * and a host destroyed with TCBs queued lets go of them (KASAN, kmemleak).
 */
static void chimney_host_queue_outlives_terminate(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);
	struct chimney_host *host = cdev->host;
	u64 a = ct_host_conn(test, cdev, 1300);
	u64 b = ct_host_conn(test, cdev, 1301);
	u64 c = ct_host_conn(test, cdev, 1302);
	struct chimney_conn *conn;

	/* Nothing the events queue runs until we let it. */
	disable_delayed_work_sync(&host->term_work);
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, a,
						   CHIMNEY_EVENT_ABORT, 0), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, b,
						   CHIMNEY_EVENT_ABORT, 0), 0);
	KUNIT_EXPECT_FALSE(test, llist_empty(&host->term_queue));
	KUNIT_EXPECT_EQ(test, ct_conn_state(a), CHIMNEY_CONN_OFFLOADED);

	/* a is terminated from elsewhere: its TCB is forgotten, still queued. */
	conn = chimney_conn_get_id(a);
	KUNIT_ASSERT_NOT_NULL(test, conn);
	KUNIT_EXPECT_EQ(test, chimney_conn_terminate(conn), 0);
	chimney_conn_put(conn);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, ct_gone(a));
	KUNIT_EXPECT_EQ(test, host->nr_tcbs, 2U);

	enable_delayed_work(&host->term_work);
	mod_delayed_work(system_wq, &host->term_work, 0);
	chimney_host_flush(host);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, ct_uploaded(cdev, b));
	KUNIT_EXPECT_TRUE(test, llist_empty(&host->term_queue));
	KUNIT_EXPECT_EQ(test, atomic64_read(&host->terminate_errors), 0);
	KUNIT_EXPECT_EQ(test, host->nr_tcbs, 1U);

	/* c queued, then the device goes with the worker held off. */
	disable_delayed_work_sync(&host->term_work);
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, c,
						   CHIMNEY_EVENT_ABORT, 0), 0);
	KUNIT_EXPECT_FALSE(test, llist_empty(&host->term_queue));
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
	KUNIT_EXPECT_TRUE(test, ct_gone(c));
}

/* Poll (TCG is slow) until connection @id has left state @s. */
static enum chimney_conn_state ct_host_wait_leave(u64 id,
						  enum chimney_conn_state s)
{
	int i;

	for (i = 0; i < 1000 && ct_conn_state(id) == s; i++)
		usleep_range(10000, 11000);
	return ct_conn_state(id);
}

static int ct_host_try(struct chimney_device *cdev, u16 port)
{
	struct chimney_tuple t;
	u64 id;

	ct_tuple4(&t, 0x0a000001, port, 0x0a000002, 80);
	return chimney_host_offload(cdev->host, &t, &id);
}

/*
 * UPLOAD_ALL: every offloaded connection is terminated, an initiate still
 * pending is terminated as soon as it completes, and nothing new is
 * offloaded until RESUME.
 */
static void chimney_host_upload_all(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);
	u64 id[8], pending;
	int i;

	for (i = 0; i < 8; i++)
		id[i] = ct_host_conn(test, cdev, 1300 + i);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      500), 0);
	pending = ct_host_conn(test, cdev, 1350);
	KUNIT_EXPECT_EQ(test, ct_conn_state(pending), CHIMNEY_CONN_OFFLOADING);
	KUNIT_EXPECT_EQ(test, chimney_target_status(cdev->target,
						    CHIMNEY_STATUS_UPLOAD_ALL), 0);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, ct_uploaded(cdev, id[i]));
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->upload_all), 1);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1400), -ENETDOWN);
	/* Completes, then its terminate is queued: wait for both. */
	KUNIT_EXPECT_NE(test, ct_host_wait_leave(pending, CHIMNEY_CONN_OFFLOADING),
			CHIMNEY_CONN_OFFLOADING);
	KUNIT_EXPECT_TRUE(test, ct_uploaded(cdev, pending));
	KUNIT_EXPECT_EQ(test, cdev->host->nr_tcbs, 0U);

	/* A PAUSE does not lift it; a RESUME does. */
	KUNIT_EXPECT_EQ(test, chimney_target_status(cdev->target,
						    CHIMNEY_STATUS_OFFLOAD_PAUSE), 0);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1401), -ENETDOWN);
	KUNIT_EXPECT_EQ(test, chimney_target_status(cdev->target,
						    CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      0), 0);
	ct_host_conn(test, cdev, 1402);
	KUNIT_EXPECT_EQ(test, cdev->host->nr_tcbs, 1U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

/* PAUSE: no new offloads until RESUME; what is in flight completes. */
static void chimney_host_pause_resume(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);
	u64 live, pending;

	live = ct_host_conn(test, cdev, 1500);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      300), 0);
	pending = ct_host_conn(test, cdev, 1501);
	KUNIT_EXPECT_EQ(test, chimney_target_status(cdev->target,
						    CHIMNEY_STATUS_OFFLOAD_PAUSE), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->pause), 1);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1502), -EAGAIN);
	KUNIT_EXPECT_EQ(test, ct_host_wait_leave(pending, CHIMNEY_CONN_OFFLOADING),
			CHIMNEY_CONN_OFFLOADED);
	KUNIT_EXPECT_FALSE(test, ct_uploaded(cdev, pending));
	KUNIT_EXPECT_FALSE(test, ct_uploaded(cdev, live));
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1503), -EAGAIN);

	KUNIT_EXPECT_EQ(test, chimney_target_status(cdev->target,
						    CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->resume), 1);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1504), 0);
	KUNIT_EXPECT_EQ(test, cdev->host->nr_tcbs, 3U);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

/* The host refuses beyond its copy of the capacity, re-read at RESUME. */
static void chimney_host_resume_rereads_capacity(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 2);
	struct chimney_target *t = cdev->target;

	chimney_host_set_capacity_source(cdev->host, chimney_target_read_capacity, t);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1600), 0);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1601), 0);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1602), -ENOSPC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->refused_full), 1);
	/* The host said no itself: the target never saw it. */
	KUNIT_EXPECT_EQ(test, t->refused_full, 0ULL);

	/* Changed behind the host's back: only a RESUME makes it look. */
	spin_lock_bh(&t->lock);
	t->knobs.capacity = 3;
	spin_unlock_bh(&t->lock);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1603), -ENOSPC);
	KUNIT_EXPECT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->capacity), 3U);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1604), 0);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1605), -ENOSPC);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

/*
 * A target completing an initiate with -EINPROGRESS failed it: the host
 * must not read its own "pending" into that. The knob refuses the value;
 * set it underneath as another target could complete with it.
 */
static void chimney_host_initiate_status_einprogress(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 8);
	struct chimney_target *t = cdev->target;
	u64 id = 0;

	KUNIT_EXPECT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_FAIL_NEXT_INITIATE,
						      EINPROGRESS), -EINVAL);
	spin_lock_bh(&t->lock);
	t->knobs.fail_next_initiate = -EINPROGRESS;
	spin_unlock_bh(&t->lock);
	KUNIT_EXPECT_EQ(test, ct_host_try(cdev, 1700), -EINPROGRESS);
	KUNIT_EXPECT_EQ(test, cdev->host->nr_tcbs, 0U);
	KUNIT_EXPECT_EQ(test, t->nr_conns, 0U);
	/* And a pending initiate is still reported as taken. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_INITIATE_DELAY,
						      200), 0);
	id = ct_host_conn(test, cdev, 1701);
	KUNIT_EXPECT_NE(test, id, 0ULL);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static void chimney_host_policy_misuse(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cthost%d"), 64);

	KUNIT_EXPECT_EQ(test, chimney_host_set_policy(cdev->host, 0, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_host_set_policy(cdev->host, 12, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_host_set_policy(cdev->host, 9, false), -EPERM);
	KUNIT_EXPECT_TRUE(test, chimney_host_accepts(cdev->host, 9));
	KUNIT_EXPECT_TRUE(test, chimney_host_accepts(cdev->host, 1));
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static struct kunit_case chimney_host_cases[] = {
	KUNIT_CASE_PARAM(chimney_host_retrieve_policy, ct_reason_gen_params),
	KUNIT_CASE(chimney_host_abort_and_disconnect),
	KUNIT_CASE(chimney_host_backlog_remembered),
	KUNIT_CASE(chimney_host_queue_outlives_terminate),
	KUNIT_CASE(chimney_host_upload_all),
	KUNIT_CASE(chimney_host_pause_resume),
	KUNIT_CASE(chimney_host_resume_rereads_capacity),
	KUNIT_CASE(chimney_host_initiate_status_einprogress),
	KUNIT_CASE(chimney_host_policy_misuse),
	{}
};

static struct kunit_suite chimney_host_suite = {
	.name = "chimney_host",
	.test_cases = chimney_host_cases,
};

kunit_test_suite(chimney_host_suite);
