/* schema.c: the schema of both dialects, described once as an ordered
 * list of migration steps. Step i takes a database from version i to
 * i + 1 in one transaction and is never edited once released: later
 * versions only append steps. The tables, columns, keys, foreign keys,
 * indexes and CHECKs are the same in both dialects; only types differ,
 * through the parameters of each step:
 *   T        text; on PostgreSQL compared byte by byte (COLLATE "C", as
 *            SQLite's BINARY) whatever the database's locale, so lists
 *            come back in the same order from both;
 *   I        a time (Unix seconds) or a counter: SQLite INTEGER,
 *            PostgreSQL BIGINT (flags are INTEGER 0/1 in both);
 *   NR       SQLite's WITHOUT ROWID for small keyed tables, nothing on
 *            PostgreSQL;
 *   AUTO_ID  an id the database assigns and never reuses.
 * PostgreSQL started later, with SQLite's first four versions as its first
 * step, so its version numbers run three behind SQLite's. The per-tenant
 * version's triggers are the one step written per dialect. */
#include "schema.h"
#include "q.h"

#include "core/core.h"

#define SQ_T "TEXT"
#define SQ_I "INTEGER"
#define SQ_NR " WITHOUT ROWID"
#define SQ_AUTO_ID "INTEGER PRIMARY KEY AUTOINCREMENT"
#define PG_T "TEXT COLLATE \"C\""
#define PG_I "BIGINT"
#define PG_NR ""
#define PG_AUTO_ID "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

/* Version 1: configuration (tenants, clients, keys), the generation counter
 * that servers poll to reload it, revocations and the audit log.
 * Everything a tenant owns goes when the tenant goes (ON DELETE CASCADE on
 * tenant id, with PRAGMA foreign_keys=ON on every connection). The audit log
 * names tenants by name and outlives them on purpose. */
