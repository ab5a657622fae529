/* grant_refresh_token.c: the refresh token grant (RFC 6749 §6), rotated on
 * every use; a rotated token presented again revokes the whole grant (RFC
 * 9700 §4.14.2), unless it comes inside the client's reuse grace window
 * while its successor is unused: then the successor is replaced. */
#include "oauth.h"
#include "internal.h"

#include "store/store_people.h"
#include "store/store_tokens.h"

#include <string.h>

void ts_grant_refresh_token(struct ts_rctx *rc, struct ts_http_req *req,
			    struct ts_http_resp *resp, const struct ts_client *c)
{
	const char *token = ts_params_get(req->form, req->nform, TS_P_REFRESH_TOKEN, NULL);
	const char *scope = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	struct ts_oauth_err e = {0};
	struct ts_refresh_load l = {0};
	const struct ts_refresh_rec *rr;
	struct ts_issue is;
	const char *h;
	int r;

	if (token == NULL || token[0] == '\0' || strlen(token) > 128) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST, "refresh_token is required");
		goto fail;
	}
	h = ts_grant_hash(req->arena, token);
	/* The token, its user and (for a public client) its grant's DPoP
	 * binding, in one read. */
	r = ts_store_refresh_load(rc->app->store, h, c->confidential ? NULL : TS_DPOP_GRANT_PREFIX,
				  &l);
	if (r == TS_ENOTFOUND) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the refresh token is invalid");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	rr = l.token;
	/* A token of another tenant or client is answered as unknown and
	 * changes nothing: it may have been stolen from its owner. */
	if (strcmp(rr->tenant_id, rc->tenant->id) != 0 || strcmp(rr->client_id, c->client_id) != 0) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the refresh token is invalid");
		goto fail;
	}
	if (rr->used && c->refresh_reuse_grace == 0) {
		/* RFC 9700 §4.14.2: reuse of a rotated token revokes the grant;
		 * with a grace window the rotation below decides. */
		ts_store_grant_revoke(rc->app->store, rr->tenant_id, rr->grant_id);
		ts_audit_emit(rc->app->audit, rc->tenant->name, "grant.revoked", c->client_id,
			      rr->grant_id, "{\"reason\":\"refresh_token_reuse\"}");
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the refresh token was already used");
		goto fail;
	}
	if (rr->revoked || rr->expires_at <= ts_now() || rr->issued_at < c->tokens_after) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the refresh token is revoked or expired");
		goto fail;
	}
	if (!c->confidential && !ts_dpop_refresh_ok(rc, &l, &e))
		goto fail;
	memset(&is, 0, sizeof(is));
	/* The grant's scope, less what the client may no longer have. */
	is.refresh_scope = ts_scope_client_narrow(rc->tenant, c, rr->scope, req->arena);
	if (!ts_scope_narrow(rc->tenant, is.refresh_scope, scope, req->arena, &is.scope)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_SCOPE, "the requested scope exceeds the original grant");
		goto fail;
	}
	if (rr->user_id && (l.user == NULL || l.user->disabled)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the user is no longer active");
		goto fail;
	}
	/* RFC 8707 §2.2: a narrower access token, the grant unchanged. */
	if (!ts_oauth_resources_within(req, rr->resource, &is, &e))
		goto fail;
	is.client = c;
	is.user = rr->user_id ? l.user : NULL;
	is.grant_id = rr->grant_id;
	is.kind = TS_GRANT_REFRESH_TOKEN;
	is.auth_time = rr->auth_time;
	is.refresh = true;
	is.rotate_from = h;
	is.reuse_grace = c->refresh_reuse_grace;
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		goto out;
	goto fail;
unavailable:
	ts_oauth_err_unavailable(&e);
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_refresh_load_clear(&l);
}
