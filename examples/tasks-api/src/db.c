/* db.c: the SQLite store of the tasks. The schema is versioned with
 * PRAGMA user_version; the file runs in WAL mode with synchronous=FULL so
 * that an acknowledged write survives a crash. */
#include "db.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000
#define SCHEMA_VERSION 2
#define LIST_GROW 16

/* The columns written by an insert; a read adds num, which SQLite assigns. */
#define COLUMNS                                                                                  \
	"id, tenant, owner_sub, owner_username, title, description, due_date, priority, status, " \
	"created_at, updated_at"
#define COLUMNS_READ COLUMNS ", num"

/* Run once per connection, before anything else. */
static const char *const pragmas[] = {
	"PRAGMA journal_mode = WAL",
	"PRAGMA synchronous = FULL",
	"PRAGMA foreign_keys = ON",
};

/* Schema version 1. */
static const char *const schema_v1[] = {
	"CREATE TABLE tasks ("
	" id TEXT PRIMARY KEY,"
	" tenant TEXT NOT NULL,"
	" owner_sub TEXT NOT NULL,"
	" owner_username TEXT,"
	" title TEXT NOT NULL,"
	" description TEXT,"
	" due_date TEXT NOT NULL CHECK (length(due_date) = 10),"
	" priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),"
	" status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL)",
	"CREATE INDEX tasks_tenant_due ON tasks (tenant, due_date)",
	"CREATE INDEX tasks_tenant_owner_due ON tasks (tenant, owner_sub, due_date)",
	"PRAGMA user_version = 1",
};

/* Schema version 2: every task also gets a number, its Frappe "name",
 * assigned in creation order and never reused (AUTOINCREMENT), so that
 * a stale number held by a client can never reach a newer task. SQLite
 * cannot add such a column in place: the table is rebuilt. */
static const char *const schema_v2[] = {
	"CREATE TABLE tasks_v2 ("
	" num INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" tenant TEXT NOT NULL,"
	" owner_sub TEXT NOT NULL,"
	" owner_username TEXT,"
	" title TEXT NOT NULL,"
	" description TEXT,"
	" due_date TEXT NOT NULL CHECK (length(due_date) = 10),"
	" priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),"
	" status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL)",
	"INSERT INTO tasks_v2 (id, tenant, owner_sub, owner_username, title, description, due_date,"
	" priority, status, created_at, updated_at)"
	" SELECT id, tenant, owner_sub, owner_username, title, description, due_date, priority,"
	" status, created_at, updated_at FROM tasks ORDER BY created_at, id",
	"DROP TABLE tasks",
	"ALTER TABLE tasks_v2 RENAME TO tasks",
	"CREATE INDEX tasks_tenant_due ON tasks (tenant, due_date)",
	"CREATE INDEX tasks_tenant_owner_due ON tasks (tenant, owner_sub, due_date)",
	"PRAGMA user_version = 2",
};

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_LIST,
	ST_INSERT,
	ST_GET,
	ST_UPDATE,
	ST_DELETE,
	ST_FIND_NUM,
	ST_COUNT_,
};

