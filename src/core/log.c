/* log.c: JSON-lines logging on stderr. Each line is written with a single
 * write(2) so lines from many threads never interleave. */
#include "core.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096
#define RID_MAX 64
#define CLIENT_MAX 45 /* a textual IPv6 address */

static _Atomic int log_level = TS_LOG_INFO;
static _Thread_local char thread_rid[RID_MAX + 1];
static _Thread_local char thread_client[CLIENT_MAX + 1];
static _Thread_local char thread_last_err[LOG_LINE_MAX / 2];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ts_log_set_level(enum ts_log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum ts_log_level ts_log_get_level(void)
{
	return (enum ts_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

void ts_log_set_request_id(const char *rid)
{
	size_t n;

	if (rid == NULL) {
		thread_rid[0] = '\0';
		return;
	}
	n = strlen(rid);
	if (n > RID_MAX)
		n = RID_MAX;
	memcpy(thread_rid, rid, n);
	thread_rid[n] = '\0';
}

const char *ts_log_request_id(void)
{
	return thread_rid[0] ? thread_rid : NULL;
}

void ts_log_set_client(const char *addr)
{
	size_t n = addr ? strlen(addr) : 0;

	if (n > CLIENT_MAX)
		n = CLIENT_MAX;
	if (n)
		memcpy(thread_client, addr, n);
	thread_client[n] = '\0';
}

const char *ts_log_client(void)
{
	return thread_client[0] ? thread_client : NULL;
}

const char *ts_log_last_error(void)
{
	return thread_last_err;
}

void ts_log_clear_last_error(void)
{
	thread_last_err[0] = '\0';
}

void ts_log_json_line(const char *json, size_t len)
{
	struct ts_buf b;

	ts_buf_init(&b, LOG_LINE_MAX + 2);
	if (ts_buf_append(&b, json, len) != TS_OK || ts_buf_append(&b, "\n", 1) != TS_OK)
		return;
	if (write(STDERR_FILENO, b.p, b.len) < 0) {
		/* Nothing sensible to do when stderr is gone. */
	}
	ts_buf_clear(&b);
}

void ts_log_time(char out[TS_LOG_TIME_MAX])
{
	struct timespec now;
	struct tm tm;
	char ts[24];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, TS_LOG_TIME_MAX, "%s.%03dZ", ts, (int)(now.tv_nsec / 1000000) % 1000);
}

void ts_log_write(enum ts_log_level lvl, const char *file, int line, const char *func,
		  const char *fmt, ...)
{
	char msg[LOG_LINE_MAX / 2];
	char ts[TS_LOG_TIME_MAX];
	struct ts_buf b;
	const char *slash;
	va_list ap;
	int rc;

	if (lvl >= TS_LOG_ERR) {
		va_start(ap, fmt);
		vsnprintf(thread_last_err, sizeof(thread_last_err), fmt, ap);
		va_end(ap);
	}
	if ((int)lvl < atomic_load_explicit(&log_level, memory_order_relaxed) || lvl >= TS_LOG_OFF)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ts_log_time(ts);
	slash = strrchr(file, '/');
	ts_buf_init(&b, LOG_LINE_MAX);
	rc = ts_buf_appendf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"src\":\"%s:%d\",\"func\":\"%s\"",
			    ts, level_names[lvl], slash ? slash + 1 : file, line, func);
	if (rc == TS_OK && thread_rid[0]) {
		rc = ts_buf_appends(&b, ",\"request_id\":\"");
		if (rc == TS_OK)
			rc = ts_buf_append_json_escaped(&b, thread_rid, strlen(thread_rid));
		if (rc == TS_OK)
			rc = ts_buf_appends(&b, "\"");
	}
	if (rc == TS_OK)
		rc = ts_buf_appends(&b, ",\"msg\":\"");
	if (rc == TS_OK)
		rc = ts_buf_append_json_escaped(&b, msg, strlen(msg));
	if (rc == TS_OK)
		rc = ts_buf_appends(&b, "\"}");
	/* A line cut short by a failed append (out of memory) is not JSON:
	 * nothing is written rather than half a line. */
	if (rc == TS_OK)
		ts_log_json_line(b.p, b.len);
	ts_buf_clear(&b);
}

void ts_log_openssl_at(const char *file, int line, const char *func, const char *what)
{
	char err[256] = "";
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, err, sizeof(err));
	ERR_clear_error();
	ts_log_write(TS_LOG_ERR, file, line, func, "%s: %s", what, err[0] ? err : "no OpenSSL error");
}
