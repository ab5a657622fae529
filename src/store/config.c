/* config.c: configuration (tenants, clients, signing keys), revocations
 * and the audit log, for every driver. Writes to tenants, clients and keys
 * move the generation in the same transaction; no other write does. The
 * revocation answers kept in memory (revcache.h) are updated here, after
 * the write that makes them true. */
#include "q.h"
#include "store_config.h"
#include "revcache.h"

#include "wire/ascii.h"

#include <stdint.h>
#include <string.h>

#define TENANT_NAME_MAX 63
#define KEY_STATE_NEXT "next"
#define KEY_STATE_CURRENT "current"
#define KEY_STATE_RETIRED "retired"
#define ROTATION_DUE_MAX 1000

static const struct ts_col tenant_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_tenant_rec, id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_tenant_rec, name, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_tenant_rec, config, TS_COL_REQUIRED),
	TS_COL(TS_COL_I64, struct ts_tenant_rec, created_at, 0),
	TS_COL(TS_COL_I64, struct ts_tenant_rec, updated_at, 0),
	TS_COL(TS_COL_I64, struct ts_tenant_rec, version, 0),
};
static const struct ts_rec_desc tenant_desc =
	TS_REC_DESC("tenant", struct ts_tenant_rec, tenant_cols);
/* TENANT_PUT binds every column but the version, which the store moves. */
#define TENANT_PUT_ARGS ((int)TS_ARRAY_LEN(tenant_cols) - 1)

static const struct ts_col tenant_ver_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_tenant_ver, id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_tenant_ver, name, TS_COL_REQUIRED),
	TS_COL(TS_COL_I64, struct ts_tenant_ver, version, 0),
};
static const struct ts_rec_desc tenant_ver_desc =
	TS_REC_DESC("tenant", struct ts_tenant_ver, tenant_ver_cols);

/* A client secret's KDF digest and a sealed private key are wiped when
 * freed: there is no reason to leave them in freed memory. */
static const struct ts_col client_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_client_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_client_rec, client_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_client_rec, config, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_client_rec, secret_hash, TS_COL_SECRET),
	TS_COL(TS_COL_I64, struct ts_client_rec, created_at, 0),
	TS_COL(TS_COL_I64, struct ts_client_rec, updated_at, 0),
};
static const struct ts_rec_desc client_desc =
	TS_REC_DESC("client", struct ts_client_rec, client_cols);

static const struct ts_col key_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_key_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_key_rec, kid, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_key_rec, alg, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_key_rec, state, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_key_rec, public_jwk, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_key_rec, sealed_private, TS_COL_REQUIRED | TS_COL_SECRET),
	TS_COL(TS_COL_I64, struct ts_key_rec, created_at, 0),
	TS_COL(TS_COL_I64, struct ts_key_rec, activated_at, 0),
	TS_COL(TS_COL_I64, struct ts_key_rec, retired_at, 0),
};
static const struct ts_rec_desc key_desc = TS_REC_DESC("key", struct ts_key_rec, key_cols);

static const struct ts_col audit_cols[] = {
	TS_COL(TS_COL_I64, struct ts_audit_rec, id, 0),
	TS_COL(TS_COL_TEXT, struct ts_audit_rec, tenant, 0),
	TS_COL(TS_COL_I64, struct ts_audit_rec, time, 0),
	TS_COL(TS_COL_TEXT, struct ts_audit_rec, type, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_audit_rec, actor, 0),
	TS_COL(TS_COL_TEXT, struct ts_audit_rec, subject, 0),
	TS_COL(TS_COL_TEXT, struct ts_audit_rec, request_id, 0),
	TS_COL(TS_COL_TEXT, struct ts_audit_rec, detail, 0),
};
static const struct ts_rec_desc audit_desc = TS_REC_DESC("audit", struct ts_audit_rec, audit_cols);

/* Tenant names are [a-z0-9-]{1,63} (store.h); anything else is refused
 * before it reaches the database. */
