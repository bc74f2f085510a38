// SPDX-License-Identifier: GPL-2.0
/*
 * The fake offload target: capacity, asynchronous completion, injected
 * failures, send-backlog hysteresis and its trailing edge, the
 * hardware-failure sequence, TCP_OFFLOAD_STATS accounting, knobs written
 * concurrently, link state and status indications.
 */

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "device.h"
#include "host.h"
#include "notify.h"
#include "offload.h"
#include "stack.h"
#include "target.h"
#include "util.h"

static void ct_tgt_done(struct kunit *test, struct chimney_device *cdev)
{
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static int ct_tgt_offload(struct chimney_device *cdev, u16 port, u64 *id)
{
	struct chimney_tuple t;

	ct_tuple4(&t, 0x0a000001, port, 0x0a000002, 80);
	return chimney_host_offload(cdev->host, &t, id);
}

static void chimney_target_capacity(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 3);
	u64 id[3], extra;
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 100 + i, &id[i]), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 200, &extra), -ENOSPC);
	/* Refused by the host when it knows the capacity, else by the target. */
	KUNIT_EXPECT_EQ(test, cdev->target->refused_full +
			atomic64_read(&cdev->host->refused_full), 1ULL);
	KUNIT_EXPECT_EQ(test, cdev->target->nr_conns, 3U);

	/* Freed capacity is reusable; raised capacity takes effect. */
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id[0],
						   CHIMNEY_EVENT_ABORT, 0), 0);
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 200, &extra), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_CAPACITY, 4), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 201, &extra), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_CAPACITY, 0),
			-EINVAL);
	ct_tgt_done(test, cdev);
}

static void chimney_target_async_completion(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	u64 id;
	int i;

	/* Long enough that a slow (TCG) VM still sees the pending states. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      1000), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_TERMINATE_DELAY,
						      1000), 0);

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 300, &id), 0);
	KUNIT_EXPECT_NE(test, id, 0ULL);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_OFFLOADING);
	/* Illegal until the completion has come through. */
	KUNIT_EXPECT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_ABORT, 0),
			-EPROTO);
	for (i = 0; i < 1000 && ct_conn_state(id) == CHIMNEY_CONN_OFFLOADING; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_OFFLOADED);

	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_RETRIEVE,
						   CHIMNEY_UPLOAD_UPLOAD_REQUESTED),
			0);
	chimney_host_flush(cdev->host);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_TERMINATING);
	for (i = 0; i < 1000 && ct_conn_state(id) != CHIMNEY_CONN_TERMINATED; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_TERMINATED);

	/* Detach with a pending initiate: completed, then uploaded. */
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 301, &id), 0);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_OFFLOADING);
	ct_tgt_done(test, cdev);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_TERMINATED);
}

