/* pg_schema.c: the PostgreSQL schema as an ordered list of migration
 * steps, append only like SQLite's (sqlite_schema.c). The tables, columns,
 * keys, foreign keys, indexes and CHECKs are exactly SQLite's, with
 * BIGINT for times and counters and INTEGER 0/1 for flags, so that records
 * read the same from both backends. Every text column compares byte by
 * byte (COLLATE "C", as SQLite's BINARY), whatever the database's locale:
 * lists come back in the same order as from SQLite. The applied version
 * lives in schema_version, a one-row table. */
#include "pg_int.h"

#include <stdlib.h>
#include <string.h>

/* A text column that sorts and compares as bytes. */
#define C_TEXT "TEXT COLLATE \"C\""

/* Serialises servers that start together on one database: every opener
 * migrates under this transaction-level advisory lock ("tessera\1"). */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(8387236820507844865)"

/* Version 1: everything of SQLite's versions 1 to 4.
 *
 * Configuration (tenants, clients, keys) with the generation counter in
 * meta that servers poll to reload it; revocations; the audit log, which
 * names tenants by name and outlives them on purpose (ids come from an
 * identity column, never reused). People (users, groups, memberships),
 * browser sessions, authorization codes, grants with the access-token ids
 * issued under them, refresh tokens, consent and short-lived pending state;
 * API keys; the token vault's providers and connections. Everything a
 * tenant owns goes with the tenant (ON DELETE CASCADE), and whatever
 * belongs to a user goes with the user (composite foreign keys on
 * (tenant_id, user_id), which PostgreSQL, like SQLite, does not check when
 * user_id is NULL). Codes, tokens and session ids are stored only as
 * SHA-256 digests. Every child has an index leading with its foreign key
 * columns, which the cascades use. */
