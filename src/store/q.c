/* q.c: running statements through the store's driver (q.h): one-row
 * reads, lists, single writes, multi-step transactions and batched jobs,
 * the same for every driver. */
#include "q.h"

#include <stdlib.h>

static const struct ts_drv *drv(struct ts_store *st)
{
	return st->drv;
}

/* What a one-row read fills: a record through its descriptor. */
struct rec_fill {
	const struct ts_rec_desc *rd;
	void *rec;
};

static int fill_rec(const struct ts_drv *d, struct ts_cur *cur, void *arg)
{
	const struct rec_fill *f = arg;

	return ts_rec_fill(f->rd, d, cur, f->rec);
}

/* Runs statement id on c and hands its first row to fill. */
static int row_on(const struct ts_drv *d, struct ts_drv_conn *c, enum ts_sql id,
		  const struct ts_arg *args, int n, ts_q_fill fill, void *arg, const char *what)
{
	struct ts_cur cur = {0};
	int rc;

	rc = d->query(c, id, args, n, &cur, what);
	if (rc == TS_OK)
		rc = d->next(&cur, what);
	if (rc == TS_OK)
		rc = fill(d, &cur, arg);
	d->done(&cur);
	return rc;
}

/* The rows of statement id on c into a new array of new records. */
static int rows_on(const struct ts_drv *d, struct ts_drv_conn *c, enum ts_sql id,
		   const struct ts_arg *args, int n, const struct ts_rec_desc *rd, void ***out,
		   size_t *cnt, const char *what)
{
	struct ts_cur cur = {0};
	void **v = NULL;
	size_t k = 0, cap = 0;
	int rc;

	rc = d->query(c, id, args, n, &cur, what);
	if (rc != TS_OK) {
		d->done(&cur);
		return rc;
	}
	while ((rc = d->next(&cur, what)) == TS_OK) {
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			v = ts_xrealloc(v, cap * sizeof(*v));
		}
		rc = ts_rec_read(rd, d, &cur, &v[k]);
		if (rc == TS_OK)
			k++;
	}
	d->done(&cur);
	if (rc != TS_ENOTFOUND) {
		ts_recs_free(rd, v, k);
		return rc;
	}
	*out = v;
	*cnt = k;
	return TS_OK;
}

/* A read on a pooled connection, redone once on a fresh one if the pooled
 * one turns out to have been cut before anything ran on it. */
static int read_retry(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
		      const struct ts_rec_desc *rd, ts_q_fill fill, void *arg, void ***out,
		      size_t *cnt, const char *what)
{
	const struct ts_drv *d = drv(st);
	struct ts_drv_conn *c = NULL;
	bool retried = false;
	int rc;

	for (;;) {
		rc = ts_txn_conn_get(st, &c);
		if (rc != TS_OK)
			return rc;
		if (out != NULL)
			rc = rows_on(d, c, id, args, n, rd, out, cnt, what);
		else
			rc = row_on(d, c, id, args, n, fill, arg, what);
		if (rc != TS_ESTORE || retried || !d->stale(c))
			break;
		retried = true;
		ts_txn_conn_put(st, c);
	}
	ts_txn_conn_put(st, c);
	return rc;
}

int ts_q_read(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
	      const struct ts_rec_desc *d, void *rec, const char *what)
{
	struct rec_fill f = {d, rec};

	return read_retry(st, id, args, n, NULL, fill_rec, &f, NULL, NULL, what);
}

int ts_q_read_fn(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
		 ts_q_fill fill, void *arg, const char *what)
{
	return read_retry(st, id, args, n, NULL, fill, arg, NULL, NULL, what);
}

int ts_q_get(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
	     const struct ts_rec_desc *d, void **out, const char *what)
{
	void *rec = ts_xcalloc(1, d->size);
	int rc;

	*out = NULL;
	rc = ts_q_read(st, id, args, n, d, rec, what);
	if (rc != TS_OK) {
		free(rec);
		return rc;
	}
	*out = rec;
	return TS_OK;
}

int ts_q_list(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
	      const struct ts_rec_desc *d, void ***out, size_t *cnt, const char *what)
{
	*out = NULL;
	*cnt = 0;
	return read_retry(st, id, args, n, d, NULL, NULL, out, cnt, what);
}

int ts_q_fetch(struct ts_store *st, bool ok, enum ts_sql id, const struct ts_arg *args, int n,
	       const struct ts_rec_desc *d, void **out, const char *what)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || !ok)
		return TS_EINVAL;
	return ts_q_get(st, id, args, n, d, out, what);
}

int ts_q_fetch_all(struct ts_store *st, bool ok, enum ts_sql id, const struct ts_arg *args,
		   int n, const struct ts_rec_desc *d, void ***out, size_t *cnt, const char *what)
{
	if (out == NULL || cnt == NULL)
		return TS_EINVAL;
	*out = NULL;
	*cnt = 0;
	if (st == NULL || !ok)
		return TS_EINVAL;
	return ts_q_list(st, id, args, n, d, out, cnt, what);
}

int ts_q_row(struct ts_store *st, struct ts_drv_conn *c, enum ts_sql id,
	     const struct ts_arg *args, int n, const struct ts_rec_desc *d, void *rec,
	     const char *what)
{
	struct rec_fill f = {d, rec};

	return row_on(drv(st), c, id, args, n, fill_rec, &f, what);
}

int ts_q_exec(struct ts_store *st, struct ts_drv_conn *c, enum ts_sql id,
	      const struct ts_arg *args, int n, int *changed, const char *what)
{
	return drv(st)->exec(c, id, args, n, changed, what);
}

int ts_q_write1(struct ts_store *st, bool ok, enum ts_sql id, const struct ts_arg *args, int n,
		unsigned flags, const char *what)
{
	const struct ts_drv *d;
	struct ts_drv_conn *c = NULL;
	int rc, changed = 0;

	if (st == NULL || !ok)
		return TS_EINVAL;
	d = drv(st);
	rc = ts_txn_begin(st, &c);
	if (rc == TS_OK)
		rc = d->exec(c, id, args, n, &changed, what);
	if (rc == TS_OK && (flags & TS_Q_CHANGE) && changed == 0)
		rc = TS_ENOTFOUND;
	return ts_txn_end(st, c, rc, (flags & TS_Q_BUMP) != 0);
}

int ts_q_steps(struct ts_store *st, const enum ts_sql *ids, size_t nids,
	       const struct ts_arg *args, int n, bool bump, const char *what)
{
	const struct ts_drv *d = drv(st);
	struct ts_drv_conn *c = NULL;
	size_t i;
	int rc;

	rc = ts_txn_begin(st, &c);
	for (i = 0; i < nids && rc == TS_OK; i++)
		rc = d->exec(c, ids[i], args, n, NULL, what);
	return ts_txn_end(st, c, rc, bump);
}

int ts_q_batched(struct ts_store *st, ts_drv_job fn, void *arg, bool bump)
{
	const struct ts_drv *d = drv(st);
	struct ts_drv_conn *c = NULL;
	int rc;

	if (d->batched != NULL)
		return d->batched(st, fn, arg, bump);
	rc = ts_txn_begin(st, &c);
	if (rc == TS_OK)
		rc = fn(c, arg);
	return ts_txn_end(st, c, rc, bump);
}

bool ts_q_nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

bool ts_q_has(struct ts_store *st, enum ts_sql id)
{
	return ts_sql_text(drv(st)->dialect, id) != NULL;
}