static void chimney_target_injected_failures(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_stack *stack = cdev->target->layer.stack;
	struct chimney_target *t = cdev->target;
	s64 failed = chimney_stats_read(stack->stats, offload_failed);
	u64 id;

	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_FAIL_NEXT_INITIATE,
						      -ENOBUFS), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 400, &id), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, chimney_stats_read(stack->stats, offload_failed),
			failed + 1);
	/* One-shot: the next one works. */
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 400, &id), 0);

	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_FAIL_INITIATE, 1), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 401, &id), -EIO);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 402, &id), -EIO);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_FAIL_INITIATE, 0), 0);
	/* A positive errno is the same errno. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_FAIL_NEXT_INITIATE, 5), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_get_knob(t, CHIMNEY_KNOB_FAIL_NEXT_INITIATE), -5);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 403, &id), -EIO);
	KUNIT_EXPECT_EQ(test, cdev->target->nr_conns, 1U);
	ct_tgt_done(test, cdev);
}

static void chimney_target_backlog_hysteresis(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	u32 backlog;
	u64 id;

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 500, &id), 0);
	/* 125 MB/s x 1 ms = 125000 bytes: the first value is indicated. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 1000), 1);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 125000U);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]),
			1);
	/* Jitter under an eighth: suppressed, however often. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 1100), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 900), 0);
	KUNIT_EXPECT_EQ(test, t->backlog_suppressed, 2ULL);
	/* A real change (RTT doubled): indicated. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 2000), 1);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 250000U);

	/* Rate limit: a big change inside the interval waits. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_BACKLOG_INTERVAL,
						      60000), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 8000), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 250000U);

	/* Small paths are bounded below by one MSS of hysteresis. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 0, 100), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, 999, 1, 1), -ENOENT);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]),
			2);
	ct_tgt_done(test, cdev);
}

static void chimney_target_hw_failure_sequence(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	struct chimney_host *host = cdev->host;
	u64 id;
	int i, err;

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 600, &id), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_hw_failure(t, id), 0);
	KUNIT_EXPECT_EQ(test, chimney_host_read(host, reasons[CHIMNEY_UPLOAD_HARDWARE_FAILURE]), 1);
	KUNIT_EXPECT_EQ(test, chimney_host_read(host, events[CHIMNEY_EVENT_ABORT]), 1);
	KUNIT_EXPECT_EQ(test, t->stats[0].reset_established, 1U);
	/* Nothing after the abort (rejected, or already uploaded). */
	err = chimney_target_raise(t, id, CHIMNEY_EVENT_RETRIEVE,
				   CHIMNEY_UPLOAD_HARDWARE_FAILURE);
	KUNIT_EXPECT_TRUE_MSG(test, err == -EPROTO || err == -ENOENT, "err %d", err);
	chimney_host_flush(host);
	chimney_flush();
	for (i = 0; i < 100 && ct_conn_state(id) != CHIMNEY_CONN_TERMINATED; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_TERMINATED);
	KUNIT_EXPECT_EQ(test, t->stats[0].currently_established, 0U);
	ct_tgt_done(test, cdev);
}

static void chimney_target_stats_per_family(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	struct chimney_tuple t6 = { .family = AF_INET6 };
	u64 id4, id6;

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 700, &id4), 0);
	t6.saddr.in6.s6_addr[15] = 1;
	t6.daddr.in6.s6_addr[15] = 2;
	t6.sport = htons(700);
	t6.dport = htons(80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t6, &id6), 0);
	KUNIT_EXPECT_EQ(test, t->stats[0].currently_established, 1U);
	KUNIT_EXPECT_EQ(test, t->stats[1].currently_established, 1U);
	KUNIT_EXPECT_EQ(test, chimney_target_traffic(t, id6, 10, 20, 3), 0);
	KUNIT_EXPECT_EQ(test, t->stats[1].in_segments, 10ULL);
	KUNIT_EXPECT_EQ(test, t->stats[1].out_segments, 20ULL);
	KUNIT_EXPECT_EQ(test, t->stats[1].retransmitted_segments, 3U);
	KUNIT_EXPECT_EQ(test, t->stats[0].in_segments, 0ULL);
	KUNIT_EXPECT_EQ(test, chimney_target_traffic(t, 12345678, 1, 1, 1),
			-ENOENT);
	ct_tgt_done(test, cdev);
}

/* Connections that have left OFFLOADING among @ids. */
static int ct_completed(const u64 *ids, int n)
{
	int i, done = 0;

	for (i = 0; i < n; i++)
		done += ct_conn_state(ids[i]) != CHIMNEY_CONN_OFFLOADING;
	return done;
}

/*
 * A stream of initiates faster than initiate_delay_ms must not push back
 * the completions already due: each one completes about a delay after its
 * initiate, during the stream.
 */
