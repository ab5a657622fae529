/* pg_vault.c: the token vault's providers and connections for the
 * PostgreSQL backend, and the compare-and-swap re-sealing of provider
 * secrets and signing keys under a new master key. Secrets arrive sealed
 * and are stored as given. The lease that serializes refreshes is one
 * conditional UPDATE: concurrent takers queue on the row's lock and
 * re-check the condition once the winner commits, so exactly one changes
 * the row. The write that stores refreshed tokens is fenced by the lease
 * and releases it in the same statement. Lists sort with COLLATE "C",
 * byte order as SQLite's BINARY collation. No write here bumps the
 * generation. */
#include "pg_int.h"

#define DUE_LIMIT_MAX 1000

#define PROVIDER_COLS "tenant_id, name, kind, config, sealed_secret, created_at, updated_at"
/* Connection reads join the tenant for its name (column 2). */
#define CONN_COLS_C \
	"c.id, c.tenant_id, t.name, c.provider, c.name, c.owner, c.created_by, c.status, " \
	"c.metadata, c.access_token, c.refresh_token, c.issued_at, c.expires_at, " \
	"c.refresh_expires_at, c.next_refresh_at, c.failures, c.last_error, c.expiry_warned, " \
	"c.lease_owner, c.lease_until, c.created_at, c.updated_at"
#define CONN_FROM " FROM vault_connections c JOIN tenants t ON t.id = c.tenant_id"

/* ---- providers ---- */

/* Row i (PROVIDER_COLS) as a new record, or NULL if a NOT NULL column
 * came back NULL. */
static struct ts_provider_rec *read_provider(const PGresult *res, int i)
{
	struct ts_provider_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_pg_col_dup(res, i, 0);
	r->name = ts_pg_col_dup(res, i, 1);
	r->kind = ts_pg_col_dup(res, i, 2);
	r->config = ts_pg_col_dup(res, i, 3);
	r->sealed_secret = ts_pg_col_dup(res, i, 4);
	r->created_at = ts_pg_col_i64(res, i, 5);
	r->updated_at = ts_pg_col_i64(res, i, 6);
	if (r->tenant_id == NULL || r->name == NULL || r->kind == NULL || r->config == NULL) {
		ts_provider_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_provider(const PGresult *res, int i)
{
	return read_provider(res, i);
}

static void free_provider(void *r)
{
	ts_provider_rec_free(r);
}

/* Upsert by (tenant_id, name): an existing provider keeps its created_at.
 * A missing tenant fails on the foreign key (TS_ENOTFOUND). */
int ts_pg_provider_put(struct ts_store *st, const struct ts_provider_rec *r)
{
	static const char sql[] =
		"INSERT INTO vault_providers (" PROVIDER_COLS ")"
		" VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint)"
		" ON CONFLICT (tenant_id, name) DO UPDATE SET kind = excluded.kind,"
		" config = excluded.config, sealed_secret = excluded.sealed_secret,"
		" updated_at = excluded.updated_at";
	char created[TS_PG_I64_BUF], updated[TS_PG_I64_BUF];
	const char *args[] = {
		r->tenant_id,
		r->name,
		r->kind,
		r->config,
		r->sealed_secret,
		ts_pg_i64(created, r->created_at),
		ts_pg_i64(updated, r->updated_at),
	};

	return ts_pg_write1(st, sql, args, (int)TS_ARRAY_LEN(args), false, false,
			    "provider put");
}

int ts_pg_provider_get(struct ts_store *st, const char *tenant_id, const char *name,
		       struct ts_provider_rec **out)
{
	static const char sql[] =
		"SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = $1 AND name = $2";
	const char *args[] = {tenant_id, name};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 2, &res, "provider get");
	if (rc != TS_OK)
		return rc;
	*out = read_provider(res, 0);
	if (*out == NULL)
		rc = ts_pg_bad_row("provider");
	PQclear(res);
	return rc;
}

int ts_pg_provider_list(struct ts_store *st, const char *tenant_id,
			struct ts_provider_rec ***out, size_t *n)
{
	static const char sql[] =
		"SELECT " PROVIDER_COLS " FROM vault_providers WHERE tenant_id = $1"
		" ORDER BY name COLLATE \"C\"";
	static const char all_sql[] =
		"SELECT " PROVIDER_COLS " FROM vault_providers"
		" ORDER BY tenant_id COLLATE \"C\", name COLLATE \"C\"";
	const char *args[] = {tenant_id};

