/* sqlite.c: the SQLite driver (drv.h): opening and configuring
 * connections (txn.c pools them: at most TS_POOL_MAX, each used by one
 * thread at a time with its own cache of prepared statements, a statement
 * of the SQL table prepared on first use and kept, so that concurrent
 * readers never queue on one connection), IMMEDIATE write transactions
 * (run by txn.c; alone, or batched so that concurrent small writes share
 * one commit), migration scripts, and reading a file's schema version
 * without opening it as a store. Every connection runs with WAL, synchronous=FULL
 * (a write is durable once it returns) and foreign keys on. The SQL is in
 * sql_table.h, the schema in schema.c. */
#include "schema.h"
#include "sqlite_int.h"

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The most jobs one batch of ts_sq_write_batched runs: enough to cover
 * every thread that can be waiting at once, and a bound on how long the
 * write lock is held for one commit. */
#define BATCH_MAX 64
#define BUSY_TIMEOUT_MS 5000
#define DB_FILE_MODE 0600
#define MEMORY_DB ":memory:"
/* Every connection's settings. A checkpoint every 8192 WAL pages (32 MiB)
 * instead of 1000: a page rewritten by many commits reaches the database
 * file once, and the checkpoint's own syncs are spread over ten times more
 * commits. */
#define SETTINGS_SQL \
	"PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=8192; PRAGMA foreign_keys=ON"

/* One caller's write queued for a batch (ts_sq_write_batched). It lives on
 * the caller's stack until done is set. */
struct ts_sq_job {
	ts_drv_job fn;          /* the write, and its argument */
	void *arg;
	bool bump;              /* bump the generation if the job succeeds */
	int rc;                 /* fn's code, or the batch's failure; read once done */
	bool done;              /* the batch that ran the job has ended (batch_mu) */
	struct ts_sq_job *next; /* queue and batch link (batch_mu while queued) */
};

/* The backend state behind ts_store.impl.
 *
 * Locks, in the order they may be taken: a pooled connection (the pool's
 * lock, only while taking or giving one back), then write_mu. batch_mu is a leaf:
 * nothing else is taken while it is held, so no thread ever waits for the
 * pool or for write_mu holding it, and whoever holds write_mu never takes
 * it. */
struct ts_sq {
	struct ts_pool pool; /* the connections (first, for txn.c) */
	char *path;         /* as given to sqlite3_open_v2 */
	/* Held from BEGIN IMMEDIATE to COMMIT/ROLLBACK. SQLite admits one
	 * writer at a time anyway; this makes our own threads queue for it in
	 * order instead of polling in SQLite's busy handler, which then only
	 * has other processes to wait for. */
	pthread_mutex_t write_mu;
	/* Group commit: the jobs of ts_sq_write_batched waiting for a batch,
	 * and whether one of their callers is running a batch. */
	pthread_mutex_t batch_mu;       /* guards the fields below and every queued job */
	pthread_cond_t batch_cv;        /* broadcast when a batch ends */
	struct ts_sq_job *pending;      /* queued jobs, oldest first */
	struct ts_sq_job **pending_tail; /* where the next job is linked in */
	size_t npending;                /* jobs in pending */
	bool combining;                 /* a caller is running a batch */
	uint64_t batches, jobs;         /* run since open, for ts_sq_batch_stats */
};

/* The transaction statements (drv.h), by enum ts_tx_stmt. An IMMEDIATE
 * transaction takes the write lock up front (waiting up to the busy
 * timeout), so it never fails later for want of it. */
