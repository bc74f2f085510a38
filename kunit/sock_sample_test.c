// SPDX-License-Identifier: GPL-2.0
/*
 * The socket target sampler's decisions, without sockets: what two looks
 * at a connection call for, the send pipe, the backlog hysteresis and the
 * knob bounds (the VM test provokes each on a real connection).
 */

#include <kunit/test.h>
#include <chimney/chimney.h>

#include "backlog.h"
#include "sock_sample.h"

#define WANTS(r)	CHIMNEY_SOCK_WANTS(CHIMNEY_UPLOAD_##r)

static const struct chimney_sock_knobs knobs = {
	.sample_ms = 100,
	.min_segs = 64,
	.ooo_permille = 250,
	.drop_permille = 250,
	.idle_ms = 1000,
	.backlog_interval_ms = 100,
};

/* A period of @out segments sent with @retrans retransmitted. */
static u32 judge_drops(const struct chimney_sock_knobs *k, u32 base,
		       u32 out, u32 retrans)
{
	struct chimney_sock_sample then = {
		.segs_out = base, .total_retrans = base / 2,
	};
	struct chimney_sock_sample now = {
		.segs_out = base + out, .total_retrans = base / 2 + retrans,
	};

	return chimney_sock_sample_judge(k, &then, &now);
}

static u32 judge_ooo(const struct chimney_sock_knobs *k, u32 in, u32 ooo)
{
	struct chimney_sock_sample then = { .data_segs_in = 7,
					    .rcv_ooopack = 3 };
	struct chimney_sock_sample now = { .data_segs_in = 7 + in,
					   .rcv_ooopack = 3 + ooo };

	return chimney_sock_sample_judge(k, &then, &now);
}

static void chimney_sample_drop_rate(struct kunit *test)
{
	struct chimney_sock_knobs off = knobs;

	/* A quarter exactly is high; one fewer is not. */
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, 100, 100, 25), WANTS(HIGH_DROP_RATE));
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, 100, 100, 24), 0);
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, 100, 1000, 1000), WANTS(HIGH_DROP_RATE));
	/* Too few segments in the period to call it a rate. */
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, 100, 63, 63), 0);
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, 100, 64, 16), WANTS(HIGH_DROP_RATE));
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, 100, 0, 0), 0);
	/* TCP's counters wrap: the difference is modulo 2^32. */
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, U32_MAX - 10, 100, 30),
			WANTS(HIGH_DROP_RATE));
	KUNIT_EXPECT_EQ(test, judge_drops(&knobs, U32_MAX - 10, 100, 10), 0);
	off.drop_permille = 0;
	KUNIT_EXPECT_EQ(test, judge_drops(&off, 100, 1000, 1000), 0);
	/* 1000 per thousand: only a period of nothing but retransmissions. */
	off.drop_permille = 1000;
	KUNIT_EXPECT_EQ(test, judge_drops(&off, 100, 100, 100), WANTS(HIGH_DROP_RATE));
	KUNIT_EXPECT_EQ(test, judge_drops(&off, 100, 100, 99), 0);
}

static void chimney_sample_out_of_order(struct kunit *test)
{
	struct chimney_sock_knobs k = knobs;

	KUNIT_EXPECT_EQ(test, judge_ooo(&knobs, 200, 50), WANTS(HIGH_OUT_OF_ORDER_PACKETS));
	KUNIT_EXPECT_EQ(test, judge_ooo(&knobs, 200, 49), 0);
	KUNIT_EXPECT_EQ(test, judge_ooo(&knobs, 63, 63), 0);
	k.min_segs = 1;
	KUNIT_EXPECT_EQ(test, judge_ooo(&k, 1, 1), WANTS(HIGH_OUT_OF_ORDER_PACKETS));
	k.ooo_permille = 0;
	KUNIT_EXPECT_EQ(test, judge_ooo(&k, 1000, 1000), 0);
}

static void chimney_sample_idle(struct kunit *test)
{
	struct chimney_sock_sample then = { };
	struct chimney_sock_sample now = { .idle_ms = 999 };
	struct chimney_sock_knobs k = knobs;

	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&k, &then, &now), 0);
	now.idle_ms = 1000;
	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&k, &then, &now),
			WANTS(LOW_ACTIVITY));
	k.idle_ms = 0;
	now.idle_ms = U32_MAX;
	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&k, &then, &now), 0);
}

/* Several at once: each bit, the caller raises them one per look. */
static void chimney_sample_all_at_once(struct kunit *test)
{
	struct chimney_sock_sample then = { };
	struct chimney_sock_sample now = {
		.data_segs_in = 100, .rcv_ooopack = 100,
		.segs_out = 100, .total_retrans = 100, .idle_ms = 5000,
	};

	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&knobs, &then, &now),
			WANTS(HIGH_DROP_RATE) | WANTS(HIGH_OUT_OF_ORDER_PACKETS) |
			WANTS(LOW_ACTIVITY));
	/* The lowest reason first: LowActivity before HighDropRate. */
	KUNIT_EXPECT_EQ(test, __ffs(chimney_sock_sample_judge(&knobs, &then, &now)),
			CHIMNEY_UPLOAD_LOW_ACTIVITY);
}