	return ts_pg_list(st, tenant_id ? sql : all_sql, args, tenant_id ? 1 : 0, row_provider,
			  free_provider, "provider list", (void ***)out, n);
}

/* Inside the caller's transaction: locks the provider's row and counts
 * its connections. The lock (FOR UPDATE) conflicts with the key-share
 * lock a connection insert's foreign-key check takes, so an insert under
 * way has committed before the count is read, and a later one waits for
 * this transaction and then finds the provider gone. Without it, the
 * delete would meet such an insert's row at its foreign-key check and
 * fail with TS_ENOTFOUND instead of TS_ECONFLICT. TS_ENOTFOUND if there is
 * no such provider. */
static int provider_in_use(struct ts_pg_conn *c, const char *tenant_id, const char *name,
			   int64_t *count)
{
	static const char lock_sql[] =
		"SELECT 1 FROM vault_providers WHERE tenant_id = $1 AND name = $2 FOR UPDATE";
	static const char count_sql[] =
		"SELECT count(*) FROM vault_connections WHERE tenant_id = $1 AND provider = $2";
	const char *args[] = {tenant_id, name};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_query(c, lock_sql, args, 2, &res, "provider lock");
	if (rc != TS_OK)
		return rc;
	rc = PQntuples(res) == 0 ? TS_ENOTFOUND : TS_OK;
	PQclear(res);
	res = NULL;
	if (rc != TS_OK)
		return rc;
	rc = ts_pg_query(c, count_sql, args, 2, &res, "provider in use");
	if (rc != TS_OK)
		return rc;
	if (PQntuples(res) == 1)
		*count = ts_pg_col_i64(res, 0, 0);
	else
		rc = ts_pg_bad_row("provider in use");
	PQclear(res);
	return rc;
}

int ts_pg_provider_delete(struct ts_store *st, const char *tenant_id, const char *name)
{
	static const char sql[] = "DELETE FROM vault_providers WHERE tenant_id = $1 AND name = $2";
	const char *args[] = {tenant_id, name};
	struct ts_pg_conn *c = NULL;
	int64_t count = 0;
	int rc, changed = 0;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = provider_in_use(c, tenant_id, name, &count);
	if (rc == TS_OK && count > 0)
		rc = TS_ECONFLICT;
	if (rc == TS_OK)
		rc = ts_pg_exec(c, sql, args, 2, &changed, "provider delete");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
out:
	return ts_pg_write_end(st, c, rc, false);
}

/* A compare-and-swap of one sealed value, sql taking (tenant, name, old,
 * new) as $1..$4: TS_ECONFLICT when it changed (or the row is gone). */
static int reseal(struct ts_store *st, const char *sql, const char *const *args,
		  const char *what)
{
	struct ts_pg_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, sql, args, 4, &changed, what);
	if (rc == TS_OK && changed == 0)
		rc = TS_ECONFLICT;
out:
	return ts_pg_write_end(st, c, rc, false);
}

int ts_pg_provider_reseal(struct ts_store *st, const char *tenant_id, const char *name,
			  const char *old_sealed, const char *new_sealed)
{
	static const char sql[] =
		"UPDATE vault_providers SET sealed_secret = $4"
		" WHERE tenant_id = $1 AND name = $2 AND sealed_secret = $3";
	const char *args[] = {tenant_id, name, old_sealed, new_sealed};

	return reseal(st, sql, args, "provider reseal");
}

/* Signing keys are re-sealed by the vault's rekey too (so the old master
 * key can go); the key does not change, so no generation bump. */
