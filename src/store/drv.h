/* drv.h: the small interface every storage driver fills (sqlite.c,
 * pg/pg.c), and the only one the operations (config.c, people.c, ...)
 * see. A driver lends connections, runs transactions, runs a statement of
 * the SQL table (sql.h) by id with bound arguments, walks its rows and
 * classifies its errors; it never knows what a tenant or a token is.
 * Private to src/store. */
#ifndef TS_STORE_DRV_H
#define TS_STORE_DRV_H

#include "store.h"
#include "sql.h"

#include <pthread.h>

/* A driver's connection, opaque here: one thread uses it at a time. */
struct ts_drv_conn;

/* One bound argument: text (NULL is SQL NULL) or a 64-bit integer. */
enum ts_arg_kind { TS_ARG_TEXT, TS_ARG_I64 };
struct ts_arg {
	enum ts_arg_kind kind;
	const char *s; /* TS_ARG_TEXT: borrowed until the statement is done */
	int64_t i;     /* TS_ARG_I64 */
};
#define TS_TXT(v) ((struct ts_arg){.kind = TS_ARG_TEXT, .s = (v)})
#define TS_I64(v) ((struct ts_arg){.kind = TS_ARG_I64, .i = (int64_t)(v)})

/* The rows of one query, walked with the driver's next and read with its
 * column functions until done. */
struct ts_cur {
	struct ts_drv_conn *c;
	void *h;   /* the driver's handle: a statement or a result */
	int row;   /* the current row (drivers that hold all rows) */
	int nrows; /* rows held, or -1 */
};

/* A job for batched: a write run inside a transaction the driver owns. It
 * must not begin or end the transaction itself. */
typedef int (*ts_drv_job)(struct ts_drv_conn *c, void *arg);

/* The statements of write transactions and batches, which every engine
 * runs its own way (txn.c runs them). GEN_BUMP moves the generation. */
enum ts_tx_stmt {
	TS_TX_BEGIN,
	TS_TX_COMMIT,
	TS_TX_ROLLBACK,
	TS_TX_SAVEPOINT,
	TS_TX_RELEASE,
	TS_TX_ROLLBACK_TO,
	TS_TX_GEN_BUMP,
	TS_TX_COUNT
};

struct ts_drv {
	/* The name, and whether several servers may share the store; what
	 * callers see of the driver (st->ops). */
	struct ts_store_ops ops;
	enum ts_dialect dialect;
	/* Runs statement id with args (n of them) on c. Errors are classified
	 * and logged with what: a unique conflict is TS_EEXIST, a missing
	 * parent row (foreign key) TS_ENOTFOUND, anything else TS_ESTORE
	 * (the caller answers 503). exec: *changed (may be NULL) gets the rows
	 * it changed. query: TS_OK leaves the rows in *cur, which done must
	 * release in every case. */
	int (*exec)(struct ts_drv_conn *c, enum ts_sql id, const struct ts_arg *args, int n,
		    int *changed, const char *what);
	int (*query)(struct ts_drv_conn *c, enum ts_sql id, const struct ts_arg *args, int n,
		     struct ts_cur *cur, const char *what);
	/* The next row: TS_OK, TS_ENOTFOUND when there is none, TS_ESTORE. */
	int (*next)(struct ts_cur *cur, const char *what);
	/* Column j of the current row: text borrowed until the next call of
	 * next or done (NULL for SQL NULL); an integer (0 for SQL NULL). */
	const char *(*text)(struct ts_cur *cur, int j);
	int64_t (*i64)(struct ts_cur *cur, int j);
	void (*done)(struct ts_cur *cur);
	/* True when c broke before anything ran on it, so a read may be
	 * redone once on a fresh connection. */
	bool (*stale)(struct ts_drv_conn *c);
	/* Optional: runs fn in a transaction that it may share with the small
	 * writes of other threads (group commit), each in a savepoint of its
	 * own; fn's code once the transaction has ended. NULL: begin, fn,
	 * end. */
	int (*batched)(struct ts_store *st, ts_drv_job fn, void *arg, bool bump);
	/* Frees the engine's state (st->impl), its pool drained already. */
	void (*close)(struct ts_store *st);

	/* The engine under txn.c. conn_open opens a connection of st (TS_OK
	 * with *out owned by the pool, or TS_ESTORE, logged); conn_close
	 * closes one (NULL is a no-op); alive (optional) tells whether an idle
	 * one is still connected, else the pool replaces it; fit tells
	 * whether one given back holds no transaction and may be lent again.
	 * run runs one of the transaction statements; open tells whether c
	 * holds a transaction that is still there (possibly failed). lock
	 * (optional) takes or releases what makes the engine's writers queue
	 * in order, around each transaction outside a batch. */
	int (*conn_open)(struct ts_store *st, struct ts_drv_conn **out);
	void (*conn_close)(struct ts_drv_conn *c);
	bool (*alive)(struct ts_drv_conn *c);
	bool (*fit)(struct ts_drv_conn *c);
	int (*run)(struct ts_drv_conn *c, enum ts_tx_stmt s, const char *what);
	bool (*open)(struct ts_drv_conn *c);
	void (*lock)(struct ts_store *st, bool take);
	/* Runs a fixed script of statements (a migration step: no
	 * parameters, never built from data); TS_ESTORE, logged, if one
	 * fails. */
	int (*script)(struct ts_drv_conn *c, const char *sql, const char *what);
};

/* An engine's pool of connections (txn.c): at most TS_POOL_MAX open, each
 * lent to one thread at a time, opened when none is idle. An engine's
 * state (st->impl) begins with its pool. */
#define TS_POOL_MAX 8
struct ts_pool {
	pthread_mutex_t mu; /* guards the fields below */
	pthread_cond_t cv;  /* signalled when a connection comes back or a slot frees */
	struct ts_drv_conn *idle[TS_POOL_MAX]; /* not lent out, the latest back last */
	unsigned nidle, nopen; /* idle; open, idle or lent out */
};
/* Makes the store of driver d over its state impl: sets up the pool, opens
 * the first connection, brings the schema up to date on it
 * (ts_schema_migrate) and leaves it idle in the pool. TS_OK with *out
 * owned by the caller (ts_store_close), or the failure, logged, with the
 * store closed (d->close frees impl). */
int ts_pool_start(const struct ts_drv *d, void *impl, struct ts_store **out);
/* Closes every idle connection and destroys the pool. Every connection
 * must be back by then: one still lent out is a caller bug, logged. */
void ts_pool_drain(struct ts_store *st);

/* Connections and write transactions over the engine entries (txn.c),
 * the same for every driver. conn_get lends a pooled connection (the
 * calling thread's batch connection while it has a batch open); conn_put
 * gives it back, rolling back what it left open. TS_ESTORE when none can
 * be made. begin takes a connection and opens a write transaction (a
 * savepoint inside the thread's batch); end must follow, even when begin
 * failed: with rc TS_OK it bumps the generation (when bump is set) and
 * commits, otherwise it rolls back; it gives the connection back and
 * returns the final code. */
int ts_txn_conn_get(struct ts_store *st, struct ts_drv_conn **out);
void ts_txn_conn_put(struct ts_store *st, struct ts_drv_conn *c);
int ts_txn_begin(struct ts_store *st, struct ts_drv_conn **c);
int ts_txn_end(struct ts_store *st, struct ts_drv_conn *c, int rc, bool bump);
/* True while the calling thread has a batch open on st. */
bool ts_txn_in_batch(struct ts_store *st);

/* The SQLite and PostgreSQL drivers. */
extern const struct ts_drv ts_drv_sqlite;
extern const struct ts_drv ts_drv_pg;

#endif
