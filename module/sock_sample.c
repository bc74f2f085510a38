// SPDX-License-Identifier: GPL-2.0
/*
 * What the socket target's sampler measures on a live connection and what
 * it concludes: the events no socket callback announces. Every sampling
 * period the target takes tcp_get_info() of each offloaded socket (the
 * counters TCP keeps anyway) and compares it with the previous look:
 *
 *  - Retrieve(HighOutOfOrderPackets): segments queued out of order, per
 *    thousand data segments received, at or above ooo_permille;
 *  - Retrieve(HighDropRate): retransmissions, per thousand segments sent,
 *    at or above drop_permille;
 *  (each rate over a window of at least min_segs segments)
 *  - Retrieve(LowActivity): no data either way for idle_ms;
 *  - SendBacklogChange: the send pipe the connection can use, the larger of
 *    cwnd x MSS and delivery rate x sRTT, under the backlog hysteresis.
 *
 * Windows publishes no thresholds for the optional reasons; these are
 * knobs with defaults that a lossless path never reaches. The decisions
 * are pure functions of two looks, tested without sockets (KUnit).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math64.h>
#include <linux/tcp.h>
#include <net/tcp.h>
#include <chimney/chimney.h>

#include "compat.h"
#include "sock_sample.h"

const char * const chimney_sock_knob_names[__CHIMNEY_SOCK_KNOB_MAX] = {
	[CHIMNEY_SOCK_KNOB_SAMPLE] = "sample_ms",
	[CHIMNEY_SOCK_KNOB_MIN_SEGS] = "min_segs",
	[CHIMNEY_SOCK_KNOB_OOO] = "ooo_permille",
	[CHIMNEY_SOCK_KNOB_DROP] = "drop_permille",
	[CHIMNEY_SOCK_KNOB_IDLE] = "idle_ms",
	[CHIMNEY_SOCK_KNOB_BACKLOG_INTERVAL] = "backlog_interval_ms",
};

/*
 * A quarter of the segments of a period with at least 64 of them: far from
 * anything a healthy path shows, and reached at once by the netem settings
 * of the tests. LowActivity is off: an idle connection costs a real
 * offload target nothing but its state, so uploading it is a policy the
 * user opts into.
 */
void chimney_sock_knobs_init(struct chimney_sock_knobs *k)
{
	k->sample_ms = 100;
	k->min_segs = 64;
	k->ooo_permille = 250;
	k->drop_permille = 250;
	k->idle_ms = 0;
	k->backlog_interval_ms = 100;
}

/**
 * chimney_sock_knob_check() - is @value valid for @knob
 * @knob: which knob
 * @value: what a user wrote
 *
 * Return: 0, or -EINVAL: periods and times 0..CHIMNEY_SOCK_MAX_MS, rates
 * 0..1000 per thousand, min_segs 1..1000000.
 */