#define SCHEMA_V1(T, I, NR, AUTO_ID) \
	"CREATE TABLE meta ("                                                     \
	"  name " T " PRIMARY KEY NOT NULL,"                                      \
	"  value " I " NOT NULL"                                                  \
	")" NR ";"                                                                \
	"INSERT INTO meta (name, value) VALUES ('generation', 0);"                \
	                                                                          \
	"CREATE TABLE tenants ("                                                  \
	"  id " T " PRIMARY KEY NOT NULL,"                                        \
	"  name " T " NOT NULL UNIQUE,"                                           \
	"  config " T " NOT NULL,"                                                \
	"  created_at " I " NOT NULL,"                                            \
	"  updated_at " I " NOT NULL"                                             \
	");"                                                                      \
	                                                                          \
	/* The primary key leads with tenant_id, which also serves the            \
	 * cascade's lookup of a tenant's children. */                            \
	"CREATE TABLE clients ("                                                  \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"   \
	"  client_id " T " NOT NULL,"                                             \
	"  config " T " NOT NULL,"                                                \
	"  secret_hash " T ","                                                    \
	"  created_at " I " NOT NULL,"                                            \
	"  updated_at " I " NOT NULL,"                                            \
	"  PRIMARY KEY (tenant_id, client_id)"                                    \
	")" NR ";"                                                                \
	                                                                          \
	"CREATE TABLE keys ("                                                     \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"   \
	"  kid " T " NOT NULL,"                                                   \
	"  alg " T " NOT NULL,"                                                   \
	"  state " T " NOT NULL CHECK (state IN ('next', 'current', 'retired'))," \
	"  public_jwk " T " NOT NULL,"                                            \
	"  sealed_private " T " NOT NULL,"                                        \
	"  created_at " I " NOT NULL,"                                            \
	"  activated_at " I " NOT NULL DEFAULT 0,"                                \
	"  retired_at " I " NOT NULL DEFAULT 0,"                                  \
	"  PRIMARY KEY (tenant_id, kid)"                                          \
	")" NR ";"                                                                \
	"CREATE INDEX keys_by_created ON keys (tenant_id, created_at, kid);"      \
	                                                                          \
	"CREATE TABLE revocations ("                                              \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"   \
	"  jti " T " NOT NULL,"                                                   \
	"  expires_at " I " NOT NULL,"                                            \
	"  PRIMARY KEY (tenant_id, jti)"                                          \
	")" NR ";"                                                                \
	"CREATE INDEX revocations_by_expiry ON revocations (expires_at);"         \
	                                                                          \
	/* AUTOINCREMENT so that ids are never reused, even after the newest      \
	 * rows are deleted by retention. */                                      \
	"CREATE TABLE audit ("                                                    \
	"  id " AUTO_ID ","                                                       \
	"  tenant " T ","                                                         \
	"  time " I " NOT NULL,"                                                  \
	"  type " T " NOT NULL,"                                                  \
	"  actor " T ","                                                          \
	"  subject " T ","                                                        \
	"  request_id " T ","                                                     \
	"  detail " T ""                                                          \
	");"                                                                      \
	"CREATE INDEX audit_by_tenant_time ON audit (tenant, time, id);"          \
	"CREATE INDEX audit_by_time ON audit (time, id);"

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
#define SCHEMA_V2(T, I, NR, AUTO_ID) \
	/* username_lc is the username with ASCII letters folded to lower                         \
	 * case (done in C, not with SQL lower(), whose result depends on                         \
	 * how SQLite was built); its unique index makes usernames unique                         \
	 * within a tenant without regard to case. */                                             \
	"CREATE TABLE users ("                                                                    \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  id " T " NOT NULL,"                                                                    \
	"  username " T " NOT NULL,"                                                              \
	"  username_lc " T " NOT NULL,"                                                           \
	"  password_hash " T ","                                                                  \
	"  app_password_hash " T ","                                                              \
	"  device_id " T ","                                                                      \
	"  profile " T " NOT NULL,"                                                               \
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"                       \
	"  created_at " I " NOT NULL,"                                                            \
	"  updated_at " I " NOT NULL,"                                                            \
	"  PRIMARY KEY (tenant_id, id)"                                                           \
	");"                                                                                      \
	"CREATE UNIQUE INDEX users_by_username ON users (tenant_id, username_lc);"                \
	                                                                                          \
	/* Not "groups": that is a keyword (window frames) in SQLite and SQL. */                  \
	"CREATE TABLE user_groups ("                                                              \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  id " T " NOT NULL,"                                                                    \
	"  name " T " NOT NULL,"                                                                  \
	"  created_at " I " NOT NULL,"                                                            \
	"  PRIMARY KEY (tenant_id, id)"                                                           \
	")" NR ";"                                                                                \
	"CREATE UNIQUE INDEX user_groups_by_name ON user_groups (tenant_id, name);"               \
	                                                                                          \
	"CREATE TABLE group_members ("                                                            \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  group_id " T " NOT NULL,"                                                              \
	"  user_id " T " NOT NULL,"                                                               \
	"  PRIMARY KEY (tenant_id, group_id, user_id),"                                           \
	"  FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id)"              \
	"    ON DELETE CASCADE,"                                                                  \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	")" NR ";"                                                                                \
	"CREATE INDEX group_members_by_user ON group_members (tenant_id, user_id);"               \
	                                                                                          \
	"CREATE TABLE sessions ("                                                                 \
	"  id_hash " T " PRIMARY KEY NOT NULL,"                                                   \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  user_id " T " NOT NULL,"                                                               \
	"  auth_time " I " NOT NULL,"                                                             \
	"  last_seen " I " NOT NULL,"                                                             \
	"  expires_at " I " NOT NULL,"                                                            \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	");"                                                                                      \
	"CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id);"                         \
	"CREATE INDEX sessions_by_expiry ON sessions (expires_at);"                               \
	                                                                                          \
	/* grant_id has no foreign key: the grant may be created only when                        \
	 * the code is redeemed. */                                                               \
	"CREATE TABLE codes ("                                                                    \
	"  code_hash " T " PRIMARY KEY NOT NULL,"                                                 \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  client_id " T " NOT NULL,"                                                             \
	"  user_id " T " NOT NULL,"                                                               \
	"  grant_id " T " NOT NULL,"                                                              \
	"  redirect_uri " T ","                                                                   \
	"  scope " T " NOT NULL,"                                                                 \
	"  nonce " T ","                                                                          \
	"  code_challenge " T ","                                                                 \
	"  resource " T ","                                                                       \
	"  session_id_hash " T ","                                                                \
	"  auth_time " I " NOT NULL,"                                                             \
	"  expires_at " I " NOT NULL,"                                                            \
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),"                               \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	");"                                                                                      \
	"CREATE INDEX codes_by_user ON codes (tenant_id, user_id);"                               \
	"CREATE INDEX codes_by_grant ON codes (tenant_id, grant_id);"                             \
	"CREATE INDEX codes_by_expiry ON codes (expires_at);"                                     \
	                                                                                          \
	/* user_id is NULL for grants without a user (client credentials):                        \
	 * no dialect checks a foreign key whose columns include a NULL. */                       \
	"CREATE TABLE grants ("                                                                   \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  id " T " NOT NULL,"                                                                    \
	"  client_id " T " NOT NULL,"                                                             \
	"  user_id " T ","                                                                        \
	"  scope " T " NOT NULL,"                                                                 \
	"  auth_time " I " NOT NULL,"                                                             \
	"  created_at " I " NOT NULL,"                                                            \
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"                         \
	"  PRIMARY KEY (tenant_id, id),"                                                          \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	");"                                                                                      \
	"CREATE INDEX grants_by_user ON grants (tenant_id, user_id);"                             \
	                                                                                          \
	/* The access tokens (by jti) issued under each grant, kept until                         \
	 * they expire so that revoking the grant can deny them. */                               \
	"CREATE TABLE grant_tokens ("                                                             \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  grant_id " T " NOT NULL,"                                                              \
	"  jti " T " NOT NULL,"                                                                   \
	"  expires_at " I " NOT NULL,"                                                            \
	"  PRIMARY KEY (tenant_id, grant_id, jti),"                                               \
	"  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE" \
	")" NR ";"                                                                                \
	"CREATE INDEX grant_tokens_by_expiry ON grant_tokens (expires_at);"                       \
	                                                                                          \
	"CREATE TABLE refresh_tokens ("                                                           \
	"  token_hash " T " PRIMARY KEY NOT NULL,"                                                \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  grant_id " T " NOT NULL,"                                                              \
	"  client_id " T " NOT NULL,"                                                             \
	"  user_id " T ","                                                                        \
	"  scope " T " NOT NULL,"                                                                 \
	"  resource " T ","                                                                       \
	"  auth_time " I " NOT NULL,"                                                             \
	"  issued_at " I " NOT NULL,"                                                             \
	"  expires_at " I " NOT NULL,"                                                            \
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),"                               \
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"                         \
	"  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE," \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	");"                                                                                      \
	"CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (tenant_id, grant_id);"           \
	"CREATE INDEX refresh_tokens_by_user ON refresh_tokens (tenant_id, user_id);"             \
	"CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);"                   \
	                                                                                          \
	"CREATE TABLE consents ("                                                                 \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  user_id " T " NOT NULL,"                                                               \
	"  client_id " T " NOT NULL,"                                                             \
	"  scope " T " NOT NULL,"                                                                 \
	"  PRIMARY KEY (tenant_id, user_id, client_id),"                                          \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	")" NR ";"                                                                                \
	                                                                                          \
	"CREATE TABLE pending ("                                                                  \
	"  id_hash " T " PRIMARY KEY NOT NULL,"                                                   \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                   \
	"  kind " T " NOT NULL,"                                                                  \
	"  data " T " NOT NULL,"                                                                  \
	"  expires_at " I " NOT NULL"                                                             \
	");"                                                                                      \
	"CREATE INDEX pending_by_tenant ON pending (tenant_id);"                                  \
	"CREATE INDEX pending_by_expiry ON pending (expires_at);"

/* Version 3: API keys. A user has any number of keys of kind "user" and
 * at most one of kind "device" (the bound mobile device's), whose secret
 * is replaced at each mobile login. Keys go with their user. */
#define SCHEMA_V3(T, I, NR, AUTO_ID) \
	"CREATE TABLE api_keys ("                                                                 \
	"  key " T " PRIMARY KEY NOT NULL,"                                                       \
	"  tenant_id " T " NOT NULL,"                                                             \
	"  user_id " T " NOT NULL,"                                                               \
	"  secret_hash " T " NOT NULL,"                                                           \
	"  kind " T " NOT NULL CHECK (kind IN ('user', 'device')),"                               \
	"  device_id " T ","                                                                      \
	"  created_at " I " NOT NULL,"                                                            \
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE"   \
	");"                                                                                      \
	"CREATE INDEX api_keys_by_user ON api_keys (tenant_id, user_id, created_at);"             \
	"CREATE UNIQUE INDEX api_keys_one_device ON api_keys (tenant_id, user_id)" \
	" WHERE kind = 'device';"

