/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_SOCK_SAMPLE_H
#define _CHIMNEY_SOCK_SAMPLE_H

#include <linux/bits.h>
#include <linux/types.h>

struct sock;

/*
 * The socket target's sampler knobs, one debugfs file each under
 * devices/<dev>/ of a device attached target=sock. A rate is judged over
 * a window of at least min_segs segments (1 of 1 is not a rate), which
 * spans as many sampling periods as it takes.
 */
struct chimney_sock_knobs {
	unsigned int sample_ms;		/* the period; 0 stops the sampler */
	unsigned int min_segs;		/* fewer in a period: no rate judged */
	unsigned int ooo_permille;	/* HighOutOfOrderPackets; 0 off */
	unsigned int drop_permille;	/* HighDropRate; 0 off */
	unsigned int idle_ms;		/* LowActivity; 0 off */
	unsigned int backlog_interval_ms; /* at most one backlog per interval */
};

enum chimney_sock_knob {
	CHIMNEY_SOCK_KNOB_SAMPLE,
	CHIMNEY_SOCK_KNOB_MIN_SEGS,
	CHIMNEY_SOCK_KNOB_OOO,
	CHIMNEY_SOCK_KNOB_DROP,
	CHIMNEY_SOCK_KNOB_IDLE,
	CHIMNEY_SOCK_KNOB_BACKLOG_INTERVAL,
	__CHIMNEY_SOCK_KNOB_MAX,
};

extern const char * const chimney_sock_knob_names[__CHIMNEY_SOCK_KNOB_MAX];

/* Longest sampling period, idle time and backlog interval: one hour. */
#define CHIMNEY_SOCK_MAX_MS	3600000U

/* What one look at a socket (tcp_get_info()) saw. */
struct chimney_sock_sample {
	u32 data_segs_in;	/* data segments received */
	u32 rcv_ooopack;	/* of which queued out of order */
	u32 segs_out;		/* segments sent, retransmissions included */
	u32 total_retrans;	/* of which retransmissions */
	u32 idle_ms;		/* since data last went either way */
	u32 pipe;		/* max(cwnd x MSS, delivery rate x sRTT), bytes */
};

void chimney_sock_knobs_init(struct chimney_sock_knobs *k);
int chimney_sock_knob_check(enum chimney_sock_knob knob, s64 value);
void chimney_sock_sample_take(struct sock *sk, struct chimney_sock_sample *s);
void chimney_sock_sample_base(const struct sock *sk,
			      struct chimney_sock_sample *s);
/* Bits of chimney_sock_sample_judge()'s answer, by upload reason. */
#define CHIMNEY_SOCK_WANTS(reason)	BIT(reason)

u32 chimney_sock_sample_judge(const struct chimney_sock_knobs *k,
			      struct chimney_sock_sample *base,
			      const struct chimney_sock_sample *now);
u32 chimney_sock_pipe(u32 cwnd, u32 mss, u64 rate, u32 rtt_us);

#endif
