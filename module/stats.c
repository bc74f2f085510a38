// SPDX-License-Identifier: GPL-2.0
/*
 * Counters and names: events per type and upload reason, rule violations
 * per rule, connection lifecycle. The global set and each device's set are
 * updated together so the two views cannot disagree.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "compat.h"
#include "stats.h"

static DEFINE_PER_CPU(struct chimney_stats, chimney_global_pcpu);
struct chimney_stats __percpu *const chimney_global_stats = &chimney_global_pcpu;
EXPORT_SYMBOL_IF_KUNIT(chimney_global_stats);

static const char * const chimney_rule_names[__CHIMNEY_RULE_MAX] = {
	[CHIMNEY_RULE_BAD_TYPE]			= "bad_type",
	[CHIMNEY_RULE_BAD_REASON]		= "bad_reason",
	[CHIMNEY_RULE_UNKNOWN_HANDLE]		= "unknown_handle",
	[CHIMNEY_RULE_WRONG_LAYER]		= "wrong_layer",
	[CHIMNEY_RULE_NOT_OFFLOADED]		= "not_offloaded",
	[CHIMNEY_RULE_TERMINATING]		= "terminating",
	[CHIMNEY_RULE_AFTER_ABORT]		= "after_abort",
	[CHIMNEY_RULE_DUPLICATE_DISCONNECT]	= "duplicate_disconnect",
	[CHIMNEY_RULE_HALF_CLOSED_RETRIEVE]	= "half_closed_retrieve",
	[CHIMNEY_RULE_FORWARD_MISMATCH]		= "forward_mismatch",
	[CHIMNEY_RULE_BAD_COMPLETION]		= "bad_completion",
	[CHIMNEY_RULE_HARDIRQ]			= "hardirq",
	[CHIMNEY_RULE_TOO_DEEP]			= "too_deep",
};

static const char * const chimney_event_names[CHIMNEY_EVENT_MAX + 1] = {
	[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]	= "backlog",
	[CHIMNEY_EVENT_DISCONNECT]		= "disconnect",
	[CHIMNEY_EVENT_RETRIEVE]		= "retrieve",
	[CHIMNEY_EVENT_ABORT]			= "abort",
};

static const char * const chimney_reason_names[CHIMNEY_UPLOAD_REASON_MAX] = {
	[CHIMNEY_UPLOAD_LOW_ACTIVITY]		= "low_activity",
	[CHIMNEY_UPLOAD_HIGH_DROP_RATE]		= "high_drop_rate",
	[CHIMNEY_UPLOAD_SMALL_IO]		= "small_io",
	[CHIMNEY_UPLOAD_NO_BUFFER_PREPOSTING]	= "no_buffer_preposting",
	[CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA]	= "received_urgent_data",
	[CHIMNEY_UPLOAD_HIGH_FRAGMENTATION]	= "high_fragmentation",
	[CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS] = "high_out_of_order_packets",
	[CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION]	= "timeout_expiration",
	[CHIMNEY_UPLOAD_INVALID_STATE]		= "invalid_state",
	[CHIMNEY_UPLOAD_UPLOAD_REQUESTED]	= "upload_requested",
	[CHIMNEY_UPLOAD_HARDWARE_FAILURE]	= "hardware_failure",
};

const char *chimney_rule_name(enum chimney_rule rule)
{
	return (unsigned int)rule < __CHIMNEY_RULE_MAX ?
		chimney_rule_names[rule] : "?";
}
EXPORT_SYMBOL_IF_KUNIT(chimney_rule_name);

const char *chimney_event_name(u32 type)
{
	return type && type <= CHIMNEY_EVENT_MAX ?
		chimney_event_names[type] : "?";
}
EXPORT_SYMBOL_IF_KUNIT(chimney_event_name);

const char *chimney_reason_name(u32 reason)
{
	return chimney_upload_reason_valid(reason) ?
		chimney_reason_names[reason] : "?";
}
EXPORT_SYMBOL_IF_KUNIT(chimney_reason_name);

/* Look @s up in @names[1..n-1] or take it as a decimal number in range. */
static int chimney_name_parse(const char *s, const char * const *names,
			      u32 n, u32 *out)
{
	u32 i, v;

	for (i = 1; i < n; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	if (kstrtou32(s, 10, &v) || v == 0 || v >= n)
		return -EINVAL;
	*out = v;
	return 0;
}

int chimney_reason_parse(const char *s, u32 *reason)
{
	/* The WDK 7600 spelling of reason 4 is accepted too. */
	if (!strcmp(s, "no_buffer_proposting")) {
		*reason = CHIMNEY_UPLOAD_NO_BUFFER_PROPOSTING;
		return 0;
	}
	return chimney_name_parse(s, chimney_reason_names,
				  CHIMNEY_UPLOAD_REASON_MAX, reason);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_reason_parse);

int chimney_event_parse(const char *s, u32 *type)
{
	return chimney_name_parse(s, chimney_event_names,
				  CHIMNEY_EVENT_MAX + 1, type);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_event_parse);

void chimney_stats_rule(struct chimney_stats __percpu *dev, enum chimney_rule rule)
{
	chimney_stats_add(dev, rules[rule], 1);
}

/* "key value" lines, one counter per line, stable names (see README). */
void chimney_stats_show(struct seq_file *m, struct chimney_stats __percpu *s)
{
	int i;

	seq_printf(m, "connections_offloaded %lld\n",
		   chimney_stats_read(s, offloaded));
	seq_printf(m, "connections_offload_failed %lld\n",
		   chimney_stats_read(s, offload_failed));
	seq_printf(m, "connections_terminated %lld\n",
		   chimney_stats_read(s, terminated));
	seq_printf(m, "connections_live %lld\n", chimney_stats_read(s, live));
	for (i = 1; i <= CHIMNEY_EVENT_MAX; i++)
		seq_printf(m, "event_%s %lld\n", chimney_event_names[i],
			   chimney_stats_read(s, events[i]));
	for (i = 1; i < CHIMNEY_UPLOAD_REASON_MAX; i++)
		seq_printf(m, "reason_%s %lld\n", chimney_reason_names[i],
			   chimney_stats_read(s, reasons[i]));
	for (i = 0; i < __CHIMNEY_RULE_MAX; i++)
		seq_printf(m, "rule_%s %lld\n", chimney_rule_names[i],
			   chimney_stats_read(s, rules[i]));
}
