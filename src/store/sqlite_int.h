/* sqlite_int.h: private to the SQLite backend, shared by sqlite.c (open,
 * connection pool, statement cache, transactions, statement helpers),
 * sqlite_sql.c (the SQL text of every statement), sqlite_schema.c
 * (migrations) and the operations: sqlite_ops.c (configuration,
 * revocations, audit, and the vtable), sqlite_people.c (users, groups),
 * sqlite_grants.c (codes, grants, refresh tokens), sqlite_state.c
 * (sessions, consent, pending state, purging) and sqlite_vault.c (token
 * vault providers and connections, re-sealing). Nothing outside src/store
 * includes it but the backend's own unit test (test_store_sqlite.c). */
#ifndef TS_STORE_SQLITE_INT_H
#define TS_STORE_SQLITE_INT_H

#include "drv.h"

#include <sqlite3.h>

/* Every statement the backend runs, prepared at most once per connection.
 * The SQL text is ts_sq_sql[id], in sqlite_sql.c. */
enum ts_sq_stmt {
	TS_SQ_BEGIN,
	TS_SQ_COMMIT,
	TS_SQ_ROLLBACK,
	TS_SQ_SAVEPOINT,
	TS_SQ_RELEASE,
	TS_SQ_ROLLBACK_TO,
	TS_SQ_GEN_GET,
	TS_SQ_GEN_BUMP,
	TS_SQ_TENANT_PUT,
	TS_SQ_TENANT_GET,
	TS_SQ_TENANT_LIST,
	TS_SQ_TENANT_VERSIONS,
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
	TS_SQ_JTI_USE,
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
	sqlite3_stmt *q[TS_SQL_COUNT];   /* the SQL table's (sql.h), likewise */
	struct ts_sq_conn *next;         /* free-list link while idle */
};

/* The operations table (sqlite_ops.c) and its close (sqlite.c). */
extern const struct ts_store_ops ts_sqlite_ops;
void ts_sq_close(struct ts_store *st);

/* Operations implemented outside sqlite_ops.c, with the contracts of the
 * matching ts_store_* wrappers in store.h; arguments are already checked. */

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

/* A small write that shares one transaction, and so one COMMIT and one WAL
 * sync, with whatever other threads queue meanwhile (group commit).
 * ts_sq_write_batched queues fn(c, arg) and returns its code once the
 * transaction that ran it has ended. The first caller to find no batch
 * running runs the queued jobs in arrival order (up to a cap) in one
 * IMMEDIATE transaction, each inside a savepoint of its own: a job that
 * fails is rolled back to its savepoint alone and keeps its code, and the
 * others go on. If any job that succeeded asked for bump, the generation is
 * bumped once before the commit. TS_OK means the job's writes are durable;
 * if the transaction cannot begin or commit, or SQLite abandons it, every
 * job of the batch that had succeeded or had yet to run gets the failure
 * code (TS_ESTORE if SQLite ended it by itself) and none of its writes
 * stay. A job that failed on its own keeps its code.
 * fn runs on whichever caller's thread is running the batch, after the
 * earlier jobs of the batch, whose writes it sees: it must reset every
 * statement it steps, never begin or end the transaction, and rely on no
 * thread-local state (what it logs carries the running thread's request
 * id). arg, and what fn leaves in it, belongs to the caller throughout. */
typedef int (*ts_sq_job_fn)(struct ts_sq_conn *c, void *arg);
int ts_sq_write_batched(struct ts_store *st, ts_sq_job_fn fn, void *arg, bool bump);
/* The store's write batches (ts_store_batch_begin/end): while the calling
 * thread has one open, ts_sq_conn_get gives it the batch's connection,
 * ts_sq_write_begin/end run a savepoint instead of a transaction, and
 * ts_sq_write_batched runs the job there and then. */
