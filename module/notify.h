/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_NOTIFY_H
#define _CHIMNEY_NOTIFY_H

#include <linux/types.h>

int chimney_notify_init(void);
void chimney_notify_exit(void);
bool chimney_notify_match(const char *name);
int chimney_notify_set_patterns(const char *patterns);
void chimney_notify_flush(void);
void chimney_notify_rescan(void);

struct notifier_block;
#if IS_ENABLED(CONFIG_KUNIT)
int chimney_netdev_event(struct notifier_block *nb, unsigned long event,
			 void *ptr);
int chimney_inetaddr_event(struct notifier_block *nb, unsigned long event,
			   void *ptr);
int chimney_inet6addr_event(struct notifier_block *nb, unsigned long event,
			    void *ptr);
#endif
unsigned int chimney_notify_capacity(void);

#endif
