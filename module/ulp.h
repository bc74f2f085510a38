/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_ULP_H
#define _CHIMNEY_ULP_H

#include <linux/types.h>

struct chimney_tuple;
struct net;

int chimney_ulp_offload(struct net *net, const struct chimney_tuple *tuple,
			u64 *id);
int chimney_ulp_upload(struct net *net, const struct chimney_tuple *tuple);

int chimney_ulp_init(void);
void chimney_ulp_exit(void);

#endif