static void chimney_target_completion_not_starved(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 128);
	u64 *ids = kunit_kcalloc(test, 128, sizeof(*ids), GFP_KERNEL);
	ktime_t end;
	int n = 0, during, i;

	KUNIT_ASSERT_NOT_NULL(test, ids);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      100), 0);
	end = ktime_add_ms(ktime_get(), 1000);
	while (n < 128 && ktime_before(ktime_get(), end)) {
		KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 1000 + n, &ids[n]), 0);
		n++;
		usleep_range(20000, 21000);
	}
	/* Still streaming: a 1 s stream is ten delays long. */
	during = ct_completed(ids, n);
	kunit_info(test, "%d initiates, %d completed during the stream", n,
		   during);
	KUNIT_EXPECT_GE(test, n, 5);
	KUNIT_EXPECT_GT(test, during, 0);
	KUNIT_EXPECT_NE(test, ct_conn_state(ids[0]), CHIMNEY_CONN_OFFLOADING);
	for (i = 0; i < 1000 && ct_completed(ids, n) < n; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_completed(ids, n), n);
	ct_tgt_done(test, cdev);
}

/* Poll (TCG is slow) until connection @id's backlog is @want. */
static bool ct_backlog_becomes(struct chimney_target *t, u64 id, u32 want)
{
	u32 backlog = 0;
	int i;

	for (i = 0; i < 500; i++) {
		if (!chimney_target_conn_backlog(t, id, &backlog) &&
		    backlog == want)
			return true;
		usleep_range(10000, 11000);
	}
	return false;
}

/*
 * A change the rate limit holds back is delivered once the interval has
 * passed (trailing edge); a change too small to matter stays dropped and
 * cancels the held-back one.
 */
static void chimney_target_backlog_trailing_edge(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	u32 backlog;
	u64 id, id2;

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 550, &id), 0);
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 551, &id2), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_BACKLOG_INTERVAL,
						      500), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 1000), 1);
	/* Four times the BDP, inside the interval: held back, not lost. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 4000), 0);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]), 1);
	KUNIT_EXPECT_TRUE(test, ct_backlog_becomes(t, id, 500000));
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]), 2);
	KUNIT_EXPECT_EQ(test, t->backlog_trailing, 1ULL);

	/* Held back, then a value near the indicated one: nothing more. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 8000), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 4100), 0);
	msleep(1500);
	flush_delayed_work(&t->backlog_work);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 500000U);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]), 2);
	KUNIT_EXPECT_EQ(test, t->backlog_trailing, 1ULL);

	/* A held-back value on a connection that goes away: dropped. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id2, 125000000, 1000), 1);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id2, 125000000, 9000), 0);
	ct_tgt_done(test, cdev);
}

/*
 * Walks of every connection of a device run in batches (BH is off under
 * the locks they take), resuming where they stopped: more connections
 * than one batch, each of them handled exactly once, by the trailing edge
 * of the backlog, by an invalidate and by UPLOAD_ALL.
 */
#define CT_BATCH_CONNS	150

/*
 * The target has no index of its own: by id it finds its context through
 * the framework's (chimney_conn_lower_context()). Its own connections
 * only, from the initiate (a failing one too, until it fails) until the
 * terminate; and an invalidate reaches only its own.
 */
