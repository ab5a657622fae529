/* drv_sqlite.c: the SQLite driver (drv.h) over the engine in sqlite.c:
 * its connection pool and IMMEDIATE transactions (under txn.c), and its
 * group commit (ts_sq_write_batched). Each connection prepares a
 * statement of the SQL table on first use and keeps it. */
#include "sqlite_int.h"

#include <assert.h>

static struct ts_sq_conn *sq(struct ts_drv_conn *c)
{
	return (struct ts_sq_conn *)c;
}

/* The connection's statement id, prepared on first use, with args bound
 * (borrowed: every caller resets the statement before they go away). */
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
		return ts_sq_fail(c->db, what);
	s = c->q[id];
	for (i = 0; i < n; i++) {
		if (args[i].kind == TS_ARG_I64)
			src = sqlite3_bind_int64(s, i + 1, args[i].i);
		else
			src = ts_sq_bind_str(s, i + 1, args[i].s);
		if (src != SQLITE_OK) {
			ts_sq_stmt_done(s);
			return ts_sq_fail(c->db, what);
		}
	}
	*out = s;
	return TS_OK;
}

static int exec(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		int *changed, const char *what)
{
	struct ts_sq_conn *c = sq(dc);
	sqlite3_stmt *s = NULL;
	int rc;

	rc = prepare(c, id, args, n, &s, what);
	if (rc != TS_OK)
		return rc;
	rc = ts_sq_run(c, s, what);
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
	rc = prepare(sq(dc), id, args, n, &s, what);
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
	return ts_sq_fail(sq(cur->c)->db, what);
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
	ts_sq_stmt_done(cur->h);
	cur->h = NULL;
}

/* A local database cannot be cut under a caller. */
static bool stale(struct ts_drv_conn *c)
{
	(void)c;
	return false;
}

const struct ts_drv ts_drv_sqlite = {
	.ops = {.name = "sqlite", .shared = false},
	.dialect = TS_DIALECT_SQLITE,
	.conn_get = ts_txn_conn_get,
	.conn_put = ts_txn_conn_put,
	.begin = ts_txn_begin,
	.end = ts_txn_end,
	.exec = exec,
	.query = query,
	.next = next,
	.text = text,
	.i64 = i64,
	.done = done,
	.stale = stale,
	.batched = ts_sq_write_batched,
	.batch_begin = ts_txn_batch_begin,
	.batch_end = ts_txn_batch_end,
	.close = ts_sq_close,
	.pool_get = ts_sq_pool_get,
	.pool_put = ts_sq_pool_put,
	.run = ts_sq_run_tx,
	.open = ts_sq_open,
	.lock = ts_sq_lock,
	.script = ts_sq_script,
};
