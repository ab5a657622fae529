/* pg_state.c: browser sessions, consent, short-lived pending state,
 * shared throttling and the purge of expired rows for the PostgreSQL
 * backend. Expiry is the caller's check on every read; purge_expired only
 * reclaims space. No write here bumps the generation. */
#include "pg_int.h"

#include <stdlib.h>

#define SESSION_COLS "id_hash, tenant_id, user_id, auth_time, last_seen, expires_at"
/* The throttle window as SQL text. */
#define TEXT_OF(x) #x
#define NUM_TEXT(x) TEXT_OF(x)
#define WINDOW_TEXT NUM_TEXT(TS_STORE_THROTTLE_WINDOW_S)

static struct ts_session_rec *read_session(const PGresult *res, int i)
{
	struct ts_session_rec *r = ts_xcalloc(1, sizeof(*r));

	r->id_hash = ts_pg_col_dup(res, i, 0);
	r->tenant_id = ts_pg_col_dup(res, i, 1);
	r->user_id = ts_pg_col_dup(res, i, 2);
	r->auth_time = ts_pg_col_i64(res, i, 3);
	r->last_seen = ts_pg_col_i64(res, i, 4);
	r->expires_at = ts_pg_col_i64(res, i, 5);
	if (r->id_hash == NULL || r->tenant_id == NULL || r->user_id == NULL) {
		ts_session_rec_free(r);
		return NULL;
	}
	return r;
}

/* Upsert by id_hash. A missing user (or tenant) fails on the foreign key:
 * TS_ENOTFOUND. */
int ts_pg_session_put(struct ts_store *st, const struct ts_session_rec *r)
{
	static const char sql[] =
		"INSERT INTO sessions (" SESSION_COLS ")"
		" VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint)"
		" ON CONFLICT (id_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
		" user_id = excluded.user_id, auth_time = excluded.auth_time,"
		" last_seen = excluded.last_seen, expires_at = excluded.expires_at";
	char auth[TS_PG_I64_BUF], seen[TS_PG_I64_BUF], expires[TS_PG_I64_BUF];
	const char *args[] = {
		r->id_hash,
		r->tenant_id,
		r->user_id,
		ts_pg_i64(auth, r->auth_time),
		ts_pg_i64(seen, r->last_seen),
		ts_pg_i64(expires, r->expires_at),
	};

	return ts_pg_write1(st, sql, args, (int)TS_ARRAY_LEN(args), false, false,
			    "session put");
}

int ts_pg_session_get(struct ts_store *st, const char *id_hash, struct ts_session_rec **out)
{
	static const char sql[] = "SELECT " SESSION_COLS " FROM sessions WHERE id_hash = $1";
	const char *args[] = {id_hash};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 1, &res, "session get");
	if (rc != TS_OK)
		return rc;
	if ((*out = read_session(res, 0)) == NULL)
		rc = ts_pg_bad_row("session");
	PQclear(res);
	return rc;
}

/* Concurrent requests may touch out of order: last_seen never goes back,
 * so the idle timeout counts from the latest of them. The row counts as
 * changed even when it keeps its value, so only an unknown session is
 * TS_ENOTFOUND. */
int ts_pg_session_touch(struct ts_store *st, const char *id_hash, int64_t last_seen)
{
	static const char sql[] =
		"UPDATE sessions SET last_seen = greatest(last_seen, $2::bigint)"
		" WHERE id_hash = $1";
	char seen[TS_PG_I64_BUF];
	const char *args[] = {id_hash, ts_pg_i64(seen, last_seen)};

	return ts_pg_write1(st, sql, args, 2, true, false, "session touch");
}

int ts_pg_session_delete(struct ts_store *st, const char *id_hash)
{
	static const char sql[] = "DELETE FROM sessions WHERE id_hash = $1";
	const char *args[] = {id_hash};

	return ts_pg_write1(st, sql, args, 1, true, false, "session delete");
}

/* TS_OK also when the user had no session (or does not exist). */
int ts_pg_session_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	static const char sql[] = "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2";
	const char *args[] = {tenant_id, user_id};

	return ts_pg_write1(st, sql, args, 2, false, false, "session delete user");
}

int ts_pg_consent_get(struct ts_store *st, const char *tenant_id, const char *user_id,
		      const char *client_id, char **scope)
{
	static const char sql[] =
		"SELECT scope FROM consents WHERE tenant_id = $1 AND user_id = $2"
		" AND client_id = $3";
	const char *args[] = {tenant_id, user_id, client_id};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 3, &res, "consent get");
	if (rc != TS_OK)
		return rc;
	if ((*scope = ts_pg_col_dup(res, 0, 0)) == NULL)
		rc = ts_pg_bad_row("consent");
	PQclear(res);
	return rc;
}

