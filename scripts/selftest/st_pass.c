// SPDX-License-Identifier: GPL-2.0
/* Positive control: a KUnit suite that passes, so the harness can say yes. */
#include <linux/module.h>
#include <kunit/test.h>

static void st_pass_simple(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

static const int st_pass_values[] = { 1, 2, 3 };

KUNIT_ARRAY_PARAM(st_pass_values, st_pass_values, NULL);

static void st_pass_param(struct kunit *test)
{
	const int *v = test->param_value;

	KUNIT_EXPECT_GT(test, *v, 0);
}

static struct kunit_case st_pass_cases[] = {
	KUNIT_CASE(st_pass_simple),
	KUNIT_CASE_PARAM(st_pass_param, st_pass_values_gen_params),
	{}
};

static struct kunit_suite st_pass_suite = {
	.name = "chimney_selftest_pass",
	.test_cases = st_pass_cases,
};
kunit_test_suite(st_pass_suite);

MODULE_DESCRIPTION("chimney harness self-test: passing KUnit suite");
MODULE_LICENSE("GPL");
