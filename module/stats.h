/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_STATS_H
#define _CHIMNEY_STATS_H

#include <linux/percpu.h>
#include <chimney/chimney.h>

struct seq_file;

/*
 * The rules the framework enforces on lower layers. Every rejection is
 * counted under exactly one rule, globally and for the device.
 */
enum chimney_rule {
	CHIMNEY_RULE_BAD_TYPE,
	CHIMNEY_RULE_BAD_REASON,
	CHIMNEY_RULE_UNKNOWN_HANDLE,
	CHIMNEY_RULE_WRONG_LAYER,
	CHIMNEY_RULE_NOT_OFFLOADED,
	CHIMNEY_RULE_TERMINATING,
	CHIMNEY_RULE_AFTER_ABORT,
	CHIMNEY_RULE_DUPLICATE_DISCONNECT,
	CHIMNEY_RULE_HALF_CLOSED_RETRIEVE,
	CHIMNEY_RULE_FORWARD_MISMATCH,
	CHIMNEY_RULE_BAD_COMPLETION,
	CHIMNEY_RULE_HARDIRQ,
	CHIMNEY_RULE_TOO_DEEP,
	__CHIMNEY_RULE_MAX,
};

/*
 * Per-CPU counters: the event path adds to its own CPU's copy only, so two
 * CPUs raising events share no cache line here. Readers sum the copies.
 */
struct chimney_stats {
	u64 events[CHIMNEY_EVENT_MAX + 1];
	u64 reasons[CHIMNEY_UPLOAD_REASON_MAX];
	u64 rules[__CHIMNEY_RULE_MAX];
	u64 offloaded;
	u64 offload_failed;
	u64 terminated;
	u64 live;
};

extern struct chimney_stats __percpu *const chimney_global_stats;

const char *chimney_rule_name(enum chimney_rule rule);
const char *chimney_event_name(u32 type);
const char *chimney_reason_name(u32 reason);
int chimney_reason_parse(const char *s, u32 *reason);
int chimney_event_parse(const char *s, u32 *type);

void chimney_stats_rule(struct chimney_stats __percpu *dev, enum chimney_rule rule);

/* Count on the global stats and, when there is one, on a device's. */
#define chimney_stats_add(dev, field, v)				\
	do {								\
		struct chimney_stats __percpu *__s = (dev);		\
		this_cpu_add(chimney_global_stats->field, (v));		\
		if (__s)						\
			this_cpu_add(__s->field, (v));			\
	} while (0)

/*
 * An accepted event, on the event path: per-CPU counters only, and the
 * connection's stack always has its device's.
 */
static inline void chimney_stats_event(struct chimney_stats __percpu *dev,
				       u32 type, u32 info)
{
	this_cpu_inc(chimney_global_stats->events[type]);
	this_cpu_inc(dev->events[type]);
	if (type == CHIMNEY_EVENT_RETRIEVE) {
		this_cpu_inc(chimney_global_stats->reasons[info]);
		this_cpu_inc(dev->reasons[info]);
	}
}

/* The sum over CPUs of one u64 @field of the per-CPU struct at @pcpu. */
#define chimney_pcpu_sum(pcpu, field)					\
	({								\
		typeof(pcpu) __p = (pcpu);				\
		u64 __sum = 0;						\
		int __cpu;						\
		for_each_possible_cpu(__cpu)				\
			__sum += per_cpu_ptr(__p, __cpu)->field;	\
		(s64)__sum;						\
	})

/* The sum over CPUs of one counter of @s (a per-CPU pointer). */
#define chimney_stats_read(s, field)					\
	chimney_pcpu_sum((struct chimney_stats __percpu *)(s), field)

void chimney_stats_show(struct seq_file *m, struct chimney_stats __percpu *s);

#endif
