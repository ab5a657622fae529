/* sqlite_ops.c: the store operations of the SQLite backend, each one
 * fixed SQL text with bound parameters only, run on a pooled connection
 * (sqlite.c). Writes run in BEGIN IMMEDIATE transactions, and those to
 * tenants, clients and keys bump the generation in the same transaction. */
#include "sqlite_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TENANT_COLS "id, name, config, created_at, updated_at"
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
	[TS_SQ_GEN_GET] = "SELECT value FROM meta WHERE name = 'generation'",
	[TS_SQ_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE name = 'generation'",

	/* Upsert by name: an existing tenant keeps its id and created_at. A
	 * new name whose id belongs to another tenant fails on the primary
	 * key (TS_EEXIST). */
	[TS_SQ_TENANT_PUT] =
		"INSERT INTO tenants (" TENANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (name) DO UPDATE SET config = excluded.config,"
		" updated_at = excluded.updated_at",
	[TS_SQ_TENANT_GET] = "SELECT " TENANT_COLS " FROM tenants WHERE name = ?1",
	[TS_SQ_TENANT_LIST] = "SELECT " TENANT_COLS " FROM tenants ORDER BY name",
	/* Clients, keys and revocations go with it (ON DELETE CASCADE). */
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
	[TS_SQ_REVOKE_PURGE] = "DELETE FROM revocations WHERE expires_at < ?1",

	[TS_SQ_AUDIT_APPEND] =
		"INSERT INTO audit (tenant, time, type, actor, subject, request_id, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[TS_SQ_AUDIT_QUERY] =
		"SELECT " AUDIT_COLS " FROM audit WHERE tenant = ?1 AND time >= ?2"
		" ORDER BY time, id LIMIT ?3",
	[TS_SQ_AUDIT_QUERY_ALL] =
		"SELECT " AUDIT_COLS " FROM audit WHERE time >= ?1 ORDER BY time, id LIMIT ?2",
};

/* Binds a borrowed string, or NULL. The value must outlive the step, which
 * it does: every caller resets the statement before returning. */
static int bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* A copy of a text column (NULL for SQL NULL), owned by the caller. */
static char *col_dup(sqlite3_stmt *s, int i)
{
	return ts_xstrdup((const char *)sqlite3_column_text(s, i));
}

