/* grant_authorization_code.c: the authorization code grant at the token
 * endpoint (RFC 6749 §4.1.3, with PKCE, RFC 7636 §4.5). The code is taken
 * (used up) by one atomic state change before anything else is checked. */
#include "oauth.h"
#include "internal.h"

#include "store/store_people.h"
#include "store/store_tokens.h"

#include <string.h>

void ts_grant_authorization_code(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_http_resp *resp, const struct ts_client *c)
{
	const char *code = ts_params_get(req->form, req->nform, TS_P_CODE, NULL);
	const char *uri = ts_params_get(req->form, req->nform, TS_P_REDIRECT_URI, NULL);
	const char *verifier = ts_params_get(req->form, req->nform, TS_P_CODE_VERIFIER, NULL);
	struct ts_oauth_err e = {0};
	struct ts_code_rec *cr = NULL;
	struct ts_user_rec *u = NULL;
	struct ts_issue is;
	int r;

	if (code == NULL || code[0] == '\0' || strlen(code) > 128) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST, "code is required");
		goto fail;
	}
	/* Taking the code uses it up whatever follows, so a failed redemption
	 * (wrong verifier, client or redirect URI) cannot be retried. */
	r = ts_store_code_take(rc->app->store,
			       ts_grant_hash(req->arena, ts_arena_printf(req->arena, "%s:%s", rc->tenant->id, code)),
			       &cr);
	if (r == TS_ECONFLICT) {
		/* RFC 6749 §4.1.2: a code used twice revokes what it issued. */
		if (strcmp(cr->tenant_id, rc->tenant->id) == 0) {
			ts_store_grant_revoke(rc->app->store, cr->tenant_id, cr->grant_id);
			ts_audit_emit(rc->app->audit, rc->tenant->name, "grant.revoked", c->client_id,
				      cr->grant_id, "{\"reason\":\"code_replay\"}");
		}
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the authorization code was already used");
		goto fail;
	}
	if (r == TS_ENOTFOUND) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the authorization code is invalid");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	if (strcmp(cr->tenant_id, rc->tenant->id) != 0 || strcmp(cr->client_id, c->client_id) != 0 ||
	    cr->expires_at <= ts_now()) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the authorization code is invalid or expired");
		goto fail;
	}
	/* RFC 6749 §4.1.3: the same redirect_uri as in the authorization
	 * request, required when that request named one. Without one there,
	 * the code went to the client's only registered URI, which is the
	 * only value accepted here. */
	if (cr->redirect_uri && uri == NULL) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT,
				 "redirect_uri is required: the authorization request named one");
		goto fail;
	}
	if (uri && (cr->redirect_uri ? strcmp(uri, cr->redirect_uri) != 0
				     : c->nredirect_uris != 1 || strcmp(uri, c->redirect_uris[0]) != 0)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "redirect_uri does not match the authorization request");
		goto fail;
	}
	if (cr->code_challenge) {
		if (!ts_pkce_verify(verifier, cr->code_challenge)) {
			ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "code_verifier does not match the code_challenge");
			goto fail;
		}
	} else if (verifier) {
		/* RFC 9700 §4.8.2: a verifier without a challenge is refused. */
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "code_verifier given but no code_challenge was sent");
		goto fail;
	}
	/* RFC 9449 §10: a code bound to a DPoP key is redeemed only with a
	 * proof by that key (the proof itself was checked before the code was
	 * taken). */
	if (cr->dpop_jkt && (rc->dpop_jkt == NULL || strcmp(rc->dpop_jkt, cr->dpop_jkt) != 0)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT,
				 rc->dpop_jkt ? "the DPoP proof is not by the key named in the "
						"authorization request (dpop_jkt)"
					      : "the authorization request named a DPoP key (dpop_jkt): "
						"a DPoP proof by that key is required");
		goto fail;
	}
	r = ts_store_user_get(rc->app->store, rc->tenant->id, cr->user_id, &u);
	if (r == TS_ENOTFOUND || (r == TS_OK && u->disabled)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the user is no longer active");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	r = ts_grant_record(rc, cr->grant_id, c, u, cr->scope, cr->auth_time);
	if (r != TS_OK)
		goto unavailable;
	memset(&is, 0, sizeof(is));
	/* RFC 8707 §2.2: a resource named here narrows the code's. */
	if (!ts_oauth_resources_within(req, cr->resource, &is, &e))
		goto fail;
	is.client = c;
	is.user = u;
	is.scope = ts_scope_client_narrow(rc->tenant, c, cr->scope, req->arena);
	is.grant_id = cr->grant_id;
	is.kind = TS_GRANT_AUTHORIZATION_CODE;
	is.auth_time = cr->auth_time;
	is.nonce = cr->nonce;
	is.refresh = ts_oauth_wants_refresh(rc->tenant, c, is.scope);
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		goto out;
	goto fail;
unavailable:
	ts_oauth_err_unavailable(&e);
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_code_rec_free(cr);
	ts_user_rec_free(u);
}
