/* test_dates.c: calendar parsing and formatting, ISO weekdays and the
 * bucket edges of GET /tasks/buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dates.h"

#include <string.h>

static ta_day day(const char *s)
{
	ta_day d = 0;

	assert_true(ta_date_parse(s, strlen(s), &d));
	return d;
}

static void test_parse_and_format_round_trip(void **state)
{
	static const char *const good[] = {"1970-01-01", "2024-02-29", "2000-02-29", "2026-12-31",
					   "9999-12-31", "2026-11-23"};
	char out[TA_DATE_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ta_date_format(day(good[i]), out);
		assert_string_equal(out, good[i]);
	}
	assert_int_equal(day("1970-01-01"), 0);
	assert_int_equal(day("1970-01-02"), 1);
	assert_int_equal(day("2000-03-01") - day("2000-02-28"), 2);
}

static void test_parse_refuses_bad_dates(void **state)
{
	static const char *const bad[] = {
		"", "2026-1-01", "2026-01-1", "2026/01/01", "2026-13-01", "2026-00-10", "2026-01-00",
		"2026-01-32", "2023-02-29", "1900-02-29", "1969-12-31", "10000-01-01", "2026-01-01 ",
		" 2026-01-01", "2026-01-01T00:00:00Z", "+026-01-01", "2026-0a-01", "２０２６-01-01"};
	ta_day d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ta_date_parse(bad[i], strlen(bad[i]), &d));
	/* The length is what counts, not a NUL. */
	assert_true(ta_date_parse("2026-01-01XYZ", 10, &d));
	assert_false(ta_date_parse("2026-01-01", 9, &d));
	assert_false(ta_date_parse(NULL, 10, &d));
}

static void test_iso_weekday(void **state)
{
	(void)state;
	assert_int_equal(ta_date_iso_weekday(day("1970-01-01")), 4); /* Thursday */
	assert_int_equal(ta_date_iso_weekday(day("2026-11-23")), 1); /* Monday */
	assert_int_equal(ta_date_iso_weekday(day("2026-11-29")), 7); /* Sunday */
	assert_int_equal(ta_date_iso_weekday(day("2024-02-29")), 4);
	assert_int_equal(ta_date_iso_weekday(day("2000-01-01")), 6); /* Saturday */
}

/* Table: today → (week_end, later_from). */
static void test_bucket_edges(void **state)
{
	static const struct {
		const char *today, *week_end, *later_from;
	} cases[] = {
		{"2026-11-23", "2026-11-29", "2026-11-30"}, /* Monday */
		{"2026-11-26", "2026-11-29", "2026-11-30"}, /* Thursday */
		{"2026-11-27", "2026-11-29", "2026-11-30"}, /* Friday: this_week = Sunday only */
		{"2026-11-28", "2026-11-29", "2026-11-30"}, /* Saturday: tomorrow ends the week */
		{"2026-11-29", "2026-11-29", "2026-12-01"}, /* Sunday: tomorrow is next week */
		{"2026-12-31", "2027-01-03", "2027-01-04"}, /* across a year */
	};
	struct ta_buckets b;
	char out[TA_DATE_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ta_buckets_compute(day(cases[i].today), &b);
		assert_int_equal(b.tomorrow, b.today + 1);
		ta_date_format(b.week_end, out);
		assert_string_equal(out, cases[i].week_end);
		ta_date_format(b.later_from, out);
		assert_string_equal(out, cases[i].later_from);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_format_round_trip),
		cmocka_unit_test(test_parse_refuses_bad_dates),
		cmocka_unit_test(test_iso_weekday),
		cmocka_unit_test(test_bucket_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