int ts_sq_batch_begin(struct ts_store *st);
int ts_sq_batch_end(struct ts_store *st, bool commit);
/* A snapshot of the group commit's state, for tests and diagnostics. */
struct ts_sq_batch_stats {
	bool combining;   /* a batch is running */
	size_t pending;   /* jobs queued for a later batch */
	uint64_t batches; /* batches run since the store was opened */
	uint64_t jobs;    /* jobs run in them */
};
void ts_sq_batch_stats(struct ts_store *st, struct ts_sq_batch_stats *out);

/* Statement helpers shared by the operation files (sqlite.c). */
/* Binds a borrowed string, or NULL, as parameter i (SQLITE_STATIC: every
 * caller resets the statement before the string goes away). Returns the
 * SQLite code, so binds chain with ||. */
int ts_sq_bind_str(sqlite3_stmt *s, int i, const char *v);
/* Binds args[0..n-1] as parameters 1..n. TS_OK or TS_ESTORE (logged). */
int ts_sq_bind_strs(struct ts_sq_conn *c, sqlite3_stmt *s, const char *const *args, int n,
		    const char *what);
/* A copy of a text column (NULL for SQL NULL), owned by the caller. */
char *ts_sq_col_dup(sqlite3_stmt *s, int i);
/* Logs a row with NULL in a NOT NULL column and returns TS_ESTORE. */
int ts_sq_bad_row(const char *what);
/* Ends a row loop: SQLITE_DONE is TS_OK, anything else a failure. */
int ts_sq_rows_end(struct ts_sq_conn *c, int src, const char *what);
/* Returns v, grown (doubling, from 8) when n has reached *cap elements of
 * size elem. Aborts on exhaustion like ts_xrealloc. */
/* Reads the current row into a new record, or NULL when a NOT NULL column
 * held NULL; and releases one. Each list wraps its record type's pair. */
typedef void *(*ts_sq_read_fn)(sqlite3_stmt *s);
typedef void (*ts_sq_free_fn)(void *rec);
/* Steps a prepared, bound statement to its end and collects the rows read
 * by read into a new array in *out (array and records owned by the caller;
 * the caller's record-pointer array is passed as (void ***)). On failure
 * frees what it read and returns the error; the statement is left for the
 * caller to reset. */
int ts_sq_rows(struct ts_sq_conn *c, sqlite3_stmt *s, ts_sq_read_fn read, ts_sq_free_fn free_rec,
	       const char *what, void ***out, size_t *n);
/* A whole list: takes a connection, binds the nargs string args to
 * statement id, collects the rows as ts_sq_rows, and gives it back. */
int ts_sq_list(struct ts_store *st, enum ts_sq_stmt id, const char *const *args, int nargs,
	       ts_sq_read_fn read, ts_sq_free_fn free_rec, const char *what, void ***out,
	       size_t *n);

/* Runs the cached write statement id with the n strings args as its
 * parameters, on c inside the caller's transaction; *changed (may be NULL)
 * gets the number of rows it changed (cascades not counted). */
int ts_sq_exec(struct ts_sq_conn *c, enum ts_sq_stmt id, const char *const *args, int n,
	       int *changed, const char *what);
/* ts_sq_exec in a transaction of its own. With must_change, TS_ENOTFOUND
 * (and nothing written) when no row changed. bump as in ts_sq_write_end. */
int ts_sq_write1(struct ts_store *st, enum ts_sq_stmt id, const char *const *args, int n,
		 bool must_change, bool bump, const char *what);
/* A one-row read: takes a connection, binds the n strings args to the
 * cached statement id and steps it once. TS_OK leaves the row in *s for
 * the caller to read; TS_ENOTFOUND if there is none; TS_ESTORE. In every
 * case ts_sq_read_end(st, *c, *s) must follow. */
int ts_sq_read_begin(struct ts_store *st, enum ts_sq_stmt id, const char *const *args, int n,
		     struct ts_sq_conn **c, sqlite3_stmt **s, const char *what);
void ts_sq_read_end(struct ts_store *st, struct ts_sq_conn *c, sqlite3_stmt *s);

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
