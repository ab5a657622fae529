/* sqlite_schema.c: applying the schema's migration steps (schema.c) to a
 * SQLite database, each in an IMMEDIATE transaction of its own, and
 * reading the applied version, which lives in schema_version, a one-row
 * table. */
#include "schema.h"
#include "sqlite_int.h"

#include <stddef.h>
#include <sys/stat.h>

static const char version_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  version INTEGER NOT NULL"
	");"
	"INSERT OR IGNORE INTO schema_version (id, version) VALUES (1, 0);";

/* Runs a fixed SQL text (no parameters, never built from data). */
static int exec_fixed(sqlite3 *db, const char *path, const char *sql, const char *what)
{
	int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (src == SQLITE_OK)
		return TS_OK;
	ts_log_err("sqlite %s: %s failed: %s (%d)", path, what, sqlite3_errmsg(db),
		   sqlite3_extended_errcode(db));
	return TS_ESTORE;
}

static int read_version(sqlite3 *db, const char *path, int64_t *version)
{
	sqlite3_stmt *s = NULL;
	int src, rc = TS_ESTORE;

	src = sqlite3_prepare_v2(db, "SELECT version FROM schema_version WHERE id = 1", -1, &s,
				 NULL);
	if (src != SQLITE_OK)
		goto out;
	src = sqlite3_step(s);
	if (src != SQLITE_ROW)
		goto out;
	*version = sqlite3_column_int64(s, 0);
	rc = TS_OK;
out:
	if (rc != TS_OK)
		ts_log_err("sqlite %s: reading the schema version failed: %s (%d)", path,
			   sqlite3_errmsg(db), sqlite3_extended_errcode(db));
	sqlite3_finalize(s);
	return rc;
}

static int write_version(sqlite3 *db, const char *path, int64_t version)
{
	sqlite3_stmt *s = NULL;
	int src, rc = TS_ESTORE;

	src = sqlite3_prepare_v2(db, "UPDATE schema_version SET version = ?1 WHERE id = 1", -1,
				 &s, NULL);
	if (src != SQLITE_OK)
		goto out;
	if (sqlite3_bind_int64(s, 1, version) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	rc = TS_OK;
out:
	if (rc != TS_OK)
		ts_log_err("sqlite %s: recording the schema version failed: %s (%d)", path,
			   sqlite3_errmsg(db), sqlite3_extended_errcode(db));
	sqlite3_finalize(s);
	return rc;
}

/* Applies step i (version i -> i + 1) unless the database is already past
 * it. The version is read inside the write transaction, so a concurrent
 * opener that got there first makes this a no-op. */
static int apply_step(sqlite3 *db, const char *path, size_t i)
{
	int64_t version = 0;
	size_t nsteps;
	const char *const *migrations = ts_schema_steps(TS_DIALECT_SQLITE, &nsteps);
	int64_t newest = (int64_t)nsteps;
	int rc;

	rc = exec_fixed(db, path, "BEGIN IMMEDIATE", "starting a migration");
	if (rc != TS_OK)
		return rc;
	rc = exec_fixed(db, path, version_table_sql, "creating schema_version");
	if (rc != TS_OK)
		goto out;
	rc = read_version(db, path, &version);
	if (rc != TS_OK)
		goto out;
	if (version > newest) {
		ts_log_err("sqlite %s: schema version %lld is newer than this binary's %lld; "
			   "refusing to use it", path, (long long)version, (long long)newest);
		rc = TS_ESTORE;
		goto out;
	}
	if (version > (int64_t)i)
		goto out;
	if (version < (int64_t)i) {
		/* Steps run in order, so this means a broken schema_version. */
		ts_log_err("sqlite %s: schema version %lld found while applying step %zu", path,
			   (long long)version, i + 1);
		rc = TS_ESTORE;
		goto out;
	}
	rc = exec_fixed(db, path, migrations[i], "migration");
	if (rc != TS_OK)
		goto out;
	rc = write_version(db, path, (int64_t)i + 1);
	if (rc != TS_OK)
		goto out;
	ts_log_info("sqlite %s: migrated schema to version %zu", path, i + 1);
out:
	if (rc == TS_OK)
		rc = exec_fixed(db, path, "COMMIT", "committing a migration");
	/* A failed statement may already have rolled the transaction back. */
	if (rc != TS_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int ts_sqlite_migrate(sqlite3 *db, const char *path)
{
	size_t i, n;
	int rc;

	ts_schema_steps(TS_DIALECT_SQLITE, &n);
	for (i = 0; i < n; i++) {
		rc = apply_step(db, path, i);
		if (rc != TS_OK)
			return rc;
	}
	return TS_OK;
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
	rc = read_version(db, path, current);
out:
	if (rc != TS_OK && db != NULL)
		ts_log_err("sqlite %s: reading the schema version failed: %s", path,
			   sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}
