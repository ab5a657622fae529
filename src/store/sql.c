/* sql.c: the SQL table, indexed by enum ts_sql. All of it is fixed text
 * with bound parameters only; nothing is ever built from data. A statement
 * has one text for both dialects (`both`), written in the SQL they share
 * (CAST(?N AS BIGINT) where PostgreSQL needs a parameter's type), or one
 * per dialect where they really differ (SQLite's min/max are PostgreSQL's
 * least/greatest, PostgreSQL's row locks have no SQLite twin). Column
 * lists fix the order in which the record descriptors (rec.h) read rows. */
#include "sql.h"

#include "store.h"

#include <ctype.h>
#include <string.h>

struct ts_sql_def {
	const char *both;   /* run by both dialects, or NULL */
	const char *sqlite; /* SQLite's own text, when not both */
	const char *pg;     /* PostgreSQL's own text, when not both */
};

#define CODE_COLS \
	"code_hash, tenant_id, client_id, user_id, grant_id, redirect_uri, scope, nonce, " \
	"code_challenge, resource, session_id_hash, auth_time, expires_at, used"
#define GRANT_COLS "tenant_id, id, client_id, user_id, scope, auth_time, created_at, revoked"
#define REFRESH_COLS \
	"token_hash, tenant_id, grant_id, client_id, user_id, scope, resource, auth_time, " \
	"issued_at, expires_at, used, revoked"
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
/* The throttle window as SQL text. */
#define TEXT_OF(x) #x
#define NUM_TEXT(x) TEXT_OF(x)
#define WINDOW_TEXT NUM_TEXT(TS_STORE_THROTTLE_WINDOW_S)

