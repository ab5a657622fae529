/* pg_grants.c: authorization codes (RFC 6749 §4.1.2), grants with the
 * access-token ids issued under them, and refresh tokens (RFC 6749 §6,
 * rotated as in RFC 9700 §4.14.2) for the PostgreSQL backend. Each
 * operation is one READ COMMITTED transaction. The single-use steps,
 * code_take and refresh rotation, spend the row with one conditional
 * UPDATE: concurrent callers in any number of processes queue on its row
 * lock and re-check the condition once the winner commits, so exactly one
 * changes the row. Storing a refresh token or recording an access token
 * under a grant first takes a share lock on the grant's row, which
 * grant_revoke's UPDATE must wait for: a revocation and an issuance never
 * run side by side, so neither misses the other's rows. No write here
 * bumps the generation. */
#include "pg_int.h"

#include <string.h>

#define CODE_COLS \
	"code_hash, tenant_id, client_id, user_id, grant_id, redirect_uri, scope, nonce, " \
	"code_challenge, resource, session_id_hash, auth_time, expires_at, used"
#define GRANT_COLS "tenant_id, id, client_id, user_id, scope, auth_time, created_at, revoked"
#define REFRESH_COLS \
	"token_hash, tenant_id, grant_id, client_id, user_id, scope, resource, auth_time, " \
	"issued_at, expires_at, used, revoked"

/* Row i (CODE_COLS) as a new record, or NULL if a NOT NULL column came
 * back NULL. */
static struct ts_code_rec *read_code(const PGresult *res, int i)
{
	struct ts_code_rec *r = ts_xcalloc(1, sizeof(*r));

