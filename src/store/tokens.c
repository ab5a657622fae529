/* tokens.c: authorization codes (RFC 6749 §4.1.2), grants with the
 * access-token ids issued under them, and refresh tokens (RFC 6749 §6,
 * rotated as in RFC 9700 §4.14.2), for every driver. The single-use
 * steps, code_take and refresh rotation, spend the row with one
 * conditional UPDATE: of any number of concurrent callers, in this process
 * or another, exactly one changes it (SQLite runs them under its write
 * lock; PostgreSQL's callers queue on the row lock and re-check the
 * condition once the winner commits). Every write that issues under a
 * grant first reads whether it is revoked (GRANT_LOCK, a share lock on
 * PostgreSQL that grant_revoke waits for), so a revocation and an issuance
 * never miss each other. The writes made once or more per token request
 * are batched (ts_q_batched: group commit on SQLite). No write here moves
 * the generation. */
#include "q.h"
#include "store_tokens.h"
#include "revcache.h"

#include <stdlib.h>
#include <string.h>

/* Code and refresh-token digests, and the session digest a code carries,
 * are bearer secrets: wiped when freed. */
static const struct ts_col code_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_code_rec, code_hash, TS_COL_REQUIRED | TS_COL_SECRET),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, client_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, user_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, grant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, redirect_uri, 0),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, scope, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, nonce, 0),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, code_challenge, 0),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, resource, 0),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, session_id_hash, TS_COL_SECRET),
	TS_COL(TS_COL_TEXT, struct ts_code_rec, dpop_jkt, 0),
	TS_COL(TS_COL_I64, struct ts_code_rec, auth_time, 0),
	TS_COL(TS_COL_I64, struct ts_code_rec, expires_at, 0),
	TS_COL(TS_COL_BOOL, struct ts_code_rec, used, 0),
};
static const struct ts_rec_desc code_desc = TS_REC_DESC("code", struct ts_code_rec, code_cols);

static const struct ts_col grant_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_grant_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_grant_rec, id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_grant_rec, client_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_grant_rec, user_id, 0),
	TS_COL(TS_COL_TEXT, struct ts_grant_rec, scope, TS_COL_REQUIRED),
	TS_COL(TS_COL_I64, struct ts_grant_rec, auth_time, 0),
	TS_COL(TS_COL_I64, struct ts_grant_rec, created_at, 0),
	TS_COL(TS_COL_BOOL, struct ts_grant_rec, revoked, 0),
};
static const struct ts_rec_desc grant_desc = TS_REC_DESC("grant", struct ts_grant_rec, grant_cols);

static const struct ts_col refresh_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, token_hash, TS_COL_REQUIRED | TS_COL_SECRET),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, grant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, client_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, user_id, 0),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, scope, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, resource, 0),
	TS_COL(TS_COL_I64, struct ts_refresh_rec, auth_time, 0),
	TS_COL(TS_COL_I64, struct ts_refresh_rec, issued_at, 0),
	TS_COL(TS_COL_I64, struct ts_refresh_rec, expires_at, 0),
	TS_COL(TS_COL_BOOL, struct ts_refresh_rec, used, 0),
	TS_COL(TS_COL_BOOL, struct ts_refresh_rec, revoked, 0),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, parent_hash, TS_COL_SECRET),
	TS_COL(TS_COL_I64, struct ts_refresh_rec, rotated_at, 0),
	TS_COL(TS_COL_TEXT, struct ts_refresh_rec, access_jti, 0),
};
static const struct ts_rec_desc refresh_desc =
	TS_REC_DESC("refresh token", struct ts_refresh_rec, refresh_cols);
/* REFRESH_PUT binds every column; its revoked (the last) may be raised. */
/* revoked, and the three columns only the rotations set, after it. */
#define REFRESH_REVOKED_ARG (TS_ARRAY_LEN(refresh_cols) - 4)

/* GRANT_LOCK's row. */
struct grant_state {
	bool revoked;
};
static const struct ts_col grant_state_cols[] = {
	TS_COL(TS_COL_BOOL, struct grant_state, revoked, 0),
};
static const struct ts_rec_desc grant_state_desc =
	TS_REC_DESC("grant", struct grant_state, grant_state_cols);

