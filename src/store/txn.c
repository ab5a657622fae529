/* txn.c: connection pools, write transactions and write batches
 * (ts_store_batch_begin and _end), written once over an engine's
 * connections and its transaction statements (drv.h): what the SQLite and
 * PostgreSQL drivers pool, lend, begin, end and batch the same way. */
#include "drv.h"
#include "schema.h"

static struct ts_pool *pool(struct ts_store *st)
{
	return st->impl;
}

/* An idle connection in *out or, with none idle and fewer than
 * TS_POOL_MAX open, *out NULL: a slot reserved for the caller to open one
 * in (outside the lock, as opening takes time) or to free with
 * slot_put(p, NULL). Waits while all are lent out. */
static void slot_take(struct ts_pool *p, struct ts_drv_conn **out)
{
	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->nopen >= TS_POOL_MAX)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->nidle > 0) {
		*out = p->idle[--p->nidle];
	} else {
		*out = NULL;
		p->nopen++;
	}
	pthread_mutex_unlock(&p->mu);
}

/* Gives c back idle, or with c NULL frees a slot (its connection closed or
 * never made). */
static void slot_put(struct ts_pool *p, struct ts_drv_conn *c)
{
	pthread_mutex_lock(&p->mu);
	if (c != NULL)
		p->idle[p->nidle++] = c;
	else
		p->nopen--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* A connection of the pool (a connection found dead is replaced in its
 * slot, so the store recovers by itself after an outage). */
static int pool_get(struct ts_store *st, struct ts_drv_conn **out)
{
	const struct ts_drv *d = st->drv;
	int rc;

	slot_take(pool(st), out);
	if (*out != NULL && (d->alive == NULL || d->alive(*out)))
		return TS_OK;
	if (*out != NULL) {
		/* Replaced in the same slot: the slot stays reserved. */
		ts_log_info("%s: replacing a pooled connection the server closed", d->ops.name);
		d->conn_close(*out);
	}
	/* Opening takes time (round trips to a server): outside the pool's
	 * lock. */
	rc = d->conn_open(st, out);
	if (rc != TS_OK) {
		slot_put(pool(st), NULL);
		return rc;
	}
	ts_log_debug("%s: opened a pooled connection", d->ops.name);
	return TS_OK;
}

/* The next user must never inherit someone else's half-done write, so a
 * transaction still open is rolled back, and the connection closed
 * (freeing its slot) if even that fails or it is no longer fit. */
static void pool_put(struct ts_store *st, struct ts_drv_conn *c)
{
	const struct ts_drv *d = st->drv;

	if (c == NULL)
		return;
	if (d->open(c)) {
		d->run(c, TS_TX_ROLLBACK, "rollback");
		if (d->open(c))
			ts_log_err("%s: dropping a connection stuck in a transaction", d->ops.name);
	}
	if (!d->fit(c)) {
		d->conn_close(c);
		c = NULL;
	}
	slot_put(pool(st), c);
}

int ts_pool_start(const struct ts_drv *d, void *impl, struct ts_store **out)
{
	struct ts_store *st = ts_xcalloc(1, sizeof(*st));
	struct ts_pool *p = impl;
	struct ts_drv_conn *c = NULL;
	int rc;

	st->drv = d;
	st->ops = &d->ops;
	st->impl = impl;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->nidle = p->nopen = 0;
	rc = pool_get(st, &c);
	if (rc == TS_OK)
		rc = ts_schema_migrate(st, c);
	pool_put(st, c);
	if (rc != TS_OK) {
		ts_store_close(st);
		return rc;
	}
	*out = st;
	return TS_OK;
}

void ts_pool_drain(struct ts_store *st)
{
	struct ts_pool *p = pool(st);

	pthread_mutex_lock(&p->mu);
	while (p->nidle > 0) {
		st->drv->conn_close(p->idle[--p->nidle]);
		p->nopen--;
	}
	if (p->nopen != 0)
		ts_log_err("%s: closed with %u connections still in use", st->drv->ops.name,
			   p->nopen);
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* The calling thread's open write batch (ts_store_batch_begin): the store
 * it is on and the connection that holds its transaction. Thread-local, so
 * the check costs other threads nothing and needs no lock. */
static _Thread_local struct ts_store *batch_store;
static _Thread_local struct ts_drv_conn *batch_conn;
/* A write of the batch asked for a generation bump: done once, at commit. */
static _Thread_local bool batch_bump;

bool ts_txn_in_batch(struct ts_store *st)
{
	return batch_store == st && batch_conn != NULL;
}

static bool is_batch_conn(struct ts_store *st, struct ts_drv_conn *c)
{
	return ts_txn_in_batch(st) && c == batch_conn;
}

static void lock(struct ts_store *st, bool take)
{
	if (st->drv->lock != NULL)
		st->drv->lock(st, take);
}

int ts_txn_conn_get(struct ts_store *st, struct ts_drv_conn **out)
{
	*out = NULL;
	if (ts_txn_in_batch(st)) {
		*out = batch_conn;
		return TS_OK;
	}
	return pool_get(st, out);
}

void ts_txn_conn_put(struct ts_store *st, struct ts_drv_conn *c)
{
	if (c == NULL || is_batch_conn(st, c))
		return;
	pool_put(st, c);
}

/* Inside the thread's batch a write is a savepoint of its transaction, and
 * a connection lost there loses the batch: no retry. Otherwise the
 * connection comes first, then the engine's lock: a holder of the lock
 * never waits for the pool, so the two cannot deadlock. A connection cut
 * while it sat in the pool shows at BEGIN, before anything happened on
 * it, so the transaction is begun once more on a fresh one. */
int ts_txn_begin(struct ts_store *st, struct ts_drv_conn **c)
{
	const struct ts_drv *d = st->drv;
	bool retried = false;
	int rc;

	*c = NULL;
	if (ts_txn_in_batch(st)) {
		*c = batch_conn;
		return d->run(*c, TS_TX_SAVEPOINT, "savepoint");
	}
	for (;;) {
		rc = pool_get(st, c);
		if (rc != TS_OK)
			return rc;
		lock(st, true);
		rc = d->run(*c, TS_TX_BEGIN, "begin");
		if (rc != TS_ESTORE || retried || !d->stale(*c))
			return rc;
		retried = true;
		lock(st, false);
		pool_put(st, *c);
		*c = NULL;
	}
}

/* The end of a write inside the thread's batch: kept (released) or undone
 * alone (rolled back to its savepoint, which also clears an aborted
 * statement); the batch's transaction stays open. */
static int batch_write_end(const struct ts_drv *d, struct ts_drv_conn *c, int rc, bool bump)
{
	int rrc;

	if (!d->open(c)) {
		/* The engine ended the transaction by itself, or the connection
		 * broke: the batch's commit fails, and so does the batch. */
		ts_log_err("%s: a write lost its batch's transaction", d->ops.name);
		return rc == TS_OK ? TS_ESTORE : rc;
	}
	if (rc != TS_OK)
		d->run(c, TS_TX_ROLLBACK_TO, "rollback to savepoint");
	rrc = d->run(c, TS_TX_RELEASE, "release savepoint");
	if (rc == TS_OK && rrc == TS_OK && bump)
		batch_bump = true;
	return rc != TS_OK ? rc : rrc;
}

int ts_txn_end(struct ts_store *st, struct ts_drv_conn *c, int rc, bool bump)
{
	const struct ts_drv *d = st->drv;

	if (c == NULL)
		return rc;
	if (is_batch_conn(st, c))
		return batch_write_end(d, c, rc, bump);
	if (rc == TS_OK && bump)
		rc = d->run(c, TS_TX_GEN_BUMP, "generation bump");
	if (rc == TS_OK)
		rc = d->run(c, TS_TX_COMMIT, "commit");
	/* Some errors end the transaction by themselves; only roll back what
	 * is open. */
	if (rc != TS_OK && d->open(c))
		d->run(c, TS_TX_ROLLBACK, "rollback");
	/* Held exactly when c is set: ts_txn_begin took it right after the
	 * connection. */
	lock(st, false);
	pool_put(st, c);
	return rc;
}

int ts_store_batch_begin(struct ts_store *st)
{
	struct ts_drv_conn *c = NULL;
	int rc;

	if (st == NULL || batch_store != NULL)
		return TS_EINVAL;
	rc = ts_txn_begin(st, &c);
	if (rc != TS_OK)
		return ts_txn_end(st, c, rc, false);
	batch_store = st;
	batch_conn = c;
	batch_bump = false;
	return TS_OK;
}

int ts_store_batch_end(struct ts_store *st, bool commit)
{
	struct ts_drv_conn *c = batch_conn;

	if (st == NULL || !ts_txn_in_batch(st))
		return TS_EINVAL;
	batch_store = NULL;
	batch_conn = NULL;
	if (commit)
		return ts_txn_end(st, c, TS_OK, batch_bump);
	if (st->drv->open(c))
		st->drv->run(c, TS_TX_ROLLBACK, "rollback");
	lock(st, false);
	pool_put(st, c);
	return TS_OK;
}
