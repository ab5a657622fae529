/* sqlite_schema.c: what of migrations is SQLite's own: running a step's
 * script (schema.c applies the steps), and reading a database file's
 * schema version without opening it as a store. */
#include "schema.h"
#include "sqlite_int.h"

#include <stddef.h>
#include <sys/stat.h>

int ts_sq_script(struct ts_drv_conn *dc, const char *sql, const char *what)
{
	sqlite3 *db = ((struct ts_sq_conn *)dc)->db;

	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return TS_OK;
	ts_log_err("sqlite: %s failed: %s (%d)", what, sqlite3_errmsg(db),
		   sqlite3_extended_errcode(db));
	return TS_ESTORE;
}

int ts_store_sqlite_schema_status(const char *path, int64_t *current, int64_t *latest)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	size_t n;
	int src, rc = TS_ESTORE;

	ts_schema_steps(TS_DIALECT_SQLITE, &n);
	*latest = (int64_t)n;
	*current = 0;
	if (stat(path, &sb) != 0)
		return TS_ENOTFOUND;
	src = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_busy_timeout(db, 5000);
	if (src != SQLITE_OK)
		goto out;
	src = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
				     "AND name = 'schema_version'", -1, &s, NULL);
	if (src != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(s, 0) == 0) {
		rc = TS_OK; /* no tables yet */
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	src = sqlite3_prepare_v2(db, "SELECT version FROM schema_version WHERE id = 1", -1, &s,
				 NULL);
	if (src != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
		goto out;
	*current = sqlite3_column_int64(s, 0);
	rc = TS_OK;
out:
	if (rc != TS_OK && db != NULL)
		ts_log_err("sqlite %s: reading the schema version failed: %s", path,
			   sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}