/* REFRESH_STATE's row. */
struct refresh_state {
	char *tenant_id, *grant_id, *client_id;
	bool used, revoked;
};
static const struct ts_col refresh_state_cols[] = {
	TS_COL(TS_COL_TEXT, struct refresh_state, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct refresh_state, grant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct refresh_state, client_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_BOOL, struct refresh_state, used, 0),
	TS_COL(TS_COL_BOOL, struct refresh_state, revoked, 0),
};
static const struct ts_rec_desc refresh_state_desc =
	TS_REC_DESC("refresh token", struct refresh_state, refresh_state_cols);

/* The fields a refresh token cannot be stored without. */
static bool refresh_rec_ok(const struct ts_refresh_rec *r)
{
	return r != NULL && ts_q_nonempty(r->token_hash) && r->tenant_id != NULL &&
	       r->grant_id != NULL && r->client_id != NULL && r->scope != NULL;
}

/* ---- authorization codes ---- */

/* A missing tenant or user fails on a foreign key (TS_ENOTFOUND), a stored
 * hash on the primary key (TS_EEXIST). */
int ts_store_code_put(struct ts_store *st, const struct ts_code_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(code_cols)];

	if (st == NULL || rec == NULL || !ts_q_nonempty(rec->code_hash) || rec->tenant_id == NULL ||
	    rec->client_id == NULL || rec->user_id == NULL || rec->grant_id == NULL ||
	    rec->scope == NULL)
		return TS_EINVAL;
	ts_rec_args(&code_desc, rec, a);
	/* Every column but used, which a new code starts without. */
	return ts_q_write1(st, true, TS_SQL_CODE_PUT, a, code_desc.ncols - 1, 0, "code put");
}

/* code_take as a batched job: the code, and the record read back. */
struct take_args {
	struct ts_store *st;
	const char *code_hash;
	struct ts_code_rec rec; /* filled with TS_OK or TS_ECONFLICT */
};

static int code_take_job(struct ts_drv_conn *c, void *arg)
{
	struct take_args *a = arg;
	const struct ts_arg args[] = {TS_TXT(a->code_hash)};
	int rc, changed = 0;

	rc = ts_q_row(a->st, c, TS_SQL_CODE_TAKE, args, 1, &code_desc, &a->rec, "code take");
	if (rc != TS_ENOTFOUND)
		return rc;
	rc = ts_q_row(a->st, c, TS_SQL_CODE_LOCK, args, 1, &code_desc, &a->rec, "code take read");
	if (rc != TS_OK)
		return rc;
	/* RFC 6749 §4.1.2: a second use is a replay; the caller gets the
	 * record anyway so that it can revoke the grant (nothing changed, so
	 * the rollback that follows loses nothing). */
	if (a->rec.used)
		return TS_ECONFLICT;
	/* Committed after CODE_TAKE's snapshot (PostgreSQL): locked now, and
	 * taken after all. */
	rc = ts_q_exec(a->st, c, TS_SQL_CODE_USE, args, 1, &changed, "code take");
	if (rc == TS_OK && changed != 1)
		rc = TS_ECONFLICT;
	a->rec.used = true;
	return rc;
}

int ts_store_code_take(struct ts_store *st, const char *code_hash, struct ts_code_rec **out)
{
	struct take_args a = {.st = st, .code_hash = code_hash};
	int rc;

	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || code_hash == NULL)
		return TS_EINVAL;
	rc = ts_q_batched(st, code_take_job, &a, false);
	/* A TS_OK whose commit failed has become that failure: the code stays
	 * unused, and its record is dropped. */
	if (rc == TS_OK || rc == TS_ECONFLICT) {
		*out = ts_xmalloc(sizeof(**out));
		**out = a.rec;
		return rc;
	}
	ts_rec_clear(&code_desc, &a.rec);
	return rc;
}

TS_REC_FREE_FN(ts_code_rec_free, struct ts_code_rec, code_desc)

/* ---- grants ---- */

