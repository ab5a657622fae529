/* sql_table.h: the SQL table, every statement the operations run, as one
 * list read twice: sql.h makes the ids (TS_SQL_<NAME>) of it and sql.c
 * the texts. All of it is fixed text with bound parameters only; nothing
 * is ever built from data. TS_STMT(NAME, text) is one text both dialects
 * run, written in the SQL they share (?N parameters, which the PostgreSQL
 * driver writes $N; CAST(?N AS BIGINT) where PostgreSQL needs a
 * parameter's type); TS_STMT2(NAME, sqlite, pg) is one per dialect where
 * they really differ (SQLite's min/max are PostgreSQL's least/greatest,
 * PostgreSQL's row locks have no SQLite twin), NULL in a dialect that has
 * no use for the statement. Column lists fix the order in which the
 * record descriptors (rec.h) read rows. No include guard: the includer
 * defines TS_STMT and TS_STMT2 first. Private to src/store. */

#ifndef TS_STORE_SQL_COLS
#define TS_STORE_SQL_COLS
#define TENANT_COLS "id, name, config, created_at, updated_at"
#define CLIENT_COLS "tenant_id, client_id, config, secret_hash, created_at, updated_at"
#define KEY_COLS \
	"tenant_id, kid, alg, state, public_jwk, sealed_private, created_at, activated_at, " \
	"retired_at"
#define DUE_TENANT_COLS "t.id, t.name, t.config, t.created_at, t.updated_at, t.version"
/* When a tenant's first algorithm is due: its oldest current key's promotion. */
#define DUE_PROMOTED \
	"(SELECT MIN(o.activated_at) FROM keys o WHERE o.tenant_id = t.id AND o.state = 'current')"
#define PG_ROTATION \
	"COALESCE(CAST(CAST(t.config AS jsonb) ->> 'key_rotation' AS BIGINT), CAST(?3 AS BIGINT))"
#define AUDIT_COLS "id, tenant, time, type, actor, subject, request_id, detail"
#define CODE_COLS \
	"code_hash, tenant_id, client_id, user_id, grant_id, redirect_uri, scope, nonce, " \
	"code_challenge, resource, session_id_hash, dpop_jkt, auth_time, expires_at, used"
#define GRANT_COLS "tenant_id, id, client_id, user_id, scope, auth_time, created_at, revoked"
#define REFRESH_COLS \
	"token_hash, tenant_id, grant_id, client_id, user_id, scope, resource, auth_time, " \
	"issued_at, expires_at, used, revoked, parent_hash, rotated_at, access_jti"
#define USER_COLS \
	"tenant_id, id, username, password_hash, app_password_hash, device_id, profile, " \
	"disabled, created_at, updated_at"
#define USER_COLS_U \
	"u.tenant_id, u.id, u.username, u.password_hash, u.app_password_hash, u.device_id, " \
	"u.profile, u.disabled, u.created_at, u.updated_at"
#define MEMBERS_OF \
	" FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id" \
	" WHERE m.tenant_id = ?1 AND m.group_id = ?2 ORDER BY u.username_lc"
#define GROUP_COLS "tenant_id, id, name, created_at, org_id"
#define APIKEY_COLS "key, tenant_id, user_id, secret_hash, kind, device_id, created_at"
#define PROVIDER_COLS "tenant_id, name, kind, config, sealed_secret, created_at, updated_at"
/* Connection reads join the tenant for its name (column 2). */
#define CONN_COLS_C \
	"c.id, c.tenant_id, t.name, c.provider, c.name, c.owner, c.created_by, c.status, " \
	"c.metadata, c.access_token, c.refresh_token, c.issued_at, c.expires_at, " \
	"c.refresh_expires_at, c.next_refresh_at, c.failures, c.last_error, c.expiry_warned, " \
	"c.lease_owner, c.lease_until, c.created_at, c.updated_at"
#define CONN_FROM " FROM vault_connections c JOIN tenants t ON t.id = c.tenant_id"
/* PostgreSQL sorts text in byte order, as SQLite's BINARY collation. */
#define BYTES " COLLATE \"C\""
#define SESSION_COLS "id_hash, tenant_id, user_id, auth_time, last_seen, expires_at"
/* The database's clock in Unix seconds, for what servers must agree on
 * whatever their own clocks say (leases). */
#define SQ_NOW "CAST(strftime('%s', 'now') AS INTEGER)"
#define PG_NOW "CAST(floor(extract(epoch FROM now())) AS BIGINT)"
/* The throttle window as SQL text. */
#define TEXT_OF(x) #x
#define NUM_TEXT(x) TEXT_OF(x)
#define WINDOW_TEXT NUM_TEXT(TS_STORE_THROTTLE_WINDOW_S)
/* How long a grant with nothing under it is kept (purge_expired). */
#define GRANT_KEEP_TEXT "86400"
#endif

/* ---- configuration ---- */
TS_STMT(GEN_GET, "SELECT value FROM meta WHERE name = 'generation'")
/* Upsert by name: an existing tenant keeps its id and created_at. A
 * new name whose id belongs to another tenant fails on the primary
 * key (TS_EEXIST). */
TS_STMT(TENANT_PUT,
	"INSERT INTO tenants (" TENANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (name) DO UPDATE SET config = excluded.config,"
	" updated_at = excluded.updated_at, version = tenants.version + 1")
/* Reads return the tenant's version too. */
TS_STMT(TENANT_GET, "SELECT " TENANT_COLS ", version FROM tenants WHERE name = ?1")
TS_STMT(TENANT_LIST, "SELECT " TENANT_COLS ", version FROM tenants ORDER BY name")
TS_STMT(TENANT_VERSIONS, "SELECT id, name, version FROM tenants ORDER BY name")
/* Everything the tenant owns goes with it (ON DELETE CASCADE). */
TS_STMT(TENANT_DELETE, "DELETE FROM tenants WHERE name = ?1")
/* A client_put for a tenant id that does not exist fails on the
 * foreign key (TS_ENOTFOUND); likewise for keys and revocations. */
