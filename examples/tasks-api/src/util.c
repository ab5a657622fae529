/* util.c: logging, aborting allocation, clocks and UUIDs (RFC 9562 §5.4,
 * from getrandom(2)). */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void ta_log(const char *level, const char *func, const char *fmt, ...)
{
	char when[32] = "";
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s tasks-api %s %s: ", when, level, func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static void *check(void *p, size_t n)
{
	if (p == NULL && n != 0) {
		fprintf(stderr, "tasks-api: out of memory (%zu bytes)\n", n);
		abort();
	}
	return p;
}

void *ta_xmalloc(size_t n)
{
	return check(malloc(n ? n : 1), n ? n : 1);
}

void *ta_xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1), n * size + 1);
}

char *ta_xstrdup(const char *s)
{
	return ta_xstrndup(s, strlen(s));
}

char *ta_xstrndup(const char *s, size_t n)
{
	char *p = ta_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int64_t ta_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ta_uuid_new(char out[TA_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t i, o = 0;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return TA_EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* RFC 9562 §5.4: version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* the RFC 9562 variant */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	return TA_OK;
}

bool ta_uuid_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != TA_UUID_LEN)
		return false;
	for (i = 0; i < TA_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return false;
	}
	return true;
}