static const char *const engine_sql[TS_TX_COUNT] = {
	[TS_TX_BEGIN] = "BEGIN IMMEDIATE",
	[TS_TX_COMMIT] = "COMMIT",
	[TS_TX_ROLLBACK] = "ROLLBACK",
	/* ts_sq_write_batched runs each job of a batch in a savepoint of its
	 * own, so that one job's failure undoes that job alone. */
	[TS_TX_SAVEPOINT] = "SAVEPOINT job",
	[TS_TX_RELEASE] = "RELEASE job",
	[TS_TX_ROLLBACK_TO] = "ROLLBACK TO job",
	[TS_TX_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE name = 'generation'",
};

/* Maps the last error on db to a return code (TS_EEXIST for a unique or
 * primary key conflict, TS_ENOTFOUND for a missing parent row, TS_ESTORE
 * otherwise) and logs it with the caller's location. The log carries
 * sqlite3_errmsg, which names constraints and columns but never bound
 * values, so secrets and identifiers stay out of the log. */
#define fail(db, what) fail_at(__FILE__, __LINE__, __func__, (db), (what))
static int fail_at(const char *file, int line, const char *func, sqlite3 *db, const char *what)
{
	int xrc = sqlite3_extended_errcode(db);

	switch (xrc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		ts_log_write(TS_LOG_DEBUG, file, line, func, "sqlite %s: %s", what,
			     sqlite3_errmsg(db));
		return TS_EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* The parent tenant does not exist. */
		ts_log_write(TS_LOG_DEBUG, file, line, func, "sqlite %s: %s", what,
			     sqlite3_errmsg(db));
		return TS_ENOTFOUND;
	default:
		ts_log_write(TS_LOG_ERR, file, line, func, "sqlite %s: %s (%d)", what,
			     sqlite3_errmsg(db), xrc);
		return TS_ESTORE;
	}
}

static struct ts_sq_conn *conn(struct ts_drv_conn *c)
{
	return (struct ts_sq_conn *)c;
}

/* Reads a one-row, one-column pragma as text into out (capacity cap). */
static int pragma_text(sqlite3 *db, const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *s = NULL;
	const char *v;
	int rc = TS_ESTORE;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		ts_log_err("sqlite %s: \"%s\" failed: %s (%d)", path, sql, sqlite3_errmsg(db),
			   sqlite3_extended_errcode(db));
		goto out;
	}
	v = (const char *)sqlite3_column_text(s, 0);
	if (v != NULL && strlen(v) < cap)
		memcpy(out, v, strlen(v) + 1);
	rc = TS_OK;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Applies the per-connection settings. journal_mode is also the first
 * statement that reads the file, so this is where "not a database" shows. */
static int conn_setup(sqlite3 *db, const char *path)
{
	char v[16];
	int rc;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	rc = pragma_text(db, path, "PRAGMA journal_mode=WAL", v, sizeof(v));
	if (rc != TS_OK)
		return rc;
	if (strcmp(v, "wal") != 0)
		ts_log_warn("sqlite %s: journal_mode is \"%s\", not WAL; readers will block "
			    "behind writers", path, v);
	if (sqlite3_exec(db, SETTINGS_SQL, NULL, NULL, NULL) != SQLITE_OK) {
		ts_log_err("sqlite %s: \"%s\" failed: %s (%d)", path, SETTINGS_SQL,
			   sqlite3_errmsg(db), sqlite3_extended_errcode(db));
		return TS_ESTORE;
	}
	/* Tenant deletion relies on the cascade: refuse a library built
	 * without foreign key support rather than leave orphans behind. */
	rc = pragma_text(db, path, "PRAGMA foreign_keys", v, sizeof(v));
	if (rc != TS_OK)
		return rc;
	if (strcmp(v, "1") != 0) {
		ts_log_err("sqlite %s: foreign keys cannot be enabled in this SQLite build", path);
		return TS_ESTORE;
	}
	return TS_OK;
}

static void conn_close(struct ts_drv_conn *dc)
{
	struct ts_sq_conn *c = conn(dc);
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < TS_TX_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	for (i = 0; i < TS_SQL_COUNT; i++)
		sqlite3_finalize(c->q[i]);
	if (sqlite3_close(c->db) != SQLITE_OK)
		ts_log_err("sqlite close: %s", sqlite3_errmsg(c->db));
	free(c);
}

/* Opens one connection to st's file and configures it. On TS_OK *out is
 * owned by the caller (conn_close). TS_ESTORE with a log line otherwise. */
static int conn_open(struct ts_store *st, struct ts_drv_conn **out)
{
	const char *path = ((struct ts_sq *)st->impl)->path;
	/* Each connection is used by one thread at a time (the pool sees to
	 * that), so SQLite's per-connection mutex is not needed. */
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
			  SQLITE_OPEN_PRIVATECACHE;
	struct ts_sq_conn *c = ts_xcalloc(1, sizeof(*c));
	int rc = TS_OK;

	*out = NULL;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
		ts_log_err("sqlite %s: cannot open the database: %s", path,
			   c->db ? sqlite3_errmsg(c->db) : "out of memory");
		rc = TS_ESTORE;
		goto out;
	}
	rc = conn_setup(c->db, path);
	if (rc != TS_OK)
		goto out;
	*out = (struct ts_drv_conn *)c;
	c = NULL;
out:
	conn_close((struct ts_drv_conn *)c);
	return rc;
}

