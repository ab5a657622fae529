/* pg_ops.c: the configuration operations of the PostgreSQL backend
 * (tenants, clients, keys), revocations, the audit log, and the operations
 * table, whose other entries live in pg_people.c, pg_apikeys.c,
 * pg_grants.c, pg_state.c and pg_vault.c. Each operation runs fixed SQL
 * with text parameters only on a pooled connection (pg.c) and behaves as
 * its SQLite twin in sqlite_ops.c. Writes to tenants, clients and keys bump
 * the generation in the same transaction; no other write does. */
#include "pg_int.h"

#include <stdint.h>
#include <stdlib.h>

#define TENANT_COLS "id, name, config, created_at, updated_at"
#define CLIENT_COLS "tenant_id, client_id, config, secret_hash, created_at, updated_at"
#define KEY_COLS \
	"tenant_id, kid, alg, state, public_jwk, sealed_private, created_at, activated_at, " \
	"retired_at"
#define AUDIT_COLS "id, tenant, time, type, actor, subject, request_id, detail"

/* Upsert by name: an existing tenant keeps its id and created_at. A new
 * name whose id belongs to another tenant fails on the primary key
 * (TS_EEXIST). */
static const char tenant_put_sql[] =
	"INSERT INTO tenants (" TENANT_COLS ") VALUES ($1, $2, $3, $4::bigint, $5::bigint)"
	" ON CONFLICT (name) DO UPDATE SET config = excluded.config,"
	" updated_at = excluded.updated_at, version = tenants.version + 1";
static const char tenant_get_sql[] =
	"SELECT " TENANT_COLS ", version FROM tenants WHERE name = $1";
static const char tenant_list_sql[] =
	"SELECT " TENANT_COLS ", version FROM tenants ORDER BY name";
static const char tenant_versions_sql[] = "SELECT id, name, version FROM tenants ORDER BY name";
/* Everything the tenant owns goes with it (ON DELETE CASCADE). */
static const char tenant_delete_sql[] = "DELETE FROM tenants WHERE name = $1";

/* A client_put for a tenant id that does not exist fails on the foreign
 * key (TS_ENOTFOUND); likewise for keys and revocations. */
static const char client_put_sql[] =
	"INSERT INTO clients (" CLIENT_COLS ") VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint)"
	" ON CONFLICT (tenant_id, client_id) DO UPDATE SET config = excluded.config,"
	" secret_hash = excluded.secret_hash, updated_at = excluded.updated_at";
static const char client_get_sql[] =
	"SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = $1 AND client_id = $2";
static const char client_list_sql[] =
	"SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = $1 ORDER BY client_id";
static const char client_list_all_sql[] =
	"SELECT " CLIENT_COLS " FROM clients ORDER BY tenant_id, client_id";
static const char client_delete_sql[] =
	"DELETE FROM clients WHERE tenant_id = $1 AND client_id = $2";

static const char key_put_sql[] =
	"INSERT INTO keys (" KEY_COLS ")"
	" VALUES ($1, $2, $3, $4, $5, $6, $7::bigint, $8::bigint, $9::bigint)"
	" ON CONFLICT (tenant_id, kid) DO UPDATE SET alg = excluded.alg,"
	" state = excluded.state, public_jwk = excluded.public_jwk,"
	" sealed_private = excluded.sealed_private,"
	" activated_at = excluded.activated_at, retired_at = excluded.retired_at";
/* kid breaks ties, so the order is total. */
static const char key_list_sql[] =
	"SELECT " KEY_COLS " FROM keys WHERE tenant_id = $1 ORDER BY created_at, kid";
static const char key_list_all_sql[] =
	"SELECT " KEY_COLS " FROM keys ORDER BY tenant_id, created_at, kid";
static const char key_delete_sql[] = "DELETE FROM keys WHERE tenant_id = $1 AND kid = $2";

/* Idempotent; a repeated revocation keeps the later expiry. */
static const char revoke_put_sql[] =
	"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES ($1, $2, $3::bigint)"
	" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
	" expires_at = greatest(revocations.expires_at, excluded.expires_at)";
/* Single use: a second insert of the same id changes nothing. */
static const char jti_use_sql[] =
	"INSERT INTO revocations (tenant_id, jti, expires_at) VALUES ($1, $2, $3::bigint)"
	" ON CONFLICT (tenant_id, jti) DO NOTHING";
static const char revoke_check_sql[] =
	"SELECT 1 FROM revocations WHERE tenant_id = $1 AND jti = $2";
static const char revoke_purge_sql[] = "DELETE FROM revocations WHERE expires_at < $1::bigint";