static bool tenant_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n > TENANT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(ts_is_lower(c) || ts_is_digit(c) || c == '-'))
			return false;
	}
	return true;
}

static bool key_state_ok(const char *state)
{
	return state != NULL &&
	       (strcmp(state, KEY_STATE_NEXT) == 0 || strcmp(state, KEY_STATE_CURRENT) == 0 ||
		strcmp(state, KEY_STATE_RETIRED) == 0);
}

/* A list by tenant (id set) or of every tenant: *out and *n cleared
 * first, as every list does. */
static int list_by_tenant(struct ts_store *st, enum ts_sql one, enum ts_sql all,
			  const char *tenant_id, const struct ts_rec_desc *d, void ***out,
			  size_t *n, const char *what)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id)};

	return ts_q_fetch_all(st, true, tenant_id ? one : all, a, tenant_id ? 1 : 0, d, out, n,
			      what);
}

/* ---- the generation ---- */

/* Ping reads a row, so it fails when the database is unusable, not only
 * when no connection can be made. */
int ts_store_ping(struct ts_store *st)
{
	int64_t gen;

	if (st == NULL)
		return TS_EINVAL;
	return ts_store_generation(st, &gen);
}

int ts_store_generation(struct ts_store *st, int64_t *out)
{
	struct ts_int_row row = {0};
	int rc;

	if (st == NULL || out == NULL)
		return TS_EINVAL;
	*out = 0;
	rc = ts_q_read(st, TS_SQL_GEN_GET, NULL, 0, &ts_int_row_desc, &row, "generation");
	if (rc == TS_ENOTFOUND) {
		ts_log_err("%s: the generation row is missing", st->ops->name);
		rc = TS_ESTORE;
	}
	if (rc == TS_OK)
		*out = row.v;
	return rc;
}

/* ---- tenants ---- */

int ts_store_tenant_put(struct ts_store *st, const struct ts_tenant_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(tenant_cols)];

	if (st == NULL || rec == NULL || rec->id == NULL || rec->id[0] == '\0' ||
	    !tenant_name_ok(rec->name) || rec->config == NULL)
		return TS_EINVAL;
	ts_rec_args(&tenant_desc, rec, a);
	return ts_q_write1(st, true, TS_SQL_TENANT_PUT, a, TENANT_PUT_ARGS, TS_Q_BUMP,
			   "tenant put");
}

int ts_store_tenant_get(struct ts_store *st, const char *name, struct ts_tenant_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(name)};

	return ts_q_fetch(st, name != NULL, TS_SQL_TENANT_GET, a, 1, &tenant_desc, (void **)out,
			  "tenant get");
}

int ts_store_tenant_list(struct ts_store *st, struct ts_tenant_rec ***out, size_t *n)
{
	return ts_q_fetch_all(st, true, TS_SQL_TENANT_LIST, NULL, 0, &tenant_desc, (void ***)out,
			      n, "tenant list");
}

/* A delete by key moves the generation only when it deleted a row. */
int ts_store_tenant_delete(struct ts_store *st, const char *name)
{
	const struct ts_arg a[] = {TS_TXT(name)};
	int r;

	r = ts_q_write1(st, name != NULL, TS_SQL_TENANT_DELETE, a, 1, TS_Q_CHANGE | TS_Q_BUMP,
			"tenant delete");
	ts_revcache_clear(st->revcache);
	return r;
}

int ts_store_tenant_versions(struct ts_store *st, struct ts_tenant_ver ***out, size_t *n)
{
	return ts_q_fetch_all(st, true, TS_SQL_TENANT_VERSIONS, NULL, 0, &tenant_ver_desc,
			      (void ***)out, n, "tenant versions");
}

TS_REC_FREE_FN(ts_tenant_rec_free, struct ts_tenant_rec, tenant_desc)
TS_RECS_FREE_FN(ts_tenant_recs_free, struct ts_tenant_rec, tenant_desc)
TS_REC_FREE_FN(ts_tenant_ver_free, struct ts_tenant_ver, tenant_ver_desc)
TS_RECS_FREE_FN(ts_tenant_vers_free, struct ts_tenant_ver, tenant_ver_desc)

