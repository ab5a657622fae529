/* sqlite_vault.c: the token vault's providers and connections for the
 * SQLite backend, and the compare-and-swap re-sealing of provider secrets
 * and signing keys under a new master key. Secrets arrive sealed and are
 * stored as given. The lease that serializes refreshes is one conditional
 * UPDATE; the write that stores refreshed tokens is fenced by it and
 * releases it in the same statement. No write here bumps the generation. */
#include "sqlite_int.h"

#include <stdlib.h>

#define DUE_LIMIT_MAX 1000

/* ---- providers ---- */

static struct ts_provider_rec *read_provider(sqlite3_stmt *s)
{
	struct ts_provider_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_sq_col_dup(s, 0);
	r->name = ts_sq_col_dup(s, 1);
	r->kind = ts_sq_col_dup(s, 2);
	r->config = ts_sq_col_dup(s, 3);
	r->sealed_secret = ts_sq_col_dup(s, 4);
	r->created_at = sqlite3_column_int64(s, 5);
	r->updated_at = sqlite3_column_int64(s, 6);
	if (r->tenant_id == NULL || r->name == NULL || r->kind == NULL || r->config == NULL) {
		ts_provider_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_provider(sqlite3_stmt *s)
{
	return read_provider(s);
}

static void free_provider(void *r)
{
	ts_provider_rec_free(r);
}

int ts_sq_provider_put(struct ts_store *st, const struct ts_provider_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_PROVIDER_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->name) ||
	    ts_sq_bind_str(s, 3, r->kind) || ts_sq_bind_str(s, 4, r->config) ||
	    ts_sq_bind_str(s, 5, r->sealed_secret) || sqlite3_bind_int64(s, 6, r->created_at) ||
	    sqlite3_bind_int64(s, 7, r->updated_at)) {
		rc = ts_sq_fail(c->db, "provider put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "provider put");
	s = NULL;
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_provider_get(struct ts_store *st, const char *tenant_id, const char *name,
		       struct ts_provider_rec **out)
{
	const char *args[] = {tenant_id, name};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_PROVIDER_GET, args, 2, &c, &s, "provider get");
	if (rc == TS_OK && (*out = read_provider(s)) == NULL)
		rc = ts_sq_bad_row("provider");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_provider_list(struct ts_store *st, const char *tenant_id,
			struct ts_provider_rec ***out, size_t *n)
{
	const char *args[] = {tenant_id};

	return ts_sq_list(st, tenant_id ? TS_SQ_PROVIDER_LIST : TS_SQ_PROVIDER_LIST_ALL, args,
			  tenant_id ? 1 : 0, row_provider, free_provider, "provider list",
			  (void ***)out, n);
}

/* Counts the provider's connections inside the caller's transaction. */
static int provider_in_use(struct ts_sq_conn *c, const char *tenant_id, const char *name,
			   int64_t *count)
{
	const char *args[] = {tenant_id, name};
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_stmt(c, TS_SQ_PROVIDER_IN_USE, &s);
	if (rc != TS_OK)
		return rc;
	rc = ts_sq_bind_strs(c, s, args, 2, "provider in use");
	if (rc == TS_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			*count = sqlite3_column_int64(s, 0);
		else
			rc = ts_sq_fail(c->db, "provider in use");
	}
	ts_sq_stmt_done(s);
	return rc;
}

int ts_sq_provider_delete(struct ts_store *st, const char *tenant_id, const char *name)
{
	const char *args[] = {tenant_id, name};
	struct ts_sq_conn *c = NULL;
	int64_t count = 0;
	int rc, changed = 0;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = provider_in_use(c, tenant_id, name, &count);
	if (rc == TS_OK && count > 0)
		rc = TS_ECONFLICT;
	if (rc == TS_OK)
		rc = ts_sq_exec(c, TS_SQ_PROVIDER_DELETE, args, 2, &changed, "provider delete");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
out:
	return ts_sq_write_end(st, c, rc, false);
}

/* A compare-and-swap of one sealed value: TS_ECONFLICT when it changed. */
static int reseal(struct ts_store *st, enum ts_sq_stmt id, const char *const *args,
		  const char *what)
{
	struct ts_sq_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_exec(c, id, args, 4, &changed, what);
	if (rc == TS_OK && changed == 0)
		rc = TS_ECONFLICT;
out:
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_provider_reseal(struct ts_store *st, const char *tenant_id, const char *name,
			  const char *old_sealed, const char *new_sealed)
{
	const char *args[] = {tenant_id, name, old_sealed, new_sealed};

	return reseal(st, TS_SQ_PROVIDER_RESEAL, args, "provider reseal");
}

/* Signing keys are re-sealed by the vault's rekey too (so the old master
 * key can go); the key does not change, so no generation bump. */
int ts_sq_key_reseal(struct ts_store *st, const char *tenant_id, const char *kid,
		     const char *old_sealed, const char *new_sealed)
{
	const char *args[] = {tenant_id, kid, old_sealed, new_sealed};

	return reseal(st, TS_SQ_KEY_RESEAL, args, "key reseal");
}

/* ---- connections ---- */

static struct ts_connection_rec *read_conn(sqlite3_stmt *s)
{
	struct ts_connection_rec *r = ts_xcalloc(1, sizeof(*r));

	r->id = ts_sq_col_dup(s, 0);
	r->tenant_id = ts_sq_col_dup(s, 1);
	r->tenant_name = ts_sq_col_dup(s, 2);
	r->provider = ts_sq_col_dup(s, 3);
	r->name = ts_sq_col_dup(s, 4);
	r->owner = ts_sq_col_dup(s, 5);
	r->created_by = ts_sq_col_dup(s, 6);
	r->status = ts_sq_col_dup(s, 7);
	r->metadata = ts_sq_col_dup(s, 8);
	r->access_token = ts_sq_col_dup(s, 9);
	r->refresh_token = ts_sq_col_dup(s, 10);
	r->issued_at = sqlite3_column_int64(s, 11);
	r->expires_at = sqlite3_column_int64(s, 12);
	r->refresh_expires_at = sqlite3_column_int64(s, 13);
	r->next_refresh_at = sqlite3_column_int64(s, 14);
	r->failures = sqlite3_column_int64(s, 15);
	r->last_error = ts_sq_col_dup(s, 16);
	r->expiry_warned = sqlite3_column_int64(s, 17) != 0;
	r->lease_owner = ts_sq_col_dup(s, 18);
	r->lease_until = sqlite3_column_int64(s, 19);
	r->created_at = sqlite3_column_int64(s, 20);
	r->updated_at = sqlite3_column_int64(s, 21);
	if (r->id == NULL || r->tenant_id == NULL || r->tenant_name == NULL ||
	    r->provider == NULL || r->name == NULL || r->status == NULL || r->metadata == NULL) {
		ts_connection_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_conn(sqlite3_stmt *s)
{
	return read_conn(s);
}

static void free_conn(void *r)
{
	ts_connection_rec_free(r);
}

int ts_sq_connection_insert(struct ts_store *st, const struct ts_connection_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CONN_INSERT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->id) || ts_sq_bind_str(s, 2, r->tenant_id) ||
	    ts_sq_bind_str(s, 3, r->provider) || ts_sq_bind_str(s, 4, r->name) ||
	    ts_sq_bind_str(s, 5, r->owner) || ts_sq_bind_str(s, 6, r->created_by) ||
	    ts_sq_bind_str(s, 7, r->status) || ts_sq_bind_str(s, 8, r->metadata) ||
	    ts_sq_bind_str(s, 9, r->access_token) || ts_sq_bind_str(s, 10, r->refresh_token) ||
	    sqlite3_bind_int64(s, 11, r->issued_at) || sqlite3_bind_int64(s, 12, r->expires_at) ||
	    sqlite3_bind_int64(s, 13, r->refresh_expires_at) ||
	    sqlite3_bind_int64(s, 14, r->next_refresh_at) ||
	    sqlite3_bind_int64(s, 15, r->failures) || ts_sq_bind_str(s, 16, r->last_error) ||
	    sqlite3_bind_int(s, 17, r->expiry_warned ? 1 : 0) ||
	    sqlite3_bind_int64(s, 18, r->created_at) || sqlite3_bind_int64(s, 19, r->updated_at)) {
		rc = ts_sq_fail(c->db, "connection insert bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "connection insert");
	s = NULL;
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

static int conn_one(struct ts_store *st, enum ts_sq_stmt id, const char *const *args, int n,
		    struct ts_connection_rec **out, const char *what)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, id, args, n, &c, &s, what);
	if (rc == TS_OK && (*out = read_conn(s)) == NULL)
		rc = ts_sq_bad_row("connection");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_connection_get(struct ts_store *st, const char *tenant_id, const char *id,
			 struct ts_connection_rec **out)
{
	const char *args[] = {tenant_id, id};

	return conn_one(st, TS_SQ_CONN_GET, args, 2, out, "connection get");
}

int ts_sq_connection_find(struct ts_store *st, const char *tenant_id, const char *owner,
			  const char *name, struct ts_connection_rec **out)
{
	const char *args[] = {tenant_id, owner, name};

	return conn_one(st, TS_SQ_CONN_FIND, args, 3, out, "connection find");
}

/* Runs a prepared, bound list statement to the end. */
static int conn_rows(struct ts_sq_conn *c, sqlite3_stmt *s, struct ts_connection_rec ***out,
		     size_t *n, const char *what)
{
	return ts_sq_rows(c, s, row_conn, free_conn, what, (void ***)out, n);
}

int ts_sq_connection_list(struct ts_store *st, const char *tenant_id,
			  struct ts_connection_rec ***out, size_t *n)
{
	const char *args[] = {tenant_id};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, tenant_id ? TS_SQ_CONN_LIST : TS_SQ_CONN_LIST_ALL, &s);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_bind_strs(c, s, args, tenant_id ? 1 : 0, "connection list");
	if (rc == TS_OK)
		rc = conn_rows(c, s, out, n, "connection list");
out:
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

int ts_sq_connection_due(struct ts_store *st, int64_t now, size_t limit,
			 struct ts_connection_rec ***out, size_t *n)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	if (limit > DUE_LIMIT_MAX)
		limit = DUE_LIMIT_MAX;
	rc = ts_sq_conn_get(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CONN_DUE, &s);
	if (rc != TS_OK)
		goto out;
	if (sqlite3_bind_int64(s, 1, now) || sqlite3_bind_int64(s, 2, (sqlite3_int64)limit)) {
		rc = ts_sq_fail(c->db, "connection due bind");
		goto out;
	}
	rc = conn_rows(c, s, out, n, "connection due");
out:
	ts_sq_stmt_done(s);
	ts_sq_conn_put(st, c);
	return rc;
}

/* Whether the connection exists, inside the caller's transaction. */
static int conn_exists(struct ts_sq_conn *c, const char *tenant_id, const char *id)
{
	const char *args[] = {tenant_id, id};
	sqlite3_stmt *s = NULL;
	int rc, src;

	rc = ts_sq_stmt(c, TS_SQ_CONN_GET, &s);
	if (rc != TS_OK)
		return rc;
	rc = ts_sq_bind_strs(c, s, args, 2, "connection exists");
	if (rc == TS_OK) {
		src = sqlite3_step(s);
		if (src == SQLITE_DONE)
			rc = TS_ENOTFOUND;
		else if (src != SQLITE_ROW)
			rc = ts_sq_fail(c->db, "connection exists");
	}
	ts_sq_stmt_done(s);
	return rc;
}

int ts_sq_connection_lease(struct ts_store *st, const char *tenant_id, const char *id,
			   const char *owner, int64_t until, int64_t now)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CONN_LEASE, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, tenant_id) || ts_sq_bind_str(s, 2, id) ||
	    ts_sq_bind_str(s, 3, owner) || sqlite3_bind_int64(s, 4, until) ||
	    sqlite3_bind_int64(s, 5, now)) {
		rc = ts_sq_fail(c->db, "connection lease bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "connection lease");
	s = NULL;
	if (rc == TS_OK && sqlite3_changes(c->db) == 0) {
		rc = conn_exists(c, tenant_id, id);
		if (rc == TS_OK)
			rc = TS_ECONFLICT;
	}
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_connection_save(struct ts_store *st, const struct ts_connection_rec *r,
			  const char *lease_owner)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_CONN_SAVE, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->id) ||
	    ts_sq_bind_str(s, 3, r->status) || ts_sq_bind_str(s, 4, r->metadata) ||
	    ts_sq_bind_str(s, 5, r->access_token) || ts_sq_bind_str(s, 6, r->refresh_token) ||
	    sqlite3_bind_int64(s, 7, r->issued_at) || sqlite3_bind_int64(s, 8, r->expires_at) ||
	    sqlite3_bind_int64(s, 9, r->refresh_expires_at) ||
	    sqlite3_bind_int64(s, 10, r->next_refresh_at) ||
	    sqlite3_bind_int64(s, 11, r->failures) || ts_sq_bind_str(s, 12, r->last_error) ||
	    sqlite3_bind_int(s, 13, r->expiry_warned ? 1 : 0) ||
	    sqlite3_bind_int64(s, 14, r->updated_at) || ts_sq_bind_str(s, 15, lease_owner)) {
		rc = ts_sq_fail(c->db, "connection save bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "connection save");
	s = NULL;
	if (rc == TS_OK && sqlite3_changes(c->db) == 0) {
		rc = conn_exists(c, r->tenant_id, r->id);
		if (rc == TS_OK)
			rc = TS_ECONFLICT;
	}
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_connection_release(struct ts_store *st, const char *tenant_id, const char *id,
			     const char *lease_owner)
{
	const char *args[] = {tenant_id, id, lease_owner};

	return ts_sq_write1(st, TS_SQ_CONN_RELEASE, args, 3, false, false, "connection release");
}

int ts_sq_connection_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	const char *args[] = {tenant_id, id};

	return ts_sq_write1(st, TS_SQ_CONN_DELETE, args, 2, true, false, "connection delete");
}