int ts_store_grant_put(struct ts_store *st, const struct ts_grant_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(grant_cols)];
	struct ts_drv_conn *c = NULL;
	int rc, changed = 0;

	if (st == NULL || rec == NULL || rec->tenant_id == NULL || !ts_q_nonempty(rec->id) ||
	    rec->client_id == NULL || rec->scope == NULL)
		return TS_EINVAL;
	ts_rec_args(&grant_desc, rec, a);
	rc = ts_txn_begin(st, &c);
	if (rc == TS_OK)
		rc = ts_q_exec(st, c, TS_SQL_GRANT_PUT, a, grant_desc.ncols, &changed, "grant put");
	if (rc == TS_OK && changed == 0)
		rc = TS_EEXIST;
	return ts_txn_end(st, c, rc, false);
}

int ts_store_grant_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_grant_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id)};

	return ts_q_fetch(st, tenant_id != NULL && id != NULL, TS_SQL_GRANT_GET, a, 2, &grant_desc,
			  (void **)out, "grant get");
}

/* Inside the caller's transaction: whether the grant exists (*found) and
 * is revoked, locking it against a revocation on PostgreSQL. */
static int lock_grant(struct ts_store *st, struct ts_drv_conn *c, const char *tenant_id,
		      const char *grant_id, bool *found, bool *revoked)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(grant_id)};
	struct grant_state g = {0};
	int rc;

	*found = false;
	*revoked = false;
	rc = ts_q_row(st, c, TS_SQL_GRANT_LOCK, a, 2, &grant_state_desc, &g, "grant lock");
	if (rc == TS_ENOTFOUND)
		return TS_OK;
	*found = rc == TS_OK;
	*revoked = g.revoked;
	return rc;
}

/* Records jti under the grant, inside the caller's transaction, which has
 * read the grant (lock_grant): a token recorded under a revoked grant is
 * denied at once (as revoke_put). */
static int record_jti(struct ts_store *st, struct ts_drv_conn *c, const char *tenant_id,
		      const char *grant_id, const char *jti, int64_t expires_at, bool grant_revoked)
{
	const struct ts_arg add[] = {TS_TXT(tenant_id), TS_TXT(grant_id), TS_TXT(jti),
				     TS_I64(expires_at)};
	const struct ts_arg deny[] = {TS_TXT(tenant_id), TS_TXT(jti), TS_I64(expires_at)};
	int rc;

	rc = ts_q_exec(st, c, TS_SQL_GRANT_TOKEN_ADD, add, 4, NULL, "grant token add");
	if (rc != TS_OK || !grant_revoked)
		return rc;
	return ts_q_exec(st, c, TS_SQL_REVOKE_PUT, deny, 3, NULL, "grant token deny");
}

/* grant_token_add as a batched job. */
struct jti_args {
	struct ts_store *st;
	const char *tenant_id, *grant_id, *jti;
	int64_t expires_at;
};

static int jti_job(struct ts_drv_conn *c, void *arg)
{
	const struct jti_args *a = arg;
	bool found, revoked;
	int rc;

	rc = lock_grant(a->st, c, a->tenant_id, a->grant_id, &found, &revoked);
	if (rc == TS_OK && !found)
		rc = TS_ENOTFOUND;
	if (rc == TS_OK)
		rc = record_jti(a->st, c, a->tenant_id, a->grant_id, a->jti, a->expires_at, revoked);
	return rc;
}

int ts_store_grant_token_add(struct ts_store *st, const char *tenant_id, const char *grant_id,
			     const char *jti, int64_t expires_at)
{
	struct jti_args a = {.st = st,
			     .tenant_id = tenant_id,
			     .grant_id = grant_id,
			     .jti = jti,
			     .expires_at = expires_at};

	if (st == NULL || tenant_id == NULL || grant_id == NULL || !ts_q_nonempty(jti))
		return TS_EINVAL;
	return ts_q_batched(st, jti_job, &a, false);
}