/* Version 4: the token vault. Providers are a tenant's outside
 * authorization servers (settings as JSON text, the one secret sealed);
 * connections hold sealed tokens, the refresh schedule and a lease
 * (lease_owner, lease_until) that serializes refreshes across processes.
 * A connection's name is unique per tenant and owner (NULL owner: the
 * tenant's own), hence the expression index. A provider cannot go while
 * connections use it (the foreign key, checked at the end of each
 * statement, still lets a tenant's deletion cascade to both); a user's
 * connections go with the user. */
#define SCHEMA_V4(T, I, NR, AUTO_ID) \
	"CREATE TABLE vault_providers ("                                                         \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                  \
	"  name " T " NOT NULL,"                                                                 \
	"  kind " T " NOT NULL CHECK (kind IN ('oauth2', 'shopee')),"                            \
	"  config " T " NOT NULL,"                                                               \
	"  sealed_secret " T ","                                                                 \
	"  created_at " I " NOT NULL,"                                                           \
	"  updated_at " I " NOT NULL,"                                                           \
	"  PRIMARY KEY (tenant_id, name)"                                                        \
	")" NR ";"                                                                               \
	                                                                                         \
	"CREATE TABLE vault_connections ("                                                       \
	"  id " T " PRIMARY KEY NOT NULL,"                                                       \
	"  tenant_id " T " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"                  \
	"  provider " T " NOT NULL,"                                                             \
	"  name " T " NOT NULL,"                                                                 \
	"  owner " T ","                                                                         \
	"  created_by " T ","                                                                    \
	"  status " T " NOT NULL CHECK (status IN ('pending', 'active', 'needs_reauth')),"       \
	"  metadata " T " NOT NULL,"                                                             \
	"  access_token " T ","                                                                  \
	"  refresh_token " T ","                                                                 \
	"  issued_at " I " NOT NULL DEFAULT 0,"                                                  \
	"  expires_at " I " NOT NULL DEFAULT 0,"                                                 \
	"  refresh_expires_at " I " NOT NULL DEFAULT 0,"                                         \
	"  next_refresh_at " I " NOT NULL DEFAULT 0,"                                            \
	"  failures " I " NOT NULL DEFAULT 0,"                                                   \
	"  last_error " T ","                                                                    \
	"  expiry_warned INTEGER NOT NULL DEFAULT 0 CHECK (expiry_warned IN (0, 1)),"            \
	"  lease_owner " T ","                                                                   \
	"  lease_until " I " NOT NULL DEFAULT 0,"                                                \
	"  created_at " I " NOT NULL,"                                                           \
	"  updated_at " I " NOT NULL,"                                                           \
	"  FOREIGN KEY (tenant_id, provider) REFERENCES vault_providers (tenant_id, name),"      \
	"  FOREIGN KEY (tenant_id, owner) REFERENCES users (tenant_id, id) ON DELETE CASCADE"    \
	");"                                                                                     \
	"CREATE UNIQUE INDEX vault_connections_by_name"                                          \
	"  ON vault_connections (tenant_id, coalesce(owner, ''), name);"                         \
	"CREATE INDEX vault_connections_by_tenant ON vault_connections (tenant_id, created_at);" \
	"CREATE INDEX vault_connections_by_provider ON vault_connections (tenant_id, provider);" \
	"CREATE INDEX vault_connections_by_owner ON vault_connections (tenant_id, owner);"       \
	"CREATE INDEX vault_connections_due ON vault_connections (next_refresh_at)"              \
	"  WHERE next_refresh_at > 0;"

