/* sqlite_schema.c: the SQLite schema as an ordered list of migration steps.
 * Step i takes the database from version i to i + 1 in one transaction and
 * is never edited once released: later versions only append steps. The
 * applied version lives in schema_version, a one-row table. */
#include "sqlite_int.h"

#include <stddef.h>

/* Version 1: configuration (tenants, clients, keys), the generation counter
 * that servers poll to reload it, revocations and the audit log.
 * Everything a tenant owns goes when the tenant goes (ON DELETE CASCADE on
 * tenant id, with PRAGMA foreign_keys=ON on every connection). The audit log
 * names tenants by name and outlives them on purpose. */
static const char schema_v1[] =
	"CREATE TABLE meta ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  value INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO meta (name, value) VALUES ('generation', 0);"

	"CREATE TABLE tenants ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT NOT NULL UNIQUE,"
	"  config TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"

	/* The primary key leads with tenant_id, which also serves the
	 * cascade's lookup of a tenant's children. */
	"CREATE TABLE clients ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  client_id TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  secret_hash TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, client_id)"
	") WITHOUT ROWID;"

	"CREATE TABLE keys ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  kid TEXT NOT NULL,"
	"  alg TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),"
	"  public_jwk TEXT NOT NULL,"
	"  sealed_private TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  activated_at INTEGER NOT NULL DEFAULT 0,"
	"  retired_at INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (tenant_id, kid)"
	") WITHOUT ROWID;"
	"CREATE INDEX keys_by_created ON keys (tenant_id, created_at, kid);"

	"CREATE TABLE revocations ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  jti TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, jti)"
	") WITHOUT ROWID;"
	"CREATE INDEX revocations_by_expiry ON revocations (expires_at);"

	/* AUTOINCREMENT so that ids are never reused, even after the newest
	 * rows are deleted by retention. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tenant TEXT,"
	"  time INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  actor TEXT,"
	"  subject TEXT,"
	"  request_id TEXT,"
	"  detail TEXT"
	");"
	"CREATE INDEX audit_by_tenant_time ON audit (tenant, time, id);"
	"CREATE INDEX audit_by_time ON audit (time, id);";

/* The migration steps, oldest first. Append only. */
static const char *const migrations[] = {
	schema_v1,
};

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
	int64_t newest = (int64_t)TS_ARRAY_LEN(migrations);
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
	size_t i;
	int rc;

	for (i = 0; i < TS_ARRAY_LEN(migrations); i++) {
		rc = apply_step(db, path, i);
		if (rc != TS_OK)
			return rc;
	}
	return TS_OK;
}
