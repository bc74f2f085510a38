/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chimney_bench.ko: the benchmark of issue 10. Every figure is measured
 * next to its baseline in the same run and printed as a ratio on one
 * "figure: <row>: ..." line per README row; the cases assert only that the
 * operations succeeded and the counts match, never a time.
 */
#ifndef _CHIMNEY_BENCH_H
#define _CHIMNEY_BENCH_H

#include <kunit/test.h>
#include <linux/netdevice.h>
#include <chimney/chimney.h>

/* Module parameters (bench_main.c). */
extern unsigned int cb_rounds;
extern unsigned int cb_events;
extern unsigned int cb_event_conns;
extern unsigned int cb_lookup_conns[];
extern unsigned int cb_nr_lookup_conns;
extern unsigned int cb_lookups;
extern unsigned int cb_upload_conns;
extern unsigned int cb_upload_rounds;

/* A number with two decimals, as text: cb_fix2(a, b).s is "a / b". */
struct cb_num {
	char s[32];
};

struct cb_num cb_fix2(s64 num, s64 den);

/*
 * The clock of every figure: the CPU's cycle counter, calibrated at load
 * against the kernel's clock (under TCG without a reference timer the
 * kernel falls back to jiffies, 4 ms steps); ktime_get_ns() if there is
 * no cycle counter.
 */
u64 cb_clock(void);
u64 cb_ps(u64 delta, u64 n);
u64 cb_ns(u64 delta);
extern u64 cb_cycles_per_ms;
u64 cb_median(const u64 *v, unsigned int n);
s64 cb_median_s(const s64 *v, unsigned int n);

struct net_device *cb_netdev_create(const char *name);
void cb_netdev_destroy(struct net_device *dev);
struct net_device *cb_netdev(struct kunit *test, const char *name);
void cb_tuple(struct chimney_tuple *t, unsigned int i);

/* One protocol-layer connection of a bench stack. */
struct cb_tcb {
	struct chimney_offload_handle handle;
	u64 events;
	int status;			/* 1 until the initiate completed */
	bool terminated;
};

/* bench_event.c */
void chimney_bench_hop(struct kunit *test);
void chimney_bench_notifier(struct kunit *test);
void chimney_bench_two_cpus(struct kunit *test);

/* bench_table.c */
void chimney_bench_lookup(struct kunit *test);
void chimney_bench_upload_all(struct kunit *test);
int cb_hold_fill(unsigned int conns, u64 *fill_ns);
int cb_hold_drain(u64 *drain_ns);

#endif