/* Version 5: throttling shared by every server of the store. A row counts
 * the failures of one key (the hex SHA-256 of "tenant/user:name" and the
 * like, never the name itself) within a window that began at
 * window_start; purge_expired drops windows that have ended. */
#define SCHEMA_V5(T, I, NR, AUTO_ID) \
	"CREATE TABLE throttle ("                                    \
	"  key_hash " T " PRIMARY KEY NOT NULL,"                     \
	"  window_start " I " NOT NULL,"                             \
	"  failures INTEGER NOT NULL,"                               \
	"  last_failure " I " NOT NULL"                              \
	")" NR ";"                                                   \
	"CREATE INDEX throttle_by_start ON throttle (window_start);"

/* Version 7: a group's optional organization, and when and by whom each
 * membership was added (0 and NULL for memberships made before). */
#define SCHEMA_V7(T, I, NR, AUTO_ID) \
	"ALTER TABLE user_groups ADD COLUMN org_id " T ";"                        \
	"ALTER TABLE group_members ADD COLUMN added_at " I " NOT NULL DEFAULT 0;" \
	"ALTER TABLE group_members ADD COLUMN added_by " T ";"

/* Version 6 (PostgreSQL 3): a version per tenant, so that a server reloads
 * only the tenants whose configuration changed. It moves with every write
 * to the tenant's row (the upsert of TS_SQL_TENANT_PUT) and, through
 * triggers, with every insert, update or delete of its clients and keys. A
 * trigger that fires for a tenant being deleted updates nothing. */
