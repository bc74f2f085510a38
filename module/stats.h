/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_STATS_H
#define _CHIMNEY_STATS_H

#include <linux/atomic.h>
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
	__CHIMNEY_RULE_MAX,
};

struct chimney_stats {
	atomic64_t events[CHIMNEY_EVENT_MAX + 1];
	atomic64_t reasons[CHIMNEY_UPLOAD_REASON_MAX];
	atomic64_t rules[__CHIMNEY_RULE_MAX];
	atomic64_t offloaded;
	atomic64_t offload_failed;
	atomic64_t terminated;
	atomic64_t live;
};

extern struct chimney_stats chimney_global_stats;

const char *chimney_rule_name(enum chimney_rule rule);
const char *chimney_event_name(u32 type);
const char *chimney_reason_name(u32 reason);
int chimney_reason_parse(const char *s, u32 *reason);
int chimney_event_parse(const char *s, u32 *type);

void chimney_stats_event(struct chimney_stats *dev, u32 type, u32 info);
void chimney_stats_rule(struct chimney_stats *dev, enum chimney_rule rule);

/* Count on the global stats and, when there is one, on a device's. */
#define chimney_stats_add(dev, field, v)				\
	do {								\
		struct chimney_stats *__s = (dev);			\
		atomic64_add((v), &chimney_global_stats.field);		\
		if (__s)						\
			atomic64_add((v), &__s->field);			\
	} while (0)
void chimney_stats_show(struct seq_file *m, struct chimney_stats *s);
void chimney_stats_reset(struct chimney_stats *s);

#endif
