/* sqlite_grants.c: authorization codes (RFC 6749 §4.1.2), grants with the
 * access-token ids issued under them, and refresh tokens (RFC 6749 §6,
 * rotated as in RFC 9700 §4.14.2) for the SQLite backend. The single-use
 * steps, code_take and refresh_rotate, check and mark in one IMMEDIATE
 * transaction, which holds the database's write lock from its first
 * statement: of any number of concurrent callers, in this process or
 * another, exactly one sees the row unused. The writes made once or more
 * per token request (code_take, refresh put and rotate, recording an access
 * token) are batched jobs (ts_sq_write_batched) so that concurrent requests
 * share a commit; a job runs after the earlier ones of its batch and sees
 * their writes. No write here bumps the generation. */
#include "sqlite_int.h"

#include <string.h>

static struct ts_code_rec *read_code(sqlite3_stmt *s)
{
	struct ts_code_rec *r = ts_xcalloc(1, sizeof(*r));

	r->code_hash = ts_sq_col_dup(s, 0);
	r->tenant_id = ts_sq_col_dup(s, 1);
	r->client_id = ts_sq_col_dup(s, 2);
	r->user_id = ts_sq_col_dup(s, 3);
	r->grant_id = ts_sq_col_dup(s, 4);
	r->redirect_uri = ts_sq_col_dup(s, 5);
	r->scope = ts_sq_col_dup(s, 6);
	r->nonce = ts_sq_col_dup(s, 7);
	r->code_challenge = ts_sq_col_dup(s, 8);
	r->resource = ts_sq_col_dup(s, 9);
	r->session_id_hash = ts_sq_col_dup(s, 10);
	r->auth_time = sqlite3_column_int64(s, 11);
	r->expires_at = sqlite3_column_int64(s, 12);
	r->used = sqlite3_column_int(s, 13) != 0;
	if (r->code_hash == NULL || r->tenant_id == NULL || r->client_id == NULL ||
	    r->user_id == NULL || r->grant_id == NULL || r->scope == NULL) {
		ts_code_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_grant_rec *read_grant(sqlite3_stmt *s)
{
	struct ts_grant_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_sq_col_dup(s, 0);
	r->id = ts_sq_col_dup(s, 1);
	r->client_id = ts_sq_col_dup(s, 2);
	r->user_id = ts_sq_col_dup(s, 3);
	r->scope = ts_sq_col_dup(s, 4);
	r->auth_time = sqlite3_column_int64(s, 5);
	r->created_at = sqlite3_column_int64(s, 6);
	r->revoked = sqlite3_column_int(s, 7) != 0;
	if (r->tenant_id == NULL || r->id == NULL || r->client_id == NULL || r->scope == NULL) {
		ts_grant_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_refresh_rec *read_refresh(sqlite3_stmt *s)
{
	struct ts_refresh_rec *r = ts_xcalloc(1, sizeof(*r));

	r->token_hash = ts_sq_col_dup(s, 0);
	r->tenant_id = ts_sq_col_dup(s, 1);
	r->grant_id = ts_sq_col_dup(s, 2);
	r->client_id = ts_sq_col_dup(s, 3);
	r->user_id = ts_sq_col_dup(s, 4);
	r->scope = ts_sq_col_dup(s, 5);
	r->resource = ts_sq_col_dup(s, 6);
	r->auth_time = sqlite3_column_int64(s, 7);
	r->issued_at = sqlite3_column_int64(s, 8);
	r->expires_at = sqlite3_column_int64(s, 9);
	r->used = sqlite3_column_int(s, 10) != 0;
	r->revoked = sqlite3_column_int(s, 11) != 0;
	if (r->token_hash == NULL || r->tenant_id == NULL || r->grant_id == NULL ||
	    r->client_id == NULL || r->scope == NULL) {
		ts_refresh_rec_free(r);
		return NULL;
	}
	return r;
}

int ts_sq_code_put(struct ts_store *st, const struct ts_code_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CODE_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->code_hash) || ts_sq_bind_str(s, 2, r->tenant_id) ||
	    ts_sq_bind_str(s, 3, r->client_id) || ts_sq_bind_str(s, 4, r->user_id) ||
	    ts_sq_bind_str(s, 5, r->grant_id) || ts_sq_bind_str(s, 6, r->redirect_uri) ||
	    ts_sq_bind_str(s, 7, r->scope) || ts_sq_bind_str(s, 8, r->nonce) ||
	    ts_sq_bind_str(s, 9, r->code_challenge) || ts_sq_bind_str(s, 10, r->resource) ||
	    ts_sq_bind_str(s, 11, r->session_id_hash) ||
	    sqlite3_bind_int64(s, 12, r->auth_time) || sqlite3_bind_int64(s, 13, r->expires_at)) {
		rc = ts_sq_fail(c->db, "code put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "code put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

/* code_take as a batched job: the code, and the record read back. */
struct take_args {
	const char *code_hash;
	struct ts_code_rec *rec; /* set with TS_OK or TS_ECONFLICT; owned by the caller */
};

/* Marks the code used if it was not, then reads it back, all under the
 * write lock: `changed` says whether this call was the one that took it. */
static int code_take_job(struct ts_sq_conn *c, void *arg)
{
	struct take_args *a = arg;
	const char *args[] = {a->code_hash};
	sqlite3_stmt *s = NULL;
	struct ts_code_rec *r = NULL;
	int rc, src, changed = 0;

	rc = ts_sq_exec(c, TS_SQ_CODE_USE, args, 1, &changed, "code take");
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CODE_GET, &s);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_bind_strs(c, s, args, 1, "code take read");
	if (rc != TS_OK)
		goto out;
	src = sqlite3_step(s);
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? TS_ENOTFOUND : ts_sq_fail(c->db, "code take read");
		goto out;
	}
	r = read_code(s);
	if (r == NULL) {
		rc = ts_sq_bad_row("code");
		goto out;
	}
	/* RFC 6749 §4.1.2: a second use is a replay; the caller gets the
	 * record anyway so that it can revoke the grant (nothing changed, so
	 * the rollback that follows loses nothing). */
	rc = changed == 1 ? TS_OK : TS_ECONFLICT;
	a->rec = r;
	r = NULL;
out:
	ts_sq_stmt_done(s);
	ts_code_rec_free(r);
	return rc;
}

int ts_sq_code_take(struct ts_store *st, const char *code_hash, struct ts_code_rec **out)
{
	struct take_args a = {.code_hash = code_hash};
	int rc;

	rc = ts_sq_write_batched(st, code_take_job, &a, false);
	/* A TS_OK whose commit failed has become that failure: the code
	 * stays unused, and its record is dropped. */
	if (rc == TS_OK || rc == TS_ECONFLICT) {
		*out = a.rec;
		a.rec = NULL;
	}
	ts_code_rec_free(a.rec);
	return rc;
}

int ts_sq_grant_put(struct ts_store *st, const struct ts_grant_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_GRANT_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->id) ||
	    ts_sq_bind_str(s, 3, r->client_id) || ts_sq_bind_str(s, 4, r->user_id) ||
	    ts_sq_bind_str(s, 5, r->scope) || sqlite3_bind_int64(s, 6, r->auth_time) ||
	    sqlite3_bind_int64(s, 7, r->created_at) || sqlite3_bind_int(s, 8, r->revoked ? 1 : 0)) {
		rc = ts_sq_fail(c->db, "grant put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "grant put");
	if (rc == TS_OK && sqlite3_changes(c->db) == 0)
		rc = TS_EEXIST;
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_grant_get(struct ts_store *st, const char *tenant_id, const char *id,
		    struct ts_grant_rec **out)
{
	const char *args[] = {tenant_id, id};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_GRANT_GET, args, 2, &c, &s, "grant get");
	if (rc == TS_OK && (*out = read_grant(s)) == NULL)
		rc = ts_sq_bad_row("grant");
	ts_sq_read_end(st, c, s);
	return rc;
}

/* Runs statement id with (tenant_id, grant_id, jti, expires_at) as ?1..?4
 * inside the caller's transaction. */
static int exec_jti(struct ts_sq_conn *c, enum ts_sq_stmt id, const char *tenant_id,
		    const char *grant_id, const char *jti, int64_t expires_at, const char *what)
{
	const char *args[] = {tenant_id, grant_id, jti};
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_stmt(c, id, &s);
	if (rc != TS_OK)
		return rc;
	rc = ts_sq_bind_strs(c, s, args, 3, what);
	if (rc == TS_OK && sqlite3_bind_int64(s, 4, expires_at) != SQLITE_OK)
		rc = ts_sq_fail(c->db, what);
	if (rc != TS_OK) {
		ts_sq_stmt_done(s);
		return rc;
	}
	return ts_sq_run(c, s, what);
}

/* Records jti under the grant, and denies it at once if the grant is
 * revoked, inside the caller's transaction. */
static int record_jti(struct ts_sq_conn *c, const char *tenant_id, const char *grant_id,
		      const char *jti, int64_t expires_at)
{
	int rc;

	rc = exec_jti(c, TS_SQ_GRANT_TOKEN_ADD, tenant_id, grant_id, jti, expires_at,
		      "grant token add");
	if (rc != TS_OK)
		return rc;
	return exec_jti(c, TS_SQ_GRANT_TOKEN_DENY, tenant_id, grant_id, jti, expires_at,
			"grant token deny");
}

/* grant_token_add as a batched job. */
struct jti_args {
	const char *tenant_id, *grant_id, *jti;
	int64_t expires_at;
};

static int jti_job(struct ts_sq_conn *c, void *arg)
{
	const struct jti_args *a = arg;

	return record_jti(c, a->tenant_id, a->grant_id, a->jti, a->expires_at);
}

int ts_sq_grant_token_add(struct ts_store *st, const char *tenant_id, const char *grant_id,
			  const char *jti, int64_t expires_at)
{
	struct jti_args a = {
		.tenant_id = tenant_id, .grant_id = grant_id, .jti = jti, .expires_at = expires_at};

	return ts_sq_write_batched(st, jti_job, &a, false);
}

/* All or nothing: a grant half revoked would leave a way back in. */
int ts_sq_grant_revoke(struct ts_store *st, const char *tenant_id, const char *grant_id)
{
	static const struct {
		enum ts_sq_stmt id;
		const char *what;
	} steps[] = {
		{TS_SQ_GRANT_REVOKE, "grant revoke"},
		{TS_SQ_GRANT_REVOKE_REFRESH, "grant revoke refresh tokens"},
		{TS_SQ_GRANT_REVOKE_CODES, "grant revoke codes"},
		{TS_SQ_GRANT_DENY_TOKENS, "grant revoke access tokens"},
	};
	const char *args[] = {tenant_id, grant_id};
	struct ts_sq_conn *c = NULL;
	size_t i;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	for (i = 0; i < TS_ARRAY_LEN(steps) && rc == TS_OK; i++)
		rc = ts_sq_exec(c, steps[i].id, args, 2, NULL, steps[i].what);
	return ts_sq_write_end(st, c, rc, false);
}

/* Inserts r inside the caller's transaction. */
static int insert_refresh(struct ts_sq_conn *c, const struct ts_refresh_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_stmt(c, TS_SQ_REFRESH_PUT, &s);
	if (rc != TS_OK)
		return rc;
	if (ts_sq_bind_str(s, 1, r->token_hash) || ts_sq_bind_str(s, 2, r->tenant_id) ||
	    ts_sq_bind_str(s, 3, r->grant_id) || ts_sq_bind_str(s, 4, r->client_id) ||
	    ts_sq_bind_str(s, 5, r->user_id) || ts_sq_bind_str(s, 6, r->scope) ||
	    ts_sq_bind_str(s, 7, r->resource) || sqlite3_bind_int64(s, 8, r->auth_time) ||
	    sqlite3_bind_int64(s, 9, r->issued_at) || sqlite3_bind_int64(s, 10, r->expires_at) ||
	    sqlite3_bind_int(s, 11, r->used ? 1 : 0) || sqlite3_bind_int(s, 12, r->revoked ? 1 : 0)) {
		rc = ts_sq_fail(c->db, "refresh put bind");
		ts_sq_stmt_done(s);
		return rc;
	}
	return ts_sq_run(c, s, "refresh put");
}

int ts_sq_refresh_get(struct ts_store *st, const char *token_hash, struct ts_refresh_rec **out)
{
	const char *args[] = {token_hash};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_REFRESH_GET, args, 1, &c, &s, "refresh get");
	if (rc == TS_OK && (*out = read_refresh(s)) == NULL)
		rc = ts_sq_bad_row("refresh token");
	ts_sq_read_end(st, c, s);
	return rc;
}

/* Inside the rotation's transaction: TS_OK if old_hash may be rotated
 * into next, TS_ENOTFOUND if it is unknown, TS_ECONFLICT if it was used
 * or revoked, TS_EINVAL if next belongs to another tenant, grant or
 * client (a rotation never moves a token elsewhere). */
static int rotation_check(struct ts_sq_conn *c, const char *old_hash,
			  const struct ts_refresh_rec *next)
{
	const char *args[] = {old_hash};
	sqlite3_stmt *s = NULL;
	const char *tenant_id, *grant_id, *client_id;
	int rc, src;

	rc = ts_sq_stmt(c, TS_SQ_REFRESH_STATE, &s);
	if (rc != TS_OK)
		return rc;
	rc = ts_sq_bind_strs(c, s, args, 1, "refresh rotate read");
	if (rc != TS_OK)
		goto out;
	src = sqlite3_step(s);
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? TS_ENOTFOUND : ts_sq_fail(c->db, "refresh rotate read");
		goto out;
	}
	tenant_id = (const char *)sqlite3_column_text(s, 0);
	grant_id = (const char *)sqlite3_column_text(s, 1);
	client_id = (const char *)sqlite3_column_text(s, 2);
	if (sqlite3_column_int(s, 3) != 0 || sqlite3_column_int(s, 4) != 0)
		rc = TS_ECONFLICT;
	else if (tenant_id == NULL || grant_id == NULL || client_id == NULL)
		rc = ts_sq_bad_row("refresh token");
	else if (strcmp(tenant_id, next->tenant_id) != 0 ||
		 strcmp(grant_id, next->grant_id) != 0 || strcmp(client_id, next->client_id) != 0)
		rc = TS_EINVAL;
out:
	ts_sq_stmt_done(s);
	return rc;
}

/* RFC 9700 §4.14.2: the old token is spent and its successor stored in
 * one transaction; if storing the successor fails, the old one stays
 * unused. */
/* The rotation itself, inside the caller's write transaction. */
static int rotate_in(struct ts_sq_conn *c, const char *old_hash, const struct ts_refresh_rec *next)
{
	const char *args[] = {old_hash};
	int rc, changed = 0;

	rc = rotation_check(c, old_hash, next);
	if (rc != TS_OK)
		return rc;
	rc = ts_sq_exec(c, TS_SQ_REFRESH_USE, args, 1, &changed, "refresh rotate");
	if (rc != TS_OK)
		return rc;
	/* Cannot happen under the write lock, but if it did, the token was
	 * spent by someone else. */
	if (changed != 1)
		return TS_ECONFLICT;
	return insert_refresh(c, next);
}

/* refresh_put, and refresh_rotate (with old_hash) and refresh_rotate_token
 * (with old_hash and jti), as batched jobs. */
struct refresh_args {
	const char *old_hash; /* the token rotated into next, or NULL for a put */
	const struct ts_refresh_rec *next;
	const char *jti;      /* the access token issued with next, or NULL */
	int64_t jti_expires_at;
};

static int refresh_job(struct ts_sq_conn *c, void *arg)
{
	const struct refresh_args *a = arg;
	int rc;

	if (a->old_hash == NULL)
		return insert_refresh(c, a->next);
	rc = rotate_in(c, a->old_hash, a->next);
	if (rc == TS_OK && a->jti != NULL)
		rc = record_jti(c, a->next->tenant_id, a->next->grant_id, a->jti,
				a->jti_expires_at);
	return rc;
}

int ts_sq_refresh_put(struct ts_store *st, const struct ts_refresh_rec *r)
{
	struct refresh_args a = {.next = r};

	return ts_sq_write_batched(st, refresh_job, &a, false);
}

int ts_sq_refresh_rotate(struct ts_store *st, const char *old_hash,
			 const struct ts_refresh_rec *next)
{
	struct refresh_args a = {.old_hash = old_hash, .next = next};

	return ts_sq_write_batched(st, refresh_job, &a, false);
}

int ts_sq_refresh_rotate_token(struct ts_store *st, const char *old_hash,
			       const struct ts_refresh_rec *next, const char *jti,
			       int64_t jti_expires_at)
{
	struct refresh_args a = {
		.old_hash = old_hash, .next = next, .jti = jti, .jti_expires_at = jti_expires_at};

	return ts_sq_write_batched(st, refresh_job, &a, false);
}