	r->code_hash = ts_pg_col_dup(res, i, 0);
	r->tenant_id = ts_pg_col_dup(res, i, 1);
	r->client_id = ts_pg_col_dup(res, i, 2);
	r->user_id = ts_pg_col_dup(res, i, 3);
	r->grant_id = ts_pg_col_dup(res, i, 4);
	r->redirect_uri = ts_pg_col_dup(res, i, 5);
	r->scope = ts_pg_col_dup(res, i, 6);
	r->nonce = ts_pg_col_dup(res, i, 7);
	r->code_challenge = ts_pg_col_dup(res, i, 8);
	r->resource = ts_pg_col_dup(res, i, 9);
	r->session_id_hash = ts_pg_col_dup(res, i, 10);
	r->auth_time = ts_pg_col_i64(res, i, 11);
	r->expires_at = ts_pg_col_i64(res, i, 12);
	r->used = ts_pg_col_bool(res, i, 13);
	if (r->code_hash == NULL || r->tenant_id == NULL || r->client_id == NULL ||
	    r->user_id == NULL || r->grant_id == NULL || r->scope == NULL) {
		ts_code_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_grant_rec *read_grant(const PGresult *res, int i)
{
	struct ts_grant_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_pg_col_dup(res, i, 0);
	r->id = ts_pg_col_dup(res, i, 1);
	r->client_id = ts_pg_col_dup(res, i, 2);
	r->user_id = ts_pg_col_dup(res, i, 3);
	r->scope = ts_pg_col_dup(res, i, 4);
	r->auth_time = ts_pg_col_i64(res, i, 5);
	r->created_at = ts_pg_col_i64(res, i, 6);
	r->revoked = ts_pg_col_bool(res, i, 7);
	if (r->tenant_id == NULL || r->id == NULL || r->client_id == NULL || r->scope == NULL) {
		ts_grant_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_refresh_rec *read_refresh(const PGresult *res, int i)
{
	struct ts_refresh_rec *r = ts_xcalloc(1, sizeof(*r));

	r->token_hash = ts_pg_col_dup(res, i, 0);
	r->tenant_id = ts_pg_col_dup(res, i, 1);
	r->grant_id = ts_pg_col_dup(res, i, 2);
	r->client_id = ts_pg_col_dup(res, i, 3);
	r->user_id = ts_pg_col_dup(res, i, 4);
	r->scope = ts_pg_col_dup(res, i, 5);
	r->resource = ts_pg_col_dup(res, i, 6);
	r->auth_time = ts_pg_col_i64(res, i, 7);
	r->issued_at = ts_pg_col_i64(res, i, 8);
	r->expires_at = ts_pg_col_i64(res, i, 9);
	r->used = ts_pg_col_bool(res, i, 10);
	r->revoked = ts_pg_col_bool(res, i, 11);
	if (r->token_hash == NULL || r->tenant_id == NULL || r->grant_id == NULL ||
	    r->client_id == NULL || r->scope == NULL) {
		ts_refresh_rec_free(r);
		return NULL;
	}
	return r;
}

/* ---- authorization codes ---- */

/* A new code is unused whatever the record says. A missing tenant or user
 * fails on a foreign key (TS_ENOTFOUND), a stored hash on the primary key
 * (TS_EEXIST). */
int ts_pg_code_put(struct ts_store *st, const struct ts_code_rec *r)
{
	static const char sql[] =
		"INSERT INTO codes (" CODE_COLS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::bigint, $13::bigint, 0)";
	char auth_time[TS_PG_I64_BUF], expires[TS_PG_I64_BUF];
	const char *args[] = {
		r->code_hash,
		r->tenant_id,
		r->client_id,
		r->user_id,
		r->grant_id,
		r->redirect_uri,
		r->scope,
		r->nonce,
		r->code_challenge,
		r->resource,
		r->session_id_hash,
		ts_pg_i64(auth_time, r->auth_time),
		ts_pg_i64(expires, r->expires_at),
	};

	return ts_pg_write1(st, sql, args, (int)TS_ARRAY_LEN(args), false, false, "code put");
}

/* Inside code_take's transaction, once the conditional UPDATE changed
 * nothing: reads the code under a row lock to tell a replay (TS_ECONFLICT)
 * from an unknown code (TS_ENOTFOUND). A code found unused was committed
 * after that UPDATE's snapshot was taken; holding its lock, this call takes
 * it after all (TS_OK). *out gets the record with TS_OK or TS_ECONFLICT. */
static int code_take_locked(struct ts_pg_conn *c, const char *code_hash,
			    struct ts_code_rec **out)
{
	static const char lock_sql[] =
		"SELECT " CODE_COLS " FROM codes WHERE code_hash = $1 FOR UPDATE";
	static const char use_sql[] = "UPDATE codes SET used = 1 WHERE code_hash = $1";
	const char *args[] = {code_hash};
	PGresult *res = NULL;
	struct ts_code_rec *r = NULL;
	int rc, changed = 0;

	rc = ts_pg_query(c, lock_sql, args, 1, &res, "code take read");
	if (rc != TS_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = TS_ENOTFOUND;
		goto out;
	}
	r = read_code(res, 0);
	if (r == NULL) {
		rc = ts_pg_bad_row("code");
		goto out;
	}
	/* RFC 6749 §4.1.2: a second use is a replay; the caller gets the
	 * record anyway so that it can revoke the grant. */
	rc = TS_ECONFLICT;
	if (!r->used) {
		rc = ts_pg_exec(c, use_sql, args, 1, &changed, "code take");
		if (rc == TS_OK && changed != 1)
			rc = TS_ECONFLICT;
		r->used = true;
	}
	if (rc == TS_OK || rc == TS_ECONFLICT) {
		*out = r;
		r = NULL;
	}
out:
	PQclear(res);
	ts_code_rec_free(r);
	return rc;
}

/* RFC 6749 §4.1.2: single use. Of concurrent takers, the first to lock
 * the row changes it; the others wait for its commit, find used = 1 on
 * re-checking, and change nothing. */
int ts_pg_code_take(struct ts_store *st, const char *code_hash, struct ts_code_rec **out)
{
	static const char sql[] =
		"UPDATE codes SET used = 1 WHERE code_hash = $1 AND used = 0 RETURNING " CODE_COLS;
	const char *args[] = {code_hash};
	struct ts_pg_conn *c = NULL;
	PGresult *res = NULL;
	struct ts_code_rec *r = NULL;
	int rc;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_query(c, sql, args, 1, &res, "code take");
	if (rc != TS_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = code_take_locked(c, code_hash, &r);
		goto out;
	}
	r = read_code(res, 0);
	if (r == NULL)
		rc = ts_pg_bad_row("code");
out:
	PQclear(res);
	/* A replay changed nothing, so the rollback that ends it loses
	 * nothing. A TS_OK whose commit failed has become that failure: the
	 * code stays unused, and its record is dropped. */
	rc = ts_pg_write_end(st, c, rc, false);
	if (rc == TS_OK || rc == TS_ECONFLICT) {
		*out = r;
		r = NULL;
	}
	ts_code_rec_free(r);
	return rc;
}

/* ---- grants ---- */

/* Upsert by (tenant_id, id); a revoked grant stays revoked. The client and
 * user of a grant never change: a put naming others changes no row, which
 * is TS_EEXIST. A missing tenant or user fails on a foreign key. */
int ts_pg_grant_put(struct ts_store *st, const struct ts_grant_rec *r)
{
	static const char sql[] =
		"INSERT INTO grants (" GRANT_COLS ")"
		" VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint, $8::integer)"
		" ON CONFLICT (tenant_id, id) DO UPDATE SET scope = excluded.scope,"
		" auth_time = excluded.auth_time,"
		" revoked = greatest(grants.revoked, excluded.revoked)"
		" WHERE grants.client_id = excluded.client_id"
		" AND grants.user_id IS NOT DISTINCT FROM excluded.user_id";
	char auth_time[TS_PG_I64_BUF], created[TS_PG_I64_BUF], revoked[TS_PG_I64_BUF];
	const char *args[] = {
		r->tenant_id,
		r->id,
		r->client_id,
		r->user_id,
		r->scope,
		ts_pg_i64(auth_time, r->auth_time),
		ts_pg_i64(created, r->created_at),
		ts_pg_i64(revoked, r->revoked ? 1 : 0),
	};
	struct ts_pg_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, sql, args, (int)TS_ARRAY_LEN(args), &changed, "grant put");
	if (rc == TS_OK && changed == 0)
		rc = TS_EEXIST;
out:
	return ts_pg_write_end(st, c, rc, false);
}

int ts_pg_grant_get(struct ts_store *st, const char *tenant_id, const char *id,
		    struct ts_grant_rec **out)
{
	static const char sql[] =
		"SELECT " GRANT_COLS " FROM grants WHERE tenant_id = $1 AND id = $2";
	const char *args[] = {tenant_id, id};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 2, &res, "grant get");
	if (rc != TS_OK)
		return rc;
	*out = read_grant(res, 0);
	if (*out == NULL)
		rc = ts_pg_bad_row("grant");
	PQclear(res);
	return rc;
}

/* Inside the caller's transaction: takes a share lock on the grant's row,
 * held until the transaction ends, and reads whether it is revoked.
 * Issuers share the lock with one another; grant_revoke's UPDATE waits
 * for it. Without it, under READ COMMITTED, an issuance and a revocation
 * running side by side could each miss the other's uncommitted rows, and
 * a token would outlive its grant's revocation. *found is false (and
 * nothing locked) when there is no such grant. */
static int lock_grant(struct ts_pg_conn *c, const char *tenant_id, const char *grant_id,
		      bool *found, bool *revoked)
{
	static const char sql[] =
		"SELECT revoked FROM grants WHERE tenant_id = $1 AND id = $2 FOR SHARE";
	const char *args[] = {tenant_id, grant_id};
	PGresult *res = NULL;
	int rc;

	*found = false;
	*revoked = false;
	rc = ts_pg_query(c, sql, args, 2, &res, "grant lock");
	if (rc != TS_OK)
		return rc;
	if (PQntuples(res) > 0) {
		*found = true;
		*revoked = ts_pg_col_bool(res, 0, 0);
	}
	PQclear(res);
	return TS_OK;
}

/* Records jti under the grant, inside the caller's transaction, which has
 * locked the grant (lock_grant) and found it revoked or not: a token
 * recorded under a revoked grant is denied at once (as revoke_put). */
static int record_jti(struct ts_pg_conn *c, const char *tenant_id, const char *grant_id,
		      const char *jti, int64_t expires_at, bool grant_revoked)
{
	static const char add_sql[] =
		"INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
		" VALUES ($1, $2, $3, $4::bigint)"
		" ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
		" expires_at = greatest(grant_tokens.expires_at, excluded.expires_at)";
	static const char deny_sql[] =
		"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES ($1, $2, $3::bigint)"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = greatest(revocations.expires_at, excluded.expires_at)";
	char expires[TS_PG_I64_BUF];
	const char *add_args[] = {tenant_id, grant_id, jti, ts_pg_i64(expires, expires_at)};
	const char *deny_args[] = {tenant_id, jti, expires};
	int rc;

	rc = ts_pg_exec(c, add_sql, add_args, 4, NULL, "grant token add");
	if (rc != TS_OK || !grant_revoked)
		return rc;
	return ts_pg_exec(c, deny_sql, deny_args, 3, NULL, "grant token deny");
}

int ts_pg_grant_token_add(struct ts_store *st, const char *tenant_id, const char *grant_id,
			  const char *jti, int64_t expires_at)
{
	struct ts_pg_conn *c = NULL;
	bool found, revoked;
	int rc;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = lock_grant(c, tenant_id, grant_id, &found, &revoked);
	if (rc == TS_OK && !found)
		rc = TS_ENOTFOUND;
	if (rc == TS_OK)
		rc = record_jti(c, tenant_id, grant_id, jti, expires_at, revoked);
out:
	return ts_pg_write_end(st, c, rc, false);
}

/* All or nothing: a grant half revoked would leave a way back in. The
 * first step locks the grant's row, so issuers under it (lock_grant) have
 * committed before the later steps read their rows, or wait until this
 * transaction has and then find the grant revoked. */
int ts_pg_grant_revoke(struct ts_store *st, const char *tenant_id, const char *grant_id)
{
	static const struct {
		const char *sql;
		const char *what;
	} steps[] = {
		{"UPDATE grants SET revoked = 1 WHERE tenant_id = $1 AND id = $2", "grant revoke"},
		{"UPDATE refresh_tokens SET revoked = 1"
		 " WHERE tenant_id = $1 AND grant_id = $2 AND revoked = 0",
		 "grant revoke refresh tokens"},
		/* A code not yet redeemed can no longer be (code_take:
		 * TS_ECONFLICT). */
		{"UPDATE codes SET used = 1 WHERE tenant_id = $1 AND grant_id = $2 AND used = 0",
		 "grant revoke codes"},
		/* As revoke_put for each recorded jti, keeping its expiry. */
		{"INSERT INTO revocations (tenant_id, jti, expires_at)"
		 " SELECT tenant_id, jti, expires_at FROM grant_tokens"
		 " WHERE tenant_id = $1 AND grant_id = $2"
		 " ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		 " expires_at = greatest(revocations.expires_at, excluded.expires_at)",
		 "grant revoke access tokens"},
	};
	const char *args[] = {tenant_id, grant_id};
	struct ts_pg_conn *c = NULL;
	size_t i;
	int rc;

	rc = ts_pg_write_begin(st, &c);
	for (i = 0; i < TS_ARRAY_LEN(steps) && rc == TS_OK; i++)
		rc = ts_pg_exec(c, steps[i].sql, args, 2, NULL, steps[i].what);
	return ts_pg_write_end(st, c, rc, false);
}

/* ---- refresh tokens ---- */

/* Inserts r inside the caller's transaction, which has locked its grant
 * (lock_grant): a token of a revoked grant is stored revoked. A missing
 * grant or user fails on a foreign key (TS_ENOTFOUND), a stored hash on
 * the primary key (TS_EEXIST). */
static int insert_refresh(struct ts_pg_conn *c, const struct ts_refresh_rec *r,
			  bool grant_revoked)
{
	static const char sql[] =
		"INSERT INTO refresh_tokens (" REFRESH_COLS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint, $9::bigint, $10::bigint,"
		" $11::integer, $12::integer)";
	char auth_time[TS_PG_I64_BUF], issued[TS_PG_I64_BUF], expires[TS_PG_I64_BUF];
	char used[TS_PG_I64_BUF], revoked[TS_PG_I64_BUF];
	const char *args[] = {
		r->token_hash,
		r->tenant_id,
		r->grant_id,
		r->client_id,
		r->user_id,
		r->scope,
		r->resource,
		ts_pg_i64(auth_time, r->auth_time),
		ts_pg_i64(issued, r->issued_at),
		ts_pg_i64(expires, r->expires_at),
		ts_pg_i64(used, r->used ? 1 : 0),
		ts_pg_i64(revoked, r->revoked || grant_revoked ? 1 : 0),
	};

	return ts_pg_exec(c, sql, args, (int)TS_ARRAY_LEN(args), NULL, "refresh put");
}

/* A missing grant is left to the insert's foreign key, so that a stored
 * hash is TS_EEXIST whatever its grant, as in the SQLite backend. */
int ts_pg_refresh_put(struct ts_store *st, const struct ts_refresh_rec *r)
{
	struct ts_pg_conn *c = NULL;
	bool found, revoked;
	int rc;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = lock_grant(c, r->tenant_id, r->grant_id, &found, &revoked);
	if (rc == TS_OK)
		rc = insert_refresh(c, r, revoked);
out:
	return ts_pg_write_end(st, c, rc, false);
}

int ts_pg_refresh_get(struct ts_store *st, const char *token_hash, struct ts_refresh_rec **out)
{
	static const char sql[] =
		"SELECT " REFRESH_COLS " FROM refresh_tokens WHERE token_hash = $1";
	const char *args[] = {token_hash};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 1, &res, "refresh get");
	if (rc != TS_OK)
		return rc;
	*out = read_refresh(res, 0);
	if (*out == NULL)
		rc = ts_pg_bad_row("refresh token");
	PQclear(res);
	return rc;
}

