/* q.h: what the operations (the family files) use to run statements
 * through the store's driver, written once for every driver. Every
 * function takes the statement's id, its arguments and a `what` for logs;
 * error codes are those of drv.h. Private to src/store. */
#ifndef TS_STORE_Q_H
#define TS_STORE_Q_H

#include "rec.h"

/* One row of statement id read into rec (zeroed, cleared again on
 * failure) through d: TS_OK, TS_ENOTFOUND (no row), TS_ESTORE. On a
 * connection of its own, redone once if a pooled one turns out cut. */
int ts_q_read(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
	      const struct ts_rec_desc *d, void *rec, const char *what);
/* Reads a row that is not one record (a join of several): as ts_q_read,
 * but fill reads the current row of cur (arg is the caller's). */
typedef int (*ts_q_fill)(const struct ts_drv *d, struct ts_cur *cur, void *arg);
int ts_q_read_fn(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
		 ts_q_fill fill, void *arg, const char *what);
/* ts_q_read into a new record (*out, owned by the caller). */
int ts_q_get(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
	     const struct ts_rec_desc *d, void **out, const char *what);
/* Every row into a new array of new records (*out: pass the record-pointer
 * array as (void ***); NULL with *cnt 0 when empty). */
int ts_q_list(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
	      const struct ts_rec_desc *d, void ***out, size_t *cnt, const char *what);
/* ts_q_get and ts_q_list behind the checks every public read makes:
 * *out (and *cnt) cleared first, then TS_EINVAL when out, cnt or st is
 * NULL or the caller's own check of its arguments (ok) failed. */
int ts_q_fetch(struct ts_store *st, bool ok, enum ts_sql id, const struct ts_arg *args, int n,
	       const struct ts_rec_desc *d, void **out, const char *what);
int ts_q_fetch_all(struct ts_store *st, bool ok, enum ts_sql id, const struct ts_arg *args,
		   int n, const struct ts_rec_desc *d, void ***out, size_t *cnt, const char *what);
/* Inside the caller's transaction on c: the first row into rec (as
 * ts_q_read), or TS_ENOTFOUND. */
int ts_q_row(struct ts_store *st, struct ts_drv_conn *c, enum ts_sql id,
	     const struct ts_arg *args, int n, const struct ts_rec_desc *d, void *rec,
	     const char *what);
/* Inside the caller's transaction on c; *changed (may be NULL) gets the
 * rows it changed. */
int ts_q_exec(struct ts_store *st, struct ts_drv_conn *c, enum ts_sql id,
	      const struct ts_arg *args, int n, int *changed, const char *what);
/* Flags of ts_q_write1: TS_Q_CHANGE answers TS_ENOTFOUND (with nothing
 * written) when the statement changed no row; TS_Q_BUMP moves the
 * generation with it. */
#define TS_Q_CHANGE 1u
#define TS_Q_BUMP 2u

/* One statement in a transaction of its own, behind the checks every
 * public write makes: TS_EINVAL when st is NULL or the caller's own check
 * of its arguments (ok) failed. */
int ts_q_write1(struct ts_store *st, bool ok, enum ts_sql id, const struct ts_arg *args, int n,
		unsigned flags, const char *what);

/* Statements ids[0..nids-1], each with the same arguments, in one
 * transaction: all or nothing. */
int ts_q_steps(struct ts_store *st, const enum ts_sql *ids, size_t nids,
	       const struct ts_arg *args, int n, bool bump, const char *what);
/* Runs fn in a write transaction: the driver's group commit where it has
 * one, otherwise a transaction of its own. */
int ts_q_batched(struct ts_store *st, ts_drv_job fn, void *arg, bool bump);
/* s is set and not empty: the check every operation makes of its keys. */
bool ts_q_nonempty(const char *s);
/* True when the store's dialect has statement id. */
bool ts_q_has(struct ts_store *st, enum ts_sql id);

#endif
