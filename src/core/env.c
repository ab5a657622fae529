/* env.c: integer settings read from the environment, with one rule for
 * every reader: a whole decimal number within the caller's bounds, or the
 * caller's default (a bad value is logged). */
#include "core.h"

#include "wire/ascii.h"

#include <errno.h>
#include <stdlib.h>

int ts_env_int(const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *s, *p;
	char *end = NULL;
	long long v = 0;

	if (name == NULL || out == NULL || min > max)
		return TS_EINVAL;
	s = getenv(name);
	if (s == NULL || s[0] == '\0')
		return TS_ENOTFOUND;
	/* strtoll alone would also take leading spaces and a '+'. */
	p = s[0] == '-' ? s + 1 : s;
	errno = 0;
	if (ts_is_digit((unsigned char)p[0]))
		v = strtoll(s, &end, 10);
	if (end == NULL || *end != '\0' || errno == ERANGE || v < min || v > max) {
		ts_log_warn("%s must be a whole number from %lld to %lld; ignored", name,
			    (long long)min, (long long)max);
		return TS_EINVAL;
	}
	*out = (int64_t)v;
	return TS_OK;
}
