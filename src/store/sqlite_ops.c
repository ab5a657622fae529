/* sqlite_ops.c: the configuration operations of the SQLite backend
 * (tenants, clients, keys), revocations, the audit log, and the operations
 * table, whose other entries live in sqlite_people.c, sqlite_grants.c and
 * sqlite_state.c. Each operation runs fixed SQL (sqlite_sql.c) with bound
 * parameters only on a pooled connection (sqlite.c). Writes run in BEGIN
 * IMMEDIATE transactions, and those to tenants, clients and keys bump the
 * generation in the same transaction; no other write does. */
#include "sqlite_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

	r->id = ts_sq_col_dup(s, 0);
	r->name = ts_sq_col_dup(s, 1);
	r->config = ts_sq_col_dup(s, 2);
	r->created_at = sqlite3_column_int64(s, 3);
	r->updated_at = sqlite3_column_int64(s, 4);
	r->version = sqlite3_column_int64(s, 5);
	if (r->id == NULL || r->name == NULL || r->config == NULL) {
		ts_tenant_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_client_rec *read_client(sqlite3_stmt *s)
{
	struct ts_client_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_sq_col_dup(s, 0);
	r->client_id = ts_sq_col_dup(s, 1);
	r->config = ts_sq_col_dup(s, 2);
	r->secret_hash = ts_sq_col_dup(s, 3);
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

	r->tenant_id = ts_sq_col_dup(s, 0);
	r->kid = ts_sq_col_dup(s, 1);
	r->alg = ts_sq_col_dup(s, 2);
	r->state = ts_sq_col_dup(s, 3);
	r->public_jwk = ts_sq_col_dup(s, 4);
	r->sealed_private = ts_sq_col_dup(s, 5);
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
	r->tenant = ts_sq_col_dup(s, 1);
	r->time = sqlite3_column_int64(s, 2);
	r->type = ts_sq_col_dup(s, 3);
	r->actor = ts_sq_col_dup(s, 4);
	r->subject = ts_sq_col_dup(s, 5);
	r->request_id = ts_sq_col_dup(s, 6);
	r->detail = ts_sq_col_dup(s, 7);
	if (r->type == NULL) {
		ts_audit_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_tenant(sqlite3_stmt *s)
{
	return read_tenant(s);
}

static void free_tenant(void *r)
{
	ts_tenant_rec_free(r);
}

static void *row_tenant_ver(sqlite3_stmt *s)
{
	struct ts_tenant_ver *v = ts_xcalloc(1, sizeof(*v));

	v->id = ts_sq_col_dup(s, 0);
	v->name = ts_sq_col_dup(s, 1);
	v->version = sqlite3_column_int64(s, 2);
	if (v->id == NULL || v->name == NULL) {
		ts_tenant_ver_free(v);
		return NULL;
	}
	return v;
}

static void free_tenant_ver(void *v)
{
	ts_tenant_ver_free(v);
}

static void *row_client(sqlite3_stmt *s)
{
	return read_client(s);
}

static void free_client(void *r)
{
	ts_client_rec_free(r);
}

static void *row_key(sqlite3_stmt *s)
{
	return read_key(s);
}

static void free_key(void *r)
{
	ts_key_rec_free(r);
}

static void *row_audit(sqlite3_stmt *s)
{
	return read_audit(s);
}

static void free_audit(void *r)
{
	ts_audit_rec_free(r);
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
	if (ts_sq_bind_str(s, 1, r->id) || ts_sq_bind_str(s, 2, r->name) ||
	    ts_sq_bind_str(s, 3, r->config) || sqlite3_bind_int64(s, 4, r->created_at) ||
	    sqlite3_bind_int64(s, 5, r->updated_at)) {
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
	if (ts_sq_bind_str(s, 1, name)) {
		rc = ts_sq_fail(c->db, "tenant get bind");
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*out = read_tenant(s);
		rc = *out ? TS_OK : ts_sq_bad_row("tenant");
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
	return ts_sq_list(st, TS_SQ_TENANT_LIST, NULL, 0, row_tenant, free_tenant, "tenant list",
			  (void ***)out, n);
}

static int sq_tenant_versions(struct ts_store *st, struct ts_tenant_ver ***out, size_t *n)
{
	return ts_sq_list(st, TS_SQ_TENANT_VERSIONS, NULL, 0, row_tenant_ver, free_tenant_ver,
			  "tenant versions", (void ***)out, n);
}

/* Deletes by key with one cached statement taking two (or one, when b is
 * NULL) string parameters; TS_ENOTFOUND, and no generation bump, when no
 * row matched. */
static int delete_by(struct ts_store *st, enum ts_sq_stmt id, const char *a, const char *b,
		     const char *what)
{
	const char *args[] = {a, b};

	return ts_sq_write1(st, id, args, b != NULL ? 2 : 1, true, true, what);
}

/* The cascade takes everything the tenant owns with it. */
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
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->client_id) ||
	    ts_sq_bind_str(s, 3, r->config) || ts_sq_bind_str(s, 4, r->secret_hash) ||
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
	if (ts_sq_bind_str(s, 1, tenant_id) || ts_sq_bind_str(s, 2, client_id)) {
		rc = ts_sq_fail(c->db, "client get bind");
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*out = read_client(s);
		rc = *out ? TS_OK : ts_sq_bad_row("client");
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
	const char *args[] = {tenant_id};

	return ts_sq_list(st, tenant_id ? TS_SQ_CLIENT_LIST : TS_SQ_CLIENT_LIST_ALL, args,
			  tenant_id ? 1 : 0, row_client, free_client, "client list", (void ***)out, n);
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
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->kid) ||
	    ts_sq_bind_str(s, 3, r->alg) || ts_sq_bind_str(s, 4, r->state) ||
	    ts_sq_bind_str(s, 5, r->public_jwk) ||
	    ts_sq_bind_str(s, 6, r->sealed_private) || sqlite3_bind_int64(s, 7, r->created_at) ||
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
	const char *args[] = {tenant_id};

	return ts_sq_list(st, tenant_id ? TS_SQ_KEY_LIST : TS_SQ_KEY_LIST_ALL, args,
			  tenant_id ? 1 : 0, row_key, free_key, "key list", (void ***)out, n);
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
	if (ts_sq_bind_str(s, 1, tenant_id) || ts_sq_bind_str(s, 2, jti) ||
	    sqlite3_bind_int64(s, 3, expires_at)) {
		rc = ts_sq_fail(c->db, "revoke put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "revoke put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

/* One INSERT that does nothing on a conflict: the first caller changes a
 * row, every later one (the write lock orders them) changes none. */
static int sq_jti_use(struct ts_store *st, const char *tenant_id, const char *jti,
		      int64_t expires_at)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_JTI_USE, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, tenant_id) || ts_sq_bind_str(s, 2, jti) ||
	    sqlite3_bind_int64(s, 3, expires_at)) {
		rc = ts_sq_fail(c->db, "jti use bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "jti use");
	if (rc == TS_OK && sqlite3_changes(c->db) == 0)
		rc = TS_EEXIST;
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
	if (ts_sq_bind_str(s, 1, tenant_id) || ts_sq_bind_str(s, 2, jti)) {
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

		if (ts_sq_bind_str(s, 1, r->tenant) || sqlite3_bind_int64(s, 2, r->time) ||
		    ts_sq_bind_str(s, 3, r->type) || ts_sq_bind_str(s, 4, r->actor) ||
		    ts_sq_bind_str(s, 5, r->subject) || ts_sq_bind_str(s, 6, r->request_id) ||
		    ts_sq_bind_str(s, 7, r->detail)) {
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
	/* SQLite's LIMIT is signed; anything larger means "no limit". */
	int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
	int rc, p = 1;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, tenant ? TS_SQ_AUDIT_QUERY : TS_SQ_AUDIT_QUERY_ALL, &s);
	if (rc != TS_OK)
		goto out;
	if ((tenant != NULL && ts_sq_bind_str(s, p++, tenant)) || sqlite3_bind_int64(s, p, since) ||
	    sqlite3_bind_int64(s, p + 1, lim)) {
		rc = ts_sq_fail(c->db, "audit query bind");
		goto out;
	}
	rc = ts_sq_rows(c, s, row_audit, free_audit, "audit query", (void ***)out, n);
out:
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

const struct ts_store_ops ts_sqlite_ops = {
	.name = "sqlite",
	.shared = false,
	.close = ts_sq_close,
	.ping = sq_ping,
	.generation = sq_generation,
	.tenant_put = sq_tenant_put,
	.tenant_get = sq_tenant_get,
	.tenant_list = sq_tenant_list,
	.tenant_delete = sq_tenant_delete,
	.tenant_versions = sq_tenant_versions,
	.batch_begin = ts_sq_batch_begin,
	.batch_end = ts_sq_batch_end,
	.client_put = sq_client_put,
	.client_get = sq_client_get,
	.client_list = sq_client_list,
	.client_delete = sq_client_delete,
	.key_put = sq_key_put,
	.key_list = sq_key_list,
	.key_delete = sq_key_delete,
	.revoke_put = sq_revoke_put,
	.jti_use = sq_jti_use,
	.revoke_check = sq_revoke_check,
	.revoke_purge = sq_revoke_purge,
	.audit_append = sq_audit_append,
	.audit_query = sq_audit_query,
};