/* ---- clients ---- */

int ts_store_client_put(struct ts_store *st, const struct ts_client_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(client_cols)];

	if (st == NULL || rec == NULL || rec->tenant_id == NULL || rec->client_id == NULL ||
	    rec->client_id[0] == '\0' || rec->config == NULL)
		return TS_EINVAL;
	ts_rec_args(&client_desc, rec, a);
	return ts_q_write1(st, true, TS_SQL_CLIENT_PUT, a, client_desc.ncols, TS_Q_BUMP,
			   "client put");
}

/* CLIENT_UPDATE binds the key, config, secret_hash and updated_at. */
#define CLIENT_UPDATE_ARGS 5

int ts_store_client_update(struct ts_store *st, const struct ts_client_rec *rec)
{
	struct ts_arg a[CLIENT_UPDATE_ARGS];

	if (st == NULL || rec == NULL || rec->tenant_id == NULL || rec->client_id == NULL ||
	    rec->client_id[0] == '\0' || rec->config == NULL)
		return TS_EINVAL;
	a[0] = TS_TXT(rec->tenant_id);
	a[1] = TS_TXT(rec->client_id);
	a[2] = TS_TXT(rec->config);
	a[3] = TS_TXT(rec->secret_hash);
	a[4] = TS_I64(rec->updated_at);
	return ts_q_write1(st, true, TS_SQL_CLIENT_UPDATE, a, CLIENT_UPDATE_ARGS,
			   TS_Q_CHANGE | TS_Q_BUMP, "client update");
}

int ts_store_client_get(struct ts_store *st, const char *tenant_id, const char *client_id,
			struct ts_client_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(client_id)};

	return ts_q_fetch(st, tenant_id != NULL && client_id != NULL, TS_SQL_CLIENT_GET, a, 2,
			  &client_desc, (void **)out, "client get");
}

int ts_store_client_list(struct ts_store *st, const char *tenant_id,
			 struct ts_client_rec ***out, size_t *n)
{
	return list_by_tenant(st, TS_SQL_CLIENT_LIST, TS_SQL_CLIENT_LIST_ALL, tenant_id,
			      &client_desc, (void ***)out, n, "client list");
}

int ts_store_client_delete(struct ts_store *st, const char *tenant_id, const char *client_id)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(client_id)};

	return ts_q_write1(st, tenant_id != NULL && client_id != NULL, TS_SQL_CLIENT_DELETE, a, 2,
			   TS_Q_CHANGE | TS_Q_BUMP, "client delete");
}

TS_REC_FREE_FN(ts_client_rec_free, struct ts_client_rec, client_desc)
TS_RECS_FREE_FN(ts_client_recs_free, struct ts_client_rec, client_desc)

/* ---- signing keys ---- */

int ts_store_key_put(struct ts_store *st, const struct ts_key_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(key_cols)];

	if (st == NULL || rec == NULL || rec->tenant_id == NULL || rec->kid == NULL ||
	    rec->kid[0] == '\0' || rec->alg == NULL || !key_state_ok(rec->state) ||
	    rec->public_jwk == NULL || rec->sealed_private == NULL)
		return TS_EINVAL;
	ts_rec_args(&key_desc, rec, a);
	return ts_q_write1(st, true, TS_SQL_KEY_PUT, a, key_desc.ncols, TS_Q_BUMP, "key put");
}

int ts_store_key_list(struct ts_store *st, const char *tenant_id, struct ts_key_rec ***out,
		      size_t *n)
{
	return list_by_tenant(st, TS_SQL_KEY_LIST, TS_SQL_KEY_LIST_ALL, tenant_id, &key_desc,
			      (void ***)out, n, "key list");
}

