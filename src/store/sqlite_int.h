/* sqlite_int.h: what of the SQLite driver (sqlite.c) its own unit test
 * (test_store_sqlite.c) reaches into: a connection's handle and the group
 * commit. Nothing else includes it. */
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
 * id). arg, and what fn leaves in it, belongs to the caller throughout.
 * While the calling thread has a write batch open (ts_store_batch_begin),
 * the job runs there and then. */
int ts_sq_write_batched(struct ts_store *st, ts_drv_job fn, void *arg, bool bump);
/* A snapshot of the group commit's state, for tests and diagnostics. */
struct ts_sq_batch_stats {
	bool combining;   /* a batch is running */
	size_t pending;   /* jobs queued for a later batch */
	uint64_t batches; /* batches run since the store was opened */
	uint64_t jobs;    /* jobs run in them */
};
void ts_sq_batch_stats(struct ts_store *st, struct ts_sq_batch_stats *out);

#endif