static void chimney_target_finds_its_own(struct kunit *test)
{
	struct chimney_device *a = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_device *b = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = a->target;
	u32 backlog = 1;
	u64 ida, idb, pending;
	int i;

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(a, 700, &ida), 0);
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(b, 701, &idb), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, ida, 125000000, 1000), 1);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, ida, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 125000U);
	/* b's connection, by a's target: not a's. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, idb, 125000000, 1000), -ENOENT);
	KUNIT_EXPECT_EQ(test, chimney_target_traffic(t, idb, 1, 1, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, chimney_target_raise(t, idb, CHIMNEY_EVENT_ABORT, 0),
			-ENOENT);

	/* Pending, and failing when it completes: found until then. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_INITIATE_DELAY,
						      200), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_FAIL_NEXT_INITIATE,
						      -ENOBUFS), 0);
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(a, 702, &pending), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_traffic(t, pending, 1, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_raise(t, pending, CHIMNEY_EVENT_ABORT, 0),
			-EPROTO);
	for (i = 0; i < 100 && ct_conn_state(pending) == CHIMNEY_CONN_OFFLOADING; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, chimney_target_traffic(t, pending, 1, 1, 0), -ENOENT);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_INITIATE_DELAY,
						      0), 0);

	/* Invalidate: a's one connection, not b's. */
	KUNIT_EXPECT_EQ(test, chimney_target_invalidate(t, AF_INET, NULL), 1);
	chimney_host_flush(a->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, ct_conn_state(ida), CHIMNEY_CONN_TERMINATED);
	KUNIT_EXPECT_EQ(test, ct_conn_state(idb), CHIMNEY_CONN_OFFLOADED);
	/* Terminated: not found any more. */
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, ida, &backlog), -ENOENT);
	KUNIT_EXPECT_EQ(test, t->nr_conns, 0U);
	ct_tgt_done(test, a);
	ct_tgt_done(test, b);
}

static void chimney_target_batched_walks(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"),
						2 * CT_BATCH_CONNS);
	struct chimney_target *t = cdev->target;
	u64 *id = kunit_kcalloc(test, CT_BATCH_CONNS, sizeof(*id), GFP_KERNEL);
	unsigned int before = chimney_table_count();
	u64 trailing;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, id);
	for (i = 0; i < CT_BATCH_CONNS; i++)
		KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 3000 + i, &id[i]), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_BACKLOG_INTERVAL,
						      300), 0);
	for (i = 0; i < CT_BATCH_CONNS; i++) {
		KUNIT_ASSERT_EQ(test, chimney_target_set_path(t, id[i], 125000000, 1000), 1);
		/* Held back: every connection sits on the pending list. */
		KUNIT_ASSERT_EQ(test, chimney_target_set_path(t, id[i], 125000000,
							      4000 + i), 0);
	}
	for (i = 0; i < CT_BATCH_CONNS; i++)
		KUNIT_EXPECT_TRUE(test, ct_backlog_becomes(t, id[i], 125 * (4000 + i)));
	spin_lock_bh(&t->lock);
	trailing = t->backlog_trailing;
	spin_unlock_bh(&t->lock);
	KUNIT_EXPECT_EQ(test, trailing, (u64)CT_BATCH_CONNS);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host,
						events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]),
			2 * CT_BATCH_CONNS);

	/* Decline nothing mandatory: every one is uploaded, once. */
	KUNIT_EXPECT_EQ(test, chimney_target_invalidate(t, AF_INET, NULL),
			CT_BATCH_CONNS);
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
	KUNIT_EXPECT_EQ(test, chimney_host_read(cdev->host,
						reasons[CHIMNEY_UPLOAD_INVALID_STATE]),
			CT_BATCH_CONNS);

	/* UPLOAD_ALL walks the id index in batches too. */
	KUNIT_ASSERT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	for (i = 0; i < CT_BATCH_CONNS; i++)
		KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 4000 + i, &id[i]), 0);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + CT_BATCH_CONNS);
	KUNIT_ASSERT_EQ(test, chimney_device_upload_all(cdev), 0);
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
	for (i = 0; i < CT_BATCH_CONNS; i++)
		KUNIT_EXPECT_EQ(test, ct_conn_state(id[i]), CHIMNEY_CONN_TERMINATED);
	ct_tgt_done(test, cdev);
}

struct ct_knob_writer {
	struct chimney_target *t;
	enum chimney_target_knob knob;
	s64 last;		/* last value written */
	int lost;		/* read back something else: update lost */
	int errors;
};

static int ct_knob_writer_fn(void *data)
{
	struct ct_knob_writer *w = data;
	s64 v = 0;

	while (!kthread_should_stop()) {
		v = v % 60000 + 1;
		if (chimney_target_set_knob(w->t, w->knob, v))
			w->errors++;
		/* Nobody else writes this knob. */
		if (chimney_target_get_knob(w->t, w->knob) != v)
			w->lost++;
		w->last = v;
		cond_resched();
	}
	return 0;
}