static const struct ts_sql_def table[TS_SQL_COUNT] = {
	/* ---- sessions, consent, pending state ---- */
	/* Upsert by id_hash. A missing user (or tenant) fails on the foreign
	 * key: TS_ENOTFOUND. */
	[TS_SQL_SESSION_PUT] = {.both =
		"INSERT INTO sessions (" SESSION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (id_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
		" user_id = excluded.user_id, auth_time = excluded.auth_time,"
		" last_seen = excluded.last_seen, expires_at = excluded.expires_at"},
	[TS_SQL_SESSION_GET] = {.both = "SELECT " SESSION_COLS " FROM sessions WHERE id_hash = ?1"},
	/* Concurrent requests may touch out of order: last_seen never goes
	 * back, so the idle timeout counts from the latest of them. */
	[TS_SQL_SESSION_TOUCH] = {
		.sqlite = "UPDATE sessions SET last_seen = max(last_seen, ?2) WHERE id_hash = ?1",
		.pg = "UPDATE sessions SET last_seen = greatest(last_seen, CAST(?2 AS BIGINT))"
		      " WHERE id_hash = ?1"},
	[TS_SQL_SESSION_DELETE] = {.both = "DELETE FROM sessions WHERE id_hash = ?1"},
	[TS_SQL_SESSION_DELETE_USER] = {.both =
		"DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2"},
	[TS_SQL_CONSENT_GET] = {.both =
		"SELECT scope FROM consents WHERE tenant_id = ?1 AND user_id = ?2"
		" AND client_id = ?3"},
	/* A missing user fails on the foreign key (TS_ENOTFOUND). */
	[TS_SQL_CONSENT_PUT] = {.both =
		"INSERT INTO consents (tenant_id, user_id, client_id, scope)"
		" VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scope = excluded.scope"},
	[TS_SQL_PENDING_PUT] = {.both =
		"INSERT INTO pending (id_hash, tenant_id, kind, data, expires_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (id_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
		" kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at"},
	[TS_SQL_PENDING_GET] = {.both =
		"SELECT tenant_id, kind, data, expires_at FROM pending WHERE id_hash = ?1"},
	/* TS_ENOTFOUND when it deletes nothing, so that of two callers
	 * consuming the same state only one sees TS_OK. */
	[TS_SQL_PENDING_DELETE] = {.both = "DELETE FROM pending WHERE id_hash = ?1"},
	/* Compare and swap, in one conditional UPDATE. */
	[TS_SQL_PENDING_UPDATE] = {.both =
		"UPDATE pending SET data = ?3"
		" WHERE id_hash = ?1 AND (CAST(?2 AS TEXT) IS NULL OR data = ?2)"},

	/* purge_expired: "before now", as for revocations; a throttle window
	 * that started a whole window or more before now has ended. */
	[TS_SQL_PURGE_SESSIONS] = {.both = "DELETE FROM sessions WHERE expires_at < ?1"},
	[TS_SQL_PURGE_CODES] = {.both = "DELETE FROM codes WHERE expires_at < ?1"},
	[TS_SQL_PURGE_PENDING] = {.both = "DELETE FROM pending WHERE expires_at < ?1"},
	[TS_SQL_PURGE_REVOCATIONS] = {.both = "DELETE FROM revocations WHERE expires_at < ?1"},
	[TS_SQL_PURGE_REFRESH] = {.both = "DELETE FROM refresh_tokens WHERE expires_at < ?1"},
	[TS_SQL_PURGE_GRANT_TOKENS] = {.both = "DELETE FROM grant_tokens WHERE expires_at < ?1"},
	[TS_SQL_PURGE_THROTTLE] = {.both =
		"DELETE FROM throttle WHERE window_start <= CAST(?1 AS BIGINT) - " WINDOW_TEXT},

	/* ---- shared throttling ---- */
	[TS_SQL_THROTTLE_GET] = {.both =
		"SELECT window_start, failures, last_failure FROM throttle WHERE key_hash = ?1"},
	/* A failure is one upsert: concurrent failures from any number of
	 * servers serialize on the row. Within the live window
	 * (?2 < window_start + ?3) it counts up to ?4, else a new window
	 * starts at ?2. */
	[TS_SQL_THROTTLE_FAIL] = {
		.sqlite =
		"INSERT INTO throttle (key_hash, window_start, failures, last_failure)"
		" VALUES (?1, ?2, 1, ?2)"
		" ON CONFLICT (key_hash) DO UPDATE SET"
		" failures = CASE WHEN ?2 < window_start + ?3 THEN min(failures + 1, ?4) ELSE 1 END,"
		" last_failure = CASE WHEN ?2 < window_start + ?3 THEN max(last_failure, ?2)"
		" ELSE ?2 END,"
		" window_start = CASE WHEN ?2 < window_start + ?3 THEN window_start ELSE ?2 END",
		.pg =
		"INSERT INTO throttle AS t (key_hash, window_start, failures, last_failure)"
		" VALUES (?1, ?2::bigint, 1, ?2::bigint)"
		" ON CONFLICT (key_hash) DO UPDATE SET"
		" failures = CASE WHEN ?2::bigint < t.window_start + ?3::bigint"
		" THEN least(t.failures + 1, ?4::integer) ELSE 1 END,"
		" last_failure = CASE WHEN ?2::bigint < t.window_start + ?3::bigint"
		" THEN greatest(t.last_failure, ?2::bigint) ELSE ?2::bigint END,"
		" window_start = CASE WHEN ?2::bigint < t.window_start + ?3::bigint"
		" THEN t.window_start ELSE ?2::bigint END"},
	[TS_SQL_THROTTLE_RESET] = {.both = "DELETE FROM throttle WHERE key_hash = ?1"},
	/* A reservation decided on a read: the row is written only if it is
	 * still what was read (or still absent). */
	[TS_SQL_THROTTLE_CAS_NEW] = {.both =
		"INSERT INTO throttle (key_hash, window_start, failures, last_failure)"
		" VALUES (?1, CAST(?2 AS BIGINT), CAST(?3 AS INTEGER), CAST(?4 AS BIGINT))"
		" ON CONFLICT (key_hash) DO NOTHING"},
	[TS_SQL_THROTTLE_CAS] = {.both =
		"UPDATE throttle SET window_start = CAST(?5 AS BIGINT),"
		" failures = CAST(?6 AS INTEGER), last_failure = CAST(?7 AS BIGINT)"
		" WHERE key_hash = ?1 AND window_start = CAST(?2 AS BIGINT)"
		" AND failures = CAST(?3 AS INTEGER) AND last_failure = CAST(?4 AS BIGINT)"},

	/* ---- authorization codes, grants, refresh tokens ---- */
	/* A new code is unused whatever the record says. */
	[TS_SQL_CODE_PUT] = {.both =
		"INSERT INTO codes (" CODE_COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0)"},
	/* RFC 6749 §4.1.2: single use. Of concurrent takers, only the first
	 * to run this changes the row; the others find used = 1. */
	[TS_SQL_CODE_TAKE] = {.both =
		"UPDATE codes SET used = 1 WHERE code_hash = ?1 AND used = 0 RETURNING " CODE_COLS},
	/* Once CODE_TAKE changed nothing: the code under a row lock (SQLite's
	 * write lock is held already), to tell a replay from an unknown code
	 * or, on PostgreSQL, to find one committed after its snapshot. */
	[TS_SQL_CODE_LOCK] = {
		.sqlite = "SELECT " CODE_COLS " FROM codes WHERE code_hash = ?1",
		.pg = "SELECT " CODE_COLS " FROM codes WHERE code_hash = ?1 FOR UPDATE"},
	[TS_SQL_CODE_USE] = {.both = "UPDATE codes SET used = 1 WHERE code_hash = ?1 AND used = 0"},

	/* Upsert by (tenant_id, id); a revoked grant stays revoked. The client
	 * and user of a grant never change: a put naming others changes no
	 * row, which the caller reports as TS_EEXIST. */
	[TS_SQL_GRANT_PUT] = {
		.sqlite =
		"INSERT INTO grants (" GRANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT (tenant_id, id) DO UPDATE SET scope = excluded.scope,"
		" auth_time = excluded.auth_time, revoked = max(revoked, excluded.revoked)"
		" WHERE client_id = excluded.client_id AND user_id IS excluded.user_id",
		.pg =
		"INSERT INTO grants (" GRANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT (tenant_id, id) DO UPDATE SET scope = excluded.scope,"
		" auth_time = excluded.auth_time,"
		" revoked = greatest(grants.revoked, excluded.revoked)"
		" WHERE grants.client_id = excluded.client_id"
		" AND grants.user_id IS NOT DISTINCT FROM excluded.user_id"},
	[TS_SQL_GRANT_GET] = {.both =
		"SELECT " GRANT_COLS " FROM grants WHERE tenant_id = ?1 AND id = ?2"},
	/* Whether a grant is revoked, read by every write that issues under
	 * it. On PostgreSQL it takes a share lock, held until the transaction
	 * ends, that grant_revoke's UPDATE must wait for: under READ
	 * COMMITTED an issuance and a revocation running side by side could
	 * otherwise each miss the other's rows. SQLite's write lock already
	 * keeps them apart. */
	[TS_SQL_GRANT_LOCK] = {
		.sqlite = "SELECT revoked FROM grants WHERE tenant_id = ?1 AND id = ?2",
		.pg = "SELECT revoked FROM grants WHERE tenant_id = ?1 AND id = ?2 FOR SHARE"},
	[TS_SQL_GRANT_TOKEN_ADD] = {
		.sqlite =
		"INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
		" VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
		" expires_at = max(expires_at, excluded.expires_at)",
		.pg =
		"INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
		" VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
		" expires_at = greatest(grant_tokens.expires_at, excluded.expires_at)"},
	/* grant_revoke, in this order: the grant's row first, which on
	 * PostgreSQL waits for the issuers holding GRANT_LOCK. */
	[TS_SQL_GRANT_REVOKE] = {.both =
		"UPDATE grants SET revoked = 1 WHERE tenant_id = ?1 AND id = ?2"},
	[TS_SQL_GRANT_REVOKE_REFRESH] = {.both =
		"UPDATE refresh_tokens SET revoked = 1"
		" WHERE tenant_id = ?1 AND grant_id = ?2 AND revoked = 0"},
	/* A code not yet redeemed can no longer be (code_take: TS_ECONFLICT). */
	[TS_SQL_GRANT_REVOKE_CODES] = {.both =
		"UPDATE codes SET used = 1 WHERE tenant_id = ?1 AND grant_id = ?2 AND used = 0"},
	/* As revoke_put for each recorded jti, keeping its expiry. */
	[TS_SQL_GRANT_DENY_TOKENS] = {
		.sqlite =
		"INSERT INTO revocations (tenant_id, jti, expires_at)"
		" SELECT tenant_id, jti, expires_at FROM grant_tokens"
		" WHERE tenant_id = ?1 AND grant_id = ?2"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = max(expires_at, excluded.expires_at)",
		.pg =
		"INSERT INTO revocations (tenant_id, jti, expires_at)"
		" SELECT tenant_id, jti, expires_at FROM grant_tokens"
		" WHERE tenant_id = ?1 AND grant_id = ?2"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = greatest(revocations.expires_at, excluded.expires_at)"},

	/* A missing grant or user fails on a foreign key (TS_ENOTFOUND), a
	 * stored hash on the primary key (TS_EEXIST). */
	[TS_SQL_REFRESH_PUT] = {.both =
		"INSERT INTO refresh_tokens (" REFRESH_COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
	[TS_SQL_REFRESH_GET] = {.both =
		"SELECT " REFRESH_COLS " FROM refresh_tokens WHERE token_hash = ?1"},
	/* RFC 9700 §4.14.2: spends the token only if it is unused, unrevoked
	 * and of the successor's tenant, grant and client: of concurrent
	 * rotations exactly one changes the row. */
	[TS_SQL_REFRESH_SPEND] = {.both =
		"UPDATE refresh_tokens SET used = 1"
		" WHERE token_hash = ?1 AND used = 0 AND revoked = 0"
		" AND tenant_id = ?2 AND grant_id = ?3 AND client_id = ?4"},
	/* Once REFRESH_SPEND changed nothing: why (under a row lock on
	 * PostgreSQL, where a token committed after its snapshot may still be
	 * rotated). */
	[TS_SQL_REFRESH_STATE] = {
		.sqlite = "SELECT tenant_id, grant_id, client_id, used, revoked FROM refresh_tokens"
			  " WHERE token_hash = ?1",
		.pg = "SELECT tenant_id, grant_id, client_id, used, revoked FROM refresh_tokens"
		      " WHERE token_hash = ?1 FOR UPDATE"},
	[TS_SQL_REFRESH_USE] = {.both =
		"UPDATE refresh_tokens SET used = 1"
		" WHERE token_hash = ?1 AND used = 0 AND revoked = 0"},
	/* PostgreSQL's usual rotation in one statement, so one round trip in
	 * autocommit: share-lock the grant (first, as GRANT_LOCK), spend the
	 * old token as REFRESH_SPEND, and only if that changed a row insert
	 * the successor (revoked if the grant is) and, with a jti (?14),
	 * record the access token under the grant (denied at once if the
	 * grant is revoked). Data-modifying WITH clauses run exactly once and
	 * see one snapshot; a failing insert fails the statement and changes
	 * nothing. SQLite has no data-modifying WITH: its rotation is a
	 * batched job of single statements. */
	[TS_SQL_REFRESH_ROTATE_ONE] = {.pg =
		"WITH g AS ("
		"  SELECT revoked FROM grants WHERE tenant_id = ?2 AND id = ?3 FOR SHARE"
		"), spent AS ("
		"  UPDATE refresh_tokens SET used = 1"
		"  WHERE token_hash = ?1 AND used = 0 AND revoked = 0"
		"  AND tenant_id = ?2 AND grant_id = ?3 AND client_id = ?4"
		"  AND EXISTS (SELECT 1 FROM g)"
		"  RETURNING 1"
		"), ins AS ("
		"  INSERT INTO refresh_tokens (" REFRESH_COLS ")"
		"  SELECT ?5, ?2, ?3, ?4, ?6, ?7, ?8, ?9::bigint, ?10::bigint, ?11::bigint,"
		"   ?12::integer, greatest(?13::integer, g.revoked) FROM spent, g"
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
		" SELECT count(*) FROM ins"},

	/* ---- the token vault ---- */
	/* An existing provider keeps its created_at. A missing tenant fails
	 * on the foreign key (TS_ENOTFOUND). */
	[TS_SQL_PROVIDER_PUT] = {.both =
		"INSERT INTO vault_providers (" PROVIDER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT (tenant_id, name) DO UPDATE SET kind = excluded.kind,"
		" config = excluded.config, sealed_secret = excluded.sealed_secret,"
		" updated_at = excluded.updated_at"},
	[TS_SQL_PROVIDER_GET] = {.both =
		"SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = ?1 AND name = ?2"},
	[TS_SQL_PROVIDER_LIST] = {
		.sqlite = "SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = ?1"
			  " ORDER BY name",
		.pg = "SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = ?1"
		      " ORDER BY name" BYTES},
	[TS_SQL_PROVIDER_LIST_ALL] = {
		.sqlite = "SELECT " PROVIDER_COLS " FROM vault_providers ORDER BY tenant_id, name",
		.pg = "SELECT " PROVIDER_COLS " FROM vault_providers"
		      " ORDER BY tenant_id" BYTES ", name" BYTES},
	/* provider_delete locks the provider first. On PostgreSQL FOR UPDATE
	 * conflicts with the key-share lock a connection insert's foreign-key
	 * check takes, so an insert under way has committed before the count
	 * is read, and a later one waits and then finds the provider gone. */
	[TS_SQL_PROVIDER_LOCK] = {
		.sqlite = "SELECT 1 FROM vault_providers WHERE tenant_id = ?1 AND name = ?2",
		.pg = "SELECT 1 FROM vault_providers WHERE tenant_id = ?1 AND name = ?2 FOR UPDATE"},
	[TS_SQL_PROVIDER_IN_USE] = {.both =
		"SELECT count(*) FROM vault_connections WHERE tenant_id = ?1 AND provider = ?2"},
	[TS_SQL_PROVIDER_DELETE] = {.both =
		"DELETE FROM vault_providers WHERE tenant_id = ?1 AND name = ?2"},
	/* Re-sealing under a new master key: compare and swap, so a secret
	 * changed meanwhile is left alone. */
	[TS_SQL_PROVIDER_RESEAL] = {.both =
		"UPDATE vault_providers SET sealed_secret = ?4"
		" WHERE tenant_id = ?1 AND name = ?2 AND sealed_secret = ?3"},
	[TS_SQL_KEY_RESEAL] = {.both =
		"UPDATE keys SET sealed_private = ?4"
		" WHERE tenant_id = ?1 AND kid = ?2 AND sealed_private = ?3"},
	/* The lease starts free (the columns' defaults). A taken id, or name
	 * for the tenant and owner (the unique index on coalesce(owner, '')),
	 * is TS_EEXIST; a missing tenant, provider or owner fails on a
	 * foreign key (TS_ENOTFOUND). */
	[TS_SQL_CONN_INSERT] = {.both =
		"INSERT INTO vault_connections (id, tenant_id, provider, name, owner, created_by,"
		" status, metadata, access_token, refresh_token, issued_at, expires_at,"
		" refresh_expires_at, next_refresh_at, failures, last_error, expiry_warned,"
		" created_at, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
		" ?18, ?19)"},
	[TS_SQL_CONN_GET] = {.both =
		"SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = ?1 AND c.id = ?2"},
	/* A NULL owner names the tenant's own connections, as in the unique
	 * index on (tenant_id, coalesce(owner, ''), name). */
	[TS_SQL_CONN_FIND] = {.both =
		"SELECT " CONN_COLS_C CONN_FROM
		" WHERE c.tenant_id = ?1 AND coalesce(c.owner, '') = coalesce(CAST(?2 AS TEXT), '')"
		" AND c.name = ?3"},
	[TS_SQL_CONN_LIST] = {
		.sqlite = "SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = ?1"
			  " ORDER BY c.created_at, c.id",
		.pg = "SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = ?1"
		      " ORDER BY c.created_at, c.id" BYTES},
	[TS_SQL_CONN_LIST_ALL] = {
		.sqlite = "SELECT " CONN_COLS_C CONN_FROM " ORDER BY c.tenant_id, c.created_at, c.id",
		.pg = "SELECT " CONN_COLS_C CONN_FROM
		      " ORDER BY c.tenant_id" BYTES ", c.created_at, c.id" BYTES},
	/* Due: next_refresh_at set and reached, and the lease free or ended
	 * before now. */
	[TS_SQL_CONN_DUE] = {.both =
		"SELECT " CONN_COLS_C CONN_FROM
		" WHERE c.next_refresh_at > 0 AND c.next_refresh_at <= ?1"
		" AND (c.lease_owner IS NULL OR c.lease_until < ?1)"
		" ORDER BY c.next_refresh_at LIMIT ?2"},
	[TS_SQL_CONN_EXISTS] = {.both =
		"SELECT 1 FROM vault_connections WHERE tenant_id = ?1 AND id = ?2"},
	/* The lease: one conditional UPDATE, so exactly one taker wins. */
	[TS_SQL_CONN_LEASE] = {.both =
		"UPDATE vault_connections SET lease_owner = ?3, lease_until = ?4"
		" WHERE tenant_id = ?1 AND id = ?2 AND (lease_owner IS NULL OR lease_until < ?5)"},
	/* Fenced by the lease: a holder that lost it writes nothing. */
	[TS_SQL_CONN_SAVE] = {.both =
		"UPDATE vault_connections SET status = ?3, metadata = ?4, access_token = ?5,"
		" refresh_token = ?6, issued_at = ?7, expires_at = ?8, refresh_expires_at = ?9,"
		" next_refresh_at = ?10, failures = ?11, last_error = ?12, expiry_warned = ?13,"
		" updated_at = ?14, lease_owner = NULL, lease_until = 0"
		" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?15"},
	[TS_SQL_CONN_RELEASE] = {.both =
		"UPDATE vault_connections SET lease_owner = NULL, lease_until = 0"
		" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3"},
	[TS_SQL_CONN_DELETE] = {.both =
		"DELETE FROM vault_connections WHERE tenant_id = ?1 AND id = ?2"},

	/* ---- revocations ---- */
	/* Idempotent; a repeated revocation keeps the later expiry. */
	[TS_SQL_REVOKE_PUT] = {
		.sqlite =
		"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = max(expires_at, excluded.expires_at)",
		.pg =
		"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = greatest(revocations.expires_at, excluded.expires_at)"},
};

const char *ts_sql_text(enum ts_dialect d, enum ts_sql id)
{
	const struct ts_sql_def *def;

	if ((unsigned)id >= TS_SQL_COUNT)
		return NULL;
	def = &table[id];
	if (def->both != NULL)
		return def->both;
	return d == TS_DIALECT_PG ? def->pg : def->sqlite;
}

char *ts_sql_pg_dup(const char *sql)
{
	char *out;
	size_t i;

	if (sql == NULL)
		return NULL;
	out = ts_xstrdup(sql);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '?' && isdigit((unsigned char)out[i + 1]))
			out[i] = '$';
	return out;
}