int ts_pg_key_reseal(struct ts_store *st, const char *tenant_id, const char *kid,
		     const char *old_sealed, const char *new_sealed)
{
	static const char sql[] =
		"UPDATE keys SET sealed_private = $4"
		" WHERE tenant_id = $1 AND kid = $2 AND sealed_private = $3";
	const char *args[] = {tenant_id, kid, old_sealed, new_sealed};

	return reseal(st, sql, args, "key reseal");
}

/* ---- connections ---- */

/* Row i (CONN_COLS_C) as a new record, or NULL if a NOT NULL column came
 * back NULL. */
static struct ts_connection_rec *read_conn(const PGresult *res, int i)
{
	struct ts_connection_rec *r = ts_xcalloc(1, sizeof(*r));

	r->id = ts_pg_col_dup(res, i, 0);
	r->tenant_id = ts_pg_col_dup(res, i, 1);
	r->tenant_name = ts_pg_col_dup(res, i, 2);
	r->provider = ts_pg_col_dup(res, i, 3);
	r->name = ts_pg_col_dup(res, i, 4);
	r->owner = ts_pg_col_dup(res, i, 5);
	r->created_by = ts_pg_col_dup(res, i, 6);
	r->status = ts_pg_col_dup(res, i, 7);
	r->metadata = ts_pg_col_dup(res, i, 8);
	r->access_token = ts_pg_col_dup(res, i, 9);
	r->refresh_token = ts_pg_col_dup(res, i, 10);
	r->issued_at = ts_pg_col_i64(res, i, 11);
	r->expires_at = ts_pg_col_i64(res, i, 12);
	r->refresh_expires_at = ts_pg_col_i64(res, i, 13);
	r->next_refresh_at = ts_pg_col_i64(res, i, 14);
	r->failures = ts_pg_col_i64(res, i, 15);
	r->last_error = ts_pg_col_dup(res, i, 16);
	r->expiry_warned = ts_pg_col_bool(res, i, 17);
	r->lease_owner = ts_pg_col_dup(res, i, 18);
	r->lease_until = ts_pg_col_i64(res, i, 19);
	r->created_at = ts_pg_col_i64(res, i, 20);
	r->updated_at = ts_pg_col_i64(res, i, 21);
	if (r->id == NULL || r->tenant_id == NULL || r->tenant_name == NULL ||
	    r->provider == NULL || r->name == NULL || r->status == NULL || r->metadata == NULL) {
		ts_connection_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_conn(const PGresult *res, int i)
{
	return read_conn(res, i);
}

static void free_conn(void *r)
{
	ts_connection_rec_free(r);
}

/* The lease starts free (the columns' defaults). A taken id, or name for
 * the tenant and owner (the unique index on coalesce(owner, '')), is
 * TS_EEXIST; a missing tenant, provider or owner fails on a foreign key
 * (TS_ENOTFOUND). */
int ts_pg_connection_insert(struct ts_store *st, const struct ts_connection_rec *r)
{
	static const char sql[] =
		"INSERT INTO vault_connections (id, tenant_id, provider, name, owner, created_by,"
		" status, metadata, access_token, refresh_token, issued_at, expires_at,"
		" refresh_expires_at, next_refresh_at, failures, last_error, expiry_warned,"
		" created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::bigint, $12::bigint,"
		" $13::bigint, $14::bigint, $15::bigint, $16, $17::integer, $18::bigint,"
		" $19::bigint)";
	char issued[TS_PG_I64_BUF], expires[TS_PG_I64_BUF], refresh_expires[TS_PG_I64_BUF];
	char next_refresh[TS_PG_I64_BUF], failures[TS_PG_I64_BUF], warned[TS_PG_I64_BUF];
	char created[TS_PG_I64_BUF], updated[TS_PG_I64_BUF];
	const char *args[] = {
		r->id,
		r->tenant_id,
		r->provider,
		r->name,
		r->owner,
		r->created_by,
		r->status,
		r->metadata,
		r->access_token,
		r->refresh_token,
		ts_pg_i64(issued, r->issued_at),
		ts_pg_i64(expires, r->expires_at),
		ts_pg_i64(refresh_expires, r->refresh_expires_at),
		ts_pg_i64(next_refresh, r->next_refresh_at),
		ts_pg_i64(failures, r->failures),
		r->last_error,
		ts_pg_i64(warned, r->expiry_warned ? 1 : 0),
		ts_pg_i64(created, r->created_at),
		ts_pg_i64(updated, r->updated_at),
	};

	return ts_pg_write1(st, sql, args, (int)TS_ARRAY_LEN(args), false, false,
			    "connection insert");
}

/* The one connection sql yields for its n parameters args. */
static int conn_one(struct ts_store *st, const char *sql, const char *const *args, int n,
		    struct ts_connection_rec **out, const char *what)
{
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, n, &res, what);
	if (rc != TS_OK)
		return rc;
	*out = read_conn(res, 0);
	if (*out == NULL)
		rc = ts_pg_bad_row("connection");
	PQclear(res);
	return rc;
}

int ts_pg_connection_get(struct ts_store *st, const char *tenant_id, const char *id,
			 struct ts_connection_rec **out)
{
	static const char sql[] =
		"SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = $1 AND c.id = $2";
	const char *args[] = {tenant_id, id};