TS_STMT(CLIENT_PUT,
	"INSERT INTO clients (" CLIENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	" ON CONFLICT (tenant_id, client_id) DO UPDATE SET config = excluded.config,"
	" secret_hash = excluded.secret_hash, updated_at = excluded.updated_at")
TS_STMT(CLIENT_GET,
	"SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = ?1 AND client_id = ?2")
TS_STMT(CLIENT_LIST,
	"SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = ?1 ORDER BY client_id")
TS_STMT(CLIENT_LIST_ALL,
	"SELECT " CLIENT_COLS " FROM clients ORDER BY tenant_id, client_id")
TS_STMT(CLIENT_DELETE, "DELETE FROM clients WHERE tenant_id = ?1 AND client_id = ?2")
TS_STMT(KEY_PUT,
	"INSERT INTO keys (" KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	" ON CONFLICT (tenant_id, kid) DO UPDATE SET alg = excluded.alg,"
	" state = excluded.state, public_jwk = excluded.public_jwk,"
	" sealed_private = excluded.sealed_private,"
	" activated_at = excluded.activated_at, retired_at = excluded.retired_at")
/* kid breaks ties, so the order is total. */
TS_STMT(KEY_LIST,
	"SELECT " KEY_COLS " FROM keys WHERE tenant_id = ?1 ORDER BY created_at, kid")
TS_STMT(KEY_LIST_ALL, "SELECT " KEY_COLS " FROM keys ORDER BY tenant_id, created_at, kid")
TS_STMT(KEY_DELETE, "DELETE FROM keys WHERE tenant_id = ?1 AND kid = ?2")