static struct task_struct *ct_start_on(struct kunit *test,
				       int (*fn)(void *), void *data,
				       unsigned int cpu, const char *name)
{
	struct task_struct *task = kthread_create(fn, data, "%s/%u", name, cpu);

	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	get_task_struct(task);
	kthread_bind(task, cpu);
	wake_up_process(task);
	return task;
}

static int ct_stop(struct task_struct *task)
{
	int ret = kthread_stop(task);

	put_task_struct(task);
	return ret;
}

/*
 * Knob writers on both CPUs, each writing its own knob, while offloads
 * consume fail_next_initiate: no write undoes another, and a consumed
 * one-shot failure never fires twice.
 */
static void chimney_target_knob_writers(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 1024);
	struct chimney_target *t = cdev->target;
	struct ct_knob_writer w[2] = {
		{ t, CHIMNEY_KNOB_BACKLOG_INTERVAL },
		{ t, CHIMNEY_KNOB_TERMINATE_DELAY },
	};
	struct task_struct *task[2];
	int i, twice = 0, first = 0;
	u64 id;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	for (i = 0; i < 2; i++)
		task[i] = ct_start_on(test, ct_knob_writer_fn, &w[i], i,
				      "ct_knob");
	for (i = 0; i < 200; i++) {
		KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t,
							      CHIMNEY_KNOB_FAIL_NEXT_INITIATE,
							      -ENOBUFS), 0);
		if (ct_tgt_offload(cdev, 2000 + 2 * i, &id) != -ENOBUFS)
			first++;
		if (ct_tgt_offload(cdev, 2001 + 2 * i, &id) != 0)
			twice++;
	}
	for (i = 0; i < 2; i++)
		ct_stop(task[i]);
	kunit_info(test, "lost updates %d/%d, one-shot fired twice %d, not at all %d",
		   w[0].lost, w[1].lost, twice, first);
	KUNIT_EXPECT_EQ(test, w[0].lost + w[1].lost, 0);
	KUNIT_EXPECT_EQ(test, w[0].errors + w[1].errors, 0);
	KUNIT_EXPECT_EQ(test, twice, 0);
	KUNIT_EXPECT_EQ(test, first, 0);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, chimney_target_get_knob(t, w[i].knob),
				w[i].last);
	ct_tgt_done(test, cdev);
}

struct ct_knob_case {
	enum chimney_target_knob knob;
	s64 value;
	int err;
	s64 stored;
};

static const struct ct_knob_case ct_knob_cases[] = {
	{ CHIMNEY_KNOB_CAPACITY, 0, -EINVAL },
	{ CHIMNEY_KNOB_CAPACITY, -1, -EINVAL },
	{ CHIMNEY_KNOB_CAPACITY, CHIMNEY_TARGET_MAX_CAPACITY + 1LL, -EINVAL },
	{ CHIMNEY_KNOB_CAPACITY, (s64)U32_MAX + 1, -EINVAL },
	{ CHIMNEY_KNOB_CAPACITY, S64_MAX, -EINVAL },
	{ CHIMNEY_KNOB_CAPACITY, CHIMNEY_TARGET_MAX_CAPACITY, 0, CHIMNEY_TARGET_MAX_CAPACITY },
	{ CHIMNEY_KNOB_INITIATE_DELAY, 60001, -EINVAL },
	{ CHIMNEY_KNOB_INITIATE_DELAY, -1, -EINVAL },
	{ CHIMNEY_KNOB_INITIATE_DELAY, (s64)U32_MAX + 1, -EINVAL },
	{ CHIMNEY_KNOB_TERMINATE_DELAY, S64_MIN, -EINVAL },
	{ CHIMNEY_KNOB_BACKLOG_INTERVAL, S64_MAX, -EINVAL },
	{ CHIMNEY_KNOB_BACKLOG_INTERVAL, 60000, 0, 60000 },
	{ CHIMNEY_KNOB_FAIL_INITIATE, 2, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_INITIATE, -1, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_TERMINATE, 1, 0, 1 },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, S64_MIN, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, S64_MAX, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, MAX_ERRNO + 1, -EINVAL },
	/* Errnos the offload path gives a meaning to. */
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, EINPROGRESS, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, -EINPROGRESS, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, EAGAIN, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, ENETDOWN, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, ENOSPC, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, EEXIST, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, ERESTARTSYS, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_TERMINATE, EINPROGRESS, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_TERMINATE, -MAX_ERRNO, -EINVAL },
	{ CHIMNEY_KNOB_FAIL_NEXT_INITIATE, ENOBUFS, 0, -ENOBUFS },
	{ CHIMNEY_KNOB_FAIL_NEXT_TERMINATE, -EIO, 0, -EIO },
	{ CHIMNEY_KNOB_FAIL_NEXT_TERMINATE, 0, 0, 0 },
	{ __CHIMNEY_KNOB_MAX, 0, -EINVAL },
};