static const char audit_append_sql[] =
	"INSERT INTO audit (tenant, time, type, actor, subject, request_id, detail)"
	" VALUES ($1, $2::bigint, $3, $4, $5, $6, $7)";
static const char audit_query_sql[] =
	"SELECT " AUDIT_COLS " FROM audit WHERE tenant = $1 AND time >= $2::bigint"
	" ORDER BY time DESC, id DESC LIMIT $3::bigint";
static const char audit_query_all_sql[] =
	"SELECT " AUDIT_COLS " FROM audit WHERE time >= $1::bigint ORDER BY time DESC, id DESC"
	" LIMIT $2::bigint";

/* Row i of TENANT_COLS as a new record, or NULL if a NOT NULL column came
 * back NULL. */
static struct ts_tenant_rec *read_tenant(const PGresult *r, int i)
{
	struct ts_tenant_rec *t = ts_xcalloc(1, sizeof(*t));

	t->id = ts_pg_col_dup(r, i, 0);
	t->name = ts_pg_col_dup(r, i, 1);
	t->config = ts_pg_col_dup(r, i, 2);
	t->created_at = ts_pg_col_i64(r, i, 3);
	t->updated_at = ts_pg_col_i64(r, i, 4);
	t->version = ts_pg_col_i64(r, i, 5);
	if (t->id == NULL || t->name == NULL || t->config == NULL) {
		ts_tenant_rec_free(t);
		return NULL;
	}
	return t;
}

static struct ts_client_rec *read_client(const PGresult *r, int i)
{
	struct ts_client_rec *c = ts_xcalloc(1, sizeof(*c));

	c->tenant_id = ts_pg_col_dup(r, i, 0);
	c->client_id = ts_pg_col_dup(r, i, 1);
	c->config = ts_pg_col_dup(r, i, 2);
	c->secret_hash = ts_pg_col_dup(r, i, 3);
	c->created_at = ts_pg_col_i64(r, i, 4);
	c->updated_at = ts_pg_col_i64(r, i, 5);
	if (c->tenant_id == NULL || c->client_id == NULL || c->config == NULL) {
		ts_client_rec_free(c);
		return NULL;
	}
	return c;
}

static struct ts_key_rec *read_key(const PGresult *r, int i)
{
	struct ts_key_rec *k = ts_xcalloc(1, sizeof(*k));

	k->tenant_id = ts_pg_col_dup(r, i, 0);
	k->kid = ts_pg_col_dup(r, i, 1);
	k->alg = ts_pg_col_dup(r, i, 2);
	k->state = ts_pg_col_dup(r, i, 3);
	k->public_jwk = ts_pg_col_dup(r, i, 4);
	k->sealed_private = ts_pg_col_dup(r, i, 5);
	k->created_at = ts_pg_col_i64(r, i, 6);
	k->activated_at = ts_pg_col_i64(r, i, 7);
	k->retired_at = ts_pg_col_i64(r, i, 8);
	if (k->tenant_id == NULL || k->kid == NULL || k->alg == NULL || k->state == NULL ||
	    k->public_jwk == NULL || k->sealed_private == NULL) {
		ts_key_rec_free(k);
		return NULL;
	}
	return k;
}

static struct ts_audit_rec *read_audit(const PGresult *r, int i)
{
	struct ts_audit_rec *a = ts_xcalloc(1, sizeof(*a));

	a->id = ts_pg_col_i64(r, i, 0);
	a->tenant = ts_pg_col_dup(r, i, 1);
	a->time = ts_pg_col_i64(r, i, 2);
	a->type = ts_pg_col_dup(r, i, 3);
	a->actor = ts_pg_col_dup(r, i, 4);
	a->subject = ts_pg_col_dup(r, i, 5);
	a->request_id = ts_pg_col_dup(r, i, 6);
	a->detail = ts_pg_col_dup(r, i, 7);
	if (a->type == NULL) {
		ts_audit_rec_free(a);
		return NULL;
	}
	return a;
}

static void *row_tenant(const PGresult *r, int i)
{
	return read_tenant(r, i);
}

static void free_tenant(void *rec)
{
	ts_tenant_rec_free(rec);
}

