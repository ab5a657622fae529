/* store.c: backend selection by URL, the thin ts_store_* wrappers over the
 * backend vtable for configuration, revocations and audit, and their record
 * destructors (store_people.c and store_state.c hold the others). Argument
 * checks that every backend would repeat live here, so each backend sees
 * only valid input. */
#include "store.h"

#include "revcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQLITE_SCHEME "sqlite:"
#define PG_SCHEME "postgres://"
#define PG_SCHEME_LONG "postgresql://"
#define TENANT_NAME_MAX 63
#define KEY_STATE_NEXT "next"
#define KEY_STATE_CURRENT "current"
#define KEY_STATE_RETIRED "retired"

static int opened(int r, struct ts_store **out)
{
	if (r == TS_OK)
		(*out)->revcache = ts_revcache_new();
	return r;
}

int ts_store_open(const char *url, struct ts_store **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (url == NULL)
		return TS_EINVAL;
	if (strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		return opened(ts_store_sqlite_open(url + strlen(SQLITE_SCHEME), out), out);
	if (strncmp(url, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
	    strncmp(url, PG_SCHEME_LONG, strlen(PG_SCHEME_LONG)) == 0)
		return opened(ts_store_pg_open(url, out), out);
	/* The URL may carry a password (postgres://user:pw@...), so only the
	 * fact of the failure is logged, never the URL itself. */
	ts_log_err("unsupported store URL scheme (expected \"sqlite:PATH\" or "
		   "\"postgres://...\")");
	return TS_EINVAL;
}

const char *ts_store_url_shown(const char *url, char *buf, size_t cap)
{
	if (url && strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		snprintf(buf, cap, "%s", url);
	else if (url && (strncmp(url, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
			 strncmp(url, PG_SCHEME_LONG, strlen(PG_SCHEME_LONG)) == 0))
		ts_store_pg_url_shown(url, buf, cap);
	else
		snprintf(buf, cap, "of an unknown kind");
	return buf;
}

int ts_store_schema_status(const char *url, int64_t *current, int64_t *latest)
{
	if (url == NULL || current == NULL || latest == NULL)
		return TS_EINVAL;
	if (strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		return ts_store_sqlite_schema_status(url + strlen(SQLITE_SCHEME), current, latest);
	if (strncmp(url, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
	    strncmp(url, PG_SCHEME_LONG, strlen(PG_SCHEME_LONG)) == 0)
		return ts_store_pg_schema_status(url, current, latest);
	return TS_EINVAL;
}

void ts_store_close(struct ts_store *st)
{
	if (st == NULL)
		return;
	ts_revcache_free(st->revcache);
	st->revcache = NULL;
	st->ops->close(st);
}

/* Tenant names are [a-z0-9-]{1,63} (store.h); anything else is refused
 * before it reaches a backend. */
static bool tenant_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n > TENANT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
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

int ts_store_ping(struct ts_store *st)
{
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->ping(st);
}

int ts_store_generation(struct ts_store *st, int64_t *out)
{
	if (st == NULL || out == NULL)
		return TS_EINVAL;
	*out = 0;
	return st->ops->generation(st, out);
}

int ts_store_tenant_put(struct ts_store *st, const struct ts_tenant_rec *rec)
{
	if (st == NULL || rec == NULL || rec->id == NULL || rec->id[0] == '\0' ||
	    !tenant_name_ok(rec->name) || rec->config == NULL)
		return TS_EINVAL;
	return st->ops->tenant_put(st, rec);
}

int ts_store_tenant_get(struct ts_store *st, const char *name, struct ts_tenant_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || name == NULL)
		return TS_EINVAL;
	return st->ops->tenant_get(st, name, out);
}

int ts_store_tenant_list(struct ts_store *st, struct ts_tenant_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->tenant_list(st, out, n);
}

int ts_store_tenant_delete(struct ts_store *st, const char *name)
{
	int r;

	if (st == NULL || name == NULL)
		return TS_EINVAL;
	r = st->ops->tenant_delete(st, name);
	ts_revcache_clear(st->revcache);
	return r;
}

int ts_store_tenant_versions(struct ts_store *st, struct ts_tenant_ver ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->tenant_versions(st, out, n);
}

int ts_store_batch_begin(struct ts_store *st)
{
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->batch_begin(st);
}

int ts_store_batch_end(struct ts_store *st, bool commit)
{
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->batch_end(st, commit);
}

int ts_store_client_put(struct ts_store *st, const struct ts_client_rec *rec)
{
	if (st == NULL || rec == NULL || rec->tenant_id == NULL || rec->client_id == NULL ||
	    rec->client_id[0] == '\0' || rec->config == NULL)
		return TS_EINVAL;
	return st->ops->client_put(st, rec);
}

int ts_store_client_get(struct ts_store *st, const char *tenant_id, const char *client_id,
			struct ts_client_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || client_id == NULL)
		return TS_EINVAL;
	return st->ops->client_get(st, tenant_id, client_id, out);
}

int ts_store_client_list(struct ts_store *st, const char *tenant_id,
			 struct ts_client_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->client_list(st, tenant_id, out, n);
}

int ts_store_client_delete(struct ts_store *st, const char *tenant_id, const char *client_id)
{
	if (st == NULL || tenant_id == NULL || client_id == NULL)
		return TS_EINVAL;
	return st->ops->client_delete(st, tenant_id, client_id);
}

int ts_store_key_put(struct ts_store *st, const struct ts_key_rec *rec)
{
	if (st == NULL || rec == NULL || rec->tenant_id == NULL || rec->kid == NULL ||
	    rec->kid[0] == '\0' || rec->alg == NULL || !key_state_ok(rec->state) ||
	    rec->public_jwk == NULL || rec->sealed_private == NULL)
		return TS_EINVAL;
	return st->ops->key_put(st, rec);
}

int ts_store_key_list(struct ts_store *st, const char *tenant_id, struct ts_key_rec ***out,
		      size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->key_list(st, tenant_id, out, n);
}

int ts_store_key_delete(struct ts_store *st, const char *tenant_id, const char *kid)
{
	if (st == NULL || tenant_id == NULL || kid == NULL)
		return TS_EINVAL;
	return st->ops->key_delete(st, tenant_id, kid);
}

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
	int r;

	if (st == NULL || tenant_id == NULL || jti == NULL || jti[0] == '\0')
		return TS_EINVAL;
	r = st->ops->revoke_put(st, tenant_id, jti, expires_at);
	if (r == TS_OK)
		revoked_in_memory(st, tenant_id, jti, expires_at);
	return r;
}

int ts_store_jti_use(struct ts_store *st, const char *tenant_id, const char *jti,
		     int64_t expires_at)
{
	int r;

	if (st == NULL || tenant_id == NULL || jti == NULL || jti[0] == '\0')
		return TS_EINVAL;
	r = st->ops->jti_use(st, tenant_id, jti, expires_at);
	/* A used id is denied as a revoked one is. */
	if (r == TS_OK)
		revoked_in_memory(st, tenant_id, jti, expires_at);
	return r;
}

int ts_store_revoke_check(struct ts_store *st, const char *tenant_id, const char *jti,
			  bool *revoked)
{
	if (revoked == NULL)
		return TS_EINVAL;
	/* Fail closed: a caller that ignores the return code still sees
	 * the token as revoked. */
	uint64_t epoch;
	int r;

	*revoked = true;
	if (st == NULL || tenant_id == NULL || jti == NULL)
		return TS_EINVAL;
	if (ts_revcache_get(st->revcache, tenant_id, jti, ts_mono_ms(), revoked) == TS_OK)
		return TS_OK;
	epoch = ts_revcache_epoch(st->revcache);
	r = st->ops->revoke_check(st, tenant_id, jti, revoked);
	if (r == TS_OK)
		ts_revcache_put_checked(st->revcache, tenant_id, jti, epoch, ts_mono_ms(), *revoked);
	else
		*revoked = true;
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
	int r;

	if (st == NULL)
		return TS_EINVAL;
	r = st->ops->revoke_purge(st, now);
	ts_revcache_clear(st->revcache);
	return r;
}

int ts_store_audit_append(struct ts_store *st, const struct ts_audit_rec *recs, size_t n)
{
	size_t i;

	if (st == NULL || (recs == NULL && n > 0))
		return TS_EINVAL;
	if (n == 0)
		return TS_OK;
	for (i = 0; i < n; i++)
		if (recs[i].type == NULL)
			return TS_EINVAL;
	return st->ops->audit_append(st, recs, n);
}

int ts_store_audit_query(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			 struct ts_audit_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	if (limit == 0)
		return TS_OK;
	return st->ops->audit_query(st, tenant, since, limit, out, n);
}

void ts_tenant_rec_free(struct ts_tenant_rec *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->name);
	free(r->config);
	free(r);
}

void ts_client_rec_free(struct ts_client_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant_id);
	free(r->client_id);
	free(r->config);
	/* A KDF digest, not the secret, but there is no reason to leave it
	 * lying around in freed memory. */
	ts_free_secret(r->secret_hash);
	free(r);
}

void ts_key_rec_free(struct ts_key_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant_id);
	free(r->kid);
	free(r->alg);
	free(r->state);
	free(r->public_jwk);
	ts_free_secret(r->sealed_private);
	free(r);
}

void ts_audit_rec_free(struct ts_audit_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant);
	free(r->type);
	free(r->actor);
	free(r->subject);
	free(r->request_id);
	free(r->detail);
	free(r);
}

void ts_tenant_recs_free(struct ts_tenant_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_tenant_rec_free(v[i]);
	free(v);
}

void ts_tenant_ver_free(struct ts_tenant_ver *v)
{
	if (v == NULL)
		return;
	free(v->id);
	free(v->name);
	free(v);
}

void ts_tenant_vers_free(struct ts_tenant_ver **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_tenant_ver_free(v[i]);
	free(v);
}

void ts_client_recs_free(struct ts_client_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_client_rec_free(v[i]);
	free(v);
}

void ts_key_recs_free(struct ts_key_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_key_rec_free(v[i]);
	free(v);
}

void ts_audit_recs_free(struct ts_audit_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_audit_rec_free(v[i]);
	free(v);
}