static void ct_knob_desc(const struct ct_knob_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s=%lld",
		 c->knob < __CHIMNEY_KNOB_MAX ? chimney_target_knob_names[c->knob] :
		 "bogus", c->value);
}

KUNIT_ARRAY_PARAM(ct_knob, ct_knob_cases, ct_knob_desc);

/* Each knob takes its range only; a refused write changes nothing. */
static void chimney_target_knob_values(struct kunit *test)
{
	const struct ct_knob_case *c = test->param_value;
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target_knobs before, after;

	chimney_target_get_knobs(cdev->target, &before);
	KUNIT_EXPECT_EQ(test, chimney_target_set_knob(cdev->target, c->knob,
						      c->value), c->err);
	chimney_target_get_knobs(cdev->target, &after);
	if (c->err)
		KUNIT_EXPECT_EQ(test, memcmp(&before, &after, sizeof(before)), 0);
	else
		KUNIT_EXPECT_EQ(test, chimney_target_get_knob(cdev->target, c->knob),
				c->stored);
	ct_tgt_done(test, cdev);
}

/* What the host has seen of the target's status indications. */
static void ct_expect_status(struct kunit *test, struct chimney_device *cdev,
			     s64 pause, s64 upload_all, s64 resume)
{
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->pause), pause);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->upload_all), upload_all);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->resume), resume);
}

static void chimney_target_link(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	u64 a, b;

	/*
	 * dev_open()'s NETDEV_UP is acted on from a work item: let it land
	 * now, not in the middle of the link changes this test makes (it
	 * did, under load: an extra RESUME, offloads on a link "down").
	 */
	chimney_notify_flush();
	/* A new target's link is up: telling it so raises nothing. */
	chimney_target_set_link(t, true);
	ct_expect_status(test, cdev, 0, 0, 0);
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 800, &a), 0);
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 801, &b), 0);

	chimney_target_set_link(t, false);
	ct_expect_status(test, cdev, 0, 1, 0);
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, ct_conn_state(a), CHIMNEY_CONN_TERMINATED);
	KUNIT_EXPECT_EQ(test, ct_conn_state(b), CHIMNEY_CONN_TERMINATED);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 802, &a), -ENETDOWN);
	/* The target itself refuses, whatever the layer above does. */
	WRITE_ONCE(cdev->host->blocked, 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 803, &a), -ENETDOWN);
	KUNIT_EXPECT_EQ(test, t->refused_down, 1ULL);
	chimney_target_set_link(t, false);
	ct_expect_status(test, cdev, 0, 1, 0);

	chimney_target_set_link(t, true);
	ct_expect_status(test, cdev, 0, 1, 1);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 804, &a), 0);
	chimney_target_set_link(t, true);
	ct_expect_status(test, cdev, 0, 1, 1);
	ct_tgt_done(test, cdev);
}