/* SQLite may end a transaction by itself (an I/O error, a full disk). */
static bool tx_open(struct ts_drv_conn *c)
{
	return !sqlite3_get_autocommit(conn(c)->db);
}

static bool fit(struct ts_drv_conn *c)
{
	return !tx_open(c);
}

/* Resets a statement and drops its bindings, so no borrowed pointer stays
 * bound after the call returns. NULL is a no-op. */
static void stmt_done(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	/* reset repeats the last step's error, which was handled already. */
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no rows to completion, then resets it. */
static int step_done(struct ts_sq_conn *c, sqlite3_stmt *s, const char *what)
{
	int rc = TS_OK;

	if (sqlite3_step(s) != SQLITE_DONE)
		rc = fail(c->db, what);
	stmt_done(s);
	return rc;
}

/* Runs one of the transaction statements, prepared on first use and kept. */
static int run_tx(struct ts_drv_conn *dc, enum ts_tx_stmt id, const char *what)
{
	struct ts_sq_conn *c = conn(dc);

	assert(id < TS_TX_COUNT);
	if (c->stmt[id] == NULL &&
	    sqlite3_prepare_v3(c->db, engine_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id],
			       NULL) != SQLITE_OK)
		return fail(c->db, "prepare");
	return step_done(c, c->stmt[id], what);
}

/* write_mu, around every transaction outside a batch. */
static void lock(struct ts_store *st, bool take)
{
	struct ts_sq *sq = st->impl;

	if (take)
		pthread_mutex_lock(&sq->write_mu);
	else
		pthread_mutex_unlock(&sq->write_mu);
}

/* The connection's statement id, prepared on first use, with args bound
 * (borrowed, SQLITE_STATIC: every caller resets the statement before they
 * go away). */
static int prepare(struct ts_sq_conn *c, enum ts_sql id, const struct ts_arg *args, int n,
		   sqlite3_stmt **out, const char *what)
{
	const char *sql = ts_sql_text(TS_DIALECT_SQLITE, id);
	sqlite3_stmt *s;
	int i, src;

	assert(sql != NULL);
	*out = NULL;
	if (c->q[id] == NULL &&
	    sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->q[id], NULL) !=
		    SQLITE_OK)
		return fail(c->db, what);
	s = c->q[id];
	for (i = 0; i < n; i++) {
		if (args[i].kind == TS_ARG_I64)
			src = sqlite3_bind_int64(s, i + 1, args[i].i);
		else if (args[i].s == NULL)
			src = sqlite3_bind_null(s, i + 1);
		else
			src = sqlite3_bind_text(s, i + 1, args[i].s, -1, SQLITE_STATIC);
		if (src != SQLITE_OK) {
			stmt_done(s);
			return fail(c->db, what);
		}
	}
	*out = s;
	return TS_OK;
}

