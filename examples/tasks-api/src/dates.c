/* dates.c: day arithmetic on the proleptic Gregorian calendar, with the
 * days-from-civil conversions of H. Hinnant ("chrono-Compatible Low-Level
 * Date Algorithms"), and the bucket edges of GET /tasks/buckets. */
#include "dates.h"

#include <stdio.h>

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

static ta_day days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(ta_day z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t n, int *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

bool ta_date_parse(const char *s, size_t len, ta_day *out)
{
	int y, m, d;

	if (s == NULL || len != TA_DATE_LEN || s[4] != '-' || s[7] != '-')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return false;
	if (y < TA_DATE_YEAR_MIN || y > TA_DATE_YEAR_MAX || m < 1 || m > 12 || d < 1 ||
	    d > month_days(y, m))
		return false;
	*out = days_from_civil(y, m, d);
	return true;
}

void ta_date_format(ta_day day, char out[TA_DATE_LEN + 1])
{
	int64_t y;
	int m, d;

	civil_from_days(day, &y, &m, &d);
	/* Years outside 0..9999 never come from ta_date_parse; clamp the
	 * width anyway so the output always fits. */
	if (y < 0 || y > 9999)
		y = 0;
	snprintf(out, TA_DATE_LEN + 1, "%04d-%02d-%02d", (int)y, m, d);
}

int ta_date_iso_weekday(ta_day d)
{
	/* 1970-01-01 was a Thursday (ISO weekday 4). */
	int64_t w = (d + 3) % TA_DAYS_PER_WEEK;

	if (w < 0)
		w += TA_DAYS_PER_WEEK;
	return (int)w + 1;
}

ta_day ta_date_local(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		gmtime_r(&t, &tm);
	return days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void ta_buckets_compute(ta_day today, struct ta_buckets *out)
{
	out->today = today;
	out->tomorrow = today + 1;
	out->week_end = today + (TA_DAYS_PER_WEEK - ta_date_iso_weekday(today));
	out->later_from = (out->week_end > out->tomorrow ? out->week_end : out->tomorrow) + 1;
}