static void *row_tenant_ver(const PGresult *r, int i)
{
	struct ts_tenant_ver *v = ts_xcalloc(1, sizeof(*v));

	v->id = ts_pg_col_dup(r, i, 0);
	v->name = ts_pg_col_dup(r, i, 1);
	v->version = ts_pg_col_i64(r, i, 2);
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

static void *row_client(const PGresult *r, int i)
{
	return read_client(r, i);
}

static void free_client(void *rec)
{
	ts_client_rec_free(rec);
}

static void *row_key(const PGresult *r, int i)
{
	return read_key(r, i);
}

static void free_key(void *rec)
{
	ts_key_rec_free(rec);
}

static void *row_audit(const PGresult *r, int i)
{
	return read_audit(r, i);
}

static void free_audit(void *rec)
{
	ts_audit_rec_free(rec);
}

/* A one-row read of a record by read; *out stays NULL unless TS_OK. */
static int get_one(struct ts_store *st, const char *sql, const char *const *args, int n,
		   ts_pg_read_fn read, void **out, const char *what)
{
	PGresult *r = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, n, &r, what);
	if (rc != TS_OK)
		return rc;
	*out = read(r, 0);
	rc = *out != NULL ? TS_OK : ts_pg_bad_row(what);
	PQclear(r);
	return rc;
}

static int pg_tenant_put(struct ts_store *st, const struct ts_tenant_rec *t)
{
	char created[TS_PG_I64_BUF], updated[TS_PG_I64_BUF];
	const char *args[] = {t->id, t->name, t->config, ts_pg_i64(created, t->created_at),
			      ts_pg_i64(updated, t->updated_at)};

	return ts_pg_write1(st, tenant_put_sql, args, 5, false, true, "tenant put");
}

static int pg_tenant_get(struct ts_store *st, const char *name, struct ts_tenant_rec **out)
{
	const char *args[] = {name};

	return get_one(st, tenant_get_sql, args, 1, row_tenant, (void **)out, "tenant get");
}

static int pg_tenant_list(struct ts_store *st, struct ts_tenant_rec ***out, size_t *n)
{
	return ts_pg_list(st, tenant_list_sql, NULL, 0, row_tenant, free_tenant, "tenant list",
			  (void ***)out, n);
}

static int pg_tenant_versions(struct ts_store *st, struct ts_tenant_ver ***out, size_t *n)
{
	return ts_pg_list(st, tenant_versions_sql, NULL, 0, row_tenant_ver, free_tenant_ver,
			  "tenant versions", (void ***)out, n);
}

/* Deletes by key in a transaction of its own, bumping the generation;
 * TS_ENOTFOUND, and no bump, when no row matched. */
static int delete_by(struct ts_store *st, const char *sql, const char *a, const char *b,
		     const char *what)
{
	const char *args[] = {a, b};

	return ts_pg_write1(st, sql, args, b != NULL ? 2 : 1, true, true, what);
}

/* The cascade takes everything the tenant owns with it. */
static int pg_tenant_delete(struct ts_store *st, const char *name)
{
	return delete_by(st, tenant_delete_sql, name, NULL, "tenant delete");
}

static int pg_client_put(struct ts_store *st, const struct ts_client_rec *c)
{
	char created[TS_PG_I64_BUF], updated[TS_PG_I64_BUF];
	const char *args[] = {c->tenant_id,
			      c->client_id,
			      c->config,
			      c->secret_hash,
			      ts_pg_i64(created, c->created_at),
			      ts_pg_i64(updated, c->updated_at)};

	return ts_pg_write1(st, client_put_sql, args, 6, false, true, "client put");
}

static int pg_client_get(struct ts_store *st, const char *tenant_id, const char *client_id,
			 struct ts_client_rec **out)
{
	const char *args[] = {tenant_id, client_id};

	return get_one(st, client_get_sql, args, 2, row_client, (void **)out, "client get");
}

static int pg_client_list(struct ts_store *st, const char *tenant_id,
			  struct ts_client_rec ***out, size_t *n)
{
	const char *args[] = {tenant_id};

	return ts_pg_list(st, tenant_id ? client_list_sql : client_list_all_sql, args,
			  tenant_id ? 1 : 0, row_client, free_client, "client list", (void ***)out,
			  n);
}

static int pg_client_delete(struct ts_store *st, const char *tenant_id, const char *client_id)
{
	return delete_by(st, client_delete_sql, tenant_id, client_id, "client delete");
}

static int pg_key_put(struct ts_store *st, const struct ts_key_rec *k)
{
	char created[TS_PG_I64_BUF], activated[TS_PG_I64_BUF], retired[TS_PG_I64_BUF];
	const char *args[] = {k->tenant_id,
			      k->kid,
			      k->alg,
			      k->state,
			      k->public_jwk,
			      k->sealed_private,
			      ts_pg_i64(created, k->created_at),
			      ts_pg_i64(activated, k->activated_at),
			      ts_pg_i64(retired, k->retired_at)};

	return ts_pg_write1(st, key_put_sql, args, 9, false, true, "key put");
}

