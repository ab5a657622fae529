/* db.h: the tasks table in the example's own SQLite file (WAL mode). Every
 * statement is prepared once at open with bound parameters only; one
 * connection is shared by the worker threads under a mutex. Every call is
 * scoped to a tenant, and owner_sub (when not NULL) restricts it further
 * to the tasks of one owner: a row outside the scope is TA_ENOTFOUND. */
#ifndef TA_DB_H
#define TA_DB_H

#include "task.h"

struct ta_db;

/* Opens (creating if needed) the database file at path and brings its
 * schema up to date. TA_OK with *out to free with ta_db_close; TA_EDB. */
int ta_db_open(const char *path, struct ta_db **out);
void ta_db_close(struct ta_db *db); /* NULL is a no-op */

/* A listing. Every member but tenant and limit may be NULL or 0 (no
 * condition). Strings are borrowed for the call. */
struct ta_task_filter {
	const char *tenant;    /* required */
	const char *owner_sub; /* only this owner's tasks */
	const char *status;    /* an exact status name */
	bool not_done;         /* leave out done tasks */
	const char *priority;  /* an exact priority name */
	const char *q;         /* substring of title or description, ASCII case-insensitive */
	const char *from;      /* due_date >= from ("YYYY-MM-DD") */
	const char *to;        /* due_date <= to */
	int limit;             /* at most this many rows (> 0) */
};

/* Tasks matching f, ordered by due date, priority (high first), creation.
 * TA_OK with *out an array of *n tasks (ta_tasks_free); TA_EDB. */
int ta_db_list(struct ta_db *db, const struct ta_task_filter *f, struct ta_task ***out,
	       size_t *n);
void ta_tasks_free(struct ta_task **v, size_t n);

/* Inserts t (its id already set); on TA_OK t->num is the number the
 * store gave it. TA_OK, TA_EDB. */
int ta_db_insert(struct ta_db *db, struct ta_task *t);
/* One task. TA_OK with *out (ta_task_free), TA_ENOTFOUND, TA_EDB. */
int ta_db_get(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub,
	      struct ta_task **out);
/* Applies in to one task in a transaction, setting updated_at to now_ms.
 * TA_OK with *out the task as stored (ta_task_free), TA_ENOTFOUND, TA_EDB. */
int ta_db_update(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub,
		 const struct ta_task_input *in, int64_t now_ms, struct ta_task **out);
/* The id of the task numbered num, within the same scope as ta_db_get.
 * TA_OK with id filled, TA_ENOTFOUND, TA_EDB. */
int ta_db_find_num(struct ta_db *db, const char *tenant, int64_t num, const char *owner_sub,
		   char id[TA_UUID_LEN + 1]);
/* Deletes one task. TA_OK, TA_ENOTFOUND, TA_EDB. */
int ta_db_delete(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub);

#endif
