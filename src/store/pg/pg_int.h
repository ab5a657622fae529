/* pg_int.h: private to the PostgreSQL driver (src/store/pg/), shared by
 * pg.c (open, the connection pool, transaction statements, error
 * mapping), pg_schema.c (migration scripts), pg_url.c (what of a URL may be shown,
 * and scrubbing libpq's messages) and drv_pg.c (the driver interface over
 * them, with prepared statements). Nothing outside src/store includes it.
 *
 * Conventions: every statement is parameterised (text format; integers
 * are passed as decimal text made by ts_pg_i64) and fixed text, never
 * built from data. Times are BIGINT Unix seconds and flags INTEGER 0/1, as
 * in the SQLite schema, so that records read the same from both. */
#ifndef TS_STORE_PG_INT_H
#define TS_STORE_PG_INT_H

#include "store/drv.h"

#include <libpq-fe.h>

/* The parts of a connection URL that may be shown (each empty when absent
 * or not plausibly what it claims to be), and the password, kept only to
 * scrub it from messages (pg_url.c). */
struct ts_pg_url {
	char scheme[16];
	char host[256];
	char port[64];
	char dbname[128];
	char user[128];
	char *password; /* owned, wiped by ts_pg_url_clear; NULL if none */
};
/* Parses url (never logging it); unparseable: only the scheme is kept. */
void ts_pg_url_parse(const char *url, struct ts_pg_url *out);
void ts_pg_url_clear(struct ts_pg_url *u);
/* "scheme://host[:port]/dbname" into buf (capacity cap); "..." for a
 * part that may not be shown. Returns buf. */
const char *ts_pg_url_show(const struct ts_pg_url *u, char *buf, size_t cap);
/* libpq's message (or a server's) as one line in buf, with every quoted
 * value that is not a shown part of u or a connection keyword replaced by
 * "...", and the password masked wherever it appears. Returns buf. */
const char *ts_pg_scrub(const struct ts_pg_url *u, const char *msg, char *buf, size_t cap);

/* One pooled connection, used by one thread at a time. */
struct ts_pg_conn {
	PGconn *db;
	const struct ts_pg_url *url; /* the store's, for scrubbing messages */
	char *const *sql;        /* the store's SQL table in $N form, by statement id */
	bool prepared[TS_SQL_COUNT]; /* prepared on this connection (PQprepare) */
	unsigned runs[TS_SQL_COUNT]; /* runs since it was prepared */
	int64_t prepared_at[TS_SQL_COUNT]; /* when (Unix seconds) */
	bool broken;             /* a query failed at the connection level: closed on put */
};

/* A prepared statement is prepared again (and so planned again) after this
 * many runs on its connection, or at its first run this many seconds after
 * it was prepared. */
#define TS_PG_PLAN_RUNS 100
#define TS_PG_PLAN_AGE_S 60

/* Closes the store (the driver's close; every connection must be back). */
void ts_pg_close(struct ts_store *st);
/* The driver's script entry (pg_schema.c). */
int ts_pg_script(struct ts_drv_conn *c, const char *sql, const char *what);

/* ---- the engine (pg.c) ---- */

/* The engine entries of the driver (drv.h) over st's pool: a connection
 * found dead is replaced, so the store recovers by itself after an
 * outage; one given back inside a transaction is rolled back, a broken
 * one closed. Transactions run at READ COMMITTED (single-use steps rely on
 * conditional UPDATEs and row locks, not on isolation). */
int ts_pg_pool_get(struct ts_store *st, struct ts_drv_conn **out);
void ts_pg_pool_put(struct ts_store *st, struct ts_drv_conn *c);
int ts_pg_run(struct ts_drv_conn *c, enum ts_tx_stmt id, const char *what);
bool ts_pg_open(struct ts_drv_conn *c);

/* Runs sql with the n text parameters args ($1..$n; a NULL element is SQL
 * NULL) on c. TS_OK: *out (may be NULL when no result is wanted) holds the
 * result, owned by the caller (PQclear). Errors are mapped and logged with
 * what: unique violation (23505) TS_EEXIST, foreign-key violation (23503)
 * TS_ENOTFOUND (both at debug level, as expected outcomes), anything else
 * TS_ESTORE; a lost connection also marks c broken. A parameter that is
 * not well-formed UTF-8 matches nothing: TS_ENOTFOUND, without running
 * sql. On error *out is NULL. */
int ts_pg_query(struct ts_pg_conn *c, const char *sql, const char *const *args, int n,
		PGresult **out, const char *what);
/* Maps a failed result r on c (may be NULL) to a return code and logs it,
 * as ts_pg_query does; a lost connection also marks c broken. */
int ts_pg_fail(struct ts_pg_conn *c, const PGresult *r, const char *what);
/* Well-formed UTF-8, which is all a UTF8 database accepts. */
bool ts_pg_utf8_ok(const char *p);
/* ts_pg_query for a statement whose rows are not wanted; *changed (may be
 * NULL) gets the number of rows it inserted, updated or deleted. */
int ts_pg_exec(struct ts_pg_conn *c, const char *sql, const char *const *args, int n,
	       int *changed, const char *what);

/* Column j of row i as an integer (0 for SQL NULL). */
int64_t ts_pg_col_i64(const PGresult *r, int i, int j);
/* v as decimal text in buf, for a parameter; returns buf. */
#define TS_PG_I64_BUF 24
const char *ts_pg_i64(char buf[TS_PG_I64_BUF], int64_t v);

#endif
