/* pg_int.h: private to the PostgreSQL backend (src/store/pg/), shared by pg.c (open, the
 * connection pool, transactions, query and row helpers), pg_schema.c
 * (migrations) and the operations: pg_ops.c (configuration, revocations,
 * audit, and the vtable), pg_people.c (users, groups), pg_apikeys.c,
 * pg_grants.c (codes, grants, refresh tokens), pg_state.c (sessions,
 * consent, pending state, purging) and pg_vault.c (token vault providers
 * and connections, re-sealing). Each operation keeps exactly the contract
 * of its ts_store_* wrapper in store.h and behaves as its SQLite twin
 * (sqlite_*.c): the store contract suites run against both. Nothing
 * outside src/store includes this header.
 *
 * Conventions: every statement is parameterised (PQexecParams, text
 * format; integers are passed as decimal text made by ts_pg_i64), SQL text
 * is a string literal next to the operation that runs it, never built
 * from data. Times are BIGINT Unix seconds and flags INTEGER 0/1, as in
 * the SQLite schema, so that records read the same from both. */
#ifndef TS_STORE_PG_INT_H
#define TS_STORE_PG_INT_H

#include "store/drv.h"

#include <libpq-fe.h>

/* One pooled connection, used by one thread at a time. */
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

struct ts_pg_conn {
	PGconn *db;
	const struct ts_pg_url *url; /* the store's, for scrubbing messages */
	char *const *sql;        /* the store's SQL table in $N form, by statement id */
	bool prepared[TS_SQL_COUNT]; /* prepared on this connection (PQprepare) */
	bool broken;             /* a query failed at the connection level: closed on put */
	struct ts_pg_conn *next; /* free-list link while idle */
};

/* The operations table (pg_ops.c) and the backend's close (pg.c). */
extern const struct ts_store_ops ts_pg_ops;
void ts_pg_close(struct ts_store *st);
/* Ping and generation (pg.c). */
int ts_pg_ping(struct ts_store *st);
int ts_pg_generation(struct ts_store *st, int64_t *out);
/* Applies the migrations on c (pg_schema.c); concurrent openers serialise
 * on an advisory lock, so many servers may start at once. */
int ts_pg_migrate(struct ts_pg_conn *c);

/* Operations implemented outside pg_ops.c, with the contracts of the
 * matching ts_store_* wrappers in store.h; arguments are already checked. */


/* ---- the engine (pg.c) ---- */

/* Takes a connection from st's pool, opening one if fewer than the pool's
 * maximum are open, else waiting for one to come back. A connection found
 * dead is replaced, so the store recovers by itself after an outage. On
 * TS_OK *out must be given back with ts_pg_conn_put; TS_ESTORE when no
 * connection can be made. */
int ts_pg_conn_get(struct ts_store *st, struct ts_pg_conn **out);
/* Gives a connection back (NULL is a no-op). One still inside a
 * transaction is rolled back; a broken one is closed. */
void ts_pg_conn_put(struct ts_store *st, struct ts_pg_conn *c);

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

/* A write transaction: ts_pg_write_begin takes a connection and runs BEGIN
 * (READ COMMITTED; single-use steps rely on conditional UPDATEs and row
 * locks, not on isolation). ts_pg_write_end must follow, even when begin
 * failed: given rc == TS_OK it bumps the generation (when bump is set) and
 * commits, otherwise (or if that fails) it rolls back; it gives the
 * connection back and returns the final code. */
int ts_pg_write_begin(struct ts_store *st, struct ts_pg_conn **c);
int ts_pg_write_end(struct ts_store *st, struct ts_pg_conn *c, int rc, bool bump);
/* The store's write batches (ts_store_batch_begin/end): while the calling
 * thread has one open, ts_pg_conn_get gives it the batch's connection and
 * ts_pg_write_begin/end run a savepoint instead of a transaction. */
int ts_pg_batch_begin(struct ts_store *st);
int ts_pg_batch_end(struct ts_store *st, bool commit);
/* One statement in a transaction of its own. With must_change,
 * TS_ENOTFOUND (and nothing written) when no row changed. */
int ts_pg_write1(struct ts_store *st, const char *sql, const char *const *args, int n,
		 bool must_change, bool bump, const char *what);
/* A one-row read: TS_OK with the result in *out (row 0; the caller
 * PQclears it), TS_ENOTFOUND when there is no row (nothing to free). */
int ts_pg_get1(struct ts_store *st, const char *sql, const char *const *args, int n,
	       PGresult **out, const char *what);

/* Reads row i of r into a new record, or NULL when a NOT NULL column held
 * NULL; and releases one. */
typedef void *(*ts_pg_read_fn)(const PGresult *r, int i);
typedef void (*ts_pg_free_fn)(void *rec);
/* Collects every row of r through read into a new array (array and
 * records owned by the caller; pass the record-pointer array as (void ***)).
 * On a bad row frees what it read and returns TS_ESTORE. */
int ts_pg_rows(const PGresult *r, ts_pg_read_fn read, ts_pg_free_fn free_rec, const char *what,
	       void ***out, size_t *n);
/* A whole list: takes a connection, runs sql with args, collects the rows
 * as ts_pg_rows, gives the connection back. */
int ts_pg_list(struct ts_store *st, const char *sql, const char *const *args, int nargs,
	       ts_pg_read_fn read, ts_pg_free_fn free_rec, const char *what, void ***out,
	       size_t *n);

/* Column readers for row i, column j: a copy of a text column (NULL for
 * SQL NULL), owned by the caller; a BIGINT/INTEGER column (0 for NULL); an
 * INTEGER 0/1 flag. */
char *ts_pg_col_dup(const PGresult *r, int i, int j);
int64_t ts_pg_col_i64(const PGresult *r, int i, int j);
bool ts_pg_col_bool(const PGresult *r, int i, int j);
/* Logs a row with NULL in a NOT NULL column and returns TS_ESTORE. */
int ts_pg_bad_row(const char *what);
/* v as decimal text in buf, for a parameter; returns buf. */
#define TS_PG_I64_BUF 24
const char *ts_pg_i64(char buf[TS_PG_I64_BUF], int64_t v);

#endif
