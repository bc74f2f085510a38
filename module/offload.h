/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_OFFLOAD_H
#define _CHIMNEY_OFFLOAD_H

#include "conn.h"
#include "stack.h"

int chimney_offload_init(void);
void chimney_offload_exit(void);
void chimney_conn_tuple(const struct chimney_conn *conn,
			struct chimney_tuple *tuple);
int chimney_conn_terminate(struct chimney_conn *conn);
void *chimney_conn_lower_context(struct chimney_conn *conn,
				 const struct chimney_layer *bottom);
void chimney_flush(void);

#endif
