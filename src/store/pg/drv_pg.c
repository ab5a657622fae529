/* drv_pg.c: the PostgreSQL driver (drv.h) over the engine in pg.c: its
 * connection pool and READ COMMITTED transactions, under txn.c.
 * Each connection prepares a statement of the SQL table the first time it
 * runs it (PQprepare, named by its id) and runs it by name afterwards
 * (PQexecPrepared), so the server parses and plans it once per
 * connection; it is prepared again after TS_PG_PLAN_RUNS runs or
 * TS_PG_PLAN_AGE_S seconds, so that its plan follows the tables' growth
 * (pg.c). A connection opened after a cut starts with none prepared.
 * Parameters are text; integers are written in decimal. There is no group
 * commit: each write is its own transaction. */
#include "pg_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most parameters one statement of the table takes. */
#define ARGS_MAX 32
/* "s" and a statement id. */
#define NAME_MAX_LEN 16

static struct ts_pg_conn *pc(struct ts_drv_conn *c)
{
	return (struct ts_pg_conn *)c;
}

/* Prepares statement id on c unless it is already, and again once its
 * plan has served TS_PG_PLAN_RUNS runs or TS_PG_PLAN_AGE_S seconds. */
static int prepare(struct ts_pg_conn *c, enum ts_sql id, const char *name, const char *what)
{
	char drop[NAME_MAX_LEN + sizeof("DEALLOCATE ")];
	PGresult *r;
	int rc = TS_OK;

	if (c->prepared[id] && ++c->runs[id] < TS_PG_PLAN_RUNS &&
	    ts_now() - c->prepared_at[id] < TS_PG_PLAN_AGE_S)
		return TS_OK;
	if (c->prepared[id]) {
		snprintf(drop, sizeof(drop), "DEALLOCATE %s", name);
		r = PQexec(c->db, drop);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = ts_pg_fail(c, r, what);
		PQclear(r);
		if (rc != TS_OK)
			return rc;
		c->prepared[id] = false;
	}
	c->runs[id] = 0;
	c->prepared_at[id] = ts_now();
	assert(c->sql[id] != NULL);
	r = PQprepare(c->db, name, c->sql[id], 0, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = ts_pg_fail(c, r, what);
	else
		c->prepared[id] = true;
	PQclear(r);
	return rc;
}

/* Runs statement id with args on c; TS_OK with the result in *out (the
 * caller PQclears it). A text argument that is not UTF-8 matches nothing:
 * TS_ENOTFOUND without running anything, as on SQLite. */
static int run(struct ts_pg_conn *c, enum ts_sql id, const struct ts_arg *args, int n,
	       PGresult **out, const char *what)
{
	char name[NAME_MAX_LEN], nums[ARGS_MAX][TS_PG_I64_BUF];
	const char *vals[ARGS_MAX];
	ExecStatusType s;
	PGresult *r;
	int i, rc;

	assert(n <= ARGS_MAX);
	*out = NULL;
	for (i = 0; i < n; i++) {
		if (args[i].kind == TS_ARG_I64) {
			vals[i] = ts_pg_i64(nums[i], args[i].i);
		} else {
			vals[i] = args[i].s;
			if (vals[i] != NULL && !ts_pg_utf8_ok(vals[i])) {
				ts_log_debug("postgres %s: a parameter is not UTF-8", what);
				return TS_ENOTFOUND;
			}
		}
	}
	snprintf(name, sizeof(name), "s%d", (int)id);
	rc = prepare(c, id, name, what);
	if (rc != TS_OK)
		return rc;
	r = PQexecPrepared(c->db, name, n, vals, NULL, NULL, 0);
	s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		rc = ts_pg_fail(c, r, what);
		PQclear(r);
		return rc;
	}
	*out = r;
	return TS_OK;
}

static int exec(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		int *changed, const char *what)
{
	PGresult *r = NULL;
	const char *tuples;
	int rc;

	rc = run(pc(dc), id, args, n, &r, what);
	if (rc != TS_OK)
		return rc;
	if (changed != NULL) {
		tuples = PQcmdTuples(r);
		*changed = tuples[0] != '\0' ? (int)strtol(tuples, NULL, 10) : 0;
	}
	PQclear(r);
	return TS_OK;
}

static int query(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		 struct ts_cur *cur, const char *what)
{
	PGresult *r = NULL;
	int rc;

	cur->c = dc;
	cur->h = NULL;
	cur->row = -1;
	cur->nrows = 0;
	rc = run(pc(dc), id, args, n, &r, what);
	if (rc != TS_OK)
		return rc;
	cur->h = r;
	cur->nrows = PQntuples(r);
	return TS_OK;
}

static int next(struct ts_cur *cur, const char *what)
{
	(void)what;
	if (cur->row + 1 >= cur->nrows)
		return TS_ENOTFOUND;
	cur->row++;
	return TS_OK;
}

static const char *text(struct ts_cur *cur, int j)
{
	if (PQgetisnull(cur->h, cur->row, j))
		return NULL;
	return PQgetvalue(cur->h, cur->row, j);
}

static int64_t i64(struct ts_cur *cur, int j)
{
	const char *v = text(cur, j);

	return v != NULL ? (int64_t)strtoll(v, NULL, 10) : 0;
}

static void done(struct ts_cur *cur)
{
	PQclear(cur->h);
	cur->h = NULL;
}

static bool stale(struct ts_drv_conn *c)
{
	return pc(c)->broken;
}

const struct ts_drv ts_drv_pg = {
	.ops = {.name = "postgres", .shared = true},
	.dialect = TS_DIALECT_PG,
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
	.batched = NULL,
	.batch_begin = ts_txn_batch_begin,
	.batch_end = ts_txn_batch_end,
	.close = ts_pg_close,
	.pool_get = ts_pg_pool_get,
	.pool_put = ts_pg_pool_put,
	.run = ts_pg_run,
	.open = ts_pg_open,
	.lock = NULL,
	.script = ts_pg_script,
};
