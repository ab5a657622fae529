/* backoff.h: a failure backoff per name, in memory, for a background task
 * that retries what keeps failing (the key-rotation scheduler's tenants):
 * after a failure a name waits a first delay, doubled by every further
 * failure in a row up to a ceiling, and a success forgets it. Not thread
 * safe: one thread owns a table. Private to src/app. */
#ifndef TS_APP_BACKOFF_H
#define TS_APP_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ts_backoff;

/* A new, empty table: the first wait first_ms, the longest max_ms (both
 * positive, first_ms <= max_ms), at most names_max names at once (a
 * failure of a name beyond that is not held back). NULL on bad bounds. */
struct ts_backoff *ts_backoff_new(int64_t first_ms, int64_t max_ms, size_t names_max);
/* NULL is a no-op. */
void ts_backoff_free(struct ts_backoff *b);
/* Whether name is still waiting at now_ms (a monotonic clock). Marks name
 * as asked about, for ts_backoff_sweep. */
bool ts_backoff_waiting(struct ts_backoff *b, const char *name, int64_t now_ms);
/* A failure of name at now_ms: it waits first_ms after its first failure in
 * a row, twice as long after each further one, at most max_ms. Returns the
 * wait (0 when name could not be held: the table is full). */
int64_t ts_backoff_failed(struct ts_backoff *b, const char *name, int64_t now_ms);
/* A success of name: forgotten, so its next failure waits first_ms. */
void ts_backoff_succeeded(struct ts_backoff *b, const char *name);
/* Forgets every name not asked about (ts_backoff_waiting) nor failed since
 * the last sweep: after a pass over everything that is due, a name that
 * was not due (fixed, or deleted) is dropped, so the table holds no more
 * than one pass's names. */
void ts_backoff_sweep(struct ts_backoff *b);
/* How many names the table holds. */
size_t ts_backoff_count(const struct ts_backoff *b);

#endif
