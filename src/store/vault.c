/* vault.c: the token vault's providers and connections, and the
 * compare-and-swap re-sealing of provider secrets and signing keys under a
 * new master key, for every driver. Secrets arrive sealed and are stored
 * as given. The lease that serializes refreshes is one conditional
 * UPDATE, so of any number of takers in any number of processes exactly
 * one changes the row; the write that stores refreshed tokens is fenced by
 * the lease and releases it in the same statement. No write here moves
 * the generation. */
#include "q.h"
#include "store_vault.h"

#include <string.h>

#define DUE_LIMIT_MAX 1000

static bool kind_ok(const char *k)
{
	return k != NULL && (strcmp(k, "oauth2") == 0 || strcmp(k, "shopee") == 0);
}

static bool status_ok(const char *s)
{
	return s != NULL && (strcmp(s, "pending") == 0 || strcmp(s, "active") == 0 ||
			     strcmp(s, "needs_reauth") == 0);
}

static const struct ts_col provider_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_provider_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_provider_rec, name, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_provider_rec, kind, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_provider_rec, config, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_provider_rec, sealed_secret, 0),
	TS_COL(TS_COL_I64, struct ts_provider_rec, created_at, 0),
	TS_COL(TS_COL_I64, struct ts_provider_rec, updated_at, 0),
};
static const struct ts_rec_desc provider_desc =
	TS_REC_DESC("provider", struct ts_provider_rec, provider_cols);

static const struct ts_col conn_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, tenant_name, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, provider, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, name, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, owner, 0),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, created_by, 0),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, status, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, metadata, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, access_token, 0),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, refresh_token, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, issued_at, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, expires_at, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, refresh_expires_at, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, next_refresh_at, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, failures, 0),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, last_error, 0),
	TS_COL(TS_COL_BOOL, struct ts_connection_rec, expiry_warned, 0),
	TS_COL(TS_COL_TEXT, struct ts_connection_rec, lease_owner, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, lease_until, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, created_at, 0),
	TS_COL(TS_COL_I64, struct ts_connection_rec, updated_at, 0),
};
static const struct ts_rec_desc conn_desc =
	TS_REC_DESC("connection", struct ts_connection_rec, conn_cols);

/* ---- providers ---- */

int ts_store_provider_put(struct ts_store *st, const struct ts_provider_rec *r)
{
	struct ts_arg a[TS_ARRAY_LEN(provider_cols)];

	if (st == NULL || r == NULL || !ts_q_nonempty(r->tenant_id) || !ts_q_nonempty(r->name) ||
	    !kind_ok(r->kind) || !ts_q_nonempty(r->config))
		return TS_EINVAL;
	ts_rec_args(&provider_desc, r, a);
	return ts_q_write1(st, true, TS_SQL_PROVIDER_PUT, a, provider_desc.ncols, 0,
			   "provider put");
}

int ts_store_provider_get(struct ts_store *st, const char *tenant_id, const char *name,
			  struct ts_provider_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(name)};

	return ts_q_fetch(st, ts_q_nonempty(tenant_id) && ts_q_nonempty(name), TS_SQL_PROVIDER_GET,
			  a, 2, &provider_desc, (void **)out, "provider get");
}

int ts_store_provider_list(struct ts_store *st, const char *tenant_id,
			   struct ts_provider_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id)};

	return ts_q_fetch_all(st, true, tenant_id ? TS_SQL_PROVIDER_LIST : TS_SQL_PROVIDER_LIST_ALL,
			      a, tenant_id ? 1 : 0, &provider_desc, (void ***)out, n,
			      "provider list");
}

/* TS_ECONFLICT, with nothing deleted, while a connection uses it. */
int ts_store_provider_delete(struct ts_store *st, const char *tenant_id, const char *name)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(name)};
	struct ts_int_row cnt = {0};
	struct ts_drv_conn *c = NULL;
	int rc, changed = 0;

	if (st == NULL || !ts_q_nonempty(tenant_id) || !ts_q_nonempty(name))
		return TS_EINVAL;
	rc = ts_txn_begin(st, &c);
	if (rc == TS_OK)
		rc = ts_q_row(st, c, TS_SQL_PROVIDER_LOCK, a, 2, &ts_int_row_desc, &cnt,
				"provider lock");
	if (rc == TS_OK)
		rc = ts_q_row(st, c, TS_SQL_PROVIDER_IN_USE, a, 2, &ts_int_row_desc, &cnt,
			      "provider in use");
	if (rc == TS_OK && cnt.v > 0)
		rc = TS_ECONFLICT;
	if (rc == TS_OK)
		rc = ts_q_exec(st, c, TS_SQL_PROVIDER_DELETE, a, 2, &changed, "provider delete");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
	return ts_txn_end(st, c, rc, false);
}