static int read_generation(struct ts_sq_conn *c, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_stmt(c, TS_SQ_GEN_GET, &s);
	if (rc != TS_OK)
		return rc;
	if (sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		rc = ts_sq_fail(c->db, "generation");
	ts_sq_stmt_done(s);
	return rc;
}

/* Ping reads a row, so it fails when the file is gone or unreadable, not
 * only when the library is loaded. */
static int sq_ping(struct ts_store *st)
{
	struct ts_sq_conn *c = NULL;
	int64_t gen;
	int rc;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		return rc;
	rc = read_generation(c, &gen);
	ts_sq_conn_put(st, c);
	return rc;
}

static int sq_generation(struct ts_store *st, int64_t *out)
{
	struct ts_sq_conn *c = NULL;
	int rc;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		return rc;
	rc = read_generation(c, out);
	ts_sq_conn_put(st, c);
	return rc;
}

/* A row of TENANT_COLS as a new record, or NULL if a NOT NULL column came
 * back NULL (a damaged file). */
static struct ts_tenant_rec *read_tenant(sqlite3_stmt *s)
{
	struct ts_tenant_rec *r = ts_xcalloc(1, sizeof(*r));

	r->id = col_dup(s, 0);
	r->name = col_dup(s, 1);
	r->config = col_dup(s, 2);
	r->created_at = sqlite3_column_int64(s, 3);
	r->updated_at = sqlite3_column_int64(s, 4);
	if (r->id == NULL || r->name == NULL || r->config == NULL) {
		ts_tenant_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_client_rec *read_client(sqlite3_stmt *s)
{
	struct ts_client_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = col_dup(s, 0);
	r->client_id = col_dup(s, 1);
	r->config = col_dup(s, 2);
	r->secret_hash = col_dup(s, 3);
	r->created_at = sqlite3_column_int64(s, 4);
	r->updated_at = sqlite3_column_int64(s, 5);
	if (r->tenant_id == NULL || r->client_id == NULL || r->config == NULL) {
		ts_client_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_key_rec *read_key(sqlite3_stmt *s)
{
	struct ts_key_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = col_dup(s, 0);
	r->kid = col_dup(s, 1);
	r->alg = col_dup(s, 2);
	r->state = col_dup(s, 3);
	r->public_jwk = col_dup(s, 4);
	r->sealed_private = col_dup(s, 5);
	r->created_at = sqlite3_column_int64(s, 6);
	r->activated_at = sqlite3_column_int64(s, 7);
	r->retired_at = sqlite3_column_int64(s, 8);
	if (r->tenant_id == NULL || r->kid == NULL || r->alg == NULL || r->state == NULL ||
	    r->public_jwk == NULL || r->sealed_private == NULL) {
		ts_key_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_audit_rec *read_audit(sqlite3_stmt *s)
{
	struct ts_audit_rec *r = ts_xcalloc(1, sizeof(*r));

	r->id = sqlite3_column_int64(s, 0);
	r->tenant = col_dup(s, 1);
	r->time = sqlite3_column_int64(s, 2);
	r->type = col_dup(s, 3);
	r->actor = col_dup(s, 4);
	r->subject = col_dup(s, 5);
	r->request_id = col_dup(s, 6);
	r->detail = col_dup(s, 7);
	if (r->type == NULL) {
		ts_audit_rec_free(r);
		return NULL;
	}
	return r;
}

/* Logs a damaged row; the caller returns TS_ESTORE. */
static int bad_row(const char *what)
{
	ts_log_err("sqlite: a %s row has NULL in a NOT NULL column", what);
	return TS_ESTORE;
}

/* Ends a row loop: SQLITE_DONE is success, anything else a failure. */
static int rows_end(struct ts_sq_conn *c, int src, const char *what)
{
	return src == SQLITE_DONE ? TS_OK : ts_sq_fail(c->db, what);
}

/* Grows a list array (of element size elem) when it is full. */
static void *list_grow(void *v, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	return ts_xrealloc(v, *cap * elem);
}

static int sq_tenant_put(struct ts_store *st, const struct ts_tenant_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_TENANT_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, r->id) || bind_str(s, 2, r->name) || bind_str(s, 3, r->config) ||
	    sqlite3_bind_int64(s, 4, r->created_at) || sqlite3_bind_int64(s, 5, r->updated_at)) {
		rc = ts_sq_fail(c->db, "tenant put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "tenant put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, true);
}

static int sq_tenant_get(struct ts_store *st, const char *name, struct ts_tenant_rec **out)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc, src;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_TENANT_GET, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, name)) {
		rc = ts_sq_fail(c->db, "tenant get bind");
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*out = read_tenant(s);
		rc = *out ? TS_OK : bad_row("tenant");
	} else {
		rc = src == SQLITE_DONE ? TS_ENOTFOUND : ts_sq_fail(c->db, "tenant get");
	}
out:
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

static int sq_tenant_list(struct ts_store *st, struct ts_tenant_rec ***out, size_t *n)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	struct ts_tenant_rec **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, src;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_TENANT_LIST, &s);
	if (rc != TS_OK)
		goto out;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		v = list_grow(v, cnt, &cap, sizeof(*v));
		if ((v[cnt] = read_tenant(s)) == NULL) {
			rc = bad_row("tenant");
			goto out;
		}
		cnt++;
	}
	rc = rows_end(c, src, "tenant list");
	if (rc != TS_OK)
		goto out;
	*out = v;
	*n = cnt;
	v = NULL;
out:
	ts_tenant_recs_free(v, cnt);
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

/* Deletes by key with one cached statement taking two (or one, when b is
 * NULL) string parameters; TS_ENOTFOUND, and no generation bump, when no
 * row matched. */
static int delete_by(struct ts_store *st, enum ts_sq_stmt id, const char *a, const char *b,
		     const char *what)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, id, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, a) || (b != NULL && bind_str(s, 2, b))) {
		rc = ts_sq_fail(c->db, what);
		goto out;
	}
	rc = ts_sq_run(c, s, what);
	if (rc == TS_OK && sqlite3_changes(c->db) == 0)
		rc = TS_ENOTFOUND;
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, true);
}

