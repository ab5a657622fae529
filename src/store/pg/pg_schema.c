/* pg_schema.c: applying the schema's migration steps (schema.c) to a
 * PostgreSQL database, under an advisory lock so that servers starting
 * together on one database migrate one after the other, and reading the
 * applied version, which lives in schema_version, a one-row table. */
#include "pg_int.h"
#include "store/schema.h"

#include <stdlib.h>
#include <string.h>

/* Serialises servers that start together on one database: every opener
 * migrates under this transaction-level advisory lock ("tessera\1"). */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(8387236820507844865)"

static const char version_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  version INTEGER NOT NULL"
	");"
	"INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;";

/* Runs a fixed SQL script (one or more statements, no parameters, never
 * built from data) through the simple query protocol, which the
 * parameterised one does not allow for more than one statement. */
static int exec_script(struct ts_pg_conn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c->db, sql);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state, *msg;
	int rc = TS_OK;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		if (PQstatus(c->db) != CONNECTION_OK)
			c->broken = true;
		ts_log_err("postgres: %s failed: %s (%s)", what,
			   msg ? msg : "connection lost", state ? state : "no SQLSTATE");
		rc = TS_ESTORE;
	}
	PQclear(r);
	return rc;
}

static int read_version(struct ts_pg_conn *c, int64_t *version)
{
	PGresult *r = NULL;
	int rc;

	rc = ts_pg_query(c, "SELECT version FROM schema_version WHERE id = 1", NULL, 0, &r,
			 "reading the schema version");
	if (rc != TS_OK)
		return TS_ESTORE;
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
		ts_log_err("postgres: schema_version has no version row");
		rc = TS_ESTORE;
	} else {
		*version = ts_pg_col_i64(r, 0, 0);
	}
	PQclear(r);
	return rc;
}

static int write_version(struct ts_pg_conn *c, int64_t version)
{
	char v[TS_PG_I64_BUF];
	const char *args[] = {ts_pg_i64(v, version)};
	int rc;

	rc = ts_pg_exec(c, "UPDATE schema_version SET version = $1::integer WHERE id = 1", args,
			1, NULL, "recording the schema version");
	return rc == TS_OK ? TS_OK : TS_ESTORE;
}

/* Brings the schema up to date inside the open transaction on c, which
 * holds the migration lock: a concurrent opener that got there first has
 * left nothing to do. */
static int migrate_locked(struct ts_pg_conn *c)
{
	int64_t version = 0;
	size_t nsteps;
	const char *const *migrations = ts_schema_steps(TS_DIALECT_PG, &nsteps);
	int64_t newest = (int64_t)nsteps;
	int64_t i;
	int rc;

	rc = exec_script(c, version_table_sql, "creating schema_version");
	if (rc != TS_OK)
		return rc;
	rc = read_version(c, &version);
	if (rc != TS_OK)
		return rc;
	if (version > newest) {
		ts_log_err("postgres: schema version %lld is newer than this binary's %lld; "
			   "refusing to use it", (long long)version, (long long)newest);
		return TS_ESTORE;
	}
	if (version < 0) {
		ts_log_err("postgres: schema_version holds %lld", (long long)version);
		return TS_ESTORE;
	}
	if (version == newest)
		return TS_OK;
	for (i = version; i < newest; i++) {
		rc = exec_script(c, migrations[i], "migration");
		if (rc != TS_OK)
			return rc;
	}
	rc = write_version(c, newest);
	if (rc == TS_OK)
		ts_log_info("postgres: migrated schema from version %lld to %lld",
			    (long long)version, (long long)newest);
	return rc;
}

int ts_pg_migrate(struct ts_pg_conn *c)
{
	PGTransactionStatusType ts;
	int rc;

	rc = exec_script(c, "BEGIN", "starting a migration");
	if (rc != TS_OK)
		return rc;
	rc = exec_script(c, MIGRATE_LOCK_SQL, "taking the migration lock");
	if (rc == TS_OK)
		rc = migrate_locked(c);
	if (rc == TS_OK)
		rc = exec_script(c, "COMMIT", "committing a migration");
	if (rc != TS_OK && !c->broken) {
		ts = PQtransactionStatus(c->db);
		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
			exec_script(c, "ROLLBACK", "rolling back a migration");
	}
	return rc;
}

int ts_store_pg_schema_status(const char *url, int64_t *current, int64_t *latest)
{
	PGconn *db;
	PGresult *r = NULL;
	const char *state;
	size_t n;
	int rc = TS_ESTORE;

	ts_schema_steps(TS_DIALECT_PG, &n);
	*latest = (int64_t)n;
	*current = 0;
	db = PQconnectdb(url);
	if (db == NULL || PQstatus(db) != CONNECTION_OK) {
		/* libpq's message may quote the URL's options: not logged. */
		ts_log_err("postgres: cannot connect to read the schema version");
		goto out;
	}
	r = PQexec(db, "SELECT version FROM schema_version WHERE id = 1");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		*current = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		rc = TS_OK;
	} else if ((state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) != NULL &&
		   strcmp(state, "42P01") == 0) {
		rc = TS_OK; /* undefined_table: no tables yet */
	} else {
		ts_log_err("postgres: reading the schema version failed");
	}
out:
	PQclear(r);
	PQfinish(db);
	return rc;
}