#define TOUCH_TENANT(table, ev, row) \
	"CREATE TRIGGER " table "_touch_tenant_" ev " AFTER " ev " ON " table \
	" BEGIN UPDATE tenants SET version = version + 1 WHERE id = " row ".tenant_id; END;"
static const char sqlite_v6[] =
	"ALTER TABLE tenants ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
	TOUCH_TENANT("clients", "INSERT", "NEW")
	TOUCH_TENANT("clients", "UPDATE", "NEW")
	TOUCH_TENANT("clients", "DELETE", "OLD")
	TOUCH_TENANT("keys", "INSERT", "NEW")
	TOUCH_TENANT("keys", "UPDATE", "NEW")
	TOUCH_TENANT("keys", "DELETE", "OLD");
static const char pg_v6[] =
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

/* Version 8: each refresh token issued by a rotation names the token it
 * succeeded (parent_hash), when that token was first rotated (rotated_at,
 * the start of its reuse grace window) and the access token issued with
 * it (access_jti), so that a retried refresh can replace an unused
 * successor. */
#define SCHEMA_V8(T, I, NR, AUTO_ID) \
	"ALTER TABLE refresh_tokens ADD COLUMN parent_hash " T ";"                \
	"ALTER TABLE refresh_tokens ADD COLUMN rotated_at " I " NOT NULL DEFAULT 0;" \
	"ALTER TABLE refresh_tokens ADD COLUMN access_jti " T ";"                 \
	"CREATE INDEX refresh_tokens_by_parent ON refresh_tokens (parent_hash);"

/* Version 9: the key thumbprint an authorization request bound its code
 * to (RFC 9449 §10, dpop_jkt). */
#define SCHEMA_V9(T, I, NR, AUTO_ID) "ALTER TABLE codes ADD COLUMN dpop_jkt " T ";"

#define SQLITE_STEP(v) v(SQ_T, SQ_I, SQ_NR, SQ_AUTO_ID)
#define PG_STEP(v) v(PG_T, PG_I, PG_NR, PG_AUTO_ID)

/* The steps of each dialect, oldest first. Append only. */
static const char *const sqlite_steps[] = {
	SQLITE_STEP(SCHEMA_V1), SQLITE_STEP(SCHEMA_V2), SQLITE_STEP(SCHEMA_V3),
	SQLITE_STEP(SCHEMA_V4), SQLITE_STEP(SCHEMA_V5), sqlite_v6,
	SQLITE_STEP(SCHEMA_V7), SQLITE_STEP(SCHEMA_V8), SQLITE_STEP(SCHEMA_V9),
};
static const char *const pg_steps[] = {
	PG_STEP(SCHEMA_V1) PG_STEP(SCHEMA_V2) PG_STEP(SCHEMA_V3) PG_STEP(SCHEMA_V4),
	PG_STEP(SCHEMA_V5),
	pg_v6,
	PG_STEP(SCHEMA_V7),
	PG_STEP(SCHEMA_V8),
	PG_STEP(SCHEMA_V9),
};