/* All or nothing: a grant half revoked would leave a way back in. */
int ts_store_grant_revoke(struct ts_store *st, const char *tenant_id, const char *grant_id)
{
	static const enum ts_sql steps[] = {
		TS_SQL_GRANT_REVOKE,
		TS_SQL_GRANT_REVOKE_REFRESH,
		TS_SQL_GRANT_REVOKE_CODES,
		TS_SQL_GRANT_DENY_TOKENS,
	};
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(grant_id)};
	int r;

	if (st == NULL || tenant_id == NULL || grant_id == NULL)
		return TS_EINVAL;
	r = ts_q_steps(st, steps, TS_ARRAY_LEN(steps), a, 2, false, "grant revoke");
	/* The grant's tokens are denied by id in storage: forget every "not
	 * revoked" answer rather than name them here. */
	ts_revcache_bump(st->revcache);
	return r;
}

TS_REC_FREE_FN(ts_grant_rec_free, struct ts_grant_rec, grant_desc)

/* ---- refresh tokens ---- */

/* Inserts r inside the caller's transaction, which has read its grant
 * (lock_grant): a token of a revoked grant is stored revoked. */
static int insert_refresh(struct ts_store *st, struct ts_drv_conn *c,
			  const struct ts_refresh_rec *r, bool grant_revoked)
{
	struct ts_arg a[TS_ARRAY_LEN(refresh_cols)];

	ts_rec_args(&refresh_desc, r, a);
	a[REFRESH_REVOKED_ARG] = TS_I64(r->revoked || grant_revoked ? 1 : 0);
	return ts_q_exec(st, c, TS_SQL_REFRESH_PUT, a, refresh_desc.ncols, NULL, "refresh put");
}

/* Inside the rotation's transaction, once REFRESH_SPEND changed nothing:
 * TS_ENOTFOUND if old_hash is unknown, TS_ECONFLICT if it was used or
 * revoked, TS_EINVAL if next belongs to another tenant, grant or client (a
 * rotation never moves a token elsewhere). TS_OK (PostgreSQL only) when
 * the token was committed after REFRESH_SPEND's snapshot: it is locked now,
 * and spent here. */
static int rotation_check(struct ts_store *st, struct ts_drv_conn *c, const char *old_hash,
			  const struct ts_refresh_rec *next)
{
	const struct ts_arg a[] = {TS_TXT(old_hash)};
	struct refresh_state s = {0};
	int rc, changed = 0;

	rc = ts_q_row(st, c, TS_SQL_REFRESH_STATE, a, 1, &refresh_state_desc, &s,
		      "refresh rotate read");
	if (rc != TS_OK)
		return rc;
	if (s.used || s.revoked)
		rc = TS_ECONFLICT;
	else if (strcmp(s.tenant_id, next->tenant_id) != 0 ||
		 strcmp(s.grant_id, next->grant_id) != 0 || strcmp(s.client_id, next->client_id) != 0)
		rc = TS_EINVAL;
	ts_rec_clear(&refresh_state_desc, &s);
	if (rc != TS_OK)
		return rc;
	rc = ts_q_exec(st, c, TS_SQL_REFRESH_USE, a, 1, &changed, "refresh rotate");
	if (rc == TS_OK && changed != 1)
		rc = TS_ECONFLICT;
	return rc;
}

/* refresh_put, and the rotations (with old_hash; with jti, the access
 * token issued with next is recorded under its grant in the same
 * transaction), as batched jobs. */
struct refresh_args {
	struct ts_store *st;
	const char *old_hash; /* the token rotated into next, or NULL for a put */
	const struct ts_refresh_rec *next;
	const char *jti;      /* the access token issued with next, or NULL */
	int64_t jti_expires_at;
};

/* RFC 9700 §4.14.2: the old token is spent and its successor stored in one
 * transaction; if storing the successor fails, the old one stays unused.
 * The grant is read first, then the token: grant_revoke locks in that
 * order too, so the two never wait on each other in a cycle. A missing
 * grant is left to the insert's foreign key, so that a stored hash is
 * TS_EEXIST whatever its grant. */
