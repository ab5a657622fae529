/* sqlite_int.h: private to the SQLite driver, shared by sqlite.c (open,
 * connection pool, transaction statements, group commit),
 * sqlite_schema.c (migration scripts) and drv_sqlite.c (the driver interface over
 * them, with txn.c). Nothing outside src/store includes it but the backend's own unit
 * test (test_store_sqlite.c). */
#ifndef TS_STORE_SQLITE_INT_H
#define TS_STORE_SQLITE_INT_H

#include "drv.h"

#include <sqlite3.h>

/* One pooled connection, used by one thread at a time. */
struct ts_sq_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[TS_TX_COUNT]; /* prepared on first use, finalized on close */
	sqlite3_stmt *q[TS_SQL_COUNT];   /* the SQL table's (sql.h), likewise */
};

/* Closes the store (the driver's close; every connection must be back). */
void ts_sq_close(struct ts_store *st);

/* The engine entries of the driver (drv.h) over st's pool; transactions
 * are IMMEDIATE, and ts_sq_lock queues this process's writers in order. */
int ts_sq_pool_get(struct ts_store *st, struct ts_drv_conn **out);
void ts_sq_pool_put(struct ts_store *st, struct ts_drv_conn *c);
int ts_sq_run_tx(struct ts_drv_conn *c, enum ts_tx_stmt id, const char *what);
bool ts_sq_open(struct ts_drv_conn *c);
void ts_sq_lock(struct ts_store *st, bool take);

/* Resets a statement and drops its bindings, so no borrowed pointer stays
 * bound after the call returns. NULL is a no-op. */
void ts_sq_stmt_done(sqlite3_stmt *s);
/* Steps a statement that returns no rows to completion, then resets it. */
int ts_sq_run(struct ts_sq_conn *c, sqlite3_stmt *s, const char *what);

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
int ts_sq_write_batched(struct ts_store *st, ts_drv_job fn, void *arg, bool bump);
/* While the calling thread has a write batch open (ts_store_batch_begin),
 * ts_sq_write_batched runs the job there and then. */
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

/* The driver's script entry (sqlite_schema.c). */
int ts_sq_script(struct ts_drv_conn *c, const char *sql, const char *what);

#endif