/* Upsert; a missing user fails on the foreign key (TS_ENOTFOUND). */
int ts_pg_consent_put(struct ts_store *st, const char *tenant_id, const char *user_id,
		      const char *client_id, const char *scope)
{
	static const char sql[] =
		"INSERT INTO consents (tenant_id, user_id, client_id, scope)"
		" VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scope = excluded.scope";
	const char *args[] = {tenant_id, user_id, client_id, scope};

	return ts_pg_write1(st, sql, args, 4, false, false, "consent put");
}

/* Upsert by id_hash; a missing tenant fails on the foreign key:
 * TS_ENOTFOUND. */
int ts_pg_pending_put(struct ts_store *st, const char *tenant_id, const char *id_hash,
		      const char *kind, const char *data, int64_t expires_at)
{
	static const char sql[] =
		"INSERT INTO pending (id_hash, tenant_id, kind, data, expires_at)"
		" VALUES ($1, $2, $3, $4, $5::bigint)"
		" ON CONFLICT (id_hash) DO UPDATE SET tenant_id = excluded.tenant_id,"
		" kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at";
	char expires[TS_PG_I64_BUF];
	const char *args[] = {id_hash, tenant_id, kind, data, ts_pg_i64(expires, expires_at)};

	return ts_pg_write1(st, sql, args, 5, false, false, "pending put");
}

/* Every column is read before any out-parameter is set, so a failure
 * leaves them all NULL (the wrapper cleared them). */
int ts_pg_pending_get(struct ts_store *st, const char *id_hash, char **tenant_id, char **kind,
		      char **data, int64_t *expires_at)
{
	static const char sql[] =
		"SELECT tenant_id, kind, data, expires_at FROM pending WHERE id_hash = $1";
	const char *args[] = {id_hash};
	PGresult *res = NULL;
	char *t = NULL, *k = NULL, *d = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 1, &res, "pending get");
	if (rc != TS_OK)
		goto out;
	t = ts_pg_col_dup(res, 0, 0);
	k = ts_pg_col_dup(res, 0, 1);
	d = ts_pg_col_dup(res, 0, 2);
	if (t == NULL || k == NULL || d == NULL) {
		rc = ts_pg_bad_row("pending");
		goto out;
	}
	if (expires_at != NULL)
		*expires_at = ts_pg_col_i64(res, 0, 3);
	if (tenant_id != NULL) {
		*tenant_id = t;
		t = NULL;
	}
	if (kind != NULL) {
		*kind = k;
		k = NULL;
	}
	if (data != NULL) {
		*data = d;
		d = NULL;
	}
out:
	PQclear(res);
	free(t);
	free(k);
	/* Pending state may carry secrets (e.g. vault state). */
	ts_free_secret(d);
	return rc;
}

/* One conditional UPDATE (the row lock orders concurrent writers, and each
 * re-checks the condition on the row it waited for): TS_ENOTFOUND when it
 * changed no row. */
int ts_pg_pending_update(struct ts_store *st, const char *id_hash, const char *old_data,
			 const char *data)
{
	static const char sql[] = "UPDATE pending SET data = $3"
				  " WHERE id_hash = $1 AND ($2::text IS NULL OR data = $2)";
	const char *args[] = {id_hash, old_data, data};

	return ts_pg_write1(st, sql, args, 3, true, false, "pending update");
}

/* TS_ENOTFOUND when there was nothing to delete, so that of two callers
 * consuming the same state only one sees TS_OK: the second one's DELETE
 * waits for the first's row lock and then finds the row gone. */
int ts_pg_pending_delete(struct ts_store *st, const char *id_hash)
{
	static const char sql[] = "DELETE FROM pending WHERE id_hash = $1";
	const char *args[] = {id_hash};

	return ts_pg_write1(st, sql, args, 1, true, false, "pending delete");
}

/* One transaction, so a failure leaves everything as it was. Rows that
 * expired "before now" go, as in revoke_purge, and so do throttle windows
 * that have ended. */
int ts_pg_purge_expired(struct ts_store *st, int64_t now)
{
	static const struct {
		const char *sql;
		const char *what;
	} steps[] = {
		{"DELETE FROM sessions WHERE expires_at < $1::bigint", "purge sessions"},
		{"DELETE FROM codes WHERE expires_at < $1::bigint", "purge codes"},
		{"DELETE FROM pending WHERE expires_at < $1::bigint", "purge pending"},
		{"DELETE FROM revocations WHERE expires_at < $1::bigint", "purge revocations"},
		{"DELETE FROM refresh_tokens WHERE expires_at < $1::bigint",
		 "purge refresh tokens"},
		{"DELETE FROM grant_tokens WHERE expires_at < $1::bigint", "purge grant tokens"},
		{"DELETE FROM throttle WHERE window_start <= $1::bigint - " WINDOW_TEXT,
		 "purge throttle windows"},
	};
	char when[TS_PG_I64_BUF];
	const char *args[] = {ts_pg_i64(when, now)};
	struct ts_pg_conn *c = NULL;
	size_t i;
	int rc;

	rc = ts_pg_write_begin(st, &c);
	for (i = 0; i < TS_ARRAY_LEN(steps) && rc == TS_OK; i++)
		rc = ts_pg_exec(c, steps[i].sql, args, 1, NULL, steps[i].what);
	return ts_pg_write_end(st, c, rc, false);
}