/* The cascade takes the tenant's clients, keys and revocations with it. */
static int sq_tenant_delete(struct ts_store *st, const char *name)
{
	return delete_by(st, TS_SQ_TENANT_DELETE, name, NULL, "tenant delete");
}

static int sq_client_put(struct ts_store *st, const struct ts_client_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CLIENT_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, r->tenant_id) || bind_str(s, 2, r->client_id) ||
	    bind_str(s, 3, r->config) || bind_str(s, 4, r->secret_hash) ||
	    sqlite3_bind_int64(s, 5, r->created_at) || sqlite3_bind_int64(s, 6, r->updated_at)) {
		rc = ts_sq_fail(c->db, "client put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "client put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, true);
}

static int sq_client_get(struct ts_store *st, const char *tenant_id, const char *client_id,
			 struct ts_client_rec **out)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc, src;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CLIENT_GET, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, tenant_id) || bind_str(s, 2, client_id)) {
		rc = ts_sq_fail(c->db, "client get bind");
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*out = read_client(s);
		rc = *out ? TS_OK : bad_row("client");
	} else {
		rc = src == SQLITE_DONE ? TS_ENOTFOUND : ts_sq_fail(c->db, "client get");
	}
out:
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

static int sq_client_list(struct ts_store *st, const char *tenant_id,
			  struct ts_client_rec ***out, size_t *n)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	struct ts_client_rec **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, src;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, tenant_id ? TS_SQ_CLIENT_LIST : TS_SQ_CLIENT_LIST_ALL, &s);
	if (rc != TS_OK)
		goto out;
	if (tenant_id != NULL && bind_str(s, 1, tenant_id)) {
		rc = ts_sq_fail(c->db, "client list bind");
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		v = list_grow(v, cnt, &cap, sizeof(*v));
		if ((v[cnt] = read_client(s)) == NULL) {
			rc = bad_row("client");
			goto out;
		}
		cnt++;
	}
	rc = rows_end(c, src, "client list");
	if (rc != TS_OK)
		goto out;
	*out = v;
	*n = cnt;
	v = NULL;
out:
	ts_client_recs_free(v, cnt);
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

static int sq_client_delete(struct ts_store *st, const char *tenant_id, const char *client_id)
{
	return delete_by(st, TS_SQ_CLIENT_DELETE, tenant_id, client_id, "client delete");
}

static int sq_key_put(struct ts_store *st, const struct ts_key_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_KEY_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, r->tenant_id) || bind_str(s, 2, r->kid) || bind_str(s, 3, r->alg) ||
	    bind_str(s, 4, r->state) || bind_str(s, 5, r->public_jwk) ||
	    bind_str(s, 6, r->sealed_private) || sqlite3_bind_int64(s, 7, r->created_at) ||
	    sqlite3_bind_int64(s, 8, r->activated_at) || sqlite3_bind_int64(s, 9, r->retired_at)) {
		rc = ts_sq_fail(c->db, "key put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "key put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, true);
}

static int sq_key_list(struct ts_store *st, const char *tenant_id, struct ts_key_rec ***out,
		       size_t *n)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	struct ts_key_rec **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, src;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, tenant_id ? TS_SQ_KEY_LIST : TS_SQ_KEY_LIST_ALL, &s);
	if (rc != TS_OK)
		goto out;
	if (tenant_id != NULL && bind_str(s, 1, tenant_id)) {
		rc = ts_sq_fail(c->db, "key list bind");
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		v = list_grow(v, cnt, &cap, sizeof(*v));
		if ((v[cnt] = read_key(s)) == NULL) {
			rc = bad_row("key");
			goto out;
		}
		cnt++;
	}
	rc = rows_end(c, src, "key list");
	if (rc != TS_OK)
		goto out;
	*out = v;
	*n = cnt;
	v = NULL;
out:
	ts_key_recs_free(v, cnt);
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

static int sq_key_delete(struct ts_store *st, const char *tenant_id, const char *kid)
{
	return delete_by(st, TS_SQ_KEY_DELETE, tenant_id, kid, "key delete");
}