/* A window spans looks until it holds min_segs segments, per direction. */
static void chimney_sample_window(struct kunit *test)
{
	struct chimney_sock_sample base = { .data_segs_in = 5 };
	struct chimney_sock_sample now = { .data_segs_in = 5,
					   .segs_out = 10, .total_retrans = 10 };

	/* 10 of 10 retransmitted, but 10 is no window yet: base stays. */
	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&knobs, &base, &now), 0);
	KUNIT_EXPECT_EQ(test, base.segs_out, 0);
	KUNIT_EXPECT_EQ(test, base.total_retrans, 0);
	/* 70 segments since the base, 20 of them retransmissions. */
	now.segs_out = 70;
	now.total_retrans = 20;
	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&knobs, &base, &now),
			WANTS(HIGH_DROP_RATE));
	KUNIT_EXPECT_EQ(test, base.segs_out, 70);
	KUNIT_EXPECT_EQ(test, base.total_retrans, 20);
	/* The receive window did not move: nothing received. */
	KUNIT_EXPECT_EQ(test, base.data_segs_in, 5);
	/* The next window holds no retransmission. */
	now.segs_out = 140;
	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&knobs, &base, &now), 0);
	KUNIT_EXPECT_EQ(test, base.segs_out, 140);
	/* Reordering is judged on its own window. */
	now.data_segs_in = 5 + 64;
	now.rcv_ooopack = 16;
	KUNIT_EXPECT_EQ(test, chimney_sock_sample_judge(&knobs, &base, &now),
			WANTS(HIGH_OUT_OF_ORDER_PACKETS));
	KUNIT_EXPECT_EQ(test, base.data_segs_in, 69);
	KUNIT_EXPECT_EQ(test, base.rcv_ooopack, 16);
	KUNIT_EXPECT_EQ(test, base.segs_out, 140);
}

static void chimney_sample_pipe(struct kunit *test)
{
	/* cwnd x MSS against delivery rate x sRTT: the larger. */
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(10, 1448, 0, 0), 14480);
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(10, 1448, 1000000, 100000), 100000);
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(100, 1448, 1000000, 100000), 144800);
	/* Never 0, never the "unsupported" value, whatever TCP reports. */
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(0, 0, 0, 0), 1);
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(U32_MAX, U32_MAX, 0, 0),
			CHIMNEY_BACKLOG_UNSUPPORTED - 1);
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(1, 1, U64_MAX, U32_MAX),
			CHIMNEY_BACKLOG_UNSUPPORTED - 1);
	KUNIT_EXPECT_EQ(test, chimney_sock_pipe(1, 1, U64_MAX / 2, 3),
			CHIMNEY_BACKLOG_UNSUPPORTED - 1);
}

static void chimney_sample_backlog_hysteresis(struct kunit *test)
{
	/* The first value always goes. */
	KUNIT_EXPECT_TRUE(test, chimney_backlog_moved(0, 1));
	/* An eighth of the last one, at least one MSS (1460). */
	KUNIT_EXPECT_FALSE(test, chimney_backlog_moved(80000, 80000));
	KUNIT_EXPECT_FALSE(test, chimney_backlog_moved(80000, 89999));
	KUNIT_EXPECT_TRUE(test, chimney_backlog_moved(80000, 90000));
	KUNIT_EXPECT_TRUE(test, chimney_backlog_moved(80000, 70000));
	KUNIT_EXPECT_FALSE(test, chimney_backlog_moved(80000, 70001));
	KUNIT_EXPECT_FALSE(test, chimney_backlog_moved(2000, 3459));
	KUNIT_EXPECT_TRUE(test, chimney_backlog_moved(2000, 3460));
	KUNIT_EXPECT_TRUE(test, chimney_backlog_moved(U32_MAX, 1));
}

static void chimney_sample_knob_bounds(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_SAMPLE, 0), 0);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_SAMPLE,
						      CHIMNEY_SOCK_MAX_MS), 0);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_SAMPLE,
						      CHIMNEY_SOCK_MAX_MS + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_IDLE, -1), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_BACKLOG_INTERVAL,
						      S64_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_OOO, 1000), 0);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_OOO, 1001), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_DROP, -1), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_MIN_SEGS, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_MIN_SEGS, 1), 0);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(CHIMNEY_SOCK_KNOB_MIN_SEGS,
						      1000001), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(__CHIMNEY_SOCK_KNOB_MAX, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_sock_knob_check(-1, 1), -EINVAL);
}

static struct kunit_case chimney_sock_sample_cases[] = {
	KUNIT_CASE(chimney_sample_drop_rate),
	KUNIT_CASE(chimney_sample_out_of_order),
	KUNIT_CASE(chimney_sample_idle),
	KUNIT_CASE(chimney_sample_all_at_once),
	KUNIT_CASE(chimney_sample_window),
	KUNIT_CASE(chimney_sample_pipe),
	KUNIT_CASE(chimney_sample_backlog_hysteresis),
	KUNIT_CASE(chimney_sample_knob_bounds),
	{}
};

static struct kunit_suite chimney_sock_sample_suite = {
	.name = "chimney_sock_sample",
	.test_cases = chimney_sock_sample_cases,
};
kunit_test_suite(chimney_sock_sample_suite);