/* A compare-and-swap of one sealed value, statement id taking (tenant,
 * name, old, new): TS_ECONFLICT when it changed (or the row is gone). */
static int reseal(struct ts_store *st, enum ts_sql id, const char *tenant_id, const char *name,
		  const char *old_sealed, const char *new_sealed, const char *what)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(name), TS_TXT(old_sealed),
				   TS_TXT(new_sealed)};
	int rc;

	rc = ts_q_write1(st,
			 ts_q_nonempty(tenant_id) && ts_q_nonempty(name) &&
				 ts_q_nonempty(old_sealed) && ts_q_nonempty(new_sealed),
			 id, a, 4, TS_Q_CHANGE, what);
	return rc == TS_ENOTFOUND ? TS_ECONFLICT : rc;
}

int ts_store_provider_reseal(struct ts_store *st, const char *tenant_id, const char *name,
			     const char *old_sealed, const char *new_sealed)
{
	return reseal(st, TS_SQL_PROVIDER_RESEAL, tenant_id, name, old_sealed, new_sealed,
		      "provider reseal");
}

/* Signing keys are re-sealed by the vault's rekey too (so the old master
 * key can go); the key does not change, so no generation bump. */
int ts_store_key_reseal(struct ts_store *st, const char *tenant_id, const char *kid,
			const char *old_sealed, const char *new_sealed)
{
	return reseal(st, TS_SQL_KEY_RESEAL, tenant_id, kid, old_sealed, new_sealed,
		      "key reseal");
}

TS_REC_FREE_FN(ts_provider_rec_free, struct ts_provider_rec, provider_desc)
TS_RECS_FREE_FN(ts_provider_recs_free, struct ts_provider_rec, provider_desc)

/* ---- connections ---- */

int ts_store_connection_insert(struct ts_store *st, const struct ts_connection_rec *r)
{
	if (st == NULL || r == NULL || !ts_q_nonempty(r->id) || !ts_q_nonempty(r->tenant_id) ||
	    !ts_q_nonempty(r->provider) || !ts_q_nonempty(r->name) || !status_ok(r->status) ||
	    !ts_q_nonempty(r->metadata))
		return TS_EINVAL;
	const struct ts_arg a[] = {
		TS_TXT(r->id),		       TS_TXT(r->tenant_id),	   TS_TXT(r->provider),
		TS_TXT(r->name),	       TS_TXT(r->owner),	   TS_TXT(r->created_by),
		TS_TXT(r->status),	       TS_TXT(r->metadata),	   TS_TXT(r->access_token),
		TS_TXT(r->refresh_token),      TS_I64(r->issued_at),	   TS_I64(r->expires_at),
		TS_I64(r->refresh_expires_at), TS_I64(r->next_refresh_at), TS_I64(r->failures),
		TS_TXT(r->last_error),	       TS_I64(r->expiry_warned),   TS_I64(r->created_at),
		TS_I64(r->updated_at),
	};
	return ts_q_write1(st, true, TS_SQL_CONN_INSERT, a, (int)TS_ARRAY_LEN(a), 0,
			   "connection insert");
}

int ts_store_connection_get(struct ts_store *st, const char *tenant_id, const char *id,
			    struct ts_connection_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id)};

	return ts_q_fetch(st, ts_q_nonempty(tenant_id) && ts_q_nonempty(id), TS_SQL_CONN_GET, a, 2,
			  &conn_desc, (void **)out, "connection get");
}

int ts_store_connection_find(struct ts_store *st, const char *tenant_id, const char *owner,
			     const char *name, struct ts_connection_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(owner), TS_TXT(name)};

	return ts_q_fetch(st, ts_q_nonempty(tenant_id) && ts_q_nonempty(name), TS_SQL_CONN_FIND, a,
			  3, &conn_desc, (void **)out, "connection find");
}

int ts_store_connection_list(struct ts_store *st, const char *tenant_id,
			     struct ts_connection_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id)};

	return ts_q_fetch_all(st, true, tenant_id ? TS_SQL_CONN_LIST : TS_SQL_CONN_LIST_ALL, a,
			      tenant_id ? 1 : 0, &conn_desc, (void ***)out, n, "connection list");
}