/* ---- the audit log ---- */
TS_STMT(AUDIT_APPEND,
	"INSERT INTO audit (tenant, time, type, actor, subject, request_id, detail)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
TS_STMT(AUDIT_QUERY,
	"SELECT " AUDIT_COLS " FROM audit WHERE tenant = ?1 AND time >= ?2"
	" ORDER BY time DESC, id DESC LIMIT ?3")
TS_STMT(AUDIT_QUERY_ALL,
	"SELECT " AUDIT_COLS " FROM audit WHERE time >= ?1 ORDER BY time DESC, id DESC"
	" LIMIT ?2")

/* ---- sessions, consent, pending state ---- */
/* Upsert by id_hash. A missing user (or tenant) fails on the foreign
 * key: TS_ENOTFOUND. */
TS_STMT(SESSION_PUT,
	"INSERT INTO sessions (" SESSION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	" ON CONFLICT (id_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
	" user_id = excluded.user_id, auth_time = excluded.auth_time,"
	" last_seen = excluded.last_seen, expires_at = excluded.expires_at")
TS_STMT(SESSION_GET, "SELECT " SESSION_COLS " FROM sessions WHERE id_hash = ?1")
/* Concurrent requests may touch out of order: last_seen never goes
 * back, so the idle timeout counts from the latest of them. */
TS_STMT2(SESSION_TOUCH,
	"UPDATE sessions SET last_seen = max(last_seen, ?2) WHERE id_hash = ?1",
	"UPDATE sessions SET last_seen = greatest(last_seen, CAST(?2 AS BIGINT))"
	" WHERE id_hash = ?1")
TS_STMT(SESSION_DELETE, "DELETE FROM sessions WHERE id_hash = ?1")
TS_STMT(SESSION_DELETE_USER, "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2")
TS_STMT(CONSENT_GET,
	"SELECT scope FROM consents WHERE tenant_id = ?1 AND user_id = ?2"
	" AND client_id = ?3")
/* A missing user fails on the foreign key (TS_ENOTFOUND). */
TS_STMT(CONSENT_PUT,
	"INSERT INTO consents (tenant_id, user_id, client_id, scope)"
	" VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scope = excluded.scope")
TS_STMT(PENDING_PUT,
	"INSERT INTO pending (id_hash, tenant_id, kind, data, expires_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (id_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
	" kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at")
TS_STMT(PENDING_GET,
	"SELECT tenant_id, kind, data, expires_at FROM pending WHERE id_hash = ?1")
/* TS_ENOTFOUND when it deletes nothing, so that of two callers
 * consuming the same state only one sees TS_OK. */
TS_STMT(PENDING_DELETE, "DELETE FROM pending WHERE id_hash = ?1")
/* Compare and swap, in one conditional UPDATE. */
TS_STMT(PENDING_UPDATE,
	"UPDATE pending SET data = ?3"
	" WHERE id_hash = ?1 AND (CAST(?2 AS TEXT) IS NULL OR data = ?2)")

/* purge_expired: "before now", as for revocations; a throttle window
 * that started a whole window or more before now has ended. */
TS_STMT(PURGE_SESSIONS, "DELETE FROM sessions WHERE expires_at < ?1")
TS_STMT(PURGE_CODES, "DELETE FROM codes WHERE expires_at < ?1")
/* A lease goes only once it has ended by the database's clock, so a
 * server whose clock runs ahead cannot purge a live one. */
TS_STMT2(PURGE_PENDING,
	"DELETE FROM pending WHERE expires_at < ?1 AND (kind <> 'lease' OR expires_at < " SQ_NOW ")",
	"DELETE FROM pending WHERE expires_at < ?1 AND (kind <> 'lease' OR expires_at < " PG_NOW ")")
TS_STMT(PURGE_REVOCATIONS, "DELETE FROM revocations WHERE expires_at < ?1")
TS_STMT(PURGE_REFRESH, "DELETE FROM refresh_tokens WHERE expires_at < ?1")
TS_STMT(PURGE_GRANT_TOKENS, "DELETE FROM grant_tokens WHERE expires_at < ?1")
/* A grant that nothing is issued under any more (no access-token record,
 * refresh token or code left) goes a day after it was made: long after a
 * device approval made with it was polled or expired. */
TS_STMT(PURGE_GRANTS,
	"DELETE FROM grants WHERE created_at < CAST(?1 AS BIGINT) - " GRANT_KEEP_TEXT
	" AND NOT EXISTS (SELECT 1 FROM grant_tokens t"
	" WHERE t.tenant_id = grants.tenant_id AND t.grant_id = grants.id)"
	" AND NOT EXISTS (SELECT 1 FROM refresh_tokens r"
	" WHERE r.tenant_id = grants.tenant_id AND r.grant_id = grants.id)"
	" AND NOT EXISTS (SELECT 1 FROM codes c"
	" WHERE c.tenant_id = grants.tenant_id AND c.grant_id = grants.id)")
TS_STMT(PURGE_THROTTLE,
	"DELETE FROM throttle WHERE window_start <= CAST(?1 AS BIGINT) - " WINDOW_TEXT)

/* ---- shared throttling ---- */
TS_STMT(THROTTLE_GET,
	"SELECT window_start, failures, last_failure FROM throttle WHERE key_hash = ?1")
/* A failure is one upsert: concurrent failures from any number of
 * servers serialize on the row. Within the live window
 * (?2 < window_start + ?3) it counts up to ?4, else a new window
 * starts at ?2. */
TS_STMT2(THROTTLE_FAIL,
	"INSERT INTO throttle (key_hash, window_start, failures, last_failure)"
	" VALUES (?1, ?2, 1, ?2)"
	" ON CONFLICT (key_hash) DO UPDATE SET"
	" failures = CASE WHEN ?2 < window_start + ?3 THEN min(failures + 1, ?4) ELSE 1 END,"
	" last_failure = CASE WHEN ?2 < window_start + ?3 THEN max(last_failure, ?2)"
	" ELSE ?2 END,"
	" window_start = CASE WHEN ?2 < window_start + ?3 THEN window_start ELSE ?2 END",
	"INSERT INTO throttle AS t (key_hash, window_start, failures, last_failure)"
	" VALUES (?1, ?2::bigint, 1, ?2::bigint)"
	" ON CONFLICT (key_hash) DO UPDATE SET"
	" failures = CASE WHEN ?2::bigint < t.window_start + ?3::bigint"
	" THEN least(t.failures + 1, ?4::integer) ELSE 1 END,"
	" last_failure = CASE WHEN ?2::bigint < t.window_start + ?3::bigint"
	" THEN greatest(t.last_failure, ?2::bigint) ELSE ?2::bigint END,"
	" window_start = CASE WHEN ?2::bigint < t.window_start + ?3::bigint"
	" THEN t.window_start ELSE ?2::bigint END")
TS_STMT(THROTTLE_RESET, "DELETE FROM throttle WHERE key_hash = ?1")
/* A reservation decided on a read: the row is written only if it is
 * still what was read (or still absent). */
TS_STMT(THROTTLE_CAS_NEW,
	"INSERT INTO throttle (key_hash, window_start, failures, last_failure)"
	" VALUES (?1, CAST(?2 AS BIGINT), CAST(?3 AS INTEGER), CAST(?4 AS BIGINT))"
	" ON CONFLICT (key_hash) DO NOTHING")
TS_STMT(THROTTLE_CAS,
	"UPDATE throttle SET window_start = CAST(?5 AS BIGINT),"
	" failures = CAST(?6 AS INTEGER), last_failure = CAST(?7 AS BIGINT)"
	" WHERE key_hash = ?1 AND window_start = CAST(?2 AS BIGINT)"
	" AND failures = CAST(?3 AS INTEGER) AND last_failure = CAST(?4 AS BIGINT)")

/* ---- authorization codes, grants, refresh tokens ---- */
/* A new code is unused whatever the record says. */
TS_STMT(CODE_PUT,
	"INSERT INTO codes (" CODE_COLS ")"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0)")
/* RFC 6749 §4.1.2: single use. Of concurrent takers, only the first
 * to run this changes the row; the others find used = 1. */
TS_STMT(CODE_TAKE,
	"UPDATE codes SET used = 1 WHERE code_hash = ?1 AND used = 0 RETURNING " CODE_COLS)
/* Once CODE_TAKE changed nothing: the code under a row lock (SQLite's
 * write lock is held already), to tell a replay from an unknown code
 * or, on PostgreSQL, to find one committed after its snapshot. */
TS_STMT2(CODE_LOCK,
	"SELECT " CODE_COLS " FROM codes WHERE code_hash = ?1",
	"SELECT " CODE_COLS " FROM codes WHERE code_hash = ?1 FOR UPDATE")
TS_STMT(CODE_USE, "UPDATE codes SET used = 1 WHERE code_hash = ?1 AND used = 0")

/* Upsert by (tenant_id, id); a revoked grant stays revoked. The client
 * and user of a grant never change: a put naming others changes no
 * row, which the caller reports as TS_EEXIST. */
TS_STMT2(GRANT_PUT,
	"INSERT INTO grants (" GRANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	" ON CONFLICT (tenant_id, id) DO UPDATE SET scope = excluded.scope,"
	" auth_time = excluded.auth_time, revoked = max(revoked, excluded.revoked)"
	" WHERE client_id = excluded.client_id AND user_id IS excluded.user_id",
	"INSERT INTO grants (" GRANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	" ON CONFLICT (tenant_id, id) DO UPDATE SET scope = excluded.scope,"
	" auth_time = excluded.auth_time,"
	" revoked = greatest(grants.revoked, excluded.revoked)"
	" WHERE grants.client_id = excluded.client_id"
	" AND grants.user_id IS NOT DISTINCT FROM excluded.user_id")
TS_STMT(GRANT_GET, "SELECT " GRANT_COLS " FROM grants WHERE tenant_id = ?1 AND id = ?2")
/* Whether a grant is revoked, read by every write that issues under
 * it. On PostgreSQL it takes a share lock, held until the transaction
 * ends, that grant_revoke's UPDATE must wait for: under READ
 * COMMITTED an issuance and a revocation running side by side could
 * otherwise each miss the other's rows. SQLite's write lock already
 * keeps them apart. */
TS_STMT2(GRANT_LOCK,
	"SELECT revoked FROM grants WHERE tenant_id = ?1 AND id = ?2",
	"SELECT revoked FROM grants WHERE tenant_id = ?1 AND id = ?2 FOR SHARE")
TS_STMT2(GRANT_TOKEN_ADD,
	"INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
	" VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
	" expires_at = max(expires_at, excluded.expires_at)",
	"INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
	" VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
	" expires_at = greatest(grant_tokens.expires_at, excluded.expires_at)")
/* grant_revoke, in this order: the grant's row first, which on
 * PostgreSQL waits for the issuers holding GRANT_LOCK. */
TS_STMT(GRANT_REVOKE, "UPDATE grants SET revoked = 1 WHERE tenant_id = ?1 AND id = ?2")
TS_STMT(GRANT_REVOKE_REFRESH,
	"UPDATE refresh_tokens SET revoked = 1"
	" WHERE tenant_id = ?1 AND grant_id = ?2 AND revoked = 0")
/* A code not yet redeemed can no longer be (code_take: TS_ECONFLICT). */
TS_STMT(GRANT_REVOKE_CODES,
	"UPDATE codes SET used = 1 WHERE tenant_id = ?1 AND grant_id = ?2 AND used = 0")
/* As revoke_put for each recorded jti, keeping its expiry. */
TS_STMT2(GRANT_DENY_TOKENS,
	"INSERT INTO revocations (tenant_id, jti, expires_at)"
	" SELECT tenant_id, jti, expires_at FROM grant_tokens"
	" WHERE tenant_id = ?1 AND grant_id = ?2"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = max(expires_at, excluded.expires_at)",
	"INSERT INTO revocations (tenant_id, jti, expires_at)"
	" SELECT tenant_id, jti, expires_at FROM grant_tokens"
	" WHERE tenant_id = ?1 AND grant_id = ?2"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = greatest(revocations.expires_at, excluded.expires_at)")

/* A missing grant or user fails on a foreign key (TS_ENOTFOUND), a
 * stored hash on the primary key (TS_EEXIST). */
TS_STMT(REFRESH_PUT,
	"INSERT INTO refresh_tokens (" REFRESH_COLS ")"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")
TS_STMT(REFRESH_GET, "SELECT " REFRESH_COLS " FROM refresh_tokens WHERE token_hash = ?1")
/* RFC 9700 §4.14.2: spends the token only if it is unused, unrevoked
 * and of the successor's tenant, grant and client: of concurrent
 * rotations exactly one changes the row. PostgreSQL compares the three
 * as REFRESH_ROTATE_ONE does, so that its plan finds the token by its
 * key alone. */
TS_STMT2(REFRESH_SPEND,
	"UPDATE refresh_tokens SET used = 1"
	" WHERE token_hash = ?1 AND used = 0 AND revoked = 0"
	" AND tenant_id = ?2 AND grant_id = ?3 AND client_id = ?4",
	"UPDATE refresh_tokens SET used = 1"
	" WHERE token_hash = ?1 AND used = 0 AND revoked = 0"
	" AND (tenant_id, grant_id, client_id) IS NOT DISTINCT FROM (?2, ?3, ?4)")
/* Once REFRESH_SPEND changed nothing: why (under a row lock on
 * PostgreSQL, where a token committed after its snapshot may still be
 * rotated). */
TS_STMT2(REFRESH_STATE,
	"SELECT tenant_id, grant_id, client_id, used, revoked FROM refresh_tokens"
	" WHERE token_hash = ?1",
	"SELECT tenant_id, grant_id, client_id, used, revoked FROM refresh_tokens"
	" WHERE token_hash = ?1 FOR UPDATE")
TS_STMT(REFRESH_USE,
	"UPDATE refresh_tokens SET used = 1"
	" WHERE token_hash = ?1 AND used = 0 AND revoked = 0")
/* PostgreSQL's usual rotation in one statement, so one round trip in
 * autocommit: share-lock the grant (first, as GRANT_LOCK), spend the
 * old token as REFRESH_SPEND, and only if that changed a row insert
 * the successor (revoked if the grant is) and, with a jti (?14),
 * record the access token under the grant (denied at once if the
 * grant is revoked). Data-modifying WITH clauses run exactly once and
 * see one snapshot; a failing insert fails the statement and changes
 * nothing. SQLite has no data-modifying WITH: its rotation is a
 * batched job of single statements. The old token's tenant, grant and
 * client are compared with IS NOT DISTINCT FROM (the same as = on
 * these NOT NULL columns), which no index serves: a plan made without
 * the values then finds the token by its key alone, never by the
 * index of its tenant or grant, whose rows grow with every rotation. */
TS_STMT2(REFRESH_ROTATE_ONE,
	NULL,
	"WITH g AS ("
	"  SELECT revoked FROM grants WHERE tenant_id = ?2 AND id = ?3 FOR SHARE"
	"), spent AS ("
	"  UPDATE refresh_tokens SET used = 1"
	"  WHERE token_hash = ?1 AND used = 0 AND revoked = 0"
	"  AND (tenant_id, grant_id, client_id) IS NOT DISTINCT FROM (?2, ?3, ?4)"
	"  AND EXISTS (SELECT 1 FROM g)"
	"  RETURNING 1"
	"), ins AS ("
	"  INSERT INTO refresh_tokens (" REFRESH_COLS ")"
	"  SELECT ?5, ?2, ?3, ?4, ?6, ?7, ?8, ?9::bigint, ?10::bigint, ?11::bigint,"
	"   ?12::integer, greatest(?13::integer, g.revoked), ?1, ?10::bigint, ?14"
	"  FROM spent, g"
	"  RETURNING 1"
	"), tok AS ("
	"  INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
	"  SELECT ?2, ?3, ?14, ?15::bigint FROM ins WHERE ?14::text IS NOT NULL"
	"  ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
	"  expires_at = greatest(grant_tokens.expires_at, excluded.expires_at)"
	"  RETURNING 1"
	"), deny AS ("
	"  INSERT INTO revocations (tenant_id, jti, expires_at)"
	"  SELECT ?2, ?14, ?15::bigint FROM tok, g WHERE g.revoked = 1"
	"  ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	"  expires_at = greatest(revocations.expires_at, excluded.expires_at)"
	")"
	" SELECT count(*) FROM ins")

/* ---- users, groups, memberships, API keys ---- */
/* Upsert by (tenant_id, id): an existing user keeps created_at. A
 * username (case folded, ?4) held by another user of the tenant fails
 * on the unique index (TS_EEXIST), a missing tenant on the foreign key
 * (TS_ENOTFOUND). Never delete and insert again: the delete would
 * cascade to the user's sessions and grants. */
TS_STMT(USER_PUT,
	"INSERT INTO users (tenant_id, id, username, username_lc, password_hash,"
	" app_password_hash, device_id, profile, disabled, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	" ON CONFLICT (tenant_id, id) DO UPDATE SET username = excluded.username,"
	" username_lc = excluded.username_lc, password_hash = excluded.password_hash,"
	" app_password_hash = excluded.app_password_hash,"
	" device_id = excluded.device_id, profile = excluded.profile,"
	" disabled = excluded.disabled, updated_at = excluded.updated_at")
TS_STMT(USER_GET, "SELECT " USER_COLS " FROM users WHERE tenant_id = ?1 AND id = ?2")
/* One conditional UPDATE: of concurrent first logins, on any number
 * of servers, exactly one binds. */
TS_STMT(USER_BIND_DEVICE,
	"UPDATE users SET device_id = ?3, updated_at = CAST(?4 AS BIGINT)"
	" WHERE tenant_id = ?1 AND id = ?2 AND device_id IS NULL")
/* Only while the stored hash is still the one just checked. */
TS_STMT(USER_REHASH,
	"UPDATE users SET password_hash = ?4, updated_at = CAST(?5 AS BIGINT)"
	" WHERE tenant_id = ?1 AND id = ?2 AND password_hash = ?3")
/* ?2 is the username already folded to lower case. */
TS_STMT(USER_FIND,
	"SELECT " USER_COLS " FROM users WHERE tenant_id = ?1 AND username_lc = ?2")
TS_STMT(USER_LIST,
	"SELECT " USER_COLS " FROM users WHERE tenant_id = ?1 ORDER BY username_lc")
/* user_delete on PostgreSQL locks the user's grants, then the user,
 * then the grants again, FOR UPDATE. Recording an access token under
 * a grant takes a key-share lock on the grant, and inserting a grant
 * one on its user; FOR UPDATE excludes both. Once these are held,
 * every token recorded under the user's grants is committed and
 * visible to the denial, and no new one can be recorded before the
 * user is gone. The first pass waits out writers already holding a
 * grant (a refresh token insert locks its grant, then its user)
 * rather than deadlocking with them; the last takes the grants
 * created before the user's row was locked. SQLite's write lock
 * already excludes them all. */
TS_STMT2(USER_LOCK_GRANTS,
	NULL,
	"SELECT 1 FROM grants WHERE tenant_id = ?1 AND user_id = ?2 FOR UPDATE")
TS_STMT2(USER_LOCK, NULL, "SELECT 1 FROM users WHERE tenant_id = ?1 AND id = ?2 FOR UPDATE")
/* Before a user goes, the access tokens recorded with their grants
 * are denied (as revoke_put, keeping the later expiry): the
 * revocations outlive the cascade. PostgreSQL refuses an upsert that
 * meets the same row twice, and a jti may be recorded under two of
 * the user's grants: one row per jti there. */
TS_STMT2(USER_DENY_TOKENS,
	"INSERT INTO revocations (tenant_id, jti, expires_at)"
	" SELECT t.tenant_id, t.jti, t.expires_at FROM grants g"
	" JOIN grant_tokens t ON t.tenant_id = g.tenant_id AND t.grant_id = g.id"
	" WHERE g.tenant_id = ?1 AND g.user_id = ?2"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = max(expires_at, excluded.expires_at)",
	"INSERT INTO revocations (tenant_id, jti, expires_at)"
	" SELECT t.tenant_id, t.jti, max(t.expires_at) FROM grants g"
	" JOIN grant_tokens t ON t.tenant_id = g.tenant_id AND t.grant_id = g.id"
	" WHERE g.tenant_id = ?1 AND g.user_id = ?2"
	" GROUP BY t.tenant_id, t.jti"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = greatest(revocations.expires_at, excluded.expires_at)")
/* Sessions, memberships, consents, codes, grants (with their token
 * records), refresh tokens and API keys go with it (ON DELETE
 * CASCADE). */
TS_STMT(USER_DELETE, "DELETE FROM users WHERE tenant_id = ?1 AND id = ?2")

/* Upsert by (tenant_id, id), keeping created_at; a name held by
 * another group of the tenant is TS_EEXIST. */
TS_STMT(GROUP_PUT,
	"INSERT INTO user_groups (" GROUP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name,"
	" org_id = excluded.org_id")
TS_STMT(GROUP_GET,
	"SELECT " GROUP_COLS " FROM user_groups WHERE tenant_id = ?1 AND id = ?2")
TS_STMT(GROUP_FIND,
	"SELECT " GROUP_COLS " FROM user_groups WHERE tenant_id = ?1 AND name = ?2")
TS_STMT(GROUP_LIST,
	"SELECT " GROUP_COLS " FROM user_groups WHERE tenant_id = ?1 ORDER BY name")
/* Memberships go with the group (ON DELETE CASCADE). */
TS_STMT(GROUP_DELETE, "DELETE FROM user_groups WHERE tenant_id = ?1 AND id = ?2")
/* Idempotent, keeping the first added_at and added_by; a missing
 * group or user fails on a foreign key (TS_ENOTFOUND). */
TS_STMT(MEMBER_ADD,
	"INSERT INTO group_members (tenant_id, group_id, user_id, added_at, added_by)"
	" VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (tenant_id, group_id, user_id) DO NOTHING")
TS_STMT(MEMBER_REMOVE,
	"DELETE FROM group_members WHERE tenant_id = ?1 AND group_id = ?2"
	" AND user_id = ?3")
TS_STMT(MEMBER_LIST, "SELECT " USER_COLS_U MEMBERS_OF)
TS_STMT(MEMBER_CHECK,
	"SELECT 1 FROM group_members WHERE tenant_id = ?1 AND group_id = ?2"
	" AND user_id = ?3")
TS_STMT(MEMBER_RECORDS, "SELECT " USER_COLS_U ", m.added_at, m.added_by" MEMBERS_OF)
/* Replacing a key keeps its owner: a put naming another tenant or
 * user for an existing key touches no row (TS_EEXIST). A second
 * device key of a user fails on the partial unique index (TS_EEXIST),
 * a missing user on the foreign key (TS_ENOTFOUND). */
TS_STMT(APIKEY_PUT,
	"INSERT INTO api_keys (" APIKEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	" ON CONFLICT (key) DO UPDATE SET secret_hash = excluded.secret_hash,"
	" device_id = excluded.device_id"
	" WHERE api_keys.tenant_id = excluded.tenant_id AND api_keys.user_id = excluded.user_id")
TS_STMT(APIKEY_GET, "SELECT " APIKEY_COLS " FROM api_keys WHERE key = ?1")
TS_STMT(APIKEY_FIND_DEVICE,
	"SELECT " APIKEY_COLS " FROM api_keys"
	" WHERE tenant_id = ?1 AND user_id = ?2 AND kind = 'device'")
/* Oldest first; the key breaks ties. */
TS_STMT(APIKEY_LIST,
	"SELECT " APIKEY_COLS " FROM api_keys WHERE tenant_id = ?1 AND user_id = ?2"
	" ORDER BY created_at, key")
TS_STMT(APIKEY_DELETE, "DELETE FROM api_keys WHERE tenant_id = ?1 AND key = ?2")
TS_STMT(APIKEY_DELETE_USER, "DELETE FROM api_keys WHERE tenant_id = ?1 AND user_id = ?2")

/* ---- the token vault ---- */
/* An existing provider keeps its created_at. A missing tenant fails
 * on the foreign key (TS_ENOTFOUND). */
TS_STMT(PROVIDER_PUT,
	"INSERT INTO vault_providers (" PROVIDER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	" ON CONFLICT (tenant_id, name) DO UPDATE SET kind = excluded.kind,"
	" config = excluded.config, sealed_secret = excluded.sealed_secret,"
	" updated_at = excluded.updated_at")
TS_STMT(PROVIDER_GET,
	"SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = ?1 AND name = ?2")
TS_STMT2(PROVIDER_LIST,
	"SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = ?1"
	" ORDER BY name",
	"SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = ?1"
	" ORDER BY name" BYTES)
TS_STMT2(PROVIDER_LIST_ALL,
	"SELECT " PROVIDER_COLS " FROM vault_providers ORDER BY tenant_id, name",
	"SELECT " PROVIDER_COLS " FROM vault_providers"
	" ORDER BY tenant_id" BYTES ", name" BYTES)
/* provider_delete locks the provider first. On PostgreSQL FOR UPDATE
 * conflicts with the key-share lock a connection insert's foreign-key
 * check takes, so an insert under way has committed before the count
 * is read, and a later one waits and then finds the provider gone. */
TS_STMT2(PROVIDER_LOCK,
	"SELECT 1 FROM vault_providers WHERE tenant_id = ?1 AND name = ?2",
	"SELECT 1 FROM vault_providers WHERE tenant_id = ?1 AND name = ?2 FOR UPDATE")
TS_STMT(PROVIDER_IN_USE,
	"SELECT count(*) FROM vault_connections WHERE tenant_id = ?1 AND provider = ?2")
TS_STMT(PROVIDER_DELETE, "DELETE FROM vault_providers WHERE tenant_id = ?1 AND name = ?2")
/* Re-sealing under a new master key: compare and swap, so a secret
 * changed meanwhile is left alone. */
TS_STMT(PROVIDER_RESEAL,
	"UPDATE vault_providers SET sealed_secret = ?4"
	" WHERE tenant_id = ?1 AND name = ?2 AND sealed_secret = ?3")
TS_STMT(KEY_RESEAL,
	"UPDATE keys SET sealed_private = ?4"
	" WHERE tenant_id = ?1 AND kid = ?2 AND sealed_private = ?3")
/* The lease starts free (the columns' defaults). A taken id, or name
 * for the tenant and owner (the unique index on coalesce(owner, '')),
 * is TS_EEXIST; a missing tenant, provider or owner fails on a
 * foreign key (TS_ENOTFOUND). */
TS_STMT(CONN_INSERT,
	"INSERT INTO vault_connections (id, tenant_id, provider, name, owner, created_by,"
	" status, metadata, access_token, refresh_token, issued_at, expires_at,"
	" refresh_expires_at, next_refresh_at, failures, last_error, expiry_warned,"
	" created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	" ?18, ?19)")
TS_STMT(CONN_GET, "SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = ?1 AND c.id = ?2")
/* A NULL owner names the tenant's own connections, as in the unique
 * index on (tenant_id, coalesce(owner, ''), name). */
TS_STMT(CONN_FIND,
	"SELECT " CONN_COLS_C CONN_FROM
	" WHERE c.tenant_id = ?1 AND coalesce(c.owner, '') = coalesce(CAST(?2 AS TEXT), '')"
	" AND c.name = ?3")
TS_STMT2(CONN_LIST,
	"SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = ?1"
	" ORDER BY c.created_at, c.id",
	"SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = ?1"
	" ORDER BY c.created_at, c.id" BYTES)
TS_STMT2(CONN_LIST_ALL,
	"SELECT " CONN_COLS_C CONN_FROM " ORDER BY c.tenant_id, c.created_at, c.id",
	"SELECT " CONN_COLS_C CONN_FROM
	" ORDER BY c.tenant_id" BYTES ", c.created_at, c.id" BYTES)
/* Due: next_refresh_at set and reached, and the lease free or ended
 * before now. */
TS_STMT(CONN_DUE,
	"SELECT " CONN_COLS_C CONN_FROM
	" WHERE c.next_refresh_at > 0 AND c.next_refresh_at <= ?1"
	" AND (c.lease_owner IS NULL OR c.lease_until < ?1)"
	" ORDER BY c.next_refresh_at LIMIT ?2")
TS_STMT(CONN_EXISTS, "SELECT 1 FROM vault_connections WHERE tenant_id = ?1 AND id = ?2")
/* The lease: one conditional UPDATE, so exactly one taker wins. */
TS_STMT(CONN_LEASE,
	"UPDATE vault_connections SET lease_owner = ?3, lease_until = ?4"
	" WHERE tenant_id = ?1 AND id = ?2 AND (lease_owner IS NULL OR lease_until < ?5)")
/* Fenced by the lease: a holder that lost it writes nothing. */
TS_STMT(CONN_SAVE,
	"UPDATE vault_connections SET status = ?3, metadata = ?4, access_token = ?5,"
	" refresh_token = ?6, issued_at = ?7, expires_at = ?8, refresh_expires_at = ?9,"
	" next_refresh_at = ?10, failures = ?11, last_error = ?12, expiry_warned = ?13,"
	" updated_at = ?14, lease_owner = NULL, lease_until = 0"
	" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?15")
TS_STMT(CONN_RELEASE,
	"UPDATE vault_connections SET lease_owner = NULL, lease_until = 0"
	" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3")
TS_STMT(CONN_DELETE, "DELETE FROM vault_connections WHERE tenant_id = ?1 AND id = ?2")

/* ---- revocations ---- */
/* Idempotent; a repeated revocation keeps the later expiry. */
TS_STMT2(REVOKE_PUT,
	"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = max(expires_at, excluded.expires_at)",
	"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = greatest(revocations.expires_at, excluded.expires_at)")
TS_STMT(REVOKE_CHECK, "SELECT 1 FROM revocations WHERE tenant_id = ?1 AND jti = ?2")
/* Single use: a second insert of the same id changes nothing. */
TS_STMT(JTI_USE,
	"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (tenant_id, jti) DO NOTHING")

/* A rotated token (?1) presented again inside its grace window (the
 * first rotation at or after ?5): revokes its successor only if that
 * was never used, in one conditional UPDATE, so that of concurrent
 * retries exactly one replaces it. */
TS_STMT(REFRESH_REGRACE,
	"UPDATE refresh_tokens SET revoked = 1"
	" WHERE parent_hash = ?1 AND tenant_id = ?2 AND grant_id = ?3 AND client_id = ?4"
	" AND used = 0 AND revoked = 0 AND rotated_at >= ?5"
	" RETURNING access_jti, rotated_at")
/* The access token issued with a replaced successor, as revoke_put. */
TS_STMT2(REFRESH_DENY_JTI,
	"INSERT INTO revocations (tenant_id, jti, expires_at)"
	" SELECT tenant_id, jti, expires_at FROM grant_tokens"
	" WHERE tenant_id = ?1 AND grant_id = ?2 AND jti = ?3"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = max(expires_at, excluded.expires_at)",
	"INSERT INTO revocations (tenant_id, jti, expires_at)"
	" SELECT tenant_id, jti, expires_at FROM grant_tokens"
	" WHERE tenant_id = ?1 AND grant_id = ?2 AND jti = ?3"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = greatest(revocations.expires_at, excluded.expires_at)")
/* Once REFRESH_REGRACE changed nothing: whether a successor of ?1 was
 * used, whether one is live inside the window (a concurrent retry
 * replaced it first), and whether ?1 itself was replaced by a retry
 * (revoked, never used) while it was being rotated. */
TS_STMT(REFRESH_CHILDREN,
	"SELECT COALESCE(MAX(used), 0),"
	" COALESCE(MAX(CASE WHEN used = 0 AND revoked = 0 AND rotated_at >= ?2"
	" THEN 1 ELSE 0 END), 0),"
	" (SELECT COUNT(*) FROM refresh_tokens r"
	"  WHERE r.token_hash = ?1 AND r.used = 0 AND r.revoked = 1)"
	" FROM refresh_tokens WHERE parent_hash = ?1")
TS_STMT2(CONN_OWNED,
	"SELECT " CONN_COLS_C CONN_FROM
	" WHERE c.tenant_id = ?1 AND c.owner = ?2 AND c.provider = ?3"
	" ORDER BY c.created_at, c.id",
	"SELECT " CONN_COLS_C CONN_FROM
	" WHERE c.tenant_id = ?1 AND c.owner = ?2 AND c.provider = ?3"
	" ORDER BY c.created_at, c.id" BYTES)
/* A refresh token with what its grant reads next, in one round trip:
 * its user, and the pending state whose id is ?2 followed by its
 * grant id (NULL ?2: none). */
TS_STMT(REFRESH_LOAD,
	"SELECT r.token_hash, r.tenant_id, r.grant_id, r.client_id, r.user_id, r.scope,"
	" r.resource, r.auth_time, r.issued_at, r.expires_at, r.used, r.revoked,"
	" r.parent_hash, r.rotated_at, r.access_jti, " USER_COLS_U ","
	" p.tenant_id, p.data, p.expires_at FROM refresh_tokens r"
	" LEFT JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id"
	" LEFT JOIN pending p ON p.id_hash = CAST(?2 AS TEXT) || r.grant_id"
	" WHERE r.token_hash = ?1")

/* ---- migrations (schema.c) ---- */
/* Servers starting together on one PostgreSQL database migrate one
 * after the other, under this transaction-level advisory lock
 * ("tessera\1"); on SQLite the IMMEDIATE transaction's write lock
 * does it. */
TS_STMT2(MIGRATE_LOCK, NULL, "SELECT pg_advisory_xact_lock(8387236820507844865)")
TS_STMT(SCHEMA_VERSION, "SELECT version FROM schema_version WHERE id = 1")
TS_STMT(SCHEMA_VERSION_SET,
	"UPDATE schema_version SET version = CAST(?1 AS INTEGER) WHERE id = 1")
/* Tenants with an algorithm whose current key was promoted a whole
 * key_rotation (?3 where the configuration has none) or more before
 * ?1 and whose next key was published at ?2 or before: one query for
 * every tenant, whatever their number, the most overdue first. */
TS_STMT2(KEY_ROTATION_DUE,
	"SELECT " DUE_TENANT_COLS " FROM tenants t"
	" WHERE COALESCE(json_extract(t.config, '$.key_rotation'), ?3) > 0"
	" AND EXISTS (SELECT 1 FROM keys c JOIN keys n ON n.tenant_id = c.tenant_id"
	"  AND n.alg = c.alg AND n.state = 'next'"
	"  WHERE c.tenant_id = t.id AND c.state = 'current' AND n.created_at <= ?2"
	"  AND c.activated_at + COALESCE(json_extract(t.config, '$.key_rotation'), ?3)"
	"  <= ?1)"
	" ORDER BY " DUE_PROMOTED " + COALESCE(json_extract(t.config, '$.key_rotation'), ?3),"
	" t.id LIMIT ?4",
	"SELECT " DUE_TENANT_COLS " FROM tenants t"
	" WHERE " PG_ROTATION " > 0"
	" AND EXISTS (SELECT 1 FROM keys c JOIN keys n ON n.tenant_id = c.tenant_id"
	"  AND n.alg = c.alg AND n.state = 'next'"
	"  WHERE c.tenant_id = t.id AND c.state = 'current'"
	"  AND n.created_at <= CAST(?2 AS BIGINT)"
	"  AND c.activated_at + " PG_ROTATION " <= CAST(?1 AS BIGINT))"
	" ORDER BY " DUE_PROMOTED " + " PG_ROTATION ", t.id LIMIT ?4")
/* A lease is a pending row of kind 'lease': taken for ?4 seconds when
 * absent or ended, in one statement, so exactly one taker wins. Its
 * time is the database's clock, never a server's, so servers whose
 * clocks disagree still see one holder. */
TS_STMT2(LEASE_TAKE,
	"INSERT INTO pending (id_hash, tenant_id, kind, data, expires_at)"
	" VALUES (?1, ?2, 'lease', ?3, " SQ_NOW " + ?4)"
	" ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data,"
	" expires_at = excluded.expires_at"
	" WHERE pending.kind = 'lease' AND pending.expires_at <= " SQ_NOW,
	"INSERT INTO pending (id_hash, tenant_id, kind, data, expires_at)"
	" VALUES (?1, ?2, 'lease', ?3, " PG_NOW " + CAST(?4 AS BIGINT))"
	" ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data,"
	" expires_at = excluded.expires_at"
	" WHERE pending.kind = 'lease' AND pending.expires_at <= " PG_NOW)
TS_STMT(LEASE_RELEASE,
	"DELETE FROM pending WHERE id_hash = ?1 AND kind = 'lease' AND data = ?2")
/* A rotation's steps change a key only from the state it read, and
 * never its key material (a re-seal may have replaced it since). */
TS_STMT(KEY_SET_STATE,
	"UPDATE keys SET state = ?4, activated_at = CAST(?5 AS BIGINT),"
	" retired_at = CAST(?6 AS BIGINT)"
	" WHERE tenant_id = ?1 AND kid = ?2 AND state = ?3")
TS_STMT(KEY_DELETE_IN_STATE,
	"DELETE FROM keys WHERE tenant_id = ?1 AND kid = ?2 AND state = ?3")
/* Update only: a client deleted meanwhile changes no row (the row lock
 * orders it after a concurrent DELETE), so it stays deleted. */
TS_STMT(CLIENT_UPDATE,
	"UPDATE clients SET config = ?3, secret_hash = ?4, updated_at = ?5"
	" WHERE tenant_id = ?1 AND client_id = ?2")

/* ---- disabling a user (user_put_revoke) ---- */
/* Besides USER_DENY_TOKENS, SESSION_DELETE_USER and APIKEY_DELETE_USER:
 * the user's refresh tokens (found through the grants index), grants
 * and unredeemed codes, which code_take then answers as used. */
TS_STMT(USER_REVOKE_REFRESH,
	"UPDATE refresh_tokens SET revoked = 1"
	" WHERE tenant_id = ?1 AND revoked = 0"
	" AND grant_id IN (SELECT id FROM grants WHERE tenant_id = ?1 AND user_id = ?2)")
TS_STMT(USER_REVOKE_GRANTS,
	"UPDATE grants SET revoked = 1 WHERE tenant_id = ?1 AND user_id = ?2 AND revoked = 0")
TS_STMT(USER_REVOKE_CODES,
	"UPDATE codes SET used = 1 WHERE tenant_id = ?1 AND user_id = ?2 AND used = 0")
/* Turning mobile_access off: the device key only. */
TS_STMT(APIKEY_DELETE_DEVICE,
	"DELETE FROM api_keys WHERE tenant_id = ?1 AND user_id = ?2 AND kind = 'device'")