static const char schema_v1[] =
	"CREATE TABLE meta ("
	"  name " C_TEXT " PRIMARY KEY NOT NULL,"
	"  value BIGINT NOT NULL"
	");"
	"INSERT INTO meta (name, value) VALUES ('generation', 0);"

	"CREATE TABLE tenants ("
	"  id " C_TEXT " PRIMARY KEY NOT NULL,"
	"  name " C_TEXT " NOT NULL UNIQUE,"
	"  config " C_TEXT " NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL"
	");"

	"CREATE TABLE clients ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  client_id " C_TEXT " NOT NULL,"
	"  config " C_TEXT " NOT NULL,"
	"  secret_hash " C_TEXT ","
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, client_id)"
	");"

	"CREATE TABLE keys ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  kid " C_TEXT " NOT NULL,"
	"  alg " C_TEXT " NOT NULL,"
	"  state " C_TEXT " NOT NULL CHECK (state IN ('next', 'current', 'retired')),"
	"  public_jwk " C_TEXT " NOT NULL,"
	"  sealed_private " C_TEXT " NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  activated_at BIGINT NOT NULL DEFAULT 0,"
	"  retired_at BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (tenant_id, kid)"
	");"
	"CREATE INDEX keys_by_created ON keys (tenant_id, created_at, kid);"

	"CREATE TABLE revocations ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  jti " C_TEXT " NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, jti)"
	");"
	"CREATE INDEX revocations_by_expiry ON revocations (expires_at);"

	"CREATE TABLE audit ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  tenant " C_TEXT ","
	"  time BIGINT NOT NULL,"
	"  type " C_TEXT " NOT NULL,"
	"  actor " C_TEXT ","
	"  subject " C_TEXT ","
	"  request_id " C_TEXT ","
	"  detail " C_TEXT
	");"
	"CREATE INDEX audit_by_tenant_time ON audit (tenant, time, id);"
	"CREATE INDEX audit_by_time ON audit (time, id);"

	/* username_lc is the username with ASCII letters folded to lower
	 * case by the caller (in C, as for SQLite); its unique index makes
	 * usernames unique within a tenant without regard to case. */
	"CREATE TABLE users ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  id " C_TEXT " NOT NULL,"
	"  username " C_TEXT " NOT NULL,"
	"  username_lc " C_TEXT " NOT NULL,"
	"  password_hash " C_TEXT ","
	"  app_password_hash " C_TEXT ","
	"  device_id " C_TEXT ","
	"  profile " C_TEXT " NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, id)"
	");"
	"CREATE UNIQUE INDEX users_by_username ON users (tenant_id, username_lc);"

	"CREATE TABLE user_groups ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  id " C_TEXT " NOT NULL,"
	"  name " C_TEXT " NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, id)"
	");"
	"CREATE UNIQUE INDEX user_groups_by_name ON user_groups (tenant_id, name);"

	"CREATE TABLE group_members ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  group_id " C_TEXT " NOT NULL,"
	"  user_id " C_TEXT " NOT NULL,"
	"  PRIMARY KEY (tenant_id, group_id, user_id),"
	"  FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id)"
	"    ON DELETE CASCADE,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX group_members_by_user ON group_members (tenant_id, user_id);"

	"CREATE TABLE sessions ("
	"  id_hash " C_TEXT " PRIMARY KEY NOT NULL,"
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  user_id " C_TEXT " NOT NULL,"
	"  auth_time BIGINT NOT NULL,"
	"  last_seen BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id);"
	"CREATE INDEX sessions_by_expiry ON sessions (expires_at);"

	/* grant_id has no foreign key: the grant may be created only when
	 * the code is redeemed. */
	"CREATE TABLE codes ("
	"  code_hash " C_TEXT " PRIMARY KEY NOT NULL,"
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  client_id " C_TEXT " NOT NULL,"
	"  user_id " C_TEXT " NOT NULL,"
	"  grant_id " C_TEXT " NOT NULL,"
	"  redirect_uri " C_TEXT ","
	"  scope " C_TEXT " NOT NULL,"
	"  nonce " C_TEXT ","
	"  code_challenge " C_TEXT ","
	"  resource " C_TEXT ","
	"  session_id_hash " C_TEXT ","
	"  auth_time BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX codes_by_user ON codes (tenant_id, user_id);"
	"CREATE INDEX codes_by_grant ON codes (tenant_id, grant_id);"
	"CREATE INDEX codes_by_expiry ON codes (expires_at);"

	/* user_id is NULL for grants without a user (client credentials). */
	"CREATE TABLE grants ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  id " C_TEXT " NOT NULL,"
	"  client_id " C_TEXT " NOT NULL,"
	"  user_id " C_TEXT ","
	"  scope " C_TEXT " NOT NULL,"
	"  auth_time BIGINT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
	"  PRIMARY KEY (tenant_id, id),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX grants_by_user ON grants (tenant_id, user_id);"

	/* The access tokens (by jti) issued under each grant, kept until
	 * they expire so that revoking the grant can deny them. */
	"CREATE TABLE grant_tokens ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  grant_id " C_TEXT " NOT NULL,"
	"  jti " C_TEXT " NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, grant_id, jti),"
	"  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX grant_tokens_by_expiry ON grant_tokens (expires_at);"

	"CREATE TABLE refresh_tokens ("
	"  token_hash " C_TEXT " PRIMARY KEY NOT NULL,"
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  grant_id " C_TEXT " NOT NULL,"
	"  client_id " C_TEXT " NOT NULL,"
	"  user_id " C_TEXT ","
	"  scope " C_TEXT " NOT NULL,"
	"  resource " C_TEXT ","
	"  auth_time BIGINT NOT NULL,"
	"  issued_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),"
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
	"  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (tenant_id, grant_id);"
	"CREATE INDEX refresh_tokens_by_user ON refresh_tokens (tenant_id, user_id);"
	"CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);"

	"CREATE TABLE consents ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  user_id " C_TEXT " NOT NULL,"
	"  client_id " C_TEXT " NOT NULL,"
	"  scope " C_TEXT " NOT NULL,"
	"  PRIMARY KEY (tenant_id, user_id, client_id),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"

	"CREATE TABLE pending ("
	"  id_hash " C_TEXT " PRIMARY KEY NOT NULL,"
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  kind " C_TEXT " NOT NULL,"
	"  data " C_TEXT " NOT NULL,"
	"  expires_at BIGINT NOT NULL"
	");"
	"CREATE INDEX pending_by_tenant ON pending (tenant_id);"
	"CREATE INDEX pending_by_expiry ON pending (expires_at);"

	/* A user has any number of keys of kind "user" and at most one of
	 * kind "device" (the bound mobile device's). */
	"CREATE TABLE api_keys ("
	"  key " C_TEXT " PRIMARY KEY NOT NULL,"
	"  tenant_id " C_TEXT " NOT NULL,"
	"  user_id " C_TEXT " NOT NULL,"
	"  secret_hash " C_TEXT " NOT NULL,"
	"  kind " C_TEXT " NOT NULL CHECK (kind IN ('user', 'device')),"
	"  device_id " C_TEXT ","
	"  created_at BIGINT NOT NULL,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX api_keys_by_user ON api_keys (tenant_id, user_id, created_at);"
	"CREATE UNIQUE INDEX api_keys_one_device ON api_keys (tenant_id, user_id)"
	"  WHERE kind = 'device';"

	/* The token vault. A connection's name is unique per tenant and owner
	 * (NULL owner: the tenant's own), hence the expression index. A
	 * provider cannot go while connections use it (the foreign key, NO
	 * ACTION and so checked at the end of each statement, still lets a
	 * tenant's deletion cascade to both); a user's connections go with
	 * the user. */
	"CREATE TABLE vault_providers ("
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  name " C_TEXT " NOT NULL,"
	"  kind " C_TEXT " NOT NULL CHECK (kind IN ('oauth2', 'shopee')),"
	"  config " C_TEXT " NOT NULL,"
	"  sealed_secret " C_TEXT ","
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, name)"
	");"

	"CREATE TABLE vault_connections ("
	"  id " C_TEXT " PRIMARY KEY NOT NULL,"
	"  tenant_id " C_TEXT " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  provider " C_TEXT " NOT NULL,"
	"  name " C_TEXT " NOT NULL,"
	"  owner " C_TEXT ","
	"  created_by " C_TEXT ","
	"  status " C_TEXT " NOT NULL CHECK (status IN ('pending', 'active', 'needs_reauth')),"
	"  metadata " C_TEXT " NOT NULL,"
	"  access_token " C_TEXT ","
	"  refresh_token " C_TEXT ","
	"  issued_at BIGINT NOT NULL DEFAULT 0,"
	"  expires_at BIGINT NOT NULL DEFAULT 0,"
	"  refresh_expires_at BIGINT NOT NULL DEFAULT 0,"
	"  next_refresh_at BIGINT NOT NULL DEFAULT 0,"
	"  failures BIGINT NOT NULL DEFAULT 0,"
	"  last_error " C_TEXT ","
	"  expiry_warned INTEGER NOT NULL DEFAULT 0 CHECK (expiry_warned IN (0, 1)),"
	"  lease_owner " C_TEXT ","
	"  lease_until BIGINT NOT NULL DEFAULT 0,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  FOREIGN KEY (tenant_id, provider) REFERENCES vault_providers (tenant_id, name),"
	"  FOREIGN KEY (tenant_id, owner) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE UNIQUE INDEX vault_connections_by_name"
	"  ON vault_connections (tenant_id, coalesce(owner, ''), name);"
	"CREATE INDEX vault_connections_by_tenant ON vault_connections (tenant_id, created_at);"
	"CREATE INDEX vault_connections_by_provider ON vault_connections (tenant_id, provider);"
	"CREATE INDEX vault_connections_by_owner ON vault_connections (tenant_id, owner);"
	"CREATE INDEX vault_connections_due ON vault_connections (next_refresh_at)"
	"  WHERE next_refresh_at > 0;";