static int exec(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		int *changed, const char *what)
{
	struct ts_sq_conn *c = conn(dc);
	sqlite3_stmt *s = NULL;
	int rc;

	rc = prepare(c, id, args, n, &s, what);
	if (rc != TS_OK)
		return rc;
	rc = step_done(c, s, what);
	if (rc == TS_OK && changed != NULL)
		*changed = sqlite3_changes(c->db);
	return rc;
}

static int query(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		 struct ts_cur *cur, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc;

	cur->c = dc;
	cur->h = NULL;
	cur->nrows = -1;
	rc = prepare(conn(dc), id, args, n, &s, what);
	cur->h = s;
	return rc;
}

static int next(struct ts_cur *cur, const char *what)
{
	int src = sqlite3_step(cur->h);

	if (src == SQLITE_ROW)
		return TS_OK;
	if (src == SQLITE_DONE)
		return TS_ENOTFOUND;
	return fail(conn(cur->c)->db, what);
}

static const char *text(struct ts_cur *cur, int j)
{
	return (const char *)sqlite3_column_text(cur->h, j);
}

static int64_t i64(struct ts_cur *cur, int j)
{
	return sqlite3_column_int64(cur->h, j);
}

static void done(struct ts_cur *cur)
{
	stmt_done(cur->h);
	cur->h = NULL;
}

/* A local database cannot be cut under a caller. */
static bool stale(struct ts_drv_conn *c)
{
	(void)c;
	return false;
}

/* A migration step's script (schema.c applies the steps). */
static int script(struct ts_drv_conn *c, const char *sql, const char *what)
{
	sqlite3 *db = conn(c)->db;

	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return TS_OK;
	ts_log_err("sqlite: %s failed: %s (%d)", what, sqlite3_errmsg(db),
		   sqlite3_extended_errcode(db));
	return TS_ESTORE;
}

/* Runs job j in a savepoint of its own inside the open transaction on c,
 * setting j->rc. A job that fails is rolled back to its savepoint, so the
 * commit keeps none of its writes. Returns TS_OK while the transaction is
 * still fit to go on; anything else (a savepoint step failed, or SQLite
 * ended the transaction by itself, as it may on an I/O error or a full
 * disk) abandons the whole batch. */
static int run_job(struct ts_drv_conn *c, struct ts_sq_job *j)
{
	int rc;

	rc = run_tx(c, TS_TX_SAVEPOINT, "savepoint");
	if (rc != TS_OK) {
		j->rc = rc;
		return rc;
	}
	j->rc = j->fn(c, j->arg);
	/* Running the next job in autocommit mode would make it durable on
	 * its own, out of the batch's all-or-nothing. */
	if (!tx_open(c)) {
		ts_log_err("sqlite: a batched write lost its transaction (rc %d)", j->rc);
		return TS_ESTORE;
	}
	if (j->rc != TS_OK)
		rc = run_tx(c, TS_TX_ROLLBACK_TO, "rollback to savepoint");
	if (rc == TS_OK)
		rc = run_tx(c, TS_TX_RELEASE, "release savepoint");
	return rc;
}

/* Runs the jobs of batch (linked by next, oldest first) in one write
 * transaction and sets each one's rc. The caller holds no lock: this takes
 * a connection and write_mu as ts_txn_begin does. */
static void run_batch(struct ts_store *st, struct ts_sq_job *batch)
{
	struct ts_drv_conn *c = NULL;
	struct ts_sq_job *j;
	size_t nok = 0;
	bool bump = false;
	int rc;

	rc = ts_txn_begin(st, &c);
	for (j = batch; j != NULL; j = j->next) {
		if (rc != TS_OK) {
			j->rc = rc;
			continue;
		}
		rc = run_job(c, j);
		if (j->rc == TS_OK) {
			nok++;
			bump = bump || j->bump;
		}
	}
	if (rc == TS_OK && nok == 0) {
		/* Nothing to keep: roll back, as a lone failed write does. A
		 * commit would still write and sync the pages the savepoints
		 * restored. */
		ts_txn_end(st, c, TS_ENOTFOUND, false);
		return;
	}
	/* A job's TS_OK stands only if the commit does. */
	rc = ts_txn_end(st, c, rc, bump);
	if (rc != TS_OK)
		for (j = batch; j != NULL; j = j->next)
			if (j->rc == TS_OK)
				j->rc = rc;
}

