/* sqlite_apikeys.c: API keys for the SQLite backend. Secrets are stored
 * only as SHA-256 digests; the comparison is the caller's, in constant
 * time. No write here bumps the generation. */
#include "sqlite_int.h"

#include <stdlib.h>

static struct ts_apikey_rec *read_key(sqlite3_stmt *s)
{
	struct ts_apikey_rec *r = ts_xcalloc(1, sizeof(*r));

	r->key = ts_sq_col_dup(s, 0);
	r->tenant_id = ts_sq_col_dup(s, 1);
	r->user_id = ts_sq_col_dup(s, 2);
	r->secret_hash = ts_sq_col_dup(s, 3);
	r->kind = ts_sq_col_dup(s, 4);
	r->device_id = ts_sq_col_dup(s, 5);
	r->created_at = sqlite3_column_int64(s, 6);
	if (r->key == NULL || r->tenant_id == NULL || r->user_id == NULL ||
	    r->secret_hash == NULL || r->kind == NULL) {
		ts_apikey_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_key(sqlite3_stmt *s)
{
	return read_key(s);
}

static void free_key(void *r)
{
	ts_apikey_rec_free(r);
}

/* Replacing a key keeps its owner: a put naming another tenant or user for
 * an existing key changes nothing and is TS_EEXIST. */
int ts_sq_apikey_put(struct ts_store *st, const struct ts_apikey_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_APIKEY_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->key) || ts_sq_bind_str(s, 2, r->tenant_id) ||
	    ts_sq_bind_str(s, 3, r->user_id) || ts_sq_bind_str(s, 4, r->secret_hash) ||
	    ts_sq_bind_str(s, 5, r->kind) || ts_sq_bind_str(s, 6, r->device_id) ||
	    sqlite3_bind_int64(s, 7, r->created_at)) {
		rc = ts_sq_fail(c->db, "apikey put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "apikey put");
	s = NULL;
	if (rc == TS_OK && sqlite3_changes(c->db) == 0)
		rc = TS_EEXIST;
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

static int get_one(struct ts_store *st, enum ts_sq_stmt id, const char *const *args, int n,
		   struct ts_apikey_rec **out, const char *what)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, id, args, n, &c, &s, what);
	if (rc == TS_OK && (*out = read_key(s)) == NULL)
		rc = ts_sq_bad_row("api key");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_apikey_get(struct ts_store *st, const char *key, struct ts_apikey_rec **out)
{
	const char *args[] = {key};

	return get_one(st, TS_SQ_APIKEY_GET, args, 1, out, "apikey get");
}

int ts_sq_apikey_find_device(struct ts_store *st, const char *tenant_id, const char *user_id,
			     struct ts_apikey_rec **out)
{
	const char *args[] = {tenant_id, user_id};

	return get_one(st, TS_SQ_APIKEY_FIND_DEVICE, args, 2, out, "apikey find device");
}

int ts_sq_apikey_list(struct ts_store *st, const char *tenant_id, const char *user_id,
		      struct ts_apikey_rec ***out, size_t *n)
{
	const char *args[] = {tenant_id, user_id};

	return ts_sq_list(st, TS_SQ_APIKEY_LIST, args, 2, row_key, free_key, "apikey list",
			  (void ***)out, n);
}

int ts_sq_apikey_delete(struct ts_store *st, const char *tenant_id, const char *key)
{
	const char *args[] = {tenant_id, key};

	return ts_sq_write1(st, TS_SQ_APIKEY_DELETE, args, 2, true, false, "apikey delete");
}

int ts_sq_apikey_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	const char *args[] = {tenant_id, user_id};

	return ts_sq_write1(st, TS_SQ_APIKEY_DELETE_USER, args, 2, false, false,
			    "apikey delete user");
}