/* Inside the rotation's transaction, once the conditional UPDATE changed
 * nothing: reads old_hash's token under a row lock and tells why.
 * TS_ENOTFOUND if it is unknown, TS_ECONFLICT if it was used or revoked,
 * TS_EINVAL if next belongs to another tenant, grant or client (a
 * rotation never moves a token elsewhere). TS_OK means the token was
 * committed after that UPDATE's snapshot was taken and may be rotated
 * after all; it is locked, and this call marks it used. */
static int rotation_check(struct ts_pg_conn *c, const char *old_hash,
			  const struct ts_refresh_rec *next)
{
	static const char lock_sql[] =
		"SELECT tenant_id, grant_id, client_id, used, revoked FROM refresh_tokens"
		" WHERE token_hash = $1 FOR UPDATE";
	static const char use_sql[] = "UPDATE refresh_tokens SET used = 1 WHERE token_hash = $1";
	const char *args[] = {old_hash};
	const char *tenant_id, *grant_id, *client_id;
	PGresult *res = NULL;
	int rc, changed = 0;

	rc = ts_pg_query(c, lock_sql, args, 1, &res, "refresh rotate read");
	if (rc != TS_OK)
		return rc;
	if (PQntuples(res) == 0) {
		rc = TS_ENOTFOUND;
		goto out;
	}
	tenant_id = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
	grant_id = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
	client_id = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
	if (ts_pg_col_bool(res, 0, 3) || ts_pg_col_bool(res, 0, 4))
		rc = TS_ECONFLICT;
	else if (tenant_id == NULL || grant_id == NULL || client_id == NULL)
		rc = ts_pg_bad_row("refresh token");
	else if (strcmp(tenant_id, next->tenant_id) != 0 ||
		 strcmp(grant_id, next->grant_id) != 0 || strcmp(client_id, next->client_id) != 0)
		rc = TS_EINVAL;
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, use_sql, args, 1, &changed, "refresh rotate");
	if (rc == TS_OK && changed != 1)
		rc = TS_ECONFLICT;
