/* sqlite_int.h: private to the SQLite backend, shared by sqlite.c (open,
 * connection pool, statement cache, transactions), sqlite_ops.c (the store
 * operations) and sqlite_schema.c (migrations). Nothing outside src/store
 * includes it. */
#ifndef TS_STORE_SQLITE_INT_H
#define TS_STORE_SQLITE_INT_H

#include "store.h"

#include <sqlite3.h>

/* Every statement the backend runs, prepared at most once per connection.
 * The SQL text is ts_sq_sql[id], defined next to its users in sqlite_ops.c. */
enum ts_sq_stmt {
	TS_SQ_BEGIN,
	TS_SQ_COMMIT,
	TS_SQ_ROLLBACK,
	TS_SQ_GEN_GET,
	TS_SQ_GEN_BUMP,
	TS_SQ_TENANT_PUT,
	TS_SQ_TENANT_GET,
	TS_SQ_TENANT_LIST,
	TS_SQ_TENANT_DELETE,
	TS_SQ_CLIENT_PUT,
	TS_SQ_CLIENT_GET,
	TS_SQ_CLIENT_LIST,
	TS_SQ_CLIENT_LIST_ALL,
	TS_SQ_CLIENT_DELETE,
	TS_SQ_KEY_PUT,
	TS_SQ_KEY_LIST,
	TS_SQ_KEY_LIST_ALL,
	TS_SQ_KEY_DELETE,
	TS_SQ_REVOKE_PUT,
	TS_SQ_REVOKE_CHECK,
	TS_SQ_REVOKE_PURGE,
	TS_SQ_AUDIT_APPEND,
	TS_SQ_AUDIT_QUERY,
	TS_SQ_AUDIT_QUERY_ALL,
	TS_SQ_COUNT
};
extern const char *const ts_sq_sql[TS_SQ_COUNT];

/* One pooled connection, used by one thread at a time. */
struct ts_sq_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[TS_SQ_COUNT]; /* prepared on first use, finalized on close */
	struct ts_sq_conn *next;         /* free-list link while idle */
};

/* The operations table (sqlite_ops.c) and its close (sqlite.c). */
extern const struct ts_store_ops ts_sqlite_ops;
void ts_sq_close(struct ts_store *st);

/* Takes a connection from st's pool, opening one if fewer than the pool's
 * maximum are open, else waiting for one to come back. On TS_OK *out must be
 * given back with ts_sq_conn_put; TS_ESTORE if a new connection fails. */
int ts_sq_conn_get(struct ts_store *st, struct ts_sq_conn **out);
/* Gives a connection back (NULL is a no-op). One still inside a
 * transaction is rolled back, or closed if that fails. */
void ts_sq_conn_put(struct ts_store *st, struct ts_sq_conn *c);

/* The connection's cached statement id, prepared on first use. It stays
 * owned by the connection; the caller resets it with ts_sq_stmt_done before
 * giving the connection back. */
int ts_sq_stmt(struct ts_sq_conn *c, enum ts_sq_stmt id, sqlite3_stmt **out);
/* Resets a statement and drops its bindings, so no borrowed pointer stays
 * bound after the call returns. NULL is a no-op. */
void ts_sq_stmt_done(sqlite3_stmt *s);
/* Steps a statement that returns no rows to completion, then resets it. */
int ts_sq_run(struct ts_sq_conn *c, sqlite3_stmt *s, const char *what);

/* A write: ts_sq_write_begin takes a connection and opens an IMMEDIATE
 * transaction, which takes the write lock up front (waiting up to the busy
 * timeout) so the transaction never fails later for want of it.
 * ts_sq_write_end must follow, even when begin failed: given rc == TS_OK it
 * bumps the generation (when bump is set) and commits, otherwise (or if that
 * fails) it rolls back; it gives the connection back and returns the final
 * code. */
int ts_sq_write_begin(struct ts_store *st, struct ts_sq_conn **c);
int ts_sq_write_end(struct ts_store *st, struct ts_sq_conn *c, int rc, bool bump);

/* Maps the last error on db to a return code (TS_EEXIST for a unique or
 * primary key conflict, TS_ENOTFOUND for a missing parent row, TS_ESTORE
 * otherwise) and logs it with the caller's location. The log carries
 * sqlite3_errmsg, which names constraints and columns but never bound
 * values, so secrets and identifiers stay out of the log. */
#define ts_sq_fail(db, what) ts_sq_fail_at(__FILE__, __LINE__, __func__, (db), (what))
int ts_sq_fail_at(const char *file, int line, const char *func, sqlite3 *db, const char *what);

/* Brings the database on db up to the newest schema version this binary
 * knows, one migration step per IMMEDIATE transaction, so that two
 * processes opening the same file at once apply each step exactly once.
 * TS_OK, or TS_ESTORE (logged) if a step fails or the file's schema is newer
 * than this binary. db must have no open transaction; path is for logs. */
int ts_sqlite_migrate(sqlite3 *db, const char *path);

#endif
