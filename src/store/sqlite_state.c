/* sqlite_state.c: browser sessions, consent, short-lived pending state,
 * shared throttling and the purge of expired rows for the SQLite backend. Expiry is the caller's
 * check on every read; purge_expired only reclaims space. No write here
 * bumps the generation. */
#include "sqlite_int.h"

#include <stdio.h>

#include <stdlib.h>

static struct ts_session_rec *read_session(sqlite3_stmt *s)
{
	struct ts_session_rec *r = ts_xcalloc(1, sizeof(*r));

	r->id_hash = ts_sq_col_dup(s, 0);
	r->tenant_id = ts_sq_col_dup(s, 1);
	r->user_id = ts_sq_col_dup(s, 2);
	r->auth_time = sqlite3_column_int64(s, 3);
	r->last_seen = sqlite3_column_int64(s, 4);
	r->expires_at = sqlite3_column_int64(s, 5);
	if (r->id_hash == NULL || r->tenant_id == NULL || r->user_id == NULL) {
		ts_session_rec_free(r);
		return NULL;
	}
	return r;
}

/* Binds args[0..nstr-1] as ?1.. and the integer v as the next parameter. */
static int bind_strs_int(struct ts_sq_conn *c, sqlite3_stmt *s, const char *const *args,
			 int nstr, int64_t v, const char *what)
{
	int rc = ts_sq_bind_strs(c, s, args, nstr, what);

	if (rc == TS_OK && sqlite3_bind_int64(s, nstr + 1, v) != SQLITE_OK)
		rc = ts_sq_fail(c->db, what);
	return rc;
}

/* Runs statement id with string parameters args[0..nstr-1] and the
 * integer v after them, inside the caller's transaction. */
static int exec_strs_int(struct ts_sq_conn *c, enum ts_sq_stmt id, const char *const *args,
			 int nstr, int64_t v, int *changed, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_stmt(c, id, &s);
	if (rc != TS_OK)
		return rc;
	rc = bind_strs_int(c, s, args, nstr, v, what);
	if (rc != TS_OK) {
		ts_sq_stmt_done(s);
		return rc;
	}
	rc = ts_sq_run(c, s, what);
	if (rc == TS_OK && changed != NULL)
		*changed = sqlite3_changes(c->db);
	return rc;
}

/* A missing user (or tenant) fails on the foreign key: TS_ENOTFOUND. */
int ts_sq_session_put(struct ts_store *st, const struct ts_session_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_SESSION_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->id_hash) || ts_sq_bind_str(s, 2, r->tenant_id) ||
	    ts_sq_bind_str(s, 3, r->user_id) || sqlite3_bind_int64(s, 4, r->auth_time) ||
	    sqlite3_bind_int64(s, 5, r->last_seen) || sqlite3_bind_int64(s, 6, r->expires_at)) {
		rc = ts_sq_fail(c->db, "session put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "session put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_session_get(struct ts_store *st, const char *id_hash, struct ts_session_rec **out)
{
	const char *args[] = {id_hash};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_SESSION_GET, args, 1, &c, &s, "session get");
	if (rc == TS_OK && (*out = read_session(s)) == NULL)
		rc = ts_sq_bad_row("session");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_session_touch(struct ts_store *st, const char *id_hash, int64_t last_seen)
{
	const char *args[] = {id_hash};
	struct ts_sq_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = exec_strs_int(c, TS_SQ_SESSION_TOUCH, args, 1, last_seen, &changed, "session touch");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
out:
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_session_delete(struct ts_store *st, const char *id_hash)
{
	const char *args[] = {id_hash};

	return ts_sq_write1(st, TS_SQ_SESSION_DELETE, args, 1, true, false, "session delete");
}

/* TS_OK also when the user had no session (or does not exist). */
int ts_sq_session_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	const char *args[] = {tenant_id, user_id};

	return ts_sq_write1(st, TS_SQ_SESSION_DELETE_USER, args, 2, false, false,
			    "session delete user");
}

int ts_sq_consent_get(struct ts_store *st, const char *tenant_id, const char *user_id,
		      const char *client_id, char **scope)
{
	const char *args[] = {tenant_id, user_id, client_id};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_CONSENT_GET, args, 3, &c, &s, "consent get");
	if (rc == TS_OK && (*scope = ts_sq_col_dup(s, 0)) == NULL)
		rc = ts_sq_bad_row("consent");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_consent_put(struct ts_store *st, const char *tenant_id, const char *user_id,
		      const char *client_id, const char *scope)
{
	const char *args[] = {tenant_id, user_id, client_id, scope};

	return ts_sq_write1(st, TS_SQ_CONSENT_PUT, args, 4, false, false, "consent put");
}

/* A missing tenant fails on the foreign key: TS_ENOTFOUND. */
int ts_sq_pending_put(struct ts_store *st, const char *tenant_id, const char *id_hash,
		      const char *kind, const char *data, int64_t expires_at)
{
	const char *args[] = {id_hash, tenant_id, kind, data};
	struct ts_sq_conn *c = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc == TS_OK)
		rc = exec_strs_int(c, TS_SQ_PENDING_PUT, args, 4, expires_at, NULL, "pending put");
	return ts_sq_write_end(st, c, rc, false);
}

/* Every column is read before any out-parameter is set, so a failure
 * leaves them all NULL (the wrapper cleared them). */
int ts_sq_pending_get(struct ts_store *st, const char *id_hash, char **tenant_id, char **kind,
		      char **data, int64_t *expires_at)
{
	const char *args[] = {id_hash};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	char *t = NULL, *k = NULL, *d = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_PENDING_GET, args, 1, &c, &s, "pending get");
	if (rc != TS_OK)
		goto out;
	t = ts_sq_col_dup(s, 0);
	k = ts_sq_col_dup(s, 1);
	d = ts_sq_col_dup(s, 2);
	if (t == NULL || k == NULL || d == NULL) {
		rc = ts_sq_bad_row("pending");
		goto out;
	}
	if (expires_at != NULL)
		*expires_at = sqlite3_column_int64(s, 3);
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
	ts_sq_read_end(st, c, s);
	free(t);
	free(k);
	/* Pending state may carry secrets (e.g. vault state). */
	ts_free_secret(d);
	return rc;
}

