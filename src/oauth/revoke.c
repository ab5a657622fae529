/* revoke.c: token revocation (RFC 7009) by an authenticated client, and by
 * whoever holds the token. A revoked token's jti is denied in storage
 * until the token would have expired anyway. */
#include "oauth.h"
#include "internal.h"

#include "store/store_config.h"
#include "store/store_tokens.h"

#include <string.h>

/* Revokes token for client c (NULL: whoever the token was issued to, for a
 * holder revoking its own token without client authentication) and answers
 * (RFC 7009 §2.2). */
static void revoke(struct ts_rctx *rc, struct ts_http_resp *resp, const struct ts_client *c,
		   const char *token)
{
	struct ts_oauth_err e = {.status = 400, .code = TS_ERR_UNAUTHORIZED_CLIENT,
				 .desc = "the token was not issued to this client"};
	struct ts_access_token at;
	int r;

	/* RFC 7009 §2.2: an invalid, expired or unknown token is answered 200. */
	if (ts_oauth_token_verify(rc, token, false, &at) == TS_OK) {
		if (at.client_id == NULL || (c && strcmp(at.client_id, c->client_id) != 0)) {
			/* RFC 7009 §2.1: the token must have been issued to the caller. */
			ts_access_token_clear(&at);
			ts_oauth_err_send(rc, resp, &e);
			return;
		}
		r = ts_store_revoke_put(rc->app->store, rc->tenant->id, at.jti, at.exp);
		if (r != TS_OK) {
			ts_access_token_clear(&at);
			ts_web_store_unavailable(resp);
			return;
		}
		if (rc->tenant->stats)
			atomic_fetch_add_explicit(&rc->tenant->stats->tokens_revoked, 1,
						  memory_order_relaxed);
		ts_audit_emit(rc->app->audit, rc->tenant->name, "token.revoked", at.client_id, at.jti,
			      NULL);
		ts_access_token_clear(&at);
	} else {
		struct ts_refresh_rec *rr = NULL;
		r = ts_oauth_refresh_find(rc, token, &rr);
		if (r == TS_ESTORE) {
			ts_web_store_unavailable(resp);
			return;
		}
		if (r == TS_OK && c && strcmp(rr->client_id, c->client_id) != 0) {
			ts_refresh_rec_free(rr);
			ts_oauth_err_send(rc, resp, &e);
			return;
		}
		/* RFC 7009 §2.1: revoking a refresh token also revokes the access
		 * tokens of its grant. */
		if (r == TS_OK && ts_store_grant_revoke(rc->app->store, rr->tenant_id, rr->grant_id) != TS_OK) {
			ts_refresh_rec_free(rr);
			ts_web_store_unavailable(resp);
			return;
		}
		if (r == TS_OK && rc->tenant->stats)
			atomic_fetch_add_explicit(&rc->tenant->stats->tokens_revoked, 1,
						  memory_order_relaxed);
		if (r == TS_OK)
			ts_audit_emit(rc->app->audit, rc->tenant->name, "token.revoked", rr->client_id,
				      rr->grant_id, "{\"token_type\":\"refresh_token\"}");
		ts_refresh_rec_free(rr);
	}
	ts_http_resp_text(resp, 200, "application/json", "{}", 2);
	ts_oauth_no_store(resp);
}

/* The token parameter of a revocation request, or NULL with e set. */
static const char *revoke_params(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_oauth_err *e)
{
	const char *token;

	if (!ts_oauth_form_ok(rc, req, e))
		return NULL;
	token = ts_params_get(req->form, req->nform, TS_P_TOKEN, NULL);
	if (token == NULL)
		*e = (struct ts_oauth_err){.status = 400, .code = TS_ERR_INVALID_REQUEST, .desc = "token is required"};
	return token;
}

void ts_oauth_revoke(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c;
	const char *token;

	if (!ts_oauth_form_ok(rc, req, &e) || ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK ||
	    (token = revoke_params(rc, req, &e)) == NULL) {
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	revoke(rc, resp, c, token);
}

void ts_oauth_revoke_by_holder(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const char *token = revoke_params(rc, req, &e);

	if (token == NULL) {
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	revoke(rc, resp, NULL, token);
}