int ts_pg_throttle_get(struct ts_store *st, const char *key_hash, int64_t *start,
		       int *failures, int64_t *last)
{
	static const char sql[] =
		"SELECT window_start, failures, last_failure FROM throttle WHERE key_hash = $1";
	const char *args[] = {key_hash};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 1, &res, "throttle get");
	if (rc != TS_OK)
		return rc;
	*start = ts_pg_col_i64(res, 0, 0);
	*failures = (int)ts_pg_col_i64(res, 0, 1);
	*last = ts_pg_col_i64(res, 0, 2);
	PQclear(res);
	return TS_OK;
}

/* One upsert: concurrent failures from any number of servers serialize on
 * the row, and each sees the count the one before it left. Within the live
 * window ($2 < window_start + $3) it counts up to $4, else a new window
 * starts at $2. */
int ts_pg_throttle_fail(struct ts_store *st, const char *key_hash, int64_t now, int64_t window,
			int max)
{
	static const char sql[] =
		"INSERT INTO throttle AS t (key_hash, window_start, failures, last_failure)"
		" VALUES ($1, $2::bigint, 1, $2::bigint)"
		" ON CONFLICT (key_hash) DO UPDATE SET"
		" failures = CASE WHEN $2::bigint < t.window_start + $3::bigint"
		" THEN least(t.failures + 1, $4::integer) ELSE 1 END,"
		" last_failure = CASE WHEN $2::bigint < t.window_start + $3::bigint"
		" THEN greatest(t.last_failure, $2::bigint) ELSE $2::bigint END,"
		" window_start = CASE WHEN $2::bigint < t.window_start + $3::bigint"
		" THEN t.window_start ELSE $2::bigint END";
	char when[TS_PG_I64_BUF], win[TS_PG_I64_BUF], cap[TS_PG_I64_BUF];
	const char *args[] = {key_hash, ts_pg_i64(when, now), ts_pg_i64(win, window),
			      ts_pg_i64(cap, max)};

	return ts_pg_write1(st, sql, args, 4, false, false, "throttle fail");
}

int ts_pg_throttle_reset(struct ts_store *st, const char *key_hash)
{
	static const char sql[] = "DELETE FROM throttle WHERE key_hash = $1";
	const char *args[] = {key_hash};

	return ts_pg_write1(st, sql, args, 1, false, false, "throttle reset");
}

/* A reservation decided on a read, from any server: the row is written
 * only if it is still what was read (or still absent); the row lock of the
 * UPDATE, or the unique key of the INSERT, lets exactly one of concurrent
 * swaps from the same row win. */
int ts_pg_throttle_cas(struct ts_store *st, const char *key_hash,
		       const struct ts_throttle_win *old, const struct ts_throttle_win *next)
{
	static const char ins[] =
		"INSERT INTO throttle (key_hash, window_start, failures, last_failure)"
		" VALUES ($1, $2::bigint, $3::integer, $4::bigint) ON CONFLICT (key_hash) DO NOTHING";
	static const char upd[] =
		"UPDATE throttle SET window_start = $5::bigint, failures = $6::integer,"
		" last_failure = $7::bigint WHERE key_hash = $1 AND window_start = $2::bigint"
		" AND failures = $3::integer AND last_failure = $4::bigint";
	char os[TS_PG_I64_BUF], of[TS_PG_I64_BUF], ol[TS_PG_I64_BUF];
	char ns[TS_PG_I64_BUF], nf[TS_PG_I64_BUF], nl[TS_PG_I64_BUF];
	int rc;

	ts_pg_i64(ns, next->start);
	ts_pg_i64(nf, next->failures);
	ts_pg_i64(nl, next->last);
	if (old == NULL) {
		const char *args[] = {key_hash, ns, nf, nl};
		rc = ts_pg_write1(st, ins, args, 4, true, false, "throttle cas");
	} else {
		const char *args[] = {key_hash, ts_pg_i64(os, old->start), ts_pg_i64(of, old->failures),
				      ts_pg_i64(ol, old->last), ns, nf, nl};
		rc = ts_pg_write1(st, upd, args, 7, true, false, "throttle cas");
	}
	return rc == TS_ENOTFOUND ? TS_ECONFLICT : rc;
}
