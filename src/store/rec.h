/* rec.h: record descriptors. A descriptor lists a record's columns in the
 * order its statements select them (type, offset in the struct, flags),
 * and from it one set of functions reads a row into a record, binds a
 * record's columns as a write's arguments and frees a record, for every
 * record type and both drivers. Private to src/store. */
#ifndef TS_STORE_REC_H
#define TS_STORE_REC_H

#include "drv.h"

#include <stddef.h>

enum ts_col_kind {
	TS_COL_TEXT, /* char *, owned by the record; NULL for SQL NULL */
	TS_COL_I64,  /* int64_t */
	TS_COL_INT,  /* int */
	TS_COL_BOOL, /* bool, stored as INTEGER 0/1 */
};
/* Column flags. */
#define TS_COL_REQUIRED 1u /* NOT NULL: a row with NULL here is refused */
#define TS_COL_SECRET 2u   /* wiped before it is freed (ts_free_secret) */

struct ts_col {
	enum ts_col_kind kind;
	size_t off;     /* offsetof the member */
	unsigned flags; /* TS_COL_* */
};

struct ts_rec_desc {
	const char *name; /* for logs: "user", "refresh token", ... */
	size_t size;      /* sizeof the record */
	const struct ts_col *cols;
	int ncols;
};

#define TS_COL(kind, type, member, flags) {(kind), offsetof(type, member), (flags)}
/* The descriptor of record type over its column array cols. */
#define TS_REC_DESC(name, type, cols) {(name), sizeof(type), (cols), (int)TS_ARRAY_LEN(cols)}

/* A row of one integer column: a count, or 1 for "exists". */
struct ts_int_row {
	int64_t v;
};
extern const struct ts_rec_desc ts_int_row_desc;

/* Reads the current row of cur (columns 0..ncols-1) into rec, which must
 * be zeroed. TS_ESTORE (logged, rec cleared again) when a required column
 * is NULL. */
int ts_rec_fill(const struct ts_rec_desc *d, const struct ts_drv *drv, struct ts_cur *cur,
		void *rec);
/* ts_rec_fill from column first on: a row that joins several records. */
int ts_rec_fill_at(const struct ts_rec_desc *d, const struct ts_drv *drv, struct ts_cur *cur,
		   int first, void *rec);
/* The same into a new record (*out, owned by the caller: ts_rec_free). */
int ts_rec_read(const struct ts_rec_desc *d, const struct ts_drv *drv, struct ts_cur *cur,
		void **out);
/* Frees every text column of rec (wiping secret ones) and zeroes it. */
void ts_rec_clear(const struct ts_rec_desc *d, void *rec);
/* ts_rec_clear, then frees rec. NULL is a no-op. */
void ts_rec_free(const struct ts_rec_desc *d, void *rec);
/* Frees an array of n records and the array. */
void ts_recs_free(const struct ts_rec_desc *d, void **v, size_t n);
/* Column i of rec as a write's argument (texts borrowed from rec). */
struct ts_arg ts_rec_arg(const struct ts_rec_desc *d, const void *rec, int i);
/* Every column of rec, in order, into args (room for d->ncols). */
void ts_rec_args(const struct ts_rec_desc *d, const void *rec, struct ts_arg *args);

/* Define a record type's public free functions over its descriptor: fn(r)
 * frees one record as ts_rec_free, fn(v, n) an array as ts_recs_free. */
#define TS_REC_FREE_FN(fn, type, desc) \
	void fn(type *r) { ts_rec_free(&(desc), r); }
#define TS_RECS_FREE_FN(fn, type, desc) \
	void fn(type **v, size_t n) { ts_recs_free(&(desc), (void **)v, n); }

/* The user record (people.c), also read by the refresh grant's one read
 * (tokens.c). */
extern const struct ts_rec_desc ts_user_desc;

#endif
