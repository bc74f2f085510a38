// SPDX-License-Identifier: GPL-2.0
/*
 * The handle model (spec section d): through 0, 1, 2 and 8 intermediate
 * layers, every event reaches every layer above the target exactly once,
 * bottom-up, unchanged, and each layer sees its own handle.
 */

#include <kunit/test.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "offload.h"
#include "util.h"

struct ct_handle_param {
	int nr_im;
	u32 type;
	u32 info;
};

static const struct ct_handle_param ct_handle_params[] = {
	{ 0, CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 65536 },
	{ 0, CHIMNEY_EVENT_DISCONNECT, 0 },
	{ 0, CHIMNEY_EVENT_RETRIEVE, CHIMNEY_UPLOAD_LOW_ACTIVITY },
	{ 0, CHIMNEY_EVENT_ABORT, 0 },
	{ 1, CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 65536 },
	{ 1, CHIMNEY_EVENT_DISCONNECT, 0 },
	{ 1, CHIMNEY_EVENT_RETRIEVE, CHIMNEY_UPLOAD_LOW_ACTIVITY },
	{ 1, CHIMNEY_EVENT_ABORT, 0 },
	{ 2, CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 65536 },
	{ 2, CHIMNEY_EVENT_DISCONNECT, 0 },
	{ 2, CHIMNEY_EVENT_RETRIEVE, CHIMNEY_UPLOAD_LOW_ACTIVITY },
	{ 2, CHIMNEY_EVENT_ABORT, 0 },
	{ 8, CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 65536 },
	{ 8, CHIMNEY_EVENT_DISCONNECT, 0 },
	{ 8, CHIMNEY_EVENT_RETRIEVE, CHIMNEY_UPLOAD_LOW_ACTIVITY },
	{ 8, CHIMNEY_EVENT_ABORT, 0 },
};

static void ct_handle_desc(const struct ct_handle_param *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%d intermediate, event %u",
		 p->nr_im, p->type);
}

KUNIT_ARRAY_PARAM(ct_handle, ct_handle_params, ct_handle_desc);

/* The handle layer @index owns: the top's tcb, or an intermediate entry. */
static struct chimney_offload_handle *ct_owned(struct ct_stack *st,
					       struct ct_tcb *tcb, int index)
{
	struct chimney_offload_handle *h = &tcb->handle;
	int i;

	/* Each layer stored its context in the handle of the layer above. */
	for (i = 0; i < index; i++)
		h = &((struct ct_entry *)h->lower_context)->own;
	return h;
}

/* What chimney_handle_conn_info() tells of ct_offload()'s connection. */
static void ct_expect_conn_info(struct kunit *test,
				const struct chimney_offload_handle *h, u64 id,
				struct net_device *dev, u16 sport)
{
	struct chimney_conn_info info;

	memset(&info, 0xa5, sizeof(info));
	KUNIT_ASSERT_EQ(test, chimney_handle_conn_info(h, &info), 0);
	KUNIT_EXPECT_EQ(test, info.id, id);
	KUNIT_EXPECT_PTR_EQ(test, info.dev, dev);
	KUNIT_EXPECT_EQ(test, info.tuple.family, AF_INET);
	KUNIT_EXPECT_EQ(test, ntohl(info.tuple.saddr.ip), 0x0a000001);
	KUNIT_EXPECT_EQ(test, ntohl(info.tuple.daddr.ip), 0x0a000002);
	KUNIT_EXPECT_EQ(test, ntohs(info.tuple.sport), sport);
	KUNIT_EXPECT_EQ(test, ntohs(info.tuple.dport), 80);
}

