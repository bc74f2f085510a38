// SPDX-License-Identifier: GPL-2.0
/*
 * The fake offload target: capacity, asynchronous completion, injected
 * failures, send-backlog hysteresis, the hardware-failure sequence and
 * TCP_OFFLOAD_STATS accounting.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "device.h"
#include "host.h"
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

static enum chimney_conn_state ct_state(u64 id)
{
	struct chimney_conn *conn = chimney_conn_get_id(id);
	enum chimney_conn_state s;

	if (!conn)
		return CHIMNEY_CONN_TERMINATED;
	s = READ_ONCE(conn->state);
	chimney_conn_put(conn);
	return s;
}

static void chimney_target_capacity(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 3);
	struct chimney_target_knobs k;
	u64 id[3], extra;
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 100 + i, &id[i]), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 200, &extra), -ENOSPC);
	KUNIT_EXPECT_EQ(test, cdev->target->refused_full, 1ULL);
	KUNIT_EXPECT_EQ(test, cdev->target->nr_conns, 3U);

	/* Freed capacity is reusable; raised capacity takes effect. */
	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id[0],
						   CHIMNEY_EVENT_ABORT, 0), 0);
	chimney_host_flush(cdev->host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 200, &extra), 0);
	chimney_target_get_knobs(cdev->target, &k);
	k.capacity = 4;
	KUNIT_ASSERT_EQ(test, chimney_target_set_knobs(cdev->target, &k), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 201, &extra), 0);
	k.capacity = 0;
	KUNIT_EXPECT_EQ(test, chimney_target_set_knobs(cdev->target, &k), -EINVAL);
	ct_tgt_done(test, cdev);
}

static void chimney_target_async_completion(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target_knobs k;
	u64 id;
	int i;

	chimney_target_get_knobs(cdev->target, &k);
	/* Long enough that a slow (TCG) VM still sees the pending states. */
	k.initiate_delay_ms = 1000;
	k.terminate_delay_ms = 1000;
	KUNIT_ASSERT_EQ(test, chimney_target_set_knobs(cdev->target, &k), 0);

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 300, &id), 0);
	KUNIT_EXPECT_NE(test, id, 0ULL);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_OFFLOADING);
	/* Illegal until the completion has come through. */
	KUNIT_EXPECT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_ABORT, 0),
			-EPROTO);
	for (i = 0; i < 1000 && ct_state(id) == CHIMNEY_CONN_OFFLOADING; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_OFFLOADED);

	KUNIT_ASSERT_EQ(test, chimney_target_raise(cdev->target, id,
						   CHIMNEY_EVENT_RETRIEVE,
						   CHIMNEY_UPLOAD_UPLOAD_REQUESTED),
			0);
	chimney_host_flush(cdev->host);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_TERMINATING);
	for (i = 0; i < 1000 && ct_state(id) != CHIMNEY_CONN_TERMINATED; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_TERMINATED);

	/* Detach with a pending initiate: completed, then uploaded. */
	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 301, &id), 0);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_OFFLOADING);
	ct_tgt_done(test, cdev);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_TERMINATED);
}

static void chimney_target_injected_failures(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_stack *stack = cdev->target->layer.stack;
	struct chimney_target_knobs k;
	s64 failed = atomic64_read(&stack->stats.offload_failed);
	u64 id;

	chimney_target_get_knobs(cdev->target, &k);
	k.fail_next_initiate = -ENOBUFS;
	KUNIT_ASSERT_EQ(test, chimney_target_set_knobs(cdev->target, &k), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 400, &id), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, atomic64_read(&stack->stats.offload_failed),
			failed + 1);
	/* One-shot: the next one works. */
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 400, &id), 0);

	chimney_target_get_knobs(cdev->target, &k);
	k.fail_initiate = true;
	KUNIT_ASSERT_EQ(test, chimney_target_set_knobs(cdev->target, &k), 0);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 401, &id), -EIO);
	KUNIT_EXPECT_EQ(test, ct_tgt_offload(cdev, 402, &id), -EIO);
	k.fail_initiate = false;
	k.fail_next_initiate = 5;
	KUNIT_EXPECT_EQ(test, chimney_target_set_knobs(cdev->target, &k), -EINVAL);
	KUNIT_EXPECT_EQ(test, cdev->target->nr_conns, 1U);
	ct_tgt_done(test, cdev);
}

static void chimney_target_backlog_hysteresis(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "cttarget%d"), 8);
	struct chimney_target *t = cdev->target;
	struct chimney_target_knobs k;
	u32 backlog;
	u64 id;

	KUNIT_ASSERT_EQ(test, ct_tgt_offload(cdev, 500, &id), 0);
	/* 125 MB/s x 1 ms = 125000 bytes: the first value is indicated. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 1000), 1);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 125000U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]),
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
	chimney_target_get_knobs(t, &k);
	k.backlog_interval_ms = 60000;
	KUNIT_ASSERT_EQ(test, chimney_target_set_knobs(t, &k), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 125000000, 8000), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, 250000U);

	/* Small paths are bounded below by one MSS of hysteresis. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, 0, 100), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, 999, 1, 1), -ENOENT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]),
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
	KUNIT_EXPECT_EQ(test, atomic64_read(&host->reasons[CHIMNEY_UPLOAD_HARDWARE_FAILURE]), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&host->events[CHIMNEY_EVENT_ABORT]), 1);
	KUNIT_EXPECT_EQ(test, t->stats[0].reset_established, 1U);
	/* Nothing after the abort (rejected, or already uploaded). */
	err = chimney_target_raise(t, id, CHIMNEY_EVENT_RETRIEVE,
				   CHIMNEY_UPLOAD_HARDWARE_FAILURE);
	KUNIT_EXPECT_TRUE_MSG(test, err == -EPROTO || err == -ENOENT, "err %d", err);
	chimney_host_flush(host);
	chimney_flush();
	for (i = 0; i < 100 && ct_state(id) != CHIMNEY_CONN_TERMINATED; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_state(id), CHIMNEY_CONN_TERMINATED);
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
		done += ct_state(ids[i]) != CHIMNEY_CONN_OFFLOADING;
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
	struct chimney_target_knobs k;
	ktime_t end;
	int n = 0, during, i;

	KUNIT_ASSERT_NOT_NULL(test, ids);
	chimney_target_get_knobs(cdev->target, &k);
	k.initiate_delay_ms = 100;
	KUNIT_ASSERT_EQ(test, chimney_target_set_knobs(cdev->target, &k), 0);
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
	KUNIT_EXPECT_NE(test, ct_state(ids[0]), CHIMNEY_CONN_OFFLOADING);
	for (i = 0; i < 1000 && ct_completed(ids, n) < n; i++)
		usleep_range(10000, 11000);
	KUNIT_EXPECT_EQ(test, ct_completed(ids, n), n);
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
	{}
};

static struct kunit_suite chimney_target_suite = {
	.name = "chimney_target",
	.test_cases = chimney_target_cases,
};

kunit_test_suite(chimney_target_suite);
