/* sqlite_sql.c: the SQL text of every statement of the SQLite backend,
 * indexed by enum ts_sq_stmt. All of it is fixed text with bound
 * parameters (?N) only; nothing is ever built from data. The column lists
 * fix the order in which the read_* functions of the operation files take
 * a row apart. */
#include "sqlite_int.h"

#define TENANT_COLS "id, name, config, created_at, updated_at"
/* What reads return: the columns above and the tenant's version. */
#define TENANT_READ_COLS TENANT_COLS ", version"
#define CLIENT_COLS "tenant_id, client_id, config, secret_hash, created_at, updated_at"
#define KEY_COLS \
	"tenant_id, kid, alg, state, public_jwk, sealed_private, created_at, activated_at, " \
	"retired_at"
#define AUDIT_COLS "id, tenant, time, type, actor, subject, request_id, detail"

/* The SQL of every statement, indexed by enum ts_sq_stmt. */
const char *const ts_sq_sql[TS_SQ_COUNT] = {
	[TS_SQ_BEGIN] = "BEGIN IMMEDIATE",
	[TS_SQ_COMMIT] = "COMMIT",
	[TS_SQ_ROLLBACK] = "ROLLBACK",
	/* ts_sq_write_batched runs each job of a batch in a savepoint of its
	 * own, so that one job's failure undoes that job alone. */
	[TS_SQ_SAVEPOINT] = "SAVEPOINT job",
	[TS_SQ_RELEASE] = "RELEASE job",
	[TS_SQ_ROLLBACK_TO] = "ROLLBACK TO job",
	[TS_SQ_GEN_GET] = "SELECT value FROM meta WHERE name = 'generation'",
	[TS_SQ_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE name = 'generation'",

	/* Upsert by name: an existing tenant keeps its id and created_at. A
	 * new name whose id belongs to another tenant fails on the primary
	 * key (TS_EEXIST). */
	[TS_SQ_TENANT_PUT] =
		"INSERT INTO tenants (" TENANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (name) DO UPDATE SET config = excluded.config,"
		" updated_at = excluded.updated_at, version = tenants.version + 1",
	[TS_SQ_TENANT_GET] = "SELECT " TENANT_READ_COLS " FROM tenants WHERE name = ?1",
	[TS_SQ_TENANT_LIST] = "SELECT " TENANT_READ_COLS " FROM tenants ORDER BY name",
	[TS_SQ_TENANT_VERSIONS] = "SELECT id, name, version FROM tenants ORDER BY name",
	/* Everything the tenant owns goes with it (ON DELETE CASCADE). */
	[TS_SQ_TENANT_DELETE] = "DELETE FROM tenants WHERE name = ?1",

	/* A client_put for a tenant id that does not exist fails on the
	 * foreign key (TS_ENOTFOUND); likewise for keys and revocations. */
	[TS_SQ_CLIENT_PUT] =
		"INSERT INTO clients (" CLIENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (tenant_id, client_id) DO UPDATE SET config = excluded.config,"
		" secret_hash = excluded.secret_hash, updated_at = excluded.updated_at",
	[TS_SQ_CLIENT_GET] =
		"SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = ?1 AND client_id = ?2",
	[TS_SQ_CLIENT_LIST] =
		"SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = ?1 ORDER BY client_id",
	[TS_SQ_CLIENT_LIST_ALL] =
		"SELECT " CLIENT_COLS " FROM clients ORDER BY tenant_id, client_id",
	[TS_SQ_CLIENT_DELETE] = "DELETE FROM clients WHERE tenant_id = ?1 AND client_id = ?2",

	[TS_SQ_KEY_PUT] =
		"INSERT INTO keys (" KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT (tenant_id, kid) DO UPDATE SET alg = excluded.alg,"
		" state = excluded.state, public_jwk = excluded.public_jwk,"
		" sealed_private = excluded.sealed_private,"
		" activated_at = excluded.activated_at, retired_at = excluded.retired_at",
	/* kid breaks ties, so the order is total. */
	[TS_SQ_KEY_LIST] =
		"SELECT " KEY_COLS " FROM keys WHERE tenant_id = ?1 ORDER BY created_at, kid",
	[TS_SQ_KEY_LIST_ALL] =
		"SELECT " KEY_COLS " FROM keys ORDER BY tenant_id, created_at, kid",
	[TS_SQ_KEY_DELETE] = "DELETE FROM keys WHERE tenant_id = ?1 AND kid = ?2",

	/* Idempotent; a repeated revocation keeps the later expiry. */
	[TS_SQ_REVOKE_PUT] =
		"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = max(expires_at, excluded.expires_at)",
	[TS_SQ_REVOKE_CHECK] = "SELECT 1 FROM revocations WHERE tenant_id = ?1 AND jti = ?2",
	/* Single use: a second insert of the same id changes nothing. */
	[TS_SQ_JTI_USE] =
		"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (tenant_id, jti) DO NOTHING",
	[TS_SQ_REVOKE_PURGE] = "DELETE FROM revocations WHERE expires_at < ?1",

	[TS_SQ_AUDIT_APPEND] =
		"INSERT INTO audit (tenant, time, type, actor, subject, request_id, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[TS_SQ_AUDIT_QUERY] =
		"SELECT " AUDIT_COLS " FROM audit WHERE tenant = ?1 AND time >= ?2"
		" ORDER BY time DESC, id DESC LIMIT ?3",
	[TS_SQ_AUDIT_QUERY_ALL] =
		"SELECT " AUDIT_COLS " FROM audit WHERE time >= ?1 ORDER BY time DESC, id DESC LIMIT ?2",
};