int ts_store_key_delete(struct ts_store *st, const char *tenant_id, const char *kid)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(kid)};

	return ts_q_write1(st, tenant_id != NULL && kid != NULL, TS_SQL_KEY_DELETE, a, 2,
			   TS_Q_CHANGE | TS_Q_BUMP, "key delete");
}

int ts_store_key_set_state(struct ts_store *st, const char *tenant_id, const char *kid,
			   const char *from, const char *to, int64_t activated_at,
			   int64_t retired_at)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(kid), TS_TXT(from), TS_TXT(to),
				   TS_I64(activated_at), TS_I64(retired_at)};

	return ts_q_write1(
		st, tenant_id != NULL && kid != NULL && key_state_ok(from) && key_state_ok(to),
		TS_SQL_KEY_SET_STATE, a, 6, TS_Q_CHANGE | TS_Q_BUMP, "key set state");
}

int ts_store_key_delete_in_state(struct ts_store *st, const char *tenant_id, const char *kid,
				 const char *state)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(kid), TS_TXT(state)};

	return ts_q_write1(st, tenant_id != NULL && kid != NULL && key_state_ok(state),
			   TS_SQL_KEY_DELETE_IN_STATE, a, 3, TS_Q_CHANGE | TS_Q_BUMP,
			   "key delete in state");
}

int ts_store_key_rotation_due(struct ts_store *st, int64_t now, int64_t published_by,
			      int64_t default_rotation, size_t limit, struct ts_tenant_rec ***out,
			      size_t *n)
{
	const struct ts_arg a[] = {TS_I64(now), TS_I64(published_by), TS_I64(default_rotation),
				   TS_I64((int64_t)limit)};

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL || limit < 1 || limit > ROTATION_DUE_MAX)
		return TS_EINVAL;
	return ts_q_list(st, TS_SQL_KEY_ROTATION_DUE, a, 4, &tenant_desc, (void ***)out, n,
			 "key rotation due");
}

TS_REC_FREE_FN(ts_key_rec_free, struct ts_key_rec, key_desc)
TS_RECS_FREE_FN(ts_key_recs_free, struct ts_key_rec, key_desc)

/* ---- revocations (not configuration: no generation move) ---- */

/* The cache runs on the monotonic clock; expires_at is wall-clock seconds. */
static void revoked_in_memory(struct ts_store *st, const char *tenant_id, const char *jti,
			      int64_t expires_at)
{
	int64_t mono = ts_mono_ms();

	ts_revcache_put_revoked(st->revcache, tenant_id, jti, mono,
				mono + (expires_at * 1000 - ts_now_ms()));
}

int ts_store_revoke_put(struct ts_store *st, const char *tenant_id, const char *jti,
			int64_t expires_at)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(jti), TS_I64(expires_at)};
	int r;

	r = ts_q_write1(st, tenant_id != NULL && jti != NULL && jti[0] != '\0', TS_SQL_REVOKE_PUT,
			a, 3, 0, "revoke put");
	if (r == TS_OK)
		revoked_in_memory(st, tenant_id, jti, expires_at);
	return r;
}

/* One INSERT that does nothing on a conflict: the first caller changes a
 * row, every later one (ordered by the write lock or the unique key)
 * changes none. */
int ts_store_jti_use(struct ts_store *st, const char *tenant_id, const char *jti,
		     int64_t expires_at)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(jti), TS_I64(expires_at)};
	int r;

	r = ts_q_write1(st, tenant_id != NULL && jti != NULL && jti[0] != '\0', TS_SQL_JTI_USE, a,
			3, TS_Q_CHANGE, "jti use");
	if (r == TS_ENOTFOUND)
		r = TS_EEXIST;
	/* A used id is denied as a revoked one is. */
	if (r == TS_OK)
		revoked_in_memory(st, tenant_id, jti, expires_at);
	return r;
}