static void chimney_target_status_on_demand(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	u64 id;

	KUNIT_EXPECT_EQ(test, chimney_target_status(t, 0x12345), -EINVAL);
	ct_expect_status(test, cdev, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_PAUSE), 0);
	ct_expect_status(test, cdev, 1, 0, 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 900, &id), -EAGAIN);

	/* The link bouncing does not end a pause asked for. */
	chimney_target_set_link(t, false);
	chimney_target_set_link(t, true);
	ct_expect_status(test, cdev, 1, 1, 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 901, &id), -ENETDOWN);

	KUNIT_EXPECT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	ct_expect_status(test, cdev, 1, 1, 1);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 902, &id), 0);

	KUNIT_EXPECT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_UPLOAD_ALL), 0);
	ct_expect_status(test, cdev, 1, 2, 1);
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, ct_conn_state(id), CHIMNEY_CONN_TERMINATED);

	/* No resume while the link is down; link up then resumes. */
	chimney_target_set_link(t, false);
	KUNIT_EXPECT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME),
			-ENETDOWN);
	ct_expect_status(test, cdev, 1, 3, 1);
	chimney_target_set_link(t, true);
	ct_expect_status(test, cdev, 1, 3, 1);
	KUNIT_EXPECT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	ct_expect_status(test, cdev, 1, 3, 2);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 903, &id), 0);
	ct_tgt_done(test, cdev);
}

/* Capabilities change only between a PAUSE and a RESUME. */
static void chimney_target_capacity_change_pauses(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 2);
	struct chimney_target *t = cdev->target;
	u64 id;

	chimney_host_set_capacity_source(cdev->host, chimney_target_read_capacity, t);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->capacity), 2U);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_CAPACITY, 5), 0);
	ct_expect_status(test, cdev, 1, 0, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->capacity), 5U);
	/* Same value: nothing changes, nothing raised. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_CAPACITY, 5), 0);
	ct_expect_status(test, cdev, 1, 0, 1);

	/* Paused: the change waits for the RESUME that ends the pause. */
	KUNIT_ASSERT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_PAUSE), 0);
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(t, CHIMNEY_KNOB_CAPACITY, 1), 0);
	ct_expect_status(test, cdev, 2, 0, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->capacity), 5U);
	KUNIT_ASSERT_EQ(test, chimney_target_status(t, CHIMNEY_STATUS_OFFLOAD_RESUME), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cdev->host->capacity), 1U);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 950, &id), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 951, &id), -ENOSPC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->refused_full), 1);
	ct_tgt_done(test, cdev);
}

static struct kunit_case chimney_target_cases[] = {
	KUNIT_CASE(chimney_target_capacity),
	KUNIT_CASE(chimney_target_async_completion),
	KUNIT_CASE(chimney_target_injected_failures),
	KUNIT_CASE(chimney_target_backlog_hysteresis),
	KUNIT_CASE(chimney_target_hw_failure_sequence),
	KUNIT_CASE(chimney_target_stats_per_family),
	KUNIT_CASE(chimney_target_completion_not_starved),
	KUNIT_CASE(chimney_target_backlog_trailing_edge),
	KUNIT_CASE(chimney_target_finds_its_own),
	KUNIT_CASE_SLOW(chimney_target_batched_walks),
	KUNIT_CASE(chimney_target_knob_writers),
	KUNIT_CASE_PARAM(chimney_target_knob_values, ct_knob_gen_params),
	KUNIT_CASE(chimney_target_link),
	KUNIT_CASE(chimney_target_status_on_demand),
	KUNIT_CASE(chimney_target_capacity_change_pauses),
	{}
};

static struct kunit_suite chimney_target_suite = {
	.name = "chimney_target",
	.test_cases = chimney_target_cases,
};

kunit_test_suite(chimney_target_suite);
