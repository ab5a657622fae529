/* sqlite_schema.c: the SQLite schema as an ordered list of migration steps.
 * Step i takes the database from version i to i + 1 in one transaction and
 * is never edited once released: later versions only append steps. The
 * applied version lives in schema_version, a one-row table. */
#include "sqlite_int.h"

#include <stddef.h>
#include <sys/stat.h>

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

/* Version 2: people (users, groups, memberships), browser sessions,
 * authorization codes, grants with the access-token ids issued under them,
 * refresh tokens, consent and short-lived pending state. None of it is
 * configuration: writes here never bump the generation. Every table goes
 * with its tenant, and whatever belongs to a user goes with the user
 * (composite foreign keys on (tenant_id, user_id), so a row can never
 * point at another tenant's user). Codes, tokens and session ids are
 * stored only as SHA-256 digests. Tables keyed by long random digests or
 * holding large rows (profiles, pending state) keep their rowid; small
 * association tables are WITHOUT ROWID. Every child has an index leading
 * with its foreign key columns, which the cascades use. */
static const char schema_v2[] =
	/* username_lc is the username with ASCII letters folded to lower
	 * case (done in C, not with SQL lower(), whose result depends on
	 * how SQLite was built); its unique index makes usernames unique
	 * within a tenant without regard to case. */
	"CREATE TABLE users ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  username TEXT NOT NULL,"
	"  username_lc TEXT NOT NULL,"
	"  password_hash TEXT,"
	"  app_password_hash TEXT,"
	"  device_id TEXT,"
	"  profile TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, id)"
	");"
	"CREATE UNIQUE INDEX users_by_username ON users (tenant_id, username_lc);"

	/* Not "groups": that is a keyword (window frames) in SQLite and SQL. */
	"CREATE TABLE user_groups ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, id)"
	") WITHOUT ROWID;"
	"CREATE UNIQUE INDEX user_groups_by_name ON user_groups (tenant_id, name);"

	"CREATE TABLE group_members ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  group_id TEXT NOT NULL,"
	"  user_id TEXT NOT NULL,"
	"  PRIMARY KEY (tenant_id, group_id, user_id),"
	"  FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id)"
	"    ON DELETE CASCADE,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"CREATE INDEX group_members_by_user ON group_members (tenant_id, user_id);"

	"CREATE TABLE sessions ("
	"  id_hash TEXT PRIMARY KEY NOT NULL,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  user_id TEXT NOT NULL,"
	"  auth_time INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id);"
	"CREATE INDEX sessions_by_expiry ON sessions (expires_at);"

	/* grant_id has no foreign key: the grant may be created only when
	 * the code is redeemed. */
	"CREATE TABLE codes ("
	"  code_hash TEXT PRIMARY KEY NOT NULL,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  client_id TEXT NOT NULL,"
	"  user_id TEXT NOT NULL,"
	"  grant_id TEXT NOT NULL,"
	"  redirect_uri TEXT,"
	"  scope TEXT NOT NULL,"
	"  nonce TEXT,"
	"  code_challenge TEXT,"
	"  resource TEXT,"
	"  session_id_hash TEXT,"
	"  auth_time INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX codes_by_user ON codes (tenant_id, user_id);"
	"CREATE INDEX codes_by_grant ON codes (tenant_id, grant_id);"
	"CREATE INDEX codes_by_expiry ON codes (expires_at);"

	/* user_id is NULL for grants without a user (client credentials);
	 * SQLite checks no foreign key whose columns include a NULL. */
	"CREATE TABLE grants ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  client_id TEXT NOT NULL,"
	"  user_id TEXT,"
	"  scope TEXT NOT NULL,"
	"  auth_time INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
	"  PRIMARY KEY (tenant_id, id),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX grants_by_user ON grants (tenant_id, user_id);"

	/* The access tokens (by jti) issued under each grant, kept until
	 * they expire so that revoking the grant can deny them. */
	"CREATE TABLE grant_tokens ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  grant_id TEXT NOT NULL,"
	"  jti TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, grant_id, jti),"
	"  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"CREATE INDEX grant_tokens_by_expiry ON grant_tokens (expires_at);"

	"CREATE TABLE refresh_tokens ("
	"  token_hash TEXT PRIMARY KEY NOT NULL,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  grant_id TEXT NOT NULL,"
	"  client_id TEXT NOT NULL,"
	"  user_id TEXT,"
	"  scope TEXT NOT NULL,"
	"  resource TEXT,"
	"  auth_time INTEGER NOT NULL,"
	"  issued_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),"
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
	"  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (tenant_id, grant_id);"
	"CREATE INDEX refresh_tokens_by_user ON refresh_tokens (tenant_id, user_id);"
	"CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);"

	"CREATE TABLE consents ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  user_id TEXT NOT NULL,"
	"  client_id TEXT NOT NULL,"
	"  scope TEXT NOT NULL,"
	"  PRIMARY KEY (tenant_id, user_id, client_id),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	") WITHOUT ROWID;"

	"CREATE TABLE pending ("
	"  id_hash TEXT PRIMARY KEY NOT NULL,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  data TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX pending_by_tenant ON pending (tenant_id);"
	"CREATE INDEX pending_by_expiry ON pending (expires_at);";

