/* store_state.c: the ts_store_* wrappers for the state of token flows
 * (authorization codes, grants, refresh tokens) and their record
 * destructors. As in store.c, the argument checks every backend would
 * repeat live here. */
#include "store.h"

#include "revcache.h"

#include <stdlib.h>
#include <string.h>

static bool nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* The fields a refresh token cannot be stored without. */
static bool refresh_rec_ok(const struct ts_refresh_rec *r)
{
	return r != NULL && nonempty(r->token_hash) && r->tenant_id != NULL &&
	       r->grant_id != NULL && r->client_id != NULL && r->scope != NULL;
}

int ts_store_code_put(struct ts_store *st, const struct ts_code_rec *rec)
{
	if (st == NULL || rec == NULL || !nonempty(rec->code_hash) || rec->tenant_id == NULL ||
	    rec->client_id == NULL || rec->user_id == NULL || rec->grant_id == NULL ||
	    rec->scope == NULL)
		return TS_EINVAL;
	return st->ops->code_put(st, rec);
}

int ts_store_code_take(struct ts_store *st, const char *code_hash, struct ts_code_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || code_hash == NULL)
		return TS_EINVAL;
	return st->ops->code_take(st, code_hash, out);
}

int ts_store_grant_put(struct ts_store *st, const struct ts_grant_rec *rec)
{
	if (st == NULL || rec == NULL || rec->tenant_id == NULL || !nonempty(rec->id) ||
	    rec->client_id == NULL || rec->scope == NULL)
		return TS_EINVAL;
	return st->ops->grant_put(st, rec);
}

int ts_store_grant_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_grant_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || id == NULL)
		return TS_EINVAL;
	return st->ops->grant_get(st, tenant_id, id, out);
}

int ts_store_grant_token_add(struct ts_store *st, const char *tenant_id, const char *grant_id,
			     const char *jti, int64_t expires_at)
{
	if (st == NULL || tenant_id == NULL || grant_id == NULL || !nonempty(jti))
		return TS_EINVAL;
	return st->ops->grant_token_add(st, tenant_id, grant_id, jti, expires_at);
}

int ts_store_grant_revoke(struct ts_store *st, const char *tenant_id, const char *grant_id)
{
	int r;

	if (st == NULL || tenant_id == NULL || grant_id == NULL)
		return TS_EINVAL;
	r = st->ops->grant_revoke(st, tenant_id, grant_id);
	/* The grant's tokens are denied by id in storage: forget every "not
	 * revoked" answer rather than name them here. */
	ts_revcache_bump(st->revcache);
	return r;
}

int ts_store_refresh_put(struct ts_store *st, const struct ts_refresh_rec *rec)
{
	if (st == NULL || !refresh_rec_ok(rec))
		return TS_EINVAL;
	return st->ops->refresh_put(st, rec);
}

int ts_store_refresh_get(struct ts_store *st, const char *token_hash,
			 struct ts_refresh_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || token_hash == NULL)
		return TS_EINVAL;
	return st->ops->refresh_get(st, token_hash, out);
}

/* A token cannot succeed itself: that would spend it and store it anew. */
int ts_store_refresh_rotate(struct ts_store *st, const char *old_hash,
			    const struct ts_refresh_rec *next)
{
	if (st == NULL || old_hash == NULL || !refresh_rec_ok(next) ||
	    strcmp(old_hash, next->token_hash) == 0)
		return TS_EINVAL;
	return st->ops->refresh_rotate(st, old_hash, next);
}

int ts_store_refresh_rotate_token(struct ts_store *st, const char *old_hash,
				  const struct ts_refresh_rec *next, const char *jti,
				  int64_t jti_expires_at)
{
	if (st == NULL || old_hash == NULL || !refresh_rec_ok(next) || !nonempty(jti) ||
	    strcmp(old_hash, next->token_hash) == 0)
		return TS_EINVAL;
	return st->ops->refresh_rotate_token(st, old_hash, next, jti, jti_expires_at);
}

/* Digests of bearer secrets (codes, refresh tokens) are
 * wiped before they are freed, like client secret digests. */
void ts_code_rec_free(struct ts_code_rec *r)
{
	if (r == NULL)
		return;
	ts_free_secret(r->code_hash);
	free(r->tenant_id);
	free(r->client_id);
	free(r->user_id);
	free(r->grant_id);
	free(r->redirect_uri);
	free(r->scope);
	free(r->nonce);
	free(r->code_challenge);
	free(r->resource);
	ts_free_secret(r->session_id_hash);
	free(r);
}

void ts_grant_rec_free(struct ts_grant_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant_id);
	free(r->id);
	free(r->client_id);
	free(r->user_id);
	free(r->scope);
	free(r);
}

void ts_refresh_rec_free(struct ts_refresh_rec *r)
{
	if (r == NULL)
		return;
	ts_free_secret(r->token_hash);
	free(r->tenant_id);
	free(r->grant_id);
	free(r->client_id);
	free(r->user_id);
	free(r->scope);
	free(r->resource);
	free(r);
}