	return conn_one(st, sql, args, 2, out, "connection get");
}

/* A NULL owner names the tenant's own connections, as in the unique
 * index on (tenant_id, coalesce(owner, ''), name). */
int ts_pg_connection_find(struct ts_store *st, const char *tenant_id, const char *owner,
			  const char *name, struct ts_connection_rec **out)
{
	static const char sql[] =
		"SELECT " CONN_COLS_C CONN_FROM
		" WHERE c.tenant_id = $1 AND coalesce(c.owner, '') = coalesce($2::text, '')"
		" AND c.name = $3";
	const char *args[] = {tenant_id, owner, name};

	return conn_one(st, sql, args, 3, out, "connection find");
}

int ts_pg_connection_list(struct ts_store *st, const char *tenant_id,
			  struct ts_connection_rec ***out, size_t *n)
{
	static const char sql[] =
		"SELECT " CONN_COLS_C CONN_FROM " WHERE c.tenant_id = $1"
		" ORDER BY c.created_at, c.id COLLATE \"C\"";
	static const char all_sql[] =
		"SELECT " CONN_COLS_C CONN_FROM
		" ORDER BY c.tenant_id COLLATE \"C\", c.created_at, c.id COLLATE \"C\"";
	const char *args[] = {tenant_id};

	return ts_pg_list(st, tenant_id ? sql : all_sql, args, tenant_id ? 1 : 0, row_conn,
			  free_conn, "connection list", (void ***)out, n);
}

/* Due: next_refresh_at set and reached, and the lease free or ended
 * before now. */
int ts_pg_connection_due(struct ts_store *st, int64_t now, size_t limit,
			 struct ts_connection_rec ***out, size_t *n)
{
	static const char sql[] =
		"SELECT " CONN_COLS_C CONN_FROM
		" WHERE c.next_refresh_at > 0 AND c.next_refresh_at <= $1::bigint"
		" AND (c.lease_owner IS NULL OR c.lease_until < $1::bigint)"
		" ORDER BY c.next_refresh_at LIMIT $2::bigint";
	char now_s[TS_PG_I64_BUF], limit_s[TS_PG_I64_BUF];
	const char *args[2];

	if (limit > DUE_LIMIT_MAX)
		limit = DUE_LIMIT_MAX;
	args[0] = ts_pg_i64(now_s, now);
	args[1] = ts_pg_i64(limit_s, (int64_t)limit);
	return ts_pg_list(st, sql, args, 2, row_conn, free_conn, "connection due", (void ***)out,
			  n);
}

/* Inside the caller's transaction, after a fenced UPDATE changed nothing:
 * TS_ECONFLICT if the connection exists (the lease is someone else's),
 * TS_ENOTFOUND if not. */
static int conn_conflict(struct ts_pg_conn *c, const char *tenant_id, const char *id)
{
	static const char sql[] =
		"SELECT 1 FROM vault_connections WHERE tenant_id = $1 AND id = $2";
	const char *args[] = {tenant_id, id};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_query(c, sql, args, 2, &res, "connection exists");
	if (rc != TS_OK)
		return rc;
	rc = PQntuples(res) > 0 ? TS_ECONFLICT : TS_ENOTFOUND;
	PQclear(res);
	return rc;
}

/* Runs the fenced UPDATE sql in a transaction of its own: TS_OK if it
 * changed the row, else conn_conflict's answer. */
static int conn_fenced(struct ts_store *st, const char *sql, const char *const *args, int n,
		       const char *tenant_id, const char *id, const char *what)
{
	struct ts_pg_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, sql, args, n, &changed, what);
	if (rc == TS_OK && changed == 0)
		rc = conn_conflict(c, tenant_id, id);
out:
	return ts_pg_write_end(st, c, rc, false);
}

