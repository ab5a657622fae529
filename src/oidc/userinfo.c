/* userinfo.c: the UserInfo endpoint (OpenID Connect Core §5.3) with Bearer
 * tokens (RFC 6750) or DPoP-bound ones (RFC 9449 §7): the claims of the
 * granted scopes, for an access token of this tenant whose audience
 * includes the tenant's own. */
#include "oidc.h"

#include "oauth/oauth.h"
#include "store/store_people.h"

#include <string.h>

/* RFC 6750 §3: the challenge carries the error (none when no token came). */
static void challenge(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		      int status, const char *error, const char *desc)
{
	const char *realm = rc->tenant->name;

	/* RFC 9449 §7.1: a request with the DPoP scheme is answered in it. */
	if (error && req->auth.scheme == TS_AUTH_DPOP) {
		struct ts_oauth_err e = {status, error, desc, false, 0};
		ts_dpop_challenge(rc, resp, &e);
		return;
	}
	if (error) {
		ts_http_resp_error(resp, status, error, desc);
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena,
						    "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\"",
						    realm, error, desc));
	} else {
		ts_http_resp_error(resp, status, TS_ERR_INVALID_REQUEST, desc);
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena, "Bearer realm=\"%s\"", realm));
	}
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

void ts_oidc_userinfo(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const struct ts_tenant *t = rc->tenant;
	struct ts_access_token at;
	struct ts_user_rec *u = NULL;
	const char *token = NULL, *scope;
	json_t *claims;
	int r;

	if (req->auth.scheme == TS_AUTH_BEARER || req->auth.scheme == TS_AUTH_DPOP)
		token = req->auth.token;
	else if (req->auth.scheme == TS_AUTH_NONE && strcmp(req->method, "POST") == 0)
		token = ts_params_get(req->form, req->nform, TS_P_ACCESS_TOKEN, NULL); /* RFC 6750 §2.2 */
	if (token == NULL) {
		challenge(rc, req, resp, req->auth.scheme == TS_AUTH_NONE ? 401 : 400,
			  req->auth.scheme == TS_AUTH_NONE ? NULL : TS_ERR_INVALID_REQUEST,
			  "a Bearer access token is required");
		return;
	}
	r = ts_oauth_access_token_check(rc, token, &at);
	if (r == TS_ESTORE) {
		ts_web_store_unavailable(resp);
		return;
	}
	if (r != TS_OK) {
		challenge(rc, req, resp, 401, TS_ERR_INVALID_TOKEN, "the access token is invalid or expired");
		return;
	}
	{
		struct ts_oauth_err e = {0};
		r = ts_dpop_resource_check(rc, req, token, at.claims, &e);
		if (r == TS_ESTORE) {
			ts_web_store_unavailable(resp);
			goto out;
		}
		if (r != TS_OK) {
			ts_dpop_challenge(rc, resp, &e);
			goto out;
		}
	}
	if (!ts_oauth_aud_has(json_object_get(at.claims, "aud"), t->audience ? t->audience : rc->issuer)) {
		challenge(rc, req, resp, 401, TS_ERR_INVALID_TOKEN, "the access token is not for this server");
		goto out;
	}
	scope = json_string_value(json_object_get(at.claims, "scope"));
	if (scope == NULL || !ts_scope_has(scope, "openid")) {
		challenge(rc, req, resp, 403, TS_ERR_INSUFFICIENT_SCOPE, "the openid scope is required");
		goto out;
	}
	r = ts_store_user_get(rc->app->store, t->id,
			      json_string_value(json_object_get(at.claims, "sub")), &u);
	if (r == TS_ESTORE) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	if (r != TS_OK || u->disabled) {
		challenge(rc, req, resp, 401, TS_ERR_INVALID_TOKEN, "the access token does not belong to an active user");
		goto out;
	}
	claims = ts_oauth_user_claims(u, scope);
	ts_http_resp_json(resp, 200, claims);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(claims);
out:
	ts_user_rec_free(u);
	ts_access_token_clear(&at);
}