int chimney_sock_knob_check(enum chimney_sock_knob knob, s64 value)
{
	switch (knob) {
	case CHIMNEY_SOCK_KNOB_SAMPLE:
	case CHIMNEY_SOCK_KNOB_IDLE:
	case CHIMNEY_SOCK_KNOB_BACKLOG_INTERVAL:
		return value >= 0 && value <= CHIMNEY_SOCK_MAX_MS ? 0 : -EINVAL;
	case CHIMNEY_SOCK_KNOB_OOO:
	case CHIMNEY_SOCK_KNOB_DROP:
		return value >= 0 && value <= 1000 ? 0 : -EINVAL;
	case CHIMNEY_SOCK_KNOB_MIN_SEGS:
		return value >= 1 && value <= 1000000 ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(chimney_sock_knob_check);

/**
 * chimney_sock_pipe() - the send pipe a connection can use, in bytes
 * @cwnd: congestion window, in segments
 * @mss: sender MSS
 * @rate: delivery rate, bytes per second
 * @rtt_us: smoothed RTT
 *
 * Return: max(@cwnd x @mss, @rate x @rtt_us), saturated below
 * CHIMNEY_BACKLOG_UNSUPPORTED (never 0: a connection can always send one
 * byte).
 */
u32 chimney_sock_pipe(u32 cwnd, u32 mss, u64 rate, u32 rtt_us)
{
	u64 window = (u64)cwnd * mss;
	u64 bdp = 0;

	if (rtt_us)
		bdp = rate > div_u64(U64_MAX, rtt_us) ? U64_MAX :
		      div_u64(rate * rtt_us, USEC_PER_SEC);
	return clamp_t(u64, max(window, bdp), 1,
		       CHIMNEY_BACKLOG_UNSUPPORTED - 1);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_sock_pipe);

/* Process context, the socket not locked by us: tcp_get_info() locks it. */
void chimney_sock_sample_take(struct sock *sk, struct chimney_sock_sample *s)
{
	struct tcp_info info;

	tcp_get_info(sk, &info);
	s->data_segs_in = info.tcpi_data_segs_in;
	s->rcv_ooopack = info.tcpi_rcv_ooopack;
	s->segs_out = info.tcpi_segs_out;
	s->total_retrans = info.tcpi_total_retrans;
	s->idle_ms = min(info.tcpi_last_data_recv, info.tcpi_last_data_sent);
	s->pipe = chimney_sock_pipe(info.tcpi_snd_cwnd, info.tcpi_snd_mss,
				    info.tcpi_delivery_rate, info.tcpi_rtt);
}

/*
 * Where the rates' windows of a new offload start: the counters as they
 * are now, so that what is lost between the offload and the first look
 * counts. The caller owns the socket (tcp_get_info() would wait for it).
 */
void chimney_sock_sample_base(const struct sock *sk,
			      struct chimney_sock_sample *s)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	memset(s, 0, sizeof(*s));
	s->data_segs_in = tp->data_segs_in;
	s->rcv_ooopack = tp->rcv_ooopack;
	s->segs_out = tp->segs_out;
	s->total_retrans = tp->total_retrans;
}

/* @part of @whole, per thousand, at or above @permille; @whole >= @min. */
static bool chimney_sock_rate_high(u32 part, u32 whole, u32 min,
				   u32 permille)
{
	return permille && whole >= min &&
	       (u64)part * 1000 >= (u64)permille * whole;
}

/**
 * chimney_sock_sample_judge() - the upload reasons a look calls for
 * @k: the device's knobs
 * @base: where each rate's window starts; moved to @now for a rate judged
 * @now: this look at the connection
 *
 * A rate's window runs from @base until it holds min_segs segments (in
 * for reordering, out for drops), however many looks that takes: a
 * retransmission that stalled a period short of segments still counts in
 * the next. The counters are TCP's and wrap: differences are modulo 2^32.
 *
 * Return: CHIMNEY_SOCK_WANTS() bits of CHIMNEY_UPLOAD_HIGH_DROP_RATE,
 * CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS and CHIMNEY_UPLOAD_LOW_ACTIVITY.
 */
u32 chimney_sock_sample_judge(const struct chimney_sock_knobs *k,
			      struct chimney_sock_sample *base,
			      const struct chimney_sock_sample *now)
{
	u32 in = now->data_segs_in - base->data_segs_in;
	u32 out = now->segs_out - base->segs_out;
	u32 wants = 0;

	if (chimney_sock_rate_high(now->total_retrans - base->total_retrans,
				   out, k->min_segs, k->drop_permille))
		wants |= CHIMNEY_SOCK_WANTS(CHIMNEY_UPLOAD_HIGH_DROP_RATE);
	if (out >= k->min_segs) {
		base->segs_out = now->segs_out;
		base->total_retrans = now->total_retrans;
	}
	if (chimney_sock_rate_high(now->rcv_ooopack - base->rcv_ooopack, in,
				   k->min_segs, k->ooo_permille))
		wants |= CHIMNEY_SOCK_WANTS(CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS);
	if (in >= k->min_segs) {
		base->data_segs_in = now->data_segs_in;
		base->rcv_ooopack = now->rcv_ooopack;
	}
	if (k->idle_ms && now->idle_ms >= k->idle_ms)
		wants |= CHIMNEY_SOCK_WANTS(CHIMNEY_UPLOAD_LOW_ACTIVITY);
	return wants;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_sock_sample_judge);
