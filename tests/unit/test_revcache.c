/* test_revcache.c: the in-memory revocation answers: what is known and for
 * how long, that a revocation is never overwritten by an older "not
 * revoked" answer, that the epoch forgets "not revoked" answers, and that
 * memory stays bounded under many ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "store/revcache.h"

#define T0 1000000 /* an arbitrary monotonic time, ms */
#define MANY 200000

static void test_unknown_then_checked(void **state)
{
	struct ts_revcache *c = ts_revcache_new();
	bool revoked = true;

	(void)state;
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0, &revoked), TS_ENOTFOUND);
	ts_revcache_put_checked(c, "t1", "a", ts_revcache_epoch(c), T0, false);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 1, &revoked), TS_OK);
	assert_false(revoked);
	/* Another tenant's id of the same text is another key. */
	assert_int_equal(ts_revcache_get(c, "t2", "a", T0 + 1, &revoked), TS_ENOTFOUND);
	/* A "not revoked" answer lasts TS_REVCACHE_FRESH_MS, no longer. */
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + TS_REVCACHE_FRESH_MS - 1, &revoked),
			 TS_OK);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + TS_REVCACHE_FRESH_MS, &revoked),
			 TS_ENOTFOUND);
	ts_revcache_free(c);
}

static void test_revoked_wins(void **state)
{
	struct ts_revcache *c = ts_revcache_new();
	uint64_t e = ts_revcache_epoch(c);
	bool revoked = false;

	(void)state;
	ts_revcache_put_checked(c, "t1", "a", e, T0, false);
	ts_revcache_put_revoked(c, "t1", "a", T0 + 1, T0 + 900000);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 2, &revoked), TS_OK);
	assert_true(revoked);
	/* A check that read storage before the revocation committed stores
	 * its answer after it: the revocation stays. */
	ts_revcache_put_checked(c, "t1", "a", e, T0 + 3, false);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 4, &revoked), TS_OK);
	assert_true(revoked);
	/* A revocation lasts until the token's expiry, past the freshness. */
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 899999, &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 900000, &revoked), TS_ENOTFOUND);
	ts_revcache_free(c);
}

static void test_epoch_forgets(void **state)
{
	struct ts_revcache *c = ts_revcache_new();
	uint64_t e = ts_revcache_epoch(c);
	bool revoked = false;

	(void)state;
	ts_revcache_put_checked(c, "t1", "a", e, T0, false);
	ts_revcache_put_revoked(c, "t1", "b", T0, T0 + 900000);
	ts_revcache_bump(c);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 1, &revoked), TS_ENOTFOUND);
	/* Revocations survive the epoch. */
	assert_int_equal(ts_revcache_get(c, "t1", "b", T0 + 1, &revoked), TS_OK);
	assert_true(revoked);
	/* An answer read in the old epoch is not stored in the new one. */
	ts_revcache_put_checked(c, "t1", "a", e, T0 + 2, false);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 3, &revoked), TS_ENOTFOUND);
	ts_revcache_put_checked(c, "t1", "a", ts_revcache_epoch(c), T0 + 2, false);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 3, &revoked), TS_OK);
	assert_false(revoked);
	ts_revcache_free(c);
}

static void test_clear(void **state)
{
	struct ts_revcache *c = ts_revcache_new();
	uint64_t e = ts_revcache_epoch(c);
	bool revoked;

	(void)state;
	ts_revcache_put_checked(c, "t1", "a", e, T0, false);
	ts_revcache_put_revoked(c, "t1", "b", T0, T0 + 900000);
	ts_revcache_clear(c);
	assert_int_equal(ts_revcache_get(c, "t1", "a", T0 + 1, &revoked), TS_ENOTFOUND);
	assert_int_equal(ts_revcache_get(c, "t1", "b", T0 + 1, &revoked), TS_ENOTFOUND);
	ts_revcache_put_revoked(c, "t1", "b", T0 + 2, T0 + 900000);
	assert_int_equal(ts_revcache_get(c, "t1", "b", T0 + 3, &revoked), TS_OK);
	assert_true(revoked);
	ts_revcache_free(c);
}

static void test_bounded(void **state)
{
	struct ts_revcache *c = ts_revcache_new();
	uint64_t e = ts_revcache_epoch(c);
	char jti[32];
	bool revoked;
	size_t i, known = 0;

	(void)state;
	/* Far more revocations than the table holds: the ones that find no
	 * room move the epoch, so no "not revoked" answer can hide them. */
	ts_revcache_put_checked(c, "t1", "checked", e, T0, false);
	for (i = 0; i < MANY; i++) {
		snprintf(jti, sizeof(jti), "r%zu", i);
		ts_revcache_put_revoked(c, "t1", jti, T0, T0 + 900000);
	}
	assert_true(ts_revcache_epoch(c) > e);
	assert_int_equal(ts_revcache_get(c, "t1", "checked", T0 + 1, &revoked), TS_ENOTFOUND);
	for (i = 0; i < MANY; i++) {
		snprintf(jti, sizeof(jti), "r%zu", i);
		if (ts_revcache_get(c, "t1", jti, T0 + 1, &revoked) == TS_OK) {
			assert_true(revoked);
			known++;
		}
	}
	assert_true(known > 0 && known < MANY);
	/* Once they expire, their room is free again. */
	ts_revcache_put_checked(c, "t1", "later", ts_revcache_epoch(c), T0 + 900000, false);
	assert_int_equal(ts_revcache_get(c, "t1", "later", T0 + 900001, &revoked), TS_OK);
	assert_false(revoked);
	ts_revcache_free(c);
}

static void test_long_key_not_kept(void **state)
{
	struct ts_revcache *c = ts_revcache_new();
	char jti[300];
	bool revoked;
	uint64_t e = ts_revcache_epoch(c);

	(void)state;
	memset(jti, 'x', sizeof(jti) - 1);
	jti[sizeof(jti) - 1] = '\0';
	ts_revcache_put_checked(c, "t1", jti, e, T0, false);
	assert_int_equal(ts_revcache_get(c, "t1", jti, T0 + 1, &revoked), TS_ENOTFOUND);
	/* A revocation that cannot be kept forgets every "not revoked" answer. */
	ts_revcache_put_revoked(c, "t1", jti, T0, T0 + 900000);
	assert_true(ts_revcache_epoch(c) > e);
	ts_revcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_then_checked),
		cmocka_unit_test(test_revoked_wins),
		cmocka_unit_test(test_epoch_forgets),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_long_key_not_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
