/* dates.h: calendar dates (the "YYYY-MM-DD" of due_date) and the bounds
 * of the buckets of GET /tasks/buckets. Dates are proleptic Gregorian days
 * without a time zone; "today" is the server's local date (TZ). */
#ifndef TA_DATES_H
#define TA_DATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TA_DATE_LEN 10 /* "YYYY-MM-DD" */
#define TA_DATE_YEAR_MIN 1970
#define TA_DATE_YEAR_MAX 9999
#define TA_DAYS_PER_WEEK 7

/* A day as a count of days since 1970-01-01 (negative before). */
typedef int64_t ta_day;

/* Parses exactly "YYYY-MM-DD" (len bytes, no NUL needed) naming a real
 * day between TA_DATE_YEAR_MIN and TA_DATE_YEAR_MAX. */
bool ta_date_parse(const char *s, size_t len, ta_day *out);
/* Writes "YYYY-MM-DD" and its NUL. */
void ta_date_format(ta_day d, char out[TA_DATE_LEN + 1]);
/* ISO 8601 day of the week: 1 = Monday ... 7 = Sunday. */
int ta_date_iso_weekday(ta_day d);
/* The local calendar day at Unix time t (localtime_r). */
ta_day ta_date_local(time_t t);

/* The edges of the buckets, computed from today:
 *   overdue:   due <  today, status not done
 *   today:     due == today
 *   tomorrow:  due == today + 1
 *   this_week: today + 1 < due <= week_end (the Sunday of today's ISO week)
 *   later:     due >  max(today + 1, week_end)
 * this_week is empty on Saturdays and Sundays. */
struct ta_buckets {
	ta_day today;
	ta_day tomorrow;
	ta_day week_end;    /* the Sunday that ends today's ISO week */
	ta_day later_from;  /* the first day of "later" */
};
void ta_buckets_compute(ta_day today, struct ta_buckets *out);

#endif