static const char *const stmt_sql[ST_COUNT_] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* Optional conditions are written as "?n IS NULL OR ...", so one
	 * prepared statement serves every combination of filters. */
	[ST_LIST] = "SELECT " COLUMNS_READ " FROM tasks"
		    " WHERE tenant = ?1"
		    " AND (?2 IS NULL OR owner_sub = ?2)"
		    " AND (?3 IS NULL OR status = ?3)"
		    " AND (?4 = 0 OR status <> 'done')"
		    " AND (?5 IS NULL OR priority = ?5)"
		    " AND (?6 IS NULL OR instr(lower(title), lower(?6)) > 0"
		    "      OR instr(lower(coalesce(description, '')), lower(?6)) > 0)"
		    " AND (?7 IS NULL OR due_date >= ?7)"
		    " AND (?8 IS NULL OR due_date <= ?8)"
		    " ORDER BY due_date,"
		    " CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,"
		    " created_at, id"
		    " LIMIT ?9",
	[ST_INSERT] = "INSERT INTO tasks (" COLUMNS ")"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_GET] = "SELECT " COLUMNS_READ " FROM tasks WHERE tenant = ?1 AND id = ?2"
		   " AND (?3 IS NULL OR owner_sub = ?3)",
	[ST_UPDATE] = "UPDATE tasks SET title = ?3, description = ?4, due_date = ?5, priority = ?6,"
		      " status = ?7, updated_at = ?8 WHERE tenant = ?1 AND id = ?2",
	[ST_DELETE] = "DELETE FROM tasks WHERE tenant = ?1 AND id = ?2"
		      " AND (?3 IS NULL OR owner_sub = ?3)",
	[ST_FIND_NUM] = "SELECT id FROM tasks WHERE tenant = ?1 AND num = ?2"
			" AND (?3 IS NULL OR owner_sub = ?3)",
};

struct ta_db {
	sqlite3 *conn;
	pthread_mutex_t lock;           /* one user of conn and st at a time */
	sqlite3_stmt *st[ST_COUNT_];    /* prepared at open */
};

static int fail(struct ta_db *db, const char *what)
{
	ta_log_err("sqlite: %s: %s", what, sqlite3_errmsg(db->conn));
	return TA_EDB;
}

/* Runs a constant statement that returns no rows we need. */
static int exec_const(struct ta_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, sql);
	do
		r = sqlite3_step(st);
	while (r == SQLITE_ROW);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? TA_OK : fail(db, sql);
}

static int user_version(struct ta_db *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(db, "user_version");
	r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? TA_OK : fail(db, "user_version");
}

static int migrate(struct ta_db *db)
{
	int v = 0, rc;
	size_t i;

	rc = exec_const(db, "BEGIN IMMEDIATE");
	if (rc != TA_OK)
		return rc;
	rc = user_version(db, &v);
	if (rc == TA_OK && v > SCHEMA_VERSION) {
		ta_log_err("the database has schema version %d; this build knows %d", v,
			   SCHEMA_VERSION);
		rc = TA_EDB;
	}
	for (i = 0; rc == TA_OK && v < 1 && i < sizeof(schema_v1) / sizeof(schema_v1[0]); i++)
		rc = exec_const(db, schema_v1[i]);
	for (i = 0; rc == TA_OK && v < 2 && i < sizeof(schema_v2) / sizeof(schema_v2[0]); i++)
		rc = exec_const(db, schema_v2[i]);
	if (rc == TA_OK)
		return exec_const(db, "COMMIT");
	exec_const(db, "ROLLBACK");
	return rc;
}