static int refresh_job(struct ts_drv_conn *c, void *arg)
{
	const struct refresh_args *a = arg;
	const struct ts_refresh_rec *n = a->next;
	const struct ts_arg spend[] = {TS_TXT(a->old_hash), TS_TXT(n->tenant_id),
				       TS_TXT(n->grant_id), TS_TXT(n->client_id)};
	bool found, revoked;
	int rc, changed = 0;

	rc = lock_grant(a->st, c, n->tenant_id, n->grant_id, &found, &revoked);
	if (rc != TS_OK || a->old_hash == NULL)
		return rc == TS_OK ? insert_refresh(a->st, c, n, revoked) : rc;
	rc = ts_q_exec(a->st, c, TS_SQL_REFRESH_SPEND, spend, 4, &changed, "refresh rotate");
	if (rc == TS_OK && changed == 0)
		rc = rotation_check(a->st, c, a->old_hash, n);
	if (rc == TS_OK)
		rc = insert_refresh(a->st, c, n, revoked);
	if (rc == TS_OK && a->jti != NULL)
		rc = record_jti(a->st, c, n->tenant_id, n->grant_id, a->jti, a->jti_expires_at,
				revoked);
	return rc;
}

/* The rotation as one statement where the dialect has it (PostgreSQL: one
 * round trip, autocommit). *spent tells whether it spent the old token;
 * when not, nothing changed, and the batched job works out why. No retry
 * on a fresh connection: had a cut connection committed the statement, a
 * second run would find the token spent and call it a replay. */
static int rotate_one(struct ts_store *st, const struct refresh_args *a, bool *spent)
{
	const struct ts_refresh_rec *r = a->next;
	const struct ts_arg args[] = {
		TS_TXT(a->old_hash),  TS_TXT(r->tenant_id), TS_TXT(r->grant_id),
		TS_TXT(r->client_id), TS_TXT(r->token_hash), TS_TXT(r->user_id),
		TS_TXT(r->scope),     TS_TXT(r->resource),   TS_I64(r->auth_time),
		TS_I64(r->issued_at), TS_I64(r->expires_at), TS_I64(r->used ? 1 : 0),
		TS_I64(r->revoked ? 1 : 0), TS_TXT(a->jti), TS_I64(a->jti_expires_at),
	};
	const struct ts_drv *d = st->drv;
	struct ts_drv_conn *c = NULL;
	struct ts_cur cur = {0};
	int rc;

	*spent = false;
	rc = ts_txn_conn_get(st, &c);
	if (rc != TS_OK)
		return rc;
	rc = d->query(c, TS_SQL_REFRESH_ROTATE_ONE, args, (int)TS_ARRAY_LEN(args), &cur,
		      "refresh rotate");
	if (rc == TS_OK && d->next(&cur, "refresh rotate") == TS_OK)
		*spent = d->i64(&cur, 0) == 1;
	d->done(&cur);
	ts_txn_conn_put(st, c);
	return rc;
}

/* The successor names the token it succeeds, when that was rotated (now:
 * the start of its grace window) and the access token issued with it. */
static int rotate(struct ts_store *st, const struct refresh_args *in)
{
	struct ts_refresh_rec n = *in->next;
	struct refresh_args a = *in;
	bool spent = false;
	int rc;

	n.parent_hash = (char *)in->old_hash;
	n.rotated_at = n.issued_at;
	n.access_jti = (char *)in->jti;
	a.next = &n;
	if (ts_q_has(st, TS_SQL_REFRESH_ROTATE_ONE)) {
		rc = rotate_one(st, &a, &spent);
		if (rc != TS_OK || spent)
			return rc;
	}
	return ts_q_batched(st, refresh_job, &a, false);
}

/* REFRESH_REGRACE's row, and REFRESH_CHILDREN's. */
struct regrace_row {
	char *access_jti;
	int64_t rotated_at;
};
static const struct ts_col regrace_cols[] = {
	TS_COL(TS_COL_TEXT, struct regrace_row, access_jti, 0),
	TS_COL(TS_COL_I64, struct regrace_row, rotated_at, 0),
};
static const struct ts_rec_desc regrace_desc =
	TS_REC_DESC("refresh token", struct regrace_row, regrace_cols);
struct children_row {
	int64_t any_used, any_live, replaced;
};
static const struct ts_col children_cols[] = {
	TS_COL(TS_COL_I64, struct children_row, any_used, 0),
	TS_COL(TS_COL_I64, struct children_row, any_live, 0),
	TS_COL(TS_COL_I64, struct children_row, replaced, 0),
};
static const struct ts_rec_desc children_desc =
	TS_REC_DESC("refresh token", struct children_row, children_cols);

