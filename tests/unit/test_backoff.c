/* test_backoff.c: the failure backoff per name of the key-rotation
 * scheduler (app/backoff.c), on a clock the test moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app/backoff.h"

#include <stdio.h>

#define MINUTE_MS (60 * 1000)
#define HOUR_MS (60 * MINUTE_MS)
#define NAMES_MAX 4

/* Doubling from a minute to an hour, and no further. */
static void test_doubles_up_to_the_ceiling(void **state)
{
	static const int64_t waits[] = {MINUTE_MS,	2 * MINUTE_MS,  4 * MINUTE_MS,
					8 * MINUTE_MS,	16 * MINUTE_MS, 32 * MINUTE_MS,
					HOUR_MS,	HOUR_MS,	HOUR_MS};
	struct ts_backoff *b = ts_backoff_new(MINUTE_MS, HOUR_MS, NAMES_MAX);
	int64_t now = 1000;
	size_t i;
	(void)state;

	assert_non_null(b);
	assert_false(ts_backoff_waiting(b, "t", now));
	for (i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		assert_int_equal(ts_backoff_failed(b, "t", now), waits[i]);
		assert_true(ts_backoff_waiting(b, "t", now));
		assert_true(ts_backoff_waiting(b, "t", now + waits[i] - 1));
		now += waits[i];
		assert_false(ts_backoff_waiting(b, "t", now));
	}
	for (i = 0; i < 100; i++) /* many failures: still an hour, no overflow */
		assert_int_equal(ts_backoff_failed(b, "t", now), HOUR_MS);
	ts_backoff_free(b);
}

/* A success forgets the name: its next failure waits a minute again. */
static void test_success_resets(void **state)
{
	struct ts_backoff *b = ts_backoff_new(MINUTE_MS, HOUR_MS, NAMES_MAX);
	(void)state;

	assert_int_equal(ts_backoff_failed(b, "t", 0), MINUTE_MS);
	assert_int_equal(ts_backoff_failed(b, "t", MINUTE_MS), 2 * MINUTE_MS);
	ts_backoff_succeeded(b, "t");
	assert_false(ts_backoff_waiting(b, "t", MINUTE_MS));
	assert_int_equal(ts_backoff_count(b), 0);
	assert_int_equal(ts_backoff_failed(b, "t", MINUTE_MS), MINUTE_MS);
	ts_backoff_succeeded(b, "never-failed");
	assert_int_equal(ts_backoff_count(b), 1);
	ts_backoff_free(b);
}

/* Names back off apart from each other. */
static void test_per_name(void **state)
{
	struct ts_backoff *b = ts_backoff_new(MINUTE_MS, HOUR_MS, NAMES_MAX);
	(void)state;

	assert_int_equal(ts_backoff_failed(b, "a", 0), MINUTE_MS);
	assert_int_equal(ts_backoff_failed(b, "a", MINUTE_MS), 2 * MINUTE_MS);
	assert_int_equal(ts_backoff_failed(b, "b", MINUTE_MS), MINUTE_MS);
	assert_true(ts_backoff_waiting(b, "a", 2 * MINUTE_MS));
	assert_false(ts_backoff_waiting(b, "b", 2 * MINUTE_MS));
	assert_false(ts_backoff_waiting(b, "c", 2 * MINUTE_MS));
	ts_backoff_succeeded(b, "a");
	assert_false(ts_backoff_waiting(b, "a", MINUTE_MS));
	assert_true(ts_backoff_waiting(b, "b", MINUTE_MS));
	ts_backoff_free(b);
}

/* A sweep drops the names nobody asked about since the last one, so the
 * table holds only what is still failing; a full table holds no more. */
static void test_sweep_and_bound(void **state)
{
	struct ts_backoff *b = ts_backoff_new(MINUTE_MS, HOUR_MS, NAMES_MAX);
	char name[16];
	int i;
	(void)state;

	for (i = 0; i < NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		assert_int_equal(ts_backoff_failed(b, name, 0), MINUTE_MS);
	}
	assert_int_equal(ts_backoff_failed(b, "one-too-many", 0), 0);
	assert_false(ts_backoff_waiting(b, "one-too-many", 0));
	assert_int_equal(ts_backoff_count(b), NAMES_MAX);
	ts_backoff_sweep(b); /* all failed since the start */
	assert_int_equal(ts_backoff_count(b), NAMES_MAX);
	assert_true(ts_backoff_waiting(b, "t1", 1));
	assert_int_equal(ts_backoff_failed(b, "t3", MINUTE_MS), 2 * MINUTE_MS);
	ts_backoff_sweep(b);
	assert_int_equal(ts_backoff_count(b), 2);
	assert_true(ts_backoff_waiting(b, "t1", 2));
	assert_false(ts_backoff_waiting(b, "t0", 2));
	assert_true(ts_backoff_waiting(b, "t3", 2 * MINUTE_MS));
	ts_backoff_sweep(b);
	ts_backoff_sweep(b); /* nobody asked */
	assert_int_equal(ts_backoff_count(b), 0);
	ts_backoff_free(b);
}

static void test_bad_bounds(void **state)
{
	(void)state;
	assert_null(ts_backoff_new(0, HOUR_MS, NAMES_MAX));
	assert_null(ts_backoff_new(HOUR_MS, MINUTE_MS, NAMES_MAX));
	assert_null(ts_backoff_new(MINUTE_MS, HOUR_MS, 0));
	assert_false(ts_backoff_waiting(NULL, "t", 0));
	assert_int_equal(ts_backoff_failed(NULL, "t", 0), 0);
	ts_backoff_succeeded(NULL, "t");
	ts_backoff_sweep(NULL);
	ts_backoff_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_up_to_the_ceiling),
		cmocka_unit_test(test_success_resets),
		cmocka_unit_test(test_per_name),
		cmocka_unit_test(test_sweep_and_bound),
		cmocka_unit_test(test_bad_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
