/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM chimney

#if !defined(_CHIMNEY_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CHIMNEY_TRACE_H

#include <linux/netdevice.h>
#include <linux/tracepoint.h>

#include "compat.h"

/*
 * One class for everything chimney traces: which device and layer, which
 * connection, and the event type / info (or status) involved. @what names
 * the rule for violations and is empty otherwise.
 */
DECLARE_EVENT_CLASS(chimney_class,
	TP_PROTO(const struct net_device *dev, const char *layer, u64 id,
		 u32 type, s64 info, const char *what),
	TP_ARGS(dev, layer, id, type, info, what),
	TP_STRUCT__entry(
		__string(dev, dev ? dev->name : "-")
		__string(layer, layer)
		__field(u64, id)
		__field(u32, type)
		__field(s64, info)
		__string(what, what)
	),
	TP_fast_assign(
		chimney_assign_str(dev, dev ? dev->name : "-");
		chimney_assign_str(layer, layer);
		__entry->id = id;
		__entry->type = type;
		__entry->info = info;
		chimney_assign_str(what, what);
	),
	TP_printk("dev=%s layer=%s conn=%llu type=%u info=%lld%s%s",
		  __get_str(dev), __get_str(layer), __entry->id, __entry->type,
		  __entry->info, __get_str(what)[0] ? " rule=" : "",
		  __get_str(what))
);

#define CHIMNEY_DEFINE_EVENT(name)					\
DEFINE_EVENT(chimney_class, name,					\
	TP_PROTO(const struct net_device *dev, const char *layer, u64 id, \
		 u32 type, s64 info, const char *what),			\
	TP_ARGS(dev, layer, id, type, info, what))

/* A layer is asked to offload (info: its depth in the stack). */
CHIMNEY_DEFINE_EVENT(chimney_initiate);
/* A layer learns how its initiate ended (info: status). */
CHIMNEY_DEFINE_EVENT(chimney_initiate_complete);
/* The protocol layer starts the upload of a connection. */
CHIMNEY_DEFINE_EVENT(chimney_terminate);
/* A layer learns that the terminate completed (info: status). */
CHIMNEY_DEFINE_EVENT(chimney_terminate_complete);
/* An event reaches a layer (one per hop; type and info as indicated). */
CHIMNEY_DEFINE_EVENT(chimney_event);
/* An indication or completion broke a rule and was dropped. */
CHIMNEY_DEFINE_EVENT(chimney_violation);

#endif /* _CHIMNEY_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