struct regrace_args {
	struct ts_store *st;
	const char *old_hash;
	int64_t not_before;
	const struct ts_refresh_rec *next;
	const char *jti;
	int64_t jti_expires_at;
};

/* Once REFRESH_REGRACE replaced nothing: a used successor (or none, or
 * only dead ones) is reuse; a live one inside the window was put there by
 * a concurrent retry that committed after this one's snapshot, and a
 * token that a retry replaced while it was presented is dead, not reused
 * (the grant is not revoked: regrace_job has checked). */
static int regrace_why(struct ts_store *st, struct ts_drv_conn *c, const struct regrace_args *a)
{
	const struct ts_arg q[] = {TS_TXT(a->old_hash), TS_I64(a->not_before)};
	struct children_row ch = {0};
	int rc;

	rc = ts_q_row(st, c, TS_SQL_REFRESH_CHILDREN, q, 2, &children_desc, &ch,
		      "refresh regrace read");
	if (rc == TS_ENOTFOUND)
		return TS_ECONFLICT;
	if (rc != TS_OK)
		return rc;
	if (ch.replaced != 0)
		return TS_EDENIED;
	return ch.any_used == 0 && ch.any_live != 0 ? TS_EDENIED : TS_ECONFLICT;
}

/* The grant first (as refresh_job), then the one conditional UPDATE that
 * decides the winner; the successor's replacement commits with it. */
static int regrace_job(struct ts_drv_conn *c, void *arg)
{
	const struct regrace_args *a = arg;
	struct ts_refresh_rec n = *a->next;
	const struct ts_arg up[] = {TS_TXT(a->old_hash), TS_TXT(n.tenant_id), TS_TXT(n.grant_id),
				    TS_TXT(n.client_id), TS_I64(a->not_before)};
	struct regrace_row old = {0};
	bool found, revoked;
	int rc;

	rc = lock_grant(a->st, c, n.tenant_id, n.grant_id, &found, &revoked);
	if (rc == TS_OK && (!found || revoked))
		return TS_ECONFLICT;
	if (rc == TS_OK)
		rc = ts_q_row(a->st, c, TS_SQL_REFRESH_REGRACE, up, 5, &regrace_desc, &old,
			      "refresh regrace");
	if (rc == TS_ENOTFOUND)
		return regrace_why(a->st, c, a);
	if (rc == TS_OK && old.access_jti != NULL) {
		const struct ts_arg d[] = {TS_TXT(n.tenant_id), TS_TXT(n.grant_id),
					   TS_TXT(old.access_jti)};
		rc = ts_q_exec(a->st, c, TS_SQL_REFRESH_DENY_JTI, d, 3, NULL, "refresh regrace deny");
	}
	n.parent_hash = (char *)a->old_hash;
	n.rotated_at = old.rotated_at;
	n.access_jti = (char *)a->jti;
	if (rc == TS_OK)
		rc = insert_refresh(a->st, c, &n, false);
	if (rc == TS_OK)
		rc = record_jti(a->st, c, n.tenant_id, n.grant_id, a->jti, a->jti_expires_at, false);
	ts_rec_clear(&regrace_desc, &old);
	return rc;
}

int ts_store_refresh_regrace(struct ts_store *st, const char *old_hash, int64_t not_before,
			     const struct ts_refresh_rec *next, const char *jti,
			     int64_t jti_expires_at)
{
	struct regrace_args a = {.st = st,
				 .old_hash = old_hash,
				 .not_before = not_before,
				 .next = next,
				 .jti = jti,
				 .jti_expires_at = jti_expires_at};
	int rc;

	if (st == NULL || old_hash == NULL || !refresh_rec_ok(next) || !ts_q_nonempty(jti) ||
	    strcmp(old_hash, next->token_hash) == 0)
		return TS_EINVAL;
	rc = ts_q_batched(st, regrace_job, &a, false);
	/* The replaced successor's access token is denied in storage. */
	if (rc == TS_OK)
		ts_revcache_bump(st->revcache);
	return rc;
}