/* The lease: one conditional UPDATE, so exactly one taker wins. */
int ts_pg_connection_lease(struct ts_store *st, const char *tenant_id, const char *id,
			   const char *owner, int64_t until, int64_t now)
{
	static const char sql[] =
		"UPDATE vault_connections SET lease_owner = $3, lease_until = $4::bigint"
		" WHERE tenant_id = $1 AND id = $2"
		" AND (lease_owner IS NULL OR lease_until < $5::bigint)";
	char until_s[TS_PG_I64_BUF], now_s[TS_PG_I64_BUF];
	const char *args[] = {tenant_id, id, owner, ts_pg_i64(until_s, until),
			      ts_pg_i64(now_s, now)};

	return conn_fenced(st, sql, args, (int)TS_ARRAY_LEN(args), tenant_id, id,
			   "connection lease");
}

/* Fenced by the lease: a holder that lost it writes nothing. */
int ts_pg_connection_save(struct ts_store *st, const struct ts_connection_rec *r,
			  const char *lease_owner)
{
	static const char sql[] =
		"UPDATE vault_connections SET status = $3, metadata = $4, access_token = $5,"
		" refresh_token = $6, issued_at = $7::bigint, expires_at = $8::bigint,"
		" refresh_expires_at = $9::bigint, next_refresh_at = $10::bigint,"
		" failures = $11::bigint, last_error = $12, expiry_warned = $13::integer,"
		" updated_at = $14::bigint, lease_owner = NULL, lease_until = 0"
		" WHERE tenant_id = $1 AND id = $2 AND lease_owner = $15";
	char issued[TS_PG_I64_BUF], expires[TS_PG_I64_BUF], refresh_expires[TS_PG_I64_BUF];
	char next_refresh[TS_PG_I64_BUF], failures[TS_PG_I64_BUF], warned[TS_PG_I64_BUF];
	char updated[TS_PG_I64_BUF];
	const char *args[] = {
		r->tenant_id,
		r->id,
		r->status,
		r->metadata,
		r->access_token,
		r->refresh_token,
		ts_pg_i64(issued, r->issued_at),
		ts_pg_i64(expires, r->expires_at),
		ts_pg_i64(refresh_expires, r->refresh_expires_at),
		ts_pg_i64(next_refresh, r->next_refresh_at),
		ts_pg_i64(failures, r->failures),
		r->last_error,
		ts_pg_i64(warned, r->expiry_warned ? 1 : 0),
		ts_pg_i64(updated, r->updated_at),
		lease_owner,
	};

	return conn_fenced(st, sql, args, (int)TS_ARRAY_LEN(args), r->tenant_id, r->id,
			   "connection save");
}

int ts_pg_connection_release(struct ts_store *st, const char *tenant_id, const char *id,
			     const char *lease_owner)
{
	static const char sql[] =
		"UPDATE vault_connections SET lease_owner = NULL, lease_until = 0"
		" WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3";
	const char *args[] = {tenant_id, id, lease_owner};

	return ts_pg_write1(st, sql, args, 3, false, false, "connection release");
}

int ts_pg_connection_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	static const char sql[] = "DELETE FROM vault_connections WHERE tenant_id = $1 AND id = $2";
	const char *args[] = {tenant_id, id};

	return ts_pg_write1(st, sql, args, 2, true, false, "connection delete");
}