int ts_store_connection_owned(struct ts_store *st, const char *tenant_id, const char *owner,
			      const char *provider, struct ts_connection_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(owner), TS_TXT(provider)};

	return ts_q_fetch_all(st,
			      ts_q_nonempty(tenant_id) && ts_q_nonempty(owner) && ts_q_nonempty(provider),
			      TS_SQL_CONN_OWNED, a, 3, &conn_desc, (void ***)out, n,
			      "connection owned");
}

int ts_store_connection_due(struct ts_store *st, int64_t now, size_t limit,
			    struct ts_connection_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_I64(now), TS_I64(limit)};

	return ts_q_fetch_all(st, limit != 0 && limit <= DUE_LIMIT_MAX, TS_SQL_CONN_DUE, a, 2,
			      &conn_desc, (void ***)out, n, "connection due");
}

/* Runs the fenced UPDATE id in a transaction of its own: TS_OK if it
 * changed the row, else TS_ECONFLICT if the connection exists (the lease
 * is someone else's) or TS_ENOTFOUND if not. */
static int conn_fenced(struct ts_store *st, enum ts_sql id, const struct ts_arg *args, int n,
		       const char *tenant_id, const char *conn_id, const char *what)
{
	const struct ts_arg key[] = {TS_TXT(tenant_id), TS_TXT(conn_id)};
	struct ts_int_row one = {0};
	struct ts_drv_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_txn_begin(st, &c);
	if (rc == TS_OK)
		rc = ts_q_exec(st, c, id, args, n, &changed, what);
	if (rc == TS_OK && changed == 0) {
		rc = ts_q_row(st, c, TS_SQL_CONN_EXISTS, key, 2, &ts_int_row_desc, &one,
			      "connection exists");
		if (rc == TS_OK)
			rc = TS_ECONFLICT;
	}
	return ts_txn_end(st, c, rc, false);
}

int ts_store_connection_lease(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *owner, int64_t until, int64_t now)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id), TS_TXT(owner), TS_I64(until),
				   TS_I64(now)};

	if (st == NULL || !ts_q_nonempty(tenant_id) || !ts_q_nonempty(id) ||
	    !ts_q_nonempty(owner) || until <= now)
		return TS_EINVAL;
	return conn_fenced(st, TS_SQL_CONN_LEASE, a, 5, tenant_id, id, "connection lease");
}

int ts_store_connection_save(struct ts_store *st, const struct ts_connection_rec *r,
			     const char *lease_owner)
{
	if (st == NULL || r == NULL || !ts_q_nonempty(r->tenant_id) || !ts_q_nonempty(r->id) ||
	    !status_ok(r->status) || !ts_q_nonempty(r->metadata) || !ts_q_nonempty(lease_owner))
		return TS_EINVAL;
	const struct ts_arg a[] = {
		TS_TXT(r->tenant_id),	    TS_TXT(r->id),
		TS_TXT(r->status),	    TS_TXT(r->metadata),
		TS_TXT(r->access_token),    TS_TXT(r->refresh_token),
		TS_I64(r->issued_at),	    TS_I64(r->expires_at),
		TS_I64(r->refresh_expires_at), TS_I64(r->next_refresh_at),
		TS_I64(r->failures),	    TS_TXT(r->last_error),
		TS_I64(r->expiry_warned),   TS_I64(r->updated_at),
		TS_TXT(lease_owner),
	};
	return conn_fenced(st, TS_SQL_CONN_SAVE, a, (int)TS_ARRAY_LEN(a), r->tenant_id, r->id,
			   "connection save");
}

/* TS_OK whether or not lease_owner held it. */
int ts_store_connection_release(struct ts_store *st, const char *tenant_id, const char *id,
				const char *lease_owner)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id), TS_TXT(lease_owner)};

	return ts_q_write1(
		st, ts_q_nonempty(tenant_id) && ts_q_nonempty(id) && ts_q_nonempty(lease_owner),
		TS_SQL_CONN_RELEASE, a, 3, 0, "connection release");
}

int ts_store_connection_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id)};

	return ts_q_write1(st, ts_q_nonempty(tenant_id) && ts_q_nonempty(id), TS_SQL_CONN_DELETE, a,
			   2, TS_Q_CHANGE, "connection delete");
}

TS_REC_FREE_FN(ts_connection_rec_free, struct ts_connection_rec, conn_desc)
TS_RECS_FREE_FN(ts_connection_recs_free, struct ts_connection_rec, conn_desc)