/* One conditional UPDATE: TS_ENOTFOUND when it changed no row. */
int ts_sq_pending_update(struct ts_store *st, const char *id_hash, const char *old_data,
			 const char *data)
{
	const char *args[] = {id_hash, old_data, data};

	return ts_sq_write1(st, TS_SQ_PENDING_UPDATE, args, 3, true, false, "pending update");
}

/* TS_ENOTFOUND when there was nothing to delete, so that of two callers
 * consuming the same state only one sees TS_OK. */
int ts_sq_pending_delete(struct ts_store *st, const char *id_hash)
{
	const char *args[] = {id_hash};

	return ts_sq_write1(st, TS_SQ_PENDING_DELETE, args, 1, true, false, "pending delete");
}

/* One transaction, so a failure leaves everything as it was. Rows that
 * expired "before now" go, as in revoke_purge, and so do throttle windows
 * that have ended. */
int ts_sq_purge_expired(struct ts_store *st, int64_t now)
{
	static const struct {
		enum ts_sq_stmt id;
		const char *what;
	} steps[] = {
		{TS_SQ_PURGE_SESSIONS, "purge sessions"},
		{TS_SQ_PURGE_CODES, "purge codes"},
		{TS_SQ_PURGE_PENDING, "purge pending"},
		{TS_SQ_REVOKE_PURGE, "purge revocations"},
		{TS_SQ_PURGE_REFRESH, "purge refresh tokens"},
		{TS_SQ_PURGE_GRANT_TOKENS, "purge grant tokens"},
		{TS_SQ_PURGE_THROTTLE, "purge throttle windows"},
	};
	struct ts_sq_conn *c = NULL;
	size_t i;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	for (i = 0; i < TS_ARRAY_LEN(steps) && rc == TS_OK; i++)
		rc = exec_strs_int(c, steps[i].id, NULL, 0, now, NULL, steps[i].what);
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_throttle_get(struct ts_store *st, const char *key_hash, int64_t *start,
		       int *failures, int64_t *last)
{
	const char *args[] = {key_hash};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_THROTTLE_GET, args, 1, &c, &s, "throttle get");
	if (rc == TS_OK) {
		*start = sqlite3_column_int64(s, 0);
		*failures = sqlite3_column_int(s, 1);
		*last = sqlite3_column_int64(s, 2);
	}
	ts_sq_read_end(st, c, s);
	return rc;
}

/* One upsert, run in the write transaction, so concurrent failures all
 * count. */
int ts_sq_throttle_fail(struct ts_store *st, const char *key_hash, int64_t now, int64_t window,
			int max)
{
	const char *args[] = {key_hash};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc == TS_OK)
		rc = ts_sq_stmt(c, TS_SQ_THROTTLE_FAIL, &s);
	if (rc == TS_OK) {
		rc = bind_strs_int(c, s, args, 1, now, "throttle fail");
		if (rc == TS_OK && (sqlite3_bind_int64(s, 3, window) != SQLITE_OK ||
				    sqlite3_bind_int(s, 4, max) != SQLITE_OK))
			rc = ts_sq_fail(c->db, "throttle fail");
		if (rc == TS_OK)
			rc = ts_sq_run(c, s, "throttle fail");
		else
			ts_sq_stmt_done(s);
	}
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_throttle_reset(struct ts_store *st, const char *key_hash)
{
	const char *args[] = {key_hash};

	return ts_sq_write1(st, TS_SQ_THROTTLE_RESET, args, 1, false, false, "throttle reset");
}

int ts_sq_throttle_cas(struct ts_store *st, const char *key_hash,
		       const struct ts_throttle_win *old, const struct ts_throttle_win *next)
{
	char os[24], of[24], ol[24], ns[24], nf[24], nl[24];
	int rc;

	snprintf(ns, sizeof(ns), "%lld", (long long)next->start);
	snprintf(nf, sizeof(nf), "%d", next->failures);
	snprintf(nl, sizeof(nl), "%lld", (long long)next->last);
	if (old == NULL) {
		const char *args[] = {key_hash, ns, nf, nl};
		rc = ts_sq_write1(st, TS_SQ_THROTTLE_CAS_NEW, args, 4, true, false, "throttle cas");
	} else {
		const char *args[] = {key_hash, os, of, ol, ns, nf, nl};
		snprintf(os, sizeof(os), "%lld", (long long)old->start);
		snprintf(of, sizeof(of), "%d", old->failures);
		snprintf(ol, sizeof(ol), "%lld", (long long)old->last);
		rc = ts_sq_write1(st, TS_SQ_THROTTLE_CAS, args, 7, true, false, "throttle cas");
	}
	return rc == TS_ENOTFOUND ? TS_ECONFLICT : rc;
}
