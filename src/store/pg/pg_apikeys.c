/* pg_apikeys.c: API keys for the PostgreSQL backend. Secrets are stored
 * only as SHA-256 digests; the comparison is the caller's, in constant
 * time. No write here bumps the generation. */
#include "pg_int.h"

#define APIKEY_COLS "key, tenant_id, user_id, secret_hash, kind, device_id, created_at"

static struct ts_apikey_rec *read_key(const PGresult *res, int i)
{
	struct ts_apikey_rec *r = ts_xcalloc(1, sizeof(*r));

	r->key = ts_pg_col_dup(res, i, 0);
	r->tenant_id = ts_pg_col_dup(res, i, 1);
	r->user_id = ts_pg_col_dup(res, i, 2);
	r->secret_hash = ts_pg_col_dup(res, i, 3);
	r->kind = ts_pg_col_dup(res, i, 4);
	r->device_id = ts_pg_col_dup(res, i, 5);
	r->created_at = ts_pg_col_i64(res, i, 6);
	if (r->key == NULL || r->tenant_id == NULL || r->user_id == NULL ||
	    r->secret_hash == NULL || r->kind == NULL) {
		ts_apikey_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_key(const PGresult *res, int i)
{
	return read_key(res, i);
}

static void free_key(void *r)
{
	ts_apikey_rec_free(r);
}

/* Replacing a key keeps its owner: a put naming another tenant or user for
 * an existing key changes nothing and is TS_EEXIST (the conditional upsert
 * then touches no row). A second device key of a user fails on the partial
 * unique index (TS_EEXIST), a missing user on the foreign key
 * (TS_ENOTFOUND). */
int ts_pg_apikey_put(struct ts_store *st, const struct ts_apikey_rec *r)
{
	static const char sql[] =
		"INSERT INTO api_keys (" APIKEY_COLS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7::bigint)"
		" ON CONFLICT (key) DO UPDATE SET secret_hash = excluded.secret_hash,"
		" device_id = excluded.device_id"
		" WHERE api_keys.tenant_id = excluded.tenant_id"
		" AND api_keys.user_id = excluded.user_id";
	char created[TS_PG_I64_BUF];
	const char *args[] = {
		r->key, r->tenant_id, r->user_id, r->secret_hash,
		r->kind, r->device_id, ts_pg_i64(created, r->created_at),
	};
	struct ts_pg_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, sql, args, (int)TS_ARRAY_LEN(args), &changed, "apikey put");
	if (rc == TS_OK && changed == 0)
		rc = TS_EEXIST;
out:
	return ts_pg_write_end(st, c, rc, false);
}

static int get_one(struct ts_store *st, const char *sql, const char *const *args, int n,
		   struct ts_apikey_rec **out, const char *what)
{
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, n, &res, what);
	if (rc != TS_OK)
		return rc;
	if ((*out = read_key(res, 0)) == NULL)
		rc = ts_pg_bad_row("api key");
	PQclear(res);
	return rc;
}

int ts_pg_apikey_get(struct ts_store *st, const char *key, struct ts_apikey_rec **out)
{
	static const char sql[] = "SELECT " APIKEY_COLS " FROM api_keys WHERE key = $1";
	const char *args[] = {key};

	return get_one(st, sql, args, 1, out, "apikey get");
}

int ts_pg_apikey_find_device(struct ts_store *st, const char *tenant_id, const char *user_id,
			     struct ts_apikey_rec **out)
{
	static const char sql[] =
		"SELECT " APIKEY_COLS " FROM api_keys"
		" WHERE tenant_id = $1 AND user_id = $2 AND kind = 'device'";
	const char *args[] = {tenant_id, user_id};

	return get_one(st, sql, args, 2, out, "apikey find device");
}

/* Oldest first; the key breaks ties. */
int ts_pg_apikey_list(struct ts_store *st, const char *tenant_id, const char *user_id,
		      struct ts_apikey_rec ***out, size_t *n)
{
	static const char sql[] =
		"SELECT " APIKEY_COLS " FROM api_keys WHERE tenant_id = $1 AND user_id = $2"
		" ORDER BY created_at, key";
	const char *args[] = {tenant_id, user_id};

	return ts_pg_list(st, sql, args, 2, row_key, free_key, "apikey list", (void ***)out, n);
}

int ts_pg_apikey_delete(struct ts_store *st, const char *tenant_id, const char *key)
{
	static const char sql[] = "DELETE FROM api_keys WHERE tenant_id = $1 AND key = $2";
	const char *args[] = {tenant_id, key};

	return ts_pg_write1(st, sql, args, 2, true, false, "apikey delete");
}

/* TS_OK also when the user had no key. */
int ts_pg_apikey_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	static const char sql[] = "DELETE FROM api_keys WHERE tenant_id = $1 AND user_id = $2";
	const char *args[] = {tenant_id, user_id};

	return ts_pg_write1(st, sql, args, 2, false, false, "apikey delete user");
}