int ta_db_open(const char *path, struct ta_db **out)
{
	struct ta_db *db = ta_xcalloc(1, sizeof(*db));
	size_t i;
	int rc = TA_EDB;

	*out = NULL;
	pthread_mutex_init(&db->lock, NULL);
	if (sqlite3_open_v2(path, &db->conn,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		ta_log_err("cannot open %s: %s", path,
			   db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db->conn, BUSY_TIMEOUT_MS);
	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		if (exec_const(db, pragmas[i]) != TA_OK)
			goto out;
	}
	if (migrate(db) != TA_OK)
		goto out;
	for (i = 0; i < ST_COUNT_; i++) {
		if (sqlite3_prepare_v3(db->conn, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &db->st[i], NULL) != SQLITE_OK) {
			fail(db, stmt_sql[i]);
			goto out;
		}
	}
	*out = db;
	db = NULL;
	rc = TA_OK;
out:
	ta_db_close(db);
	return rc;
}

void ta_db_close(struct ta_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->conn);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

void ta_tasks_free(struct ta_task **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		ta_task_free(v[i]);
	free(v);
}

/* Binds s, or NULL for a NULL pointer. SQLITE_TRANSIENT: the statement
 * keeps its own copy, so callers' strings need not outlive it. */
static int bind_str(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? ta_xstrdup((const char *)s) : NULL;
}

/* The task of the current row (columns in COLUMNS_READ order). */
static struct ta_task *row_task(sqlite3_stmt *st)
{
	struct ta_task *t = ta_xcalloc(1, sizeof(*t));
	const unsigned char *s;

	s = sqlite3_column_text(st, 0);
	snprintf(t->id, sizeof(t->id), "%s", s ? (const char *)s : "");
	t->tenant = col_dup(st, 1);
	t->owner_sub = col_dup(st, 2);
	t->owner_username = col_dup(st, 3);
	t->title = col_dup(st, 4);
	t->description = col_dup(st, 5);
	s = sqlite3_column_text(st, 6);
	snprintf(t->due_date, sizeof(t->due_date), "%s", s ? (const char *)s : "");
	ta_priority_parse((const char *)sqlite3_column_text(st, 7), &t->priority);
	ta_status_parse((const char *)sqlite3_column_text(st, 8), &t->status);
	t->created_at = sqlite3_column_int64(st, 9);
	t->updated_at = sqlite3_column_int64(st, 10);
	t->num = sqlite3_column_int64(st, 11);
	if (t->tenant == NULL)
		t->tenant = ta_xstrdup("");
	if (t->owner_sub == NULL)
		t->owner_sub = ta_xstrdup("");
	if (t->title == NULL)
		t->title = ta_xstrdup("");
	return t;
}

static int list_locked(struct ta_db *db, const struct ta_task_filter *f, struct ta_task ***out,
		       size_t *n)
{
	sqlite3_stmt *st = db->st[ST_LIST];
	struct ta_task **v = NULL;
	size_t cap = 0;
	int r;

	bind_str(st, 1, f->tenant);
	bind_str(st, 2, f->owner_sub);
	bind_str(st, 3, f->status);
	sqlite3_bind_int(st, 4, f->not_done ? 1 : 0);
	bind_str(st, 5, f->priority);
	bind_str(st, 6, f->q);
	bind_str(st, 7, f->from);
	bind_str(st, 8, f->to);
	sqlite3_bind_int(st, 9, f->limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			struct ta_task **nv;
			cap += LIST_GROW;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				ta_tasks_free(v, *n);
				*n = 0;
				done(st);
				return TA_ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = row_task(st);
	}
	if (r != SQLITE_DONE) {
		fail(db, "list");
		ta_tasks_free(v, *n);
		*n = 0;
		done(st);
		return TA_EDB;
	}
	done(st);
	*out = v;
	return TA_OK;
}

int ta_db_list(struct ta_db *db, const struct ta_task_filter *f, struct ta_task ***out,
	       size_t *n)
{
	int rc;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->lock);
	rc = list_locked(db, f, out, n);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

int ta_db_insert(struct ta_db *db, struct ta_task *t)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->lock);
	st = db->st[ST_INSERT];
	bind_str(st, 1, t->id);
	bind_str(st, 2, t->tenant);
	bind_str(st, 3, t->owner_sub);
	bind_str(st, 4, t->owner_username);
	bind_str(st, 5, t->title);
	bind_str(st, 6, t->description);
	bind_str(st, 7, t->due_date);
	bind_str(st, 8, ta_priority_name(t->priority));
	bind_str(st, 9, ta_status_name(t->status));
	sqlite3_bind_int64(st, 10, t->created_at);
	sqlite3_bind_int64(st, 11, t->updated_at);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		fail(db, "insert");
	else
		t->num = sqlite3_last_insert_rowid(db->conn);
	done(st);
	pthread_mutex_unlock(&db->lock);
	return r == SQLITE_DONE ? TA_OK : TA_EDB;
}

static int get_locked(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub,
		      struct ta_task **out)
{
	sqlite3_stmt *st = db->st[ST_GET];
	int r, rc;