/* Version 3: API keys. A user has any number of keys of kind "user" and
 * at most one of kind "device" (the bound mobile device's), whose secret
 * is replaced at each mobile login. Keys go with their user. */
static const char schema_v3[] =
	"CREATE TABLE api_keys ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  tenant_id TEXT NOT NULL,"
	"  user_id TEXT NOT NULL,"
	"  secret_hash TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('user', 'device')),"
	"  device_id TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"
	");"
	"CREATE INDEX api_keys_by_user ON api_keys (tenant_id, user_id, created_at);"
	"CREATE UNIQUE INDEX api_keys_one_device ON api_keys (tenant_id, user_id) WHERE kind = 'device';";

/* Version 4: the token vault. Providers are a tenant's outside
 * authorization servers (settings as JSON text, the one secret sealed);
 * connections hold sealed tokens, the refresh schedule and a lease
 * (lease_owner, lease_until) that serializes refreshes across processes.
 * A connection's name is unique per tenant and owner (NULL owner: the
 * tenant's own), hence the expression index. A provider cannot go while
 * connections use it (the foreign key, checked at the end of each
 * statement, still lets a tenant's deletion cascade to both); a user's
 * connections go with the user. */
static const char schema_v4[] =
	"CREATE TABLE vault_providers ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('oauth2', 'shopee')),"
	"  config TEXT NOT NULL,"
	"  sealed_secret TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, name)"
	") WITHOUT ROWID;"

	"CREATE TABLE vault_connections ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	"  provider TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  owner TEXT,"
	"  created_by TEXT,"
	"  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'needs_reauth')),"
	"  metadata TEXT NOT NULL,"
	"  access_token TEXT,"
	"  refresh_token TEXT,"
	"  issued_at INTEGER NOT NULL DEFAULT 0,"
	"  expires_at INTEGER NOT NULL DEFAULT 0,"
	"  refresh_expires_at INTEGER NOT NULL DEFAULT 0,"
	"  next_refresh_at INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  expiry_warned INTEGER NOT NULL DEFAULT 0 CHECK (expiry_warned IN (0, 1)),"
	"  lease_owner TEXT,"
	"  lease_until INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
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

/* Version 5: throttling shared by every server of the store. A row counts
 * the failures of one key (the hex SHA-256 of "tenant/user:name" and the
 * like, never the name itself) within a window that began at
 * window_start; purge_expired drops windows that have ended. */
static const char schema_v5[] =
	"CREATE TABLE throttle ("
	"  key_hash TEXT PRIMARY KEY NOT NULL,"
	"  window_start INTEGER NOT NULL,"
	"  failures INTEGER NOT NULL,"
	"  last_failure INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX throttle_by_start ON throttle (window_start);";

/* Version 6: a version per tenant, so that a server reloads only the
 * tenants whose configuration changed. It moves with every write to the
 * tenant's row (the upsert in sqlite_sql.c) and, through these triggers,
 * with every insert, update or delete of its clients and keys. A trigger
 * that fires for a tenant being deleted updates nothing. */
#define TOUCH_TENANT(table, ev, row) \
	"CREATE TRIGGER " table "_touch_tenant_" ev " AFTER " ev " ON " table \
	" BEGIN UPDATE tenants SET version = version + 1 WHERE id = " row ".tenant_id; END;"
static const char schema_v6[] =
	"ALTER TABLE tenants ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
	TOUCH_TENANT("clients", "INSERT", "NEW")
	TOUCH_TENANT("clients", "UPDATE", "NEW")
	TOUCH_TENANT("clients", "DELETE", "OLD")
	TOUCH_TENANT("keys", "INSERT", "NEW")
	TOUCH_TENANT("keys", "UPDATE", "NEW")
	TOUCH_TENANT("keys", "DELETE", "OLD");

/* Version 7: a group's optional organization, and when and by whom each
 * membership was added (0 and NULL for memberships made before). */
static const char schema_v7[] =
	"ALTER TABLE user_groups ADD COLUMN org_id TEXT;"
	"ALTER TABLE group_members ADD COLUMN added_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE group_members ADD COLUMN added_by TEXT;";

/* The migration steps, oldest first. Append only. */
static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
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

int ts_store_sqlite_schema_status(const char *path, int64_t *current, int64_t *latest)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	int src, rc = TS_ESTORE;

	*latest = (int64_t)TS_ARRAY_LEN(migrations);
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
