// SPDX-License-Identifier: GPL-2.0
/* The public enums carry the WDK values (spec section a). */

#include <kunit/test.h>
#include <chimney/chimney.h>

#include "stats.h"

static void chimney_event_values(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, CHIMNEY_EVENT_SEND_BACKLOG_CHANGE, 1);
	KUNIT_EXPECT_EQ(test, CHIMNEY_EVENT_DISCONNECT, 2);
	KUNIT_EXPECT_EQ(test, CHIMNEY_EVENT_RETRIEVE, 3);
	KUNIT_EXPECT_EQ(test, CHIMNEY_EVENT_ABORT, 4);
	KUNIT_EXPECT_EQ(test, CHIMNEY_EVENT_MAX, 4);
}

static void chimney_reason_values(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_LOW_ACTIVITY, 1);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_HIGH_DROP_RATE, 2);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_SMALL_IO, 3);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_NO_BUFFER_PREPOSTING, 4);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_NO_BUFFER_PROPOSTING, 4);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_RECEIVED_URGENT_DATA, 5);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_HIGH_FRAGMENTATION, 6);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_HIGH_OUT_OF_ORDER_PACKETS, 7);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_TIMEOUT_EXPIRATION, 8);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_INVALID_STATE, 9);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_UPLOAD_REQUESTED, 10);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_HARDWARE_FAILURE, 11);
	KUNIT_EXPECT_EQ(test, CHIMNEY_UPLOAD_REASON_MAX, 12);
}

static void chimney_reason_classes(struct kunit *test)
{
	u32 r;

	KUNIT_EXPECT_FALSE(test, chimney_upload_reason_valid(0));
	KUNIT_EXPECT_FALSE(test, chimney_upload_reason_valid(12));
	KUNIT_EXPECT_FALSE(test, chimney_upload_reason_valid(U32_MAX));
	for (r = 1; r <= 11; r++) {
		bool mandatory = r == 5 || r == 8 || r == 9 || r == 10 ||
				 r == 11;

		KUNIT_EXPECT_TRUE(test, chimney_upload_reason_valid(r));
		KUNIT_EXPECT_EQ_MSG(test, chimney_upload_reason_mandatory(r),
				    mandatory, "reason %u", r);
	}
}

static void chimney_names_round_trip(struct kunit *test)
{
	u32 v, r;

	for (r = 1; r < CHIMNEY_UPLOAD_REASON_MAX; r++) {
		KUNIT_EXPECT_EQ(test, chimney_reason_parse(chimney_reason_name(r),
							   &v), 0);
		KUNIT_EXPECT_EQ(test, v, r);
	}
	for (r = 1; r <= CHIMNEY_EVENT_MAX; r++) {
		KUNIT_EXPECT_EQ(test, chimney_event_parse(chimney_event_name(r),
							  &v), 0);
		KUNIT_EXPECT_EQ(test, v, r);
	}
	KUNIT_EXPECT_EQ(test, chimney_reason_parse("no_buffer_proposting", &v), 0);
	KUNIT_EXPECT_EQ(test, v, 4);
	KUNIT_EXPECT_EQ(test, chimney_reason_parse("11", &v), 0);
	KUNIT_EXPECT_EQ(test, v, 11);
	KUNIT_EXPECT_EQ(test, chimney_reason_parse("12", &v), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_reason_parse("0", &v), -EINVAL);
	KUNIT_EXPECT_EQ(test, chimney_event_parse("5", &v), -EINVAL);
	KUNIT_EXPECT_STREQ(test, chimney_event_name(0), "?");
	KUNIT_EXPECT_STREQ(test, chimney_reason_name(12), "?");
}

static struct kunit_case chimney_enum_cases[] = {
	KUNIT_CASE(chimney_event_values),
	KUNIT_CASE(chimney_reason_values),
	KUNIT_CASE(chimney_reason_classes),
	KUNIT_CASE(chimney_names_round_trip),
	{}
};

static struct kunit_suite chimney_enum_suite = {
	.name = "chimney_enum",
	.test_cases = chimney_enum_cases,
};

kunit_test_suite(chimney_enum_suite);
