/* pg_schema.c: what of migrations is PostgreSQL's own: running a step's
 * script (schema.c applies the steps), and reading a database's schema
 * version without opening it as a store. */
#include "pg_int.h"
#include "store/schema.h"

#include <stdlib.h>
#include <string.h>

/* Runs a fixed SQL script (one or more statements, no parameters, never
 * built from data) through the simple query protocol, which the
 * parameterised one does not allow for more than one statement. */
int ts_pg_script(struct ts_drv_conn *dc, const char *sql, const char *what)
{
	struct ts_pg_conn *c = (struct ts_pg_conn *)dc;
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
