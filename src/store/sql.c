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