int ts_store_revoke_check(struct ts_store *st, const char *tenant_id, const char *jti,
			  bool *revoked)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(jti)};
	struct ts_int_row row = {0};
	uint64_t epoch;
	int r;

	if (revoked == NULL)
		return TS_EINVAL;
	/* Fail closed: a caller that ignores the return code still sees the
	 * token as revoked. */
	*revoked = true;
	if (st == NULL || tenant_id == NULL || jti == NULL)
		return TS_EINVAL;
	if (ts_revcache_get(st->revcache, tenant_id, jti, ts_mono_ms(), revoked) == TS_OK)
		return TS_OK;
	epoch = ts_revcache_epoch(st->revcache);
	r = ts_q_read(st, TS_SQL_REVOKE_CHECK, a, 2, &ts_int_row_desc, &row, "revoke check");
	if (r == TS_OK || r == TS_ENOTFOUND) {
		*revoked = r == TS_OK;
		r = TS_OK;
		/* On a store several servers share, a "not revoked" answer is
		 * not kept: another server's revocation counts at once, as it
		 * does on one server. */
		if (*revoked || !st->ops->shared)
			ts_revcache_put_checked(st->revcache, tenant_id, jti, epoch, ts_mono_ms(),
						*revoked);
	} else {
		*revoked = true;
	}
	return r;
}

int ts_store_revoke_cached(struct ts_store *st, const char *tenant_id, const char *jti,
			   bool *revoked)
{
	if (st == NULL || tenant_id == NULL || jti == NULL || revoked == NULL)
		return TS_EINVAL;
	return ts_revcache_get(st->revcache, tenant_id, jti, ts_mono_ms(), revoked);
}

int ts_store_revoke_purge(struct ts_store *st, int64_t now)
{
	const struct ts_arg a[] = {TS_I64(now)};
	int r;

	r = ts_q_write1(st, true, TS_SQL_PURGE_REVOCATIONS, a, 1, 0, "revoke purge");
	ts_revcache_clear(st->revcache);
	return r;
}

/* ---- the audit log ---- */

/* All n records in one transaction: all are stored or none. */
int ts_store_audit_append(struct ts_store *st, const struct ts_audit_rec *recs, size_t n)
{
	struct ts_drv_conn *c = NULL;
	size_t i;
	int rc;

	if (st == NULL || (recs == NULL && n > 0))
		return TS_EINVAL;
	if (n == 0)
		return TS_OK;
	for (i = 0; i < n; i++)
		if (recs[i].type == NULL)
			return TS_EINVAL;
	rc = ts_txn_begin(st, &c);
	for (i = 0; i < n && rc == TS_OK; i++) {
		const struct ts_audit_rec *r = &recs[i];
		const struct ts_arg a[] = {TS_TXT(r->tenant),	  TS_I64(r->time),
					   TS_TXT(r->type),	  TS_TXT(r->actor),
					   TS_TXT(r->subject),	  TS_TXT(r->request_id),
					   TS_TXT(r->detail)};
		rc = ts_q_exec(st, c, TS_SQL_AUDIT_APPEND, a, (int)TS_ARRAY_LEN(a), NULL,
			       "audit append");
	}
	return ts_txn_end(st, c, rc, false);
}

/* Newest first; a limit beyond the database's signed LIMIT means "no
 * limit". */
int ts_store_audit_query(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			 struct ts_audit_rec ***out, size_t *n)
{
	int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
	const struct ts_arg one[] = {TS_TXT(tenant), TS_I64(since), TS_I64(lim)};
	const struct ts_arg all[] = {TS_I64(since), TS_I64(lim)};

	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	if (limit == 0)
		return TS_OK;
	if (tenant != NULL)
		return ts_q_list(st, TS_SQL_AUDIT_QUERY, one, 3, &audit_desc, (void ***)out, n,
				 "audit query");
	return ts_q_list(st, TS_SQL_AUDIT_QUERY_ALL, all, 2, &audit_desc, (void ***)out, n,
			 "audit query");
}

TS_REC_FREE_FN(ts_audit_rec_free, struct ts_audit_rec, audit_desc)
TS_RECS_FREE_FN(ts_audit_recs_free, struct ts_audit_rec, audit_desc)