out:
	PQclear(res);
	return rc;
}

/* The usual rotation in one statement, so one round trip (autocommit):
 * share-lock the grant (first, as rotate and grant_revoke lock), spend the
 * old token with the same conditional UPDATE as rotate, and only if that
 * changed a row insert the successor (revoked if the grant is) and, with
 * jti, record the access token under the grant (denied at once if the
 * grant is revoked). Data-modifying WITH clauses run exactly once and see
 * one snapshot; a failing insert (a stored hash, a missing user) fails the
 * statement and changes nothing. *spent tells whether the old token was
 * spent; when not, nothing changed, and rotate works out why. */
static int rotate_one_statement(struct ts_store *st, const char *old_hash,
				const struct ts_refresh_rec *r, const char *jti,
				int64_t jti_expires_at, bool *spent)
{
	static const char sql[] =
		"WITH g AS ("
		"  SELECT revoked FROM grants WHERE tenant_id = $2 AND id = $3 FOR SHARE"
		"), spent AS ("
		"  UPDATE refresh_tokens SET used = 1"
		"  WHERE token_hash = $1 AND used = 0 AND revoked = 0"
		"  AND tenant_id = $2 AND grant_id = $3 AND client_id = $4"
		"  AND EXISTS (SELECT 1 FROM g)"
		"  RETURNING 1"
		"), ins AS ("
		"  INSERT INTO refresh_tokens (" REFRESH_COLS ")"
		"  SELECT $5, $2, $3, $4, $6, $7, $8, $9::bigint, $10::bigint, $11::bigint,"
		"   $12::integer, greatest($13::integer, g.revoked) FROM spent, g"
		"  RETURNING 1"
		"), tok AS ("
		"  INSERT INTO grant_tokens (tenant_id, grant_id, jti, expires_at)"
		"  SELECT $2, $3, $14, $15::bigint FROM ins WHERE $14::text IS NOT NULL"
		"  ON CONFLICT (tenant_id, grant_id, jti) DO UPDATE SET"
		"  expires_at = greatest(grant_tokens.expires_at, excluded.expires_at)"
		"  RETURNING 1"
		"), deny AS ("
		"  INSERT INTO revocations (tenant_id, jti, expires_at)"
		"  SELECT $2, $14, $15::bigint FROM tok, g WHERE g.revoked = 1"
		"  ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		"  expires_at = greatest(revocations.expires_at, excluded.expires_at)"
		")"
		" SELECT count(*) FROM ins";
	char auth_time[TS_PG_I64_BUF], issued[TS_PG_I64_BUF], expires[TS_PG_I64_BUF];
	char used[TS_PG_I64_BUF], revoked[TS_PG_I64_BUF], jexp[TS_PG_I64_BUF];
	const char *args[] = {
		old_hash,
		r->tenant_id,
		r->grant_id,
		r->client_id,
		r->token_hash,
		r->user_id,
		r->scope,
		r->resource,
		ts_pg_i64(auth_time, r->auth_time),
		ts_pg_i64(issued, r->issued_at),
		ts_pg_i64(expires, r->expires_at),
		ts_pg_i64(used, r->used ? 1 : 0),
		ts_pg_i64(revoked, r->revoked ? 1 : 0),
		jti,
		ts_pg_i64(jexp, jti_expires_at),
	};
	struct ts_pg_conn *c = NULL;
	PGresult *res = NULL;
	int rc;

	*spent = false;
	rc = ts_pg_conn_get(st, &c);
	if (rc != TS_OK)
		return rc;
	/* No retry on a fresh connection: had a cut connection committed the
	 * statement, a second run would find the token spent and call it a
	 * replay. */
	rc = ts_pg_query(c, sql, args, (int)TS_ARRAY_LEN(args), &res, "refresh rotate");
	if (rc == TS_OK)
		*spent = PQntuples(res) == 1 && ts_pg_col_i64(res, 0, 0) == 1;
	PQclear(res);
	ts_pg_conn_put(st, c);
	return rc;
}

