/* sqlite_int.h: private to the SQLite driver, shared by sqlite.c (open,
 * connection pool, transactions, group commit, write batches),
 * sqlite_schema.c (migrations) and drv_sqlite.c (the driver interface over
 * them). Nothing outside src/store includes it but the backend's own unit
 * test (test_store_sqlite.c). */
#ifndef TS_STORE_SQLITE_INT_H
#define TS_STORE_SQLITE_INT_H

#include "drv.h"

#include <sqlite3.h>

/* The statements of the engine itself (transactions, savepoints, the
 * generation), prepared at most once per connection; the operations' own
 * come from the SQL table (sql.h). The text is in sqlite.c. */
enum ts_sq_stmt {
	TS_SQ_BEGIN,
	TS_SQ_COMMIT,
	TS_SQ_ROLLBACK,
	TS_SQ_SAVEPOINT,
	TS_SQ_RELEASE,
	TS_SQ_ROLLBACK_TO,
	TS_SQ_GEN_BUMP,
	TS_SQ_COUNT
};

/* One pooled connection, used by one thread at a time. */
struct ts_sq_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[TS_SQ_COUNT]; /* prepared on first use, finalized on close */
	sqlite3_stmt *q[TS_SQL_COUNT];   /* the SQL table's (sql.h), likewise */
	struct ts_sq_conn *next;         /* free-list link while idle */
};

/* Closes the store (the driver's close; every connection must be back). */
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

/* Statement helpers (sqlite.c) for the driver. */
/* Binds a borrowed string, or NULL, as parameter i (SQLITE_STATIC: every
 * caller resets the statement before the string goes away). Returns the
 * SQLite code, so binds chain with ||. */
int ts_sq_bind_str(sqlite3_stmt *s, int i, const char *v);

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
