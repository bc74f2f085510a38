/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_BACKLOG_H
#define _CHIMNEY_BACKLOG_H

#include <linux/minmax.h>
#include <linux/types.h>

/*
 * The send-backlog hysteresis both targets apply: a new value is worth an
 * indication when none was indicated yet (@old 0) or when it moved by more
 * than an eighth of the last one, and at least one MSS, so that a jittery
 * path does not turn into an indication storm.
 */
static inline bool chimney_backlog_moved(u32 old, u32 now)
{
	u32 delta = now > old ? now - old : old - now;

	return !old || delta >= max_t(u32, old / 8, 1460);
}

#endif