int ts_store_refresh_put(struct ts_store *st, const struct ts_refresh_rec *rec)
{
	struct ts_refresh_rec n;
	struct refresh_args a = {.st = st, .next = &n};

	if (st == NULL || !refresh_rec_ok(rec))
		return TS_EINVAL;
	n = *rec;
	n.parent_hash = NULL;
	n.rotated_at = 0;
	n.access_jti = NULL;
	return ts_q_batched(st, refresh_job, &a, false);
}

int ts_store_refresh_get(struct ts_store *st, const char *token_hash,
			 struct ts_refresh_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(token_hash)};

	return ts_q_fetch(st, token_hash != NULL, TS_SQL_REFRESH_GET, a, 1, &refresh_desc,
			  (void **)out, "refresh get");
}

void ts_refresh_load_clear(struct ts_refresh_load *l)
{
	if (l == NULL)
		return;
	ts_rec_free(&refresh_desc, l->token);
	ts_rec_free(&ts_user_desc, l->user);
	free(l->pending_tenant);
	free(l->pending_data);
	memset(l, 0, sizeof(*l));
}

/* REFRESH_LOAD's row: the token's columns, the user's (all NULL without
 * one), then the pending state's tenant, data and expiry. */
static int fill_load(const struct ts_drv *d, struct ts_cur *cur, void *arg)
{
	struct ts_refresh_load *l = arg;
	const int user_at = refresh_desc.ncols, pending_at = user_at + ts_user_desc.ncols;
	const char *t;
	int rc;

	ts_refresh_load_clear(l);
	l->token = ts_xcalloc(1, refresh_desc.size);
	rc = ts_rec_fill(&refresh_desc, d, cur, l->token);
	if (rc == TS_OK && d->text(cur, user_at) != NULL) {
		l->user = ts_xcalloc(1, ts_user_desc.size);
		rc = ts_rec_fill_at(&ts_user_desc, d, cur, user_at, l->user);
	}
	if (rc == TS_OK && (t = d->text(cur, pending_at)) != NULL) {
		l->pending_tenant = ts_xstrdup(t);
		t = d->text(cur, pending_at + 1);
		l->pending_data = t != NULL ? ts_xstrdup(t) : NULL;
		l->pending_expires_at = d->i64(cur, pending_at + 2);
	}
	if (rc != TS_OK)
		ts_refresh_load_clear(l);
	return rc;
}

int ts_store_refresh_load(struct ts_store *st, const char *token_hash, const char *pending_prefix,
			  struct ts_refresh_load *out)
{
	const struct ts_arg a[] = {TS_TXT(token_hash), TS_TXT(pending_prefix)};

	if (st == NULL || token_hash == NULL || out == NULL)
		return TS_EINVAL;
	return ts_q_read_fn(st, TS_SQL_REFRESH_LOAD, a, 2, fill_load, out, "refresh load");
}

/* A token cannot succeed itself: that would spend it and store it anew. */
int ts_store_refresh_rotate(struct ts_store *st, const char *old_hash,
			    const struct ts_refresh_rec *next)
{
	struct refresh_args a = {.st = st, .old_hash = old_hash, .next = next};

	if (st == NULL || old_hash == NULL || !refresh_rec_ok(next) ||
	    strcmp(old_hash, next->token_hash) == 0)
		return TS_EINVAL;
	return rotate(st, &a);
}

int ts_store_refresh_rotate_token(struct ts_store *st, const char *old_hash,
				  const struct ts_refresh_rec *next, const char *jti,
				  int64_t jti_expires_at)
{
	struct refresh_args a = {.st = st,
				 .old_hash = old_hash,
				 .next = next,
				 .jti = jti,
				 .jti_expires_at = jti_expires_at};

	if (st == NULL || old_hash == NULL || !refresh_rec_ok(next) || !ts_q_nonempty(jti) ||
	    strcmp(old_hash, next->token_hash) == 0)
		return TS_EINVAL;
	return rotate(st, &a);
}

TS_REC_FREE_FN(ts_refresh_rec_free, struct ts_refresh_rec, refresh_desc)