	bind_str(st, 1, tenant);
	bind_str(st, 2, id);
	bind_str(st, 3, owner_sub);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*out = row_task(st);
		rc = TA_OK;
	} else if (r == SQLITE_DONE) {
		rc = TA_ENOTFOUND;
	} else {
		rc = fail(db, "get");
	}
	done(st);
	return rc;
}

int ta_db_get(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub,
	      struct ta_task **out)
{
	int rc;

	*out = NULL;
	pthread_mutex_lock(&db->lock);
	rc = get_locked(db, tenant, id, owner_sub, out);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

static int step_const(struct ta_db *db, enum stmt_id id)
{
	int r = sqlite3_step(db->st[id]), rc;

	rc = r == SQLITE_DONE ? TA_OK : fail(db, stmt_sql[id]);
	done(db->st[id]);
	return rc;
}

static int write_locked(struct ta_db *db, const struct ta_task *t)
{
	sqlite3_stmt *st = db->st[ST_UPDATE];
	int r, rc;

	bind_str(st, 1, t->tenant);
	bind_str(st, 2, t->id);
	bind_str(st, 3, t->title);
	bind_str(st, 4, t->description);
	bind_str(st, 5, t->due_date);
	bind_str(st, 6, ta_priority_name(t->priority));
	bind_str(st, 7, ta_status_name(t->status));
	sqlite3_bind_int64(st, 8, t->updated_at);
	r = sqlite3_step(st);
	rc = r == SQLITE_DONE ? TA_OK : fail(db, "update");
	done(st);
	return rc;
}

int ta_db_update(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub,
		 const struct ta_task_input *in, int64_t now_ms, struct ta_task **out)
{
	struct ta_task *t = NULL;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&db->lock);
	/* BEGIN IMMEDIATE takes the write lock first, so another process on
	 * the same file cannot change the row between our read and write. */
	rc = step_const(db, ST_BEGIN);
	if (rc != TA_OK)
		goto unlock;
	rc = get_locked(db, tenant, id, owner_sub, &t);
	if (rc == TA_OK) {
		ta_task_apply(t, in);
		t->updated_at = now_ms;
		rc = write_locked(db, t);
	}
	if (rc == TA_OK)
		rc = step_const(db, ST_COMMIT);
	if (rc != TA_OK)
		step_const(db, ST_ROLLBACK);
unlock:
	pthread_mutex_unlock(&db->lock);
	if (rc == TA_OK)
		*out = t;
	else
		ta_task_free(t);
	return rc;
}

int ta_db_delete(struct ta_db *db, const char *tenant, const char *id, const char *owner_sub)
{
	sqlite3_stmt *st;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	st = db->st[ST_DELETE];
	bind_str(st, 1, tenant);
	bind_str(st, 2, id);
	bind_str(st, 3, owner_sub);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = fail(db, "delete");
	else
		rc = sqlite3_changes(db->conn) > 0 ? TA_OK : TA_ENOTFOUND;
	done(st);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

int ta_db_find_num(struct ta_db *db, const char *tenant, int64_t num, const char *owner_sub,
		   char id[TA_UUID_LEN + 1])
{
	sqlite3_stmt *st;
	const unsigned char *s;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	st = db->st[ST_FIND_NUM];
	bind_str(st, 1, tenant);
	sqlite3_bind_int64(st, 2, num);
	bind_str(st, 3, owner_sub);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		s = sqlite3_column_text(st, 0);
		rc = s && strlen((const char *)s) == TA_UUID_LEN ? TA_OK : TA_EDB;
		if (rc == TA_OK)
			memcpy(id, s, TA_UUID_LEN + 1);
	} else if (r == SQLITE_DONE) {
		rc = TA_ENOTFOUND;
	} else {
		rc = fail(db, "find_num");
	}
	done(st);
	pthread_mutex_unlock(&db->lock);
	return rc;
}