/* RFC 9700 §4.14.2: the old token is spent and its successor stored in
 * one transaction; if storing the successor fails, the rollback leaves
 * the old one unused. With jti, the access token issued with next is
 * recorded under its grant in the same transaction. The conditional
 * UPDATE spends old_hash only if it is unused, unrevoked and of next's
 * tenant, grant and client: of concurrent rotations, the first to lock the
 * row changes it and the others, re-checking after its commit, do not.
 * The usual case is one statement (rotate_one_statement); only when that
 * spends nothing (a replay, an unknown token, another grant, a missing
 * grant, or a token committed after its snapshot) does the transaction
 * below run, to tell which, or to rotate after all. */
static int rotate(struct ts_store *st, const char *old_hash, const struct ts_refresh_rec *next,
		  const char *jti, int64_t jti_expires_at)
{
	static const char use_sql[] =
		"UPDATE refresh_tokens SET used = 1"
		" WHERE token_hash = $1 AND used = 0 AND revoked = 0"
		" AND tenant_id = $2 AND grant_id = $3 AND client_id = $4";
	const char *args[] = {old_hash, next->tenant_id, next->grant_id, next->client_id};
	struct ts_pg_conn *c = NULL;
	bool found, revoked, spent = false;
	int rc, changed = 0;

	rc = rotate_one_statement(st, old_hash, next, jti, jti_expires_at, &spent);
	if (rc != TS_OK || spent)
		return rc;
	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	/* The grant first, then the token: grant_revoke locks in that order
	 * too, so the two never wait on each other in a cycle. A missing
	 * grant is told apart by the checks below. */
	rc = lock_grant(c, next->tenant_id, next->grant_id, &found, &revoked);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, use_sql, args, 4, &changed, "refresh rotate");
	if (rc == TS_OK && changed == 0)
		rc = rotation_check(c, old_hash, next);
	if (rc == TS_OK)
		rc = insert_refresh(c, next, revoked);
	if (rc == TS_OK && jti != NULL)
		rc = record_jti(c, next->tenant_id, next->grant_id, jti, jti_expires_at, revoked);
out:
	return ts_pg_write_end(st, c, rc, false);
}

int ts_pg_refresh_rotate(struct ts_store *st, const char *old_hash,
			 const struct ts_refresh_rec *next)
{
	return rotate(st, old_hash, next, NULL, 0);
}

int ts_pg_refresh_rotate_token(struct ts_store *st, const char *old_hash,
			       const struct ts_refresh_rec *next, const char *jti,
			       int64_t jti_expires_at)
{
	return rotate(st, old_hash, next, jti, jti_expires_at);
}
