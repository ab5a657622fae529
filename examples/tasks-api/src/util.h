/* util.h: what every file of the tasks-api example shares: return codes,
 * logging, allocation that aborts on exhaustion, clocks and random ids.
 * The example deliberately uses nothing from Tessera's src/: it is a
 * third-party resource server built on libtessera alone. */
#ifndef TA_UTIL_H
#define TA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes of every fallible function in the example. */
enum ta_rc {
	TA_OK = 0,
	TA_ENOMEM,    /* allocation failed (only where we can recover) */
	TA_EINVAL,    /* bad input or configuration */
	TA_ETOOBIG,   /* a hard cap was exceeded */
	TA_ENOTFOUND, /* no such row, or not visible to the caller */
	TA_EDB,       /* SQLite failed */
	TA_EIO,       /* a network exchange failed */
};

#define TA_UUID_LEN 36 /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */

/* Logs one line to stderr: time, level, function, message. Never pass
 * secrets or credentials. */
void ta_log(const char *level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define ta_log_info(...) ta_log("info", __func__, __VA_ARGS__)
#define ta_log_warn(...) ta_log("warn", __func__, __VA_ARGS__)
#define ta_log_err(...) ta_log("error", __func__, __VA_ARGS__)

/* Allocation that aborts with a message when memory is exhausted: every
 * input is capped, so only a broken host gets here. */
void *ta_xmalloc(size_t n);
void *ta_xcalloc(size_t n, size_t size);
char *ta_xstrdup(const char *s);
char *ta_xstrndup(const char *s, size_t n);

/* Wall clock in Unix milliseconds. */
int64_t ta_now_ms(void);

/* Writes a random (version 4) UUID and its NUL into out. TA_OK, or TA_EIO
 * when the kernel's generator fails. */
int ta_uuid_new(char out[TA_UUID_LEN + 1]);
/* True for the canonical lowercase form that ta_uuid_new writes. */
bool ta_uuid_ok(const char *s);

#endif