/* Revocations are not configuration: no generation bump. */
static int sq_revoke_put(struct ts_store *st, const char *tenant_id, const char *jti,
			 int64_t expires_at)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_REVOKE_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, tenant_id) || bind_str(s, 2, jti) ||
	    sqlite3_bind_int64(s, 3, expires_at)) {
		rc = ts_sq_fail(c->db, "revoke put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "revoke put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

static int sq_revoke_check(struct ts_store *st, const char *tenant_id, const char *jti,
			   bool *revoked)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc, src;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_REVOKE_CHECK, &s);
	if (rc != TS_OK)
		goto out;
	if (bind_str(s, 1, tenant_id) || bind_str(s, 2, jti)) {
		rc = ts_sq_fail(c->db, "revoke check bind");
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW || src == SQLITE_DONE)
		*revoked = src == SQLITE_ROW;
	else
		rc = ts_sq_fail(c->db, "revoke check");
out:
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

static int sq_revoke_purge(struct ts_store *st, int64_t now)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_REVOKE_PURGE, &s);
	if (rc != TS_OK)
		goto out;
	if (sqlite3_bind_int64(s, 1, now)) {
		rc = ts_sq_fail(c->db, "revoke purge bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "revoke purge");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

/* All n records in one transaction: all are stored or none. */
static int sq_audit_append(struct ts_store *st, const struct ts_audit_rec *recs, size_t n)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_AUDIT_APPEND, &s);
	if (rc != TS_OK)
		goto out;
	for (i = 0; i < n && rc == TS_OK; i++) {
		const struct ts_audit_rec *r = &recs[i];

		if (bind_str(s, 1, r->tenant) || sqlite3_bind_int64(s, 2, r->time) ||
		    bind_str(s, 3, r->type) || bind_str(s, 4, r->actor) ||
		    bind_str(s, 5, r->subject) || bind_str(s, 6, r->request_id) ||
		    bind_str(s, 7, r->detail)) {
			rc = ts_sq_fail(c->db, "audit append bind");
			goto out;
		}
		rc = ts_sq_run(c, s, "audit append");
	}
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

static int sq_audit_query(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			  struct ts_audit_rec ***out, size_t *n)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	struct ts_audit_rec **v = NULL;
	size_t cnt = 0, cap = 0;
	/* SQLite's LIMIT is signed; anything larger means "no limit". */
	int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
	int rc, src, p = 1;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, tenant ? TS_SQ_AUDIT_QUERY : TS_SQ_AUDIT_QUERY_ALL, &s);
	if (rc != TS_OK)
		goto out;
	if ((tenant != NULL && bind_str(s, p++, tenant)) || sqlite3_bind_int64(s, p, since) ||
	    sqlite3_bind_int64(s, p + 1, lim)) {
		rc = ts_sq_fail(c->db, "audit query bind");
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		v = list_grow(v, cnt, &cap, sizeof(*v));
		if ((v[cnt] = read_audit(s)) == NULL) {
			rc = bad_row("audit");
			goto out;
		}
		cnt++;
	}
	rc = rows_end(c, src, "audit query");
	if (rc != TS_OK)
		goto out;
	*out = v;
	*n = cnt;
	v = NULL;
out:
	ts_audit_recs_free(v, cnt);
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

const struct ts_store_ops ts_sqlite_ops = {
	.name = "sqlite",
	.close = ts_sq_close,
	.ping = sq_ping,
	.generation = sq_generation,
	.tenant_put = sq_tenant_put,
	.tenant_get = sq_tenant_get,
	.tenant_list = sq_tenant_list,
	.tenant_delete = sq_tenant_delete,
	.client_put = sq_client_put,
	.client_get = sq_client_get,
	.client_list = sq_client_list,
	.client_delete = sq_client_delete,
	.key_put = sq_key_put,
	.key_list = sq_key_list,
	.key_delete = sq_key_delete,
	.revoke_put = sq_revoke_put,
	.revoke_check = sq_revoke_check,
	.revoke_purge = sq_revoke_purge,
	.audit_append = sq_audit_append,
	.audit_query = sq_audit_query,
};