/* Unlinks up to BATCH_MAX of the oldest pending jobs (there is at least
 * one) and returns them as a list. Under batch_mu. */
static struct ts_sq_job *batch_take(struct ts_sq *sq, size_t *n)
{
	struct ts_sq_job *head = sq->pending, *last = head;

	assert(head != NULL);
	*n = 1;
	while (*n < BATCH_MAX && last->next != NULL) {
		last = last->next;
		(*n)++;
	}
	sq->pending = last->next;
	if (sq->pending == NULL)
		sq->pending_tail = &sq->pending;
	last->next = NULL;
	sq->npending -= *n;
	return head;
}

/* The caller's job waits in the queue until a batch has run it. Whenever
 * no batch is running, a waiting caller (the first to see it) runs the
 * next one, its own job included unless BATCH_MAX older ones are ahead of
 * it, and then hands over: the others wake up and one of them runs the
 * jobs queued meanwhile. batch_mu is dropped for the batch itself, so
 * queueing never waits for the disk. */
int ts_sq_write_batched(struct ts_store *st, ts_drv_job fn, void *arg, bool bump)
{
	struct ts_sq *sq = st->impl;
	struct ts_sq_job job = {.fn = fn, .arg = arg, .bump = bump, .rc = TS_ESTORE};
	struct ts_sq_job *batch, *j, *next;
	struct ts_drv_conn *c = NULL;
	size_t n;
	int rc;

	/* Inside the thread's own batch, the job joins that transaction: it
	 * must not carry other threads' jobs into a commit it does not own. */
	if (ts_txn_in_batch(st)) {
		rc = ts_txn_begin(st, &c);
		if (rc == TS_OK)
			rc = fn(c, arg);
		return ts_txn_end(st, c, rc, bump);
	}
	pthread_mutex_lock(&sq->batch_mu);
	*sq->pending_tail = &job;
	sq->pending_tail = &job.next;
	sq->npending++;
	while (!job.done) {
		if (sq->combining) {
			pthread_cond_wait(&sq->batch_cv, &sq->batch_mu);
			continue;
		}
		/* With no batch running, every job not done is still queued,
		 * this one included. */
		sq->combining = true;
		batch = batch_take(sq, &n);
		pthread_mutex_unlock(&sq->batch_mu);
		run_batch(st, batch);
		pthread_mutex_lock(&sq->batch_mu);
		/* A job's owner may return, and its stack go away, as soon as
		 * batch_mu is dropped: next is read before done is set. */
		for (j = batch; j != NULL; j = next) {
			next = j->next;
			j->done = true;
		}
		sq->combining = false;
		sq->batches++;
		sq->jobs += n;
		pthread_cond_broadcast(&sq->batch_cv);
	}
	pthread_mutex_unlock(&sq->batch_mu);
	return job.rc;
}

void ts_sq_batch_stats(struct ts_store *st, struct ts_sq_batch_stats *out)
{
	struct ts_sq *sq = st->impl;

	pthread_mutex_lock(&sq->batch_mu);
	out->combining = sq->combining;
	out->pending = sq->npending;
	out->batches = sq->batches;
	out->jobs = sq->jobs;
	pthread_mutex_unlock(&sq->batch_mu);
}

static void store_close(struct ts_store *st)
{
	struct ts_sq *sq = st->impl;

	pthread_mutex_lock(&sq->batch_mu);
	if (sq->batches > 0)
		ts_log_debug("sqlite %s: %" PRIu64 " batched writes in %" PRIu64 " transactions",
			     sq->path, sq->jobs, sq->batches);
	if (sq->combining || sq->pending != NULL)
		ts_log_err("sqlite %s: closed with batched writes still queued", sq->path);
	pthread_mutex_unlock(&sq->batch_mu);
	pthread_cond_destroy(&sq->batch_cv);
	pthread_mutex_destroy(&sq->batch_mu);
	pthread_mutex_destroy(&sq->write_mu);
	free(sq->path);
	free(sq);
}