const char *const *ts_schema_steps(enum ts_dialect d, size_t *n)
{
	if (d == TS_DIALECT_PG) {
		*n = TS_ARRAY_LEN(pg_steps);
		return pg_steps;
	}
	*n = TS_ARRAY_LEN(sqlite_steps);
	return sqlite_steps;
}

/* The table that holds the applied version, and its one row. */
static const char version_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  version INTEGER NOT NULL"
	");"
	"INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;";

/* The applied version, read inside the migration's transaction on c. */
static int read_version(const struct ts_drv *d, struct ts_drv_conn *c, int64_t *version)
{
	struct ts_cur cur = {0};
	int rc;

	rc = d->query(c, TS_SQL_SCHEMA_VERSION, NULL, 0, &cur, "reading the schema version");
	if (rc == TS_OK)
		rc = d->next(&cur, "reading the schema version");
	if (rc == TS_OK)
		*version = d->i64(&cur, 0);
	d->done(&cur);
	if (rc == TS_ENOTFOUND)
		ts_log_err("%s: schema_version has no version row", d->ops.name);
	return rc == TS_OK ? TS_OK : TS_ESTORE;
}

/* Applies step i (version i -> i + 1) unless the database is already past
 * it, inside the open transaction on c, which holds the migration lock: a
 * concurrent opener that got there first makes this a no-op. */
static int apply_step(struct ts_store *st, struct ts_drv_conn *c, size_t i, size_t n)
{
	const struct ts_drv *d = st->drv;
	const struct ts_arg a[] = {TS_I64(i + 1)};
	int64_t version = 0;
	int rc;

	if (ts_q_has(st, TS_SQL_MIGRATE_LOCK)) {
		rc = d->exec(c, TS_SQL_MIGRATE_LOCK, NULL, 0, NULL, "taking the migration lock");
		if (rc != TS_OK)
			return TS_ESTORE;
	}
	rc = d->script(c, version_table_sql, "creating schema_version");
	if (rc == TS_OK)
		rc = read_version(d, c, &version);
	if (rc != TS_OK)
		return rc;
	if (version > (int64_t)n) {
		ts_log_err("%s: schema version %lld is newer than this binary's %zu; refusing to use "
			   "it", d->ops.name, (long long)version, n);
		return TS_ESTORE;
	}
	if (version > (int64_t)i)
		return TS_OK;
	if (version < (int64_t)i) {
		/* Steps run in order, so this means a broken schema_version. */
		ts_log_err("%s: schema version %lld found while applying step %zu", d->ops.name,
			   (long long)version, i + 1);
		return TS_ESTORE;
	}
	rc = d->script(c, ts_schema_steps(d->dialect, &n)[i], "migration");
	if (rc == TS_OK)
		rc = d->exec(c, TS_SQL_SCHEMA_VERSION_SET, a, 1, NULL, "recording the schema version");
	if (rc != TS_OK)
		return TS_ESTORE;
	ts_log_info("%s: migrated schema to version %zu", d->ops.name, i + 1);
	return TS_OK;
}

int ts_schema_migrate(struct ts_store *st, struct ts_drv_conn *c)
{
	const struct ts_drv *d = st->drv;
	size_t i, n;
	int rc = TS_OK;

	ts_schema_steps(d->dialect, &n);
	for (i = 0; i < n && rc == TS_OK; i++) {
		rc = d->run(c, TS_TX_BEGIN, "starting a migration");
		if (rc == TS_OK)
			rc = apply_step(st, c, i, n);
		if (rc == TS_OK)
			rc = d->run(c, TS_TX_COMMIT, "committing a migration");
		/* A failed statement may already have ended the transaction. */
		if (rc != TS_OK && d->open(c))
			d->run(c, TS_TX_ROLLBACK, "rolling back a migration");
	}
	return rc;
}