static void chimney_handle_translation(struct kunit *test)
{
	const struct ct_handle_param *p = test->param_value;
	struct net_device *dev = ct_netdev(test, "cthandle%d");
	struct ct_stack *st = ct_stack_create(test, dev, p->nr_im);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	struct chimney_conn_info info;
	struct ct_tconn *tc;
	int i, depth = p->nr_im + 1;

	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 1000), 0);
	KUNIT_ASSERT_EQ(test, tcb->initiate_status, 0);
	KUNIT_ASSERT_TRUE(test, tcb->initiated);
	tc = st->last_tconn;
	KUNIT_ASSERT_NOT_NULL(test, tc);

	/* The chain of contexts ends in the target's, at the right handle. */
	KUNIT_EXPECT_PTR_EQ(test, ct_owned(st, tcb, p->nr_im)->lower_context,
			    (void *)tc);
	KUNIT_EXPECT_PTR_EQ(test, tc->upper, ct_owned(st, tcb, p->nr_im));
	KUNIT_EXPECT_EQ(test, chimney_handle_conn_id(&tcb->handle), tc->id);
	/* Every handle of the connection tells what the initiate was given. */
	for (i = 0; i <= p->nr_im; i++)
		ct_expect_conn_info(test, ct_owned(st, tcb, i), tc->id, dev,
				    1000);

	KUNIT_ASSERT_EQ(test, chimney_indicate_event(&st->target.layer,
						     tc->upper, p->type,
						     p->info), 0);
	KUNIT_ASSERT_EQ(test, st->nr_log, depth);
	for (i = 0; i < depth; i++) {
		struct ct_hop *h = &st->log[i];
		int layer = depth - 1 - i;	/* bottom-up */

		KUNIT_EXPECT_EQ(test, h->layer, layer);
		KUNIT_EXPECT_PTR_EQ(test, h->handle, ct_owned(st, tcb, layer));
		KUNIT_EXPECT_EQ(test, h->type, p->type);
		KUNIT_EXPECT_EQ(test, h->info, p->info);
	}

	/* Terminate unwinds the chain and clears every handle. */
	KUNIT_ASSERT_EQ(test, chimney_offload_terminate(&st->top.layer,
							&tcb->handle), 0);
	chimney_flush();
	KUNIT_EXPECT_TRUE(test, tcb->terminated);
	KUNIT_EXPECT_EQ(test, tcb->terminate_status, 0);
	KUNIT_EXPECT_NULL(test, tcb->handle.lower_context);
	KUNIT_EXPECT_NULL(test, tcb->handle.chimney_reserved);
	KUNIT_EXPECT_EQ(test, chimney_handle_conn_id(&tcb->handle), 0);
	info.id = 7;
	KUNIT_EXPECT_EQ(test, chimney_handle_conn_info(&tcb->handle, &info),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, info.id, 7);
	KUNIT_EXPECT_EQ(test, chimney_handle_conn_info(NULL, &info), -ENOENT);
	KUNIT_EXPECT_EQ(test, chimney_handle_conn_info(&tcb->handle, NULL),
			-ENOENT);
}

/* A failed initiate unwinds through every intermediate layer. */
static void chimney_handle_initiate_failure(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "cthandle%d");
	struct ct_stack *st = ct_stack_create(test, dev, 2);
	struct ct_tcb *tcb = kunit_kzalloc(test, sizeof(*tcb), GFP_KERNEL);
	unsigned int before = chimney_table_count();

	st->async = true;
	KUNIT_ASSERT_EQ(test, ct_offload(st, tcb, 1001), 0);
	KUNIT_EXPECT_EQ(test, tcb->initiate_status, 1);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before + 1);
	KUNIT_ASSERT_EQ(test, ct_target_complete_initiate(st, -ENOMEM), 0);
	KUNIT_EXPECT_EQ(test, tcb->initiate_status, -ENOMEM);
	KUNIT_EXPECT_NULL(test, tcb->handle.chimney_reserved);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), before);
}

static struct kunit_case chimney_handle_cases[] = {
	KUNIT_CASE_PARAM(chimney_handle_translation, ct_handle_gen_params),
	KUNIT_CASE(chimney_handle_initiate_failure),
	{}
};

static struct kunit_suite chimney_handle_suite = {
	.name = "chimney_handle",
	.test_cases = chimney_handle_cases,
};

kunit_test_suite(chimney_handle_suite);