/* The file name handed to SQLite, owned by the caller. This SQLite may be
 * built with URI filenames on, so a relative path is anchored with "./":
 * "file:x.db" then names a file in the working directory, not a URI. */
static char *db_filename(const char *path)
{
	struct ts_buf b;

	if (path[0] == '/')
		return ts_xstrdup(path);
	ts_buf_init(&b, strlen(path) + 3);
	if (ts_buf_appends(&b, "./") != TS_OK || ts_buf_appends(&b, path) != TS_OK)
		return NULL;
	return ts_buf_take(&b);
}

/* Creates a missing database file readable by its owner only: it holds
 * sealed keys and secret digests, and SQLite gives its -wal and -shm files
 * the database file's mode. Failures are left to sqlite3_open_v2 to report. */
static void create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, DB_FILE_MODE);

	if (fd >= 0)
		close(fd);
}

int ts_store_sqlite_open(const char *path, struct ts_store **out)
{
	struct ts_sq *sq;
	char *file;

	/* Each pooled connection would get its own private in-memory (or
	 * temporary) database, so those are refused outright. */
	if (path == NULL || path[0] == '\0' || strcmp(path, MEMORY_DB) == 0) {
		ts_log_err("sqlite: a database file path is required (\"sqlite:PATH\")");
		return TS_EINVAL;
	}
	if (!sqlite3_threadsafe()) {
		ts_log_err("sqlite: the SQLite library was built without thread support");
		return TS_ESTORE;
	}
	file = db_filename(path);
	if (file == NULL)
		return TS_ETOOBIG;
	sq = ts_xcalloc(1, sizeof(*sq));
	sq->path = file;
	pthread_mutex_init(&sq->write_mu, NULL);
	pthread_mutex_init(&sq->batch_mu, NULL);
	pthread_cond_init(&sq->batch_cv, NULL);
	sq->pending_tail = &sq->pending;
	create_private(file);
	return ts_pool_start(&ts_drv_sqlite, sq, out);
}

/* Whether the one-row query sql answers, with its integer in *v. */
static bool query_i64(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	bool ok = sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
		  sqlite3_step(s) == SQLITE_ROW;

	if (ok)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return ok;
}

int ts_store_sqlite_schema_status(const char *path, int64_t *current, int64_t *latest)
{
	sqlite3 *db = NULL;
	struct stat sb;
	int64_t tables = 0;
	size_t n;
	int rc = TS_ESTORE;

	ts_schema_steps(TS_DIALECT_SQLITE, &n);
	*latest = (int64_t)n;
	*current = 0;
	if (stat(path, &sb) != 0)
		return TS_ENOTFOUND;
	/* A file without tables yet is version 0. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS) == SQLITE_OK &&
	    query_i64(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
			  "'schema_version'", &tables) &&
	    (tables == 0 ||
	     query_i64(db, "SELECT version FROM schema_version WHERE id = 1", current)))
		rc = TS_OK;
	else if (db != NULL)
		ts_log_err("sqlite %s: reading the schema version failed: %s", path,
			   sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

const struct ts_drv ts_drv_sqlite = {
	.ops = {.name = "sqlite", .shared = false},
	.dialect = TS_DIALECT_SQLITE,
	.exec = exec,
	.query = query,
	.next = next,
	.text = text,
	.i64 = i64,
	.done = done,
	.stale = stale,
	.batched = ts_sq_write_batched,
	.close = store_close,
	.conn_open = conn_open,
	.conn_close = conn_close,
	.fit = fit,
	.run = run_tx,
	.open = tx_open,
	.lock = lock,
	.script = script,
};