/* Version 2: SQLite's version 5, throttling shared by every server of the
 * database. A row counts the failures of one key (the hex SHA-256 of
 * "tenant/user:name" and the like, never the name itself) within a window
 * that began at window_start; purge_expired drops windows that have ended. */
static const char schema_v2[] =
	"CREATE TABLE throttle ("
	"  key_hash " C_TEXT " PRIMARY KEY NOT NULL,"
	"  window_start BIGINT NOT NULL,"
	"  failures INTEGER NOT NULL,"
	"  last_failure BIGINT NOT NULL"
	");"
	"CREATE INDEX throttle_by_start ON throttle (window_start);";

/* Version 3: SQLite's version 6, a version per tenant that moves with
 * every write to the tenant's row (the upsert in pg_ops.c) and, through
 * these triggers, with every insert, update or delete of its clients and
 * keys, so that a server reloads only the tenants that changed. A trigger
 * that fires for a tenant being deleted updates nothing. */
static const char schema_v3[] =
	"ALTER TABLE tenants ADD COLUMN version BIGINT NOT NULL DEFAULT 1;"
	"CREATE FUNCTION tessera_touch_tenant() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  IF TG_OP = 'DELETE' THEN"
	"   UPDATE tenants SET version = version + 1 WHERE id = OLD.tenant_id;"
	"   RETURN OLD;"
	"  END IF;"
	"  UPDATE tenants SET version = version + 1 WHERE id = NEW.tenant_id;"
	"  RETURN NEW;"
	" END $$;"
	"CREATE TRIGGER clients_touch_tenant AFTER INSERT OR UPDATE OR DELETE ON clients"
	"  FOR EACH ROW EXECUTE FUNCTION tessera_touch_tenant();"
	"CREATE TRIGGER keys_touch_tenant AFTER INSERT OR UPDATE OR DELETE ON keys"
	"  FOR EACH ROW EXECUTE FUNCTION tessera_touch_tenant();";

/* Version 4: SQLite's version 7, a group's optional organization, and
 * when and by whom each membership was added (0 and NULL for memberships
 * made before). */
static const char schema_v4[] =
	"ALTER TABLE user_groups ADD COLUMN org_id " C_TEXT ";"
	"ALTER TABLE group_members ADD COLUMN added_at BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE group_members ADD COLUMN added_by " C_TEXT ";";

/* The migration steps, oldest first. Append only. */
static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
};

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
	int64_t newest = (int64_t)TS_ARRAY_LEN(migrations);
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
	int rc = TS_ESTORE;

	*latest = (int64_t)TS_ARRAY_LEN(migrations);
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
