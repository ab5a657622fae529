/* rec.c: reading, binding and freeing records through their descriptors
 * (rec.h). */
#include "rec.h"

#include <stdlib.h>
#include <string.h>

static const struct ts_col int_row_cols[] = {TS_COL(TS_COL_I64, struct ts_int_row, v, 0)};
const struct ts_rec_desc ts_int_row_desc = TS_REC_DESC("row", struct ts_int_row, int_row_cols);

static void *field(void *rec, const struct ts_col *col)
{
	return (char *)rec + col->off;
}

static const void *cfield(const void *rec, const struct ts_col *col)
{
	return (const char *)rec + col->off;
}

int ts_rec_fill_at(const struct ts_rec_desc *d, const struct ts_drv *drv, struct ts_cur *cur,
		   int first, void *rec)
{
	const char *t;
	int i, j;

	for (i = 0; i < d->ncols; i++) {
		const struct ts_col *col = &d->cols[i];
		j = first + i;
		switch (col->kind) {
		case TS_COL_TEXT:
			t = drv->text(cur, j);
			if (t == NULL && (col->flags & TS_COL_REQUIRED))
				goto bad;
			*(char **)field(rec, col) = t != NULL ? ts_xstrdup(t) : NULL;
			break;
		case TS_COL_I64:
			*(int64_t *)field(rec, col) = drv->i64(cur, j);
			break;
		case TS_COL_INT:
			*(int *)field(rec, col) = (int)drv->i64(cur, j);
			break;
		case TS_COL_BOOL:
			*(bool *)field(rec, col) = drv->i64(cur, j) != 0;
			break;
		}
	}
	return TS_OK;
bad:
	ts_rec_clear(d, rec);
	ts_log_err("%s: a %s row has NULL in a NOT NULL column", drv->ops.name, d->name);
	return TS_ESTORE;
}

int ts_rec_fill(const struct ts_rec_desc *d, const struct ts_drv *drv, struct ts_cur *cur,
		void *rec)
{
	return ts_rec_fill_at(d, drv, cur, 0, rec);
}

int ts_rec_read(const struct ts_rec_desc *d, const struct ts_drv *drv, struct ts_cur *cur,
		void **out)
{
	void *rec = ts_xcalloc(1, d->size);
	int rc;

	*out = NULL;
	rc = ts_rec_fill(d, drv, cur, rec);
	if (rc != TS_OK) {
		free(rec);
		return rc;
	}
	*out = rec;
	return TS_OK;
}

void ts_rec_clear(const struct ts_rec_desc *d, void *rec)
{
	int i;

	for (i = 0; i < d->ncols; i++) {
		const struct ts_col *col = &d->cols[i];
		char **p;
		if (col->kind != TS_COL_TEXT)
			continue;
		p = field(rec, col);
		if (col->flags & TS_COL_SECRET)
			ts_free_secret(*p);
		else
			free(*p);
	}
	memset(rec, 0, d->size);
}

void ts_rec_free(const struct ts_rec_desc *d, void *rec)
{
	if (rec == NULL)
		return;
	ts_rec_clear(d, rec);
	free(rec);
}

void ts_recs_free(const struct ts_rec_desc *d, void **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_rec_free(d, v[i]);
	free(v);
}

struct ts_arg ts_rec_arg(const struct ts_rec_desc *d, const void *rec, int i)
{
	const struct ts_col *col = &d->cols[i];

	switch (col->kind) {
	case TS_COL_TEXT:
		return TS_TXT(*(char *const *)cfield(rec, col));
	case TS_COL_I64:
		return TS_I64(*(const int64_t *)cfield(rec, col));
	case TS_COL_INT:
		return TS_I64(*(const int *)cfield(rec, col));
	case TS_COL_BOOL:
		return TS_I64(*(const bool *)cfield(rec, col) ? 1 : 0);
	}
	return TS_TXT(NULL);
}

void ts_rec_args(const struct ts_rec_desc *d, const void *rec, struct ts_arg *args)
{
	int i;

	for (i = 0; i < d->ncols; i++)
		args[i] = ts_rec_arg(d, rec, i);
}
