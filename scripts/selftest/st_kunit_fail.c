// SPDX-License-Identifier: GPL-2.0
/* A KUnit expectation that fails: the harness must report "not ok". */
#include <linux/module.h>
#include <kunit/test.h>

static void st_kunit_fail_ok(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 2, 2);
}

static void st_kunit_fail_bad(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1, 2);
}

static struct kunit_case st_kunit_fail_cases[] = {
	KUNIT_CASE(st_kunit_fail_ok),
	KUNIT_CASE(st_kunit_fail_bad),
	{}
};

static struct kunit_suite st_kunit_fail_suite = {
	.name = "chimney_selftest_fail",
	.test_cases = st_kunit_fail_cases,
};
kunit_test_suite(st_kunit_fail_suite);

MODULE_DESCRIPTION("chimney harness self-test: failing KUnit case");
MODULE_LICENSE("GPL");