static int pg_key_list(struct ts_store *st, const char *tenant_id, struct ts_key_rec ***out,
		       size_t *n)
{
	const char *args[] = {tenant_id};

	return ts_pg_list(st, tenant_id ? key_list_sql : key_list_all_sql, args, tenant_id ? 1 : 0,
			  row_key, free_key, "key list", (void ***)out, n);
}

static int pg_key_delete(struct ts_store *st, const char *tenant_id, const char *kid)
{
	return delete_by(st, key_delete_sql, tenant_id, kid, "key delete");
}

/* Revocations are not configuration: no generation bump. */
static int pg_revoke_put(struct ts_store *st, const char *tenant_id, const char *jti,
			 int64_t expires_at)
{
	char exp[TS_PG_I64_BUF];
	const char *args[] = {tenant_id, jti, ts_pg_i64(exp, expires_at)};

	return ts_pg_write1(st, revoke_put_sql, args, 3, false, false, "revoke put");
}

/* The unique key decides: of concurrent inserts one changes a row, the
 * others wait for it and then change none. */
static int pg_jti_use(struct ts_store *st, const char *tenant_id, const char *jti,
		      int64_t expires_at)
{
	char exp[TS_PG_I64_BUF];
	const char *args[] = {tenant_id, jti, ts_pg_i64(exp, expires_at)};
	int rc = ts_pg_write1(st, jti_use_sql, args, 3, true, false, "jti use");

	return rc == TS_ENOTFOUND ? TS_EEXIST : rc;
}

static int pg_revoke_check(struct ts_store *st, const char *tenant_id, const char *jti,
			   bool *revoked)
{
	const char *args[] = {tenant_id, jti};
	PGresult *r = NULL;
	int rc;

	rc = ts_pg_get1(st, revoke_check_sql, args, 2, &r, "revoke check");
	if (rc == TS_OK || rc == TS_ENOTFOUND) {
		*revoked = rc == TS_OK;
		rc = TS_OK;
	}
	PQclear(r);
	return rc;
}

static int pg_revoke_purge(struct ts_store *st, int64_t now)
{
	char at[TS_PG_I64_BUF];
	const char *args[] = {ts_pg_i64(at, now)};

	return ts_pg_write1(st, revoke_purge_sql, args, 1, false, false, "revoke purge");
}

/* All n records in one transaction: all are stored or none. */
static int pg_audit_append(struct ts_store *st, const struct ts_audit_rec *recs, size_t n)
{
	struct ts_pg_conn *c = NULL;
	char at[TS_PG_I64_BUF];
	size_t i;
	int rc;

	rc = ts_pg_write_begin(st, &c);
	for (i = 0; i < n && rc == TS_OK; i++) {
		const struct ts_audit_rec *a = &recs[i];
		const char *args[] = {a->tenant,  ts_pg_i64(at, a->time), a->type,  a->actor,
				      a->subject, a->request_id,            a->detail};

		rc = ts_pg_exec(c, audit_append_sql, args, 7, NULL, "audit append");
	}
	return ts_pg_write_end(st, c, rc, false);
}

static int pg_audit_query(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			  struct ts_audit_rec ***out, size_t *n)
{
	char from[TS_PG_I64_BUF], lim[TS_PG_I64_BUF];
	/* LIMIT is a signed bigint; anything larger means "no limit". */
	int64_t l = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
	const char *args[] = {tenant, ts_pg_i64(from, since), ts_pg_i64(lim, l)};

	if (tenant == NULL)
		return ts_pg_list(st, audit_query_all_sql, args + 1, 2, row_audit, free_audit,
				  "audit query", (void ***)out, n);
	return ts_pg_list(st, audit_query_sql, args, 3, row_audit, free_audit, "audit query",
			  (void ***)out, n);
}

const struct ts_store_ops ts_pg_ops = {
	.name = "postgres",
	.shared = true,
	.close = ts_pg_close,
	.ping = ts_pg_ping,
	.generation = ts_pg_generation,
	.tenant_put = pg_tenant_put,
	.tenant_get = pg_tenant_get,
	.tenant_list = pg_tenant_list,
	.tenant_versions = pg_tenant_versions,
	.batch_begin = ts_pg_batch_begin,
	.batch_end = ts_pg_batch_end,
	.tenant_delete = pg_tenant_delete,
	.client_put = pg_client_put,
	.client_get = pg_client_get,
	.client_list = pg_client_list,
	.client_delete = pg_client_delete,
	.key_put = pg_key_put,
	.key_list = pg_key_list,
	.key_delete = pg_key_delete,
	.revoke_put = pg_revoke_put,
	.jti_use = pg_jti_use,
	.revoke_check = pg_revoke_check,
	.revoke_purge = pg_revoke_purge,
	.audit_append = pg_audit_append,
	.audit_query = pg_audit_query,
};
